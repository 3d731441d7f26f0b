"""``pycfile.scan_file`` and ``pycfile scan``: one report per pyc, on pycs the real
interpreters wrote; staleness as the real import system (and zipimport) decides it; the
same reports in-process, in worker processes and on a local Dask cluster."""

from __future__ import annotations

import io
import json
import os
import py_compile
import subprocess
import sys
import time
import zipfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import pycfile
from pycfile import _cli, _scan
from pycfile._refs import kids, unique_values
from pycfile._scan import KEYS, scan_paths

from corpus import corpus_part, modes
from edit_support import cache_path, run_import
from interpreters import REQUIRED, Interpreter, find, require
from oracle import OracleFor

Report = Dict[str, Any]

#: Compiles under 2.7 and every 3.x; VALUE tells which code the import system ran.
MODULE = 'VALUE = "%s"\n\n\ndef where():\n    return VALUE\n'
FROM_PYC = (MODULE % "from-pyc").encode()
FROM_SOURCE = (MODULE % "from-src").encode()  # the same length
LONGER = (MODULE % "from-src!").encode()
BUILD_PATH = "/builddir/build/BUILD/pkg-1.0/pkg/mod.py"


def _scan_cli(*args: str) -> Tuple[int, str]:
    """``pycfile scan ARGS`` in this process: exit status and stdout."""
    out = io.StringIO()
    with redirect_stdout(out):
        status = _cli.main(["scan", *args])
    return status, out.getvalue()


def _json_lines(text: str) -> List[Report]:
    return [json.loads(line) for line in text.splitlines()]


def _flags(code: pycfile.Value) -> int:
    """FLAG_REFs in a model: flagged objects, and flagged singletons in each object."""
    values = unique_values(code)
    singletons = sum(1 for v in values for c in kids(v) if isinstance(c, pycfile.Singleton) and c.flag_ref)
    return sum(1 for v in values if v.flag_ref) + singletons


def _zip(path: Path, members: Dict[str, bytes], dates: Optional[Dict[str, Tuple[int, ...]]] = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(dates or {}).get(name, (2020, 1, 1, 0, 0, 0)))  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def _dos_time(mtime: int) -> Tuple[int, ...]:
    """The zip date and time (local, even seconds) zipimport reads back as ``mtime``
    give or take 1 s."""
    return tuple(time.localtime(mtime)[:6])


def _header_mtime(data: bytes) -> int:
    header = pycfile.loads(data).header
    assert header.mtime is not None
    return header.mtime


# -- the report ----------------------------------------------------------------------------


