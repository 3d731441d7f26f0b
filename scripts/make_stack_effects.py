#!/usr/bin/env python3
"""Regenerate ``pycfile/_stack_effect_tables.py``: each version's stack effects, as data.

Versions with an interpreter here that has ``dis.stack_effect`` (CPython 3.6-3.15, PyPy
3.9) are asked through the test oracle (``tests/oracle/ops_stack.py``, operation
``stack_effects``) for every opcode and a spread of arguments; each answer is fitted to
a formula (see ``pycfile/_stackeffect.py``) and checked against every sample.  The
others (CPython 2.3-2.7 and 3.0-3.5, which have no ``dis.stack_effect``, and PyPy 3.10)
are written below from CPython's ``opcode_stack_effect()`` in ``Python/compile.c`` of
those releases.

All effects are split the way CPython 3.8+ splits them: the effect when the instruction
falls through and when it jumps, both from the depth before it.  Where the version's own
table has no such split (2.x-3.7), or the interpreter counts the jump from the depth
after the instruction (PyPy), the split is written here; see ``OLD_FLOW``.

Usage: ``python scripts/make_stack_effects.py`` (from the repository root; needs the
interpreters ``tests/interpreters.py`` finds).
"""

from __future__ import annotations

import copy
import pprint
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from pycfile import opcode_table  # noqa: E402
from pycfile._stackeffect import FULL, Spec, evaluate  # noqa: E402

#: The arguments each interpreter is asked about (the tests ask about the same ones).
ARGS: List[int] = list(range(0, 260)) + [300, 511, 512, 513, 1000, 4096, 65535, 65536, 65537, 70000]

Effects = Dict[str, Any]


def fit(values: List[Optional[int]], args: List[int]) -> Optional[Spec]:
    """The simplest formula that gives every known value, or None if none is known."""
    points = [(a, v) for a, v in zip(args, values) if v is not None]
    if not points:
        return None
    known = dict(points)
    if len({v for _, v in points}) == 1:
        return points[0][1]
    candidates: List[Spec] = []
    if 0 in known and 1 in known:
        candidates.append(("f", known[0], ((0, FULL, known[1] - known[0]),)))
        if 256 in known:
            candidates.append(("f", known[0], ((0, 0xFF, known[1] - known[0]), (8, FULL, known[256] - known[0]))))
    if 0 in known:
        bits = tuple((k, 1, known[1 << k] - known[0]) for k in range(17) if (1 << k) in known and known[1 << k] != known[0])
        candidates.append(("f", known[0], bits))
    by_value: Dict[int, List[int]] = {}
    for a, v in points:
        by_value.setdefault(v, []).append(a)
    if len(by_value) == 2:
        for value, where in by_value.items():
            if len(where) == 1:
                other = next(x for x in by_value if x != value)
                candidates.append(("eq", where[0], value, other))
    for candidate in candidates:
        if all(evaluate(candidate, a) == v for a, v in points):
            return candidate
    raise SystemExit(f"no formula fits {points[:8]}...")


def from_interpreters() -> Dict[str, Effects]:
    import interpreters
    import oracle

    tables: Dict[str, Effects] = {}
    for key in interpreters.REQUIRED:
        interpreter = interpreters.require(key)
        with oracle.Oracle.start(interpreter) as worker:
            answer = worker.call("stack_effects", args=ARGS)
        if answer["effects"] is None:
            continue
        name = f"{interpreter.implementation}-{interpreter.major}.{interpreter.minor}"
        effects: Effects = {}
        jumps = set()
        if interpreter.implementation == "pypy":
            table = opcode_table(interpreter.version)
            jumps = {table.opname[op] for op in table.hasjrel | table.hasjabs if op < 256}
        for opname, entry in sorted(answer["effects"].items()):
            args = ARGS if len(entry["plain"]) > 1 else [0]
            if answer["jump_param"]:
                nojump, jump = fit(entry["nojump"], args), fit(entry["jump"], args)
                if nojump is None:
                    continue
                if interpreter.implementation == "pypy" and opname in jumps and jump is not None:
                    # PyPy 3.9 counts the jump from the depth after the instruction
                    # (astcompiler/assemble.py: ``depth + _opcode_stack_effect_jump``)
                    assert isinstance(nojump, int) and isinstance(jump, int), opname
                    jump = nojump + jump
                effects[opname] = nojump if nojump == jump else {"nojump": nojump, "jump": jump}
            else:
                spec = fit(entry["plain"], args)
                if spec is not None:
                    effects[opname] = spec
        effects.setdefault("NOP", 0)
        effects.setdefault("EXTENDED_ARG", 0)
        if interpreter.implementation == "pypy":
            # its stack walk drops the value after a JUMP_IF_*_OR_POP that falls through
            for opname in ("JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP"):
                effects[opname] = {"nojump": -1, "jump": 0}
        tables[name] = {"source": f"the {interpreter.implementation} {interpreter.full_version} interpreter's dis.stack_effect", "effects": effects}
    return tables


