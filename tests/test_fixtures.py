"""The committed fixtures: pycs written by real interpreters (scripts/make_fixtures.py).

Each ``tests/fixtures/<impl>-<major>.<minor>/`` holds pycs and a ``MANIFEST.json`` of
what the interpreter itself said about them at generation time: its magic, the header
fields, and for every code object (depth first through ``co_consts``) its names, counts,
flags, bytecode and line-table digests and an encoding of each constant, as its own
``marshal.loads`` returned them.  pycfile must read the same things, and write each pyc
back byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import pycfile
from pycfile import (
    Bytes,
    Code,
    Complex,
    Float,
    FrozenSetValue,
    Int,
    Long,
    Singleton,
    Slice,
    Str,
    TupleValue,
)

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SAMPLES = TESTS / "samples"


def _fixture_dirs() -> List[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and (p / "MANIFEST.json").is_file())


def _manifest(d: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((d / "MANIFEST.json").read_text(encoding="utf-8"))
    return data


def _cases() -> List[Any]:
    cases = []
    for d in _fixture_dirs():
        for entry in _manifest(d)["files"]:
            cases.append(pytest.param(d, entry, id=f"{d.name}/{entry['file']}"))
    return cases


CASES = _cases()


def test_fixtures_exist() -> None:
    names = [d.name for d in _fixture_dirs()]
    # Committed, so always there: at least the 2.7 and a 3.x set.
    assert "cpython-2.7" in names and "cpython-3.12" in names, names
    for d in _fixture_dirs():
        listed = {e["file"] for e in _manifest(d)["files"]}
        present = {p.name for p in d.glob("*.pyc")}
        assert listed == present, f"{d.name}: MANIFEST.json and the pycs disagree"


# ---- pycfile values in the manifest's encoding ------------------------------------


def _text(v: Any) -> str:
    """A name or file name: a 3.x Str, or a 2.x 8-bit string."""
    if isinstance(v, Str):
        return v.value
    assert isinstance(v, Bytes), f"expected a string, got {v!r}"
    return v.value.decode("latin-1")


def _names(v: Any) -> List[str]:
    assert isinstance(v, TupleValue), f"expected a tuple of names, got {type(v).__name__}"
    return [_text(n) for n in v.items]


def _fbits(raw: bytes, code: str) -> str:
    if code in "gy":
        return raw.hex()
    return struct.pack("<d", float(raw.decode("latin-1"))).hex()


def _digest(b: bytes) -> str:
    return f"{len(b)}:{hashlib.sha256(b).hexdigest()[:16]}"


def _encode(v: Any, codes: List[Any]) -> Any:
    if isinstance(v, Singleton):
        return {"N": ["None"], "T": ["bool", True], "F": ["bool", False], ".": ["Ellipsis"]}[v.code]
    if isinstance(v, (Int, Long)):
        return ["int", str(v.value)]
    if isinstance(v, Float):
        return ["float", _fbits(v.raw, v.code)]
    if isinstance(v, Complex):
        return ["complex", _fbits(v.real, v.code), _fbits(v.imag, v.code)]
    if isinstance(v, Bytes):
        return ["bytes", v.value.hex()]
    if isinstance(v, Str):
        return ["str", v.value]
    if isinstance(v, TupleValue):
        return ["tuple", [_encode(i, codes) for i in v.items]]
    if isinstance(v, FrozenSetValue):
        return ["frozenset", sorted(json.dumps(_encode(i, codes), sort_keys=True) for i in v.items)]
    if isinstance(v, Slice):
        return ["slice", _encode(v.start, codes), _encode(v.stop, codes), _encode(v.step, codes)]
    if isinstance(v, Code):
        return ["code", _code_facts(v, codes)]
    return ["other", type(v).__name__, repr(v)]


def _code_facts(co: Any, codes: List[Any]) -> int:
    """The facts the generator recorded, taken from pycfile's model (same walk order)."""
    index = len(codes)
    facts: Dict[str, Any] = {}
    codes.append((co, facts))
    facts["co_name"] = _text(co.co_name)
    facts["co_filename"] = _text(co.co_filename)
    if hasattr(co, "co_qualname"):
        facts["co_qualname"] = _text(co.co_qualname)
    for attr in (
        "co_argcount",
        "co_posonlyargcount",
        "co_kwonlyargcount",
        "co_nlocals",
        "co_stacksize",
        "co_flags",
        "co_firstlineno",
    ):
        if hasattr(co, attr):
            facts[attr] = getattr(co, attr)
    for attr in ("co_names", "co_varnames", "co_freevars", "co_cellvars"):
        facts[attr] = _names(getattr(co, attr))
    facts["co_code"] = _digest(co.co_code.value)
    for attr in ("co_lnotab", "co_linetable", "co_exceptiontable"):
        if hasattr(co, attr):
            facts[attr] = _digest(getattr(co, attr).value)
    facts["consts"] = [_encode(c, codes) for c in co.co_consts.items]
    return index


