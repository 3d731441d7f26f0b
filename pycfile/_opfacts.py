"""Per-opcode facts of an opcode table as lists indexed by opcode, built once per
version, for the loops of the assembler and the stack walk."""

from __future__ import annotations

import threading
from typing import Dict, List, Tuple

import attrs

from ._opcodes import OpcodeTable

__all__ = ["OpFacts", "op_facts"]


@attrs.frozen(slots=True)
class OpFacts:
    """What the assembler asks about each opcode of one version."""

    #: Opcode name to number (real opcodes only, below 256).
    numbers: Dict[str, int]
    #: Names indexed by opcode (``<N>`` where the version has none).
    names: Tuple[str, ...]
    has_arg: Tuple[bool, ...]
    caches: Tuple[int, ...]
    #: 0: not a jump; 1: absolute; 2: relative forward; 3: relative backward.
    jump: Tuple[int, ...]
    #: Where a relative jump counts from, past the instruction's own offset: ``None``
    #: for "the instruction's size" (before 3.11), else 2 plus (3.12+) its caches.
    counts_caches: bool
    before_311: bool
    wordcode: bool
    extended_arg: int
    jump_unit: int


_FACTS: Dict[str, OpFacts] = {}
_LOCK = threading.Lock()


def op_facts(table: OpcodeTable) -> OpFacts:
    """The facts of a table (cached by version)."""
    facts = _FACTS.get(table.version_key)
    if facts is not None:
        return facts
    names = table.opname
    numbers = {name: number for name, number in table.opmap.items() if number < 256}
    jump: List[int] = []
    for op in range(256):
        if op in table.hasjabs:
            jump.append(1)
        elif op in table.hasjrel:
            jump.append(3 if op in table.backward else 2)
        else:
            jump.append(0)
    wordcode = table.wordcode
    facts = OpFacts(
        numbers=numbers,
        names=names,
        has_arg=tuple(table.has_arg(op) for op in range(256)),
        caches=tuple(table.cache_entries(op) if wordcode else 0 for op in range(256)),
        jump=tuple(jump),
        counts_caches=table.version >= (3, 12),
        before_311=table.version < (3, 11),
        wordcode=wordcode,
        extended_arg=table.extended_arg if table.extended_arg is not None else -1,
        jump_unit=table.jump_unit,
    )
    with _LOCK:
        _FACTS[table.version_key] = facts
    return facts


def jump_base(facts: OpFacts, at: int, size: int, caches: int) -> int:
    """The offset a relative jump at ``at`` counts from (as ``dis`` of the version does)."""
    if facts.counts_caches:
        return at + 2 + 2 * caches
    if facts.before_311:
        return at + size
    return at + 2
