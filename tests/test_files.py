"""pycfile.dump and load on the file system (pycfile/_files.py): atomic writes that a
kill cannot strand, symbolic links written through, no setuid bits copied, only regular
files read; and the file errors pickle.  The CLI's side is in test_cli.py."""

from __future__ import annotations

import os
import pickle
import py_compile
import stat
from pathlib import Path

import pytest

import pycfile
from pycfile import _files


@pytest.fixture
def pyc_path(tmp_path: Path) -> Path:
    """A pyc the host compiled."""
    source = tmp_path / "m.py"
    source.write_text("X = 'text'\n\ndef f():\n    return X\n")
    return Path(py_compile.compile(str(source), cfile=str(tmp_path / "m.pyc"), doraise=True))


@pytest.fixture(params=["unnamed", "named"])
def how(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of writing: through O_TMPFILE where it works, a named file elsewhere."""
    if request.param == "unnamed" and not _files._can_link_unnamed():
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(_files, "_can_link_unnamed", lambda: request.param == "unnamed")
    return str(request.param)


def test_dump_writes_through_symlinks(pyc_path: Path, how: str) -> None:
    pyc = pycfile.load(pyc_path)
    pyc.code.co_consts.items[0] = pycfile.Str("changed", "u")  # type: ignore[union-attr]
    link = pyc_path.with_name("link.pyc")
    link.symlink_to(pyc_path.name)
    chain = pyc_path.with_name("chain.pyc")
    chain.symlink_to(link.name)
    pycfile.dump(pyc, chain)
    assert chain.is_symlink() and link.is_symlink() and not pyc_path.is_symlink()
    assert pyc_path.read_bytes() == pycfile.dumps(pyc)
    assert sorted(os.listdir(pyc_path.parent)) == ["chain.pyc", "link.pyc", "m.py", "m.pyc"]


def test_dump_never_copies_setuid_setgid_or_sticky(pyc_path: Path, how: str) -> None:
    pyc = pycfile.load(pyc_path)
    for mode in (0o4755, 0o2711, 0o1640, 0o7777, 0o600):
        os.chmod(pyc_path, mode)
        pycfile.dump(pyc, pyc_path)
        assert stat.S_IMODE(os.stat(pyc_path).st_mode) == mode & 0o777
    fresh = pyc_path.with_name("fresh.pyc")
    pycfile.dump(pyc, fresh)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o666 & ~umask  # as open() makes it


def test_dump_refuses_what_is_not_a_regular_file(pyc_path: Path, how: str) -> None:
    pyc = pycfile.load(pyc_path)
    before = sorted(os.listdir(pyc_path.parent))
    fifo = pyc_path.with_name("fifo.pyc")
    os.mkfifo(fifo)
    with pytest.raises(pycfile.NotRegularFileError, match="is a FIFO"):
        pycfile.dump(pyc, fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(IsADirectoryError):
        pycfile.dump(pyc, pyc_path.parent)
    with pytest.raises(IsADirectoryError):
        pycfile.dump(pyc, str(pyc_path.with_name("new")) + os.sep)
    with pytest.raises(FileNotFoundError):
        pycfile.dump(pyc, "")
    assert sorted(os.listdir(pyc_path.parent)) == sorted(before + ["fifo.pyc"])


def test_write_errors_name_the_target(pyc_path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pyc = pycfile.load(pyc_path)
    target = pyc_path.with_name("missing-dir") / "out.pyc"
    with pytest.raises(FileNotFoundError) as info:
        pycfile.dump(pyc, target)
    assert info.value.filename == str(target)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    before = pyc_path.read_bytes()
    with pytest.raises(OSError) as info:
        pycfile.dump(pyc, pyc_path)
    assert (info.value.errno, info.value.filename) == (28, str(pyc_path))
    assert pyc_path.read_bytes() == before and sorted(os.listdir(pyc_path.parent)) == ["m.py", "m.pyc"]


def test_file_errors_pickle() -> None:
    errors = [
        pycfile.NotRegularFileError("/dev/zero", "character device"),
        pycfile.NotPycError(b"\x7fELF", "an ELF executable"),
        pycfile.NotPycError(b"abcd"),
    ]
    for error in errors:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and again.args == error.args and str(again) == str(error)
        assert vars(again) == vars(error)
    zero = pickle.loads(pickle.dumps(errors[0]))
    assert (zero.filename, zero.kind) == ("/dev/zero", "character device")
