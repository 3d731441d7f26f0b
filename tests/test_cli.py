"""The ``pycfile`` command, run for real in a subprocess (``python -m pycfile`` and the
console script), on pycs the real interpreters wrote."""

from __future__ import annotations

import json
import os
import struct
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, List

import pytest

import pycfile
from pycfile import _cli

from edit_support import FILENAME, SOURCE, int_tree, str_tree
from interpreters import require
from oracle import OracleFor
from shared_samples import SHARED_SAMPLES

pytestmark = pytest.mark.interpreters

SCRIPT = Path(sys.executable).with_name("pycfile")
Run = Callable[..., subprocess.CompletedProcess]


def _run(prefix: List[str]) -> Run:
    def run(*args: object, expect: int = 0, env: object = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            prefix + [str(a) for a in args], capture_output=True, text=True, timeout=120, env=env  # type: ignore[arg-type]
        )
        assert proc.returncode == expect, f"exit {proc.returncode} for {args}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    return run


@pytest.fixture(params=["module", "script"])
def pycfile_cmd(request: pytest.FixtureRequest) -> Run:
    if request.param == "script":
        assert SCRIPT.exists(), f"no console script at {SCRIPT} (pip install -e .)"
        return _run([str(SCRIPT)])
    return _run([sys.executable, "-m", "pycfile"])


module_cmd = _run([sys.executable, "-m", "pycfile"])


def _pyc(oracle_for: OracleFor, key: str, tmp_path: Path, name: str = "m.pyc") -> Path:
    path = tmp_path / name
    path.write_bytes(oracle_for(key).compile_source(SOURCE, FILENAME))
    return path


def test_help_lists_every_command(pycfile_cmd: Run) -> None:
    out = pycfile_cmd("--help").stdout
    for name in ("info", "dump", "patch", "strip-refs", "restamp", "diff", "dis", "verify"):
        assert name in out


@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.12"])
def test_info(key: str, oracle_for: OracleFor, tmp_path: Path, pycfile_cmd: Run) -> None:
    path = _pyc(oracle_for, key, tmp_path)
    data = path.read_bytes()
    out = pycfile_cmd("info", path).stdout
    interpreter = require(key)
    assert f"version: CPython {interpreter.major}.{interpreter.minor} " in out
    assert f"mtime: {struct.unpack_from('<I', data, 4 if interpreter.major < 3 else 8)[0]}" in out
    assert f"({len(data)} bytes)" in out and "code objects: 5" in out and "invalidation: timestamp" in out


def test_dump(oracle_for: OracleFor, tmp_path: Path) -> None:
    path = _pyc(oracle_for, "cpython-3.12", tmp_path)
    tree = json.loads(module_cmd("dump", "--json", path).stdout)
    assert tree["version"] == "CPython 3.12" and tree["magic"] == path.read_bytes()[:4].hex()
    consts = tree["code"]["fields"]["co_consts"]["items"]
    assert {k: v for k, v in consts[1].items() if k != "id"} == {"type": "Str", "code": "z", "ref": True, "value": "original text"}
    # The module's file name comes after the nested code objects': a reference to one's.
    first = tree["code"]["fields"]["co_filename"]["same_as"]
    nested = [c["fields"]["co_filename"] for c in consts if c.get("type") == "Code311" and "fields" in c]
    assert {"type": "Str", "code": "z", "ref": True, "id": first, "value": FILENAME} in nested
    assert pycfile.dumps(pycfile.from_json(json.dumps(tree))) == path.read_bytes()
    text = module_cmd("dump", path).stdout
    assert "'original text'" in text and "co_consts: Tuple" in text