def test_report_keys_values_and_json(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_bytes(FROM_PYC)
    pyc = Path(py_compile.compile(str(source), dfile=BUILD_PATH))  # the host's own __pycache__ layout
    report = pycfile.scan_file(pyc)
    assert tuple(report) == KEYS
    assert json.loads(json.dumps(report)) == report
    data = pyc.read_bytes()
    loaded = pycfile.loads(data)
    assert report["path"] == str(pyc) and report["ok"] is True and report["error"] is None
    assert report["size"] == len(data) and report["round_trip"] is True
    assert report["version"] == str(loaded.version) and report["magic"] == loaded.format.magic_number
    assert report["invalidation"] == "timestamp"
    assert report["header"] == {"flags": 0, "mtime": loaded.header.mtime, "source_size": len(FROM_PYC), "source_hash": None}
    assert report["co_filename_prefixes"] == ["/builddir/build/BUILD/pkg-1.0/pkg"]
    assert report["source"] == str(source) and report["stale"] is False and report["stale_reason"] is None
    assert report["unused_refs"] == _flags(loaded.code) - _flags(pycfile.strip_refs(loaded).code) > 0


def test_scan_file_takes_paths_and_raises_typeerror_for_other_types(tmp_path: Path) -> None:
    pyc = Path(py_compile.compile(str(_write(tmp_path / "m.py", FROM_PYC)), cfile=str(tmp_path / "m.pyc")))
    by_str = pycfile.scan_file(str(pyc))
    assert pycfile.scan_file(pyc) == by_str
    assert pycfile.scan_file(os.fsencode(pyc)) == by_str
    for bad in (3, None, 2.5, [str(pyc)]):
        with pytest.raises(TypeError):
            pycfile.scan_file(bad)  # type: ignore[arg-type]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_bad_files_are_reports_not_exceptions(tmp_path: Path) -> None:
    data = Path(py_compile.compile(str(_write(tmp_path / "m.py", FROM_PYC)), cfile=str(tmp_path / "m.pyc"))).read_bytes()
    cases: Dict[str, Tuple[bytes, str]] = {
        "empty.pyc": (b"", "TruncatedError"),
        "magic-only.pyc": (data[:4], "TruncatedError"),
        "header-only.pyc": (data[:16], "TruncatedError"),
        "cut.pyc": (data[:-3], "TruncatedError"),
        "unknown-magic.pyc": (b"\x01\x02\r\n" + data[4:], "UnknownMagicError"),
        "bad-type-code.pyc": (data[:16] + b"\x7f" + data[17:], "BadMarshalError"),
    }
    for name, (content, error) in cases.items():
        report = pycfile.scan_file(_write(tmp_path / name, content))
        assert tuple(report) == KEYS and json.loads(json.dumps(report)) == report
        assert report["ok"] is False and report["error"]["type"] == error, (name, report["error"])
        assert report["size"] == len(content)
    unknown = pycfile.scan_file(tmp_path / "unknown-magic.pyc")
    assert unknown["magic"] == 0x0201 and unknown["version"] is None
    cut = pycfile.scan_file(tmp_path / "cut.pyc")
    assert cut["version"] is not None and cut["error"]["offset"] is not None and cut["round_trip"] is None
    missing = pycfile.scan_file(tmp_path / "missing.pyc")
    assert missing["ok"] is False and missing["error"]["type"] == "FileNotFoundError"
    directory = pycfile.scan_file(tmp_path)
    assert directory["error"] == {"type": "OSError", "message": "not a regular file (a directory)", "offset": None, "path": None}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_named_pyc_is_a_report_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.pyc")
    os.mkfifo(tmp_path / "y.whl")
    _write(tmp_path / "broken.pyc", b"\x00")
    proc = subprocess.run(
        [sys.executable, "-m", "pycfile", "scan", "--json", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    reports = _json_lines(proc.stdout)
    assert [Path(r["path"]).name for r in reports] == ["broken.pyc", "x.pyc", "y.whl"]
    assert [r["error"]["message"] for r in reports[1:]] == ["not a regular file (a FIFO)"] * 2
    with pytest.raises(OSError, match="not a regular file"):
        with _scan._zip_file(str(tmp_path / "y.whl")):
            pass  # an archive is opened the same way: a FIFO is refused before it is read
    assert pycfile.scan_file(tmp_path / "x.pyc", headers_only=True)["error"]["message"] == "not a regular file (a FIFO)"


@pytest.mark.interpreters
def test_unused_refs_is_what_strip_refs_drops(tmp_path: Path) -> None:
    """On real pycs of every interpreter (every 97th of the corpus, all modes): the count
    is the FLAG_REFs strip_refs clears, and a stripped pyc has none left."""
    for interpreter, _, path in _corpus_files()[::97]:
        report = pycfile.scan_file(path)
        pyc = pycfile.load(path)
        stripped = pycfile.strip_refs(pyc)
        assert report["unused_refs"] == _flags(pyc.code) - _flags(stripped.code), path
        if pyc.version >= (3, 4) and interpreter.implementation == "cpython":
            assert report["unused_refs"] > 0, path  # CPython flags more than it references
        again = pycfile.scan_file(_write(tmp_path / "stripped.pyc", pycfile.dumps(stripped)))
        assert again["unused_refs"] == 0 and again["ok"], path


@pytest.mark.interpreters
@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.12"])
def test_build_paths_in_co_filename(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    source = FROM_PYC.replace(b"    return VALUE", b"    def inner():\n        return VALUE\n    return inner()")
    pyc = _write(tmp_path / "mod.pyc", oracle_for(key).compile_source(source, BUILD_PATH))
    assert pycfile.scan_file(pyc)["co_filename_prefixes"] == ["/builddir/build/BUILD/pkg-1.0/pkg"]
    fixed = pycfile.replace_filename(pycfile.load(pyc), prefixes={"/builddir/build/BUILD/pkg-1.0/": "/usr/lib/python3/"})
    pycfile.dump(fixed, pyc)
    assert pycfile.scan_file(pyc)["co_filename_prefixes"] == ["/usr/lib/python3/pkg"]


# -- staleness, as the real import system decides it ----------------------------------------

STALE_KEYS = ["cpython-2.7", "cpython-3.6", "cpython-3.12", "cpython-3.15", "pypy-3"]


def _used_pyc(interpreter: Interpreter, directory: Path, where: str = "") -> bool:
    """Whether the interpreter's import ran the pyc's code (else it compiled the source)."""
    statement = (f"import sys; sys.path.insert(0, {where!r}); " if where else "") + "import m; print(m.VALUE)"
    value = run_import(interpreter, directory, statement).strip()
    assert value in ("from-pyc", "from-src", "from-src!"), value
    return value == "from-pyc"


def _stale_cases(interpreter: Interpreter) -> Iterator[Tuple[str, str, bytes, int]]:
    """(invalidation, case, source bytes, mtime shift)."""
    yield "timestamp", "fresh", FROM_SOURCE, 0
    yield "timestamp", "newer source", FROM_SOURCE, 10
    yield "timestamp", "other size", LONGER, 0  # 2.7 stores no size: still fresh there
    if (interpreter.major, interpreter.minor) >= (3, 7):
        for mode in ("checked-hash", "unchecked-hash"):
            yield mode, "same source", FROM_PYC, 0
            yield mode, "changed source", FROM_SOURCE, 0


@pytest.mark.interpreters
@pytest.mark.parametrize("key", STALE_KEYS)
def test_stale_agrees_with_the_import_system(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    """A pyc compiled from one source beside another: ``stale`` is exactly when the
    interpreter's import compiles the source instead of running the pyc (timestamp and
    checked-hash pycs); an unchecked-hash pyc runs anyway, stale or not."""
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    for invalidation, case, source, shift in _stale_cases(interpreter):
        directory = tmp_path / f"{invalidation}-{case.replace(' ', '-')}"
        directory.mkdir()
        data = oracle.compile_source(FROM_PYC, "m.py", invalidation=invalidation)
        pyc = cache_path(interpreter, directory, "m", oracle.info()["cache_tag"])
        pyc.parent.mkdir(exist_ok=True)
        pyc.write_bytes(data)
        _write(directory / "m.py", source)
        if invalidation == "timestamp":
            mtime = _header_mtime(data) + shift
            os.utime(directory / "m.py", (mtime, mtime))
        report = pycfile.scan_file(pyc)
        assert report["ok"] and report["invalidation"] == invalidation, report
        assert report["source"] == str(directory / "m.py"), report
        used = _used_pyc(interpreter, directory)
        label = f"{interpreter.key} {invalidation} {case}: {report['stale_reason']}"
        if invalidation == "unchecked-hash":
            assert used, label
            assert report["stale"] is (source != FROM_PYC), label
        else:
            assert report["stale"] is (not used), label
            assert (report["stale_reason"] is None) is used, label
    stale = [r for r in scan_paths([tmp_path]) if r["stale"]]
    assert stale, "no case made a stale pyc"


@pytest.mark.interpreters
def test_stale_in_an_archive_agrees_with_zipimport(oracle_for: OracleFor, tmp_path: Path) -> None:
    """A zip with m.pyc beside m.py: ``stale`` is exactly when zipimport ignores the pyc
    (the zip's DOS time, 1 s of tolerance, and the size; or the source hash)."""
    interpreter = require("cpython-3.12")
    oracle = oracle_for(interpreter)
    cases = [
        ("timestamp", "fresh", FROM_SOURCE, 0),
        ("timestamp", "newer source", FROM_SOURCE, 10),
        ("timestamp", "other size", LONGER, 0),
        ("checked-hash", "same source", FROM_PYC, 0),
        ("checked-hash", "changed source", FROM_SOURCE, 0),
    ]
    for invalidation, case, source, shift in cases:
        data = oracle.compile_source(FROM_PYC, "m.py", invalidation=invalidation)
        mtime = _header_mtime(data) if invalidation == "timestamp" else 1_600_000_000
        archive = tmp_path / f"{invalidation}-{case.replace(' ', '-')}.zip"
        _zip(archive, {"m.pyc": data, "m.py": source}, {"m.py": _dos_time(mtime + shift)})
        report = pycfile.scan_file(f"{archive}!/m.pyc")
        assert report["ok"] and report["source"] == f"{archive}!/m.py", report
        used = _used_pyc(interpreter, tmp_path, str(archive))
        assert report["stale"] is (not used), f"{invalidation} {case}: {report}"


# -- many files: the command ---------------------------------------------------------------


def _wheel(oracle_for: OracleFor, tmp_path: Path) -> Tuple[Path, List[str]]:
    """A wheel with real 3.12 pycs (PEP 3147 layout) beside their sources; its pyc members."""
    oracle = oracle_for("cpython-3.12")
    tag = oracle.info()["cache_tag"]
    data = oracle.compile_source(FROM_PYC, "pkg/mod.py")
    init = oracle.compile_source(b"", "pkg/__init__.py")
    members = {
        "pkg/__init__.py": b"",
        f"pkg/__pycache__/__init__.{tag}.pyc": init,
        "pkg/mod.py": FROM_SOURCE,
        f"pkg/__pycache__/mod.{tag}.pyc": data,
        "pkg-1.0.dist-info/RECORD": b"",
    }
    dates = {"pkg/mod.py": _dos_time(_header_mtime(data)), "pkg/__init__.py": _dos_time(_header_mtime(init))}
    wheel = _zip(tmp_path / "pkg-1.0-py3-none-any.whl", members, dates)
    return wheel, [f"pkg/__pycache__/__init__.{tag}.pyc", f"pkg/__pycache__/mod.{tag}.pyc"]


def _corpus_files() -> List[Tuple[Interpreter, Any, Path]]:
    """Every corpus pyc of every required interpreter (quick or full, as PYCFILE_CORPUS says)."""
    files = []
    for key in REQUIRED:
        interpreter = find(key)
        if interpreter is None:
            require(key)  # fails, or skips the whole test when missing ones are allowed
            continue
        for mode in modes(interpreter.major, interpreter.minor):
            part = corpus_part(interpreter, mode)
            files.extend((interpreter, part, path) for path in part.files)
    return files


@pytest.mark.interpreters
def test_scan_every_corpus_pyc_a_broken_one_and_a_wheel(oracle_for: OracleFor, tmp_path: Path) -> None:
    """``pycfile scan --jobs 2 --json`` over every corpus pyc, a broken pyc and a wheel:
    one report per file in the order given, the broken one not ok, the wheel's pycs found."""
    files = _corpus_files()
    wheel, members = _wheel(oracle_for, tmp_path)
    broken = _write(tmp_path / "broken.pyc", oracle_for("cpython-3.12").compile_source(FROM_PYC)[:-5])
    paths = [str(path) for _, _, path in files] + [str(broken), str(wheel)]
    status, out = _scan_cli("--jobs", "2", "--json", *paths)
    reports = _json_lines(out)
    assert status == 1
    assert [r["path"] for r in reports] == paths[:-1] + [f"{wheel}!/{m}" for m in members]
    problems = []
    for (interpreter, part, path), report in zip(files, reports):
        rel = path.relative_to(part.root).parts[1:]  # co_filename is the path in the stdlib (or samples)
        expected = {
            "ok": True,
            "version": str(interpreter.version),
            "magic": int.from_bytes(part.magic[:2], "little"),
            "invalidation": part.mode.invalidation,
            "round_trip": True,
            "co_filename_prefixes": ["/".join(rel[:-1])],
        }
        got = {k: report[k] for k in expected}
        if got != expected:
            problems.append(f"{path}: {got} != {expected}")
    assert not problems, f"{len(problems)} of {len(files)}:\n" + "\n".join(problems[:10])
    bad = reports[len(files)]
    assert bad["ok"] is False and bad["error"]["type"] == "TruncatedError" and bad["version"] == "CPython 3.12"
    for report in reports[len(files) + 1 :]:
        assert report["ok"] and report["source"] == report["path"].replace("__pycache__/", "").replace(
            f".{oracle_for('cpython-3.12').info()['cache_tag']}.pyc", ".py"
        )
        assert report["stale"] is False, report


def _tree(oracle_for: OracleFor, tmp_path: Path) -> Path:
    """A tree of real pycs: 2.7 and 3.12 ones, one broken, a wheel, a nested package."""
    top = tmp_path / "tree"
    (top / "a" / "b").mkdir(parents=True)
    _write(top / "m27.pyc", oracle_for("cpython-2.7").compile_source(FROM_PYC, "m27.py"))
    _write(top / "a" / "m312.pyc", oracle_for("cpython-3.12").compile_source(FROM_PYC, "a/m312.py"))
    _write(top / "a" / "b" / "broken.pyc", b"\x01\x02\r\n\x00")
    _write(top / "a" / "b" / "notes.txt", b"not a pyc")
    _wheel(oracle_for, top / "a")
    return top


@pytest.mark.interpreters
def test_the_command_walks_directories_and_archives(oracle_for: OracleFor, tmp_path: Path) -> None:
    top = _tree(oracle_for, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pycfile", "scan", "--json", str(top)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    names = [os.path.relpath(r["path"], top) for r in _json_lines(proc.stdout)]
    tag = oracle_for("cpython-3.12").info()["cache_tag"]
    wheel = os.path.join("a", "pkg-1.0-py3-none-any.whl")
    assert names == [
        "m27.pyc",
        os.path.join("a", "m312.pyc"),
        f"{wheel}!/pkg/__pycache__/__init__.{tag}.pyc",
        f"{wheel}!/pkg/__pycache__/mod.{tag}.pyc",
        os.path.join("a", "b", "broken.pyc"),
    ]
    for report in _json_lines(proc.stdout):
        assert pycfile.scan_file(report["path"]) == report  # scan_file reads archive members too


@pytest.mark.interpreters
def test_the_summary_table(oracle_for: OracleFor, tmp_path: Path) -> None:
    top = _tree(oracle_for, tmp_path)
    status, out = _scan_cli(str(top))
    lines = out.splitlines()
    assert status == 1
    assert lines[0].split() == ["version", "files", "not", "ok", "with", "source", "stale", "unused", "FLAG_REFs"]
    rows = {line[: line.index("  ")]: line.split()[-5:] for line in lines[1:4]}
    unused = sum(r["unused_refs"] for r in scan_paths([top]) if r["version"] == "CPython 3.12")
    assert unused > 0
    assert rows == {
        "(unreadable)": ["1", "1", "0", "0", "0"],
        "CPython 2.7": ["1", "0", "0", "0", "0"],
        "CPython 3.12": ["3", "0", "2", "0", str(unused)],
    }
    assert lines[4].split() == ["all", "5", "1", "2", "0", str(unused)]
    assert lines[5:] == [
        "not ok (1):",
        f"  {top / 'a' / 'b' / 'broken.pyc'}: UnknownMagicError: " + pycfile.scan_file(top / "a" / "b" / "broken.pyc")["error"]["message"] + " (offset 0)",
    ]
    status, out = _scan_cli(str(top / "m27.pyc"), str(top / "a" / "m312.pyc"))
    assert status == 0 and out.splitlines()[-1].split()[:3] == ["all", "2", "0"]


@pytest.mark.interpreters
def test_jobs_give_the_same_reports_in_the_same_order(oracle_for: OracleFor, tmp_path: Path) -> None:
    top = _tree(oracle_for, tmp_path)
    for n in range(150):  # enough files for several chunks
        _write(top / "a" / f"copy{n:02}.pyc", (top / "a" / "m312.pyc").read_bytes())
    one = list(scan_paths([top]))
    assert list(scan_paths([top], jobs=2)) == one
    assert _scan_cli("--jobs", "3", "--json", str(top)) == (1, "".join(json.dumps(r) + "\n" for r in one))
    with pytest.raises(ValueError):
        list(scan_paths([top], jobs=0))


@pytest.mark.interpreters
def test_headers_only_reads_what_scan_headers_reads(oracle_for: OracleFor, tmp_path: Path) -> None:
    top = _tree(oracle_for, tmp_path)
    reports = [r for r in scan_paths([top], headers_only=True) if "!/" not in r["path"]]
    headers = list(pycfile.scan_headers(top))
    assert [r["path"] for r in reports] == [path for path, _ in headers]
    for report, (path, header) in zip(reports, headers):
        if isinstance(header, pycfile.PycHeader):
            assert report["ok"] and report["version"] == str(header.version), path
            assert report["header"]["mtime"] == header.mtime and report["header"]["flags"] == header.flags
            assert report["round_trip"] is None and report["unused_refs"] is None and report["stale"] is None
        else:
            assert not report["ok"] and report["error"]["type"] == type(header).__name__
    status, out = _scan_cli("--headers-only", str(top))
    assert status == 1 and out.splitlines()[-3].split() == ["all", "5", "1", "-", "-", "-"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    pyc = py_compile.compile(str(_write(tmp_path / "m.py", FROM_PYC)), cfile=str(tmp_path / "m.pyc"))
    command = [sys.executable, "-m", "pycfile", "scan", pyc]
    piped = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=secondary, timeout=60)
        os.close(secondary)
        seen = b""
        try:
            while True:
                chunk = os.read(primary, 1024)
                if not chunk:
                    break
                seen += chunk
        except OSError:  # EIO: the terminal's other end is closed
            pass
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"1/1 files" in seen and b"\r" in seen
    assert proc.stdout.decode().splitlines() == piped.stdout.splitlines()


# -- beyond one machine: Dask --------------------------------------------------------------


def _strict() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no") for name in ("CI", "PYCFILE_STRICT")
    )


def test_the_dask_recipe_gives_the_in_process_reports(tmp_path: Path) -> None:
    """``dask.bag.from_sequence(paths).map(pycfile.scan_file)`` on a local distributed
    cluster of 2 worker processes: the same reports as scanning here."""
    try:
        import dask.bag
        import distributed
    except ImportError as e:
        message = f"dask and distributed are not installed ({e}); pip install -e '.[dask]' (the test extra has them)"
        if _strict():
            pytest.fail(message + "; CI and PYCFILE_STRICT=1 need them", pytrace=False)
        pytest.skip(message)
    for name in ("json", "os", "ast", "argparse"):
        module = __import__(name)
        py_compile.compile(module.__file__, cfile=str(tmp_path / f"{name}.pyc"), dfile=f"/usr/lib/python3/{name}.py")  # type: ignore[arg-type]
    _write(tmp_path / "broken.pyc", (tmp_path / "json.pyc").read_bytes()[:20])
    _zip(tmp_path / "dist.whl", {"json.pyc": (tmp_path / "json.pyc").read_bytes()})
    paths = [str(p) for p in sorted(tmp_path.glob("*.pyc"))] + [f"{tmp_path / 'dist.whl'}!/json.pyc"]
    expected = [pycfile.scan_file(p) for p in paths]
    assert [r["ok"] for r in expected] == [True, True, False, True, True, True]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        reports = dask.bag.from_sequence(paths, npartitions=3).map(pycfile.scan_file).compute()
        workers = set(client.run(os.getpid).values())
        ran_on = set(dask.bag.from_sequence(range(4), npartitions=4).map(lambda _: os.getpid()).compute())
    assert reports == expected
    assert json.loads(json.dumps(reports)) == expected  # plain values cross the wire as they are
    assert len(workers) == 2 and os.getpid() not in workers and ran_on <= workers


def test_archives_that_cannot_be_read_and_egg_directories(tmp_path: Path) -> None:
    pyc = py_compile.compile(str(_write(tmp_path / "m.py", FROM_PYC)), cfile=str(tmp_path / "egg" / "x.egg" / "m.pyc"))
    _write(tmp_path / "egg" / "broken.whl", b"PK\x03\x04 not really a zip")
    _zip(tmp_path / "egg" / "good.zip", {"m.pyc": Path(pyc).read_bytes(), "m.py": FROM_PYC})
    reports = list(scan_paths([tmp_path / "egg"]))
    assert [os.path.relpath(r["path"], tmp_path / "egg") for r in reports] == [
        "broken.whl",
        "good.zip!/m.pyc",
        os.path.join("x.egg", "m.pyc"),  # an unpacked egg is a directory: walked
    ]
    assert reports[0]["ok"] is False and reports[0]["error"]["type"] == "BadZipFile"
    assert reports[1]["ok"] and reports[2]["ok"]
    missing = pycfile.scan_file(f"{tmp_path / 'egg' / 'good.zip'}!/nothing.pyc")
    assert missing["ok"] is False and missing["error"]["type"] == "KeyError"
    assert missing["error"]["message"] == "There is no item named 'nothing.pyc' in the archive"
    status, out = _scan_cli("--json", str(tmp_path / "egg" / "broken.whl"), str(tmp_path / "nothing.pyc"))
    assert status == 1 and [r["error"]["type"] for r in _json_lines(out)] == ["BadZipFile", "FileNotFoundError"]
