#!/usr/bin/env python3
"""Regenerate ``pycfile/_opcode_tables.py``: the opcode tables of every version, as data.

Versions with an interpreter here (CPython 2.7, 3.6-3.15, PyPy 3.9) are asked through the
test oracle (``tests/oracle/ops_dis.py``, operation ``opcode_facts``): their own ``opcode``
and ``dis`` modules.  The others are written below as differences from a neighbouring
version, each a fact about CPython's ``Lib/opcode.py`` at that release;
``tests/test_opcodes.py`` checks them on the real pycs in ``shared/samples``.

Every table also gets a ``dis`` record: how that version's ``dis`` module reads and shows
the bytes beyond what the ``opcode`` lists say (see :data:`DIS_HISTORY`), so that
``pycfile._instructions`` holds no version comparisons of its own.

Usage: ``python scripts/make_opcode_tables.py`` (from the repository root).
"""

from __future__ import annotations

import copy
import pprint
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

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
        for field in ("cache", "nb_ops", "intrinsic_1_descs", "intrinsic_2_descs", "specializations", "backward",
                      "make_function_flags", "function_attr_flags", "format_value", "common_constants",
                      "special_method_names"):
            if field in facts:
                table[field] = facts[field]
        if "all_opmap" in facts:
            table["specialized"] = {k: v for k, v in facts["all_opmap"].items() if k not in facts["opmap"]}
        if "printable" in facts:
            table["printable"] = printable_data(facts["printable"], f"the {interpreter.implementation} {interpreter.full_version} interpreter")
        tables[name] = table
    return tables


def printable_data(facts: Dict[str, Any], source: str) -> Table:
    """Which characters a version's ``repr`` shows as they are (``str.isprintable``, from
    its Unicode database), as the boundaries of the printable ranges, written as hex
    differences from the one before (a compact string)."""
    bounds: List[int] = facts["bounds"]
    deltas = [b - a for a, b in zip([0] + bounds, bounds)]
    return {"source": source, "unicode": facts["unicode"], "bounds": ",".join(f"{d:x}" for d in deltas)}


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
    # Versions without an interpreter here show strings with the nearest Unicode database
    # at hand: 3.0-3.5 with 3.6's (Unicode 9.0; theirs were 5.1-8.0, so a character
    # assigned in between is shown as it is here, escaped there), PyPy 3.10 with PyPy
    # 3.9's (the derive() copy).
    for key in ("cpython-3.0", "cpython-3.1", "cpython-3.2", "cpython-3.3", "cpython-3.4", "cpython-3.5"):
        out[key]["printable"] = dict(known["cpython-3.6"]["printable"], source="borrowed from CPython 3.6")
    out["pypy-3.10"]["printable"] = dict(known["pypy-3.9"]["printable"], source="borrowed from PyPy 3.9")
    return out


