"""Stack effects and the stack depth a code object needs, for every version with a table.

The effects are data (:mod:`pycfile._stack_effect_tables`, generated from each
interpreter's own ``dis.stack_effect`` where there is one, from CPython's sources
otherwise).  :func:`max_stack_depth` walks the bytecode the way CPython 3.8+'s compiler
walks its blocks: every instruction reached, each jump followed with the effect of
jumping, no fall-through after an unconditional jump, a return or a raise, and (3.11+)
each exception handler entered at the depth its exception-table entry gives.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Set, Tuple, Union

from ._errors import AssembleError
from ._exceptiontable import ExceptionTableEntry
from ._opcodes import OpcodeTable
from ._opfacts import jump_base, op_facts, raw_instructions
from ._stack_effect_tables import TABLES
from ._versions import PythonVersion

__all__ = ["FULL", "Spec", "covering_entries", "evaluate", "max_stack_depth", "stack_effect"]

FULL = 0xFFFFFFFF

#: An effect: an int, ``("f", base, ((shift, mask, coefficient), ...))`` or
#: ``("eq", k, if_equal, otherwise)``.
Spec = Union[int, Tuple[Any, ...]]

#: Instructions after which the next one is not reached by falling through.
_NO_FALL_THROUGH = frozenset(
    [
        "JUMP_FORWARD",
        "JUMP_ABSOLUTE",
        "JUMP_BACKWARD",
        "JUMP_BACKWARD_NO_INTERRUPT",
        "RETURN_VALUE",
        "RETURN_CONST",
        "RAISE_VARARGS",
        "RERAISE",
        "BREAK_LOOP",
        "CONTINUE_LOOP",
    ]
)
#: Jumps whose target is reached some other way at the right depth: a ``continue``
#: through an enclosing with or finally block jumps with extra values on the stack that
#: the interpreter drops (2.x-3.7, where the block stack does that).
_NO_EDGE = frozenset(["CONTINUE_LOOP"])

# Give up (keep the code's own co_stacksize) when depths keep growing around a loop.
_MAX_RAISES = 64


def evaluate(spec: Spec, arg: int) -> int:
    """The value of an effect formula for an argument."""
    if isinstance(spec, int):
        return spec
    if spec[0] == "f":
        total: int = spec[1]
        for shift, mask, coefficient in spec[2]:
            total += coefficient * ((arg >> shift) & mask)
        return total
    if spec[0] == "eq":
        return int(spec[2] if arg == spec[1] else spec[3])
    raise ValueError(f"unknown effect formula {spec!r}")


def _effects(version: PythonVersion) -> Optional[Dict[str, Any]]:
    table = TABLES.get(f"{version.implementation}-{version.major}.{version.minor}")
    return None if table is None else table["effects"]


def stack_effect(opname: str, arg: Optional[int], version: PythonVersion, *, jump: Optional[bool] = None) -> Optional[int]:
    """The effect of one instruction on the value stack in ``version`` (``jump``: when it
    jumps, when it does not, or the larger of both if None); None if unknown."""
    effects = _effects(version)
    if effects is None:
        return None
    spec = effects.get(opname)
    if spec is None:
        return None
    value = arg or 0
    if isinstance(spec, dict):
        taken = evaluate(spec["jump"], value)
        not_taken = evaluate(spec["nojump"], value)
        return max(taken, not_taken) if jump is None else taken if jump else not_taken
    return evaluate(spec, value)


def covering_entries(entries: List[ExceptionTableEntry], offsets: List[int]) -> List[Optional[int]]:
    """For each offset (ascending), the index of the exception-table entry the interpreter
    looks up for it (the first that covers it), or None."""
    out: List[Optional[int]] = []
    if all(a.end <= b.start for a, b in zip(entries, entries[1:])):  # the compiler's tables: one pass
        k = 0
        for offset in offsets:
            while k < len(entries) and entries[k].end <= offset:
                k += 1
            out.append(k if k < len(entries) and entries[k].start <= offset else None)
        return out
    for offset in offsets:
        out.append(next((i for i, e in enumerate(entries) if e.start <= offset < e.end), None))
    return out


def max_stack_depth(
    data: bytes,
    table: OpcodeTable,
    version: PythonVersion,
    exception_entries: Iterable[ExceptionTableEntry] = (),
) -> Optional[int]:
    """The deepest the value stack gets running ``data`` (a ``co_code``), or None when
    the version has no stack-effect table or the depths do not settle.

    Raises :class:`AssembleError` for an opcode with no known effect.
    """
    effects = _effects(version)
    if effects is None:
        return None
    facts = op_facts(table)
    names = facts.names
    jumps = facts.jump
    raw = list(raw_instructions(data, facts))
    index = {offset: i for i, (offset, *_rest) in enumerate(raw)}
    count = len(raw)
    # per instruction: (fall-through effect, jump effect or None, falls through, target index)
    plan: List[Tuple[int, Optional[int], bool, Optional[int]]] = []
    for offset, op, arg, size, caches, _cut in raw:
        name = names[op]
        spec = effects.get(name)
        if spec is None:
            raise AssembleError(f"no stack effect is known for {name} in {version}", offset=offset, version=str(version))
        value = arg or 0
        if isinstance(spec, dict):
            fall, taken = evaluate(spec["nojump"], value), evaluate(spec["jump"], value)
        else:
            fall = taken = evaluate(spec, value)
        target: Optional[int] = None
        jump: Optional[int] = None
        kind = jumps[op]
        if kind and name not in _NO_EDGE:
            if kind == 1:
                goal = value * facts.jump_unit
            else:
                goal = jump_base(facts, offset, caches) + (-value if kind == 3 else value) * facts.jump_unit
            target = index.get(goal)
            jump = taken if target is not None else None
        plan.append((fall, jump, name not in _NO_FALL_THROUGH, target))
    entries = list(exception_entries)
    # per instruction: (handler's index, depth there) of the entry covering it, if any
    handler_of: List[Optional[Tuple[Optional[int], int]]] = [
        None if k is None else (index.get(entries[k].target), entries[k].depth + 1 + int(entries[k].lasti))
        for k in covering_entries(entries, [r[0] for r in raw])
    ]
    depth: List[int] = [-1] * count
    raises = [0] * count
    best = 0
    work: List[Tuple[int, int]] = [(0, 0)] if count else []
    entered: Set[Tuple[Optional[int], int]] = set()
    while work:
        i, d = work.pop()
        if d <= depth[i]:
            continue
        if depth[i] >= 0:
            raises[i] += 1
            if raises[i] > _MAX_RAISES:
                return None
        depth[i] = d
        best = max(best, d)
        fall, jump, falls, target = plan[i]
        covered = handler_of[i]
        if covered is not None and covered[0] is not None and covered not in entered:
            entered.add(covered)
            work.append((covered[0], covered[1]))
        if jump is not None and target is not None:
            reached = d + jump
            best = max(best, reached)
            work.append((target, reached))
        reached = d + fall
        best = max(best, reached)
        if falls and i + 1 < count:
            work.append((i + 1, reached))
    return best
