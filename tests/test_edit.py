"""replace_constants and replace_filename: what matches (by type and value), what the
interpreter then sees, and that nothing else changes."""

from __future__ import annotations

import math
from pathlib import Path
import struct

import pytest

import pycfile

from edit_support import SOURCE, float_tree, int_tree, str_tree, tuple_tree
from interpreters import REQUIRED
from oracle import Oracle, OracleFor, Tree

pytestmark = pytest.mark.interpreters

PY3_KEYS = [key for key in REQUIRED if key != "cpython-2.7"]

# Every value here is a constant in co_consts on every version (asked of 2.7-3.15 and
# PyPy): 3.14+ load ints 0-255 with LOAD_SMALL_INT and 3.15 loads True, False and None
# with LOAD_COMMON_CONSTANT, so 1 and True meet 1.0 inside tuples (D, B), and the
# top-level int/float pair is 1000 and 1000.0.
TYPED_SOURCE = b"""\
A = 1000
B = (True, "b")
C = 1.0
D = (1, True, 1.0, 0.0, -0.0)
E = 1000.0
Z = 0.0
M = -0.0
W = "swap me"
"""

TRUE: Tree = {"t": "True"}
FALSE: Tree = {"t": "False"}


def _import(oracle: Oracle, pyc: pycfile.PycFile, attributes: list) -> dict:
    name = "typed_" + oracle.interpreter.key.replace("-", "_").replace(".", "_")
    result = oracle.call("import_sourceless", pyc=pycfile.dumps(pyc).hex(), name=name, attributes=attributes)
    values: dict = result["values"]
    return values


