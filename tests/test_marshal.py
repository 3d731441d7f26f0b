"""The marshal reader and writer on hand-built streams.

Every stream here is written from the format rules in shared/FACTS.md section 3 (the
comments say which), never from pycfile's own output; the host's own ``marshal`` module
checks the ones it can read.
"""

from __future__ import annotations

import marshal as host_marshal
import math
import struct
import sys

import pytest

import pycfile
from pycfile import Bytes, DictValue, Float, FrozenSetValue, Int, ListValue, Long, Singleton, Str, TupleValue

HOST = sys.version_info[:2]
V3 = (3, 12)
V2 = (2, 7)


def i32(n: int) -> bytes:
    return struct.pack("<i", n)


def roundtrip(data: bytes, version: tuple[int, int]) -> pycfile.Value:
    value = pycfile.marshal.loads(data, version=version)
    assert pycfile.marshal.dumps(value, version=version) == data
    return value


# --- references (FACTS.md 3.5) -------------------------------------------------------


def test_a_reference_is_the_same_object() -> None:
    data = b"\x29\x02" + b"\xda\x01a" + b"r" + i32(1)  # ('a', 'a'), 'a' flagged as ref 1
    # The tuple itself is not flagged, so 'a' is the first flagged object: index 0.
    data = b"\x29\x02" + b"\xda\x01a" + b"r" + i32(0)
    value = roundtrip(data, V3)
    assert isinstance(value, TupleValue)
    assert value.items[0] is value.items[1]
    assert value.items[0] == Str("a", "Z", True)
    assert host_marshal.loads(data) == ("a", "a")


def test_a_self_referencing_tuple_loads_and_writes_back() -> None:
    data = b"\xa9\x01r" + i32(0)  # FACTS.md 3.5: a tuple containing itself
    value = roundtrip(data, V3)
    assert isinstance(value, TupleValue)
    assert value.items[0] is value
    host = host_marshal.loads(data)
    assert host[0] is host


def test_self_referencing_list_and_dict() -> None:
    data = b"\xdb" + i32(1) + b"r" + i32(0)
    value = roundtrip(data, V3)
    assert isinstance(value, ListValue) and value.items[0] is value
    data = b"\xfb" + b"\xda\x01k" + b"r" + i32(0) + b"0"
    value = roundtrip(data, V3)
    assert isinstance(value, DictValue) and value.items[0][1] is value


def test_reference_indices_count_flagged_objects_in_pre_order() -> None:
    # [ 'x'(flag, idx 1) , ( 'y'(flag, idx 3) ) (flag, idx 2), r 3, r 1 ]  list flagged idx 0
    data = (
        b"\xdb" + i32(4) + b"\xda\x01x" + b"\xa9\x01" + b"\xda\x01y" + b"r" + i32(3) + b"r" + i32(1)
    )
    value = roundtrip(data, V3)
    assert isinstance(value, ListValue)
    inner = value.items[1]
    assert isinstance(inner, TupleValue)
    assert value.items[2] is inner.items[0]
    assert value.items[3] is value.items[0]
    assert host_marshal.loads(data) == ["x", ("y",), "y", "x"]


def test_flag_ref_on_singletons_takes_no_slot() -> None:
    # FACTS.md 3.5: FLAG_REF on N/T/F/S/. is ignored by readers; the next flagged object gets 0.
    data = b"\x29\x03\xce\xda\x01ar" + i32(0)
    value = roundtrip(data, V3)
    assert isinstance(value, TupleValue)
    assert value.items[0] == Singleton("N", True)
    assert value.items[2] is value.items[1]
    assert host_marshal.loads(data) == (None, "a", "a")


def test_unflagged_equal_values_stay_separate() -> None:
    data = b"\x29\x02\x7a\x01a\x7a\x01a"
    value = roundtrip(data, V3)
    assert isinstance(value, TupleValue)
    assert value.items[0] == value.items[1]
    assert value.items[0] is not value.items[1]


def test_reference_into_a_reserved_slot_is_invalid() -> None:
    # A flagged frozenset reserves its slot until its items are read (FACTS.md 3.5).
    data = b"\xbe" + i32(1) + b"r" + i32(0)
    with pytest.raises(pycfile.BadMarshalError, match="invalid reference") as info:
        pycfile.marshal.loads(data, version=V3)
    assert info.value.offset == 5
    assert info.value.path == "value[0]"
    with pytest.raises(ValueError):
        host_marshal.loads(data)


