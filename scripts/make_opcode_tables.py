#!/usr/bin/env python3
"""Regenerate ``pycfile/_opcode_tables.py``: the opcode tables of every version, as data.

Versions with an interpreter here (CPython 2.7, 3.6-3.13, PyPy 3.9) are asked through the
test oracle (``tests/oracle/ops_dis.py``, operation ``opcode_facts``): their own ``opcode``
and ``dis`` modules.  The others are written below as differences from a neighbouring
version, each a fact about CPython's ``Lib/opcode.py`` (and, for 3.14,
``Lib/_opcode_metadata.py``/``Include/internal/pycore_opcode_metadata.h``) at that
release; ``tests/test_opcodes.py`` checks them on the real pycs in ``shared/samples``.

Usage: ``python scripts/make_opcode_tables.py`` (from the repository root).
"""

from __future__ import annotations

import copy
import pprint
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

Table = Dict[str, Any]

LISTS = ("hasarg", "hasconst", "hasname", "hasjrel", "hasjabs", "haslocal", "hascompare", "hasfree", "hasnargs", "hasexc")

CMP_2 = ["<", "<=", "==", "!=", ">", ">=", "in", "not in", "is", "is not", "exception match", "BAD"]


def from_interpreters() -> Dict[str, Table]:
    import interpreters
    import oracle

    tables: Dict[str, Table] = {}
    for key in interpreters.REQUIRED:
        interpreter = interpreters.require(key)
        with oracle.Oracle.start(interpreter) as worker:
            facts = worker.call("opcode_facts")
        name = f"{interpreter.implementation}-{interpreter.major}.{interpreter.minor}"
        table: Table = {"source": f"the {interpreter.implementation} {interpreter.full_version} interpreter's opcode module"}
        table["opmap"] = facts["opmap"]
        table["have_argument"] = facts["HAVE_ARGUMENT"]
        table["extended_arg"] = facts["EXTENDED_ARG"]
        table["cmp_op"] = facts["cmp_op"]
        for field in LISTS:
            if field in facts:
                table[field] = facts[field]
        for field in ("cache", "nb_ops", "intrinsic_1_descs", "intrinsic_2_descs", "specializations"):
            if field in facts:
                table[field] = facts[field]
        if "all_opmap" in facts:
            table["specialized"] = {k: v for k, v in facts["all_opmap"].items() if k not in facts["opmap"]}
        tables[name] = table
    return tables


def derive(base: Table, source: str, remove: List[str], add: Dict[str, int], **lists: List[str]) -> Table:
    """A table from ``base``: ops removed, ops added (``lists``: which has* lists they join)."""
    table = copy.deepcopy(base)
    table["source"] = source
    for name in remove:
        del table["opmap"][name]
        for field in LISTS:
            if field in table and name in table[field]:
                table[field].remove(name)
    table["opmap"].update(add)
    for field, names in lists.items():
        table.setdefault(field, [])
        table[field] = sorted(set(table[field]) | set(names))
    for field in LISTS:
        if field in table:
            table[field] = sorted(table[field])
    return table


CALLS_NARGS = ["CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_FUNCTION_VAR", "CALL_FUNCTION_VAR_KW"]


