"""The C accelerator (pycfile/_speedups.c) against the pure-Python reader and writer.

The pure-Python code is the reference: for every input the accelerator either gives up
(returns None, and the pure code runs) or gives exactly what the pure code gives -- an
equal model with the same sharing (so it writes back the same bytes), or the same
bytes.  Checked on every interpreter's corpus (where it must not give up at all, so
these checks cannot pass by giving up), the shared samples of every version, and
hypothesis-generated values, pycs, random bytes and mutated pycs.

The extension must be built: a missing one fails here, unless ``PYCFILE_PURE=1`` says
pure Python is meant (the opt-out; then the checks that need it skip).
"""

from __future__ import annotations

import gc
import importlib
import os
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pycfile
from pycfile import _accel, _reader, _writer
from pycfile import strategies as pst

from corpus import corpus_part, modes, quick
from interpreters import REQUIRED, require
from model_compare import same_model
from model_strategies import mutated, strategies_for
import shared_samples

PURE = bool(os.environ.get("PYCFILE_PURE"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STRIDE = 4  # over the full corpus's stdlib pycs
QUICK_STRIDE = 3  # over the quick one's (a tenth of the stdlib): the default run stays short
EXAMPLES = max(10, settings.default.max_examples // (6 if quick() else 1))

try:
    speedups: Any = importlib.import_module("pycfile._speedups")
except ImportError:
    speedups = None


def test_the_accelerator_is_built_and_used() -> None:
    if PURE:
        assert not _accel.ENABLED, "PYCFILE_PURE is set, yet the accelerator is in use"
        return
    assert speedups is not None, (
        "pycfile._speedups did not build (see the pip install output); set PYCFILE_PURE=1 to test pure Python only"
    )
    assert _accel.ENABLED


@pytest.fixture(scope="module")
def c() -> "Accelerated":
    if speedups is None:
        if PURE:
            pytest.skip("PYCFILE_PURE is set and the extension is not built")
        pytest.fail("pycfile._speedups did not build; set PYCFILE_PURE=1 to test pure Python only")
    return Accelerated()


class Accelerated:
    """The extension's read and write for any format, beside the pure-Python ones."""

    def __init__(self) -> None:
        self.plans: Dict[int, Tuple[pycfile.PycFormat, Any]] = {}

    def plan(self, fmt: pycfile.PycFormat) -> Any:
        got = self.plans.get(id(fmt))
        if got is None or got[0] is not fmt:
            got = self.plans[id(fmt)] = (fmt, _accel.make_plan(fmt, speedups))
        assert got[1] is not None, f"no accelerator plan for {fmt.label}"
        return got[1]

    def read(self, data: bytes, pos: int, fmt: pycfile.PycFormat) -> Optional[Tuple[Any, int]]:
        result: Optional[Tuple[Any, int]] = speedups.read(self.plan(fmt), data, pos)
        return result

    def write(self, value: Any, fmt: pycfile.PycFormat) -> Optional[bytes]:
        result: Optional[bytes] = speedups.write(self.plan(fmt), value)
        return result


class _Pure:
    def __enter__(self) -> None:
        self.was = _accel.ENABLED
        _accel.ENABLED = False

    def __exit__(self, *exc: object) -> None:
        _accel.ENABLED = self.was


def pure_read(data: bytes, pos: int, fmt: pycfile.PycFormat) -> Tuple[Any, int]:
    with _Pure():
        return _reader.read_value(data, pos, fmt)


def pure_write(value: Any, fmt: pycfile.PycFormat) -> bytes:
    with _Pure():
        return _writer.write_value(value, fmt)


def _agree(got: Any, pure: Callable[[], Any], must_accelerate: bool, what: str) -> Any:
    """The pure code's result when the accelerator's (``got``) is to be compared with it;
    None when the accelerator rightly gave up (the pure code refuses, or may be alone)."""
    try:
        want = pure()
    except pycfile.PycError as e:
        assert got is None, f"the accelerator did {what} what the pure code refuses ({e})"
        return None
    assert got is not None or not must_accelerate, f"the accelerator gave up on {what} it must do"
    return None if got is None else want


def agree_on_read(c: Accelerated, data: bytes, pos: int, fmt: pycfile.PycFormat, must_accelerate: bool = False) -> bool:
    """The accelerator reads ``data`` as the pure reader does, or gives up; True if it read."""
    got = c.read(data, pos, fmt)
    want = _agree(got, lambda: pure_read(data, pos, fmt), must_accelerate, "a read")
    if want is None:
        return False
    assert got[1] == want[1], "a different end offset"
    assert same_model(got[0], want[0]), "a different model, or the same with different sharing"
    return True


def agree_on_write(c: Accelerated, value: Any, fmt: pycfile.PycFormat, must_accelerate: bool = False) -> bool:
    """The accelerator writes ``value`` as the pure writer does, or gives up; True if it wrote."""
    got = c.write(value, fmt)
    want = _agree(got, lambda: pure_write(value, fmt), must_accelerate, "a write")
    if want is None:
        return False
    assert got == want, "different bytes"
    return True


# ---- real pycs -----------------------------------------------------------------------------------


def _corpus(key: str) -> Iterator[Path]:
    """The interpreter's pycs, every mode: every STRIDE-th stdlib pyc of the full corpus,
    every QUICK_STRIDE-th of the quick one; every sample module's."""
    interpreter = require(key)
    for mode in modes(interpreter.major, interpreter.minor):
        part = corpus_part(interpreter, mode)
        yield from part.stdlib[:: QUICK_STRIDE if quick() else STRIDE]
        yield from part.samples


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_corpus(c: Accelerated, key: str) -> None:
    """The interpreter's pycs, every mode, read and written by the accelerator as by the
    pure code; it may give up only on pycs holding a long of more than 64 digits (2.7's
    tests).  A stride over the stdlib (see _corpus; test_real_pycs.py round-trips every
    pyc through whichever code is in use)."""
    files = list(_corpus(key))
    assert files
    gave_up = [path for path in files if not agree_on_pyc(c, path)]
    allowed = [path for path in gave_up if _has_big_long(pycfile.load(path).code)]
    assert gave_up == allowed, f"gave up on {len(gave_up)} of {len(files)}: {[str(p) for p in gave_up[:5]]}"
    assert len(gave_up) * 50 < len(files)


def agree_on_pyc(c: Accelerated, path: Path, must_accelerate: bool = False) -> bool:
    """The accelerator reads the pyc at ``path`` and writes its model as the pure code
    does, or gives up; True if it did both."""
    data = path.read_bytes()
    with _Pure():
        pyc = pycfile.loads(data)
    fmt = pyc.header.format
    read = agree_on_read(c, data, fmt.header_size, fmt, must_accelerate)
    return agree_on_write(c, pyc.code, fmt, must_accelerate) and read


def _has_big_long(value: Any) -> bool:
    """Whether the model holds a Long of more than 64 15-bit digits."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, pycfile.Long) and abs(v.value) >> (15 * 64):
            return True
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif hasattr(v, "__attrs_attrs__"):
            stack.extend(getattr(v, a.name) for a in v.__attrs_attrs__)
    return False


@pytest.mark.shared_samples
def test_shared_samples(c: Accelerated) -> None:
    """Every sample of every version: the same model and bytes, or a fall-back (text floats
    before 2.5, 3.14 slices, the layouts of 1.x ...); none for 3.0-3.13 and PyPy."""
    files = shared_samples.files("**/*.pyc")
    assert files
    for path in files:
        version = pycfile.read_header(path).version
        must = (3, 0) <= version < (3, 14) or version.implementation == "pypy"
        agree_on_pyc(c, path, must)


# ---- generated values and pycs ----------------------------------------------------------------------

RELEASED = pst.released_formats()


@settings(max_examples=EXAMPLES * 3)
@given(data=st.data())
def test_generated_values_and_pycs(c: Accelerated, data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(RELEASED), label="format")
    name, item = data.draw(strategies_for(fmt), label="strategy and example")
    if name == "headers":
        return
    value = item.code if name == "pyc_files" else item
    agree_on_write(c, value, fmt)
    try:
        raw = pure_write(value, fmt)
    except pycfile.PycError:
        return
    agree_on_read(c, raw, 0, fmt)
    agree_on_read(c, b"\x00" + raw + b"tail", 1, fmt)


def _fixtures() -> List[Path]:
    files = sorted(p for p in FIXTURES.glob("*/*.pyc") if p.parent.name != "broken")
    assert files, f"no fixture pycs in {FIXTURES}"
    return files


@settings(max_examples=EXAMPLES * 2)
@given(data=st.data())
def test_mutated_pycs(c: Accelerated, data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(_fixtures()), label="fixture").read_bytes()
    with _Pure():
        fmt = pycfile.loads(original).header.format
    bad = data.draw(mutated(original), label="mutated")
    agree_on_read(c, bad, fmt.header_size, fmt)


@settings(max_examples=EXAMPLES)
@given(raw=st.binary(max_size=300), data=st.data())
def test_random_bytes(c: Accelerated, raw: bytes, data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(RELEASED), label="format")
    agree_on_read(c, raw, 0, fmt)


# ---- what the accelerator leaves to the pure code ---------------------------------------------------


def test_deep_nesting_goes_to_the_pure_code(c: Accelerated) -> None:
    fmt = pycfile.format_for_version((3, 11))
    deep = b")\x01" * 1500 + b"N"
    assert c.read(deep, 0, fmt) is None
    value, end = pycfile.marshal.loads_prefix(deep, version=fmt)
    assert end == len(deep)
    assert c.write(value, fmt) is None
    assert pycfile.marshal.dumps(value, version=fmt) == deep
    too_deep = b")\x01" * 2100 + b"N"
    with pytest.raises(pycfile.NestingTooDeepError):
        pycfile.marshal.loads(too_deep, version=fmt)


def test_errors_come_from_the_pure_code() -> None:
    """With the accelerator in use, a bad pyc still fails with the pure reader's error."""
    fmt = pycfile.format_for_version((3, 12))
    data = pycfile.marshal.dumps(pycfile.TupleValue([pycfile.Str("abc", "z"), pycfile.Int(7)], ")"), version=fmt)
    cut = data[:-2]
    with pytest.raises(pycfile.TruncatedError) as accelerated:
        pycfile.marshal.loads(cut, version=fmt)
    with _Pure(), pytest.raises(pycfile.TruncatedError) as pure:
        pycfile.marshal.loads(cut, version=fmt)
    assert str(accelerated.value) == str(pure.value)
    assert accelerated.value.offset == pure.value.offset


def test_no_leaks(c: Accelerated) -> None:
    """Reading, writing and giving up half-way leave no memory behind."""
    path = sorted(FIXTURES.glob("cpython-3.1[1-3]/*.pyc"))[0]
    data = path.read_bytes()
    with _Pure():
        pyc = pycfile.loads(data)
    fmt = pyc.header.format
    start = fmt.header_size
    cuts = [data[: start + k * (len(data) - start) // 10] for k in range(1, 10)]

    def work() -> None:
        for _ in range(20):
            value, _ = c.read(data, start, fmt)
            assert c.write(value, fmt) == data[start : len(data) - len(pyc.trailer)]
            for cut in cuts:
                assert c.read(cut, start, fmt) is None

    work()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        work()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 20_000, f"{grown} bytes left behind by 20 rounds"
