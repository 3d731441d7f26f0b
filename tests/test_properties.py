"""The four round-trip properties, proven by hypothesis against every real interpreter.

For each interpreter in ``interpreters.REQUIRED`` (a missing one skips, or fails under PYCFILE_STRICT=1, see
``interpreters.require``), with values drawn from :mod:`pycfile.strategies` for that
interpreter's own format:

1. pycfile -> interpreter: ``pycfile.marshal.dumps`` of a model, then the real
   ``marshal.loads``, gives the value pycfile says it is (NaN-aware; code objects field
   by field); a canonical plain value re-dumped by a CPython gives the same bytes.
2. interpreter -> pycfile: the interpreter dumps values at every marshal version it
   has; pycfile reads the same value and writes the same bytes back.
3. model round trip: ``loads(dumps(m))`` is ``m`` (cycle- and sharing-aware), for every
   strategy, whole pycs included.
4. bad bytes: any bytes (``st.binary()``, and mutations of the interpreter's committed
   fixture pycs) load -- and then write back unchanged -- or raise a PycError; a huge
   declared length fails before anything of that size is allocated.

The number of examples comes from the hypothesis profile (tests/conftest.py), cut
with the quick corpus (the default, and the secondary CI hosts: a sixth).
"""

from __future__ import annotations

import math
import struct
import tracemalloc
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pycfile
from pycfile import strategies as pst
from pycfile._code import Code
from pycfile._formats import TYPE_CODES

from corpus import quick
from model_compare import same_model
from model_strategies import mutated, strategies_for
from fuzz_harness import load_harness
from interpreters import REQUIRED, Interpreter, require
from oracle import Oracle, OracleFor, describe_model, first_difference

pytestmark = pytest.mark.interpreters