def lin(a: int, b: int) -> Spec:
    """``a * arg + b``."""
    return ("f", b, ((0, FULL, a),))


def nargs(extra: int, high: Tuple[Tuple[int, int, int], ...] = ()) -> Spec:
    """``-(low byte + 2 * second byte) + extra`` (pre-3.6 calls), plus ``high`` fields."""
    return ("f", extra, ((0, 0xFF, -1), (8, 0xFF, -2)) + high)


# -- the flow splits of the versions whose tables have none --------------------------
#
# 2.x-3.6 compilers use one effect per opcode and special-case a few jumps in their
# stack walk; 3.7 has the split but dis.stack_effect shows only the larger value.  Here
# are the effects as the interpreter runs them, from the depth before the instruction:
# a handler gets the values the unwinding pushes (3 in 2.x, 6 in 3.x) above the block's
# level; the end of a finally or with block pops them again.
OLD_FLOW_2: Effects = {
    "FOR_ITER": {"nojump": 1, "jump": -1},
    "JUMP_IF_TRUE_OR_POP": {"nojump": -1, "jump": 0},
    "JUMP_IF_FALSE_OR_POP": {"nojump": -1, "jump": 0},
    "SETUP_EXCEPT": {"nojump": 0, "jump": 3},
    "SETUP_FINALLY": {"nojump": 0, "jump": 3},
    "SETUP_WITH": {"nojump": 1, "jump": 3},
    "END_FINALLY": -3,
    "WITH_CLEANUP": -1,
}
OLD_FLOW_3: Effects = {
    "FOR_ITER": {"nojump": 1, "jump": -1},
    "JUMP_IF_TRUE_OR_POP": {"nojump": -1, "jump": 0},
    "JUMP_IF_FALSE_OR_POP": {"nojump": -1, "jump": 0},
    "SETUP_EXCEPT": {"nojump": 0, "jump": 6},
    "SETUP_FINALLY": {"nojump": 0, "jump": 6},
    "SETUP_WITH": {"nojump": 1, "jump": 6},
    "SETUP_ASYNC_WITH": {"nojump": 0, "jump": 5},
    "END_FINALLY": -6,
    "POP_EXCEPT": -3,
    "WITH_CLEANUP": -1,
    "WITH_CLEANUP_START": 2,
    "WITH_CLEANUP_FINISH": -3,
}