def _load(d: Path, entry: Dict[str, Any]) -> Tuple[bytes, pycfile.PycFile]:
    data = (d / entry["file"]).read_bytes()
    return data, pycfile.loads(data)


# ---- the tests -----------------------------------------------------------------------


@pytest.mark.parametrize("d, entry", CASES)
def test_round_trip(d: Path, entry: Dict[str, Any]) -> None:
    data, pyc = _load(d, entry)
    assert len(data) == entry["size"]
    assert pyc.trailer == b""
    assert pycfile.dumps(pyc) == data


@pytest.mark.parametrize("d, entry", CASES)
def test_header(d: Path, entry: Dict[str, Any]) -> None:
    manifest = _manifest(d)
    data, pyc = _load(d, entry)
    major, minor = manifest["version"][:2]
    assert pyc.version == (major, minor)
    assert pyc.version.implementation == manifest["implementation"]
    assert d.name == f"{manifest['implementation']}-{major}.{minor}"
    h = pyc.header
    assert h.magic.hex() == manifest["magic"]
    assert pyc.format.magic_number == manifest["magic_number"]
    assert h.size == entry["header_size"]
    expected = entry["header"]
    assert h.flags == expected.get("flags")
    assert h.mtime == expected.get("mtime")
    if "mtime" in expected:
        assert h.mtime == manifest["fixed_mtime"]
    if entry["header_size"] >= 12 and "source_size" in expected:
        assert h.source_size == expected["source_size"] == entry["source_size"]
    else:
        assert h.source_size is None
    if "source_hash" in expected:
        assert h.hash_based
        assert h.source_hash is not None and h.source_hash.hex() == expected["source_hash"]
        assert h.check_source == (entry["invalidation_mode"] == "CHECKED_HASH")
        source = (TESTS.parent / entry["sample"]).read_bytes()
        # pycfile's SipHash against the interpreter's importlib.util.source_hash.
        assert pycfile.source_hash(source, pyc.format).hex() == expected["expected_source_hash"]
    else:
        assert h.source_hash is None
        assert not h.hash_based


@pytest.mark.parametrize("d, entry", CASES)
def test_code_objects_match_interpreter(d: Path, entry: Dict[str, Any]) -> None:
    manifest = _manifest(d)
    _, pyc = _load(d, entry)
    codes: List[Any] = []
    _code_facts(pyc.code, codes)
    expected = entry["code_objects"]
    got_names = [facts["co_name"] for _, facts in codes]
    assert got_names == [e["co_name"] for e in expected]
    for (co, facts), want in zip(codes, expected):
        where = f"{entry['file']}: code object {facts['co_name']!r}"
        for key, value in facts.items():
            assert key in want, f"{where}: the interpreter has no {key}"
            assert value == want[key], f"{where}: {key}"
        missing = set(want) - set(facts) - {"const_reprs"}
        assert not missing, f"{where}: pycfile lacks {sorted(missing)}"
        # The interpreter's own repr of numbers and bytes (stable across 3.x only:
        # 2.x writes 1L and '' for longs and str).
        if manifest["version"][0] == 3:
            for const, text in zip(co.co_consts.items, want["const_reprs"]):
                if text is not None:
                    assert repr(pycfile.to_python(const)) == text, where


@pytest.mark.parametrize("d, entry", CASES)
def test_module_code_facts(d: Path, entry: Dict[str, Any]) -> None:
    _, pyc = _load(d, entry)
    code = pyc.code
    assert isinstance(code, Code)
    assert type(code) is pycfile.code_class(pyc.format.code_layout)  # type: ignore[arg-type]
    assert _text(code.co_name) == "<module>"  # type: ignore[attr-defined]
    assert _text(code.co_filename) == entry["sample"]  # type: ignore[attr-defined]
    py3 = pyc.version >= (3, 0)
    for co in code.walk():
        assert isinstance(co.co_name, Str if py3 else Bytes)  # type: ignore[attr-defined]
        assert co.co_filename == code.co_filename  # type: ignore[attr-defined]
