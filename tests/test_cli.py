"""The ``pycfile`` command, run for real in a subprocess (``python -m pycfile`` and the
console script), on pycs the real interpreters wrote."""

from __future__ import annotations

import argparse
import doctest
import json
import os
import py_compile
import re
import signal
import stat
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

import pycfile
from pycfile import _cli, _files

from edit_support import FILENAME, SOURCE, int_tree, str_tree
from interpreters import require
from oracle import OracleFor

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


def _host_source(tmp_path: Path) -> Path:
    """The suite's module to patch, as a source file the host compiles."""
    source = tmp_path / "m.py"
    source.write_bytes(SOURCE)
    return source


def _host_pyc(tmp_path: Path, name: str = "m.pyc") -> Path:
    """A pyc of SOURCE made by the host interpreter (a real one, present on every machine)."""
    return Path(py_compile.compile(str(_host_source(tmp_path)), cfile=str(tmp_path / name), dfile=FILENAME, doraise=True))


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
    for command in (["info"], ["dump"], ["patch", "--filename", "x"], ["strip-refs"], ["verify"], ["dis"]):
        proc = module_cmd(command[0], broken, *command[1:], expect=2)
        # The file as given, the error's class, then offset and path once each.
        assert proc.stderr.startswith(f"pycfile {command[0]}: error: {broken}: TruncatedError: "), proc.stderr
        assert proc.stderr.count("offset") == 1 and proc.stderr.count(" 200") == 1, proc.stderr
        assert re.search(r"at offset 200 in code\.co_consts\[\d+\] \(CPython 3\.12, magic \d+\)$", proc.stderr.strip())
        assert proc.stderr.count("code.co_consts[") == 1, proc.stderr
    assert broken.read_bytes() == data[:200]
    proc = module_cmd("info", tmp_path / "missing.pyc", expect=2)
    assert proc.stderr == f"pycfile info: error: {tmp_path / 'missing.pyc'}: No such file or directory\n"


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
    """The host's own pyc, verified where discovery finds no interpreter at all (an empty
    pyenv root, an empty PATH), whatever this machine has installed."""
    path = Path(py_compile.compile(str(_host_source(tmp_path)), cfile=str(tmp_path / "m.pyc"), doraise=True))
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYCFILE_INTERPRETERS", "PATH", "PYENV_ROOT")}
    env.update(PATH=str(empty), PYENV_ROOT=str(empty))
    proc = module_cmd("verify", path, expect=2, env=env)
    host = f"CPython {sys.version_info.major}.{sys.version_info.minor}"
    assert proc.stderr == f"pycfile verify: error: no {host} interpreter found (found: none); pass --python\n"
    # --python names one: the host itself reads its own pyc
    assert module_cmd("verify", "--python", sys.executable, path, env=env).stdout.startswith(f"ok: {sys.executable} loads: ")


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


# -- files: what the command refuses, and what it never leaves behind --------------------
# On pycs the host interpreter compiled (present everywhere), and 2.7's where the
# version matters.  "Untouched" is checked on bytes, mtime and the directory listing.


def _state(*paths: Path) -> List[object]:
    """What must not change: each path's bytes and mtime, and its directory's listing."""
    out: List[object] = []
    for path in paths:
        out += [path.read_bytes(), os.stat(path).st_mtime_ns, sorted(os.listdir(path.parent))]
    return out


