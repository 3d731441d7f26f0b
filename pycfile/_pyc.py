"""A whole pyc: header, the module's code object, and any bytes after it."""

from __future__ import annotations

import os
import tempfile
from typing import IO, Optional, Union

import attrs

from ._header import PycHeader, read_header_bytes
from ._reader import read_value
from ._values import Value
from ._versions import PycFormat, PythonVersion, VersionLike, format_for_version
from ._writer import write_value

__all__ = ["PycFile", "dump", "dumps", "load", "loads"]

PathLike = Union[str, "os.PathLike[str]"]


@attrs.define
class PycFile:
    """A pyc file: its :class:`PycHeader`, the module's code object, and ``trailer``,
    the bytes (if any) after the marshalled code that the interpreter ignores."""

    #: The header: magic, and the fields of its era.
    header: PycHeader
    #: The module's code object (an instance of the code class of the pyc's layout).
    code: Value
    #: Bytes after the marshalled code object, if any; usually ``b""``.
    trailer: bytes = b""

    @property
    def version(self) -> PythonVersion:
        """The Python version of the pyc (from its magic, or the ``version=`` override)."""
        return self.header.format.version

    @property
    def format(self) -> PycFormat:
        """The format row this pyc is read and written with."""
        return self.header.format


def loads(data: bytes, *, version: Optional[VersionLike] = None) -> PycFile:
    """Read a pyc from bytes.

    The magic number picks the version; pass ``version=`` to read a pyc whose magic
    is unknown (or wrong) as that version.  The magic bytes are kept either way.
    """
    data = data if type(data) is bytes else bytes(memoryview(data))  # TypeError if not bytes-like
    fmt = format_for_version(version) if version is not None else None
    header = read_header_bytes(data, fmt)
    code, end = read_value(data, header.format.header_size, header.format, root="code")
    return PycFile(header, code, data[end:])


def load(file: Union[PathLike, IO[bytes]], *, version: Optional[VersionLike] = None) -> PycFile:
    """Read a pyc from a path or a binary file object."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            data = f.read()
    else:
        data = file.read()
    return loads(data, version=version)


def dumps(pyc: PycFile) -> bytes:
    """The bytes of a pyc; identical to what was read when nothing was changed."""
    return pyc.header.to_bytes() + write_value(pyc.code, pyc.header.format, root="code") + pyc.trailer


def dump(pyc: PycFile, file: Union[PathLike, IO[bytes]]) -> None:
    """Write a pyc to a path (atomically: a temporary file, then a rename) or to a
    binary file object.  The bytes are made in full before anything is written, so a
    model that cannot be written leaves the target untouched."""
    data = dumps(pyc)
    if isinstance(file, (str, os.PathLike)):
        atomic_write(os.fspath(file), data)
    else:
        file.write(data)


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and
    a rename, keeping the old file's permissions; the old file stays as it was if
    anything fails."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