def test_patch_in_place_then_verify(oracle_for: OracleFor, tmp_path: Path, pycfile_cmd: Run) -> None:
    oracle = oracle_for("cpython-3.11")
    path = _pyc(oracle_for, "cpython-3.11", tmp_path)
    out = pycfile_cmd("patch", path, "--replace", "original text", "via the CLI", "--filename", "/cli/m.py").stdout
    # S, and inside T, in get's and inner's tuple: 3.11 folds the returned tuples.
    assert "replaced 4 constants" in out and "co_filename in 5 code objects" in out
    pycfile_cmd("patch", path, "-t", "int", "--replace", "123456", "0x10")
    assert "ok: cpython-3.11" in pycfile_cmd("verify", path).stdout
    result = oracle.call("import_sourceless", pyc=path.read_bytes().hex(), name="cli_patched", attributes=["S", "I"], call="fail")
    assert result["values"] == {"S": str_tree("via the CLI"), "I": int_tree(16)}
    assert result["raised"]["filename"] == "/cli/m.py"


def test_patch_to_another_file_and_literal_types(oracle_for: OracleFor, tmp_path: Path) -> None:
    oracle = oracle_for("cpython-2.7")
    path = _pyc(oracle_for, "cpython-2.7", tmp_path)
    before = path.read_bytes()
    out = tmp_path / "out.pyc"
    module_cmd("patch", path, "-t", "literal", "--replace", "b'original bytes'", "b'\\x00new'", "--replace", "2.5", "(1, u'x')", "-o", out)
    assert path.read_bytes() == before
    result = oracle.call("import_sourceless", pyc=out.read_bytes().hex(), name="cli_literal", attributes=["B", "F"])
    assert result["values"] == {"B": {"t": "bytes", "v": "006e6577"}, "F": {"t": "tuple", "items": [int_tree(1), str_tree("x")]}}


