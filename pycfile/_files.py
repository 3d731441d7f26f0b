"""Reading and writing files: only regular files are read, writes are atomic.

Reading (:func:`read_regular`, :func:`check_regular`): a path is checked with ``stat``
before it is opened and again with ``fstat`` once open, and it is opened with
``O_NONBLOCK``: a FIFO, a device or a socket is refused (:class:`NotRegularFileError`),
never read, so nothing blocks (a FIFO without a writer) or reads without end
(``/dev/zero``).  A directory is refused with ``IsADirectoryError``.  A regular file is
read up to the size ``fstat`` gave when it was opened.

Writing (:func:`write_atomic`): the bytes go to a new file in the target's directory,
which is then renamed over the target, so a reader sees the old file or the new one,
never half of one, and a failed write leaves the old file as it was.

* Where Linux's ``O_TMPFILE`` works, the new file has no name while it is written: a
  process killed then (SIGTERM, SIGKILL, a crash) leaves nothing behind.  Once written
  and flushed to disk it is linked as ``.NAME.pycfile.tmp`` and renamed to ``NAME`` at
  once; the one leftover a kill between those two calls could leave has that fixed
  name, and the next write of ``NAME`` replaces it.
* Elsewhere the new file is ``.NAME.pycfile-PID-RANDOM.tmp`` from the start.  Any
  error (``KeyboardInterrupt`` included; the ``pycfile`` command turns SIGTERM and
  SIGHUP into one) removes it; a file left by a killed process is removed by the next
  write of ``NAME`` in that directory (when process PID no longer exists; POSIX only).

The target: a symbolic link is written *through* (the file it points to is replaced,
the link stays); a directory, FIFO, device or socket is refused before anything is
written.  The new file gets the old one's permission bits, never its setuid, setgid or
sticky bit (a new target gets ``0o666`` less the umask, as ``open`` gives).  Every
``OSError`` names the path the caller gave, not a temporary file.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import stat
from typing import List, Optional, Tuple, Union

from ._errors import NotRegularFileError

__all__ = ["check_regular", "check_target", "read_regular", "write_atomic"]

PathLike = Union[str, "os.PathLike[str]"]

_O_READ = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_O_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_PERMISSIONS = 0o777  # rwx for user, group, others: no setuid, setgid or sticky bit
_CHUNK = 1 << 20
_SUFFIX = ".pycfile.tmp"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISLNK, "symbolic link"),
    ):
        if test(mode):
            return name
    return f"file of type {stat.S_IFMT(mode):#o}"


def _refuse_unless_regular(mode: int, path: PathLike) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    raise NotRegularFileError(os.fspath(path), _kind(mode))


def check_regular(path: PathLike) -> os.stat_result:
    """The ``stat`` of ``path`` (symbolic links followed) if it is a regular file;
    ``IsADirectoryError`` for a directory, :class:`NotRegularFileError` for anything
    else, the ``OSError`` of ``stat`` if it cannot be looked at."""
    st = os.stat(path)
    _refuse_unless_regular(st.st_mode, path)
    return st


def read_regular(path: PathLike, size: Optional[int] = None) -> bytes:
    """The bytes of the regular file ``path``: its first ``size`` bytes, or (``None``)
    as many as ``fstat`` says it has.  Refuses what is not a regular file as
    :func:`check_regular` does, without blocking and without reading it."""
    check_regular(path)  # a device is not even opened (opening some has effects)
    fd = os.open(path, _O_READ)
    try:
        st = os.fstat(fd)
        _refuse_unless_regular(st.st_mode, path)  # replaced since the stat above
        want = st.st_size if size is None else size
        chunks: List[bytes] = []
        have = 0
        while have < want:
            chunk = os.read(fd, min(want - have, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            have += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _named(e: OSError, path: PathLike) -> OSError:
    """``e`` again, naming ``path`` (the caller's) instead of a temporary file."""
    if isinstance(e, NotRegularFileError) or e.errno is None:
        return e
    return OSError(e.errno, e.strerror, os.fspath(path))


def check_target(path: PathLike) -> Tuple[str, Optional[int]]:
    """Where writing ``path`` puts the bytes (symbolic links followed) and the
    permission bits the new file gets from the old one (``None``: no file there yet).
    A directory (or a path ending in a separator) raises ``IsADirectoryError``; a
    FIFO, device or socket :class:`NotRegularFileError`; an empty path
    ``FileNotFoundError``."""
    text = os.fspath(path)
    if not text:
        raise FileNotFoundError(errno.ENOENT, "an empty path names no file", text)
    if text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), text)
    target = os.path.realpath(text)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    except OSError as e:
        raise _named(e, path) from None
    _refuse_unless_regular(st.st_mode, path)
    return target, st.st_mode & _PERMISSIONS


