"""pycfile.strategies as a public API: optional import, hypothesis registration,
``version=`` forms, the size knobs, and the fuzz harness's check function.

Whether the values are right (the interpreters read them, canonical ones re-dump
identically, every strategy round-trips) is tests/test_properties.py's job.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, List, Set

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pycfile
from pycfile import strategies as pst
from pycfile._code import Code

try:  # the format table: pycfile._formats where it exists, else the reader's
    from pycfile._formats import marshal_rules  # type: ignore[import-not-found]

    def readable_codes(fmt: pycfile.PycFormat) -> str:
        return "".join(sorted(marshal_rules(fmt).type_codes))

except ImportError:
    from pycfile._reader import readable_codes

from fuzz_harness import load_harness

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def test_import_pycfile_does_not_import_hypothesis() -> None:
    code = (
        "import sys, pycfile, pycfile.marshal, pycfile._hypothesis_hook\n"
        "bad = sorted(m for m in sys.modules if m == 'hypothesis' or m.startswith('hypothesis.') or m == 'pycfile.strategies')\n"
        "print(bad)\n"
    )
    # -S: no site-packages hooks; the worktree on sys.path (as an installed pycfile).
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(ROOT)
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_without_hypothesis_the_import_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['hypothesis'] = None  # as if it were not installed\n"
        "import pycfile\n"
        "try:\n"
        "    from pycfile import strategies\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, e.name, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(ROOT))
    assert out.stdout == (
        "ImportError hypothesis pycfile.strategies needs hypothesis, an optional dependency: "
        'pip install "pycfile[hypothesis]" (from a checkout of the repository: pip install -e ".[hypothesis]")\n'
    ), out.stdout + out.stderr


def test_strategies_import_before_hypothesis() -> None:
    """Importing pycfile.strategies first imports hypothesis, which runs pycfile's entry
    point while pycfile.strategies is half-initialised: the hook must cope (it did not)."""
    code = (
        "import pycfile.strategies as pst\n"
        "from hypothesis import strategies as st\n"
        "import pycfile\n"
        "print(type(st.from_type(pycfile.Str).example()).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0 and out.stdout.strip() == "Str", out.stderr[-2000:]


def test_entry_point_is_registered() -> None:
    every: Any = importlib.metadata.entry_points()
    group = every.select(group="hypothesis") if hasattr(every, "select") else every.get("hypothesis", [])  # 3.9: a dict
    points = [p for p in group if p.value.startswith("pycfile.")]
    assert {p.value for p in points} == {"pycfile._hypothesis_hook:_hypothesis_setup_hook"}, (
        "pip install -e . registers pycfile's hypothesis entry point (pyproject.toml)"
    )


MODEL_CLASSES: List[type] = [
    pycfile.Singleton,
    pycfile.Int,
    pycfile.Long,
    pycfile.Float,
    pycfile.Complex,
    pycfile.Bytes,
    pycfile.Str,
    pycfile.TupleValue,
    pycfile.ListValue,
    pycfile.DictValue,
    pycfile.SetValue,
    pycfile.FrozenSetValue,
    pycfile.Slice,
    pycfile.FrozenDict,
    pycfile.Code10,
    pycfile.Code13,
    pycfile.Code15,
    pycfile.Code21,
    pycfile.Code23,
    pycfile.Code30,
    pycfile.Code38,
    pycfile.Code310,
    pycfile.Code311a,
    pycfile.Code311,
    pycfile.CodePyPy416,
    pycfile.CodePyPy432,
    pycfile.PycHeader,
    pycfile.PycFile,
]


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_from_type_finds_the_strategies(cls: type) -> None:
    """The entry point's hook registered a strategy for every model class."""

    @settings(max_examples=5, database=None)
    @given(st.from_type(cls))
    def check(value: Any) -> None:
        assert type(value) is cls

    check()


VERSION_FORMS = [
    pytest.param((3, 12), id="tuple"),
    pytest.param(pycfile.PythonVersion(3, 12), id="PythonVersion"),
    pytest.param(pycfile.format_for_version((3, 12)), id="PycFormat"),
]