def test_failed_patch_leaves_the_file_alone(oracle_for: OracleFor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _pyc(oracle_for, "cpython-3.13", tmp_path)
    before = path.read_bytes()
    stamp = os.stat(path).st_mtime_ns
    proc = module_cmd("patch", path, "--replace", "not a constant here", "x", expect=1)
    assert "no constant matched" in proc.stderr
    proc = module_cmd("patch", path, "-t", "int", "--replace", "123456", "twelve", expect=2)
    assert "is not a int" in proc.stderr
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == stamp

    # A write that fails half-way (here: the flush to disk) leaves the old file and no
    # temporary file behind.
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    assert _cli.main(["patch", str(path), "--replace", "original text", "x"]) == 2
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.pyc"]


def test_bad_input_exits_2_with_offset_and_path(oracle_for: OracleFor, tmp_path: Path) -> None:
    data = _pyc(oracle_for, "cpython-3.12", tmp_path).read_bytes()
    broken = tmp_path / "broken.pyc"
    broken.write_bytes(data[:200])
    for command in (["info"], ["dump"], ["patch", "--filename", "x"], ["strip-refs"], ["verify"]):
        proc = module_cmd(command[0], broken, *command[1:], expect=2)
        assert "TruncatedError" in proc.stderr and "offset 200" in proc.stderr and "path code." in proc.stderr
    assert broken.read_bytes() == data[:200]
    module_cmd("info", tmp_path / "missing.pyc", expect=2)


def test_strip_refs_is_stable_across_processes(oracle_for: OracleFor, tmp_path: Path) -> None:
    path = _pyc(oracle_for, "cpython-3.10", tmp_path)
    outputs = []
    for seed in ("0", "12345"):
        out = tmp_path / f"stripped{seed}.pyc"
        module_cmd("strip-refs", path, "-o", out, env=dict(os.environ, PYTHONHASHSEED=seed))
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == pycfile.dumps(pycfile.strip_refs(pycfile.load(path)))
    assert outputs[0] != path.read_bytes()
    module_cmd("strip-refs", "--normalize", path)
    assert path.read_bytes() == pycfile.dumps(pycfile.normalize(pycfile.loads(outputs[0])))


def test_restamp(oracle_for: OracleFor, tmp_path: Path) -> None:
    oracle = oracle_for("cpython-3.9")
    path = _pyc(oracle_for, "cpython-3.9", tmp_path)
    source = tmp_path / "m.py"
    source.write_bytes(SOURCE)
    os.utime(source, (1_500_000_000, 1_500_000_000))
    module_cmd("restamp", path, "--source", source)
    assert struct.unpack_from("<III", path.read_bytes(), 4) == (0, 1_500_000_000, len(SOURCE))
    module_cmd("restamp", path, "--mtime", 77, "--source-size", 5)
    assert struct.unpack_from("<III", path.read_bytes(), 4) == (0, 77, 5)
    module_cmd("restamp", path, "--source", source, "--mode", "unchecked-hash")
    data = path.read_bytes()
    assert struct.unpack_from("<I", data, 4)[0] == 1 and data[8:16] == oracle.source_hash(SOURCE)
    module_cmd("restamp", path, "--mode", "checked-hash", expect=2)  # no source given
    module_cmd("restamp", path, "--mtime", 9, "--source-size", 3)  # back to a timestamp pyc
    assert struct.unpack_from("<III", path.read_bytes(), 4) == (0, 9, 3)


def test_diff(oracle_for: OracleFor, tmp_path: Path) -> None:
    a = _pyc(oracle_for, "pypy-3", tmp_path, "a.pyc")
    b = tmp_path / "b.pyc"
    module_cmd("diff", a, a)
    module_cmd("patch", a, "-t", "float", "--replace", "2.5", "3.5", "-o", b)
    out = module_cmd("diff", a, b, expect=1).stdout
    assert "const code.co_consts[4] (<module>): 2.5 != 3.5" in out


@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.6", "cpython-3.13", "pypy-3"])
def test_verify_uses_an_interpreter_of_the_pyc_version(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    path = _pyc(oracle_for, key, tmp_path)
    # The same interpreter the test suite's discovery found, path and all.
    assert module_cmd("verify", path).stdout.startswith(f"ok: {require(key)} loads: code object ")
    # A model pycfile writes but the interpreter refuses: a code object whose file name
    # is an int.
    pyc = pycfile.load(path)
    pyc.code.co_filename = pycfile.Int(5)  # type: ignore[union-attr]
    pycfile.dump(pyc, path)
    out = module_cmd("verify", path, expect=1).stdout
    assert out.startswith(f"FAILED: {require(key).key} ")


def test_verify_reports_the_interpreters_error(oracle_for: OracleFor, tmp_path: Path) -> None:
    path = _pyc(oracle_for, "cpython-3.12", tmp_path)
    out = module_cmd("verify", "--python", require("cpython-3.11").path, path, expect=1).stdout
    assert "FAILED" in out and "bad magic number" in out


def test_verify_without_an_interpreter_of_that_version(tmp_path: Path) -> None:
    samples = SHARED_SAMPLES / "3.14"
    sample = sorted(samples.glob("*.pyc"))[0]
    proc = module_cmd("verify", sample, expect=2)
    assert "no CPython 3.14 interpreter found" in proc.stderr


_LISTING_ROW = re.compile(r"^\s*(?:\d+\s+)?(?:>>\s*)?(\d+) ([A-Z_][A-Z0-9_]*)\b")


@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.12"])
def test_dis_lists_the_instructions_the_interpreter_sees(key: str, oracle_for: OracleFor, tmp_path: Path, pycfile_cmd: Run) -> None:
    path = _pyc(oracle_for, key, tmp_path)
    listing = pycfile_cmd("dis", path).stdout
    module_section = listing.split("Disassembly of")[0]
    rows = [m.groups() for m in map(_LISTING_ROW.match, module_section.splitlines()) if m]
    expected = oracle_for(key).call("dis_instructions", path=str(path), index=0)
    assert [(int(offset), name) for offset, name in rows] == [(row[0], row[1]) for row in expected]
    assert listing.count("Disassembly of <code object") == 4  # the module's four nested functions/classes
