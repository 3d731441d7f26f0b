"""Pycs broken on purpose (tests/fixtures/broken/, made by scripts/make_broken.py).

Each must raise the specific :class:`pycfile.PycError` subclass -- never IndexError,
struct.error, KeyError, RecursionError or MemoryError -- whose message names the
problem, with the byte offset and object path that ``EXPECTED.json`` computed from how
the file was built.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import tracemalloc
from pathlib import Path
from types import ModuleType
from typing import Any, Dict

import pytest

import pycfile

TESTS = Path(__file__).resolve().parent
BROKEN = TESTS / "fixtures" / "broken"
SCRIPT = TESTS.parent / "scripts" / "make_broken.py"

EXPECTED: Dict[str, Dict[str, Any]] = json.loads((BROKEN / "EXPECTED.json").read_text(encoding="utf-8"))


def _make_broken() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_broken", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _expected_path(exp: Dict[str, Any]) -> str:
    path = exp["path"] or ""
    if exp.get("path_repeat"):
        step, count = exp["path_repeat"]
        path += step * count
    return str(path)


def test_broken_files_are_current() -> None:
    """The committed files are what the script makes from the committed fixtures."""
    files, expected = _make_broken().build()
    assert sorted(files) == sorted(EXPECTED)
    assert sorted(p.name for p in BROKEN.glob("*.pyc")) == sorted(files)
    for name, data in files.items():
        assert (BROKEN / name).read_bytes() == data, name
        want = {k: v for k, v in EXPECTED[name].items() if k != "interpreter_says"}
        got = {k: v for k, v in expected[name].items() if k != "run_interpreter"}
        assert got == want, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file(name: str) -> None:
    exp = EXPECTED[name]
    data = (BROKEN / name).read_bytes()
    # The real interpreter (where one was run at generation time) rejected it too.
    assert exp.get("interpreter_says") != "loaded"
    with pytest.raises(pycfile.PycError) as info:
        pycfile.loads(data)
    err = info.value
    assert type(err).__name__ == exp["error"], f"{type(err).__name__}: {err}"
    assert isinstance(err, pycfile.BadPycError) and isinstance(err, ValueError)
    if isinstance(err, pycfile.TruncatedError):
        assert isinstance(err, EOFError)
    assert exp["message"].lower() in err.reason.lower(), err.reason
    assert err.offset == exp["offset"], str(err)[:300]
    assert err.path == _expected_path(exp), str(err)[:300]
    if exp["version"]:
        assert err.version is not None and f" {exp['version']}" in err.version, err.version
    # str() carries the location too.
    assert f"offset {exp['offset']}" in str(err)


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if "huge" in n))
def test_huge_length_does_not_allocate(name: str) -> None:
    data = (BROKEN / name).read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(pycfile.TruncatedError):
            pycfile.loads(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The file is a few KB; a declared 2**31-1 length must not be believed.
    assert peak < 2_000_000, f"peak {peak} bytes"


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(b"s" + struct.pack("<i", 0x7FFFFFFF), id="bytes"),
        pytest.param(b"(" + struct.pack("<i", 0x7FFFFFFF) + b"N", id="tuple"),
        pytest.param(b"[" + struct.pack("<i", 0x7FFFFFFF) + b"N", id="list"),
        pytest.param(b"<" + struct.pack("<i", 0x7FFFFFFF) + b"N", id="set"),
        pytest.param(b"l" + struct.pack("<i", 0x7FFFFFFF) + b"\x01\x00", id="long"),
        pytest.param(b"l" + struct.pack("<i", -0x7FFFFFFF) + b"\x01\x00", id="negative-long"),
        pytest.param(b"u" + struct.pack("<i", 0x7FFFFFFF) + b"abc", id="unicode"),
        pytest.param(b"a" + struct.pack("<i", 0x7FFFFFFF) + b"abc", id="ascii"),
    ],
)
def test_huge_length_marshal_stream(stream: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(pycfile.TruncatedError) as info:
            pycfile.marshal.loads(stream, version=(3, 12))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.offset == 0
    assert peak < 1_000_000, f"peak {peak} bytes"


def _nested_lists(depth: int) -> bytes:
    return b"[\x01\x00\x00\x00" * (depth - 1) + b"[\x00\x00\x00\x00"


@pytest.mark.parametrize(
    "version, limit",
    [((3, 12), 2000), ((3, 4), 2000), ((2, 7), 2000), ((2, 5), 2000), ((2, 4), 5000), ((1, 5), 5000)],
)
def test_nesting_limit_boundary(version: Any, limit: int) -> None:
    """Exactly ``limit`` nested objects load (CPython 2.7/3.12 agree: 2000 do, 2001 don't)."""
    value = pycfile.marshal.loads(_nested_lists(limit), version=version)
    assert isinstance(value, pycfile.ListValue)
    with pytest.raises(pycfile.NestingTooDeepError) as info:
        pycfile.marshal.loads(_nested_lists(limit + 1), version=version)
    # The offset is that of the object one level too deep...
    assert info.value.offset == 5 * limit


@pytest.mark.parametrize("version, limit", [((3, 12), 2000), ((2, 4), 5000)])
def test_nesting_error_path(version: Any, limit: int) -> None:
    """...and the path names that same object: the (limit+1)-th list, value[0]...[0]
    with ``limit`` steps (the one at the offset the error gives)."""
    with pytest.raises(pycfile.NestingTooDeepError) as info:
        pycfile.marshal.loads(_nested_lists(limit + 1), version=version)
    assert info.value.path.count("[0]") == limit, f"{info.value.path.count('[0]')} steps"
    assert info.value.path == "value" + "[0]" * limit


def test_deep_nesting_in_2_4_pyc_loads_below_5000() -> None:
    """2.4 and older allow 5000: the 2.7 limit must not be applied to them."""
    data = (BROKEN / "py24_deep_nesting_5001_lists.pyc").read_bytes()
    ok = data[:8] + _nested_lists(2001)
    pyc = pycfile.loads(ok)
    assert pyc.version == (2, 4)
    assert pycfile.dumps(pyc) == ok
