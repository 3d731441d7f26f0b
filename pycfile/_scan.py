"""Auditing pycs in bulk: one plain report per file, for trees, archives and clusters.

:func:`scan_file` reads one pyc and says what an auditor asks of it: its version and
magic, whether it reads and writes back byte for byte, its invalidation mode, whether it
is stale against the source beside it, the directories its code objects name in
``co_filename``, and how many FLAG_REFs :func:`pycfile.strip_refs` would drop.  A bad
pyc is a report with ``ok: false``, never an exception, and every value is plain JSON.

:func:`scan_paths` (behind ``pycfile scan``) walks directories, looks inside ``.whl``,
``.zip`` and ``.egg`` archives without extracting them (a member is named
``archive!/member``, which :func:`scan_file` accepts too), and runs the files in worker
processes in chunks, the reports coming back in the walk's order whatever the number of
processes.

Only regular files are read: each is opened without blocking and checked with ``fstat``
first, so a FIFO or a device named ``x.pyc`` is a report, not a hang.
"""

from __future__ import annotations

import contextlib
import operator
import os
import stat
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import attrs

from ._code import Code
from ._errors import PycError
from ._header import PycHeader, read_header_bytes
from ._pyc import loads, dumps
from ._refs import unused_refs
from ._siphash import source_hash
from ._values import Bytes, Str

if TYPE_CHECKING:  # imported where used: ``import pycfile`` stays quick
    import concurrent.futures
    import zipfile

__all__ = ["ARCHIVE_SUFFIXES", "PYC_SUFFIXES", "Report", "scan_file", "scan_paths"]

#: A report: plain JSON-able values, keys always in the order :data:`KEYS` lists.
Report = Dict[str, Any]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

#: The keys of every report, in order.
KEYS = (
    "path",
    "ok",
    "error",
    "size",
    "version",
    "magic",
    "invalidation",
    "header",
    "round_trip",
    "unused_refs",
    "co_filename_prefixes",
    "source",
    "stale",
    "stale_reason",
)

#: File names a directory walk reads as pycs.
PYC_SUFFIXES = (".pyc", ".pyo")
#: File names a directory walk (or a path given) opens as zip archives.
ARCHIVE_SUFFIXES = (".whl", ".zip", ".egg")
#: Between an archive's path and a member's name in a report's ``path``.
MEMBER_SEPARATOR = "!/"

_O_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_U32 = 0xFFFFFFFF
_HEADER_BYTES = 16  # the longest header
_CHUNK = 64  # files per task handed to a worker process
_HEADER_CHUNK = 2048  # headers per task
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


# -- reading regular files only ----------------------------------------------------------


