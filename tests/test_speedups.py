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
import struct
import subprocess
import sys
import sysconfig
import textwrap
import threading
import tracemalloc
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pycfile
from pycfile import _accel, _reader, _writer
from pycfile import strategies as pst

from corpus import corpus_part, every_pyc, modes, quick
from interpreters import REQUIRED, require
from model_compare import same_model
from small_stacks import stack_kib
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
        yield from part.stdlib[:: STRIDE if every_pyc() else QUICK_STRIDE]
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
    before 2.5, the layouts of 1.x ...); none from 2.5 on (3.14 slices and 3.15
    frozendicts included) and for PyPy."""
    files = shared_samples.files("**/*.pyc")
    assert files
    for path in files:
        version = pycfile.read_header(path).version
        must = version >= (2, 5) or version.implementation == "pypy"
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

    new = pycfile.format_for_version((3, 15))  # slices and frozendicts, flagged
    s = pycfile.Str("k", "z", True)
    parts = pycfile.Slice(pycfile.Int(1), pycfile.Singleton("N"), s, ":", True)
    newer = pure_write(pycfile.TupleValue([parts, pycfile.FrozenDict([(s, parts)], "}", True), parts]), new)
    newer_cuts = [newer[:k] for k in range(1, len(newer))]

    def work() -> None:
        for _ in range(20):
            value, _ = c.read(data, start, fmt)
            assert c.write(value, fmt) == data[start : len(data) - len(pyc.trailer)]
            for cut in cuts:
                assert c.read(cut, start, fmt) is None
            value, _ = c.read(newer, 0, new)
            assert c.write(value, new) == newer
            for cut in newer_cuts:
                assert c.read(cut, 0, new) is None

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


# ---- the plan: the extension and the pure code agree by name --------------------------------------


def test_a_plan_for_every_known_format(c: Accelerated) -> None:
    """For every format in the table, the extension knows every handler name of the pure
    reader, every model class, and fills each class's fields exactly: a plan is made
    (a ValueError here says what disagrees)."""
    formats = pycfile._versions.known_formats()
    assert len(formats) > 100
    for fmt in formats:
        assert _accel._make_plan(_accel._pure_facts(fmt), speedups) is not None, fmt.label


def test_the_facts_are_the_pure_codes() -> None:
    """The handler names come from the pure reader's own functions, the allowed codes from
    the pure writer: spot checks, so that a wrong _pure_facts cannot agree with itself."""
    facts = _accel._pure_facts(pycfile.format_for_version((3, 12)))
    assert facts.handlers[ord("(")] == "tuple" and facts.handlers[ord(")") | 0x80] == "small_tuple"
    assert facts.handlers[ord("r")] == "ref" and facts.handlers[ord("u")] == "utf8"
    assert facts.handlers[ord("N")] == "singleton" and facts.singletons[ord("N")] == pycfile.Singleton("N")
    assert facts.handlers[ord("f")] == "float_text" and facts.handlers[0] == ""
    assert facts.handlers[ord("z")] == "short_latin" and facts.handlers[ord("i")] == "int32"
    assert facts.classes["Code"] is pycfile.Code311 and facts.classes["Str"] is pycfile.Str
    assert facts.code_fields[:2] == ("co_argcount", "co_posonlyargcount") and facts.refs
    assert set(facts.allowed["Str"]) == set("utaAzZ")
    old = _accel._pure_facts(pycfile.format_for_version((2, 7)))
    assert old.handlers[ord("t")] == "interned_bytes" and old.handlers[ord("R")] == "string_ref"
    assert not old.refs and old.handlers[ord("(") | 0x80] == ""


@attrs.define
class Str:  # a Str with a field the extension does not fill
    value: str
    code: str = "u"
    flag_ref: bool = False
    note: str = ""


@attrs.define
class StrValidated:
    value: str = attrs.field(validator=attrs.validators.instance_of(str))
    code: str = "u"
    flag_ref: bool = False


@attrs.define
class StrConverted:
    value: str = attrs.field(converter=str)
    code: str = "u"
    flag_ref: bool = False


@attrs.define
class StrHooked:
    value: str
    code: str = "u"
    flag_ref: bool = False

    def __attrs_post_init__(self) -> None:
        self.value = self.value.upper()


@attrs.define
class StrSetattr:
    value: str
    code: str = "u"
    flag_ref: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)


@attrs.define(slots=False)
class StrDict:  # fields in an instance __dict__, not slots
    value: str
    code: str = "u"
    flag_ref: bool = False


def _with(facts: _accel.PureFacts, **changes: Any) -> _accel.PureFacts:
    return facts._replace(**changes)


def _handlers(facts: _accel.PureFacts, old: str, new: str) -> Tuple[str, ...]:
    return tuple(new if h == old else h for h in facts.handlers)


MISMATCHES: Dict[str, Callable[[_accel.PureFacts], _accel.PureFacts]] = {
    "a handler name the extension does not know": lambda f: _with(f, handlers=_handlers(f, "tuple", "tuple_v2")),
    "a model class the extension does not know": lambda f: _with(f, classes={**f.classes, "Decimal": Str}),
    "a field the extension does not fill": lambda f: _with(f, classes={**f.classes, "Str": Str}),
    "a field missing": lambda f: _with(f, classes={**f.classes, "Int": pycfile.Singleton}),
    "a validator": lambda f: _with(f, classes={**f.classes, "Str": StrValidated}),
    "a converter": lambda f: _with(f, classes={**f.classes, "Str": StrConverted}),
    "an __attrs_post_init__": lambda f: _with(f, classes={**f.classes, "Str": StrHooked}),
    "a __setattr__": lambda f: _with(f, classes={**f.classes, "Str": StrSetattr}),
    "fields in a __dict__": lambda f: _with(f, classes={**f.classes, "Str": StrDict}),
    "code fields of another layout": lambda f: _with(f, code_fields=f.code_fields[1:] + ("co_extra",)),
    "a code layout that does not add up": lambda f: _with(f, code_steps=f.code_steps[:-1]),
    "a singleton that is not a Singleton": lambda f: _with(f, singletons=(pycfile.Int(0),) * 256),
}


@pytest.mark.parametrize("what", sorted(MISMATCHES))
def test_a_mismatch_leaves_pure_python(c: Accelerated, what: str) -> None:
    """Any disagreement between the extension and the description of the format makes
    no plan (pure Python runs); the unchanged description makes one."""
    fmt = pycfile.format_for_version((3, 11))
    facts = _accel._pure_facts(fmt)
    assert _accel.make_plan(fmt, speedups, facts) is not None
    assert _accel.make_plan(fmt, speedups, MISMATCHES[what](facts)) is None


def test_the_extension_names_its_parts(c: Accelerated) -> None:
    assert len(set(speedups.HANDLERS)) == len(speedups.HANDLERS)
    assert speedups.KINDS[-1] == "Code" and speedups.FIELDS[-1] is None
    for kind, fields in zip(speedups.KINDS[:-1], speedups.FIELDS[:-1]):
        assert sorted(fields) == sorted(a.name for a in attrs.fields(getattr(pycfile, kind))), kind


# ---- the garbage collector ---------------------------------------------------------------------------


def _read_leaves(c: Accelerated) -> Any:
    fmt = pycfile.format_for_version((3, 11))
    items: List[Any] = [pycfile.Str("abc", "u"), pycfile.Int(7), pycfile.Bytes(b"xy"), pycfile.Long(1 << 70),
             pycfile.Float.binary(1.5), pycfile.Complex.binary(2j), pycfile.Str("n", "z", True)]  # fmt: skip
    data = pure_write(pycfile.ListValue(items), fmt)
    got = c.read(data, 0, fmt)
    assert got is not None
    return got[0]


def test_leaves_are_left_untracked(c: Accelerated) -> None:
    """What the reader makes that can hold nothing but atoms is not tracked (as CPython
    leaves tuples of atoms untracked); containers and code objects are."""
    value = _read_leaves(c)
    assert gc.is_tracked(value) and gc.is_tracked(value.items)
    assert [gc.is_tracked(leaf) for leaf in value.items] == [False] * len(value.items)
    assert gc.is_tracked(pycfile.Str("made in Python"))
    with open(next(iter(sorted(FIXTURES.glob("cpython-3.1[1-3]/*.pyc")))), "rb") as f:
        code = pycfile.loads(f.read()).code
    assert gc.is_tracked(code) and gc.is_tracked(code.co_consts)  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["attribute", "setattr", "object.__setattr__", "attrs.evolve"])
def test_a_container_put_into_a_leaf_is_collected(c: Accelerated, how: str) -> None:
    """A leaf that gets a list (or any object the collector follows) is tracked again, so
    a cycle through it is collected: no leak."""
    value = _read_leaves(c)
    gone = []
    for leaf in list(value.items):
        field = attrs.fields(type(leaf))[0].name
        cycle = [leaf]
        if how == "attribute":
            leaf.code = cycle
        elif how == "setattr":
            setattr(leaf, field, cycle)
        elif how == "object.__setattr__":
            object.__setattr__(leaf, field, cycle)
        else:
            leaf = attrs.evolve(leaf, code=cycle)
            cycle[0] = leaf
        assert gc.is_tracked(leaf), (how, type(leaf).__name__)
        gone.append(weakref.ref(leaf))
        del leaf, cycle
    del value
    gc.collect()
    assert [ref() for ref in gone] == [None] * len(gone)


def test_a_node_that_refers_back_into_its_container_is_collected(c: Accelerated) -> None:
    value = _read_leaves(c)
    leaf = value.items[0]
    leaf.value = value  # leaf -> list holder -> list -> leaf
    value.items.append(pycfile.TupleValue([value]))
    gone = [weakref.ref(value), weakref.ref(leaf)]
    del value, leaf
    gc.collect()
    assert [ref() for ref in gone] == [None, None]


def test_lists_of_leaves_are_left_untracked_until_handed_out(c: Accelerated) -> None:
    """A container's list that holds only leaves and Singletons is not tracked either (its
    owner is); reading ``items`` tracks it before handing it out, for anything may then be
    put into it."""
    value = _read_leaves(c)
    hidden = [x for x in gc.get_referents(value) if isinstance(x, list)]  # past the descriptor
    assert len(hidden) == 1 and not gc.is_tracked(hidden[0])
    assert value.items is hidden[0] and gc.is_tracked(hidden[0])


def test_a_leaf_shared_with_an_untracked_list_is_collected_in_a_cycle(c: Accelerated) -> None:
    """A flagged leaf read into two containers; its list in the first is still untracked
    when the leaf, reached through the second, gets a list: every untracked list is
    tracked at that moment, so the cycle closed afterwards through the first container is
    collected."""
    fmt = pycfile.format_for_version((3, 11))
    shared = pycfile.Str("shared", "u", True)
    data = pure_write(pycfile.TupleValue([pycfile.TupleValue([shared]), pycfile.TupleValue([shared])]), fmt)
    got = c.read(data, 0, fmt)
    assert got is not None
    first, second = got[0].items
    hidden = [x for x in gc.get_referents(first) if isinstance(x, list)]
    assert not gc.is_tracked(hidden[0])
    leaf = second.items[0]
    assert leaf is hidden[0][0]
    box: List[Any] = []
    leaf.value = box
    assert gc.is_tracked(hidden[0])
    box.append(first)  # first -> its list -> leaf -> box -> first
    gone = weakref.ref(first)
    del got, first, second, leaf, box, hidden
    gc.collect()
    assert gone() is None


def test_untracking_changes_no_model(c: Accelerated) -> None:
    """A plan that keeps every object tracked reads the same models (it exists to measure
    what untracking buys)."""
    for path in sorted(FIXTURES.glob("cpython-3.1*/*.pyc"))[:6]:
        data = path.read_bytes()
        fmt = pycfile.read_header(path).format
        kept = _accel.make_plan(fmt, speedups, untrack=False)
        tracked = speedups.read(kept, data, fmt.header_size)
        untracked = c.read(data, fmt.header_size, fmt)
        assert tracked is not None and untracked is not None
        assert same_model(tracked[0], untracked[0])
        assert gc.is_tracked(tracked[0].co_filename) and not gc.is_tracked(untracked[0].co_filename)


def _run(code: str, *args: str, **env: str) -> "subprocess.CompletedProcess[str]":
    """``code`` in a fresh interpreter, with ``args`` before it, or after it when they
    start with "-" (sys.argv); a crash fails the calling test, it does not end pytest.
    The child loads the extension even where ``PYCFILE_PURE`` keeps this process pure
    (the extension is built either way): these children test it."""
    before, after = (args, ()) if not args or args[0] != "-" else ((), args[1:])
    inherited = {k: v for k, v in os.environ.items() if k != "PYCFILE_PURE"}
    return subprocess.run(
        [sys.executable, *before, "-c", textwrap.dedent(code), *after],
        capture_output=True,
        text=True,
        timeout=300,
        env={**inherited, **env},
    )


def test_pure_python_classes_keep_their_member_descriptors() -> None:
    """Only the accelerator's plans put the re-tracking descriptors in place: in pure
    Python the model classes are plain attrs classes."""
    done = _run(
        """
        import pycfile
        from pycfile import Str, Int
        pycfile.loads(pycfile.dumps(pycfile.loads(open(%r, "rb").read())))
        print(type(Str.__dict__["value"]).__name__, type(Int.__dict__["code"]).__name__)
        """ % str(sorted(FIXTURES.glob("cpython-3.11/*.pyc"))[0]),
        PYCFILE_PURE="1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["member_descriptor", "member_descriptor"]


# ---- the C stack, threads, loading -------------------------------------------------------------------

SMALL_STACK = """
import sys, threading
import pycfile
from pycfile import _accel
assert _accel.ENABLED
fmt = pycfile.format_for_version((3, 11))
deep = b")\\x01" * 399 + b"N"
plan = _accel.plan(fmt)
whole, end = _accel._speedups.read(plan, deep, 0)  # the depth alone is no reason to give up
assert end == len(deep)
out = {}

