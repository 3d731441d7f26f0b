"""``pycfile.to_json`` / ``pycfile.from_json`` and the CLI's ``dump --json`` / ``from-json``:
lossless both ways on every pyc the real interpreters wrote (each corpus, all modes:
every ``QUICK_STRIDE``-th pyc of the quick corpus, every pyc of the full one or of a CI shard) and on every shared
sample, and on models built to be awkward (deep, cyclic, shared, huge ints, NaNs)."""

from __future__ import annotations

import hashlib
import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Set

import pytest

import pycfile
from pycfile import (
    BadJsonError,
    Bytes,
    Complex,
    DictValue,
    Float,
    Int,
    ListValue,
    Long,
    PycFile,
    PycHeader,
    Singleton,
    Slice,
    Str,
    TupleValue,
    from_json,
    to_json,
)

from corpus import checked, corpus_part, modes
from interpreters import REQUIRED, require
from shared_samples import SHARED_SAMPLES

QUICK_STRIDE = 4  # the quick corpus's stdlib pycs taken (CI's shards take all of the full one)

def _round_trips(data: bytes) -> bool:
    text = to_json(pycfile.loads(data))
    return pycfile.dumps(from_json(text)) == data


def _check(paths: List[Path]) -> List[str]:
    """Files that do not come back identical.  A body met before (the hash-based modes
    share the timestamp mode's) is checked once; its header with a small body."""
    seen: Set[bytes] = set()
    wrong: List[str] = []
    for path in paths:
        data = path.read_bytes()
        pyc = pycfile.loads(data)
        size = pyc.format.header_size
        key = hashlib.sha1(data[size:]).digest()
        if key in seen:
            small = PycFile(pyc.header, Singleton("N"), pyc.trailer)
            if pycfile.dumps(from_json(to_json(small))) != pycfile.dumps(small):
                wrong.append(f"{path} (header)")
            continue
        seen.add(key)
        if not _round_trips(data):
            wrong.append(str(path))
    return wrong


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_corpus_round_trips_through_json(key: str) -> None:
    interpreter = require(key)
    files: List[Path] = []
    for mode in modes(interpreter.major, interpreter.minor):
        part = corpus_part(interpreter, mode)
        files += part.samples + checked(part.stdlib, QUICK_STRIDE)
    assert files
    wrong = _check(files)
    print(f"\n{key}: {len(files) - len(wrong)}/{len(files)} pycs identical after to_json/from_json")
    assert not wrong, f"{len(wrong)} of {len(files)} differ:\n" + "\n".join(wrong[:10])


def test_samples_round_trip_through_json() -> None:
    files = sorted(SHARED_SAMPLES.glob("*/*.pyc")) if SHARED_SAMPLES.is_dir() else []
    if not files:
        pytest.skip(f"no sample pycs in {SHARED_SAMPLES}")
    wrong = _check(files)
    print(f"\nshared samples: {len(files) - len(wrong)}/{len(files)} pycs identical after to_json/from_json")
    assert not wrong, "\n".join(wrong[:10])


# -- awkward models -------------------------------------------------------------------------

V314 = pycfile.format_for_version((3, 14))


def _pyc(*consts: pycfile.Value, fmt: pycfile.PycFormat = V314) -> PycFile:
    """A pyc (of any host) whose body is a tuple of these values rather than a code object."""
    return PycFile(PycHeader(fmt.magic, fmt, 0, 12345, 67), TupleValue(list(consts)))


def _same(pyc: PycFile) -> PycFile:
    text = to_json(pyc)
    back = from_json(text)
    assert pycfile.dumps(back) == pycfile.dumps(pyc)
    assert to_json(back) == text
    assert pycfile.dumps(from_json(text.encode("utf-8"))) == pycfile.dumps(pyc)
    assert pycfile.dumps(from_json(to_json(pyc, indent=None))) == pycfile.dumps(pyc)
    return back


