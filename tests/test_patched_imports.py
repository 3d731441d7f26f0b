"""Patched pycs load in the real interpreters: for every required interpreter, compile a
module with it, patch a str, an int, a bytes and a float constant and co_filename with
pycfile, and import the result sourceless in that interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

import pycfile

from edit_support import (
    FILENAME,
    SOURCE,
    bytes_tree,
    float_tree,
    int_tree,
    str_tree,
    tuple_tree,
)
from interpreters import REQUIRED
from oracle import OracleFor

pytestmark = pytest.mark.interpreters

NEW_FILENAME = "/patched/elsewhere.py"
NEW_TEXT = "patched text \u2713"
NEW_BYTES = b"patched \x00\xff bytes"
NEW_INT = -7654321
NEW_FLOAT = -0.125
ATTRIBUTES = ["S", "B", "I", "F", "T", "G", "N"]


def _module_name(key: str) -> str:
    return "patchme_" + key.replace("-", "_").replace(".", "_")


@pytest.mark.parametrize("key", REQUIRED)
def test_patched_constants_and_filename_seen_by_sourceless_import(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    oracle = oracle_for(key)
    original = oracle.compile_source(SOURCE, FILENAME)
    pyc = pycfile.loads(original)
    assert pyc.version == oracle.interpreter.version

    patched = pycfile.replace_constants(
        pyc, {"original text": NEW_TEXT, b"original bytes": NEW_BYTES, 123456: NEW_INT, 2.5: NEW_FLOAT}
    )
    patched = pycfile.replace_filename(patched, NEW_FILENAME)
    assert pycfile.dumps(pyc) == original, "the input model was changed"
    path = tmp_path / "patchme.pyc"
    pycfile.dump(patched, path)

    # The control: the interpreter's own pyc shows the original values.
    before = oracle.call("import_sourceless", pyc=original.hex(), name=_module_name(key), attributes=["S", "I"], call="fail")
    assert before["values"] == {"S": str_tree("original text"), "I": int_tree(123456)}
    assert before["raised"]["filename"] == FILENAME

    after = oracle.call(
        "import_sourceless", pyc=path.read_bytes().hex(), name=_module_name(key), attributes=ATTRIBUTES, call="fail"
    )
    text, data, number, real = str_tree(NEW_TEXT), bytes_tree(NEW_BYTES), int_tree(NEW_INT), float_tree(NEW_FLOAT)
    assert after["values"] == {
        "S": text,
        "B": data,
        "I": number,
        "F": real,
        "T": tuple_tree(number, text, real),
        "G": tuple_tree(number, real, text),
        "N": tuple_tree(text, data),
    }
    raised = after["raised"]
    assert raised["type"] == "ValueError" and raised["message"] == "boom"
    assert raised["filename"] == NEW_FILENAME
    assert f'File "{NEW_FILENAME}"' in raised["text"]


@pytest.mark.parametrize("key", REQUIRED)
def test_same_length_patch_changes_only_those_bytes(key: str, oracle_for: OracleFor) -> None:
    """Replacing a value with one of the same type and encoded length changes exactly
    its bytes: the rest of the file is what the interpreter wrote."""
    oracle = oracle_for(key)
    original = oracle.compile_source(SOURCE, FILENAME)
    assert original.count(b"original text") >= 1 and original.count(b"orig/patchme.py") >= 1
    pyc = pycfile.loads(original)
    patched = pycfile.replace_constants(pyc, {"original text": "Original-Text", b"original bytes": b"ORIGINAL BYTES"})
    assert pycfile.dumps(patched) == original.replace(b"original text", b"Original-Text").replace(
        b"original bytes", b"ORIGINAL BYTES"
    )
    renamed = pycfile.replace_filename(pyc, prefixes={"orig/": "new!/"})
    assert pycfile.dumps(renamed) == original.replace(b"orig/patchme.py", b"new!/patchme.py")