def sourced(known: Dict[str, Table]) -> Dict[str, Table]:
    out: Dict[str, Table] = {}
    v27 = known["cpython-2.7"]
    # CPython 2.5 Lib/opcode.py: 2.7's table without 2.7's additions, with the 2.5 numbers
    # of BUILD_MAP..IMPORT_FROM (104-108), jump-if ops relative, LIST_APPEND 18 (no
    # argument) and EXTENDED_ARG 143.
    v25 = derive(
        v27,
        "CPython 2.5 Lib/opcode.py",
        ["STORE_MAP", "LIST_APPEND", "BUILD_SET", "BUILD_MAP", "LOAD_ATTR", "COMPARE_OP", "IMPORT_NAME", "IMPORT_FROM",
         "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "SETUP_WITH",
         "EXTENDED_ARG", "SET_ADD", "MAP_ADD"],
        {"LIST_APPEND": 18, "BUILD_MAP": 104, "LOAD_ATTR": 105, "COMPARE_OP": 106, "IMPORT_NAME": 107,
         "IMPORT_FROM": 108, "JUMP_IF_FALSE": 111, "JUMP_IF_TRUE": 112, "EXTENDED_ARG": 143},
        hasname=["LOAD_ATTR", "IMPORT_NAME", "IMPORT_FROM"],
        hascompare=["COMPARE_OP"],
        hasjrel=["JUMP_IF_FALSE", "JUMP_IF_TRUE"],
    )
    v25["extended_arg"] = 143
    out["cpython-2.6"] = derive(v25, "CPython 2.6 Lib/opcode.py (2.5 and STORE_MAP)", [], {"STORE_MAP": 54})
    out["cpython-2.5"] = v25
    v24 = derive(v25, "CPython 2.4 Lib/opcode.py (2.5 without WITH_CLEANUP)", ["WITH_CLEANUP"], {})
    out["cpython-2.4"] = v24
    out["cpython-2.3"] = derive(v24, "CPython 2.3 Lib/opcode.py (2.4 without NOP, LIST_APPEND)", ["NOP", "LIST_APPEND"], {})

    v36 = known["cpython-3.6"]
    v35 = derive(
        v36,
        "CPython 3.5 Lib/opcode.py",
        ["SETUP_ANNOTATIONS", "STORE_ANNOTATION", "CALL_FUNCTION_EX", "FORMAT_VALUE", "BUILD_CONST_KEY_MAP",
         "BUILD_STRING", "BUILD_TUPLE_UNPACK_WITH_CALL"],
        {"MAKE_CLOSURE": 134, "CALL_FUNCTION_VAR": 140, "CALL_FUNCTION_VAR_KW": 142},
        hasnargs=CALLS_NARGS,
    )
    out["cpython-3.5"] = v35
    v34 = derive(
        v35,
        "CPython 3.4 Lib/opcode.py",
        ["BINARY_MATRIX_MULTIPLY", "INPLACE_MATRIX_MULTIPLY", "GET_AITER", "GET_ANEXT", "BEFORE_ASYNC_WITH",
         "GET_YIELD_FROM_ITER", "GET_AWAITABLE", "WITH_CLEANUP_START", "WITH_CLEANUP_FINISH", "BUILD_LIST_UNPACK",
         "BUILD_MAP_UNPACK", "BUILD_MAP_UNPACK_WITH_CALL", "BUILD_TUPLE_UNPACK", "BUILD_SET_UNPACK",
         "SETUP_ASYNC_WITH"],
        {"STORE_MAP": 54, "WITH_CLEANUP": 81},
    )
    out["cpython-3.4"] = v34
    v33 = derive(v34, "CPython 3.3 Lib/opcode.py", ["LOAD_CLASSDEREF"], {"STORE_LOCALS": 69})
    v33.pop("hasnargs")
    out["cpython-3.3"] = v33
    v32 = derive(v33, "CPython 3.2 Lib/opcode.py", ["YIELD_FROM"], {"STOP_CODE": 0})
    out["cpython-3.2"] = v32
    v31 = derive(
        v32,
        "CPython 3.1 Lib/opcode.py",
        ["DUP_TOP_TWO", "DELETE_DEREF", "SETUP_WITH", "EXTENDED_ARG"],
        {"ROT_FOUR": 5, "DUP_TOPX": 99, "EXTENDED_ARG": 143},
    )
    v31["extended_arg"] = 143
    out["cpython-3.1"] = v31
    out["cpython-3.0"] = derive(
        v31,
        "CPython 3.0 Lib/opcode.py",
        ["POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP", "LIST_APPEND",
         "SET_ADD", "MAP_ADD"],
        {"JUMP_IF_FALSE": 111, "JUMP_IF_TRUE": 112, "SET_ADD": 17, "LIST_APPEND": 18},
        hasjrel=["JUMP_IF_FALSE", "JUMP_IF_TRUE"],
    )
    out["cpython-3.14"] = v314(known["cpython-3.13"])
    # PyPy 3.10 (no interpreter here): PyPy 3.9's opcodes, with the opcodes CPython 3.10
    # added or renumbered (pattern matching, ROT_N, GEN_START, RERAISE) at CPython's
    # numbers, as PyPy's lib-python 3.10 opcode.py does; tests check it on the PyPy 3.10
    # samples.
    c39, c310 = known["cpython-3.9"], known["cpython-3.10"]
    changed = {k: v for k, v in c310["opmap"].items() if c39["opmap"].get(k) != v}
    groups = {g: [n for n in c310.get(g, []) if n in changed] for g in LISTS if c310.get(g)}
    pypy310 = derive(known["pypy-3.9"], "PyPy 3.9's opcode module with CPython 3.10's new opcodes",
                     [], changed, **{g: names for g, names in groups.items() if names})
    out["pypy-3.10"] = pypy310
    return out


