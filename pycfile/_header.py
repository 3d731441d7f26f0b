"""The pyc header: 8 bytes (<= 3.2), 12 bytes (3.3-3.6) or 16 bytes (3.7+, PEP 552).

All fields are kept raw so the header is written back byte for byte: the whole 3.7+
flags word (bits above 1 included), and mtime and source size as the unsigned 32-bit
numbers stored (CPython stores them modulo 2**32).
"""

from __future__ import annotations

import operator
import os
import struct
from typing import Iterator, List, Optional, Tuple, Union

import attrs

from . import _accel
from ._errors import NotPycError, PycError, TruncatedError, UnwritableError, version_text
from ._files import read_regular
from ._versions import _BY_MAGIC, PycFormat, PythonVersion, format_for_magic

__all__ = ["FLAG_CHECK_SOURCE", "FLAG_HASH_BASED", "PycHeader", "read_header", "read_header_bytes", "scan_headers"]

#: Flags-word bit 0: the pyc is hash-based.
FLAG_HASH_BASED = 1
#: Flags-word bit 1: a hash-based pyc is checked against its source.
FLAG_CHECK_SOURCE = 2

_U32 = struct.Struct("<I")
_U32x2 = struct.Struct("<II")
_U32x3 = struct.Struct("<III")


@attrs.define
class PycHeader:
    """The header of a pyc.

    ``flags`` exists from 3.7 (PEP 552) and is ``None`` before; ``mtime`` and
    ``source_size`` are ``None`` where the header has no such field (hash-based pycs,
    and source size before 3.3); ``source_hash`` is the 8 bytes of a hash-based pyc.
    """

    #: The 4 magic bytes as stored.
    magic: bytes
    #: The format the pyc is read and written as (usually the magic's own row).
    format: PycFormat
    flags: Optional[int] = None
    mtime: Optional[int] = None
    source_size: Optional[int] = None
    source_hash: Optional[bytes] = None

    @property
    def version(self) -> PythonVersion:
        """The Python version of the pyc."""
        return self.format.version

    @property
    def size(self) -> int:
        """The header's size in bytes."""
        return self.format.header_size

    @property
    def hash_based(self) -> bool:
        """Whether this is a hash-based pyc (flags bit 0)."""
        return bool(self.flags and self.flags & FLAG_HASH_BASED)

    @property
    def check_source(self) -> bool:
        """Whether a hash-based pyc asks to be checked against its source (flags bit 1)."""
        return self.hash_based and bool(self.flags and self.flags & FLAG_CHECK_SOURCE)

    def to_bytes(self) -> bytes:
        """The header's bytes."""
        if len(self.magic) != 4:
            raise UnwritableError(f"the magic is 4 bytes, not {len(self.magic)}", path="header.magic")
        size = self.format.header_size
        try:
            if size == 8:
                return self.magic + _U32.pack(_need(self.mtime, "mtime"))
            if size == 12:
                return self.magic + _U32x2.pack(_need(self.mtime, "mtime"), _need(self.source_size, "source_size"))
            flags = _need(self.flags, "flags")
            if flags & FLAG_HASH_BASED:
                digest = self.source_hash
                if digest is None or len(digest) != 8:
                    raise UnwritableError("a hash-based pyc needs an 8-byte source_hash", path="header.source_hash")
                return self.magic + _U32.pack(flags) + digest
            return self.magic + _U32.pack(flags) + _U32x2.pack(
                _need(self.mtime, "mtime"), _need(self.source_size, "source_size")
            )
        except struct.error as e:
            raise UnwritableError(f"a header field does not fit 32 unsigned bits: {e}", path="header") from None


def _need(value: Optional[int], name: str) -> int:
    if value is None:
        raise UnwritableError(f"this header layout needs {name}", path="header." + name)
    return value


def read_header_bytes(data: bytes, fmt: Optional[PycFormat] = None) -> PycHeader:
    """Parse the header at the start of ``data`` (the magic picks the format unless
    ``fmt`` is given)."""
    n = len(data)
    if n < 4:
        raise TruncatedError(f"a pyc starts with 4 magic bytes; only {n} given", offset=0)
    magic = bytes(data[:4])
    if fmt is None:
        fmt = _BY_MAGIC.get(magic)
        if fmt is None:
            if magic[2:] != b"\r\n":  # every magic since 1.3 ends so; 1.0-1.2's are known
                raise NotPycError(magic, _looks_like(data))
            fmt = format_for_magic(magic)  # raises UnknownMagicError
    size = fmt.header_size
    if n < size:
        raise TruncatedError(
            f"the {fmt.version} header is {size} bytes; the data has {n}", offset=n, version=version_text(fmt)
        )
    if size == 16:
        flags, mtime, source_size = _U32x3.unpack_from(data, 4)
        if flags & FLAG_HASH_BASED:
            return PycHeader(magic, fmt, flags, None, None, bytes(data[8:16]))
        return PycHeader(magic, fmt, flags, mtime, source_size)
    if size == 8:
        return PycHeader(magic, fmt, mtime=_U32.unpack_from(data, 4)[0])
    mtime, source_size = _U32x2.unpack_from(data, 4)
    return PycHeader(magic, fmt, mtime=mtime, source_size=source_size)