EXAMPLES = max(10, settings.default.max_examples // (6 if quick() else 1))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _setup(key: str, oracle_for: OracleFor) -> Tuple[Interpreter, Oracle, pycfile.PycFormat]:
    interpreter = require(key)
    return interpreter, oracle_for(interpreter), pycfile.format_for_version(interpreter.version)


def nan_aware(tree: Any) -> Any:
    """The tree with every NaN's bits replaced by ``"nan"`` (2.7 does not keep a NaN's
    sign and payload, see the report; bit-exact NaNs are checked by the re-dump)."""
    if isinstance(tree, dict):
        out = {k: nan_aware(v) for k, v in tree.items()}
        if tree.get("t") in ("float", "complex"):
            for part in ("v", "real", "imag"):
                if part in tree and math.isnan(struct.unpack("<d", bytes.fromhex(tree[part]))[0]):
                    out[part] = "nan"
        return out
    if isinstance(tree, list):
        return [nan_aware(x) for x in tree]
    return tree


def _nodes(value: pycfile.Value) -> List[pycfile.Value]:
    """Every object in a value, each once (code objects' fields are not entered)."""
    seen = set()
    stack = [value]
    found = []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        found.append(v)
        if isinstance(v, (pycfile.TupleValue, pycfile.ListValue, pycfile.SetValue, pycfile.FrozenSetValue)):
            stack.extend(v.items)
        elif isinstance(v, (pycfile.DictValue, pycfile.FrozenDict)):
            stack.extend(x for pair in v.items for x in pair)
        elif isinstance(v, pycfile.Slice):
            stack.extend([v.start, v.stop, v.step])
    return found


def has_code(value: pycfile.Value) -> bool:
    return any(isinstance(v, Code) for v in _nodes(value))


def lowest_marshal_version(value: pycfile.Value, fmt: pycfile.PycFormat) -> int:
    """The lowest marshal version whose streams can hold every type code in ``value``
    (the format table's ``since_marshal``: slices 5, frozendicts 6, everything else 0)."""
    needs = {row.code: row.since_marshal for row in TYPE_CODES if row.read_by(fmt)}
    return max(needs[v.type_code if isinstance(v, Code) else v.code] for v in _nodes(value))  # type: ignore[union-attr]


def check_interpreter_reads(oracle: Oracle, fmt: pycfile.PycFormat, value: pycfile.Value, redump: bool) -> None:
    data = pycfile.marshal.dumps(value, version=fmt)
    answer = oracle.call("props_load", data=data.hex(), marshal_version=fmt.marshal_version)
    assert "error" not in answer, f"the interpreter rejects {data.hex()}: {answer}"
    difference = first_difference(nan_aware(answer["tree"]), nan_aware(describe_model(value, fmt.version)))
    assert difference is None, f"{data.hex()}: {difference}"
    if redump:
        assert answer["redump"] == data.hex(), "the interpreter re-dumps a canonical value differently"


# ---- 1. pycfile -> interpreter -------------------------------------------------------------------


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_interpreter_reads_canonical_values(key: str, oracle_for: OracleFor, data: st.DataObject) -> None:
    interpreter, oracle, fmt = _setup(key, oracle_for)
    value = data.draw(pst.marshal_values(fmt, canonical=True, code=True), label="value")
    # Re-dump identity holds for CPython's plain values (a code object's names come back
    # interned, and PyPy flags by its own rules).
    check_interpreter_reads(oracle, fmt, value, redump=interpreter.implementation == "cpython" and not has_code(value))


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_interpreter_reads_any_values(key: str, oracle_for: OracleFor, data: st.DataObject) -> None:
    _, oracle, fmt = _setup(key, oracle_for)
    value = data.draw(pst.marshal_values(fmt, code=True), label="value")
    check_interpreter_reads(oracle, fmt, value, redump=False)


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_interpreter_reads_pyc_files(key: str, oracle_for: OracleFor, data: st.DataObject) -> None:
    """A whole generated pyc: the interpreter reads its body as the model says."""
    _, oracle, fmt = _setup(key, oracle_for)
    pyc = data.draw(pst.pyc_files(fmt, canonical=data.draw(st.booleans(), label="canonical")), label="pyc")
    body = pycfile.dumps(pyc)[fmt.header_size :]
    assert first_difference(nan_aware(oracle.loads(body[: len(body) - len(pyc.trailer)])), nan_aware(describe_model(pyc.code, fmt.version))) is None


# ---- 2. interpreter -> pycfile -------------------------------------------------------------------


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_pycfile_reads_what_the_interpreter_writes(key: str, oracle_for: OracleFor, data: st.DataObject) -> None:
    _, oracle, fmt = _setup(key, oracle_for)
    value = data.draw(pst.marshal_values(fmt, canonical=True), label="value")
    tree = describe_model(value, fmt.version)
    lowest = lowest_marshal_version(value, fmt)
    versions = list(range(int(oracle.info()["marshal_version"]) + 1))
    for marshal_version, out in zip(versions, oracle.call("props_dumps_all", value=tree, versions=versions)):
        if marshal_version < lowest:
            # Older marshal versions have no type code for it: the interpreter refuses too.
            assert out.startswith("!ValueError: unmarshallable object"), f"marshal version {marshal_version} dumps {tree}: {out}"
            continue
        assert not out.startswith("!"), f"marshal version {marshal_version}: the interpreter cannot dump {tree}: {out}"
        stream = bytes.fromhex(out)
        model = pycfile.marshal.loads(stream, version=fmt)
        difference = first_difference(nan_aware(tree), nan_aware(describe_model(model, fmt.version)))
        assert difference is None, f"marshal version {marshal_version}, {out}: {difference}"
        assert pycfile.marshal.dumps(model, version=fmt) == stream, f"marshal version {marshal_version}: {out}"


# ---- 3. model round trip -------------------------------------------------------------------------

def _round_trip_value(value: pycfile.Value, fmt: Any) -> None:
    data = pycfile.marshal.dumps(value, version=fmt)
    again = pycfile.marshal.loads(data, version=fmt)
    assert same_model(again, value), data.hex()
    assert pycfile.marshal.dumps(again, version=fmt) == data


def _round_trip_pyc(pyc: pycfile.PycFile) -> None:
    data = pycfile.dumps(pyc)
    again = pycfile.loads(data)
    assert same_model(again, pyc), data[:32].hex()
    assert pycfile.dumps(again) == data


def _check_any(name: str, item: Any, fmt: Any) -> None:
    if name == "pyc_files":
        _round_trip_pyc(item)
    elif name == "headers":
        raw = item.to_bytes()
        assert pycfile._header.read_header_bytes(raw, item.format) == item
    else:
        _round_trip_value(item, fmt)


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_model_round_trip(key: str, data: st.DataObject) -> None:
    fmt = pycfile.format_for_version(require(key).version)
    name, item = data.draw(strategies_for(fmt), label="strategy and example")
    _check_any(name, item, fmt)


RELEASED = pst.released_formats()


@settings(max_examples=EXAMPLES * 3)
@given(data=st.data())
def test_model_round_trip_every_version(data: st.DataObject) -> None:
    """Every strategy for every released version (1.0-3.15, PyPy), no interpreter needed."""
    fmt = data.draw(st.sampled_from(RELEASED), label="format")
    name, item = data.draw(strategies_for(fmt), label="strategy and example")
    _check_any(name, item, fmt)


_P32 = struct.Struct("<i").pack


# ---- 4. bad bytes ---------------------------------------------------------------------------------


# The atheris harness's own check (fuzz/fuzz_pyc.py): one property, two drivers.
_loads_or_pyc_error = load_harness().check


def _fixtures(key: str) -> List[Path]:
    interpreter = require(key)
    folder = FIXTURES / interpreter.key
    files = sorted(folder.glob("*.pyc"))
    assert files, f"no committed fixture pycs in {folder}"
    return files


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_random_bytes(key: str, data: st.DataObject) -> None:
    fmt = pycfile.format_for_version(require(key).version)
    raw = data.draw(st.binary(max_size=200), label="bytes")
    _loads_or_pyc_error(raw, lambda d: pycfile.marshal.loads(d, version=fmt), lambda m: pycfile.marshal.dumps(m, version=fmt))
    as_pyc = fmt.magic + raw
    _loads_or_pyc_error(as_pyc, pycfile.loads, pycfile.dumps)


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_mutated_fixture_pycs(key: str, data: st.DataObject) -> None:
    files = _fixtures(key)
    original = data.draw(st.sampled_from(files), label="fixture").read_bytes()
    _loads_or_pyc_error(data.draw(mutated(original), label="mutated"), pycfile.loads, pycfile.dumps)


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=max(5, EXAMPLES // 5))
@given(data=st.data())
def test_huge_lengths_fail_before_allocating(key: str, data: st.DataObject) -> None:
    """Linear in the input, structurally: a length field set huge makes the reader stop
    before it allocates anything that size (peak memory stays a small multiple of the
    input, whatever the declared length)."""
    files = _fixtures(key)
    original = bytearray(data.draw(st.sampled_from(files), label="fixture").read_bytes())
    sized = [i for i in range(16, len(original) - 4) if original[i] & 0x7F in b"s(<>[aAut"]
    pos = data.draw(st.sampled_from(sized), label="type byte")
    original[pos + 1 : pos + 5] = _P32(data.draw(st.sampled_from([0x7FFFFFFF, 0x40000000, 0x10000000]), label="length"))
    tracemalloc.start()
    try:
        _loads_or_pyc_error(bytes(original), pycfile.loads, pycfile.dumps)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * len(original) + (4 << 20), f"{peak} bytes at peak for a {len(original)}-byte input"


# ---- text floats: pycfile accepts exactly what the interpreter accepts ----------------------------

_FLOAT_CHARS = st.sampled_from(list("0123456789.eE+-_ \t\nx") + ["nan", "inf", "infinity", "NaN"])
# PyPy 3.9 reads some non-ASCII float text ("1.5\xa0") and fails on other ("\xa00") with
# a broken UnicodeEncodeError: only CPython gets Latin-1 whitespace.
_LATIN1_FLOAT_CHARS = st.one_of(_FLOAT_CHARS, st.sampled_from(["\xa0", "\x85"]))


@pytest.mark.parametrize("key", REQUIRED)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_text_floats_parse_as_the_interpreter_parses(key: str, oracle_for: OracleFor, data: st.DataObject) -> None:
    """Regression: pycfile took float() as the judge of a 'f' float's text, so it read
    '1_0' and ' 1.5', which every interpreter rejects."""
    _, oracle, fmt = _setup(key, oracle_for)
    chars = _LATIN1_FLOAT_CHARS if fmt.version.implementation == "cpython" else _FLOAT_CHARS
    text = "".join(data.draw(st.lists(chars, min_size=1, max_size=6), label="text")).encode("latin-1")
    stream = b"f" + bytes([len(text)]) + text
    answer = oracle.call("props_load", data=stream.hex(), marshal_version=fmt.marshal_version)
    try:
        model = pycfile.marshal.loads(stream, version=fmt)
    except pycfile.BadMarshalError:
        assert "error" in answer, f"the interpreter reads {text!r}: {answer}"
        return
    assert "error" not in answer, f"pycfile reads {text!r}, the interpreter does not: {answer}"
    assert nan_aware(answer["tree"]) == nan_aware(describe_model(model, fmt.version))