def test_awkward_scalars() -> None:
    nan_payload = struct.pack("<Q", 0x7FF8000000000001)
    big = 7**20000  # far past the 4,300 digits str() allows
    values = [
        Long(big),
        Long(-big),
        Int(2**31 - 1),
        Long(2**53 + 1),
        Long(0, size=-1),
        Float(nan_payload),
        Float.binary(-0.0),
        Float.binary(math.inf),
        Float.binary(-math.inf),
        Float.binary(float("nan")),
        Float.binary(1 / 3),
        Complex(nan_payload, struct.pack("<d", -0.0)),
        Str("lone \ud800 surrogate", "u"),
        Str("a \ud834\udd1e pair of surrogates, not one character", "u"),
        Str("caf\xe9 \u2713", "u"),
        Bytes(bytes(range(256))),
        Singleton("S", True),
        Slice(Int(1), Singleton("N"), Int(-1)),
    ]
    pyc = _pyc(*values)
    back = _same(pyc)
    tree = json.loads(to_json(pyc))
    nodes = tree["code"]["items"]
    assert nodes[0]["value"] == hex(big) and nodes[1]["value"] == hex(-big)
    assert [n.get("raw") for n in nodes if n.get("type") == "Float"][0] == nan_payload.hex()
    assert isinstance(back.code, TupleValue) and pycfile.to_python(back.code.items[0]) == big
    assert [n for n in nodes if n.get("type") == "Str" and "utf8_hex" in n][1]["utf8_hex"] == "a \ud834\udd1e pair of surrogates, not one character".encode("utf-8", "surrogatepass").hex()
    assert pycfile.to_python(back.code.items[13]) == "a \ud834\udd1e pair of surrogates, not one character"


def test_text_floats_of_old_versions() -> None:
    fmt = pycfile.format_for_version((2, 3))
    code = pycfile.marshal.loads(pycfile.marshal.dumps(pycfile.from_python((1.5, 2j, "s"), fmt), version=fmt), version=fmt)
    pyc = PycFile(PycHeader(fmt.magic, fmt, mtime=1), code)
    tree = json.loads(to_json(pyc))
    assert tree["code"]["items"][0] == {"type": "Float", "code": "f", "text": "1.5"}
    assert pycfile.dumps(from_json(to_json(pyc))) == pycfile.dumps(pyc)


def test_sharing_and_cycles_survive() -> None:
    shared = Str("shared", "u", True)
    loop = ListValue([], "[", True)  # written with a reference to itself, as CPython does
    loop.items.append(loop)
    unflagged = TupleValue([Int(1)])
    pyc = _pyc(shared, TupleValue([shared, shared]), unflagged, unflagged, DictValue([(shared, loop)]))
    back = _same(pyc)
    assert isinstance(back.code, TupleValue)
    consts = back.code.items
    assert consts[-5] is consts[-4].items[0] is consts[-4].items[1] is consts[-1].items[0][0]
    assert consts[-3] is consts[-2]
    restored = consts[-1].items[0][1]
    assert restored.items[0] is restored


def test_deep_nesting_is_linear_and_iterative() -> None:
    """1,990 nested tuples (the marshal limit is 2,000): JSON 4,000 levels deep, parsed
    without json's recursive parser and with no RecursionError either way."""
    value: pycfile.Value = Singleton("N")
    for i in range(1990):
        value = TupleValue([value, Int(i)], ")")
    pyc = _pyc(value)
    text = to_json(pyc)
    assert text.count("\n") < 200_000  # deep levels go on one line, not one per level
    back = from_json(text)
    assert pycfile.dumps(back) == pycfile.dumps(pyc)


def test_errors_name_the_node() -> None:
    module = pycfile.from_code(compile("x = (5, (6,))", "m.py", "exec"))
    host = pycfile._hostcode.host_format()
    text = to_json(PycFile(PycHeader(host.magic, host, *([0, 1, 2] if host.header_size == 16 else [None, 1])), module))
    tree = json.loads(text)
    consts = tree["code"]["fields"]["co_consts"]["items"]
    nested = next(c for c in consts if c.get("type") == "TupleValue")
    nested["items"][1]["items"][0]["value"] = "six"
    with pytest.raises(BadJsonError, match="not an integer") as info:
        from_json(json.dumps(tree))
    assert info.value.path.startswith("code.co_consts[") and info.value.path.endswith("][1][0]")
    for bad, match in [
        ("{", "not JSON"),
        ("[]", "not a pyc object"),
        ('{"pycfile_json": 2}', "schema"),
        (text.replace('"type": "Int"', '"type": "Integer"', 1), "unknown node type"),
        (text.replace('"co_argcount": 0', '"co_argcount": "0"', 1), "co_argcount is an integer"),
        (text.replace('"co_argcount": 0,', "", 1), "co_argcount"),
        (text.replace('"hex": "', '"hex": "zz', 1), "bad Bytes"),
        (text.replace('"magic": "', '"magic": "00', 1), "magic"),
    ]:
        with pytest.raises(BadJsonError, match=match):
            from_json(bad)
    tree = json.loads(text)
    tree["code"]["fields"]["co_consts"]["items"][0] = {"same_as": 99}
    with pytest.raises(BadJsonError, match="same_as 99"):
        from_json(json.dumps(tree))
    with pytest.raises(TypeError):
        from_json(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_json("not a pyc")  # type: ignore[arg-type]
    with pytest.raises(BadJsonError, match="not UTF-8"):
        from_json(b"\xff")


def test_deep_text_errors_are_bad_json() -> None:
    with pytest.raises(BadJsonError):
        from_json("[" * 5000 + "]" * 4999)
    with pytest.raises(BadJsonError, match="not a pyc"):
        from_json("[" * 5000 + "]" * 5000)


def test_edit_a_constant_through_json() -> None:
    pyc = pycfile.loads(pycfile.dumps(_pyc(Str("before", "u"))))
    text = to_json(pyc).replace('"value": "before"', '"value": "after"')
    edited = from_json(text)
    assert pycfile.to_python(edited.code) == ("after",)


# -- the command line -------------------------------------------------------------------------


def _cli(*args: object, stdin: bytes = b"", expect: int = 0) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, "-m", "pycfile", *map(str, args)], input=stdin, capture_output=True, timeout=300)
    assert proc.returncode == expect, proc.stderr.decode(errors="replace")
    return proc


