"""Assembling instructions back into a code object, for any version with an opcode table.

:func:`assemble` is the inverse of :func:`pycfile.get_instructions`: it encodes each
instruction from its ``opname`` and ``arg`` for the version, sizes EXTENDED_ARG prefixes
until the jumps settle, resolves jumps, writes 3.11+ inline caches, and re-encodes the
line table and the exception table for the new offsets.

How instructions are identified.  An instruction keeps the ``offset`` it had in the
original code: a jump's ``jump_target``, a line and an exception-table range all name
original offsets, so they follow their instruction wherever it moves.  The first
instruction in the list with a given original offset *is* that instruction (a later copy
counts as new).  Instructions made by :func:`new_instruction` have negative offsets,
unique in the process: a jump may target one by its offset.  A new instruction takes the
line (3.11+: the whole position) and the exception handler of the instruction before it;
a new instruction at the very start takes those of the one after.

What is kept as it was.  EXTENDED_ARG instructions in the list are kept (their
arguments rewritten to carry the next instruction's argument): they are the minimum
number of prefixes that instruction gets, more being added only if its argument needs
them.  The compiler's line-table entries are kept where the distance between two line
changes did not move (so an unusual split the compiler wrote survives); only entries
around an edit are written anew, as that version's compiler writes them.  So
``assemble(code, get_instructions(code, v), v)`` gives back the very bytes.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import attrs

from ._code import Code
from ._errors import AssembleError
from ._exceptiontable import ExceptionTableEntry, decode_exception_table, encode_exception_table
from ._instructions import Instruction
from ._linetable import (
    LnotabEntry,
    PositionTuple,
    PypyPositionEntry,
    _format_of,
    _signed_lnotab,
    build_linetable,
    build_locations,
    decode_lnotab,
    decode_pypy_positions,
    encode_linetable,
    encode_lnotab,
    encode_locations,
    encode_pypy_positions,
    lines,
    positions,
)
from ._opcodes import OpcodeTable, opcode_table
from ._opfacts import jump_base, op_facts, raw_instructions
from ._stackeffect import covering_entries, max_stack_depth
from ._values import Bytes
from ._versions import CodeLayout, PycFormat, PythonVersion, VersionLike, as_version

__all__ = ["assemble", "new_instruction"]

VersionArg = Union[VersionLike, PycFormat]

_NEW_OFFSETS = itertools.count(-1, -1)
_NEW_LOCK = threading.Lock()


def new_instruction(opname: str, arg: Optional[int] = None, *, jump_target: Optional[int] = None) -> Instruction:
    """A new instruction to put in a list for :func:`assemble`.

    ``opname`` is the name in the target version (``"BINARY_OP"``, ``"LOAD_CONST"``...)
    and ``arg`` its argument (an index into ``co_consts``, ``co_names``...; ``None`` for
    an instruction without one).  A jump takes ``jump_target`` instead: the offset of
    the instruction it goes to (an original offset, or a new instruction's).

    The instruction's ``offset`` is negative and unique in the process, so that jumps
    can name it; its ``opcode`` is ``-1`` (assemble encodes from the name).  It takes
    the line and the exception handler of the instruction before it.
    """
    if not isinstance(opname, str):
        raise TypeError(f"opname must be a str, not {type(opname).__name__}")
    if arg is not None and (not isinstance(arg, int) or isinstance(arg, bool)):
        raise TypeError(f"arg must be an int or None, not {type(arg).__name__}")
    if jump_target is not None and (not isinstance(jump_target, int) or isinstance(jump_target, bool)):
        raise TypeError(f"jump_target must be an int or None, not {type(jump_target).__name__}")
    with _NEW_LOCK:
        offset = next(_NEW_OFFSETS)
    argval: Any = jump_target if jump_target is not None else arg
    return Instruction(offset, -1, opname, arg, argval, "", None, False, False, jump_target, 0, 0, None)


# --------------------------------------------------------------------------------------
# Units: an instruction with the EXTENDED_ARG prefixes that carry its argument


@attrs.define(slots=True)
class _Unit:
    index: int  # position in the list given (for errors)
    ins: Instruction
    opcode: int
    arg: int  # the argument (for a jump: computed below); 0 when it takes none
    has_arg: bool
    caches: int
    jump: int  # 0: not a jump; 1 absolute, 2 relative forward, 3 relative backward
    min_prefixes: int
    aliases: List[int]  # the offsets of the EXTENDED_ARG instructions in front of it
    origin: Optional[int] = None  # the original offset this unit is (None: new)
    prefixes: int = 0
    start: int = 0  # new offset of the unit's first byte (its first prefix)
    at: int = 0  # new offset of the instruction itself
    end: int = 0
    target: Optional["_Unit"] = None
    to_end: bool = False  # a jump to the end of the code


@attrs.frozen(slots=True)
class _Orig:
    """One unit of the original code: where it was."""

    start: int
    at: int
    end: int
    opcode: int
    #: The argument byte of an instruction that takes none (3.6+ bytecode has one,
    #: usually 0), and the inline cache bytes: kept when the instruction is.
    spare: int = 0
    cache: bytes = b""


class _Assembler:
    def __init__(self, code: Code, version: VersionArg) -> None:
        self.code = code
        self.version_arg = version
        fmt_version = version.version if isinstance(version, PycFormat) else as_version(version)
        self.v: PythonVersion = fmt_version
        self.table: OpcodeTable = opcode_table(fmt_version)
        self.facts = op_facts(self.table)
        self.wordcode = self.facts.wordcode
        self.ext = self.facts.extended_arg
        self.names = self.facts.numbers
        raw = getattr(code, "co_code", None)
        self.raw_code = raw.value if isinstance(raw, Bytes) else b""
        self.orig: Dict[int, _Orig] = {}  # real instruction offset -> unit
        self.orig_alias: Dict[int, int] = {}  # EXTENDED_ARG offset -> real instruction offset
        self.orig_units: List[_Orig] = []
        self._read_original()

    def error(self, reason: str, unit: Optional[_Unit] = None, index: Optional[int] = None, ins: Optional[Instruction] = None) -> AssembleError:
        if unit is not None:
            index, ins = unit.index, unit.ins
        where = ""
        if ins is not None:
            where = f"instruction {index} ({ins.opname} at offset {ins.offset}): "
        return AssembleError(where + reason, index=index, offset=None if ins is None else ins.offset, version=str(self.v))

    # -- the original layout -------------------------------------------------------------

    def _read_original(self) -> None:
        pending: List[int] = []
        for offset, op, arg, size, caches, cut in raw_instructions(self.raw_code, self.facts):
            if cut:
                raise AssembleError(
                    f"the original code ends inside the instruction at offset {offset}", offset=offset, version=str(self.v)
                )
            if op == self.ext:
                pending.append(offset)
                continue
            if arg is None:
                self._flush_orig(pending)
                pending = []
            start = pending[0] if pending else offset
            for alias in pending:
                self.orig_alias[alias] = offset
            pending = []
            spare = self.raw_code[offset + 1] if self.wordcode and arg is None and offset + 1 < len(self.raw_code) else 0
            unit = _Orig(start, offset, offset + size, op, spare, self.raw_code[offset + 2 : offset + size] if caches else b"")
            self.orig[offset] = unit
            self.orig_units.append(unit)
        self._flush_orig(pending)

    def _flush_orig(self, pending: List[int]) -> None:
        """EXTENDED_ARG prefixes with no instruction taking an argument after them: the
        last is a unit of its own, carrying the others."""
        if not pending:
            return
        last = pending[-1]
        size = 2 if self.wordcode else 3
        unit = _Orig(pending[0], last, last + size, self.ext)
        for alias in pending[:-1]:
            self.orig_alias[alias] = last
        self.orig[last] = unit
        self.orig_units.append(unit)

    # -- the units of the new list ------------------------------------------------------

    def opcode_of(self, ins: Instruction, index: int) -> int:
        name = ins.opname
        if not isinstance(name, str):
            raise self.error(f"opname must be a str, not {type(name).__name__}", index=index, ins=ins)
        number = self.names.get(name)
        if number is None and name.startswith("<") and name.endswith(">") and name[1:-1].isdigit():
            number = int(name[1:-1])
            if number > 255:
                number = None
        if number is None:
            raise self.error(f"{self.v} has no opcode named {name!r}", index=index, ins=ins)
        return number

    def units(self, instructions: Sequence[Instruction]) -> List[_Unit]:
        out: List[_Unit] = []
        pending: List[Tuple[int, Instruction]] = []
        has_args = self.facts.has_arg
        names = self.names
        ext = self.ext
        for index, ins in enumerate(instructions):
            if type(ins) is not Instruction and not isinstance(ins, Instruction):
                raise TypeError(f"instructions[{index}] is a {type(ins).__name__}, not a pycfile.Instruction")
            if type(ins.offset) is not int:
                raise self.error(f"offset must be an int, not {type(ins.offset).__name__}", index=index, ins=ins)
            op = names.get(ins.opname) if type(ins.opname) is str else None
            if op is None:
                op = self.opcode_of(ins, index)
            if op == ext:
                pending.append((index, ins))
                continue
            has_arg = has_args[op]
            if pending and not has_arg:
                out.append(self._unit(pending[-1][0], pending[-1][1], ext, pending[:-1]))
                pending = []
            out.append(self._unit(index, ins, op, pending))
            pending = []
        if pending:
            out.append(self._unit(pending[-1][0], pending[-1][1], ext, pending[:-1]))
        return out

    def _unit(self, index: int, ins: Instruction, op: int, prefixes: List[Tuple[int, Instruction]]) -> _Unit:
        facts = self.facts
        has_arg = facts.has_arg[op]
        jump = facts.jump[op]
        arg = ins.arg
        if jump:
            if ins.jump_target is None:
                raise self.error("a jump needs jump_target (the offset of the instruction it goes to)", index=index, ins=ins)
            if not isinstance(ins.jump_target, int) or isinstance(ins.jump_target, bool):
                raise self.error(f"jump_target must be an int, not {type(ins.jump_target).__name__}", index=index, ins=ins)
            value = 0
        elif has_arg:
            if type(arg) is not int:
                if arg is None:
                    raise self.error(f"{ins.opname} takes an argument; arg is None", index=index, ins=ins)
                raise self.error(f"arg must be an int, not {type(arg).__name__}", index=index, ins=ins)
            if not 0 <= arg <= 0xFFFFFFFF:
                raise self.error(f"arg {arg} does not fit the 32 bits {self.v} gives an argument", index=index, ins=ins)
            value = arg
        else:
            if arg not in (None, 0):
                raise self.error(f"{ins.opname} takes no argument; arg must be None, not {arg!r}", index=index, ins=ins)
            value = 0
        return _Unit(
            index=index,
            ins=ins,
            opcode=op,
            arg=value,
            has_arg=has_arg,
            caches=facts.caches[op],
            jump=jump,
            min_prefixes=len(prefixes),
            aliases=[p.offset for _, p in prefixes],
        )

    # -- identities and jump targets ----------------------------------------------------

    def claim(self, units: List[_Unit]) -> Dict[int, _Unit]:
        """Offset -> unit: each original offset (and new instruction's) names the first
        unit that has it; EXTENDED_ARG offsets name the unit they prefix."""
        by_offset: Dict[int, _Unit] = {}
        for unit in units:
            offset = unit.ins.offset
            if offset in by_offset:
                continue  # a copy: counts as new
            by_offset[offset] = unit
            if offset in self.orig and offset >= 0:
                unit.origin = offset
        # an original EXTENDED_ARG names the instruction it prefixed in the original,
        # wherever that is now (even if an instruction was put between them)
        for alias, real in self.orig_alias.items():
            if alias not in by_offset and real in by_offset:
                by_offset[alias] = by_offset[real]
        for unit in units:
            for alias in unit.aliases:
                by_offset.setdefault(alias, unit)
        return by_offset

    def resolve_targets(self, units: List[_Unit], by_offset: Dict[int, _Unit]) -> None:
        end = len(self.raw_code)
        for unit in units:
            if not unit.jump:
                continue
            target = unit.ins.jump_target
            assert target is not None
            found = by_offset.get(target)
            if found is None:
                if target == end and target >= 0:
                    unit.to_end = True
                    continue
                raise self.error(f"jump to offset {target}, which no instruction in the list has", unit)
            unit.target = found

    # -- sizes and jump arguments -------------------------------------------------------

    def needed(self, arg: int) -> int:
        if self.wordcode:
            return 0 if arg < 0x100 else 1 if arg < 0x10000 else 2 if arg < 0x1000000 else 3
        return 0 if arg < 0x10000 else 1

    def layout(self, units: List[_Unit]) -> int:
        needed = self.needed
        for unit in units:
            unit.prefixes = max(unit.min_prefixes, needed(unit.arg))
        jumps = [u for u in units if u.jump]
        facts = self.facts
        unit_size = facts.jump_unit
        wordcode = self.wordcode
        while True:
            at = 0
            for unit in units:
                unit.start = at
                if wordcode:
                    unit.at = at + 2 * unit.prefixes
                    at = unit.at + 2 + 2 * unit.caches
                else:
                    unit.at = at + 3 * unit.prefixes
                    at = unit.at + (3 if unit.has_arg else 1)
                unit.end = at
            changed = False
            for unit in jumps:
                goal = at if unit.to_end else unit.target.start if unit.target is not None else 0
                kind = unit.jump
                if kind == 1:
                    distance = goal
                else:
                    distance = goal - jump_base(facts, unit.at, unit.caches)
                    if kind == 3:
                        distance = -distance
                if distance < 0:
                    way = "backward" if kind == 3 else "forward"
                    raise self.error(
                        f"{unit.ins.opname} jumps {way} only, and its target (now at offset {goal}) is not {way}"
                        f" of it (now at offset {unit.at})",
                        unit,
                    )
                if distance % unit_size:
                    raise self.error(f"the jump distance {distance} is not a multiple of {unit_size}", unit)
                arg = distance // unit_size
                if arg > 0xFFFFFFFF:
                    raise self.error(f"the jump argument {arg} does not fit 32 bits", unit)
                unit.arg = arg
                need = needed(arg)
                if need > unit.prefixes:
                    unit.prefixes = need
                    changed = True
            if not changed:
                return at

    def encode(self, units: List[_Unit]) -> bytes:
        out = bytearray()
        ext = self.ext
        if self.wordcode:
            for unit in units:
                arg, p = unit.arg, unit.prefixes
                orig = self.orig[unit.origin] if unit.origin is not None else None
                for j in range(p):
                    out.append(ext)
                    out.append((arg >> (8 * (p - j))) & 0xFF)
                out.append(unit.opcode)
                if not unit.has_arg and orig is not None:
                    arg = orig.spare
                out.append(arg & 0xFF)
                if unit.caches:
                    if orig is not None and orig.opcode == unit.opcode and len(orig.cache) == 2 * unit.caches:
                        out += orig.cache
                    else:
                        out += bytes(2 * unit.caches)
        else:
            for unit in units:
                arg, p = unit.arg, unit.prefixes
                for j in range(p):
                    high = (arg >> (16 * (p - j))) & 0xFFFF
                    out += bytes((ext, high & 0xFF, high >> 8))
                out.append(unit.opcode)
                if unit.has_arg:
                    out.append(arg & 0xFF)
                    out.append((arg >> 8) & 0xFF)
        return bytes(out)

    # -- per-unit facts of the original, for new units ------------------------------------

    def carried(self, units: List[_Unit], fact: Dict[int, Any]) -> List[Any]:
        """``fact`` (keyed by original unit start) for each unit: an original unit's own,
        a new unit the one before it (the first ones: the first after them that has one)."""
        out: List[Any] = []
        missing = object()
        for unit in units:
            value = missing
            if unit.origin is not None:
                value = fact.get(self.orig[unit.origin].start, missing)
            if value is missing:
                value = out[-1] if out else missing
            out.append(value)
        first = next((x for x in out if x is not missing), None)
        return [first if x is missing else x for x in out]

    # -- line tables ---------------------------------------------------------------------

    def lnotab(self, units: List[_Unit], new_length: int) -> Optional[bytes]:
        data = _bytes_field(self.code, "co_lnotab")
        if data is None:
            return None
        return _Lnotab(self, data).rebuild(units, new_length)

    def unit_sequences(self, units: List[_Unit], per_code_unit: List[Any], fill: Any) -> List[List[Any]]:
        """Per-code-unit facts for each new unit: an original unit of the same size keeps
        its own list, any other gets its instruction's value for every code unit."""
        facts: Dict[int, List[Any]] = {}
        mine: Dict[int, Any] = {}
        for orig in self.orig_units:
            facts[orig.start] = per_code_unit[orig.start // 2 : orig.end // 2]
            own = orig.at // 2
            mine[orig.start] = per_code_unit[own] if own < len(per_code_unit) else fill
        carried = self.carried(units, mine)
        out: List[List[Any]] = []
        for unit, value in zip(units, carried):
            count = (unit.end - unit.start) // 2
            if unit.origin is not None:
                orig = self.orig[unit.origin]
                if (orig.end - orig.start) // 2 == count and orig.opcode == unit.opcode:
                    kept = facts[orig.start]
                    if len(kept) == count:
                        out.append(list(kept))
                        continue
            out.append([fill if value is None and fill is not None else value] * count)
        return out

    def linetable_310(self, units: List[_Unit]) -> bytes:
        n = len(self.raw_code) // 2
        per: List[Optional[int]] = [None] * n
        for start, end, line in lines(self.code, self.version_arg):
            for k in range(start // 2, min(end // 2, n)):
                per[k] = line
        seqs = self.unit_sequences(units, per, None)
        ranges: List[Tuple[int, int, Optional[int]]] = []
        at = 0
        for seq in seqs:
            for line in seq:
                ranges.append((at, at + 2, line))
                at += 2
        return encode_linetable(build_linetable(ranges, _firstlineno(self.code)))

    def locations(self, units: List[_Unit]) -> bytes:
        table = positions(self.code, self.version_arg)
        n = len(self.raw_code) // 2
        none: PositionTuple = (None, None, None, None)
        per: List[Any] = list(table[:n]) + [_MISSING] * (n - len(table))
        seqs = self.unit_sequences(units, per, _MISSING)
        extra = table[n:]
        merge = self.v >= (3, 12)
        spans: List[Tuple[int, PositionTuple]] = []
        flat: List[Any] = []
        for seq in seqs:
            if merge:
                flat.extend(seq)
                continue
            run: List[Tuple[int, PositionTuple]] = []
            for item in seq:
                pos = none if item is _MISSING else item
                if run and run[-1][1] == pos:
                    run[-1] = (run[-1][0] + 1, pos)
                else:
                    run.append((1, pos))
            spans.extend(run)
        if merge:
            while flat and flat[-1] is _MISSING:
                flat.pop()
            for item in flat + list(extra):
                pos = none if item is _MISSING else item
                if spans and spans[-1][1] == pos:
                    spans[-1] = (spans[-1][0] + 1, pos)
                else:
                    spans.append((1, pos))
        else:
            # trailing units the original table did not reach stay without an entry
            while spans and seqs and all(x is _MISSING for x in seqs[-1]):
                spans.pop()
                seqs.pop()
            for item in extra:
                spans.append((1, item))
        return encode_locations(build_locations(spans, _firstlineno(self.code)))

    def pypy_positions(self, units: List[_Unit]) -> bytes:
        data = _bytes_field(self.code, "co_lnotab") or b""
        entries = decode_pypy_positions(data)
        n = len(self.raw_code) // 2
        per: List[Any] = list(entries[:n]) + [PypyPositionEntry(None)] * (n - len(entries))
        seqs = self.unit_sequences(units, per, PypyPositionEntry(None))
        out: List[PypyPositionEntry] = [e for seq in seqs for e in seq]
        out.extend(entries[n:])
        return encode_pypy_positions(out)

    # -- the exception table --------------------------------------------------------------

    def exception_table(self, units: List[_Unit], by_offset: Dict[int, _Unit]) -> bytes:
        data = _bytes_field(self.code, "co_exceptiontable") or b""
        entries = decode_exception_table(data)
        starts = [orig.start for orig in self.orig_units]
        which: Dict[int, Optional[int]] = dict(zip(starts, covering_entries(entries, starts)))
        carried = self.carried(units, which)
        out: List[ExceptionTableEntry] = []
        run_start = 0
        current: Optional[int] = None
        last_end = 0
        for unit, entry in zip(units, carried):
            if entry != current:
                if current is not None:
                    out.append(self._entry(entries[current], run_start, last_end, by_offset))
                current = entry
                run_start = unit.start
            last_end = unit.end
        if current is not None:
            out.append(self._entry(entries[current], run_start, last_end, by_offset))
        return encode_exception_table(out)

    def _entry(self, e: ExceptionTableEntry, start: int, end: int, by_offset: Dict[int, _Unit]) -> ExceptionTableEntry:
        handler = by_offset.get(e.target)
        if handler is None:
            raise AssembleError(
                f"the exception handler at offset {e.target} is not in the list (keep the instruction there)",
                offset=e.target,
                version=str(self.v),
            )
        return ExceptionTableEntry(start, end, handler.start, e.depth, e.lasti)


_MISSING: Any = object()


def _bytes_field(code: Code, name: str) -> Optional[bytes]:
    value = getattr(code, name, None)
    if value is None:
        return None
    if not isinstance(value, Bytes):
        raise AssembleError(f"{name} is a {type(value).__name__}, not bytes")
    return value.value


def _firstlineno(code: Code) -> int:
    value = getattr(code, "co_firstlineno", 0)
    return value if isinstance(value, int) else 0


# --------------------------------------------------------------------------------------
# co_lnotab: line changes keyed by the instruction they happen at


@attrs.define(slots=True)
class _Event:
    addr: int  # where the line applies from (after the event's pairs)
    line: int
    daddr: int
    dline: int
    pairs: List[Tuple[int, int]]


class _Lnotab:
    """A co_lnotab as events: each a run of pairs the compiler wrote for one line change
    at one instruction (long steps split into several pairs)."""

    def __init__(self, asm: _Assembler, data: bytes) -> None:
        self.asm = asm
        self.version = asm.version_arg
        self.signed = _signed_lnotab(asm.version_arg)
        self.cpython = asm.v.implementation == "cpython"
        self.first = _firstlineno(asm.code)
        pairs = [(e.offset_delta, e.line_delta) for e in decode_lnotab(data, asm.version_arg)]
        starts = {u.start for u in asm.orig_units}
        code_len = len(asm.raw_code)
        split_steps = (127, -128) if self.signed else (255,)
        self.events: List[_Event] = []
        group: List[Tuple[int, int]] = []
        addr, line = 0, self.first
        g_addr, g_line = addr, line
        for i, (b, d) in enumerate(pairs):
            group.append((b, d))
            addr += b
            line += d
            if i + 1 < len(pairs):
                following = pairs[i + 1]
                if following[0] == 0 and d in split_steps:
                    continue  # a line step too long for one pair, split over several
                if addr < code_len and addr not in starts:
                    continue  # a long offset step split over pairs
                if line == g_line and group[-1] == (255, 0):
                    continue
            self.events.append(_Event(addr, line, addr - g_addr, line - g_line, group))
            group = []
            g_addr, g_line = addr, line
        self.code_len = code_len

    def rebuild(self, units: List[_Unit], new_length: int) -> bytes:
        at_start: Dict[int, List[_Event]] = {}
        tail: List[_Event] = []
        for event in self.events:
            if event.addr >= self.code_len and event.addr not in at_start:
                tail.append(event)
            else:
                at_start.setdefault(event.addr, []).append(event)
        # the line in effect at each original unit start
        in_effect: Dict[int, int] = {}
        line = self.first
        events = iter(self.events)
        upcoming = next(events, None)
        for orig in self.asm.orig_units:
            while upcoming is not None and upcoming.addr <= orig.start:
                line = upcoming.line
                upcoming = next(events, None)
            in_effect[orig.start] = line
        out: List[Tuple[int, int]] = []
        state = [0, self.first]  # address and line of the last event written
        all_new_so_far = True

        def write(addr: int, line: int, event: Optional[_Event], unit: Optional[_Unit]) -> None:
            daddr, dline = addr - state[0], line - state[1]
            if event is not None and (daddr, dline) == (event.daddr, event.dline):
                out.extend(event.pairs)
            else:
                out.extend(self.split(daddr, dline, unit))
            state[0], state[1] = addr, line

        for unit in units:
            if unit.origin is None:
                continue
            orig = self.asm.orig[unit.origin]
            addr = 0 if orig.start == 0 and all_new_so_far else unit.start
            all_new_so_far = False
            for event in at_start.get(orig.start, ()):
                write(addr, event.line, event, unit)
            want = in_effect[orig.start]
            if want != state[1]:
                write(addr, want, None, unit)
        for event in tail:
            write(new_length + event.addr - self.code_len, event.line, event, None)
        return encode_lnotab([LnotabEntry(b, d) for b, d in out], self.version)

    def split(self, daddr: int, dline: int, unit: Optional[_Unit]) -> List[Tuple[int, int]]:
        """The pairs that version's compiler writes for one line change."""
        if daddr < 0:  # only reachable through a tail event after a shrink
            raise self.asm.error("the line table cannot go back in the bytecode", unit)
        out: List[Tuple[int, int]] = []
        while daddr > 255:
            out.append((255, 0))
            daddr -= 255
        if self.signed:
            if dline > 127 or dline < -128:
                step, count = (127, dline // 127) if dline > 0 else (-128, (-dline) // 128)
                out.append((daddr, step))
                out.extend([(0, step)] * (count - 1))
                dline -= count * step
                daddr = 0
        else:
            if dline < 0:
                raise self.asm.error(
                    f"{self.asm.v}'s co_lnotab cannot step back a line ({dline}): the instructions' lines must not decrease",
                    unit,
                )
            if dline > 255:
                count = dline // 255
                out.append((daddr, 255))
                out.extend([(0, 255)] * (count - 1))
                dline -= count * 255
                daddr = 0
        out.append((daddr, dline))
        return out


# --------------------------------------------------------------------------------------


def _replace_bytes(code: Code, name: str, data: bytes) -> Optional[Bytes]:
    """A new Bytes for a field, or None when the bytes did not change (the original
    object is kept, so references to it stay as they were)."""
    old = getattr(code, name)
    if isinstance(old, Bytes) and old.value == data:
        return None
    if isinstance(old, Bytes):
        return Bytes(data, old.code, old.flag_ref)
    return Bytes(data)


def assemble(code: Code, instructions: Sequence[Instruction], version: VersionArg) -> Code:
    """A new code object whose bytecode holds ``instructions`` (``code`` is left as it
    was; its constants, names and variables are shared with the result).

    ``instructions`` is a list like the one :func:`pycfile.get_instructions` gives for
    ``code`` and ``version`` (a ``(major, minor)`` tuple, a :class:`PythonVersion` or the
    pyc's :class:`PycFormat`), changed as you like: each is encoded from its ``opname``
    and ``arg`` (``opcode``, ``argval`` and ``argrepr`` are not read); a jump from its
    ``jump_target`` (its ``arg`` is computed).  See the module documentation for how
    lines, exception handlers and jump targets follow their instructions.

    The line table and (3.11+) the exception table are re-encoded for the new offsets,
    and ``co_stacksize`` becomes the larger of the depth the new bytecode needs (from
    the version's stack effects) and the code's own.  Raises :class:`AssembleError`
    naming the instruction at fault.
    """
    if not isinstance(code, Code):
        raise TypeError(f"expected a pycfile code object, not {type(code).__name__}")
    if isinstance(instructions, (str, bytes)):
        raise TypeError("instructions must be a sequence of pycfile.Instruction")
    asm = _Assembler(code, version)
    kind = _format_of(code, asm.version_arg)
    if code.layout == CodeLayout.V3_11A:
        raise AssembleError("3.11 alpha code objects (separate end-line and column tables) cannot be assembled", version=str(asm.v))
    units = asm.units(list(instructions))
    by_offset = asm.claim(units)
    asm.resolve_targets(units, by_offset)
    length = asm.layout(units)
    data = asm.encode(units)
    changes: Dict[str, Any] = {}
    new = _replace_bytes(code, "co_code", data)
    if new is not None:
        changes["co_code"] = new
    table_field = "co_linetable" if kind in ("linetable", "locations") else "co_lnotab"
    table: Optional[bytes] = None
    if kind == "lnotab":
        table = asm.lnotab(units, length)
    elif kind == "linetable":
        table = asm.linetable_310(units)
    elif kind == "locations":
        table = asm.locations(units)
    elif kind == "pypy":
        table = asm.pypy_positions(units)
    if table is not None:
        new = _replace_bytes(code, table_field, table)
        if new is not None:
            changes[table_field] = new
    if code.layout == CodeLayout.V3_11:
        new = _replace_bytes(code, "co_exceptiontable", asm.exception_table(units, by_offset))
        if new is not None:
            changes["co_exceptiontable"] = new
    if hasattr(code, "co_stacksize"):
        depth = max_stack_depth(data, asm.table, asm.v, exception_entries=_new_entries(code, changes))
        stacksize = getattr(code, "co_stacksize")
        if depth is not None and depth > stacksize:
            changes["co_stacksize"] = depth
    return attrs.evolve(code, **changes)  # type: ignore[misc]


def _new_entries(code: Code, changes: Dict[str, Any]) -> List[ExceptionTableEntry]:
    if code.layout != CodeLayout.V3_11:
        return []
    value = changes.get("co_exceptiontable", getattr(code, "co_exceptiontable", None))
    return decode_exception_table(value.value) if isinstance(value, Bytes) else []
