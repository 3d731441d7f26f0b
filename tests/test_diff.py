"""The semantic diff, on pycs the real interpreters compiled."""

from __future__ import annotations

import pytest

import pycfile

from edit_support import SOURCE
from interpreters import REQUIRED
from oracle import OracleFor

pytestmark = pytest.mark.interpreters

CHANGED = SOURCE.replace(b'I = 123456', b'I = 654321').replace(b"def fail():\n    raise ValueError", b"def fail():\n    raise KeyError")


@pytest.mark.parametrize("key", REQUIRED)
def test_diff_names_what_changed(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    a = pycfile.loads(oracle.compile_source(SOURCE, "m.py"))
    b = pycfile.loads(oracle.compile_source(CHANGED, "m.py"))
    assert pycfile.diff(a, a) == []
    # Re-encoding never shows: other flags, other sharing, the same values.
    assert pycfile.diff(a, pycfile.strip_refs(a)) == []
    assert pycfile.diff(a, pycfile.normalize(a)) == []

    found = [d for d in pycfile.diff(a, b) if d.kind != "header"]
    consts = [(d.code_name, d.a, d.b) for d in found if d.kind == "const"]
    assert ("<module>", 123456, 654321) in consts
    names = [(d.code_name, d.path.rsplit(".", 1)[-1], d.a, d.b) for d in found if d.kind == "name"]
    assert names == [("<module>.fail", "co_names", ("ValueError",), ("KeyError",))] or (
        key == "cpython-2.7" and names == [("<module>.fail", "co_names", (b"ValueError",), (b"KeyError",))]
    )
    assert {d.kind for d in found} <= {"const", "name", "field"}
    assert all(d.code_name in ("<module>", "<module>.fail") for d in found)
    assert all(str(d).startswith(d.kind + " ") for d in found)

    stamped = pycfile.to_timestamp(a, mtime=(a.header.mtime or 0) + 1, source_size=a.header.source_size or 0)
    assert [(d.kind, d.path) for d in pycfile.diff(a, stamped)] == [("header", "header.mtime")]


def test_diff_across_versions_and_code_objects(oracle_for: OracleFor) -> None:
    a = pycfile.loads(oracle_for("cpython-3.11").compile_source(SOURCE))
    b = pycfile.loads(oracle_for("cpython-3.12").compile_source(SOURCE))
    differences = pycfile.diff(a, b)
    assert differences[0].path == "header.version"
    assert any(d.kind == "field" and d.path == "code.co_code" for d in differences)

    c = pycfile.loads(oracle_for("cpython-3.12").compile_source(SOURCE + b"\ndef extra():\n    pass\n"))
    code_level = [d for d in pycfile.diff(b, c) if d.kind == "code"]
    assert code_level and code_level[0].a is None and str(code_level[0].b) == "<code extra>"