def test_writer_refuses_a_reference_into_a_reserved_slot() -> None:
    fs = FrozenSetValue([], ">", True)
    fs.items.append(fs)
    with pytest.raises(pycfile.UnwritableError, match="still being written"):
        pycfile.marshal.dumps(fs, version=V3)


def test_an_unflagged_cycle_is_too_deep_to_write() -> None:
    t = TupleValue([], "(")
    t.items.append(t)
    with pytest.raises(pycfile.UnwritableError, match="too deeply nested"):
        pycfile.marshal.dumps(t, version=V3)


def test_python2_interned_strings_and_string_refs() -> None:
    # FACTS.md 3.5: ('ab','cd','ab','cd') -> t ab, t cd, R 0, R 1
    data = b"(" + i32(4) + b"t" + i32(2) + b"ab" + b"t" + i32(2) + b"cd" + b"R" + i32(0) + b"R" + i32(1)
    value = roundtrip(data, V2)
    assert isinstance(value, TupleValue)
    assert value.items[2] is value.items[0]
    assert value.items[3] is value.items[1]
    assert value.items[0] == Bytes(b"ab", "t")
    with pytest.raises(pycfile.BadMarshalError, match="string ref out of range"):
        pycfile.marshal.loads(b"R" + i32(0), version=V2)


def test_python2_has_no_flag_ref() -> None:
    with pytest.raises(pycfile.BadMarshalError, match="type code 0xe9"):
        pycfile.marshal.loads(b"\xe9" + i32(1), version=V2)
    with pytest.raises(pycfile.UnwritableError, match="FLAG_REF"):
        pycfile.marshal.dumps(Int(1, "i", True), version=V2)


# --- type codes kept as stored (FACTS.md 3.2, 6.5) -------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"l" + i32(1) + struct.pack("<H", 5), 5),  # 'l' for a value that fits 'i'
        (b"I" + struct.pack("<q", 2**40), 2**40),  # 'I' (2.x/3.0-3.2 on LP64; read by 3.6+)
        (b"(" + i32(1) + b"N", (None,)),  # '(' for a short tuple
        (b"a" + i32(2) + b"hi", "hi"),  # 'a' for a short string
        (b"u" + i32(2) + b"hi", "hi"),  # 'u' holding ASCII
        (b"t" + i32(2) + b"hi", "hi"),
        (b"z\x02\xe9\xff", "\xe9\xff"),  # ASCII codes read as Latin-1 (FACTS.md 3.2)
    ],
)
def test_non_canonical_codes_survive(data: bytes, expected: object) -> None:
    value = roundtrip(data, V3)
    assert pycfile.to_python(value) == expected
    if HOST >= (3, 6):
        assert host_marshal.loads(data) == expected


def test_lone_surrogates_use_surrogatepass() -> None:
    data = b"u" + i32(3) + b"\xed\xa0\x80"
    value = roundtrip(data, V3)
    assert value == Str("\ud800", "u")
    assert host_marshal.loads(data) == "\ud800"


def test_invalid_utf8_is_an_error_with_an_offset() -> None:
    with pytest.raises(pycfile.BadMarshalError, match="invalid UTF-8") as info:
        pycfile.marshal.loads(b"u" + i32(2) + b"a\xff", version=V3)
    assert info.value.offset == 6


@pytest.mark.parametrize(
    "raw",
    [
        struct.pack("<d", -0.0),
        bytes.fromhex("000000000000f87f"),  # 3.x NaN
        bytes.fromhex("000000000000f8ff"),  # 2.7 NaN (sign bit set)
        bytes.fromhex("010000000000f07f"),  # a signalling NaN payload
    ],
)
def test_binary_floats_keep_their_bits(raw: bytes) -> None:
    value = roundtrip(b"g" + raw, V3)
    assert isinstance(value, Float)
    assert value.raw == raw
    assert value == Float(raw)  # NaN equals NaN: equality is by bytes
    assert struct.pack("<d", value.value) == raw or math.isnan(value.value)


@pytest.mark.parametrize("text", [b"1.0", b"1.", b"1e0", b"0.10000000000000001", b"nan", b"-inf", b"10000000000000000"])
def test_text_floats_keep_their_spelling(text: bytes) -> None:
    value = roundtrip(b"f" + bytes([len(text)]) + text, V2)
    assert isinstance(value, Float) and value.raw == text
    expected = float(text)
    assert value.value == expected or (math.isnan(expected) and math.isnan(value.value))