@pytest.mark.parametrize("version", VERSION_FORMS)
def test_version_forms(version: Any) -> None:
    fmt = pycfile.format_for_version((3, 12))

    @settings(max_examples=10, database=None)
    @given(pst.pyc_files(version=version))
    def check(pyc: pycfile.PycFile) -> None:
        assert pyc.format == fmt and type(pyc.code) is pycfile.Code311

    check()


def test_kinds_a_version_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="no type codes ':'"):
        pst.slices(version=(3, 13))
    with pytest.raises(ValueError, match="no type codes '<'"):
        pst.sets(version=(2, 4))
    with pytest.raises(ValueError, match="no pyc format is known"):
        pst.marshal_values(version=(4, 0))


def _walk(value: Any, depth: int = 1) -> Iterator[Any]:
    yield value, depth
    if isinstance(value, (pycfile.TupleValue, pycfile.ListValue, pycfile.SetValue, pycfile.FrozenSetValue)):
        for item in value.items:
            yield from _walk(item, depth + 1)
    elif isinstance(value, (pycfile.DictValue, pycfile.FrozenDict)):
        for k, v in value.items:
            yield from _walk(k, depth + 1)
            yield from _walk(v, depth + 1)
    elif isinstance(value, pycfile.Slice):
        for part in (value.start, value.stop, value.step):
            yield from _walk(part, depth + 1)


CONTAINERS = (pycfile.TupleValue, pycfile.ListValue, pycfile.SetValue, pycfile.FrozenSetValue, pycfile.DictValue, pycfile.FrozenDict, pycfile.Slice)


@settings(max_examples=60, database=None)
@given(
    data=st.data(),
    version=st.sampled_from([(2, 7), (3, 8), (3, 12), (3, 14)]),
    max_depth=st.integers(1, 4),
    max_leaves=st.integers(1, 10),
    max_size=st.integers(2, 20),
)
def test_size_knobs(data: st.DataObject, version: Any, max_depth: int, max_leaves: int, max_size: int) -> None:
    # Canonical values have no cycles, so depth is finite.
    value = data.draw(pst.marshal_values(version, canonical=True, max_depth=max_depth, max_leaves=max_leaves, max_size=max_size))
    nodes = list(_walk(value))
    assert max(depth for _, depth in nodes) <= max_depth
    leaves = {id(v) for v, _ in nodes if not isinstance(v, CONTAINERS)}
    # a dict's values and a slice's parts are drawn even past the budget
    assert len(leaves) <= 2 * max_leaves + 3
    for v, _ in nodes:
        if isinstance(v, (pycfile.Str, pycfile.Bytes)):
            assert len(v.value) <= max_size
        if isinstance(v, pycfile.Long):
            assert v.value.bit_length() <= 15 * (max_size // 2 + 1) + 32


def _written_codes(fmt: pycfile.PycFormat) -> Set[str]:
    """The type codes the writer of ``fmt``'s version writes (FACTS.md 3.2-3.3): every
    code its reader accepts (``readable_codes``, from the format table) but the text
    floats ``f``/``x`` once marshal version 2 writes binary ones, and ``I`` from 3.3,
    which writes ``l`` instead (1.5-3.2 write ``I`` for ints beyond 32 bits)."""
    codes = set(readable_codes(fmt))
    if fmt.marshal_version >= 2:
        codes -= {"f", "x"}
    if fmt.version >= (3, 3):
        codes.discard("I")
    return codes


def test_written_codes() -> None:
    """The table above, on the versions whose writers differ."""
    def written(version: Any) -> str:
        return "".join(sorted(_written_codes(pycfile.format_for_version(version))))

    assert "I" not in written((1, 4))
    assert "I" in written((1, 5)) and "I" in written((2, 2)) and "I" in written((3, 2))
    assert "I" not in written((3, 3)) and "I" not in written((3, 12))
    assert "f" in written((2, 4)) and "g" not in written((2, 4)) and "f" not in written((2, 5))


@settings(max_examples=40, database=None)
@given(st.data())
def test_canonical_flavour_uses_the_version_writers_codes(data: st.DataObject) -> None:
    """No canonical value carries a code its version's CPython does not write."""
    fmt = data.draw(st.sampled_from(pst.released_formats()))
    value = data.draw(pst.marshal_values(fmt, canonical=True, code=fmt.code_layout is not None))
    allowed = _written_codes(fmt)
    data_bytes = pycfile.marshal.dumps(value, version=fmt)
    model = pycfile.marshal.loads(data_bytes, version=fmt)
    for node, _ in _walk(model):
        code = getattr(node, "code", None) or getattr(node, "type_code", None)
        assert code in allowed, (code, fmt.label)
        if fmt.marshal_version < 3:
            assert not node.flag_ref


def test_anything_flavour_reaches_its_corners() -> None:
    """The anything flavour draws references, self-references, NaN payloads and lone
    surrogates (found by hypothesis's search, not fixed examples)."""
    from hypothesis import find

    values = pst.marshal_values((3, 12), max_leaves=8)

    def shared(v: Any) -> bool:
        ids = [id(n) for n, _ in _walk_shallow(v)]
        return len(ids) != len(set(ids))

    find(values, shared, settings=settings(max_examples=2000, database=None))
    find(values, lambda v: isinstance(v, pycfile.ListValue) and any(i is v for i in v.items), settings=settings(max_examples=5000, database=None))
    find(pst.floats((3, 12)), _quiet_nan_with_payload, settings=settings(max_examples=5000, database=None))
    find(pst.strs((3, 12)), lambda s: any(0xD800 <= ord(c) <= 0xDFFF for c in s.value), settings=settings(max_examples=5000, database=None))


def _quiet_nan_with_payload(f: Any) -> bool:
    """A binary float that is a quiet NaN (either sign) other than the default one.  (Not
    one exact top byte pair: some seeds met no such payload in 5000 examples.)"""
    if f.code != "g":
        return False
    bits = int.from_bytes(f.raw, "little")
    mantissa = bits & ((1 << 52) - 1)
    return (bits >> 52) & 0x7FF == 0x7FF and bool(mantissa >> 51) and mantissa != 1 << 51


def _walk_shallow(value: Any) -> Iterator[Any]:
    """Like _walk, but does not enter an object twice (cycles)."""
    seen = set()
    stack = [value]
    while stack:
        v = stack.pop()
        yield v, 0
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, (pycfile.TupleValue, pycfile.ListValue, pycfile.SetValue, pycfile.FrozenSetValue)):
            stack.extend(v.items)
        elif isinstance(v, (pycfile.DictValue, pycfile.FrozenDict)):
            stack.extend(x for pair in v.items for x in pair)


