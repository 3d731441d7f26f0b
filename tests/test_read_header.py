"""read_header and scan_headers: header-only reading of pycs the host compiled."""

from __future__ import annotations

import importlib.util
import os
import py_compile
from pathlib import Path

import pytest

import pycfile
from pycfile import _accel

SOURCE = "x = 1\n\ndef f(a):\n    return a + x\n"


def _compile(tmp_path: Path, mode: py_compile.PycInvalidationMode, name: str) -> Path:
    src = tmp_path / (name + ".py")
    src.write_text(SOURCE)
    os.utime(src, (1_700_000_000, 1_700_000_123))
    out = tmp_path / "pyc" / (name + ".pyc")
    py_compile.compile(str(src), cfile=str(out), doraise=True, invalidation_mode=mode)
    return out


def test_read_header_of_a_timestamp_pyc_matches_the_source(tmp_path: Path) -> None:
    pyc = _compile(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP, "ts")
    header = pycfile.read_header(pyc)
    assert header.magic == importlib.util.MAGIC_NUMBER
    assert not header.hash_based
    assert header.mtime == 1_700_000_123
    assert header.source_size == len(SOURCE.encode())
    assert header == pycfile.load(pyc).header


def test_read_header_of_a_checked_hash_pyc_has_the_source_hash(tmp_path: Path) -> None:
    pyc = _compile(tmp_path, py_compile.PycInvalidationMode.CHECKED_HASH, "ch")
    header = pycfile.read_header(str(pyc))
    assert header.hash_based and header.check_source
    assert header.source_hash == importlib.util.source_hash(SOURCE.encode())
    assert header.mtime is None


def test_read_header_errors(tmp_path: Path) -> None:
    short = tmp_path / "short.pyc"
    short.write_bytes(importlib.util.MAGIC_NUMBER + b"\0\0\0")
    with pytest.raises(pycfile.TruncatedError):
        pycfile.read_header(short)
    alien = tmp_path / "alien.pyc"
    alien.write_bytes(b"\x01\x02\r\n" + b"\0" * 12)
    with pytest.raises(pycfile.UnknownMagicError):
        pycfile.read_header(alien)
    with pytest.raises(FileNotFoundError):
        pycfile.read_header(tmp_path / "missing.pyc")


@pytest.mark.parametrize("accelerated", [True, False], ids=["C accelerator", "pure Python"])
def test_scan_headers_walks_the_tree_and_reports_bad_files(
    tmp_path: Path, accelerated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if accelerated and _accel.heads is None:
        pytest.skip("no C accelerator (test_speedups.py says whether one was expected)")
    monkeypatch.setattr(_accel, "ENABLED", accelerated and _accel.ENABLED)
    good = _compile(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP, "a")
    sub = tmp_path / "pyc" / "sub"
    sub.mkdir()
    nested = _compile(sub, py_compile.PycInvalidationMode.UNCHECKED_HASH, "b")
    (tmp_path / "pyc" / "c.pyc").write_bytes(b"\x01\x02")
    (tmp_path / "pyc" / "notes.txt").write_text("not a pyc")
    (tmp_path / "pyc" / "dir.pyc").mkdir()  # named like a pyc: read as one, and fails
    (tmp_path / "pyc" / "dangling.pyc").symlink_to(tmp_path / "nowhere")
    found = dict(pycfile.scan_headers(tmp_path / "pyc"))
    bad = [str(tmp_path / "pyc" / name) for name in ("c.pyc", "dir.pyc", "dangling.pyc")]
    assert sorted(found) == sorted([str(good), str(nested)] + bad)
    assert isinstance(found[bad[1]], IsADirectoryError)
    assert isinstance(found[bad[2]], FileNotFoundError)
    assert found[str(good)] == pycfile.load(good).header
    header = found[str(nested)]
    assert isinstance(header, pycfile.PycHeader) and header.hash_based and not header.check_source
    assert isinstance(found[str(tmp_path / "pyc" / "c.pyc")], pycfile.TruncatedError)


@pytest.mark.parametrize("accelerated", [True, False], ids=["C accelerator", "pure Python"])
def test_only_regular_files_are_read(tmp_path: Path, accelerated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FIFO named like a pyc (nobody writes to it: reading it would block for ever) and
    a device are refused at once, by scan_headers, read_header and load alike."""
    if accelerated and _accel.heads is None:
        pytest.skip("no C accelerator (test_speedups.py says whether one was expected)")
    monkeypatch.setattr(_accel, "ENABLED", accelerated and _accel.ENABLED)
    good = _compile(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP, "a")
    fifo = tmp_path / "fifo.pyc"
    os.mkfifo(fifo)
    (tmp_path / "zero.pyc").symlink_to("/dev/zero")
    found = dict(pycfile.scan_headers(tmp_path))
    assert sorted(found) == sorted([str(good), str(fifo), str(tmp_path / "zero.pyc")])
    assert found[str(good)] == pycfile.read_header(good)
    for path, kind in ((fifo, "FIFO"), (tmp_path / "zero.pyc", "character device")):
        error = found[str(path)]
        assert isinstance(error, pycfile.NotRegularFileError) and isinstance(error, OSError)
        assert (error.filename, error.kind, str(error)) == (str(path), kind, f"{path} is a {kind}, not a regular file")
        for read in (pycfile.read_header, pycfile.load):
            with pytest.raises(pycfile.NotRegularFileError, match=kind):
                read(path)  # type: ignore[operator]
    with pytest.raises(IsADirectoryError):
        pycfile.load(tmp_path)


def test_data_that_is_no_pyc_is_called_that(tmp_path: Path) -> None:
    """Not "unknown magic number" for text, an executable or an archive: NotPycError (an
    UnknownMagicError, so version= still reads the data as a version)."""
    cases = [
        (b"print('hello')\n", "text"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(8), "an ELF executable"),
        (b"PK\x03\x04" + bytes(12), "a zip archive"),
        (b"\x00\x01\x02\x03" + bytes(12), ""),
        ("tête-à-tête".encode(), "text"),
    ]
    for data, looks_like in cases:
        path = tmp_path / "x.pyc"
        path.write_bytes(data)
        for read in (lambda: pycfile.loads(data), lambda: pycfile.load(path), lambda: pycfile.read_header(path)):
            with pytest.raises(pycfile.NotPycError) as info:
                read()
            assert (info.value.magic, info.value.looks_like, info.value.offset) == (data[:4], looks_like, 0)
            assert isinstance(info.value, pycfile.UnknownMagicError)
            assert str(info.value).startswith("not a pyc file")
    # A magic that ends in CR LF is a plausible pyc of a version pycfile does not know.
    with pytest.raises(pycfile.UnknownMagicError) as unknown:
        pycfile.loads(b"\x92\x10\r\n" + bytes(12) + b"N")
    assert type(unknown.value) is pycfile.UnknownMagicError