# CPython 3.14: opcode numbers from Include/opcode_ids.h / Lib/_opcode_metadata.py at v3.14.0
# (real and instrumented opcodes; specialised ones never reach a pyc), arguments, jumps and
# inline caches from Include/internal/pycore_opcode_metadata.h and Lib/opcode.py.
_OPS_314_NOARG = (
    "CACHE BINARY_SLICE BUILD_TEMPLATE BINARY_OP_INPLACE_ADD_UNICODE CALL_FUNCTION_EX CHECK_EG_MATCH "
    "CHECK_EXC_MATCH CLEANUP_THROW DELETE_SUBSCR END_FOR END_SEND EXIT_INIT_CHECK FORMAT_SIMPLE "
    "FORMAT_WITH_SPEC GET_AITER GET_ANEXT GET_ITER RESERVED GET_LEN GET_YIELD_FROM_ITER INTERPRETER_EXIT "
    "LOAD_BUILD_CLASS LOAD_LOCALS MAKE_FUNCTION MATCH_KEYS MATCH_MAPPING MATCH_SEQUENCE NOP NOT_TAKEN "
    "POP_EXCEPT POP_ITER POP_TOP PUSH_EXC_INFO PUSH_NULL RETURN_GENERATOR RETURN_VALUE SETUP_ANNOTATIONS "
    "STORE_SLICE STORE_SUBSCR TO_BOOL UNARY_INVERT UNARY_NEGATIVE UNARY_NOT WITH_EXCEPT_START"
).split()
_OPS_314_ARG = (
    "BINARY_OP BUILD_INTERPOLATION BUILD_LIST BUILD_MAP BUILD_SET BUILD_SLICE BUILD_STRING BUILD_TUPLE CALL "
    "CALL_INTRINSIC_1 CALL_INTRINSIC_2 CALL_KW COMPARE_OP CONTAINS_OP CONVERT_VALUE COPY COPY_FREE_VARS "
    "DELETE_ATTR DELETE_DEREF DELETE_FAST DELETE_GLOBAL DELETE_NAME DICT_MERGE DICT_UPDATE END_ASYNC_FOR "
    "EXTENDED_ARG FOR_ITER GET_AWAITABLE IMPORT_FROM IMPORT_NAME IS_OP JUMP_BACKWARD "
    "JUMP_BACKWARD_NO_INTERRUPT JUMP_FORWARD LIST_APPEND LIST_EXTEND LOAD_ATTR LOAD_COMMON_CONSTANT "
    "LOAD_CONST LOAD_DEREF LOAD_FAST LOAD_FAST_AND_CLEAR LOAD_FAST_BORROW LOAD_FAST_BORROW_LOAD_FAST_BORROW "
    "LOAD_FAST_CHECK LOAD_FAST_LOAD_FAST LOAD_FROM_DICT_OR_DEREF LOAD_FROM_DICT_OR_GLOBALS LOAD_GLOBAL "
    "LOAD_NAME LOAD_SMALL_INT LOAD_SPECIAL LOAD_SUPER_ATTR MAKE_CELL MAP_ADD MATCH_CLASS POP_JUMP_IF_FALSE "
    "POP_JUMP_IF_NONE POP_JUMP_IF_NOT_NONE POP_JUMP_IF_TRUE RAISE_VARARGS RERAISE SEND SET_ADD "
    "SET_FUNCTION_ATTRIBUTE SET_UPDATE STORE_ATTR STORE_DEREF STORE_FAST STORE_FAST_LOAD_FAST "
    "STORE_FAST_STORE_FAST STORE_GLOBAL STORE_NAME SWAP UNPACK_EX UNPACK_SEQUENCE YIELD_VALUE"
).split()
_INSTRUMENTED_314 = {
    "INSTRUMENTED_END_FOR": 233, "INSTRUMENTED_POP_ITER": 234, "INSTRUMENTED_END_SEND": 235,
    "INSTRUMENTED_FOR_ITER": 236, "INSTRUMENTED_INSTRUCTION": 237, "INSTRUMENTED_JUMP_FORWARD": 238,
    "INSTRUMENTED_NOT_TAKEN": 239, "INSTRUMENTED_POP_JUMP_IF_TRUE": 240, "INSTRUMENTED_POP_JUMP_IF_FALSE": 241,
    "INSTRUMENTED_POP_JUMP_IF_NONE": 242, "INSTRUMENTED_POP_JUMP_IF_NOT_NONE": 243, "INSTRUMENTED_RESUME": 244,
    "INSTRUMENTED_RETURN_VALUE": 245, "INSTRUMENTED_YIELD_VALUE": 246, "INSTRUMENTED_END_ASYNC_FOR": 247,
    "INSTRUMENTED_LOAD_SUPER_ATTR": 248, "INSTRUMENTED_CALL": 249, "INSTRUMENTED_CALL_KW": 250,
    "INSTRUMENTED_CALL_FUNCTION_EX": 251, "INSTRUMENTED_JUMP_BACKWARD": 252, "INSTRUMENTED_LINE": 253,
    "ENTER_EXECUTOR": 254,
}
_PSEUDO_314 = (
    "ANNOTATIONS_PLACEHOLDER JUMP JUMP_IF_FALSE JUMP_IF_TRUE JUMP_NO_INTERRUPT LOAD_CLOSURE POP_BLOCK "
    "SETUP_CLEANUP SETUP_FINALLY SETUP_WITH STORE_FAST_MAYBE_NULL"
).split()