def cpython_27() -> Effects:
    """CPython 2.7's opcode_stack_effect() (Python/compile.c), with OLD_FLOW_2."""
    effects: Effects = {
        "STOP_CODE": 0, "NOP": 0, "EXTENDED_ARG": 0,
        "POP_TOP": -1, "ROT_TWO": 0, "ROT_THREE": 0, "DUP_TOP": 1, "ROT_FOUR": 0,
        "UNARY_POSITIVE": 0, "UNARY_NEGATIVE": 0, "UNARY_NOT": 0, "UNARY_CONVERT": 0, "UNARY_INVERT": 0,
        "SET_ADD": -1, "LIST_APPEND": -1, "MAP_ADD": -2,
        "SLICE+0": 0, "SLICE+1": -1, "SLICE+2": -1, "SLICE+3": -2,
        "STORE_SLICE+0": -2, "STORE_SLICE+1": -3, "STORE_SLICE+2": -3, "STORE_SLICE+3": -4,
        "DELETE_SLICE+0": -1, "DELETE_SLICE+1": -2, "DELETE_SLICE+2": -2, "DELETE_SLICE+3": -3,
        "STORE_SUBSCR": -3, "STORE_MAP": -2, "DELETE_SUBSCR": -2, "GET_ITER": 0,
        "PRINT_EXPR": -1, "PRINT_ITEM": -1, "PRINT_NEWLINE": 0, "PRINT_ITEM_TO": -2, "PRINT_NEWLINE_TO": -1,
        "BREAK_LOOP": 0, "LOAD_LOCALS": 1, "RETURN_VALUE": -1, "IMPORT_STAR": -1, "EXEC_STMT": -3,
        "YIELD_VALUE": 0, "POP_BLOCK": 0, "BUILD_CLASS": -2,
        "STORE_NAME": -1, "DELETE_NAME": 0, "UNPACK_SEQUENCE": lin(1, -1),
        "STORE_ATTR": -2, "DELETE_ATTR": -1, "STORE_GLOBAL": -1, "DELETE_GLOBAL": 0,
        "DUP_TOPX": lin(1, 0), "LOAD_CONST": 1, "LOAD_NAME": 1,
        "BUILD_TUPLE": lin(-1, 1), "BUILD_LIST": lin(-1, 1), "BUILD_SET": lin(-1, 1), "BUILD_MAP": 1,
        "LOAD_ATTR": 0, "COMPARE_OP": -1, "IMPORT_NAME": -1, "IMPORT_FROM": 1,
        "JUMP_FORWARD": 0, "JUMP_ABSOLUTE": 0, "POP_JUMP_IF_FALSE": -1, "POP_JUMP_IF_TRUE": -1,
        "JUMP_IF_FALSE": 0, "JUMP_IF_TRUE": 0,
        "LOAD_GLOBAL": 1, "CONTINUE_LOOP": 0, "SETUP_LOOP": 0,
        "LOAD_FAST": 1, "STORE_FAST": -1, "DELETE_FAST": 0,
        "RAISE_VARARGS": lin(-1, 0),
        "CALL_FUNCTION": ("f", 0, ((0, 0xFF, -1), (8, FULL, -2))),
        "CALL_FUNCTION_VAR": ("f", -1, ((0, 0xFF, -1), (8, FULL, -2))),
        "CALL_FUNCTION_KW": ("f", -1, ((0, 0xFF, -1), (8, FULL, -2))),
        "CALL_FUNCTION_VAR_KW": ("f", -2, ((0, 0xFF, -1), (8, FULL, -2))),
        "MAKE_FUNCTION": lin(-1, 0), "MAKE_CLOSURE": lin(-1, -1),
        "BUILD_SLICE": ("eq", 3, -2, -1),
        "LOAD_CLOSURE": 1, "LOAD_DEREF": 1, "STORE_DEREF": -1,
    }
    for prefix in ("BINARY_", "INPLACE_"):
        for op in ("POWER", "MULTIPLY", "DIVIDE", "MODULO", "ADD", "SUBTRACT", "SUBSCR", "FLOOR_DIVIDE", "TRUE_DIVIDE",
                   "LSHIFT", "RSHIFT", "AND", "XOR", "OR"):
            effects[prefix + op] = -1
    del effects["INPLACE_SUBSCR"]
    effects.update(copy.deepcopy(OLD_FLOW_2))
    return effects


def cpython_3x(minor: int, base36: Effects) -> Effects:
    """CPython 3.0-3.5: 3.6's table without what 3.6 added, with the pre-wordcode calls and
    function making, and OLD_FLOW_3 (Python/compile.c of those releases)."""
    effects = copy.deepcopy(base36)
    for name in ("BUILD_CONST_KEY_MAP", "BUILD_STRING", "BUILD_TUPLE_UNPACK_WITH_CALL", "CALL_FUNCTION_EX", "FORMAT_VALUE",
                 "SETUP_ANNOTATIONS", "STORE_ANNOTATION", "CALL_FUNCTION_KW", "CALL_FUNCTION", "MAKE_FUNCTION"):
        effects.pop(name, None)
    effects.update({
        "CALL_FUNCTION": nargs(0),
        "CALL_FUNCTION_VAR": nargs(-1),
        "CALL_FUNCTION_KW": nargs(-1),
        "CALL_FUNCTION_VAR_KW": nargs(-2),
        "STOP_CODE": 0,
        "STORE_MAP": -2,
        "STORE_LOCALS": -1,
        "DUP_TOPX": lin(1, 0),
        "ROT_FOUR": 0,
        "JUMP_IF_FALSE": 0,
        "JUMP_IF_TRUE": 0,
        "WITH_CLEANUP": -1,
    })
    if minor >= 3:  # MAKE_FUNCTION takes the qualified name too
        effects["MAKE_FUNCTION"] = nargs(-1, ((16, 0xFFFF, -1),))
        effects["MAKE_CLOSURE"] = nargs(-2, ((16, 0xFFFF, -1),))
    else:
        effects["MAKE_FUNCTION"] = nargs(0, ((16, 0xFFFF, -1),))
        effects["MAKE_CLOSURE"] = nargs(-1, ((16, 0xFFFF, -1),))
    if minor >= 5:
        effects["BUILD_MAP"] = lin(-2, 1)
        effects["BUILD_MAP_UNPACK_WITH_CALL"] = ("f", 1, ((0, 0xFF, -1),))
    else:
        effects["BUILD_MAP"] = 1
    effects.update(copy.deepcopy(OLD_FLOW_3))
    return effects


