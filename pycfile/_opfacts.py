"""Per-opcode facts of an opcode table as lists indexed by opcode, built once per
version, for the loops of the assembler and the stack walk."""

from __future__ import annotations

import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

import attrs

from ._opcodes import OpcodeTable

__all__ = ["OpFacts", "jump_base", "op_facts", "raw_instructions"]


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
    #: A relative jump counts from the end of the instruction's inline caches (3.12+),
    #: not from the end of the instruction.
    counts_caches: bool
    #: An instruction without an argument drops a pending EXTENDED_ARG (3.10+).
    reset: bool
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
    style: Any = getattr(table, "dis", None)  # the opcode table's record of its dis, where it has one
    facts = OpFacts(
        numbers=numbers,
        names=names,
        has_arg=tuple(table.has_arg(op) for op in range(256)),
        caches=tuple(table.cache_entries(op) if wordcode else 0 for op in range(256)),
        jump=tuple(jump),
        counts_caches=bool(getattr(style, "jump_skips_caches", table.version >= (3, 12))),
        reset=bool(getattr(style, "extended_arg_reset", table.version >= (3, 10))),
        wordcode=wordcode,
        extended_arg=table.extended_arg if table.extended_arg is not None else -1,
        jump_unit=table.jump_unit,
    )
    with _LOCK:
        _FACTS[table.version_key] = facts
    return facts


def jump_base(facts: OpFacts, at: int, caches: int) -> int:
    """The offset a relative jump at ``at`` counts from (as ``dis`` of the version does):
    the end of the instruction (2 or 3 bytes), or (3.12+) of its inline caches."""
    base = at + (2 if facts.wordcode else 3)
    return base + 2 * caches if facts.counts_caches else base


#: One instruction of the bytes: offset, opcode, argument (EXTENDED_ARG folded in; None
#: if it takes none), size in bytes (caches included), inline cache units, and whether
#: the bytes end inside it.
Raw = Tuple[int, int, Optional[int], int, int, bool]


def raw_instructions(data: bytes, facts: OpFacts) -> Iterator[Raw]:
    """The instructions of ``co_code`` as the version's ``dis`` splits them."""
    n = len(data)
    has_arg = facts.has_arg
    caches_of = facts.caches
    ext = facts.extended_arg
    reset = facts.reset
    extended = 0
    i = 0
    if facts.wordcode:
        while i < n:
            op = data[i]
            caches = caches_of[op]
            arg: Optional[int] = None
            if has_arg[op]:
                arg = (data[i + 1] if i + 1 < n else 0) | extended
                extended = (arg << 8) & 0xFFFFFFFF if op == ext else 0
            elif reset:
                extended = 0
            size = 2 + 2 * caches
            yield i, op, arg, size, caches, i + size > n
            i += size
        return
    while i < n:
        op = data[i]
        arg = None
        size = 1
        if has_arg[op]:
            size = 3
            arg = ((data[i + 1] if i + 1 < n else 0) | (data[i + 2] << 8 if i + 2 < n else 0)) | extended
            extended = (arg << 16) & 0xFFFFFFFF if op == ext else 0
        yield i, op, arg, size, 0, i + size > n
        i += size
