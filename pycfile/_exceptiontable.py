"""The 3.11+ exception table (``co_exceptiontable``): decode and encode it.

Each entry is four varints: start, size, target (all in 2-byte code units) and
``depth << 1 | lasti``.  A varint is 6-bit groups, most significant first, bit 6 set on
every byte but the last; bit 7 is set on the first byte of each entry and on no other
(FACTS.md section 4.3).  :class:`ExceptionTableEntry` holds byte offsets, as
``dis._parse_exception_table`` does.  A varint must fit in 32 bits
(:data:`pycfile._linetable.VARINT_BITS`; the interpreter reads it into a C ``int``):
decoding stays linear in the size of the table, however long a varint is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, List, Tuple

import attrs

from ._errors import UnwritableError
from ._linetable import VARINT_BITS, BadTableError, VersionOrFormat, _version
from ._values import Bytes
from ._versions import CodeLayout

if TYPE_CHECKING:
    from ._values import CodeBase as Code

__all__ = ["ExceptionTableEntry", "decode_exception_table", "encode_exception_table", "exception_table"]

_PATH = "co_exceptiontable"

#: The code layouts with an exception table: CPython 3.11+, PyPy 3.11 from 8.0.
_WITH_TABLE = frozenset([CodeLayout.V3_11A, CodeLayout.V3_11, CodeLayout.PYPY_432])


@attrs.define
class ExceptionTableEntry:
    """One handler range: instructions at byte offsets ``start <= offset < end`` jump to
    ``target`` with the value stack cut to ``depth`` items, pushing the offset of the
    raising instruction first when ``lasti`` is true.  Offsets are in bytes (even)."""

    start: int
    end: int
    target: int
    depth: int
    lasti: bool


_LIMIT = 1 << VARINT_BITS


def _varint(data: bytes, pos: int, entry_start: bool) -> Tuple[int, int]:
    """A varint at ``pos``; its first byte carries the entry-start bit iff ``entry_start``."""
    end = len(data)
    start = pos
    first = True
    value = 0
    while True:
        if pos >= end:
            raise BadTableError("exception table ends inside an entry", offset=pos, path=_PATH)
        b = data[pos]
        marked = bool(b & 0x80)
        if marked != (entry_start and first):
            what = "has the entry-start bit inside an entry" if marked else "starts an entry without the entry-start bit"
            raise BadTableError(f"byte 0x{b:02x} {what}", offset=pos, path=_PATH)
        value = (value << 6) | (b & 63)
        if value >= _LIMIT:
            raise BadTableError(f"the varint at offset {start} does not fit in {VARINT_BITS} bits", offset=start, path=_PATH)
        pos += 1
        first = False
        if not b & 64:
            return value, pos


def decode_exception_table(data: bytes) -> List[ExceptionTableEntry]:
    """The entries of a 3.11+ ``co_exceptiontable``."""
    entries = []
    pos = 0
    while pos < len(data):
        start, pos = _varint(data, pos, True)
        size, pos = _varint(data, pos, False)
        target, pos = _varint(data, pos, False)
        depth_lasti, pos = _varint(data, pos, False)
        entries.append(ExceptionTableEntry(2 * start, 2 * (start + size), 2 * target, depth_lasti >> 1, bool(depth_lasti & 1)))
    return entries


def _put(out: bytearray, value: int, mark: int) -> None:
    groups = [value & 63]
    value >>= 6
    while value:
        groups.append(value & 63)
        value >>= 6
    for i, group in enumerate(reversed(groups)):
        out.append(group | (64 if i < len(groups) - 1 else 0) | (mark if i == 0 else 0))


def encode_exception_table(entries: Iterable[ExceptionTableEntry]) -> bytes:
    """The ``co_exceptiontable`` bytes of ``entries``."""
    out = bytearray()
    for i, e in enumerate(entries):
        if any(v < 0 or v % 2 for v in (e.start, e.end, e.target)) or e.end < e.start:
            raise UnwritableError(f"exception table entry {i} ({e}): offsets must be even, >= 0 and start <= end")
        if e.depth < 0:
            raise UnwritableError(f"exception table entry {i} ({e}): depth must be >= 0")
        _put(out, e.start // 2, 0x80)
        _put(out, (e.end - e.start) // 2, 0)
        _put(out, e.target // 2, 0)
        _put(out, (e.depth << 1) | int(bool(e.lasti)), 0)
    return bytes(out)


def exception_table(code: "Code", version: VersionOrFormat) -> List[ExceptionTableEntry]:
    """The exception table of a code object, as ``dis._parse_exception_table`` of its
    version gives it; ``[]`` before 3.11 (and PyPy before 8.0), where code objects have
    none."""
    _version(version)  # validates the argument
    if code.layout not in _WITH_TABLE:
        return []
    value = getattr(code, _PATH, None)
    if not isinstance(value, Bytes):
        raise BadTableError(f"{_PATH} is a {type(value).__name__}, not bytes", path=_PATH)
    return decode_exception_table(value.value)