def restrict(effects: Effects, version: Tuple[int, int], implementation: str = "cpython") -> Effects:
    """Only the opcodes the version has (its opcode table)."""
    from pycfile import opcode_table
    from pycfile._versions import PythonVersion

    names = set(opcode_table(PythonVersion(version[0], version[1], implementation)).opmap)
    missing = sorted(n for n in names if n not in effects and not n.startswith("<"))
    table = {k: v for k, v in effects.items() if k in names}
    if missing:
        table["__missing__"] = missing
    return table


def build() -> Dict[str, Any]:
    tables = from_interpreters()
    old37 = tables["cpython-3.7"]["effects"]
    old37.update(copy.deepcopy({k: v for k, v in OLD_FLOW_3.items() if isinstance(v, dict)}))
    tables["cpython-3.7"]["source"] += "; jump splits from Python/compile.c stack_effect()"
    old36 = tables["cpython-3.6"]["effects"]
    old36.update(copy.deepcopy(OLD_FLOW_3))
    tables["cpython-3.6"]["source"] += "; flow splits from its ceval.c (see OLD_FLOW_3)"
    base27 = cpython_27()
    for minor in range(3, 8):
        effects = copy.deepcopy(base27)
        if minor < 7:
            effects["LIST_APPEND"] = -2  # no argument yet: pops the list and the value
        tables[f"cpython-2.{minor}"] = {
            "source": "CPython 2.7's Python/compile.c opcode_stack_effect(), and OLD_FLOW_2",
            "effects": restrict(effects, (2, minor)),
        }
    for minor in range(0, 6):
        tables[f"cpython-3.{minor}"] = {
            "source": f"CPython 3.{minor}'s Python/compile.c opcode_stack_effect(), and OLD_FLOW_3",
            "effects": restrict(cpython_3x(minor, old36), (3, minor)),
        }
    for key in ("cpython-3.11", "cpython-3.12"):
        # dis says 0, but a resumed generator finds the value sent in on the stack (the
        # POP_TOP after RETURN_GENERATOR drops it); 3.13's dis says 1
        tables[key]["effects"]["RETURN_GENERATOR"] = 1
        tables[key]["source"] += "; RETURN_GENERATOR 1 as in 3.13"
    # GEN_START pops the None a starting generator finds on the stack, which no
    # instruction pushed: counted as 0 (the 3.10 compiler starts generators at depth 1)
    tables["cpython-3.10"]["effects"]["GEN_START"] = 0
    tables["cpython-3.10"]["source"] += "; GEN_START 0 (its pop matches no push)"
    pypy39 = tables["pypy-3.9"]["effects"]
    pypy310 = copy.deepcopy(pypy39)
    for name, spec in tables["cpython-3.10"]["effects"].items():
        pypy310.setdefault(name, spec)
    # The PyPy 3.10 that wrote the samples in shared/samples/pypy3.10 pushes 3 values for
    # an except handler and 1 for a finally block (PyPy 3.9: 4 and 2): with these, every
    # co_stacksize of those samples comes out (with 3.9's, 22 of 334 are one too big).
    pypy310["SETUP_EXCEPT"] = {"nojump": 0, "jump": 3}
    pypy310["SETUP_FINALLY"] = {"nojump": 0, "jump": 1}
    tables["pypy-3.10"] = {
        "source": "PyPy 3.9's table, with CPython 3.10's for the opcodes PyPy 3.10 added, and its except and"
        " finally handlers as its pycs show them (no PyPy 3.10 here)",
        "effects": restrict(pypy310, (3, 10), "pypy"),
    }
    return dict(sorted(tables.items(), key=lambda kv: (kv[0].split("-")[0], tuple(int(x) for x in kv[0].split("-")[1].split(".")))))


HEADER = '''"""Stack effects of every version's opcodes (generated by scripts/make_stack_effects.py).

``TABLES[key]["effects"][opname]`` is the effect of an opcode on the value stack: an int,
a formula (``("f", base, ((shift, mask, coefficient), ...))`` is base plus each
coefficient times ``(arg >> shift) & mask``; ``("eq", k, a, b)`` is a if arg == k else b),
or ``{"nojump": ..., "jump": ...}`` when a jump and a fall-through differ (both counted
from the depth before the instruction).  ``__missing__`` lists opcodes of the version
with no known effect.  Do not edit by hand.
"""

from typing import Any, Dict

'''


def main() -> None:
    tables = build()
    text = HEADER + "TABLES: Dict[str, Dict[str, Any]] = " + pprint.pformat(tables, width=110, sort_dicts=False) + "\n"
    (ROOT / "pycfile" / "_stack_effect_tables.py").write_text(text)
    for key, table in tables.items():
        print(key, len(table["effects"]), "missing:", table["effects"].get("__missing__", []))


if __name__ == "__main__":
    main()