def v314(v313: Table) -> Table:
    opmap: Dict[str, int] = {}
    for number, name in enumerate(_OPS_314_NOARG + _OPS_314_ARG):
        opmap[name] = number
    opmap["RESUME"] = 128
    opmap.update(_INSTRUMENTED_314)
    for number, name in enumerate(_PSEUDO_314, 256):
        opmap[name] = number
    arg_instrumented = [
        n for n in _INSTRUMENTED_314
        if n not in ("INSTRUMENTED_END_FOR", "INSTRUMENTED_POP_ITER", "INSTRUMENTED_END_SEND",
                     "INSTRUMENTED_INSTRUCTION", "INSTRUMENTED_NOT_TAKEN", "INSTRUMENTED_RETURN_VALUE",
                     "INSTRUMENTED_CALL_FUNCTION_EX", "INSTRUMENTED_LINE")
    ]
    pseudo_arg = [n for n in _PSEUDO_314 if n not in ("ANNOTATIONS_PLACEHOLDER", "POP_BLOCK")]
    jumps = ["END_ASYNC_FOR", "FOR_ITER", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_FORWARD",
             "POP_JUMP_IF_FALSE", "POP_JUMP_IF_NONE", "POP_JUMP_IF_NOT_NONE", "POP_JUMP_IF_TRUE", "SEND"]
    return {
        "source": "CPython 3.14.0 Lib/opcode.py, Lib/_opcode_metadata.py, Include/internal/pycore_opcode_metadata.h",
        "opmap": opmap,
        "have_argument": 43,
        "extended_arg": opmap["EXTENDED_ARG"],
        "cmp_op": list(v313["cmp_op"]),
        "hasarg": sorted(_OPS_314_ARG + ["RESUME"] + arg_instrumented + pseudo_arg),
        "hasconst": ["LOAD_CONST"],
        "hasname": sorted(["DELETE_ATTR", "DELETE_GLOBAL", "DELETE_NAME", "IMPORT_FROM", "IMPORT_NAME", "LOAD_ATTR",
                           "LOAD_FROM_DICT_OR_GLOBALS", "LOAD_GLOBAL", "LOAD_NAME", "LOAD_SUPER_ATTR",
                           "STORE_ATTR", "STORE_GLOBAL", "STORE_NAME", "INSTRUMENTED_LOAD_SUPER_ATTR"]),
        "hasjrel": sorted(jumps + ["INSTRUMENTED_FOR_ITER", "INSTRUMENTED_JUMP_FORWARD",
                                   "INSTRUMENTED_POP_JUMP_IF_TRUE", "INSTRUMENTED_POP_JUMP_IF_FALSE",
                                   "INSTRUMENTED_POP_JUMP_IF_NONE", "INSTRUMENTED_POP_JUMP_IF_NOT_NONE",
                                   "INSTRUMENTED_END_ASYNC_FOR", "INSTRUMENTED_JUMP_BACKWARD",
                                   "JUMP", "JUMP_IF_FALSE", "JUMP_IF_TRUE", "JUMP_NO_INTERRUPT"]),
        "hasjabs": [],
        "haslocal": sorted(["DELETE_FAST", "LOAD_FAST", "LOAD_FAST_AND_CLEAR", "LOAD_FAST_BORROW",
                            "LOAD_FAST_BORROW_LOAD_FAST_BORROW", "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST",
                            "STORE_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST", "LOAD_CLOSURE",
                            "STORE_FAST_MAYBE_NULL"]),
        "hascompare": ["COMPARE_OP"],
        "hasfree": sorted(["DELETE_DEREF", "LOAD_DEREF", "LOAD_FROM_DICT_OR_DEREF", "MAKE_CELL", "STORE_DEREF"]),
        "hasexc": ["SETUP_CLEANUP", "SETUP_FINALLY", "SETUP_WITH"],
        "cache": {
            "LOAD_GLOBAL": 4, "BINARY_OP": 5, "UNPACK_SEQUENCE": 1, "COMPARE_OP": 1, "CONTAINS_OP": 1,
            "FOR_ITER": 1, "LOAD_SUPER_ATTR": 1, "LOAD_ATTR": 9, "STORE_ATTR": 4, "CALL": 3, "CALL_KW": 3,
            "STORE_SUBSCR": 1, "SEND": 1, "JUMP_BACKWARD": 1, "TO_BOOL": 3, "POP_JUMP_IF_TRUE": 1,
            "POP_JUMP_IF_FALSE": 1, "POP_JUMP_IF_NONE": 1, "POP_JUMP_IF_NOT_NONE": 1,
        },
        "nb_ops": [list(p) for p in v313["nb_ops"]] + [["NB_SUBSCR", "[]"]],
        "intrinsic_1_descs": list(v313["intrinsic_1_descs"]),
        "intrinsic_2_descs": list(v313["intrinsic_2_descs"]),
    }


def render(tables: Dict[str, Table]) -> str:
    lines = [
        '"""Opcode tables of every supported Python version, as data.',
        "",
        "Generated by ``scripts/make_opcode_tables.py``; do not edit.  Each table's ``source``",
        "says where its facts come from.  Read through :mod:`pycfile._opcodes`.",
        '"""',
        "",
        "from typing import Any, Dict",
        "",
        "# fmt: off",
        "TABLES: Dict[str, Dict[str, Any]] = {",
    ]
    order = sorted(tables, key=lambda k: (k.split("-")[0] != "cpython", tuple(int(x) for x in k.split("-")[1].split("."))))
    for key in order:
        table = dict(tables[key])
        table["opmap"] = dict(sorted(table["opmap"].items(), key=lambda kv: (kv[1], kv[0])))
        text = pprint.pformat(table, width=110, sort_dicts=False)
        lines.append(f"    {key!r}: " + text.replace("\n", "\n    ") + ",")
    lines.append("}")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    known = from_interpreters()
    tables = dict(known)
    tables.update(sourced(known))
    (ROOT / "pycfile" / "_opcode_tables.py").write_text(render(tables))
    print(f"{len(tables)} tables written")


if __name__ == "__main__":
    main()
