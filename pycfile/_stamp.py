"""Header edits: timestamps, source sizes, and the PEP 552 invalidation modes.

A timestamp pyc is valid for a source when its mtime (and, from 3.3, the source size)
match the source file's, both stored modulo 2**32 as CPython stores them.  A hash-based
pyc (3.7+) holds the source's SipHash instead; a *checked* one is compared with the
source at import, an *unchecked* one only under ``--check-hash-based-pycs always``.
"""

from __future__ import annotations

import os
from typing import Optional, Tuple, Union

import attrs

from ._files import check_regular, read_regular
from ._header import FLAG_CHECK_SOURCE, FLAG_HASH_BASED
from ._pyc import PycFile
from ._siphash import source_hash

__all__ = ["restamp", "source_stamp", "to_hash_based", "to_timestamp"]

PathLike = Union[str, "os.PathLike[str]"]
_U32 = 0xFFFFFFFF


def source_stamp(source: PathLike) -> Tuple[int, int]:
    """``(mtime, size)`` of a source file as the import system records them: whole
    seconds of the modification time and the size in bytes, each modulo 2**32.

    ``source`` must be a regular file (symbolic links followed): a directory raises
    ``IsADirectoryError``, a FIFO, device or socket :class:`~pycfile.NotRegularFileError`.
    """
    st = check_regular(source)
    return int(st.st_mtime) & _U32, st.st_size & _U32


def _copy(
    pyc: PycFile, *, flags: Optional[int], mtime: Optional[int], source_size: Optional[int], source_hash: Optional[bytes]
) -> PycFile:
    header = attrs.evolve(pyc.header, flags=flags, mtime=mtime, source_size=source_size, source_hash=source_hash)
    return PycFile(header, pyc.code, pyc.trailer)


def to_timestamp(
    pyc: PycFile,
    source: Optional[PathLike] = None,
    *,
    mtime: Optional[int] = None,
    source_size: Optional[int] = None,
) -> PycFile:
    """A timestamp pyc with ``pyc``'s code: stamped for the ``source`` file, or with
    ``mtime`` and ``source_size`` given (they override the file's values).

    A hash-based pyc becomes a timestamp one (flags 0).  Headers before 3.3 have no
    source size; ``source_size`` is ignored there.  The code is shared with ``pyc``
    (the header is new).
    """
    file_mtime = file_size = None
    if source is not None:
        file_mtime, file_size = source_stamp(source)
    mtime = mtime if mtime is not None else (file_mtime if file_mtime is not None else pyc.header.mtime)
    source_size = source_size if source_size is not None else (file_size if file_size is not None else pyc.header.source_size)
    if mtime is None:
        raise ValueError("a timestamp pyc needs an mtime: give source= or mtime=")
    size = pyc.format.header_size
    if size == 8:
        return _copy(pyc, mtime=mtime & _U32, source_size=None, flags=None, source_hash=None)
    if source_size is None:
        raise ValueError("this header has a source size: give source= or source_size=")
    flags = 0 if size >= 16 else None
    return _copy(pyc, mtime=mtime & _U32, source_size=source_size & _U32, flags=flags, source_hash=None)


def _source_bytes(source: Union[bytes, PathLike]) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return read_regular(source)


def to_hash_based(pyc: PycFile, source: Union[bytes, PathLike], *, check_source: bool = True) -> PycFile:
    """A hash-based pyc (PEP 552, 3.7+) with ``pyc``'s code and the hash of ``source``
    (its bytes, or the path of a regular file to read).

    ``check_source=True`` makes a *checked* pyc (flags 3: the import system compares the
    hash with the source's), ``False`` an *unchecked* one (flags 1).  ValueError for a
    version without hash-based pycs.  The code is shared with ``pyc``.
    """
    digest = source_hash(_source_bytes(source), pyc.format)
    flags = FLAG_HASH_BASED | (FLAG_CHECK_SOURCE if check_source else 0)
    return _copy(pyc, flags=flags, mtime=None, source_size=None, source_hash=digest)


def restamp(pyc: PycFile, source: PathLike) -> PycFile:
    """``pyc`` made valid for the ``source`` file, keeping its invalidation mode: a new
    mtime and size for a timestamp pyc, a new hash for a hash-based one."""
    if pyc.header.hash_based:
        return to_hash_based(pyc, source, check_source=pyc.header.check_source)
    return to_timestamp(pyc, source)
