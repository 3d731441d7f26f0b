# -*- coding: utf-8 -*-
"""Worker operations: what the interpreter itself says about line and exception tables.

Python-2.7-compatible, like worker.py.

- ``line_tables`` (``paths``: pyc files written by this interpreter, optional ``full``):
  for each file, reads it, skips this version's header, ``marshal.loads`` the body and
  walks every code object (depth first, a code object before the ones in its
  ``co_consts``, each object once -- the order of ``pycfile.Code.walk``).  For each code
  object it gives the tables this interpreter has:

  * ``starts``: ``list(dis.findlinestarts(code))``
  * ``lines``: ``list(code.co_lines())`` (3.10+)
  * ``positions``: ``list(code.co_positions())`` (3.11+)
  * ``exceptions``: ``dis._parse_exception_table(code)`` as ``[start, end, target,
    depth, lasti]`` lists (3.11+)

  Each table is a list of tuples; its canonical text is
  ``json.dumps(table, separators=(",", ":"))`` (tuples become arrays; the C encoder
  makes it cheaply, the same text in every interpreter here).  Without ``full`` only
  the SHA-1 of that text is sent, hex; with it, the tables themselves.  Returns ``{"tables": [names present], "files": [[{name: digest or
  table}, ...] per code object] per path]}``.
- ``raw_tables`` (``cases``: list of ``{"firstlineno": N, "code": HEX, "table": HEX,
  "exceptions": HEX}``): the same four tables (whole) for code objects that carry the
  given line table (co_lnotab before 3.10, else co_linetable) and exception table (3.11+).
  Before 3.10 ``dis.findlinestarts`` only reads ``co_code``, ``co_firstlineno`` and
  ``co_lnotab``, so a plain object holding them stands in for the code object; from 3.10
  a compiled code object is ``replace()``d with the tables.
"""

import dis
import hashlib
import json
import sys

import worker

TABLES = ("starts", "lines", "positions", "exceptions")


def available(code):
    names = ["starts"]
    if hasattr(code, "co_lines"):
        names.append("lines")
    if hasattr(code, "co_positions"):
        names.append("positions")
    if hasattr(dis, "_parse_exception_table") and hasattr(code, "co_exceptiontable"):
        names.append("exceptions")
    return names


def tables_of(code, names):
    out = {}
    for name in names:
        if name == "starts":
            table = list(dis.findlinestarts(code))
        elif name == "lines":
            table = list(code.co_lines())
        elif name == "positions":
            table = list(code.co_positions())
        else:
            table = [(e.start, e.end, e.target, e.depth, bool(e.lasti)) for e in dis._parse_exception_table(code)]
        out[name] = table
    return out


def canonical(table):
    return json.dumps(table, separators=(",", ":"))


def op_line_tables(request):
    full = bool(request.get("full"))
    names = None
    files = []
    for path in request["paths"]:
        codes = worker.pyc_codes(path)
        if names is None:
            names = available(codes[0])
        per_code = []
        for code in codes:
            tables = tables_of(code, names)
            if full:
                per_code.append(tables)
            else:
                per_code.append(
                    dict((name, hashlib.sha1(canonical(t).encode("ascii")).hexdigest()) for name, t in tables.items())
                )
        files.append(per_code)
    return {"tables": names or [], "files": files}


class FakeCode(object):
    """What dis.findlinestarts reads before 3.10."""

    def __init__(self, code, firstlineno, lnotab):
        self.co_code = code
        self.co_firstlineno = firstlineno
        self.co_lnotab = lnotab


def raw_code(case):
    code = worker.from_hex(case["code"])
    table = worker.from_hex(case["table"])
    if sys.version_info < (3, 10) or not hasattr(compile("0", "s", "exec"), "replace"):
        return FakeCode(code, case["firstlineno"], table)
    changes = {"co_firstlineno": case["firstlineno"], "co_linetable": table}
    if sys.version_info >= (3, 11):
        changes["co_exceptiontable"] = worker.from_hex(case["exceptions"])
    return compile("0", "s", "exec").replace(**changes)


def op_raw_tables(request):
    answers = []
    for case in request["cases"]:
        code = raw_code(case)
        names = ["starts"] if isinstance(code, FakeCode) else available(code)
        answers.append(tables_of(code, names))
    return answers


OPS = {"line_tables": op_line_tables, "raw_tables": op_raw_tables}