def test_unparsable_text_float_is_an_error() -> None:
    with pytest.raises(pycfile.BadMarshalError, match="not a number"):
        pycfile.marshal.loads(b"f\x03abc", version=V2)


def test_longs() -> None:
    # 2**15 + 1 = digits [1, 1]
    value = roundtrip(b"l" + i32(2) + struct.pack("<HH", 1, 1), V3)
    assert value == Long(2**15 + 1)
    value = roundtrip(b"l" + i32(-2) + struct.pack("<HH", 1, 1), V3)
    assert value == Long(-(2**15 + 1))
    assert roundtrip(b"l" + i32(0), V3) == Long(0)


def test_unnormalized_longs_by_version() -> None:
    data = b"l" + i32(2) + struct.pack("<HH", 5, 0)  # zero top digit
    with pytest.raises(pycfile.BadMarshalError, match="unnormalized long"):
        pycfile.marshal.loads(data, version=V3)
    with pytest.raises(ValueError):
        host_marshal.loads(data)
    # 2.6 and PyPy accept it (FACTS.md 3.3): kept as stored.
    value = roundtrip(data, (2, 6))
    assert value == Long(5, size=2)
    value = roundtrip(data, pycfile.PythonVersion(3, 9, "pypy"))
    assert isinstance(value, Long) and value.value == 5


def test_digit_out_of_range() -> None:
    with pytest.raises(pycfile.BadMarshalError, match="digit out of range") as info:
        pycfile.marshal.loads(b"l" + i32(1) + struct.pack("<H", 0x8000), version=V3)
    assert info.value.offset == 0


def test_sets_keep_their_stored_order() -> None:
    data = b"\x3e" + i32(3) + b"\x7a\x01c\x7a\x01a\x7a\x01b"
    value = roundtrip(data, V3)
    assert isinstance(value, FrozenSetValue)
    assert [pycfile.to_python(i) for i in value.items] == ["c", "a", "b"]
    assert host_marshal.loads(data) == frozenset("abc")


def test_dicts_keep_duplicate_keys() -> None:
    data = b"{" + b"\x7a\x01k" + b"i" + i32(1) + b"\x7a\x01k" + b"i" + i32(2) + b"0"
    value = roundtrip(data, V3)
    assert isinstance(value, DictValue) and len(value.items) == 2
    assert pycfile.to_python(value) == host_marshal.loads(data) == {"k": 2}


def test_version_specific_codes() -> None:
    # 3.4 and 3.5 reject 'I' (FACTS.md 3.2); 3.0-3.3 reject 't'; 3.x rejects 'R'.
    for version, data in [((3, 4), b"I" + bytes(8)), ((3, 3), b"t" + i32(0)), ((3, 12), b"R" + i32(0))]:
        with pytest.raises(pycfile.BadMarshalError, match="unknown type code"):
            pycfile.marshal.loads(data, version=version)
    with pytest.raises(pycfile.BadMarshalError, match="unknown type code"):
        pycfile.marshal.loads(b"\x3a" + b"NNN", version=(3, 13))
    assert isinstance(pycfile.marshal.loads(b"\x3a" + b"NNN", version=(3, 14)), pycfile.Slice)


# --- errors (never IndexError, struct.error, RecursionError, MemoryError) ------------


@pytest.mark.parametrize(
    "data, error, offset",
    [
        (b"", pycfile.TruncatedError, 0),
        (b"i\x01\x00", pycfile.TruncatedError, 1),
        (b"s" + i32(10) + b"abc", pycfile.TruncatedError, 0),
        (b"s" + i32(-1), pycfile.BadMarshalError, 0),
        (b"(" + i32(0x7FFFFFFF), pycfile.TruncatedError, 0),
        (b"l" + i32(-0x7FFFFFFF), pycfile.TruncatedError, 0),
        (b"?", pycfile.BadMarshalError, 0),
        (b"r" + i32(0), pycfile.BadMarshalError, 0),
        (b")\x02N", pycfile.TruncatedError, 3),
        (b"0", pycfile.BadMarshalError, 0),
        (b"{" + b"N" + b"0", pycfile.BadMarshalError, 2),
    ],
)
def test_errors_say_what_and_where(data: bytes, error: type, offset: int) -> None:
    with pytest.raises(error) as info:
        pycfile.marshal.loads(data, version=V3)
    assert info.value.offset == offset
    assert "3.12" in str(info.value)
    assert f"at offset {offset}" in str(info.value)