def _open_regular(path: str) -> Tuple[int, int]:
    """A file descriptor of the regular file ``path``, and its size.

    Opened with O_NONBLOCK and checked with fstat before anything is read: anything but
    a regular file raises OSError at once instead of blocking (a FIFO named ``x.pyc``)."""
    fd = os.open(path, _O_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
            raise OSError(f"not a regular file ({kind})")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def _read_regular(path: str, limit: int = -1) -> Tuple[bytes, int]:
    """The bytes of the regular file ``path`` (its first ``limit`` bytes if limit >= 0)
    and its size (see :func:`_open_regular`)."""
    fd, size = _open_regular(path)
    try:
        if limit >= 0:
            return os.read(fd, limit), size
        chunks: List[bytes] = []
        while True:
            chunk = os.read(fd, max(size + 1, 1 << 16))
            if not chunk:
                data = b"".join(chunks)
                return data, len(data)
            chunks.append(chunk)
    finally:
        os.close(fd)


# -- the sources a pyc is checked against --------------------------------------------------


def _source_name(name: str) -> Optional[str]:
    """Where the source of the pyc ``name`` (a path with ``/`` separators) is: ``m.py``
    beside a legacy ``m.pyc``/``m.pyo``, or ``../m.py`` for a PEP 3147
    ``__pycache__/m.<tag>[.opt-N].pyc``."""
    directory, _, base = name.rpartition("/")
    if not base.endswith(PYC_SUFFIXES):
        return None
    stem = base[:-4]
    if directory == "__pycache__" or directory.endswith("/__pycache__"):
        parent = directory[: -len("__pycache__")]
        module = stem.partition(".")[0]
        return f"{parent}{module}.py" if module else None
    return f"{directory}/{stem}.py" if directory else f"{stem}.py"


def _file_source(path: str) -> Optional[str]:
    name = path.replace(os.sep, "/") if os.sep != "/" else path
    source = _source_name(name)
    if source is None:
        return None
    return source.replace("/", os.sep) if os.sep != "/" else source


@attrs.frozen
class _SourceInfo:
    """A source file as the import system compares a pyc with it."""

    display: str  # its path in reports
    mtime: float
    size: int
    tolerance: float  # seconds either way: 0 for files, 1 in archives (zipimport; DOS times are even)
    read: Callable[[], bytes]


def _file_source_info(path: str) -> Optional[_SourceInfo]:
    source = _file_source(path)
    if source is None:
        return None
    try:
        st = os.stat(source)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    # The import system records whole seconds and the size, each modulo 2**32.
    return _SourceInfo(source, int(st.st_mtime) & _U32, st.st_size & _U32, 0, lambda: _read_regular(source)[0])


def _member_source_info(archive: zipfile.ZipFile, display: str, member: str) -> Optional[_SourceInfo]:
    source = _source_name(member)
    if source is None:
        return None
    try:
        info = archive.getinfo(source)
    except KeyError:
        return None
    # As zipimport: the DOS date and time read as local time, 1 s of tolerance.
    try:
        mtime = time.mktime(info.date_time + (-1, -1, -1))
    except (OverflowError, ValueError):
        mtime = float("nan")
    return _SourceInfo(f"{display}{MEMBER_SEPARATOR}{source}", mtime, info.file_size, 1, lambda: archive.read(info))


def _staleness(header: PycHeader, source: _SourceInfo) -> Tuple[Optional[bool], Optional[str]]:
    """Whether the pyc's header no longer matches the source, and why."""
    if header.hash_based:
        try:
            digest = source_hash(source.read(), header.format)
        except Exception as e:  # OSError, or zipfile's errors for a member
            return None, f"the source cannot be read: {e}"
        stored = header.source_hash or b""
        if digest != stored:
            return True, f"source hash {stored.hex()} in the header, {digest.hex()} of the source"
        return False, None
    if header.mtime is None:
        return None, None
    if not abs(header.mtime - source.mtime) <= source.tolerance:
        return True, f"mtime {header.mtime} in the header, {int(source.mtime)} of the source"
    if header.source_size is not None and header.source_size != source.size:
        return True, f"source size {header.source_size} in the header, {source.size} of the source"
    return False, None


# -- one report ------------------------------------------------------------------------------


def _new_report(path: str) -> Report:
    report: Report = dict.fromkeys(KEYS)
    report["path"] = path
    report["ok"] = False
    return report


def _error(e: BaseException) -> Dict[str, Any]:
    if isinstance(e, PycError):
        return {"type": type(e).__name__, "message": e.reason, "offset": e.offset, "path": e.path or None}
    if isinstance(e, OSError) and e.strerror:
        message = e.strerror  # the report's path says which file
    elif isinstance(e, KeyError) and e.args:
        message = str(e.args[0])  # zipfile's "There is no item named ..."
    else:
        message = str(e)
    return {"type": type(e).__name__, "message": message or type(e).__name__, "offset": None, "path": None}


def _magic_number(magic: bytes) -> Optional[int]:
    if len(magic) < 4:
        return None
    word = int.from_bytes(magic, "little")
    return word & 0xFFFF if magic[2:] == b"\r\n" else word  # as PycFormat.magic_number


def _invalidation(header: PycHeader) -> str:
    if header.hash_based:
        return "checked-hash" if header.check_source else "unchecked-hash"
    return "timestamp"


def _header_fields(report: Report, header: PycHeader) -> None:
    report["version"] = str(header.version)
    report["magic"] = header.format.magic_number
    report["invalidation"] = _invalidation(header)
    report["header"] = {
        "flags": header.flags,
        "mtime": header.mtime,
        "source_size": header.source_size,
        "source_hash": None if header.source_hash is None else header.source_hash.hex(),
    }


def _text(value: Any) -> Optional[str]:
    if isinstance(value, Str):
        return value.value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, Bytes):
        return value.value.decode("utf-8", "replace")
    return None