def write_atomic(path: PathLike, data: bytes) -> None:
    """Replace the file ``path`` by one holding ``data``, atomically (see the module's
    documentation for what a kill or an error leaves)."""
    target, mode = check_target(path)
    directory, name = os.path.split(target)
    try:
        if not _write_unnamed(directory, name, target, data, mode):
            _write_named(directory, name, target, data, mode)
    except OSError as e:
        raise _named(e, path) from None


@functools.lru_cache(maxsize=None)
def _can_link_unnamed() -> bool:
    return hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


def _fill(fd: int, data: bytes, mode: Optional[int]) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    if mode is not None:
        os.fchmod(fd, mode)
    os.fsync(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_unnamed(directory: str, name: str, target: str, data: bytes, mode: Optional[int]) -> bool:
    """Write through an ``O_TMPFILE`` file; False where that does not work here."""
    if not _can_link_unnamed():
        return False
    try:
        fd = os.open(directory or ".", os.O_TMPFILE | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        if e.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS):
            return False  # the file system (or an old kernel) has no O_TMPFILE
        raise
    link = os.path.join(directory, f".{name}{_SUFFIX}")
    try:
        _fill(fd, data, mode)
        for attempt in range(3):
            try:
                _link(fd, link)
                break
            except FileExistsError:
                if attempt == 2:
                    raise
                _unlink_quietly(link)  # left by a process killed between link and rename
            except OSError as e:
                if e.errno in (errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    return False  # the file system cannot link it: write a named file instead
                raise
        try:
            os.replace(link, target)
        except BaseException:
            _unlink_quietly(link)
            raise
    finally:
        os.close(fd)
    return True


def _link(fd: int, path: str) -> None:
    """Give the unnamed file open as ``fd`` the name ``path``: ``linkat`` of
    ``/proc/self/fd/FD`` with ``AT_SYMLINK_FOLLOW``.  (A directory descriptor is passed
    because before Python 3.14 ``os.link`` calls plain ``link``, which does not follow the
    ``/proc`` link, when it has none.)"""
    proc = os.open("/proc/self/fd", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        os.link(str(fd), path, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def _write_named(directory: str, name: str, target: str, data: bytes, mode: Optional[int]) -> None:
    """Write through a named temporary file (no ``O_TMPFILE``)."""
    _remove_stale(directory, name)
    prefix = f".{name}.pycfile-{os.getpid()}-"
    tmp = os.path.join(directory, f"{prefix}{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, _O_CREATE, 0o666)
    try:
        try:
            _fill(fd, data, mode)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _remove_stale(directory: str, name: str) -> None:
    """Remove the temporary files of earlier writes of ``name`` whose process is gone."""
    if os.name != "posix":
        return
    prefix = f".{name}.pycfile-"
    try:
        with os.scandir(directory or ".") as entries:
            names = [e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for each in names:
        pid_text = each[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            _unlink_quietly(os.path.join(directory, each))
        except OSError:
            pass  # alive, but another user's
