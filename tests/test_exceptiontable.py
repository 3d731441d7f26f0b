"""Malformed tables and unwritable entries: clear errors, never a crash or a hang.

(Real tables are checked against the interpreters in test_linetable.py, exception tables
included.)  Here: truncated varints, missing or stray entry-start bits, garbage bytes
and out-of-range entries, for the exception table and every line-table format.
"""

from __future__ import annotations

from typing import Callable, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pycfile
from pycfile import (
    BadPycError,
    BadTableError,
    ExceptionTableEntry,
    LinetableEntry,
    LnotabEntry,
    LocationEntry,
    PypyPositionEntry,
    UnwritableError,
)

# -- the exception table ---------------------------------------------------------------


def test_exception_table_decodes_an_entry_by_hand() -> None:
    # start 2, size 3, target 70 (two groups: 1, 6), depth 1 with lasti -> byte offsets
    data = bytes([0x80 | 2, 3, 0x40 | 1, 6, (1 << 1) | 1])
    assert pycfile.decode_exception_table(data) == [ExceptionTableEntry(4, 10, 140, 1, True)]
    assert pycfile.encode_exception_table([ExceptionTableEntry(4, 10, 140, 1, True)]) == data


@pytest.mark.parametrize(
    ("data", "offset", "words"),
    [
        (b"\x82", 1, "ends inside an entry"),  # only the start
        (b"\x82\x03\x41", 3, "ends inside an entry"),  # target's varint cut after a "more" byte
        (b"\x02\x03\x04\x05", 0, "without the entry-start bit"),
        (b"\x82\x83\x04\x05", 1, "entry-start bit inside an entry"),
        (b"\x82\x03\x04\x05\x06", 4, "without the entry-start bit"),  # garbage after an entry
    ],
)
def test_bad_exception_tables_name_the_offset(data: bytes, offset: int, words: str) -> None:
    with pytest.raises(BadTableError) as info:
        pycfile.decode_exception_table(data)
    assert info.value.offset == offset
    assert words in str(info.value) and "co_exceptiontable" in str(info.value)
    assert isinstance(info.value, BadPycError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "entry",
    [
        ExceptionTableEntry(1, 4, 6, 0, False),  # odd offset
        ExceptionTableEntry(8, 4, 6, 0, False),  # end before start
        ExceptionTableEntry(-2, 4, 6, 0, False),
        ExceptionTableEntry(0, 4, 6, -1, False),
    ],
)
def test_unwritable_exception_entries(entry: ExceptionTableEntry) -> None:
    with pytest.raises(UnwritableError):
        pycfile.encode_exception_table([entry])


# -- line tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "offset", "words"),
    [
        (b"\xf0", 1, "ends inside the entry that starts at offset 0"),  # long form, nothing after
        (b"\xf0\x03\x01", 3, "ends inside the entry that starts at offset 0"),
        (b"\x80\x01\xe8\x41", 4, "ends inside the entry that starts at offset 2"),  # no-columns varint cut
        (b"\x01\x02", 0, "without the entry-start bit"),
        (b"\x80\x81", 1, "entry-start bit set"),  # short form's second byte
        (b"\xd0\x05\x90", 2, "entry-start bit set"),  # one-line form with column byte >= 128
    ],
)
def test_bad_location_tables_name_the_offset(data: bytes, offset: int, words: str) -> None:
    with pytest.raises(BadTableError) as info:
        pycfile.decode_locations(data)
    assert info.value.offset == offset
    assert words in str(info.value)


def _code311(linetable: bytes, exceptiontable: bytes) -> pycfile.Code311:
    names = pycfile.TupleValue([], ")")
    return pycfile.Code311(
        co_argcount=0,
        co_posonlyargcount=0,
        co_kwonlyargcount=0,
        co_stacksize=1,
        co_flags=0,
        co_code=pycfile.Bytes(b"\x97\x00y\x00"),
        co_consts=pycfile.TupleValue([pycfile.Singleton("N")], ")"),
        co_names=names,
        co_localsplusnames=names,
        co_localspluskinds=pycfile.Bytes(b""),
        co_filename=pycfile.Str("x.py", "z"),
        co_name=pycfile.Str("<module>", "z"),
        co_qualname=pycfile.Str("<module>", "z"),
        co_firstlineno=1,
        co_linetable=pycfile.Bytes(linetable),
        co_exceptiontable=pycfile.Bytes(exceptiontable),
    )


def test_bad_tables_reach_the_code_methods() -> None:
    # what CPython 3.12 answers for this table (co_lines, co_positions of a replace()d code)
    good = _code311(b"\xf0\x03\x01\x01\x01\x80\x01\xe8\x02", b"")
    assert good.lines((3, 12)) == [(0, 4, 0), (4, 6, 1)]
    assert good.positions((3, 12)) == [(0, 1, 0, 0), (0, 0, 0, 1), (1, 1, None, None)]
    assert good.exception_table((3, 12)) == []
    broken = _code311(b"\xf0\x03", b"")
    for method in (broken.lines, broken.positions, broken.line_starts):
        with pytest.raises(BadTableError):
            method((3, 12))
    with pytest.raises(BadTableError):
        _code311(b"", b"\x82").exception_table((3, 12))


