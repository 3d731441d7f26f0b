# -*- coding: utf-8 -*-
"""Worker operations about opcodes and instructions (Python-2.7-compatible).

- ``opcode_facts``: what this interpreter's ``opcode`` (and ``dis``) modules say: opmap,
  HAVE_ARGUMENT, EXTENDED_ARG, the ``has*`` lists (as names), cmp_op, inline cache
  counts, binary-op, intrinsic and specialisation tables, backward jumps, the flag names
  and the LOAD_COMMON_CONSTANT/LOAD_SPECIAL tables where they exist.
- ``dis_digests`` (``paths``): for each pyc path, ``{"rows": [hex, ...], "texts": [hex,
  ...], "file": hex}``: per code object (depth first, in ``co_consts`` order, each code
  object once) the sha1 of ``canonical_text`` of its instruction rows and the sha1 of its
  listing (``dis.disassemble``), and the sha1 of the whole file's ``dis.dis`` listing;
  with ``"instructions": N`` (rows in all).  A file that cannot be read gives
  ``{"error": message}`` in place of its entry.
- ``dis_instructions`` (``path``, ``index``): the canonical rows themselves for one code object.
- ``dis_text`` (``path``, ``index`` or null): the listing of one code object, or of the
  whole file when ``index`` is null.

The canonical list has one entry per instruction ``dis.get_instructions`` yields (for
2.7, which has none, decoded here with 2.7's own ``dis``/``opcode`` modules the way
``dis.disassemble`` reads the bytes): ``[offset, opname, arg, argval, line, jump_target, argrepr]``.
``argval`` is canonical too: constants (ops in ``hasconst``) are ``["c", describe(value)]``
with a code object shortened to ``["code", name, firstlineno]``; other values are
``["s", text]`` (names; 2.x ``str`` decoded as latin-1), ``["i", n]``, ``["b", flag]``,
``["f", function name]``, ``["t", [items]]`` or ``null`` (also for ``dis.UNKNOWN``).  ``line`` is the line number
when the instruction starts a line, else ``null`` (2.7-3.12: ``starts_line``); 3.13+
gives ``[starts_line, line_number]``.  ``jump_target`` is ``is_jump_target`` (``null``
when the caller asked to leave it out).  ``argrepr`` is the text, passed through
``normalize_line`` (2.x: decoded as latin-1).

Listings are ``dis.disassemble(code)`` of one code object and ``dis.dis(code)`` of the
module (2.7 and 3.6, whose ``dis.dis`` does not descend into nested code objects: the
module's listing followed by each nested one as 3.7's ``dis.dis`` prints it), decoded as
latin-1 on 2.x and passed through ``normalize_listing``.

``normalize_line``/``normalize_listing`` take out what legitimately differs from one
process to another, on both sides of a comparison: a code object's address (``<code
object f at 0x7f..., file``) and the order of a frozenset's items (it follows the hash of
each item, and string hashes are salted per process): items are sorted by their text.
They import nothing from the worker, so the test suite uses them too.
"""

import hashlib
import json
import re
import sys
import types

try:
    import worker
except ImportError:  # imported by the test suite for normalize_listing
    worker = None

PY2 = sys.version_info[0] == 2
CODE = types.CodeType


def _names(ops, opname):
    return sorted(opname.get(op, "<%d>" % op) for op in ops)