def _prefix(filename: str) -> str:
    cut = max(filename.rfind("/"), filename.rfind("\\"))
    return filename[:cut] if cut >= 0 else ""


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _fill(report: Report, data: bytes, headers_only: bool, source: Callable[[], Optional[_SourceInfo]]) -> Report:
    """Fill ``report`` from a pyc's bytes (``source`` finds the source to compare with)."""
    report["magic"] = _magic_number(data[:4])
    try:
        header = read_header_bytes(data)
    except PycError as e:
        report["error"] = _error(e)
        return report
    _header_fields(report, header)
    if headers_only:
        report["ok"] = True
        return report
    found = source()
    if found is not None:
        report["source"] = found.display
        report["stale"], report["stale_reason"] = _staleness(header, found)
    try:
        pyc = loads(data)
    except PycError as e:
        report["error"] = _error(e)
        return report
    try:
        written = dumps(pyc)
    except PycError as e:  # read, but cannot be written back
        report["round_trip"] = False
        report["error"] = _error(e)
        return report
    report["round_trip"] = written == data
    report["unused_refs"] = unused_refs(pyc)
    if isinstance(pyc.code, Code):
        names = {_text(getattr(code, "co_filename", None)) for code in pyc.code.walk()}
        report["co_filename_prefixes"] = sorted({_prefix(name) for name in names if name is not None})
    if report["round_trip"]:
        report["ok"] = True
    else:
        at = _first_difference(data, written)
        report["error"] = {
            "type": "RoundTripMismatch",
            "message": f"written back differently ({len(written)} bytes for {len(data)})",
            "offset": at,
            "path": None,
        }
    return report


def _failed(report: Report, e: Exception) -> Report:
    """``report`` for a file that could not be read (or a bug: that is a report too)."""
    report["ok"] = False
    report["error"] = _error(e)
    return report


def _scan_regular(path: str, headers_only: bool) -> Report:
    report = _new_report(path)
    try:
        data, report["size"] = _read_regular(path, _HEADER_BYTES if headers_only else -1)
        return _fill(report, data, headers_only, lambda: _file_source_info(path))
    except Exception as e:  # a bad file is a report; so is an unexpected error
        return _failed(report, e)


def _scan_member(archive: zipfile.ZipFile, display: str, member: str, headers_only: bool) -> Report:
    report = _new_report(f"{display}{MEMBER_SEPARATOR}{member}")
    try:
        info = archive.getinfo(member)
        report["size"] = info.file_size
        if headers_only:
            with archive.open(info) as f:
                data = f.read(_HEADER_BYTES)
        else:
            data = archive.read(info)
        return _fill(report, data, headers_only, lambda: _member_source_info(archive, display, member))
    except Exception as e:  # a bad member is a report; so is an unexpected error
        return _failed(report, e)


def _split_member(path: str) -> Optional[Tuple[str, str]]:
    """``(archive, member)`` for ``archive!/member`` when ``archive`` is a file."""
    start = 0
    while True:
        at = path.find(MEMBER_SEPARATOR, start)
        if at < 0:
            return None
        archive = path[:at]
        if os.path.isfile(archive):
            return archive, path[at + len(MEMBER_SEPARATOR) :]
        start = at + 1


def _as_text(path: PathLike) -> str:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"scan_file() takes a path (str, bytes or os.PathLike), not {type(path).__name__}")
    return os.fsdecode(os.fspath(path))