@settings(max_examples=30, database=None)
@given(st.data())
def test_code_objects_have_consistent_localsplus(data: st.DataObject) -> None:
    code = data.draw(pst.code_objects((3, 13), canonical=data.draw(st.booleans())))
    assert isinstance(code, pycfile.Code311)
    for c in code.walk():
        assert isinstance(c, pycfile.Code311)
        assert isinstance(c.co_localsplusnames, pycfile.TupleValue) and isinstance(c.co_localspluskinds, pycfile.Bytes)
        assert len(c.co_localsplusnames.items) == len(c.co_localspluskinds.value)
        assert c.co_nlocals >= c.co_argcount + c.co_kwonlyargcount + bool(c.co_flags & 4) + bool(c.co_flags & 8)


def test_fuzz_harness_check_runs_without_atheris() -> None:
    """fuzz/fuzz_pyc.py's TestOneInput (what atheris calls) accepts real pycs, broken
    ones and junk without raising."""
    harness = load_harness()
    files = sorted(FIXTURES.glob("*/*.pyc"))
    assert files
    for path in files[:: max(1, len(files) // 40)]:
        data = path.read_bytes()
        harness.TestOneInput(data)
        harness.TestOneInput(data[: len(data) // 2])
    harness.TestOneInput(b"")
    with pytest.raises(AssertionError):
        harness.check(b"x", load=lambda d: d, dump=lambda m: b"y")


def test_released_formats_cover_every_layout() -> None:
    layouts = {f.code_layout for f in pst.released_formats()}
    assert {c.layout for c in (pycfile.Code10, pycfile.Code23, pycfile.Code311)} <= layouts
    assert all(isinstance(f, pycfile.PycFormat) for f in pst.released_formats())
    assert issubclass(pycfile.Code311, Code)