def test_odd_length_pair_tables() -> None:
    with pytest.raises(BadTableError) as info:
        pycfile.decode_lnotab(b"\x02\x01\x02", (2, 7))
    assert info.value.offset == 2
    with pytest.raises(BadTableError):
        pycfile.decode_linetable(b"\x02")


def test_lnotab_sign_follows_the_version() -> None:
    assert pycfile.decode_lnotab(b"\x02\xff", (3, 5)) == [LnotabEntry(2, 255)]
    assert pycfile.decode_lnotab(b"\x02\xff", (3, 6)) == [LnotabEntry(2, -1)]
    # the 3.6 development magics before 3361 still wrote unsigned increments
    early = next(f for f in pycfile.known_formats() if f.version == (3, 6) and f.magic_number < 3361)
    assert pycfile.decode_lnotab(b"\x02\xff", early) == [LnotabEntry(2, 255)]
    with pytest.raises(UnwritableError):
        pycfile.encode_lnotab([LnotabEntry(2, -1)], (2, 7))
    with pytest.raises(UnwritableError):
        pycfile.encode_lnotab([LnotabEntry(2, 200)], (3, 8))


def test_linetable_no_line_marker() -> None:
    assert pycfile.decode_linetable(b"\x06\x80\x02\x81") == [LinetableEntry(6, None), LinetableEntry(2, -127)]
    with pytest.raises(UnwritableError):
        pycfile.encode_linetable([LinetableEntry(2, -128)])


@pytest.mark.parametrize(
    "entry",
    [
        LocationEntry(3, 1, 0, 0, 3, 4),  # short form 3 holds columns 24..31
        LocationEntry(0, 1, 0, 0, 0, 16),  # width 16
        LocationEntry(10, 1, 1, 0, 0, 0),  # one-line form 10 has line_delta 0
        LocationEntry(11, 1, 1, 0, 128, 0),  # columns over 127
        LocationEntry(13, 1, 5, 0, 1, None),  # no-columns form with a column
        LocationEntry(14, 1, 0, -1, None, None),  # negative end-line delta
        LocationEntry(15, 1, 2),  # no-location form with a line delta
        LocationEntry(14, 9),  # 9 code units
        LocationEntry(16, 1),
    ],
)
def test_unwritable_location_entries(entry: LocationEntry) -> None:
    with pytest.raises(UnwritableError):
        pycfile.encode_locations([entry])


def test_pypy_position_table_by_hand() -> None:
    data = bytes([0, 3, 0, 0x81, 0x01, 5, 7, 1])  # none; line+2; line+128 with columns
    entries = [PypyPositionEntry(None), PypyPositionEntry(2), PypyPositionEntry(128, 4, 6, 1)]
    assert pycfile.decode_pypy_positions(data) == entries
    assert pycfile.encode_pypy_positions(entries) == data
    with pytest.raises(BadTableError):
        pycfile.decode_pypy_positions(b"\x81")
    with pytest.raises(BadTableError):
        pycfile.decode_pypy_positions(b"\x03\x05\x07")


# -- garbage never escapes as anything but BadTableError --------------------------------

DECODERS: List[Callable[[bytes], object]] = [
    pycfile.decode_exception_table,
    pycfile.decode_locations,
    pycfile.decode_linetable,
    pycfile.decode_pypy_positions,
    lambda data: pycfile.decode_lnotab(data, (2, 7)),
    lambda data: pycfile.decode_lnotab(data, (3, 8)),
]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64), which=st.integers(0, len(DECODERS) - 1))
def test_garbage_gives_entries_or_bad_table_error(data: bytes, which: int) -> None:
    try:
        DECODERS[which](data)
    except BadTableError:
        pass


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64))
def test_what_decodes_reencodes_to_the_same_entries(data: bytes) -> None:
    """Accepted input may use longer varints than CPython's writers, so only the
    entries (not the bytes) must survive a second round."""
    for decode, encode in (
        (pycfile.decode_exception_table, pycfile.encode_exception_table),
        (pycfile.decode_locations, pycfile.encode_locations),
        (pycfile.decode_pypy_positions, pycfile.encode_pypy_positions),
    ):
        try:
            entries = decode(data)  # type: ignore[operator]
        except BadTableError:
            continue
        assert decode(encode(entries)) == entries  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=64).filter(lambda b: len(b) % 2 == 0))
def test_pair_tables_are_exact(data: bytes) -> None:
    for version in ((2, 7), (3, 9)):
        assert pycfile.encode_lnotab(pycfile.decode_lnotab(data, version), version) == data
    assert pycfile.encode_linetable(pycfile.decode_linetable(data)) == data