WRITERS = [
    ["patch", "--replace", "original text", "x"],
    ["strip-refs"],
    ["restamp", "--mtime", "5", "--source-size", "7"],
]
READERS = [["info"], ["dump"], ["dump", "--json"], ["dis"], ["verify"], ["patch", "--filename", "x"], ["strip-refs"], ["restamp", "--mtime", "1", "--source-size", "1"]]


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
def test_an_empty_output_path_is_refused(command: List[str], tmp_path: Path) -> None:
    path = _host_pyc(tmp_path)
    before = _state(path)
    proc = module_cmd(command[0], path, *command[1:], "-o", "", expect=2)
    assert proc.stderr == f"pycfile {command[0]}: error: -o/--output: an empty path names no file\n"
    assert _state(path) == before


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
def test_a_directory_as_output_is_refused(command: List[str], tmp_path: Path) -> None:
    path = _host_pyc(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = _state(path)
    for target in (out, f"{tmp_path / 'new'}{os.sep}"):
        proc = module_cmd(command[0], path, *command[1:], "-o", target, expect=2)
        assert proc.stderr == f"pycfile {command[0]}: error: {target}: Is a directory\n"
        assert _state(path) == before and list(out.iterdir()) == []


def test_restamp_refuses_a_directory_or_fifo_as_source(tmp_path: Path) -> None:
    path = _host_pyc(tmp_path)
    fifo = tmp_path / "m.fifo"
    os.mkfifo(fifo)
    before = _state(path)
    for mode in ("keep", "timestamp", "checked-hash"):
        proc = module_cmd("restamp", path, "--source", tmp_path, "--mode", mode, expect=2)
        assert proc.stderr == f"pycfile restamp: error: {tmp_path}: Is a directory\n"
        proc = module_cmd("restamp", path, "--source", fifo, "--mode", mode, expect=2)
        assert proc.stderr == f"pycfile restamp: error: {fifo} is a FIFO, not a regular file\n"
    assert _state(path) == before


@pytest.mark.parametrize("command", READERS, ids=lambda c: "-".join(c))
def test_only_regular_files_are_read(command: List[str], tmp_path: Path) -> None:
    """A FIFO (nobody writes to it: reading would block for ever) exits 2 at once with
    every command, naming the path; so do a device (/dev/zero never ends) and a directory."""
    fifo = tmp_path / "m.pyc"
    os.mkfifo(fifo)
    proc = module_cmd(command[0], fifo, *command[1:], expect=2)
    assert proc.stderr == f"pycfile {command[0]}: error: {fifo} is a FIFO, not a regular file\n"
    if command[0] in ("info", "strip-refs"):  # one reader, one writer
        proc = module_cmd(command[0], "/dev/zero", *command[1:], expect=2)
        assert proc.stderr == f"pycfile {command[0]}: error: /dev/zero is a character device, not a regular file\n"
        proc = module_cmd(command[0], tmp_path, *command[1:], expect=2)
        assert proc.stderr == f"pycfile {command[0]}: error: {tmp_path}: Is a directory\n"
    assert sorted(os.listdir(tmp_path)) == ["m.pyc"]


def test_a_file_that_is_not_a_pyc_is_called_that(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, world\n")
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("m.py", SOURCE)
    for command in ("info", "dis", "dump", "strip-refs"):
        proc = module_cmd(command, text, expect=2)
        assert proc.stderr == f"pycfile {command}: error: not a pyc file: {text} (text, it starts with b'hell')\n"
    proc = module_cmd("diff", archive, text, expect=2)
    assert proc.stderr == f"pycfile diff: error: not a pyc file: {archive} (a zip archive, it starts with b'PK\\x03\\x04')\n"
    proc = module_cmd("info", sys.executable, expect=2)  # the interpreter binary itself
    assert f"error: not a pyc file: {sys.executable} (" in proc.stderr


def test_an_unknown_magic_is_read_with_read_as(tmp_path: Path) -> None:
    """A real pyc with a magic nobody knows: "unknown magic" (not "not a pyc"), then
    --read-as the version that wrote it reads it, on every command that reads a pyc."""
    real = _host_pyc(tmp_path, "real.pyc")
    path = tmp_path / "m.pyc"
    path.write_bytes((4242).to_bytes(2, "little") + b"\r\n" + real.read_bytes()[4:])
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    proc = module_cmd("info", path, expect=2)
    assert proc.stderr == (
        f"pycfile info: error: {path}: unknown magic number 4242 (bytes 92 10 0d 0a); "
        "--read-as VERSION reads it as a known version (e.g. --read-as 3.12)\n"
    )
    out = module_cmd("info", "--read-as", host, path).stdout
    assert f"version: CPython {host} " in out and " 92 10 0d 0a" in out
    assert module_cmd("dis", "--read-as", f"cpython{host}", path).stdout == module_cmd("dis", real).stdout
    assert module_cmd("dump", path, "--read-as", host).stdout.splitlines()[1:] == module_cmd("dump", real).stdout.splitlines()[1:]
    module_cmd("diff", "--read-as", host, path, path)
    module_cmd("strip-refs", "--read-as", host, path, "-o", tmp_path / "stripped.pyc")
    module_cmd("restamp", "--read-as", host, path, "--mtime", "3", "--source-size", "4", "-o", tmp_path / "stamped.pyc")
    assert module_cmd("patch", "--read-as", host, path, "--replace", "original text", "new", "-o", tmp_path / "p.pyc").stdout
    proc = module_cmd("verify", "--read-as", host, "--python", sys.executable, path, expect=1)  # the host refuses the magic
    assert "bad magic number" in proc.stdout
    proc = module_cmd("info", "--read-as", "4.0", path, expect=2)  # a usage error
    assert "argument --read-as: pycfile knows no pyc format of CPython 4.0; known: 1.0, 1.1, 1.2," in proc.stderr
    assert "pypy3.9" in proc.stderr


def test_read_as_syntax() -> None:
    assert _cli.parse_version("3.8") == pycfile.PythonVersion(3, 8)
    assert _cli.parse_version("cpython3.8") == _cli.parse_version("CPython-3.8") == pycfile.PythonVersion(3, 8)
    pypy = _cli.parse_version("pypy3.9")
    assert pypy == pycfile.PythonVersion(3, 9, "pypy") and pypy.implementation == "pypy"
    assert _cli.parse_version("pypy-2.7").implementation == "pypy"
    for bad in ("3", "3.8.1", "jython2.7", "pypy3.1", "", "3.99"):
        with pytest.raises(argparse.ArgumentTypeError):
            _cli.parse_version(bad)


def test_every_command_that_reads_a_pyc_takes_read_as() -> None:
    parser = _cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("info", "dump", "patch", "strip-refs", "restamp", "diff", "dis", "verify"):
        assert "--read-as VERSION" in commands.choices[command].format_help(), command


def test_write_errors_name_the_given_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = _host_pyc(tmp_path)
    before = _state(path)
    missing = tmp_path / "no-such-dir" / "out.pyc"
    proc = module_cmd("strip-refs", path, "-o", missing, expect=2)
    assert proc.stderr == f"pycfile strip-refs: error: {missing}: No such file or directory\n"
    # A directory the new file cannot be made in (as root, chmod would not stop it):
    # what the system refuses is reported for the target, never a temporary name.
    real_open = os.open

    def refuse(file: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1) or str(file).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", f"{file}")
        return real_open(file, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    for unnamed in (True, False):
        monkeypatch.setattr(_files, "_can_link_unnamed", lambda: unnamed)
        assert _cli.main(["strip-refs", str(path)]) == 2
        assert capsys.readouterr().err == f"pycfile strip-refs: error: {path}: Permission denied\n"
    assert _state(path) == before


def test_symlinks_are_written_through(tmp_path: Path) -> None:
    real = _host_pyc(tmp_path, "real.pyc")
    other = tmp_path / "other.pyc"
    other.write_bytes(b"old")
    link, out_link, dangling = tmp_path / "link.pyc", tmp_path / "out.pyc", tmp_path / "dangling.pyc"
    link.symlink_to(real.name)
    out_link.symlink_to(other.name)
    dangling.symlink_to("made.pyc")
    module_cmd("patch", link, "--replace", "original text", "via a link")
    assert link.is_symlink() and os.readlink(link) == real.name
    assert "via a link" in module_cmd("dump", real).stdout
    module_cmd("strip-refs", real, "-o", out_link)
    assert out_link.is_symlink() and other.read_bytes() == pycfile.dumps(pycfile.strip_refs(pycfile.load(real)))
    module_cmd("strip-refs", real, "-o", dangling)
    assert dangling.is_symlink() and (tmp_path / "made.pyc").read_bytes() == other.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["dangling.pyc", "link.pyc", "m.py", "made.pyc", "other.pyc", "out.pyc", "real.pyc"]


def test_setuid_setgid_and_sticky_bits_are_not_copied(tmp_path: Path) -> None:
    path = _host_pyc(tmp_path)
    for mode in (0o4755, 0o2750, 0o1644, 0o7777):
        os.chmod(path, mode)
        module_cmd("restamp", path, "--mtime", "1", "--source-size", "2")
        assert stat.S_IMODE(os.stat(path).st_mode) == mode & 0o777
    out = tmp_path / "out.pyc"
    module_cmd("strip-refs", path, "-o", out)
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o7000 == 0


# The real command in a child process whose fsync of the new file stops for a while,
# so the test can kill it in the middle of the write.
_SLOW_WRITE = """
import os, sys, time
from pycfile import _cli, _files
if sys.argv[1] == "named":
    _files._can_link_unnamed = lambda: False
def fsync(fd):
    print("writing", flush=True)
    for _ in range(600):  # short sleeps: a signal that came just before one is seen
        time.sleep(0.1)
os.fsync = fsync
sys.exit(_cli.main(sys.argv[2:]))
"""


@pytest.mark.parametrize("how", ["unnamed", "named"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_kill_during_the_write_leaves_no_temporary_file(how: str, sig: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed while writing: the target is as it was, and no temporary file is left --
    except a named one after SIGKILL (no O_TMPFILE), which the next write removes."""
    path = _host_pyc(tmp_path)
    before = _state(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITE, how, "patch", str(path), "--replace", "original text", "x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("replaced ") and proc.stdout.readline() == "writing\n"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert _state(path)[:2] == before[:2]
    left = sorted(set(os.listdir(tmp_path)) - {"m.py", "m.pyc"})
    if sig == signal.SIGTERM:  # unwound: cleaned up, said so, exit 128 + 15
        assert (proc.returncode, err, left) == (128 + sig, "pycfile patch: terminated by signal 15\n", [])
    elif how == "unnamed":
        assert (proc.returncode, left) == (-sig, [])
    else:
        assert proc.returncode == -sig and len(left) == 1 and left[0].startswith(f".m.pyc.pycfile-{proc.pid}-"), left
        monkeypatch.setattr(_files, "_can_link_unnamed", lambda: False)  # as in the killed process
        pycfile.dump(pycfile.load(path), path)  # any later write of m.pyc
        assert sorted(os.listdir(tmp_path)) == ["m.py", "m.pyc"]


def test_a_left_temporary_file_is_removed_by_the_next_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _host_pyc(tmp_path)
    pyc = pycfile.load(path)
    linked = tmp_path / ".m.pyc.pycfile.tmp"  # a kill between link and rename (O_TMPFILE)
    linked.write_bytes(b"left over")
    pycfile.dump(pyc, path)
    assert sorted(os.listdir(tmp_path)) == ["m.py", "m.pyc"]
    # Without O_TMPFILE: named files of processes that are gone are removed; a live
    # process's (our parent's here) is left alone, as are other files' temporaries.
    monkeypatch.setattr(_files, "_can_link_unnamed", lambda: False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = [tmp_path / f".m.pyc.pycfile-{dead}-0a1b2c3d.tmp", tmp_path / ".m.pyc.pycfile-2147483646-00000000.tmp"]
    kept = [tmp_path / f".m.pyc.pycfile-{os.getppid()}-0a1b2c3d.tmp", tmp_path / f".n.pyc.pycfile-{dead}-0a1b2c3d.tmp"]
    for each in stale + kept:
        each.write_bytes(b"left over")
    pycfile.dump(pyc, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.py", "m.pyc"] + [p.name for p in kept])
    assert pycfile.load(path) == pyc


def _hostile(tmp_path: Path) -> Tuple[Path, Path]:
    """The host's pyc, and a copy whose names and file name hold terminal escapes."""
    path = _host_pyc(tmp_path)
    pyc = pycfile.load(path)
    evil = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\r"
    code: object = pyc.code
    code.co_names.items[0] = pycfile.Str(evil, "u")  # type: ignore[attr-defined]
    for each in pyc.code.walk():  # type: ignore[union-attr]
        each.co_filename = pycfile.Str(evil, "u")  # type: ignore[attr-defined]
        each.co_name = pycfile.Str(evil + each.co_name.value, "u")  # type: ignore[attr-defined]
    hostile = tmp_path / "hostile\x1b[1m.pyc"
    pycfile.dump(pyc, hostile)
    return path, hostile


@pytest.mark.parametrize("command", [["dis"], ["dump"], ["dump", "--json"], ["info"], ["diff", "ORIGINAL"]], ids=lambda c: "-".join(c))
def test_terminal_controls_are_escaped(command: List[str], tmp_path: Path) -> None:
    original, hostile = _hostile(tmp_path)
    args = [original if a == "ORIGINAL" else a for a in command[1:]]
    proc = module_cmd(command[0], hostile, *args, expect=1 if command[0] == "diff" else 0)
    shown = proc.stdout + proc.stderr
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", shown), repr(shown[:300])
    if command != ["dump", "--json"]:  # JSON escapes them its own way
        # escaped as text by the CLI (\x0d), or already shown as repr() shows it (\r)
        forms = ("\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil\\x0d", "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil\\r", "hostile\\x1b[1m.pyc")
        assert any(form in shown for form in forms), repr(shown[:300])
    if command[0] in ("dis", "diff"):
        assert "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil\\x0d" in shown


def test_patch_matches_2x_8bit_strings_by_text(oracle_for: OracleFor, tmp_path: Path) -> None:
    """On a 2.7 pyc, --replace TEXT matches the 8-bit str b"original bytes" (ASCII, as
    Python 2's == says) and it stays an 8-bit str; non-ASCII text gets a hint."""
    oracle = oracle_for("cpython-2.7")
    path = _pyc(oracle_for, "cpython-2.7", tmp_path)
    assert module_cmd("patch", path, "--replace", "original bytes", "by text").stdout.startswith("replaced 3 constants\n")
    result = oracle.call("import_sourceless", pyc=path.read_bytes().hex(), name="cli_py2_text", attributes=["B", "S"])
    assert result["values"] == {"B": {"t": "bytes", "v": b"by text".hex()}, "S": str_tree("original text")}
    before = _state(path)
    proc = module_cmd("patch", path, "--replace", "by têxt", "x", expect=1)
    assert proc.stderr == (
        "pycfile patch: no constant matched 'by têxt' (in 2.x non-ASCII text matches unicode only: "
        "--type bytes matches 8-bit strings); nothing written\n"
    )
    assert _state(path) == before


# -- the manual: docs/cli.md's examples run as shown ---------------------------------------

ROOT = Path(__file__).resolve().parents[1]
MANUAL = ROOT / "docs" / "cli.md"
GREET_PY = b'GREETING = "hello"\nprint(GREETING + ", world")\n'
GREET_MTIME = 1_700_000_000
# CPython 3.12.1's py_compile of GREET_PY as greet.py, mtime GREET_MTIME (checked against
# the interpreter below): docs/cli.md's examples work on it, whatever the host.
GREET_312 = bytes.fromhex(
    "cb0d0d0a0000000000f153652f000000e30000000000000000000000000400000000000000f31e000000970064005a0002006501650064017a"
    "000000ab01000000000000010079022903da0568656c6c6f7a072c20776f726c644e2902da084752454554494e47da057072696e74a900f3"
    "00000000fa0867726565742e7079fa083c6d6f64756c653e7208000000010000007317000000f003010101d80b128008d9000580689019d1"
    "061ad5001b7206000000"
)


def _console_examples(path: Path) -> List[Tuple[str, str]]:
    """(command, expected output) for every ``$`` line of the ```console blocks."""
    examples: List[Tuple[str, str]] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```console"
        elif inside and line.startswith("$ "):
            examples.append((line[2:], ""))
        elif inside and examples:
            examples[-1] = (examples[-1][0], examples[-1][1] + line + "\n")
    return examples


def test_the_manual_example_is_what_cpython_312_writes(oracle_for: OracleFor) -> None:
    made = oracle_for("cpython-3.12").compile_source(GREET_PY, "greet.py")
    assert made[:8] + made[16:] == GREET_312[:8] + GREET_312[16:]
    assert GREET_312[8:16] == struct.pack("<II", GREET_MTIME, len(GREET_PY))


def test_the_manual_examples(tmp_path: Path) -> None:
    """Every ``$`` line of docs/cli.md, run by bash in a directory holding greet.py and
    greet.pyc: what it prints (stdout and stderr) is what the page shows ("..." for
    anything), and it exits 0 (the page shows other statuses with ``echo $?``)."""
    examples = _console_examples(MANUAL)
    assert len(examples) > 20
    (tmp_path / "greet.py").write_bytes(GREET_PY)
    os.utime(tmp_path / "greet.py", (GREET_MTIME, GREET_MTIME))
    (tmp_path / "greet.pyc").write_bytes(GREET_312)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    checker = doctest.OutputChecker()
    for command, expected in examples:
        proc = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=120
        )
        assert proc.returncode == 0, f"$ {command}\n{proc.stdout}"
        assert checker.check_output(expected, proc.stdout, doctest.ELLIPSIS), f"$ {command}\nexpected:\n{expected}got:\n{proc.stdout}"


def test_the_manual_documents_every_command_and_option() -> None:
    text = MANUAL.read_text(encoding="utf-8")
    sections = re.split(r"^## `pycfile ([a-z-]+)`$", text, flags=re.M)
    documented = dict(zip(sections[1::2], sections[2::2]))
    parser = _cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(documented) == sorted(commands.choices)
    for name, sub in commands.choices.items():
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in documented[name] or f"[{option}" in documented[name], f"{name} {option}"