@pytest.mark.parametrize("key", PY3_KEYS)
def test_matching_is_by_type_and_value(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    pyc = pycfile.loads(oracle.compile_source(TYPED_SOURCE))
    names = ["A", "B", "C", "D", "E", "Z", "M", "W"]
    before = _import(oracle, pyc, names)
    assert before["D"] == tuple_tree(int_tree(1), TRUE, float_tree(1.0), float_tree(0.0), float_tree(-0.0))
    assert before["B"] == tuple_tree(TRUE, str_tree("b"))

    ints = _import(oracle, pycfile.replace_constants(pyc, {1: 5, 1000: 5000}), names)
    assert ints == dict(before, A=int_tree(5000), D=tuple_tree(int_tree(5), TRUE, float_tree(1.0), float_tree(0.0), float_tree(-0.0)))

    bools = _import(oracle, pycfile.replace_constants(pyc, {True: False}), names)
    assert bools == dict(
        before,
        B=tuple_tree(FALSE, str_tree("b")),
        D=tuple_tree(int_tree(1), FALSE, float_tree(1.0), float_tree(0.0), float_tree(-0.0)),
    )

    floats = _import(oracle, pycfile.replace_constants(pyc, {1.0: 2.5, 0.0: 9.0, 1000.0: 0.5}), names)
    assert floats == dict(
        before,
        C=float_tree(2.5),
        E=float_tree(0.5),
        Z=float_tree(9.0),
        D=tuple_tree(int_tree(1), TRUE, float_tree(2.5), float_tree(9.0), float_tree(-0.0)),
    )

    other_type = _import(oracle, pycfile.replace_constants(pyc, {"swap me": 17, -0.0: "minus zero"}), names)
    assert other_type["W"] == int_tree(17) and other_type["M"] == str_tree("minus zero")

    # A whole tuple constant is a key too.
    whole = _import(oracle, pycfile.replace_constants(pyc, {(1, True, 1.0, 0.0, -0.0): ("a", b"b")}), names)
    assert whole["D"] == tuple_tree(str_tree("a"), {"t": "bytes", "v": b"b".hex()}) and whole["A"] == int_tree(1000)


@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.6", "cpython-3.13", "cpython-3.14", "cpython-3.15", "pypy-3"])
def test_nan_matches_nan(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    pyc = pycfile.loads(oracle.compile_source(SOURCE))
    with_nan = pycfile.replace_constants(pyc, {2.5: float("nan")})
    seen = _import(oracle, with_nan, ["F"])["F"]
    assert math.isnan(struct.unpack("<d", bytes.fromhex(seen["v"]))[0])
    back = pycfile.replace_constants(with_nan, {float("nan"): 7.0})
    assert _import(oracle, back, ["F", "G"]) == {
        "F": float_tree(7.0),
        "G": tuple_tree(int_tree(123456), float_tree(7.0), str_tree("original text")),
    }


def test_py2_bytes_keys_match_8bit_strings(oracle_for: OracleFor) -> None:
    oracle = oracle_for("cpython-2.7")
    pyc = pycfile.loads(oracle.compile_source(b'S = "eight bit"\nU = u"eight bit"\n'))
    only_str = _import(oracle, pycfile.replace_constants(pyc, {b"eight bit": b"changed"}), ["S", "U"])
    assert only_str == {"S": {"t": "bytes", "v": b"changed".hex()}, "U": str_tree("eight bit")}


PY2_TEXT_SOURCE = """\
# -*- coding: utf-8 -*-
S = "eight bit"
U = u"eight bit"
N = "hello"
C = "café"
D = u"café"
T = ("eight bit", 1)
"""


def test_py2_text_keys_match_ascii_8bit_strings(oracle_for: OracleFor) -> None:
    """In 2.x a text key matches the 8-bit strings Python 2 finds equal to it (ASCII
    ones) as well as unicode, and an 8-bit string replaced by text stays 8-bit, with its
    type code ('t' for the interned "hello"); non-ASCII text matches unicode only."""
    oracle = oracle_for("cpython-2.7")
    pyc = pycfile.loads(oracle.compile_source(PY2_TEXT_SOURCE.encode("utf-8")))
    names = ["S", "U", "N", "C", "D", "T"]
    before = _import(oracle, pyc, names)
    assert before["C"] == {"t": "bytes", "v": "café".encode().hex()} and before["D"] == str_tree("café")

    patched = pycfile.replace_constants(pyc, {"eight bit": "été", "hello": "bye", "café": "tea"})
    after = _import(oracle, patched, names)
    assert after == dict(
        before,
        S={"t": "bytes", "v": "été".encode("utf-8").hex()},  # 8-bit, the new text in UTF-8
        U=str_tree("été"),
        N={"t": "bytes", "v": b"bye".hex()},
        D=str_tree("tea"),  # "café" (non-ASCII) matched the unicode constant only
        T=tuple_tree({"t": "bytes", "v": "été".encode("utf-8").hex()}, int_tree(1)),  # inside tuples too
    )
    codes = {}
    for old, new in zip(pyc.code.co_consts.items, patched.code.co_consts.items):  # type: ignore[union-attr]
        if isinstance(old, pycfile.Bytes) and old.value in (b"eight bit", b"hello"):
            codes[old.value] = (old.code, new.code, type(new).__name__)
    assert codes == {b"eight bit": ("s", "s", "Bytes"), b"hello": ("t", "t", "Bytes")}
    # bytes keys: exactly as before (8-bit strings only, any bytes); non-text values
    # are written as from_python writes them
    by_bytes = _import(oracle, pycfile.replace_constants(pyc, {"café".encode(): b"tea", b"hello": 5}), names)
    assert by_bytes == dict(before, C={"t": "bytes", "v": b"tea".hex()}, N=int_tree(5))
    # a str inside a tuple key matches unicode items only
    assert pycfile.dumps(pycfile.replace_constants(pyc, {("eight bit", 1): 2})) == pycfile.dumps(pyc)


def test_input_is_not_changed_and_model_values_are_copied(oracle_for: OracleFor) -> None:
    data = oracle_for("cpython-3.12").compile_source(SOURCE)
    pyc = pycfile.loads(data)
    fresh = pycfile.loads(data)
    replacement = pycfile.Str("given as a model", "u")
    out = pycfile.replace_constants(pyc, {"original text": replacement, 123456: 1})
    out = pycfile.replace_filename(out, "x.py")
    assert pyc == fresh and pycfile.dumps(pyc) == data
    assert isinstance(out.code, pycfile.Code)
    new = out.code.co_consts.items[1]  # type: ignore[attr-defined]
    assert new is not replacement and (new.value, new.code) == (replacement.value, replacement.code)
    # It replaces a string that 3.12 shares between three code objects: shared, so flagged.
    assert new.flag_ref and not replacement.flag_ref


def test_unsupported_keys_and_missing_names() -> None:
    pyc = pycfile.PycFile(
        pycfile.PycHeader(pycfile.format_for_version((3, 12)).magic, pycfile.format_for_version((3, 12)), 0, 0, 0),
        pycfile.Singleton("N"),
    )
    with pytest.raises(TypeError):
        pycfile.replace_constants(pyc, {frozenset(): 1, object(): 2})
    with pytest.raises(ValueError):
        pycfile.replace_filename(pyc)


@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.12"])
def test_filename_prefixes(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    pyc = pycfile.loads(oracle.compile_source(SOURCE, "/build/src/pkg/mod.py"))
    out = pycfile.replace_filename(pyc, prefixes={"/build/": "/b/", "/build/src/": "/site/", "/elsewhere": "/x"})
    filenames = {pycfile.to_python(c.co_filename) for c in out.code.walk()}  # type: ignore[attr-defined]
    assert filenames == {"/site/pkg/mod.py" if key != "cpython-2.7" else b"/site/pkg/mod.py"}
    result = oracle.call("import_sourceless", pyc=pycfile.dumps(out).hex(), name="prefixes_" + key[-2:].replace(".", ""), call="fail")
    assert result["raised"]["filename"] == "/site/pkg/mod.py"
    unchanged = pycfile.replace_filename(pyc, prefixes={"/nowhere/": "/x/"})
    assert pycfile.dumps(unchanged) == pycfile.dumps(pyc)


def test_deeply_nested_constants(oracle_for: OracleFor, tmp_path: Path) -> None:
    """Editing, diffing and dumping never hit Python's recursion limit: a constant nested
    1500 tuples deep (3.12 reads up to 2000 levels) is replaced and loads in 3.12."""
    oracle = oracle_for("cpython-3.12")
    assert oracle.interpreter.key == "cpython-3.12"
    pyc = pycfile.loads(oracle.compile_source(b"X = 1\n"))
    nest: pycfile.Value = pycfile.Str("deep leaf", "z")
    for _ in range(1500):
        nest = pycfile.TupleValue([nest], ")")
    pyc.code.co_consts.items.append(nest)  # type: ignore[union-attr]
    out = pycfile.replace_constants(pyc, {"deep leaf": "replaced"})
    differences = pycfile.diff(pyc, out)
    assert [(d.kind, d.path) for d in differences] == [("const", "code.co_consts[2]")]
    data = pycfile.dumps(pycfile.normalize(pycfile.strip_refs(out)))
    leaf = pycfile.loads(data).code.co_consts.items[2]  # type: ignore[union-attr]
    for _ in range(1500):
        leaf = leaf.items[0]
    assert leaf == pycfile.Str("replaced", "Z")  # identifier-like: interned
    path = tmp_path / "deep.pyc"
    path.write_bytes(data)
    from pycfile import _cli

    assert _cli.main(["dump", "--json", str(path)]) == 0
    assert _cli.main(["dump", str(path)]) == 0
    # The interpreter's marshal reads it (too deep for the oracle's JSON trees).
    assert _cli.main(["verify", str(path)]) == 0
