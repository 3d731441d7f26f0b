"""The magic table against the facts in shared/FACTS.md section 1-2."""

from __future__ import annotations

import pytest

import pycfile
from pycfile import CodeLayout, PythonVersion

# (magic number, version) of each release: FACTS.md 1.2 (read from the release trees).
RELEASES = [
    (11913, (1, 3)),
    (5892, (1, 4)),
    (20121, (1, 5)),
    (50428, (1, 6)),
    (50823, (2, 0)),
    (60202, (2, 1)),
    (60717, (2, 2)),
    (62011, (2, 3)),
    (62061, (2, 4)),
    (62131, (2, 5)),
    (62161, (2, 6)),
    (62211, (2, 7)),
    (3131, (3, 0)),
    (3151, (3, 1)),
    (3180, (3, 2)),
    (3230, (3, 3)),
    (3310, (3, 4)),
    (3350, (3, 5)),
    (3351, (3, 5)),
    (3379, (3, 6)),
    (3394, (3, 7)),
    (3413, (3, 8)),
    (3425, (3, 9)),
    (3439, (3, 10)),
    (3495, (3, 11)),
    (3531, (3, 12)),
    (3571, (3, 13)),
    (3627, (3, 14)),
]


def magic_bytes(number: int) -> bytes:
    return number.to_bytes(2, "little") + b"\r\n"


@pytest.mark.parametrize("number, version", RELEASES)
def test_release_magics(number: int, version: tuple[int, int]) -> None:
    fmt = pycfile.format_for_magic(magic_bytes(number))
    assert fmt.version == version
    assert fmt.magic_number == number


def test_one_point_zero_magics_have_no_crlf() -> None:
    assert pycfile.format_for_magic(bytes.fromhex("02999900")).version == (1, 0)
    assert pycfile.format_for_magic(bytes.fromhex("03999900")).version == (1, 1)


@pytest.mark.parametrize(
    "number, header_size",
    [(62211, 8), (3131, 8), (3180, 8), (3200, 8), (3210, 12), (3379, 12), (3391, 12), (3392, 16), (3571, 16)],
)
def test_header_eras(number: int, header_size: int) -> None:
    assert pycfile.format_for_magic(magic_bytes(number)).header_size == header_size


@pytest.mark.parametrize(
    "number, layout",
    [
        (5892, CodeLayout.V1_3),
        (20121, CodeLayout.V1_5),
        (60717, CodeLayout.V2_1),
        (62211, CodeLayout.V2_3),
        (3401, CodeLayout.V3_0),  # 3.8a1-a3 still without posonlyargcount
        (3410, CodeLayout.V3_8),
        (3425, CodeLayout.V3_8),
        (3430, CodeLayout.V3_8),  # 3.10a1 still co_lnotab
        (3431, CodeLayout.V3_10),
        (3460, CodeLayout.V3_11A),
        (3493, CodeLayout.V3_11A),
        (3494, CodeLayout.V3_11),
        (3627, CodeLayout.V3_11),
    ],
)
def test_code_layout_by_magic_not_by_minor(number: int, layout: CodeLayout) -> None:
    assert pycfile.format_for_magic(magic_bytes(number)).code_layout is layout


@pytest.mark.parametrize(
    "number, marshal_version",
    [(62011, 0), (62061, 1), (62211, 2), (3180, 2), (3230, 2), (3310, 4), (3571, 4), (3607, 4), (3608, 5), (3627, 5)],
)
def test_marshal_versions(number: int, marshal_version: int) -> None:
    assert pycfile.format_for_magic(magic_bytes(number)).marshal_version == marshal_version


def test_variant_magics() -> None:
    # -U writes MAGIC + 1 in 2.x (2.7: 62212); 3.1 writes its define + 1.
    assert pycfile.format_for_magic(magic_bytes(62212)).version == (2, 7)
    assert "-U" in pycfile.format_for_magic(magic_bytes(62212)).label
    assert pycfile.format_for_magic(magic_bytes(3150)).version == (3, 1)


def test_pypy_magics() -> None:
    fmt = pycfile.format_for_magic(bytes.fromhex("50010d0a"))  # PyPy 3.9, FACTS.md 1.6
    assert fmt.version == PythonVersion(3, 9, "pypy")
    assert fmt.version.implementation == "pypy"
    assert pycfile.format_for_magic(magic_bytes(384)).version == PythonVersion(3, 10, "pypy")
    assert pycfile.format_for_magic(magic_bytes(62218)).version == PythonVersion(2, 7, "pypy")


def test_unknown_magic_names_the_number() -> None:
    with pytest.raises(pycfile.UnknownMagicError, match="unknown magic number 4242") as info:
        pycfile.loads(magic_bytes(4242) + bytes(12) + b"N")
    assert info.value.offset == 0
    assert isinstance(info.value, ValueError)


def test_version_override_reads_an_unknown_magic_and_keeps_it() -> None:
    data = magic_bytes(4242) + bytes(12) + b"N"
    pyc = pycfile.loads(data, version=(3, 12))
    assert pyc.version == (3, 12)
    assert pyc.header.magic == magic_bytes(4242)
    assert pycfile.dumps(pyc) == data


def test_register_magic() -> None:
    fmt = pycfile.register_magic(4243, like=(3, 12), label="my build")
    try:
        pyc = pycfile.loads(magic_bytes(4243) + bytes(12) + b"N")
        assert pyc.format is fmt
        assert pyc.version == (3, 12)
        with pytest.raises(ValueError, match="already known"):
            pycfile.register_magic(4243, like=(3, 12))
    finally:
        from pycfile import _versions

        del _versions._BY_MAGIC[fmt.magic]


def test_python_version_compares_with_tuples() -> None:
    v = PythonVersion(3, 12)
    assert v == (3, 12)
    assert v >= (3, 8)
    assert v < (3, 13)
    assert PythonVersion(3, 9, "pypy") == (3, 9)
    assert PythonVersion(3, 9, "pypy") != PythonVersion(3, 9)
    assert str(PythonVersion(3, 9, "pypy")) == "PyPy 3.9"
    assert pycfile.as_version((2, 7)) == PythonVersion(2, 7)
    with pytest.raises(TypeError):
        pycfile.as_version("3.12")  # type: ignore[arg-type]


def test_every_format_is_consistent() -> None:
    formats = pycfile.known_formats()
    assert len({f.magic for f in formats}) == len(formats)
    for f in formats:
        assert pycfile.format_for_magic(f.magic) is f
        assert f.header_size in (8, 12, 16)
        assert (f.header_size == 16) == (f.version >= (3, 7) and f.magic_number not in (3390, 3391))
