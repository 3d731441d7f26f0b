# -*- coding: utf-8 -*-
"""Worker operations about opcodes and instructions (Python-2.7-compatible).

- ``opcode_facts``: what this interpreter's ``opcode`` (and ``dis``) modules say: opmap,
  HAVE_ARGUMENT, EXTENDED_ARG, the ``has*`` lists (as names), cmp_op, inline cache
  counts, binary-op, intrinsic and specialisation tables where they exist.
- ``dis_digests`` (``paths``): for each pyc path, the sha1 of ``canonical_text`` of every
  code object in it (depth first, in ``co_consts`` order, each code object once), as
  ``{"digests": {path: [hex, ...]}, "instructions": N}``.  A file that cannot be read
  gives ``{"error": message}`` in place of its list.
- ``dis_instructions`` (``path``, ``index``): the canonical list itself for one code object.

The canonical list has one entry per instruction ``dis.get_instructions`` yields (for
2.7, which has none, decoded here with 2.7's own ``dis``/``opcode`` modules the way
``dis.disassemble`` reads the bytes): ``[offset, opname, arg, argval, line, jump_target, argrepr]``.
``argval`` is canonical too: constants (ops in ``hasconst``) are ``["c", describe(value)]``
with a code object shortened to ``["code", name, firstlineno]``; other values are
``["s", text]`` (names; 2.x ``str`` decoded as latin-1), ``["i", n]``, ``["b", flag]``,
``["f", function name]``, ``["t", [items]]`` or ``null`` (also for ``dis.UNKNOWN``).  ``line`` is the line number
when the instruction starts a line, else ``null`` (2.7-3.12: ``starts_line``); 3.13+
gives ``[starts_line, line_number]``.  ``jump_target`` is ``is_jump_target`` (``null``
when the caller asked to leave it out).  ``argrepr`` is ``null`` for constants (their
reprs hold addresses) and for 3.13+ jumps (``to L1``: label numbers, not offsets).
"""

import hashlib
import json
import sys
import types

import worker

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
    if isinstance(entries, dict):
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
    return facts


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
                    linestarts.get(start), start in labels, None if const else argrepr])
    return out


def instructions_3(code, jump_targets):
    import dis
    import opcode

    hasconst = set(opcode.hasconst)
    jumps = set(opcode.hasjrel) | set(opcode.hasjabs)
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
        # argrepr: not for constants (reprs hold addresses), nor 3.13+ jumps ("to L1" labels)
        skip = argval and argval[0] == "c" or (new_lines and op in jumps)
        out.append([ins.offset, ins.opname, ins.arg, argval, line, ins.is_jump_target if jump_targets else None,
                    None if skip else ins.argrepr])
    return out


def instructions(code, jump_targets):
    if PY2:
        return instructions_27(code)
    return instructions_3(code, jump_targets)


def canonical_text(rows):
    return json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def op_dis_digests(request):
    jump_targets = request.get("jump_targets", True)
    digests = {}
    count = 0
    for path in request["paths"]:
        try:
            codes = worker.pyc_codes(worker.native(path))
            items = []
            for code in codes:
                rows = instructions(code, jump_targets)
                count += len(rows)
                items.append(hashlib.sha1(canonical_text(rows).encode("ascii")).hexdigest())
        except Exception as exc:
            items = {"error": "%s: %s" % (type(exc).__name__, worker.message_of(exc))}
        digests[path] = items
    return {"digests": digests, "instructions": count}


def op_dis_instructions(request):
    codes = worker.pyc_codes(worker.native(request["path"]))
    return instructions(codes[request["index"]], request.get("jump_targets", True))


OPS = {
    "opcode_facts": op_opcode_facts,
    "dis_digests": op_dis_digests,
    "dis_instructions": op_dis_instructions,
}