def scan_file(path: PathLike, *, headers_only: bool = False) -> Report:
    """One pyc's report: a dict of plain JSON-able values, keys always in this order.

    - ``path``: the path as given (``archive!/member`` reads a member of a ``.whl``,
      ``.zip`` or ``.egg`` archive).
    - ``ok``: the file was read as a pyc and written back byte for byte.
    - ``error``: ``None``, or ``{"type", "message", "offset", "path"}``: the exception's
      class name (a :class:`~pycfile.PycError`, an ``OSError``...), what was wrong, the
      byte offset and the path in the object tree (``None`` when they do not apply).
      A pyc that reads but is written back differently has type ``RoundTripMismatch``
      and the offset of the first difference.
    - ``size``: the file's size in bytes.
    - ``version``: the Python version as text (``"CPython 3.12"``), ``magic``: the magic
      number (the 16-bit number; the 32-bit word for 1.0-1.2 and magics without
      ``\\r\\n``), ``invalidation``: ``"timestamp"``, ``"checked-hash"`` or
      ``"unchecked-hash"``, ``header``: ``flags``, ``mtime``, ``source_size`` and
      ``source_hash`` (hex), ``None`` where the header has no such field.
    - ``round_trip``: whether the file writes back identical.
    - ``unused_refs``: how many FLAG_REFs no reference uses (what
      :func:`~pycfile.strip_refs` drops; 0 before 3.4).
    - ``co_filename_prefixes``: the distinct directories (everything before the last
      ``/`` or ``\\``; ``""`` for a bare name) of the code objects' ``co_filename``,
      sorted.
    - ``source``: the source beside the pyc (``m.py`` beside ``m.pyc``, or beside the
      ``__pycache__`` directory of ``__pycache__/m.cpython-312.pyc``; in an archive the
      member there), ``stale``: whether the header no longer matches it (as the import
      system compares: mtime and size for a timestamp pyc -- zipimport's 1 s tolerance in
      an archive --, the source hash for a hash-based one, checked or not), and
      ``stale_reason``; all ``None`` without a source.

    A value that could not be found (the file is not a pyc, the header is unreadable...)
    is ``None``.  ``headers_only=True`` reads only the first 16 bytes: the header fields
    are filled, ``ok`` means the header reads, and the fields that need the whole file
    or the source stay ``None``.

    Never raises for a bad or unreadable file (the report says what went wrong); only
    regular files are read.  Raises ``TypeError`` if ``path`` is not a str, bytes or
    ``os.PathLike``.
    """
    text = _as_text(path)
    if not os.path.lexists(text):
        member = _split_member(text)
        if member is not None:
            return _scan_members(member[0], [member[1]], headers_only, display=text[: len(member[0])])[0]
    return _scan_regular(text, headers_only)


# -- many files ------------------------------------------------------------------------------

#: A task for a worker: ``(archive or None, names, headers_only)``.
_Task = Tuple[Optional[str], Tuple[str, ...], bool]


@contextlib.contextmanager
def _zip_file(path: str) -> Iterator[zipfile.ZipFile]:
    """The zip archive ``path`` (a regular file only, as :func:`_open_regular`)."""
    import zipfile

    fd, _ = _open_regular(path)
    with os.fdopen(fd, "rb") as raw, zipfile.ZipFile(raw) as archive:
        yield archive


def _scan_members(archive: str, members: Sequence[str], headers_only: bool, display: Optional[str] = None) -> List[Report]:
    display = archive if display is None else display
    try:
        with _zip_file(archive) as zf:
            return [_scan_member(zf, display, member, headers_only) for member in members]
    except Exception as e:  # the archive itself cannot be read: each member says so
        reports = [_new_report(f"{display}{MEMBER_SEPARATOR}{member}") for member in members]
        for report in reports:
            report["error"] = _error(e)
        return reports


def _run_task(task: _Task) -> List[Report]:
    """A worker's job: a chunk of files, or of one archive's members."""
    archive, names, headers_only = task
    if archive is not None:
        return _scan_members(archive, names, headers_only)
    return [_scan_regular(name, headers_only) for name in names]


_NAME = operator.attrgetter("name")


def _members(archive: str) -> List[str]:
    """The pyc members of a zip archive, in name order."""
    with _zip_file(archive) as zf:
        names = [info.filename for info in zf.infolist() if not info.is_dir()]
    return sorted(name for name in names if name.endswith(PYC_SUFFIXES))


