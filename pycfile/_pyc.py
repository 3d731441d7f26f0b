"""A whole pyc: header, the module's code object, and any bytes after it."""

from __future__ import annotations

import os
from typing import IO, Optional, Union

import attrs

from ._files import read_regular, write_atomic
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
    """Read a pyc from a path or a binary file object.

    Only a regular file is read from a path: a directory raises ``IsADirectoryError``, a
    FIFO, device or socket :class:`~pycfile.NotRegularFileError` (nothing blocks, nothing
    reads without end).
    """
    if isinstance(file, (str, os.PathLike)):
        data = read_regular(file)
    else:
        data = file.read()
    return loads(data, version=version)


def dumps(pyc: PycFile) -> bytes:
    """The bytes of a pyc; identical to what was read when nothing was changed."""
    return pyc.header.to_bytes() + write_value(pyc.code, pyc.header.format, root="code") + pyc.trailer


def dump(pyc: PycFile, file: Union[PathLike, IO[bytes]]) -> None:
    """Write a pyc to a path (atomically: a new file, then a rename) or to a binary file
    object.  The bytes are made in full before anything is written, so a model that
    cannot be written leaves the target untouched.

    A path that is a symbolic link is written through (the file it points to is
    replaced); a directory, FIFO, device or socket is refused before anything is written.
    The new file keeps the old one's permission bits but never its setuid, setgid or
    sticky bit.  No temporary file outlives the call, even when the process is killed
    during the write where Linux's ``O_TMPFILE`` works; elsewhere one left by a killed
    process is removed by the next write of the same path.  Errors name ``file``, not a
    temporary file.
    """
    data = dumps(pyc)
    if isinstance(file, (str, os.PathLike)):
        write_atomic(file, data)
    else:
        file.write(data)