def op_opcode_facts(request):
    import dis
    import opcode

    facts = {
        "opmap": dict(opcode.opmap),
        "HAVE_ARGUMENT": opcode.HAVE_ARGUMENT,
        "EXTENDED_ARG": getattr(opcode, "EXTENDED_ARG", None),
        "cmp_op": list(opcode.cmp_op),
    }
    opname = dict((v, k) for k, v in opcode.opmap.items())
    for name in ("hasarg", "hasconst", "hasname", "hasjrel", "hasjabs", "haslocal", "hascompare", "hasfree",
                 "hasnargs", "hasexc", "hasjump"):
        if hasattr(opcode, name):
            facts[name] = _names(getattr(opcode, name), opname)
    entries = getattr(opcode, "_inline_cache_entries", None)
    if hasattr(entries, "items"):  # a dict (3.13+; 3.15: a frozendict)
        facts["cache"] = dict((k, v) for k, v in entries.items() if v)
    elif entries is not None:
        facts["cache"] = dict((opname[i], v) for i, v in enumerate(entries) if v and i in opname)
    if hasattr(opcode, "_nb_ops"):
        facts["nb_ops"] = [[a, b] for a, b in opcode._nb_ops]
    for name in ("_intrinsic_1_descs", "_intrinsic_2_descs"):
        if hasattr(opcode, name):
            facts[name.strip("_")] = list(getattr(opcode, name))
    if hasattr(opcode, "_specializations"):
        facts["specializations"] = dict((k, list(v)) for k, v in opcode._specializations.items())
    if hasattr(dis, "_all_opmap"):
        facts["all_opmap"] = dict(dis._all_opmap)
    for name in ("MIN_INSTRUMENTED_OPCODE", "MIN_PSEUDO_OPCODE", "MAX_PSEUDO_OPCODE"):
        if hasattr(opcode, name):
            facts[name] = getattr(opcode, name)
    for name in ("FORMAT_VALUE_CONVERTERS",):
        if hasattr(dis, name):
            facts["format_value"] = [b for a, b in getattr(dis, name)]
    for name in ("MAKE_FUNCTION_FLAGS", "FUNCTION_ATTR_FLAGS"):
        if hasattr(dis, name):
            facts[name.lower()] = list(getattr(dis, name))
    if hasattr(dis, "_is_backward_jump"):  # 3.11+
        facts["backward"] = sorted(n for n, op in opcode.opmap.items() if op < 256 and dis._is_backward_jump(op))
    if hasattr(opcode, "_common_constants"):  # 3.14+: LOAD_COMMON_CONSTANT's objects, as dis shows them
        constants = []
        for obj in opcode._common_constants:
            text = obj.__name__ if isinstance(obj, type) else repr(obj)
            value = ["callable", obj.__name__] if callable(obj) else ["literal", obj]
            constants.append([text, value])
        facts["common_constants"] = constants
    if hasattr(opcode, "_special_method_names"):  # 3.14+: LOAD_SPECIAL's names
        facts["special_method_names"] = list(opcode._special_method_names)
    if not PY2:  # which characters repr() shows as they are (str.isprintable, 3.x)
        facts["printable"] = _printable_bounds()
    return facts


def _printable_bounds():
    """``{"unicode": version, "bounds": [b0, b1, ...]}``: the code points ``c`` with
    ``chr(c).isprintable()`` are those in ``[b0, b1)``, ``[b2, b3)``..."""
    import unicodedata

    bounds = []
    inside = False
    for c in range(0x110000):
        if chr(c).isprintable() != inside:
            bounds.append(c)
            inside = not inside
    if inside:
        bounds.append(0x110000)
    return {"unicode": unicodedata.unidata_version, "bounds": bounds}


# -- instructions ----------------------------------------------------------------------


def canon_const(value):
    if isinstance(value, CODE):
        name = value.co_name.decode("latin-1") if PY2 else value.co_name
        return ["code", name, value.co_firstlineno]
    return worker.describe(value)


def canon(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, worker.TEXT):
        return ["s", value]
    if isinstance(value, worker.BYTES):
        return ["s", value.decode("latin-1")]
    if isinstance(value, int) or (PY2 and isinstance(value, worker.LONG)):
        return ["i", value]
    if isinstance(value, tuple):
        return ["t", [canon(v) for v in value]]
    if callable(value):
        return ["f", value.__name__]
    return ["?", repr(value)]


def _text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


def instructions_27(code):
    import dis
    import opcode

    co = code.co_code
    linestarts = dict(dis.findlinestarts(code))
    labels = set(dis.findlabels(co))
    free = None
    n = len(co)
    i = 0
    extended_arg = 0
    out = []
    while i < n:
        op = ord(co[i])
        start = i
        i += 1
        arg = None
        argval = None
        argrepr = ""
        const = False
        if op >= opcode.HAVE_ARGUMENT:
            arg = ord(co[i]) + ord(co[i + 1]) * 256 + extended_arg
            extended_arg = 0
            i += 2
            if op == opcode.EXTENDED_ARG:
                extended_arg = arg * 65536
            argval = arg
            if op in opcode.hasconst:
                argval = code.co_consts[arg]
                argrepr = repr(argval)
                const = True
            elif op in opcode.hasname:
                argval = argrepr = code.co_names[arg]
            elif op in opcode.hasjrel:
                argval = i + arg
                argrepr = "to " + repr(argval)
            elif op in opcode.haslocal:
                argval = argrepr = code.co_varnames[arg]
            elif op in opcode.hascompare:
                argval = argrepr = opcode.cmp_op[arg]
            elif op in opcode.hasfree:
                if free is None:
                    free = code.co_cellvars + code.co_freevars
                argval = argrepr = free[arg]
        out.append([start, opcode.opname[op], arg, ["c", canon_const(argval)] if const else canon(argval),
                    linestarts.get(start), start in labels, normalize_line(_text(argrepr))])
    return out


def instructions_3(code, jump_targets):
    import dis
    import opcode

    hasconst = set(opcode.hasconst)
    deop = getattr(dis, "_deoptop", None)
    new_lines = sys.version_info >= (3, 13)
    out = []
    for ins in dis.get_instructions(code):
        op = deop(ins.opcode) if deop else ins.opcode
        if type(ins.argval).__name__ == "_Unknown":
            argval = None  # 3.11's dis leaves KW_NAMES unresolved (dis.UNKNOWN)
        elif op in hasconst and ins.arg is not None:
            argval = ["c", canon_const(ins.argval)]
        else:
            argval = canon(ins.argval)
        line = [ins.starts_line, ins.line_number] if new_lines else ins.starts_line
        out.append([ins.offset, ins.opname, ins.arg, argval, line, ins.is_jump_target if jump_targets else None,
                    normalize_line(ins.argrepr)])
    return out