def _walk(top: str) -> Iterator[Tuple[str, Optional[OSError]]]:
    """``(path, None)`` for each pyc or archive under a directory, ``(directory,
    error)`` for one that cannot be listed: each directory's files in name order, then
    its subdirectories, depth first; symbolic links to directories are not followed."""
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=_NAME)
        except OSError as e:
            yield directory, e
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(entry.path)
            elif entry.name.endswith(PYC_SUFFIXES) or entry.name.endswith(ARCHIVE_SUFFIXES):
                yield entry.path, None
        stack.extend(reversed(subdirs))


def _units(paths: Sequence[str]) -> Iterator[Tuple[str, Optional[OSError]]]:
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path)
        else:
            yield path, None


#: The work in walk order: worker tasks, and reports made while walking (a directory
#: that cannot be listed, an archive that cannot be opened).
_Work = List[Union[_Task, List[Report]]]


def _plan(paths: Sequence[str], headers_only: bool) -> Tuple[_Work, int]:
    """The work for ``paths`` in chunks, and how many reports it makes."""
    work: _Work = []
    total = 0
    chunk = _HEADER_CHUNK if headers_only else _CHUNK
    pending: List[str] = []

    def flush() -> None:
        if pending:
            work.append((None, tuple(pending), headers_only))
            pending.clear()

    for path, error in _units(paths):
        if error is not None:
            flush()
            work.append([_failed(_new_report(path), error)])
            total += 1
        elif path.endswith(ARCHIVE_SUFFIXES) and _is_zip(path):
            flush()
            try:
                members = _members(path)
            except Exception as e:  # not a zip, or a broken one: one report says so
                work.append([_failed(_new_report(path), e)])
                total += 1
                continue
            work.extend((path, tuple(members[i : i + chunk]), headers_only) for i in range(0, len(members), chunk))
            total += len(members)
        else:
            pending.append(path)
            total += 1
            if len(pending) >= chunk:
                flush()
    flush()
    return work, total


def _is_zip(path: str) -> bool:
    """Whether ``path`` is a regular file to open as an archive (a broken one included:
    opening it reports the error)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _pool(jobs: int) -> concurrent.futures.ProcessPoolExecutor:
    import concurrent.futures
    import multiprocessing

    # forkserver (or spawn) rather than fork: the caller may have threads running.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def scan_paths(
    paths: Sequence[PathLike],
    *,
    jobs: int = 1,
    headers_only: bool = False,
    progress: Optional[Callable[[int, int], None]] = None,
) -> Iterator[Report]:
    """A report (as :func:`scan_file` makes) for every pyc under ``paths``, in a stable
    order whatever ``jobs`` is.

    A directory is walked (each directory's files in name order, then its
    subdirectories, depth first; links to directories are not followed) for ``.pyc``
    and ``.pyo`` files and for ``.whl``, ``.zip`` and ``.egg`` archives, whose pyc
    members are read without extracting them (``archive!/member``).  A file given is
    read as a pyc, or as an archive by its suffix.  A directory that cannot be listed
    or an archive that cannot be opened is a report of its own.

    ``jobs`` > 1 runs the files in that many worker processes, in chunks;
    ``progress(done, total)`` is called as chunks finish.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    work, total = _plan([_as_text(p) for p in paths], headers_only)
    done = 0
    if progress is not None:
        progress(0, total)
    if jobs == 1 or sum(1 for item in work if isinstance(item, tuple)) < 2:
        for item in work:
            reports = item if isinstance(item, list) else _run_task(item)
            yield from reports
            done += len(reports)
            if progress is not None:
                progress(done, total)
        return
    with _pool(jobs) as pool:
        futures = [item if isinstance(item, list) else pool.submit(_run_task, item) for item in work]
        try:
            for future in futures:
                reports = future if isinstance(future, list) else future.result()
                yield from reports
                done += len(reports)
                if progress is not None:
                    progress(done, total)
        finally:
            for future in futures:
                if not isinstance(future, list):
                    future.cancel()
