"""The magic table against the facts in shared/FACTS.md section 1-2, CPython's own list
of magic numbers, and what the real interpreters write."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import pycfile
from pycfile import CodeLayout, PythonVersion
from pycfile._versions import release_source

from interpreters import REQUIRED, Interpreter, discover, require
from oracle import OracleFor

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
    (3666, (3, 15)),
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
    [
        (62011, 0),
        (62061, 1),
        (62211, 2),
        (3180, 2),
        (3230, 2),
        (3310, 4),
        (3571, 4),
        (3607, 4),
        (3608, 5),  # 3.14a1 "Add support for slices"
        (3627, 5),
        (3650, 5),
        (3660, 5),
        (3661, 6),  # frozendict came while 3661 was current (3.15a4-a7)
        (3666, 6),
        (3700, 6),
        (336, 4),
    ],
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


# Every number a PyPy release is known to write: (magic, version, header size, layout).
PYPY = [
    (62218, (2, 7), 8, CodeLayout.V2_3),
    (48, (3, 2), 8, CodeLayout.V3_0),
    (64, (3, 3), 12, CodeLayout.V3_0),
    (112, (3, 5), 12, CodeLayout.V3_0),
    (160, (3, 6), 12, CodeLayout.V3_0),
    (192, (3, 6), 12, CodeLayout.V3_0),
    (224, (3, 7), 16, CodeLayout.V3_0),
    (240, (3, 7), 16, CodeLayout.V3_0),  # asked PyPy 7.3.5: 788 stdlib pycs read with it
    (256, (3, 8), 16, CodeLayout.V3_8),
    (336, (3, 9), 16, CodeLayout.V3_8),
    (384, (3, 10), 16, CodeLayout.V3_8),
    (400, (3, 11), 16, CodeLayout.V3_8),
    (416, (3, 11), 16, CodeLayout.PYPY_416),  # + co_qualname: asked PyPy 7.3.19, 1010 stdlib pycs round-trip
    (432, (3, 11), 16, CodeLayout.PYPY_432),  # + co_exceptiontable: asked PyPy 8.0.1, 1003 stdlib pycs round-trip
    (448, (3, 12), 16, CodeLayout.PYPY_432),  # no PyPy 3.12 here: 8.0's 3.11 layout, unconfirmed
]


@pytest.mark.parametrize("number, version, header_size, layout", PYPY)
def test_every_released_pypy_magic(number: int, version: Tuple[int, int], header_size: int, layout: Optional[CodeLayout]) -> None:
    fmt = pycfile.format_for_magic(magic_bytes(number))
    assert fmt.version == PythonVersion(*version, "pypy")
    assert fmt.header_size == header_size and fmt.code_layout is layout
    assert fmt.released


def test_pypy_defaults_are_the_latest_release_of_each_line() -> None:
    latest = {version: number for number, version, _h, _l in PYPY}  # PYPY is in release order
    for version, number in latest.items():
        assert pycfile.format_for_version(PythonVersion(*version, "pypy")).magic_number == number


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


# -- what the releases wrote --------------------------------------------------------------


@pytest.mark.parametrize(
    "number, first_release",
    [(3413, "3.8b4"), (3571, "3.13b2"), (3495, "3.11b4"), (3627, "3.14rc3"), (3666, "3.15b1")],
)
def test_released_magic_knows_its_first_release(number: int, first_release: str) -> None:
    fmt = pycfile.format_for_magic(magic_bytes(number))
    assert fmt.released and fmt.first_release == first_release
    assert fmt.release_note == f"first written by {first_release}"


def test_label_is_the_list_s_first_release_is_the_tree_s() -> None:
    # 3410 is labelled 3.8a1 in CPython's list, but 3.8a1-a3 wrote 3401 (FACTS.md 1.2).
    fmt = pycfile.format_for_magic(magic_bytes(3410))
    assert (fmt.label, fmt.first_release, fmt.released) == ("3.8a1", "3.8a4", False)
    assert fmt.release_note == "pre-release magic, written by 3.8a4"


def test_development_magics_are_not_released() -> None:
    for number in (3657, 3650, 3607, 3700, 3150):
        fmt = pycfile.format_for_magic(magic_bytes(number))
        assert not fmt.released and fmt.first_release == ""
        assert fmt.release_note == f"unreleased magic ({fmt.label})"
    assert pycfile.format_for_magic(magic_bytes(3700)).version == (3, 16)


def test_released_without_known_first_release() -> None:
    for number in (62211, 62212, 3350, 3379):
        fmt = pycfile.format_for_magic(magic_bytes(number))
        assert fmt.released and fmt.release_note == ""


def test_registered_magic_is_not_released() -> None:
    fmt = pycfile.register_magic(4244, like=(3, 8))
    try:
        assert not fmt.released and fmt.first_release == "" and fmt.release_note == "unreleased magic (3.8b4 (registered))"
    finally:
        from pycfile import _versions

        del _versions._BY_MAGIC[fmt.magic]


def test_every_default_says_where_it_comes_from() -> None:
    from pycfile.strategies import released_formats

    formats = released_formats()
    assert len(formats) == 31 + 11  # CPython 1.0-3.15; PyPy 2.7, 3.2, 3.3, 3.5-3.12
    for fmt in formats:
        source = release_source(fmt.version)
        assert source
        asked = re.match(r"asked (CPython|PyPy) (\d+)\.(\d+)", source)
        if asked and asked.group(1) == "CPython":
            assert (int(asked.group(2)), int(asked.group(3))) == (fmt.version.major, fmt.version.minor), source
        assert fmt.released


# -- asked of the real interpreters ------------------------------------------------------------


def _asked_magic(interpreter: Interpreter) -> bytes:
    code = "import sys\ntry:\n import importlib.util as u; m = u.MAGIC_NUMBER\nexcept ImportError:\n import imp; m = imp.get_magic()\nsys.stdout.write(m.hex() if hasattr(m, 'hex') else m.encode('hex'))"
    out = subprocess.run([interpreter.path, "-E", "-s", "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return bytes.fromhex(out.stdout.strip())


def _check_writes(interpreter: Interpreter, magic: bytes) -> pycfile.PycFormat:
    """``magic``, written by ``interpreter``, is its version's default (CPython: every
    release of a minor version writes one magic), or (PyPy, whose lines changed magic
    between releases: 3.6, 3.7, 3.11) a released magic of its version.  Returns its format."""
    default = pycfile.format_for_version(interpreter.version)
    fmt = pycfile.format_for_magic(magic)
    where = f"{interpreter}: {release_source(interpreter.version)}"
    if interpreter.implementation == "pypy":
        assert fmt.version == interpreter.version and fmt.released, where
    else:
        assert fmt.magic == default.magic and fmt.released, where
    return fmt


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_default_format_is_what_the_interpreter_writes(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    _check_writes(interpreter, bytes.fromhex(oracle_for(interpreter).info()["magic"]))


@pytest.mark.interpreters
def test_every_interpreter_found_writes_its_default_and_reads_back(tmp_path: Path) -> None:
    """Every interpreter found (PYCFILE_INTERPRETERS adds more, e.g. other PyPys) writes
    a magic the table has for its version, and a module it compiles has that format's
    header and reads back byte for byte where the code layout is known."""
    found = discover()
    if not found:
        pytest.skip("no interpreter found")
    source = tmp_path / "m.py"
    source.write_text("import os\ndef f(a, b=2, *args, **kw):\n    return [i * a for i in range(b)], {'k': 1.5}\n")
    for interpreter in found:
        fmt = _check_writes(interpreter, _asked_magic(interpreter))
        target = tmp_path / f"{interpreter.key}.pyc"
        compile_ = f"import py_compile; py_compile.compile({str(source)!r}, cfile={str(target)!r}, doraise=True)"
        subprocess.run([interpreter.path, "-E", "-s", "-c", compile_], check=True, timeout=120, capture_output=True)
        data = target.read_bytes()
        # the marshalled code object starts right after the header the table names
        assert data[:4] == fmt.magic and data[fmt.header_size] & 0x7F == ord("c"), interpreter
        if fmt.code_layout is not None:
            assert pycfile.dumps(pycfile.loads(data)) == data, interpreter


HASHING = [key for key in REQUIRED if key not in ("cpython-2.7", "cpython-3.6")]


@pytest.mark.interpreters
@pytest.mark.parametrize("key", HASHING)
def test_source_hash_for_a_version_is_the_interpreter_s(key: str, oracle_for: OracleFor) -> None:
    """``source_hash(src, (3, 15))`` (a version, not a pyc's format) keys SipHash with the
    magic the released interpreter writes."""
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    version = interpreter.version if interpreter.implementation == "pypy" else (interpreter.major, interpreter.minor)
    for source in (b"", b"x = 1\n", b"# \xc3\xa9\n" * 50):
        assert pycfile.source_hash(source, version) == oracle.source_hash(source), (key, source[:10])


def _magic_list(interpreter: Interpreter) -> Optional[Tuple[str, Dict[int, str], int]]:
    """The interpreter's own pycore_magic_number.h (3.14+ install it with the internal
    headers): its text, {number: label} for the 3.11+ lines, and PYC_MAGIC_NUMBER."""
    code = "import sysconfig; print(sysconfig.get_paths()['include'])"
    include = subprocess.run([interpreter.path, "-E", "-s", "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    header = Path(include, "internal", "pycore_magic_number.h")
    if not include or not header.is_file():
        return None
    text = header.read_text(encoding="utf-8")
    labels = {int(n): label for label, n in re.findall(r"^\s*Python (3\.1\d\w+)\s+(\d{4})\b", text, re.M)}
    defined = re.search(r"#define PYC_MAGIC_NUMBER (\d+)", text)
    assert defined, header
    return text, labels, int(defined.group(1))


@pytest.mark.interpreters
@pytest.mark.parametrize("key", ["cpython-3.14", "cpython-3.15"])
def test_every_number_in_the_interpreter_s_own_list(key: str) -> None:
    """Each 3.11+ line of the interpreter's installed magic list is in the table, with its
    version and label, and its PYC_MAGIC_NUMBER is the version's default."""
    interpreter = require(key)
    found = _magic_list(interpreter)
    if found is None:
        pytest.skip(f"{interpreter} installs no internal headers")
    _text, labels, defined = found
    assert len(labels) > 100  # 3.10a1 (3430) on
    for number, label in labels.items():
        fmt = pycfile.format_for_magic(magic_bytes(number))
        assert (fmt.label, str(fmt.version)) == (label, f"CPython {label[:4]}"), number
    assert pycfile.format_for_version(interpreter.version).magic_number == defined


@pytest.mark.interpreters
@pytest.mark.parametrize(
    "key, note",
    [("cpython-3.8", "first written by 3.8b4"), ("cpython-3.13", "first written by 3.13b2"), ("cpython-3.15", "first written by 3.15b1")],
)
def test_info_shows_the_version_plainly(key: str, note: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    """``pycfile info`` on a pyc of a final release: "CPython 3.8", not the list's "3.8b4"."""
    import sys

    path = tmp_path / "m.pyc"
    path.write_bytes(oracle_for(key).compile_source(b"x = 1\n", "m.py"))
    magic = path.read_bytes()[:4]
    out = subprocess.run([sys.executable, "-m", "pycfile", "info", str(path)], capture_output=True, text=True, check=True).stdout
    number = int.from_bytes(magic[:2], "little")
    assert f"version: CPython {key[8:]} (magic {number}, {magic.hex(' ')}; {note})\n" in out
