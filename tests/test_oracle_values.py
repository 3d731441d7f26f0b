"""What pycfile reads is what the real interpreters read, and what it writes is what they write.

For a deterministic sample of each interpreter's corpus (and every sample module), the
tree the interpreter's own ``marshal.loads`` gives of a pyc's body equals the tree
``describe_model`` builds from pycfile's model of it.  Also: values the interpreters
marshal read and write back exactly, ``pycfile.source_hash`` agrees with
``importlib.util.source_hash``, and the canonical writer (``from_python``, then
``marshal.dumps``) writes the bytes each CPython's own
``marshal.dumps(marshal.loads(marshal.dumps(value)))`` writes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pycfile
from pycfile import strategies as pst

from corpus import Mode, corpus_part, modes, quick
from interpreters import REQUIRED, require
from oracle import InterpreterError, OracleFor, Tree, describe_model, first_difference

pytestmark = pytest.mark.interpreters

# stdlib pycs per interpreter, spread over its modes (fewer for secondary hosts)
SAMPLE_SIZE = 30 if quick() else 150
SHOWN = 10
HASHING = [key for key in REQUIRED if key not in ("cpython-2.7", "cpython-3.6")]


def _spread(files: List[Path], count: int) -> List[Path]:
    return files[:: max(1, len(files) // count)][:count] if count else []


@pytest.mark.parametrize("key", REQUIRED)
def test_values_match_the_interpreter(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    all_modes = modes(interpreter.major, interpreter.minor)
    files: List[Path] = []
    for i, mode in enumerate(all_modes):
        part = corpus_part(interpreter, mode)
        share = SAMPLE_SIZE // len(all_modes) + (i < SAMPLE_SIZE % len(all_modes))
        files += _spread(part.stdlib, share) + (part.samples if mode == Mode(0) else [])
    failures = []
    for path in files:
        data = path.read_bytes()
        pyc = pycfile.loads(data)
        try:
            seen = oracle.loads(data[pyc.header.size :])
        except InterpreterError as exc:
            failures.append(f"{path}: the interpreter's marshal.loads fails: {exc}")
            continue
        difference = first_difference(seen, describe_model(pyc.code, pyc.version))
        if difference:
            failures.append(f"{path}: {difference}")
    assert not failures, f"{len(failures)} of {len(files)} pycs read differently:\n" + "\n".join(failures[:SHOWN])


def _int(n: int) -> Tree:
    return {"t": "int", "v": str(n) if abs(n) < 2**64 else ("-" if n < 0 else "") + f"0x{abs(n):x}"}


def _str(s: str) -> Tree:
    return {"t": "str", "v": s}


def _values(major: int) -> List[Tree]:
    """Trees of values every interpreter of this major version can marshal."""
    text = [_str(s) for s in ("", "ascii", "latin-1 \xe9", "snowman \u2603", "emoji \U0001f600")]
    ints = [_int(n) for n in (0, 1, -1, 2**31 - 1, -(2**31), 2**31)]
    longs: List[Tree] = [dict(_int(n), t="long" if major < 3 else "int") for n in (2**63, -(2**100), 2**15, 0, 7**5000)]
    floats: List[Tree] = [{"t": "float", "v": v} for v in ("0000000000000080", "000000000000f87f", "9a9999999999b93f")]
    others: List[Tree] = [
        {"t": "None"},
        {"t": "True"},
        {"t": "Ellipsis"},
        {"t": "StopIteration"},
        {"t": "bytes", "v": "00ff41"},
        {"t": "complex", "real": "000000000000f03f", "imag": "00000000000000c0"},
        {"t": "str", "cp": [0xD800, 0x41]},
        {"t": "frozenset", "items": ints[:3]},
        {"t": "tuple", "items": [{"t": "list", "items": text[:2]}, {"t": "dict", "items": [[_int(1), _str("one")]]}]},
        {"t": "tuple", "items": text + ints},
    ]
    return text + ints + longs + floats + others


@pytest.mark.parametrize("key", REQUIRED)
def test_values_the_interpreter_marshals(key: str, oracle_for: OracleFor) -> None:
    """``marshal.dumps`` output of the interpreter reads as the value it was given and
    is written back byte for byte."""
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    failures = []
    for tree in _values(interpreter.major):
        data = oracle.dumps(tree)
        try:
            model = pycfile.marshal.loads(data, version=interpreter.version)
            out = pycfile.marshal.dumps(model, version=interpreter.version)
        except pycfile.PycError as exc:
            failures.append(f"{tree}: {exc}")
            continue
        difference = first_difference(oracle.loads(data), describe_model(model, interpreter.version))
        if difference or out != data:
            failures.append(f"{tree}: {data.hex()} -> {out.hex()} {difference or ''}")
    assert not failures, "\n".join(failures[:SHOWN])


@pytest.mark.parametrize("key", HASHING)
def test_source_hash(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    real = Path(oracle.info()["stdlib"], "os.py").read_bytes()
    sources = [b"", b"x", b"1234567", b"12345678", b"123456789", b"# \xc3\xa9\n" * 100, real]
    for source in sources:
        assert pycfile.source_hash(source, interpreter.version) == oracle.source_hash(source), source[:20]


# ---- the canonical writer is the interpreter's writer ---------------------------------------

CPYTHONS = [key for key in REQUIRED if key.startswith("cpython-")]
EXAMPLES = max(10, settings.default.max_examples // (6 if quick() else 1))
BATCH = 8  # values per request to the interpreter
_PACK_D = struct.Struct("<d")
#: key -> [values written as the interpreter writes them, values compared]
TALLY: Dict[str, List[int]] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many generated values each interpreter compared (all must be equal)."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not TALLY:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for key in CPYTHONS:
            if key in TALLY:
                equal, total = TALLY[key]
                reporter.write_line(f"canonical writer, {key}: {equal} / {total} values written as the interpreter writes them")


def plain_tree(value: Any) -> Tree:
    """The value tree (worker.py's format) of a plain Python value."""
    if value is None or value is True or value is False or value is Ellipsis or value is StopIteration:
        return {"t": {None: "None", True: "True", False: "False", Ellipsis: "Ellipsis"}.get(value, "StopIteration")}
    kind = type(value)
    if kind is int:
        return {"t": "int", "v": str(value) if abs(value) < 2**64 else ("-" if value < 0 else "") + f"0x{abs(value):x}"}
    if kind is float:
        return {"t": "float", "v": _PACK_D.pack(value).hex()}
    if kind is complex:
        return {"t": "complex", "real": _PACK_D.pack(value.real).hex(), "imag": _PACK_D.pack(value.imag).hex()}
    if kind is bytes:
        return {"t": "bytes", "v": value.hex()}
    if kind is str:
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            return {"t": "str", "cp": [ord(c) for c in value]}
        return {"t": "str", "v": value}
    if kind is slice:
        return {"t": "slice", "start": plain_tree(value.start), "stop": plain_tree(value.stop), "step": plain_tree(value.step)}
    if kind in (tuple, list, set, frozenset):
        return {"t": kind.__name__, "items": [plain_tree(x) for x in value]}
    return {"t": kind.__name__, "items": [[plain_tree(k), plain_tree(v)] for k, v in value.items()]}  # dict, frozendict


def canonical_hex(value: Any, fmt: pycfile.PycFormat) -> str:
    return pycfile.marshal.dumps(pycfile.from_python(value, fmt), version=fmt).hex()


def compare_batch(key: str, oracle: Any, fmt: pycfile.PycFormat, values: List[Any]) -> List[str]:
    """Send the values to the interpreter in one request; the differences."""
    expected = oracle.call("canonical_redump", values=[plain_tree(v) for v in values])
    failures = []
    tally = TALLY.setdefault(key, [0, 0])
    for value, want in zip(values, expected):
        got = canonical_hex(value, fmt)
        tally[1] += 1
        if got == want:
            tally[0] += 1
        else:
            failures.append(f"{value!r}: the interpreter writes {want}, pycfile {got}")
    return failures


@pytest.mark.parametrize("key", CPYTHONS)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_canonical_writer_is_the_interpreters(key: str, oracle_for: OracleFor, data: st.DataObject) -> None:
    """``marshal.dumps(from_python(v))`` is the interpreter's ``marshal.dumps(marshal.loads(
    marshal.dumps(v)))``, for plain values drawn by ``pycfile.strategies.python_values``."""
    interpreter = require(key)
    fmt = pycfile.format_for_version(interpreter.version)
    values = data.draw(st.lists(pst.python_values(fmt), min_size=1, max_size=BATCH), label="values")
    failures = compare_batch(key, oracle_for(interpreter), fmt, values)
    assert not failures, "\n".join(failures)


def _known_values(fmt: pycfile.PycFormat) -> List[Any]:
    """The values the canonical writer once wrote differently (issue 12), every version."""
    one_char = ["a", "~", "\x00", "\xe9", "\xff"]
    values: List[Any] = [
        "", b"", (), frozenset(), -6, -5, 0, 256, 257, 1024, 1025, 2**31, 2**63,
        ("", ""), (b"", b""), ((), ()), (frozenset(), frozenset()), (0, 0), (256, 256), (257, 257), (1024, 1024),
        (b"a", b"a"), (b"\xff", b"\xff"), (b"ab", b"ab"), ("ab", "ab"), ("abc_def", "abc_def"), ("\u0100", "\u0100"),
        (1.5, 1.5), ([], []), ((1,), (1,)), [1, [2, ()]], {"kk": (1, 2)}, {300: "x1", "y1": 400},
        "\ud83d\ude00", "a\ud800", "\udc00\ud800", "\U0001f600",
    ]
    if "<" in pycfile._formats.marshal_rules(fmt).type_codes:
        values += [frozenset([1, 2]), {300, 2}, frozenset(["ab", "cd"]), {(300,), (2,)}, {(1, "ab"), 300, b"x", 2}]
    if pycfile._canonical.canonical_rules(fmt).one_char_str != "cached":
        values += one_char + [tuple(one_char) * 2]
    return values


@pytest.mark.parametrize("key", CPYTHONS)
def test_canonical_writer_on_known_values(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    fmt = pycfile.format_for_version(interpreter.version)
    values = _known_values(fmt)
    rules = pycfile._canonical.canonical_rules(fmt)
    if not rules.sorted_sets:
        values = [v for v in values if not isinstance(v, (set, frozenset)) or len(v) < 2]
    if not rules.ordered_dicts:
        values = [v for v in values if not isinstance(v, dict) or len(v) < 2]
    failures = compare_batch(key, oracle_for(interpreter), fmt, [_fresh(v) for v in values])
    assert not failures, "\n".join(failures)


def _fresh(value: Any) -> Any:
    """``value`` with new containers: the compiler makes equal constant tuples of one
    source file one object, and from_python keeps a container met twice as one object."""
    kind = type(value)
    if kind in (tuple, list, set, frozenset):
        return kind([_fresh(x) for x in value])
    if kind is dict:
        return {_fresh(k): _fresh(v) for k, v in value.items()}
    return value


def _special(name: str, size: int = 0) -> Any:
    if name == "self_list":
        value: List[Any] = []
        value.append(value)
        return value
    if name == "shared_list":
        inner = [1]
        return [inner, inner]
    value = []
    for _ in range(size - 1):
        value = [value]
    return value


@pytest.mark.parametrize("key", CPYTHONS)
@pytest.mark.parametrize("name, size", [("self_list", 0), ("shared_list", 0), ("deep_list", 1500), ("deep_list", 2000), ("deep_list", 2001)])
def test_canonical_writer_on_cycles_and_depth(key: str, name: str, size: int, oracle_for: OracleFor) -> None:
    """A list that contains itself is written with a reference where the version has
    them; nesting stops where the interpreter's writer stops ("object too deeply nested
    to marshal"), as an UnwritableError."""
    interpreter = require(key)
    fmt = pycfile.format_for_version(interpreter.version)
    want = oracle_for(interpreter).call("canonical_special", name=name, size=size)
    try:
        got = canonical_hex(_special(name, size), fmt)
    except pycfile.UnwritableError as error:
        assert want.startswith("!ValueError: "), f"the interpreter writes {want[:60]}, pycfile raises {error}"
        if "deep" in name:
            assert "too deeply nested" in str(error) and "too deeply nested" in want
        return
    assert got == want


# ---- replace_constants writes a new constant as the compiler does ----------------------------

# Identifier-like strings here are unlikely to be held by anything else in the interpreter:
# 3.4-3.10 flag an interned string when anything in the process holds it (docs/canonical.md).
CONSTANTS: List[Any] = [
    "zq_name_1", "two words", "", "_", "\u00e9t\u00e9", b"", b"~", b"zq bytes", 300, 2**40, -(2**70), 1.5, -0.0, 2j,
    (1, 2), ("zq_ab", "zq_ab", "c d"), (3000, 3000, (3000,)), (), ((), ("zq_cd",)), ("\u00e9", b"bytes", 2.5, None, True),
    ((1.5, 1.5), (1.5,)), (("a b", ("a b",)),),
]
# 3.6's peephole folds a constant tuple out of items it leaves in co_consts, which holds
# them a second time (so they are flagged): that is the compiler, not the constant.
REPLACING = [key for key in CPYTHONS if key != "cpython-3.6"]


def _source(value: Any, py2: bool) -> str:
    """A literal for ``value`` in the interpreter's syntax (2.x: unicode is u'')."""
    if isinstance(value, tuple):
        inner = ", ".join(_source(v, py2) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if py2 and isinstance(value, bytes):
        return repr(value)[1:]
    if py2 and isinstance(value, str):
        return "u" + repr(value)
    return repr(value)


def _the_constant(pyc: pycfile.PycFile, value: Any) -> Any:
    tree = _no_longs(plain_tree(value))
    consts = pyc.code.co_consts.items  # type: ignore[attr-defined]
    found = [c for c in consts if not isinstance(c, pycfile.Code) and _no_longs(describe_model(c, pyc.version)) == tree]
    return found[-1] if found else None


def _no_longs(tree: Any) -> Any:
    """The tree with 2.x longs as ints (a literal is a long in 2.x when it needs to be)."""
    if isinstance(tree, dict):
        return {k: ("int" if k == "t" and v == "long" else _no_longs(v)) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_no_longs(x) for x in tree]
    return tree


@pytest.mark.parametrize("key", REPLACING)
def test_replace_constants_writes_what_the_compiler_writes(key: str, oracle_for: OracleFor) -> None:
    """Replacing a placeholder by a value gives that constant the bytes the interpreter's
    compiler gives ``X = <value>``: codes, interning, flags and sharing inside it."""
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    py2 = interpreter.major < 3
    placeholder: Any = b"PLACEHOLDER" if py2 else "PLACEHOLDER"
    coding = "# -*- coding: utf-8 -*-\n"
    base = pycfile.loads(oracle.compile_source(f"{coding}X = {_source(placeholder, py2)}\n".encode()))
    fmt = base.format
    failures = []
    compared = 0
    for value in CONSTANTS:
        real = pycfile.loads(oracle.compile_source(f"{coding}X = {_source(value, py2)}\n".encode("utf-8")))
        want = _the_constant(real, value)
        if want is None:
            continue  # not a constant there: 3.14+ loads small ints with LOAD_SMALL_INT, 2.7 folds flat tuples only
        got = _the_constant(pycfile.replace_constants(base, {placeholder: value}), value)
        compared += 1
        expected = pycfile.marshal.dumps(pycfile.TupleValue([want]), version=fmt)
        written = pycfile.marshal.dumps(pycfile.TupleValue([got]), version=fmt)
        if expected != written:
            failures.append(f"{value!r}: the compiler writes {expected.hex()}, replace_constants {written.hex()}")
    assert compared >= len(CONSTANTS) * 2 // 3
    assert not failures, "\n".join(failures)