def test_cli_dump_json_and_back(tmp_path: Path) -> None:
    pyc = _pyc(Long(7**20000), Str("x", "u"))
    path = tmp_path / "m.pyc"
    pycfile.dump(pyc, path)
    text = _cli("dump", "--json", path).stdout
    assert text.decode() == to_json(pyc)
    (tmp_path / "m.json").write_bytes(text)
    _cli("from-json", tmp_path / "m.json", "-o", tmp_path / "back.pyc")
    assert (tmp_path / "back.pyc").read_bytes() == path.read_bytes()
    _cli("from-json", "-", "-o", tmp_path / "piped.pyc", stdin=text)
    assert (tmp_path / "piped.pyc").read_bytes() == path.read_bytes()
    readable = _cli("dump", path).stdout.decode()
    assert "0x" in readable and "'x'" in readable  # the 17,000-digit int in hex: exit 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"pycfile_json": 1}')
    assert b"BadJsonError" in _cli("from-json", bad, "-o", tmp_path / "no.pyc", expect=2).stderr
    assert not (tmp_path / "no.pyc").exists()


def test_cli_dump_of_a_deep_pyc(tmp_path: Path) -> None:
    value: pycfile.Value = Singleton("N")
    for _ in range(1990):
        value = ListValue([value])
    pyc = _pyc(value)
    path = tmp_path / "deep.pyc"
    pycfile.dump(pyc, path)
    text = _cli("dump", "--json", path).stdout
    assert pycfile.dumps(from_json(text)) == path.read_bytes()
    lines = _cli("dump", path).stdout.decode().splitlines()
    assert len(lines) > 1990 and max(len(line) for line in lines) < 300


# -- any text: a pyc or a BadJsonError --------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_BASE = to_json(_pyc(Int(5), Str("x", "u", True), TupleValue([Float.binary(1.5), Bytes(b"ab")]), Long(2**70)))
_TREE = json.loads(_BASE)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "code", "items", "value", "same_as", "id", "hex", "ref", "x"]), inner, max_size=4),
    max_leaves=10,
)


def _nodes(tree: Any, out: List[Any]) -> List[Any]:
    if isinstance(tree, dict):
        out.append(tree)
        for value in tree.values():
            _nodes(value, out)
    elif isinstance(tree, list):
        out.append(tree)
        for value in tree:
            _nodes(value, out)
    return out


def _accepted_or_refused(text: Any) -> None:
    try:
        pyc = from_json(text)
    except BadJsonError:
        return
    try:
        pycfile.dumps(pyc)
    except pycfile.PycError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(_BASE) - 1), st.integers(0, 20), st.text(max_size=3))
def test_any_text_is_a_pyc_or_bad_json(at: int, cut: int, insert: str) -> None:
    _accepted_or_refused(_BASE[:at] + insert + _BASE[at + cut :])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_tree_is_a_pyc_or_bad_json(data: Any) -> None:
    tree = json.loads(_BASE)
    target = data.draw(st.sampled_from(_nodes(tree, [])))
    replacement = data.draw(_JSON_VALUES)
    if isinstance(target, dict) and target:
        key = data.draw(st.sampled_from(sorted(target)))
        target[key] = replacement
    elif isinstance(target, list) and target:
        target[data.draw(st.integers(0, len(target) - 1))] = replacement
    _accepted_or_refused(json.dumps(tree))