def test_truncated_is_also_eof_error() -> None:
    with pytest.raises(EOFError):
        pycfile.marshal.loads(b"", version=V3)


def test_trailing_bytes_are_an_error_for_a_bare_stream() -> None:
    with pytest.raises(pycfile.BadMarshalError, match="1 bytes after") as info:
        pycfile.marshal.loads(b"NN", version=V3)
    assert info.value.offset == 1
    value, end = pycfile.marshal.loads_prefix(b"NN", version=V3)
    assert end == 1 and value == Singleton("N")


@pytest.mark.parametrize("version, limit", [((3, 12), 2000), ((2, 7), 2000), ((2, 4), 5000)])
def test_nesting_limit(version: tuple[int, int], limit: int) -> None:
    # Lists nested `limit` deep (a value at depth limit) load; one more level does not.
    ok = b"[" + i32(1)
    ok = ok * (limit - 1) + b"N"
    value = pycfile.marshal.loads(ok, version=version)
    assert pycfile.marshal.dumps(value, version=version) == ok
    too_deep = b"[" + i32(1)
    too_deep = too_deep * limit + b"N"
    with pytest.raises(pycfile.NestingTooDeepError):
        pycfile.marshal.loads(too_deep, version=version)
    if version == V3 and HOST >= (3, 11):  # the host agrees on where the limit is
        host_marshal.loads(ok)
        with pytest.raises(ValueError):
            host_marshal.loads(too_deep)


@pytest.mark.parametrize("opener", [b"(", b"[", b">", b"{"])
def test_to_python_of_the_deepest_value(opener: bytes) -> None:
    # Containers nested 1999 deep around None (the None at the limit, 2000) convert on
    # every host -- 3.12 limits C recursion apart from the recursion limit -- to the shape
    # the host's own marshal builds.
    depth = 1999
    if opener == b"{":  # {None: {None: ... None}}
        data = b"{N" * depth + b"N" + b"0" * depth
    else:
        data = (opener + i32(1)) * depth + b"N"
    shapes = []
    for value in (pycfile.to_python(pycfile.marshal.loads(data, version=V3)), host_marshal.loads(data)):
        kinds = []
        while value is not None:
            kinds.append(type(value).__name__)
            value = next(iter(value.values())) if isinstance(value, dict) else next(iter(value))
        shapes.append(kinds)
    assert shapes[0] == shapes[1] and len(shapes[0]) == depth


def test_error_path_names_the_place_in_the_tree() -> None:
    data = b")\x02N" + b"[" + i32(2) + b"N" + b"\x01"
    with pytest.raises(pycfile.BadMarshalError) as info:
        pycfile.marshal.loads(data, version=V3)
    assert info.value.path == "value[1][1]"
    assert info.value.offset == 9


# --- writer checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, version, message",
    [
        (Int(2**31, "i"), V3, "does not fit the 32 bits"),
        (Str("x" * 256, "z"), V3, "at most 255"),
        (Str("é", "a"), V3, None),  # Latin-1 is fine for 'a'
        (Str("€", "z"), V3, "cannot hold"),
        (Str("a", "z"), (3, 3), "cannot hold a Str"),
        (Bytes(b"a", "t"), V3, "cannot hold a Bytes"),
        (TupleValue([Singleton("N")] * 256, ")"), V3, "at most 255 items"),
        (Float(b"1234", "g"), V3, "8 bytes"),
        (Long(5, size=-1), V3, "cannot hold"),
    ],
)
def test_unwritable_models(value: pycfile.Value, version: tuple[int, int], message: str | None) -> None:
    if message is None:
        assert pycfile.marshal.loads(pycfile.marshal.dumps(value, version=version), version=version) == value
        return
    with pytest.raises(pycfile.UnwritableError, match=message):
        pycfile.marshal.dumps(value, version=version)


def test_code_of_another_layout_is_unwritable() -> None:
    pyc_312 = pycfile.loads(bytes.fromhex("cb0d0d0a") + bytes(12) + b"N")
    code = pycfile.Code23(0, 0, 0, 0, Bytes(b""), TupleValue([]), TupleValue([]), TupleValue([]), TupleValue([]), TupleValue([]),
                          Str("f"), Str("n"), 1, Bytes(b""))
    pyc_312.code = code
    with pytest.raises(pycfile.UnwritableError, match="Code23 cannot be written") as info:
        pycfile.dumps(pyc_312)
    assert info.value.path == "code"