def instructions(code, jump_targets):
    if PY2:
        return instructions_27(code)
    return instructions_3(code, jump_targets)


def canonical_text(rows):
    return json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# -- normalising texts -----------------------------------------------------------------

_ADDRESS = re.compile(r"(<code object .*?) at 0x[0-9a-fA-F]+(, file )")
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def _skip_string(text, i):
    """The index after the string literal whose quote is at ``i``."""
    quote = text[i]
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i + 1
        i += 1
    return len(text)


def _closing(text, i):
    """The index of the bracket closing the one at ``i`` (None if it is not closed)."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "'\"":
            i = _skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _split_items(text):
    """``text`` split at the top-level ``", "`` separators."""
    items = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c in "'\"":
            i = _skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0 and text[i + 1:i + 2] == " ":
            items.append(text[start:i])
            start = i + 2
            i += 2
            continue
        i += 1
    items.append(text[start:])
    return items


def _sort_frozensets(text):
    out = []
    i = 0
    while True:
        j = text.find("frozenset(", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        k = j + len("frozenset(")
        close = _closing(text, k) if text[k:k + 1] in ("{", "[") else None
        if close is None or close - k < 2:
            out.append(text[i:k])
            i = k
            continue
        items = sorted(_sort_frozensets(item) for item in _split_items(text[k + 1:close]))
        out.append(text[i:k + 1] + ", ".join(items) + text[close])
        i = close + 1


def normalize_line(text):
    """One line of a listing (or an argrepr) with addresses out and frozensets sorted."""
    if "<code object " in text:
        text = _ADDRESS.sub(r"\1\2", text)
    if "frozenset(" in text:
        text = _sort_frozensets(text)
    return text


def normalize_listing(text):
    return "\n".join(normalize_line(line) for line in text.split("\n"))


# -- listings -------------------------------------------------------------------------


def _capture(function, *args):
    """What ``function(*args)`` prints, as text (2.x: its bytes decoded as latin-1)."""
    if PY2:
        import StringIO

        buffer = StringIO.StringIO()
        saved = sys.stdout
        sys.stdout = buffer
        try:
            function(*args)
        finally:
            sys.stdout = saved
        value = buffer.getvalue()
        return value.decode("latin-1") if isinstance(value, bytes) else value
    import io

    buffer = io.StringIO()
    function(*args, file=buffer)
    return buffer.getvalue()


def listing(code):
    import dis

    return normalize_listing(_capture(dis.disassemble, code))


def _print(text, file=None):
    (file or sys.stdout).write(text + "\n")


def _recursive(code, file=None):
    """dis.dis of 3.7+ for interpreters whose dis.dis does not descend (2.7, 3.6)."""
    import dis

    if file is None:
        dis.disassemble(code)
    else:
        dis.disassemble(code, file=file)
    for const in code.co_consts:
        if isinstance(const, CODE):
            _print("", file)
            _print("Disassembly of %r:" % (const,), file)
            _recursive(const, file)


def file_listing(code):
    import dis

    if sys.version_info >= (3, 7):
        return normalize_listing(_capture(dis.dis, code))
    return normalize_listing(_capture(_recursive, code))


# -- operations -------------------------------------------------------------------------


def _sha1(text):
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def op_dis_digests(request):
    jump_targets = request.get("jump_targets", True)
    digests = {}
    count = 0
    for path in request["paths"]:
        try:
            codes = worker.pyc_codes(worker.native(path))
            rows, texts = [], []
            for code in codes:
                found = instructions(code, jump_targets)
                count += len(found)
                rows.append(_sha1(canonical_text(found)))
                texts.append(_sha1(listing(code)))
            entry = {"rows": rows, "texts": texts, "file": _sha1(file_listing(codes[0]))}
        except Exception as exc:
            entry = {"error": "%s: %s" % (type(exc).__name__, worker.message_of(exc))}
        digests[path] = entry
    return {"digests": digests, "instructions": count}


def op_dis_instructions(request):
    codes = worker.pyc_codes(worker.native(request["path"]))
    return instructions(codes[request["index"]], request.get("jump_targets", True))


def op_dis_text(request):
    codes = worker.pyc_codes(worker.native(request["path"]))
    index = request.get("index")
    return file_listing(codes[0]) if index is None else listing(codes[index])


OPS = {
    "opcode_facts": op_opcode_facts,
    "dis_digests": op_dis_digests,
    "dis_instructions": op_dis_instructions,
    "dis_text": op_dis_text,
}