def work():
    if "accelerator" in sys.argv:
        out["read"] = _accel._speedups.read(plan, deep, 0)
        out["write"] = _accel._speedups.write(plan, whole)
    else:  # what the public functions do, the accelerator giving up
        value, end = pycfile.marshal.loads_prefix(deep, version=fmt)
        out["loads"] = end == len(deep)
        out["dumps"] = pycfile.marshal.dumps(value, version=fmt) == deep

try:  # 32 KiB, or the least this interpreter allows (3.14: 52 KiB)
    old = threading.stack_size(int(sys.argv[2]) * 1024)
except ValueError:
    old = threading.stack_size(65536)
try:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
finally:
    threading.stack_size(old)
print(out)
"""


def _small_stack(part: str) -> Dict[str, Any]:
    # The public functions read the whole nest, and the interpreter frees it: where it
    # cannot free such a nest on 32 KiB (3.13: tests/small_stacks.py), it gets more.
    kib = 32 if part == "accelerator" else stack_kib(400, (32, 64, 512))
    done = _run(SMALL_STACK, "-", part, str(kib))
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    out: Dict[str, Any] = eval(done.stdout)
    return out


def test_a_small_thread_stack_makes_it_give_up_not_crash(c: Accelerated) -> None:
    """Reading or writing a 399-deep nest on a thread with a 32 KiB stack (64 KiB where
    that is too small for the interpreter): the extension sees its C stack running low
    and gives up, for the pure code to decide; it does not overflow the stack (it did)."""
    assert _small_stack("accelerator") == {"read": None, "write": None}


def test_loads_and_dumps_on_a_small_thread_stack(c: Accelerated) -> None:
    """The public functions on that thread: the accelerator gives up and the pure code
    reads and writes the nest."""
    assert _small_stack("public") == {"loads": True, "dumps": True}


def test_warnings_as_errors_do_not_break_the_import(c: Accelerated) -> None:
    done = _run("import pycfile; print(pycfile.ACCELERATED)", "-W", "error")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("failure", ["raise RuntimeError('a broken build')", "warnings.warn('odd', RuntimeWarning)"])
def test_any_failure_to_load_the_extension_leaves_pure_python(failure: str) -> None:
    """Not only an ImportError: whatever loading the extension raises (here from an import
    hook), a warning turned into an error by ``-W error`` included, pycfile imports and
    runs in pure Python."""
    done = _run(
        f"""
        import sys, warnings
        class Broken:
            def find_spec(self, name, path=None, target=None):
                if name == "pycfile._speedups":
                    {failure}
        sys.meta_path.insert(0, Broken())
        import pycfile
        fmt = pycfile.format_for_version((3, 11))
        print(pycfile.ACCELERATED, pycfile.marshal.loads(b"\\xe9\\x07\\x00\\x00\\x00", version=fmt))
        """,
        "-W",
        "error",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "False"


def test_a_lying_count_reserves_no_memory(c: Accelerated) -> None:
    """Nested containers each claiming as many items as there are bytes left, then bad
    bytes: the extension gives up without first reserving 8 bytes per claimed item at
    every level (which would be gigabytes here)."""
    fmt = pycfile.format_for_version((3, 11))
    levels, filler = 200, 1_000_000
    data = bytearray()
    for level in range(levels):
        left = (levels - level - 1) * 5 + filler
        data += b"[" + struct.pack("<i", left)
    data += b"\xff" * filler  # not a type code: the innermost first item fails
    raw = bytes(data)
    gc.collect()
    tracemalloc.start()
    try:
        assert c.read(raw, 0, fmt) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak} bytes at the peak for {len(raw)} bytes of input"


@pytest.mark.skipif(
    not sysconfig.get_config_var("Py_GIL_DISABLED"),
    reason="needs a free-threaded CPython (3.13t+): runs where the suite runs on one",
)
def test_free_threaded(c: Accelerated) -> None:  # pragma: no cover - only on free-threaded builds
    """The extension declares that it runs without the GIL, so importing it leaves the GIL
    off; writers racing threads that change the model they write give bytes or None,
    never a crash."""
    assert not getattr(sys, "_is_gil_enabled")()
    fmt = pycfile.format_for_version((3, 13))
    shared = pycfile.TupleValue([pycfile.Str(str(i), "z") for i in range(200)])
    stop = threading.Event()

    def change() -> None:
        while not stop.is_set():
            shared.items.append(pycfile.ListValue([pycfile.Int(1)]))
            del shared.items[:50]
            shared.items[0] = pycfile.Str("x", "u")

    def write() -> None:
        for _ in range(300):
            got = c.write(shared, fmt)
            assert got is None or isinstance(got, bytes)

    threads = [threading.Thread(target=change) for _ in range(2)] + [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads[2:]:
        t.join()
    stop.set()
    for t in threads[:2]:
        t.join()