# How each version's ``dis`` module reads and shows bytecode, beyond what its ``opcode``
# module's lists say: (first version, what changed), each entry a fact about ``Lib/dis.py``
# of that release (checked against the real ``dis`` of every version with an interpreter
# here by tests/test_instructions.py).  ``dis_style`` folds the entries up to a version
# into the ``dis`` record of its table; pycfile._opcodes.DisStyle documents each field.
DIS_HISTORY: List[Tuple[Tuple[int, int], Table]] = [
    ((2, 0), {
        # 2.x: disassemble() prints each field with the print statement: fields joined by
        # one space, the opcode name padded to 20 even at the end of a line.
        "reprs": "python2",
        "wordcode": False,
        "jump_unit": 1,
        "jump_skips_caches": False,
        "arg_rule": "have_argument",
        "extended_arg_shift": 16,
        "extended_arg_reset": False,
        "extended_arg_wrap": False,
        "absolute_jump_text": False,
        "jump_labels": False,
        "jump_prepositions": {},
        "name_args": {},
        "compare_shift": 0,
        "compare_bool_bit": 0,
        "unresolved_consts": [],
        "local_pairs": [],
        "test_ops": {},
        "common_constant_argval": "arg",
        "listing": "print",
        "print_trailing_space": False,
        "long_args_after_extended_arg": True,  # oparg*65536L: the next argument is a long
        "lineno_width": "fixed",
        "offset_width": "fixed",
        "exception_table": "",
        "exception_targets_marked": False,
        "nested_listings": False,
    }),
    # 3.0-3.3: print(..., end=' ') after every field, so each line ends with a space.
    ((3, 0), {"reprs": "python3", "print_trailing_space": True, "long_args_after_extended_arg": False}),
    # 3.4: Instruction and get_instructions; a listing line is its fields joined, rstripped.
    ((3, 4), {"listing": "fields", "print_trailing_space": False}),
    # 3.6: wordcode; EXTENDED_ARG shifts by 8 bits.
    ((3, 6), {"wordcode": True, "extended_arg_shift": 8}),
    # 3.7: dis.dis lists nested code objects; line-number and offset columns widen.
    ((3, 7), {"lineno_width": "grows", "offset_width": "grows", "nested_listings": True}),
    # 3.10: jumps count code units; absolute jumps say "to N"; an instruction without an
    # argument drops a pending EXTENDED_ARG.
    ((3, 10), {"jump_unit": 2, "absolute_jump_text": True, "extended_arg_reset": True}),
    # 3.11: EXTENDED_ARG wraps at 32 bits (signed); LOAD_GLOBAL's low bit pushes NULL;
    # KW_NAMES is in hasconst but dis leaves it unresolved; the exception table is listed
    # (offsets) and its handlers are marked ">>" in listings.
    ((3, 11), {
        "extended_arg_wrap": True,
        "name_args": {"LOAD_GLOBAL": [1, [[1, "NULL + {}"]]]},
        "unresolved_consts": ["KW_NAMES"],
        "exception_table": "offsets",
        "exception_targets_marked": True,
    }),
    # 3.12: opcodes take an argument when in hasarg; jumps start after the inline caches;
    # COMPARE_OP's operator is arg >> 4; LOAD_ATTR and LOAD_SUPER_ATTR carry NULL|self bits.
    ((3, 12), {
        "arg_rule": "hasarg",
        "jump_skips_caches": True,
        "compare_shift": 4,
        "unresolved_consts": [],
        "name_args": {
            "LOAD_GLOBAL": [1, [[1, "NULL + {}"]]],
            "LOAD_ATTR": [1, [[1, "NULL|self + {}"]]],
            "LOAD_SUPER_ATTR": [2, [[1, "NULL|self + {}"]]],
        },
    }),
    # 3.13: labels ("to L1", "L1:" lines, no offsets column); COMPARE_OP's operator is
    # arg >> 5 and bit 16 asks for bool(); NULL shown after the name; paired-local
    # instructions; the line column shows "--" for code with no line.
    ((3, 13), {
        "jump_labels": True,
        "compare_shift": 5,
        "compare_bool_bit": 16,
        "name_args": {
            "LOAD_GLOBAL": [1, [[1, "{} + NULL"]]],
            "LOAD_ATTR": [1, [[1, "{} + NULL|self"]]],
            "LOAD_SUPER_ATTR": [2, [[1, "{} + NULL|self"]]],
        },
        "local_pairs": ["LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST"],
        "listing": "labels",
        "lineno_width": "at_least_3",
        "offset_width": "none",
        "exception_table": "labels",
        "exception_targets_marked": False,
    }),
    # 3.14: END_ASYNC_FOR reads "from L1"; IS_OP and CONTAINS_OP show their operator.
    ((3, 14), {
        "jump_prepositions": {"END_ASYNC_FOR": "from"},
        "local_pairs": ["LOAD_FAST_BORROW_LOAD_FAST_BORROW", "LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST",
                        "STORE_FAST_STORE_FAST"],
        "test_ops": {"CONTAINS_OP": ["in", "not in"], "IS_OP": ["is", "is not"]},
    }),
    # 3.15: IMPORT_NAME's low bits say lazy/eager; LOAD_COMMON_CONSTANT's argval is the object.
    ((3, 15), {
        "name_args": {
            "LOAD_GLOBAL": [1, [[1, "{} + NULL"]]],
            "LOAD_ATTR": [1, [[1, "{} + NULL|self"]]],
            "LOAD_SUPER_ATTR": [2, [[1, "{} + NULL|self"]]],
            "IMPORT_NAME": [2, [[1, "{} + lazy"], [2, "{} + eager"]]],
        },
        "common_constant_argval": "object",
    }),
]


def dis_style(version: Tuple[int, int], table: Table) -> Table:
    """The ``dis`` record of a version: :data:`DIS_HISTORY` folded up to it (PyPy's ``dis``
    is CPython's of the same language version)."""
    style: Table = {}
    for since, changes in DIS_HISTORY:
        if since <= version:
            style.update(copy.deepcopy(changes))
    return style


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
    for key, table in tables.items():
        implementation, _, number = key.partition("-")
        major, _, minor = number.partition(".")
        table["dis"] = dis_style((int(major), int(minor)), table)
    (ROOT / "pycfile" / "_opcode_tables.py").write_text(render(tables))
    print(f"{len(tables)} tables written")


if __name__ == "__main__":
    main()
