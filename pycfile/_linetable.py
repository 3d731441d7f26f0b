"""Line-number tables: decode and encode them, and answer the questions ``dis`` asks.

Three formats (FACTS.md section 4.3):

* ``co_lnotab`` (1.5-3.9, and PyPy 3): pairs of (offset increment, line increment)
  bytes; the line increment is unsigned before 3.6 and a signed byte from 3.6 on.
  1.0-1.4 code objects have no line table at all.
* the 3.10 ``co_linetable`` (PEP 626): pairs of (byte count, signed line increment),
  where a line increment of -128 means "no line".
* the 3.11+ location table (PEP 657): entries of one to eight code units carrying a
  line, an end line, a column and an end column, in sixteen kinds.
* PyPy 3.10+'s position table, marshalled where CPython 3.8-3.10 keep ``co_lnotab``: one
  entry per code unit.

Each format has a ``decode_*`` function that turns the bytes into a list of entries that
keep everything the bytes say (so ``encode_*(decode_*(b)) == b`` for every table CPython
writes), and an ``encode_*`` function that does the reverse.  :func:`build_linetable`,
:func:`build_locations` and :func:`encode_positions` make tables from line ranges and
positions the way CPython's compiler does.

On top of those, :func:`line_starts`, :func:`lines` and :func:`positions` give what
``dis.findlinestarts``, ``code.co_lines()`` and ``code.co_positions()`` of the code
object's own Python version give, on any host.  What changed from one version to the
next is data: :data:`_RULE_HISTORY` (read through :func:`_rules`).  Bad tables raise
:class:`BadTableError` naming the offset inside the table.

Varints (location, exception and PyPy position tables) are read in linear time and
must fit in 32 bits (:data:`VARINT_BITS`): the interpreters read them into a 32-bit C
``int``, so a longer one is refused rather than turned into a huge number.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import attrs

from ._errors import BadTableError, UnwritableError
from ._values import Bytes
from ._versions import CodeLayout, PycFormat, PythonVersion, as_version

if TYPE_CHECKING:
    from ._values import CodeBase as Code

__all__ = [
    "BadTableError",
    "LinetableEntry",
    "LnotabEntry",
    "LocationEntry",
    "PypyPositionEntry",
    "PositionTuple",
    "VersionOrFormat",
    "build_linetable",
    "build_locations",
    "decode_linetable",
    "decode_lnotab",
    "decode_locations",
    "decode_pypy_positions",
    "encode_linetable",
    "encode_lnotab",
    "encode_locations",
    "encode_positions",
    "encode_pypy_positions",
    "line_starts",
    "lines",
    "positions",
]

#: What the table functions accept as a version: a :class:`PythonVersion`, a
#: ``(major, minor)`` tuple or a :class:`PycFormat` (whose magic number decides the
#: 3.6 development versions' line-increment sign).
VersionOrFormat = Union[PythonVersion, Tuple[int, int], PycFormat]

#: ``(line, end_line, column, end_column)`` as ``co_positions()`` gives it.
PositionTuple = Tuple[Optional[int], Optional[int], Optional[int], Optional[int]]

#: The most bits a table varint may hold (CPython reads them into a C ``int``).
VARINT_BITS = 32
_VARINT_LIMIT = 1 << VARINT_BITS


@attrs.frozen(slots=True)
class _Rules:
    """How one version reads its line table: each field is one change, version by version
    (:data:`_RULE_HISTORY`)."""

    #: co_lnotab's line increments are signed bytes (3.6+) ...
    signed_lnotab: bool
    #: ... from this development magic on, for a :class:`PycFormat` of the first signed
    #: version (3.6: 3361, FACTS.md 4.3); ``None``: for every magic.
    signed_lnotab_since_magic: Optional[int]
    #: ``dis.findlinestarts`` over co_lnotab stops at the end of the bytecode (3.8+).
    starts_stop_at_code_end: bool
    #: ``dis.findlinestarts`` walks ``co_lines()`` (3.10+) rather than co_lnotab.
    starts_from_lines: bool
    #: ``co_lines()`` merges consecutive entries of one line (3.12+).
    lines_merged: bool
    #: ``dis.findlinestarts`` yields ranges with no line too, as ``None`` (3.13+).
    starts_with_no_line: bool
    #: Every code unit is an instruction start (wordcode, 3.6+).
    wordcode: bool
    #: co_lnotab holds PyPy's position table (PyPy 3.10+).
    pypy_positions: bool


# (first version, what changed): CPython's history, then PyPy's own changes on top.
_RULE_HISTORY: List[Tuple[Tuple[int, int], Dict[str, Any]]] = [
    ((1, 0), dict(signed_lnotab=False, signed_lnotab_since_magic=None, starts_stop_at_code_end=False,
                  starts_from_lines=False, lines_merged=False, starts_with_no_line=False, wordcode=False,
                  pypy_positions=False)),
    ((3, 6), dict(signed_lnotab=True, signed_lnotab_since_magic=3361, wordcode=True)),
    ((3, 7), dict(signed_lnotab_since_magic=None)),
    ((3, 8), dict(starts_stop_at_code_end=True)),
    ((3, 10), dict(starts_from_lines=True)),
    ((3, 12), dict(lines_merged=True)),
    ((3, 13), dict(starts_with_no_line=True)),
]
_PYPY_HISTORY: List[Tuple[Tuple[int, int], Dict[str, Any]]] = [
    ((0, 0), dict(signed_lnotab_since_magic=None)),
    ((3, 10), dict(pypy_positions=True)),
]


@functools.lru_cache(maxsize=None)
def _rules_for(implementation: str, major: int, minor: int) -> _Rules:
    fields: Dict[str, Any] = {}
    history = _RULE_HISTORY + (_PYPY_HISTORY if implementation == "pypy" else [])
    for since, changes in history:
        if since <= (major, minor):
            fields.update(changes)
    return _Rules(**fields)


def _rules(version: VersionOrFormat) -> _Rules:
    v = _version(version)
    return _rules_for(v.implementation, v.major, v.minor)


def _version(version: VersionOrFormat) -> PythonVersion:
    if isinstance(version, PycFormat):
        return version.version
    return as_version(version)


def _signed_lnotab(version: VersionOrFormat) -> bool:
    """Whether line increments in co_lnotab are signed bytes (3.6 on, magic 3361 on)."""
    rules = _rules(version)
    since = rules.signed_lnotab_since_magic
    if isinstance(version, PycFormat) and since is not None:
        return rules.signed_lnotab and version.magic_number >= since
    return rules.signed_lnotab


# --------------------------------------------------------------------------------------
# co_lnotab (1.5-3.9)


@attrs.define
class LnotabEntry:
    """One ``co_lnotab`` pair: the offset advances by ``offset_delta`` bytes (0-255),
    then the line by ``line_delta`` (0-255 before 3.6, -128-127 from 3.6 on)."""

    offset_delta: int
    line_delta: int


def decode_lnotab(data: bytes, version: VersionOrFormat) -> List[LnotabEntry]:
    """The pairs of a ``co_lnotab`` table of ``version``."""
    if len(data) % 2:
        raise BadTableError(
            f"co_lnotab has an odd length ({len(data)}): its last byte has no pair",
            offset=len(data) - 1,
            path="co_lnotab",
        )
    signed = _signed_lnotab(version)
    entries = []
    for i in range(0, len(data), 2):
        line = data[i + 1]
        if signed and line >= 0x80:
            line -= 0x100
        entries.append(LnotabEntry(data[i], line))
    return entries


def encode_lnotab(entries: Iterable[LnotabEntry], version: VersionOrFormat) -> bytes:
    """The ``co_lnotab`` bytes of ``entries`` for ``version``."""
    low, high = (-128, 127) if _signed_lnotab(version) else (0, 255)
    out = bytearray()
    for i, entry in enumerate(entries):
        if not 0 <= entry.offset_delta <= 255:
            raise UnwritableError(f"co_lnotab entry {i}: offset_delta {entry.offset_delta} is not in 0..255")
        if not low <= entry.line_delta <= high:
            raise UnwritableError(f"co_lnotab entry {i}: line_delta {entry.line_delta} is not in {low}..{high}")
        out += bytes((entry.offset_delta, entry.line_delta & 0xFF))
    return bytes(out)


# --------------------------------------------------------------------------------------
# co_linetable of 3.10 (PEP 626)


@attrs.define
class LinetableEntry:
    """One 3.10 ``co_linetable`` pair: the next ``offset_delta`` bytes (0-255) of code
    belong to the line advanced by ``line_delta`` (-127-127), or to no line when
    ``line_delta`` is ``None`` (the byte -128)."""

    offset_delta: int
    line_delta: Optional[int]


def decode_linetable(data: bytes) -> List[LinetableEntry]:
    """The pairs of a 3.10 ``co_linetable``."""
    if len(data) % 2:
        raise BadTableError(
            f"co_linetable has an odd length ({len(data)}): its last byte has no pair",
            offset=len(data) - 1,
            path="co_linetable",
        )
    entries = []
    for i in range(0, len(data), 2):
        line = data[i + 1]
        entries.append(LinetableEntry(data[i], None if line == 0x80 else line - 0x100 if line > 0x80 else line))
    return entries


def encode_linetable(entries: Iterable[LinetableEntry]) -> bytes:
    """The 3.10 ``co_linetable`` bytes of ``entries``."""
    out = bytearray()
    for i, entry in enumerate(entries):
        if not 0 <= entry.offset_delta <= 255:
            raise UnwritableError(f"co_linetable entry {i}: offset_delta {entry.offset_delta} is not in 0..255")
        if entry.line_delta is None:
            line = 0x80
        elif -127 <= entry.line_delta <= 127:
            line = entry.line_delta & 0xFF
        else:
            raise UnwritableError(f"co_linetable entry {i}: line_delta {entry.line_delta} is not in -127..127")
        out += bytes((entry.offset_delta, line))
    return bytes(out)


def build_linetable(ranges: Iterable[Tuple[int, int, Optional[int]]], firstlineno: int) -> List[LinetableEntry]:
    """3.10 ``co_linetable`` entries for ``(start, end, line)`` byte ranges (what
    :func:`lines` gives; ``line`` ``None`` for code without a line).

    Ranges must follow each other from offset 0.  Adjacent ranges of one line are
    joined, then each is written as CPython 3.10's compiler writes it: line steps over
    127 first as ``(0, +-127)`` entries, byte counts over 254 as ``(254, step)`` then
    ``(254, 0)``... (``None`` stays ``None``).  For code compiled by CPython 3.10 this
    gives back the very bytes of ``co_linetable`` (checked on its compiled stdlib).
    """
    merged: List[List[Any]] = []
    at = 0
    for start, end, line in ranges:
        if start != at or end < start:
            raise UnwritableError(f"range ({start}, {end}, {line}) does not follow the previous one, which ends at {at}")
        at = end
        if merged and merged[-1][2] == line:
            merged[-1][1] = end
        else:
            merged.append([start, end, line])
    entries: List[LinetableEntry] = []
    previous = firstlineno
    for start, end, line in merged:
        size = end - start
        if size == 0:
            continue
        step: Optional[int] = None
        if line is not None:
            step = line - previous
            previous = line
            while step > 127:
                entries.append(LinetableEntry(0, 127))
                step -= 127
            while step < -127:
                entries.append(LinetableEntry(0, -127))
                step += 127
        while size > 254:
            entries.append(LinetableEntry(254, step))
            step = None if line is None else 0
            size -= 254
        entries.append(LinetableEntry(size, step))
    return entries


# --------------------------------------------------------------------------------------
# The 3.11+ location table (PEP 657)

KIND_SHORT_MAX = 9  # kinds 0-9: short form
KIND_ONE_LINE0, KIND_ONE_LINE1, KIND_ONE_LINE2 = 10, 11, 12
KIND_NO_COLUMNS = 13
KIND_LONG = 14
KIND_NONE = 15


@attrs.define
class LocationEntry:
    """One entry of a 3.11+ location table, as stored.

    ``kind`` is the entry's 4-bit code (0-9 short form, 10-12 one-line form, 13 no
    columns, 14 long form, 15 no location) and ``length`` the number of code units it
    covers (1-8, CACHE units included).  ``line_delta`` is added to the running line
    (the start line of the previous entry that had one; first ``co_firstlineno``);
    ``end_line_delta`` is the end line minus the line (only the long form stores it).
    ``column`` and ``end_column`` are 0-based, ``None`` where the entry has none.

    What each kind can hold: short forms (kind k): deltas 0, ``8k <= column < 8k+8`` and
    ``0 <= end_column - column < 16``; one-line forms: ``line_delta == kind - 10``,
    end-line delta 0, both columns 0-127; no columns: end-line delta 0, no columns;
    long: any line delta, end-line delta >= 0, columns >= 0 or ``None``; none: deltas
    0, no columns.
    """

    kind: int
    length: int
    line_delta: int = 0
    end_line_delta: int = 0
    column: Optional[int] = None
    end_column: Optional[int] = None


def _bad(reason: str, offset: int, path: str) -> BadTableError:
    return BadTableError(reason, offset=offset, path=path)


# One scanned entry: (kind, length, line_delta, end_line_delta, column, end_column),
# a missing column being -1.
_Raw = Tuple[int, int, int, int, int, int]


def _varint(data: bytes, pos: int) -> Tuple[int, int]:
    """A location-table varint at ``pos`` (6-bit groups, least significant first), of at
    most :data:`VARINT_BITS` bits."""
    start = pos
    b = data[pos]
    if b & 0x80:
        raise _bad(f"byte 0x{b:02x} inside an entry has the entry-start bit set", pos, "co_linetable")
    value = b & 63
    shift = 0
    while b & 64:
        pos += 1
        b = data[pos]
        if b & 0x80:
            raise _bad(f"byte 0x{b:02x} inside an entry has the entry-start bit set", pos, "co_linetable")
        shift += 6
        if b & 63:
            if shift >= VARINT_BITS:
                raise _bad(f"the varint at offset {start} does not fit in {VARINT_BITS} bits", start, "co_linetable")
            value |= (b & 63) << shift
    if value >= _VARINT_LIMIT:
        raise _bad(f"the varint at offset {start} does not fit in {VARINT_BITS} bits", start, "co_linetable")
    return value, pos + 1


def _scan_locations(data: bytes) -> List[_Raw]:
    """The entries of a location table as tuples (the fast path under every reader)."""
    out: List[_Raw] = []
    append = out.append
    pos = 0
    end = len(data)
    entry = 0
    try:
        while pos < end:
            entry = pos
            first = data[pos]
            if first < 0x80:
                raise _bad(f"entry starts with byte 0x{first:02x}, without the entry-start bit", pos, "co_linetable")
            kind = (first >> 3) & 15
            length = (first & 7) + 1
            if kind < 10:
                b = data[pos + 1]
                if b & 0x80:
                    raise _bad(f"byte 0x{b:02x} inside an entry has the entry-start bit set", pos + 1, "co_linetable")
                column = kind * 8 + (b >> 4)
                append((kind, length, 0, 0, column, column + (b & 15)))
                pos += 2
            elif kind == 15:
                append((15, length, 0, 0, -1, -1))
                pos += 1
            elif kind < 13:
                column, end_column = data[pos + 1], data[pos + 2]
                if (column | end_column) & 0x80:
                    at = pos + 1 if column & 0x80 else pos + 2
                    raise _bad(f"byte 0x{data[at]:02x} inside an entry has the entry-start bit set", at, "co_linetable")
                append((kind, length, kind - 10, 0, column, end_column))
                pos += 3
            else:
                u, pos = _varint(data, pos + 1)
                line_delta = -(u >> 1) if u & 1 else u >> 1
                if kind == 13:
                    append((13, length, line_delta, 0, -1, -1))
                else:
                    end_line_delta, pos = _varint(data, pos)
                    column, pos = _varint(data, pos)
                    end_column, pos = _varint(data, pos)
                    append((14, length, line_delta, end_line_delta, column - 1, end_column - 1))
    except IndexError:
        raise _bad(f"location table ends inside the entry that starts at offset {entry}", end, "co_linetable") from None
    return out


def decode_locations(data: bytes) -> List[LocationEntry]:
    """The entries of a 3.11+ location table (``co_linetable``)."""
    return [
        LocationEntry(kind, length, line, end_line, None if col < 0 else col, None if end_col < 0 else end_col)
        for kind, length, line, end_line, col, end_col in _scan_locations(data)
    ]


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 64:
        out.append(64 | (value & 63))
        value >>= 6
    out.append(value)


def _put_svarint(out: bytearray, value: int) -> None:
    _put_varint(out, (-value << 1) | 1 if value < 0 else value << 1)


def _refuse(i: int, e: LocationEntry, why: str) -> UnwritableError:
    return UnwritableError(f"location entry {i} ({e}): {why}")


def encode_locations(entries: Iterable[LocationEntry]) -> bytes:
    """The 3.11+ location table bytes of ``entries``."""
    out = bytearray()
    append = out.append
    for i, e in enumerate(entries):
        kind, length, column, end_column = e.kind, e.length, e.column, e.end_column
        if not 0 <= kind <= 15:
            raise _refuse(i, e, "kind must be 0..15")
        if not 1 <= length <= 8:
            raise _refuse(i, e, "length must be 1..8 code units")
        if kind != KIND_LONG and e.end_line_delta != 0:
            raise _refuse(i, e, "only the long form (14) stores an end line")
        append(0x80 | (kind << 3) | (length - 1))
        if kind <= KIND_ONE_LINE2:
            if column is None or end_column is None:
                raise _refuse(i, e, "this kind stores both columns")
            if kind <= KIND_SHORT_MAX:
                width = end_column - column
                if e.line_delta != 0 or not kind * 8 <= column < kind * 8 + 8 or not 0 <= width < 16:
                    raise _refuse(i, e, f"the short form {kind} holds line_delta 0, column {kind * 8}..{kind * 8 + 7}, width 0..15")
                append(((column - kind * 8) << 4) | width)
            else:
                if e.line_delta != kind - KIND_ONE_LINE0 or not 0 <= column < 128 or not 0 <= end_column < 128:
                    raise _refuse(i, e, f"the one-line form {kind} holds line_delta {kind - KIND_ONE_LINE0} and columns 0..127")
                append(column)
                append(end_column)
        elif kind == KIND_NO_COLUMNS:
            if column is not None or end_column is not None:
                raise _refuse(i, e, "the no-columns form (13) holds no columns")
            _put_svarint(out, e.line_delta)
        elif kind == KIND_LONG:
            if e.end_line_delta < 0 or (column is not None and column < 0) or (end_column is not None and end_column < 0):
                raise _refuse(i, e, "the long form (14) holds an end-line delta >= 0 and columns >= 0 or None")
            _put_svarint(out, e.line_delta)
            _put_varint(out, e.end_line_delta)
            _put_varint(out, 0 if column is None else column + 1)
            _put_varint(out, 0 if end_column is None else end_column + 1)
        elif e.line_delta != 0 or column is not None or end_column is not None:
            raise _refuse(i, e, "the no-location form (15) holds nothing")
    return bytes(out)


def build_locations(spans: Iterable[Tuple[int, PositionTuple]], firstlineno: int) -> List[LocationEntry]:
    """Location entries for ``(length, (line, end_line, column, end_column))`` spans.

    ``length`` counts code units (CACHE units included).  Each span gets the entry kind
    CPython's compiler (3.11-3.14) picks for it: no location (kind 15) when ``line`` is
    ``None``; line only (13) without columns on one line; the short form (0-9) on the
    previous entry's line with ``column < 80`` and a width of 0-15; a one-line form
    (10-12) for a step of 0-2 lines with columns under 128; else the long form (14).
    Spans longer than 8 units are split, as the compiler splits them.  An ``end_line``
    of ``None`` counts as ``line``.
    """
    entries: List[LocationEntry] = []
    previous = firstlineno
    for length, (line, end_line, column, end_column) in spans:
        if length < 0:
            raise UnwritableError(f"a span of {length} code units")
        while length > 0:
            size = min(length, 8)
            length -= size
            if line is None:
                entries.append(LocationEntry(KIND_NONE, size))
                continue
            last = line if end_line is None else end_line
            delta = line - previous
            if column is None or end_column is None:
                if last == line:
                    entries.append(LocationEntry(KIND_NO_COLUMNS, size, delta))
                    previous = line
                    continue
            elif last == line:
                if delta == 0 and column < 80 and 0 <= end_column - column < 16:
                    entries.append(LocationEntry(column // 8, size, 0, 0, column, end_column))
                    continue
                if 0 <= delta < 3 and column < 128 and end_column < 128:
                    entries.append(LocationEntry(KIND_ONE_LINE0 + delta, size, delta, 0, column, end_column))
                    previous = line
                    continue
            entries.append(LocationEntry(KIND_LONG, size, delta, last - line, column, end_column))
            previous = line
    return entries


def encode_positions(positions: Iterable[PositionTuple], firstlineno: int) -> bytes:
    """A 3.11+ location table for one position per code unit (what :func:`positions`
    gives): runs of equal positions become spans for :func:`build_locations`.

    For code compiled by CPython 3.12 and 3.13 this gives back the very bytes of
    ``co_linetable`` (checked on their whole compiled stdlib); 3.11 wrote one entry per
    instruction, so there the bytes may differ while the positions are the same.
    """
    spans: List[Tuple[int, PositionTuple]] = []
    for position in positions:
        if spans and spans[-1][1] == position:
            spans[-1] = (spans[-1][0] + 1, position)
        else:
            spans.append((1, position))
    return encode_locations(build_locations(spans, firstlineno))


# --------------------------------------------------------------------------------------
# PyPy 3.10+ position table (marshalled where CPython 3.8-3.10 keep co_lnotab)


@attrs.define
class PypyPositionEntry:
    """One instruction's entry in the position table PyPy 3.10+ writes in place of
    ``co_lnotab`` (one entry per 2-byte code unit).

    ``line_delta`` is the line minus ``co_firstlineno`` (not a running sum), ``None``
    when the instruction has no position.  ``column`` (0-254), ``end_column`` (0-254,
    ``None`` when stored as unknown) and ``end_line_delta`` (0-255) are all ``None``
    when the entry stores the line only.  Read from PyPy's own encoder
    (``encode_positions``: LEB128 line + 1, then a 0 byte or column + 1, end column + 1
    and the end-line delta); no PyPy 3.10 interpreter is here to confirm how its
    ``co_lines()`` reads it.
    """

    line_delta: Optional[int]
    column: Optional[int] = None
    end_column: Optional[int] = None
    end_line_delta: Optional[int] = None


def decode_pypy_positions(data: bytes) -> List[PypyPositionEntry]:
    """The entries of a PyPy 3.10+ position table."""
    path = "co_lnotab"
    entries: List[PypyPositionEntry] = []
    pos = 0
    end = len(data)
    while pos < end:
        entry = pos
        value = 0
        shift = 0
        while True:
            if pos >= end:
                raise _bad(f"position table ends inside the entry that starts at offset {entry}", pos, path)
            b = data[pos]
            pos += 1
            if b & 127:
                if shift >= VARINT_BITS:
                    raise _bad(f"the varint at offset {entry} does not fit in {VARINT_BITS} bits", entry, path)
                value |= (b & 127) << shift
            shift += 7
            if not b & 128:
                break
        if value >= _VARINT_LIMIT:
            raise _bad(f"the varint at offset {entry} does not fit in {VARINT_BITS} bits", entry, path)
        if value == 0:
            entries.append(PypyPositionEntry(None))
            continue
        if pos >= end:
            raise _bad(f"position table ends inside the entry that starts at offset {entry}", pos, path)
        if data[pos] == 0:
            entries.append(PypyPositionEntry(value - 1))
            pos += 1
            continue
        if pos + 3 > end:
            raise _bad(f"position table ends inside the entry that starts at offset {entry}", end, path)
        column, end_column, end_line_delta = data[pos], data[pos + 1], data[pos + 2]
        entries.append(PypyPositionEntry(value - 1, column - 1, end_column - 1 if end_column else None, end_line_delta))
        pos += 3
    return entries


def encode_pypy_positions(entries: Iterable[PypyPositionEntry]) -> bytes:
    """The PyPy 3.10+ position table bytes of ``entries``."""
    out = bytearray()
    for i, e in enumerate(entries):
        columns = (e.column, e.end_column, e.end_line_delta)
        if e.line_delta is None:
            if columns != (None, None, None):
                raise UnwritableError(f"position entry {i} ({e}): an entry without a line holds nothing else")
            out.append(0)
            continue
        if e.line_delta < 0:
            raise UnwritableError(f"position entry {i} ({e}): line_delta must be >= 0")
        value = e.line_delta + 1
        while value >= 128:
            out.append(128 | (value & 127))
            value >>= 7
        out.append(value)
        if e.column is None:
            if columns != (None, None, None):
                raise UnwritableError(f"position entry {i} ({e}): without a column it holds no end column or end line")
            out.append(0)
            continue
        end_column = 0 if e.end_column is None else e.end_column + 1
        if not 0 <= e.column < 255 or not 0 <= end_column <= 255 or e.end_line_delta is None or not 0 <= e.end_line_delta <= 255:
            raise UnwritableError(f"position entry {i} ({e}): columns 0..254 and an end-line delta 0..255 fit")
        out += bytes((e.column + 1, end_column, e.end_line_delta))
    return bytes(out)


#: The field that holds PyPy's position table, by code layout: PyPy 3.10 keeps it where
#: CPython 3.8 keeps ``co_lnotab``, PyPy 3.11 calls it ``co_linetable``.
_PYPY_POSITIONS: Dict[CodeLayout, str] = {
    CodeLayout.V3_8: "co_lnotab",
    CodeLayout.PYPY_416: "co_linetable",
    CodeLayout.PYPY_432: "co_linetable",
}


def _pypy_located(code: "Code") -> List[_Located]:
    data = _table_bytes(code, _PYPY_POSITIONS[code.layout]) or b""
    first = _firstlineno(code)
    out: List[_Located] = []
    for i, e in enumerate(decode_pypy_positions(data)):
        if e.line_delta is None:
            out.append((2 * i, 2 * i + 2, -1, -1, -1, -1))
            continue
        line = first + e.line_delta
        if e.column is None or e.end_line_delta is None:
            out.append((2 * i, 2 * i + 2, line, -1, -1, -1))
        else:
            end_column = -1 if e.end_column is None else e.end_column
            out.append((2 * i, 2 * i + 2, line, line + e.end_line_delta, e.column, end_column))
    return out


# --------------------------------------------------------------------------------------
# Absolute values, as the interpreter computes them

# Internally a missing line or column is -1, as in CPython; -1 becomes None on output
# (CPython's _source_offset_converter), so a computed line of -1 also shows as None.


def _none(value: int) -> Optional[int]:
    return None if value == -1 else value


# (start, end, line, end_line, column, end_column): bytes, -1 where missing
_Located = Tuple[int, int, int, int, int, int]


@functools.lru_cache(maxsize=16)
def _walk_locations(data: bytes, firstlineno: int) -> List[_Located]:
    """The absolute locations of a table's entries (cached: lines, positions and line
    starts of one code object all start from this; callers must not change the list).

    The same reading as :func:`_scan_locations`, fused with the running line for speed;
    a malformed table is handed to that function for the error.
    """
    out: List[_Located] = []
    append = out.append
    computed = firstlineno
    addr = 0
    pos = 0
    end = len(data)
    try:
        while pos < end:
            first = data[pos]
            start = addr
            addr += 2 * ((first & 7) + 1)
            kind = (first >> 3) & 15
            if first < 0x80:
                break
            if kind < 10:
                b = data[pos + 1]
                if b & 0x80:
                    break
                column = kind * 8 + (b >> 4)
                append((start, addr, computed, computed, column, column + (b & 15)))
                pos += 2
            elif kind == 15:
                append((start, addr, -1, -1, -1, -1))
                pos += 1
            elif kind < 13:
                column, end_column = data[pos + 1], data[pos + 2]
                if (column | end_column) & 0x80:
                    break
                computed += kind - 10
                append((start, addr, computed, computed, column, end_column))
                pos += 3
            else:
                u, pos = _varint(data, pos + 1)
                computed += -(u >> 1) if u & 1 else u >> 1
                if kind == 13:
                    append((start, addr, computed, computed, -1, -1))
                else:
                    end_line_delta, pos = _varint(data, pos)
                    column, pos = _varint(data, pos)
                    end_column, pos = _varint(data, pos)
                    append((start, addr, computed, computed + end_line_delta, column - 1, end_column - 1))
        else:
            return out
    except IndexError:
        pass
    _scan_locations(data)  # raises the error, with its offset
    raise AssertionError("unreachable: _scan_locations accepted a table _walk_locations refused")


# --------------------------------------------------------------------------------------
# The code-object questions

LineRange = Tuple[int, int, Optional[int]]


def _table_bytes(code: "Code", field: str) -> Optional[bytes]:
    value = getattr(code, field, None)
    if value is None:
        return None
    if isinstance(value, Bytes):
        return value.value
    raise BadTableError(f"{field} is a {type(value).__name__}, not bytes", path=field)


def _code_length(code: "Code") -> int:
    value = getattr(code, "co_code", None)
    return len(value.value) if isinstance(value, Bytes) else 0


def _firstlineno(code: "Code") -> int:
    """``co_firstlineno``, which must fit the C ``int`` the interpreters keep it in (a
    model could hold any int; a pyc cannot)."""
    value = getattr(code, "co_firstlineno", 0)
    if not isinstance(value, int):
        return 0
    if not -_C_INT <= value < _C_INT:
        raise BadTableError(f"co_firstlineno does not fit in a 32-bit C int ({value.bit_length()} bits)", path="co_firstlineno")
    return value


_C_INT = 1 << 31


def _format_of(code: "Code", version: VersionOrFormat) -> str:
    """Which table the code object has: none, lnotab, linetable (3.10), locations
    (3.11+) or pypy (PyPy 3.10+ positions)."""
    layout = code.layout
    if layout in (CodeLayout.V1_0, CodeLayout.V1_3):
        return "none"
    if _rules(version).pypy_positions and layout in _PYPY_POSITIONS:
        return "pypy"
    if layout in (CodeLayout.V3_10, CodeLayout.V3_11A):
        return "linetable"
    if layout == CodeLayout.V3_11:
        return "locations"
    return "lnotab"


def _lnotab_starts(code: "Code", version: VersionOrFormat) -> List[Tuple[int, int]]:
    """``dis.findlinestarts`` over co_lnotab: 2.7-3.7 rule, and from 3.8 on the stop at
    the end of the bytecode."""
    data = _table_bytes(code, "co_lnotab")
    if data is None:
        return []
    bounded = _rules(version).starts_stop_at_code_end
    code_length = _code_length(code)
    starts: List[Tuple[int, int]] = []
    last: Optional[int] = None
    line = _firstlineno(code)
    addr = 0
    for entry in decode_lnotab(data, version):
        if entry.offset_delta:
            if line != last:
                starts.append((addr, line))
                last = line
            addr += entry.offset_delta
            if bounded and addr >= code_length:
                return starts
        line += entry.line_delta
    if line != last:
        starts.append((addr, line))
    return starts


def _lines_310(code: "Code") -> List[LineRange]:
    """``co_lines()`` of 3.10: one range per table entry, empty ones skipped, no merging;
    a negative line is ``None``.  A table that ends in empty entries makes CPython 3.10
    read past its end (the compiler never writes one); here the ranges just stop."""
    data = _table_bytes(code, "co_linetable")
    if data is None:
        return []
    ranges: List[LineRange] = []
    computed = _firstlineno(code)
    addr = 0
    for entry in decode_linetable(data):
        start, addr = addr, addr + entry.offset_delta
        if entry.line_delta is None:
            line = -1
        else:
            computed += entry.line_delta
            line = computed
        if addr != start:
            ranges.append((start, addr, None if line < 0 else line))
    return ranges


def _lines_311(code: "Code", merge: bool) -> List[LineRange]:
    """``co_lines()`` of 3.11+: one range per entry in 3.11 (a negative line is ``None``);
    from 3.12 on consecutive entries with the same line are merged, and only the line
    -1 is ``None``."""
    data = _table_bytes(code, "co_linetable")
    if data is None:
        return []
    located = _walk_locations(data, _firstlineno(code))
    if not merge:  # 3.11: every negative line shows as None
        return [(loc[0], loc[1], None if loc[2] < 0 else loc[2]) for loc in located]
    return _merge_lines(located)


def _merge_lines(located: List[_Located]) -> List[LineRange]:
    """Ranges of consecutive locations with one line (3.12+ ``co_lines()``)."""
    ranges: List[LineRange] = []
    if not located:
        return ranges
    start, end, line = located[0][:3]
    for loc in located:
        if loc[2] == line:
            end = loc[1]
            continue
        ranges.append((start, end, None if line == -1 else line))
        start, end, line = loc[:3]
    ranges.append((start, end, None if line == -1 else line))
    return ranges


def _lines_from_starts(starts: List[Tuple[int, int]], code_length: int) -> List[LineRange]:
    ranges: List[LineRange] = []
    for i, (start, line) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else code_length
        if end > start:
            ranges.append((start, end, line))
    return ranges


def lines(code: "Code", version: VersionOrFormat) -> List[LineRange]:
    """``(start, end, line)`` byte ranges like ``code.co_lines()`` of ``version``.

    3.10 and 3.11+ give exactly what that version's ``co_lines()`` gives (``line`` is
    ``None`` for code with no line): one range per table entry in 3.10 (empty ones
    left out) and 3.11, consecutive ranges of one line merged from 3.12 on.  Before 3.10, where ``co_lines()`` does not exist,
    the ranges run from each line start (:func:`line_starts`) to the next one, the last
    to the end of ``co_code``.  1.0-1.4 code objects have no line table: ``[]``.
    """
    kind = _format_of(code, version)
    if kind == "linetable":
        return _lines_310(code)
    if kind == "locations":
        return _lines_311(code, merge=_rules(version).lines_merged)
    if kind == "none":
        return []
    if kind == "pypy":
        return _merge_lines(_pypy_located(code))
    return _lines_from_starts(_lnotab_starts(code, version), _code_length(code))


def line_starts(code: "Code", version: VersionOrFormat) -> List[Tuple[int, Optional[int]]]:
    """``(offset, line)`` pairs, as ``dis.findlinestarts`` of ``version`` gives them.

    Each version's quirks are kept: up to 3.7 the walk over ``co_lnotab`` may end with a
    start at the end of the code; 3.8 and 3.9 stop at the end of the bytecode; 3.10-3.12
    skip code with no line and any range whose line equals the last line yielded; from
    3.13 on a range with no line is yielded too, with ``None`` as its line.  1.0-1.4
    code objects (no line table) give ``[]``.
    """
    rules = _rules(version)
    kind = _format_of(code, version)
    if kind == "none":
        return []
    if kind == "lnotab" and not rules.starts_from_lines:
        return [(offset, line) for offset, line in _lnotab_starts(code, version)]
    ranges = lines(code, version)
    starts: List[Tuple[int, Optional[int]]] = []
    if rules.starts_with_no_line:
        last: object = object()
        for start, _, line in ranges:
            if line != last:
                last = line
                starts.append((start, line))
        return starts
    last_line: Optional[int] = None
    for start, _, line in ranges:
        if line is not None and line != last_line:
            last_line = line
            starts.append((start, line))
    return starts


def _instruction_offsets(code: "Code", version: VersionOrFormat) -> List[int]:
    """Where each instruction (each code unit from 3.6 on) starts."""
    data = getattr(code, "co_code", None)
    raw = data.value if isinstance(data, Bytes) else b""
    if _rules(version).wordcode:
        return list(range(0, len(raw) - len(raw) % 2, 2))
    offsets = []
    i = 0
    while i < len(raw):
        offsets.append(i)
        i += 3 if raw[i] >= 90 else 1  # HAVE_ARGUMENT is 90 in every version before 3.6
    return offsets


def positions(code: "Code", version: VersionOrFormat) -> List[PositionTuple]:
    """``(line, end_line, column, end_column)`` per instruction, like ``co_positions()``.

    3.11+: exactly what ``co_positions()`` gives -- one tuple per code unit (CACHE units
    included) for as long as the location table goes.  Before 3.11 the tables hold lines
    only: one ``(line, line, None, None)`` per code unit (3.6-3.10) or per instruction
    (before 3.6, where instructions are 1 or 3 bytes), the line being that of the
    :func:`lines` range holding it; ``(None, None, None, None)`` where there is none.
    """
    kind = _format_of(code, version)
    if kind in ("locations", "pypy"):
        if kind == "pypy":
            located = _pypy_located(code)
        else:
            located = _walk_locations(_table_bytes(code, "co_linetable") or b"", _firstlineno(code))
        result: List[PositionTuple] = []
        for start, end, line, end_line, column, end_column in located:
            item = (
                None if line == -1 else line,
                None if end_line == -1 else end_line,
                None if column == -1 else column,
                None if end_column == -1 else end_column,
            )
            result.extend([item] * ((end - start) // 2))
        return result
    ranges = lines(code, version)
    starts = [r[0] for r in ranges]
    out: List[PositionTuple] = []
    for offset in _instruction_offsets(code, version):
        i = bisect_right(starts, offset) - 1
        found = ranges[i][2] if i >= 0 and ranges[i][0] <= offset < ranges[i][1] else None
        out.append((found, found, None, None))
    return out