# What a file that is not a pyc starts with: (prefix, what it is).
_SIGNATURES = [
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"#!", "a script"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xef\xbb\xbf", "UTF-8 text"),
]


def _looks_like(data: bytes) -> str:
    """What data that is no pyc looks like, from its first bytes ("" if unsure)."""
    head = bytes(data[:64])
    for prefix, what in _SIGNATURES:
        if head.startswith(prefix):
            return what
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:  # cut in the middle of a character at the end?
        text = head[: e.start].decode("utf-8") if e.start > len(head) - 4 else ""
    if text and all(c.isprintable() or c in "\t\r\n\f" for c in text):
        return "text"
    return ""


def read_header(path: Union[str, "os.PathLike[str]"]) -> PycHeader:
    """The header of the pyc at ``path``, reading only its first 16 bytes.

    Raises :class:`~pycfile.TruncatedError` for a file shorter than its header,
    :class:`~pycfile.UnknownMagicError` for a magic pycfile does not know (register it
    with :func:`~pycfile.register_magic`) and its subclass :class:`~pycfile.NotPycError`
    for a file that is no pyc at all; :class:`~pycfile.NotRegularFileError` for a FIFO,
    device or socket (never opened for reading), ``OSError`` if the file cannot be read.
    """
    return read_header_bytes(read_regular(path, 16))


def scan_headers(
    top: Union[str, "os.PathLike[str]"], suffixes: Tuple[str, ...] = (".pyc", ".pyo")
) -> Iterator[Tuple[str, Union[PycHeader, PycError, OSError]]]:
    """Walk the directory tree ``top`` and yield ``(path, header)`` for every file whose
    name ends with one of ``suffixes``, reading only the first 16 bytes of each.

    A file whose header cannot be read yields ``(path, error)`` -- the
    :class:`~pycfile.PycError` or ``OSError`` -- instead, so one bad file does not end
    the scan.  Only regular files are read: a FIFO, device or socket with such a name
    yields :class:`~pycfile.NotRegularFileError`, and nothing blocks.  Each directory yields its files in name order, then its subdirectories
    are scanned in name order (depth first); symbolic links to directories are not
    followed.
    """
    heads = _accel.heads if _accel.ENABLED and _accel.heads is not None else _heads
    stack = [os.fspath(top)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=_NAME)
        except OSError as e:
            yield directory, e
            continue
        named = [entry for entry in entries if entry.name.endswith(suffixes)]
        # Regular files (as scandir saw them) are read in one batch; anything else is
        # looked at alone, and refused unless it turned into a regular file since.
        regular = [entry.path for entry in named if _is_regular(entry)]
        read = dict(zip(regular, heads(regular, 16)))
        for entry in named:
            data = read[entry.path] if entry.path in read else _head(entry.path, 16)
            if isinstance(data, OSError):
                yield entry.path, data
                continue
            try:
                yield entry.path, read_header_bytes(data)
            except PycError as e:
                yield entry.path, e
        subdirs = [e.path for e in entries if not e.name.endswith(suffixes) and e.is_dir(follow_symlinks=False)]
        stack.extend(reversed(subdirs))


def _is_regular(entry: "os.DirEntry[str]") -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _head(path: str, size: int) -> Union[bytes, OSError]:
    """The file's first ``size`` bytes, or the OSError (NotRegularFileError included)
    reading it raised."""
    try:
        return read_regular(path, size)
    except OSError as e:
        return e


def _heads(paths: List[str], size: int) -> List[Union[bytes, OSError]]:
    """Each file's first ``size`` bytes, or the OSError reading it raised (in pure
    Python; the C accelerator has its own, ``_accel.heads``, which opens with
    O_NONBLOCK too)."""
    return [_head(path, size) for path in paths]


_NAME = operator.attrgetter("name")
