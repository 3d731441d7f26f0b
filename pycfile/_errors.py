"""The error hierarchy: every error pycfile raises on purpose derives from PycError.

Errors are split by who is at fault (as h11 does):

* :class:`BadPycError` -- the bytes given to a reader are not a valid pyc or marshal
  stream.  It carries the byte offset where the problem was found, the path in the
  object tree (``code.co_consts[3].co_names[0]``) and the format version.
* :class:`UnwritableError` -- a model given to a writer cannot be written for its
  version (a type code that version does not have, a value out of range, ...).
* :class:`NotRegularFileError` -- a path to read (or write) names a FIFO, a device or a
  socket, which pycfile never opens for reading (it could block or never end).

Each also subclasses the standard exception users already catch for that kind of
failure (``ValueError``, and ``EOFError`` for truncated input), as cbor2 does.

Every error pickles and unpickles to an equal one (type, message, offset, path, version
and any attribute of its own), so errors cross process pools; each class names itself
``pycfile.<Name>``, where users import it from.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

__all__ = [
    "AssembleError",
    "BadHeaderError",
    "BadJsonError",
    "BadMarshalError",
    "BadPycError",
    "BadTableError",
    "HostCodeError",
    "NestingTooDeepError",
    "NoPythonValueError",
    "NotPycError",
    "NotRegularFileError",
    "NoOpcodeTableError",
    "PycError",
    "TruncatedError",
    "UnknownMagicError",
    "UnwritableError",
    "version_text",
]


def version_text(fmt: Any) -> str:
    """How an error names the format it was reading or writing, always in this form:
    ``CPython 3.12, magic 3531`` (``fmt`` is a :class:`~pycfile.PycFormat`)."""
    return f"{fmt.version}, magic {fmt.magic_number}"


class PycError(Exception):
    """Base of every error pycfile raises for bad input or an unwritable model.

    ``str(error)`` joins :attr:`reason`, :attr:`offset`, :attr:`path` and :attr:`version`
    into one message, e.g. ``bad marshal data (unknown type code 0x71 ('q')) at offset 25
    in code.co_code (CPython 2.7, magic 62211)``.
    """

    __module__ = "pycfile"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:  # pycfile's own: named where users import them
            cls.__module__ = "pycfile"

    def __init__(
        self,
        reason: str,
        *,
        offset: Optional[int] = None,
        path: str = "",
        version: Optional[str] = None,
    ) -> None:
        super().__init__(reason)
        #: What was wrong, without the location.
        self.reason = reason
        #: Byte offset in the input (for a pyc: from the start of the file).
        self.offset = offset
        #: Where in the object tree, e.g. ``code.co_consts[3].co_names[0]``.
        self.path = path
        #: The format being read or written, e.g. ``"CPython 3.12, magic 3531"``
        #: (always in this form: :func:`version_text`).
        self.version = version

    def __reduce__(self) -> Tuple[Any, ...]:
        # Rebuilt without calling __init__ (whose arguments differ between subclasses):
        # the arguments the exception holds, then every attribute.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))

    def _prepend_path(self, step: str) -> None:
        """Add an outer step to :attr:`path` (used while the error unwinds)."""
        if not self.path:
            self.path = step
        elif self.path.startswith("["):
            self.path = step + self.path
        else:
            self.path = step + "." + self.path

    def __str__(self) -> str:
        parts = [self.reason]
        if self.offset is not None:
            parts.append(f"at offset {self.offset}")
        if self.path:
            parts.append(f"in {self.path}")
        if self.version:
            parts.append(f"({self.version})")
        return " ".join(parts)


def _rebuild(cls: type, args: Tuple[Any, ...], state: Dict[str, Any]) -> PycError:
    """An error of class ``cls`` with these ``args`` and attributes (for pickle)."""
    error: PycError = BaseException.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class BadPycError(PycError, ValueError):
    """The input bytes are not a valid pyc file or marshal stream."""


class TruncatedError(BadPycError, EOFError):
    """The input ended where more bytes were needed."""


class UnknownMagicError(BadPycError):
    """The pyc's magic number is not in the version table.

    Pass ``version=`` to read it as a known version, or register the magic with
    :func:`pycfile.register_magic`.
    """

    def __init__(self, magic: bytes, *, offset: int = 0) -> None:
        number = int.from_bytes(magic[:2], "little") if len(magic) >= 2 else -1
        super().__init__(
            f"unknown magic number {number} (bytes {magic.hex(' ')}); pass version= "
            "to read it as a known version or register it with pycfile.register_magic",
            offset=offset,
        )
        #: The four magic bytes as read.
        self.magic = magic


class BadHeaderError(BadPycError):
    """A header field holds a value no reader of that version accepts."""


class BadMarshalError(BadPycError):
    """The marshal stream is malformed (unknown type code, bad reference, ...)."""


class NestingTooDeepError(BadMarshalError):
    """Objects are nested deeper than the version's marshal depth limit."""


class BadTableError(BadPycError):
    """A line, location or exception table is malformed.

    :attr:`offset` is the byte offset inside the table and :attr:`path` names the table
    (``co_lnotab``, ``co_linetable``, ``co_exceptiontable``).
    """


class UnwritableError(PycError, ValueError):
    """A model cannot be written in its version's format."""


class NoPythonValueError(PycError, ValueError):
    """A model value that no Python value can stand for (:func:`pycfile.to_python`): a
    tuple, frozenset, slice or frozendict that contains itself through immutable
    containers only (valid marshal data: CPython's reader builds such a tuple, Python code
    cannot), a text float that is not a number, or a model holding a non-value."""


class NotPycError(UnknownMagicError):
    """The data is not a pyc at all (text, an executable, an archive...): its first four
    bytes are no magic number and do not end in ``\\r\\n`` as every magic since 1.3 does.

    A subclass of :class:`UnknownMagicError` (``version=`` still reads the data as that
    version); :attr:`looks_like` names what the bytes look like, when pycfile can tell.
    """

    def __init__(self, magic: bytes, looks_like: str = "") -> None:
        what = f" ({looks_like})" if looks_like else ""
        BadPycError.__init__(
            self, f"not a pyc file{what}: its first bytes {magic.hex(' ')} ({magic!r}) are no magic number", offset=0
        )
        #: The first four bytes as read.
        self.magic = magic
        #: What the data looks like ("text", "an ELF executable", ...), or "".
        self.looks_like = looks_like

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.magic, self.looks_like), self.__dict__)


class NotRegularFileError(PycError, OSError):
    """A path names something other than a regular file: a FIFO, a character or block
    device, a socket.  pycfile refuses to read those (a FIFO blocks, ``/dev/zero`` never
    ends) and to replace them.  Also an ``OSError``; :attr:`filename` is the path given
    and :attr:`kind` what it is (``"FIFO"``, ``"character device"``...).
    """

    def __init__(self, filename: str, kind: str) -> None:
        super().__init__(f"{filename} is a {kind}, not a regular file")
        self.filename = filename
        #: What the path names: "FIFO", "character device", "block device", "socket"...
        self.kind = kind

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.filename, self.kind), self.__dict__)
class NoOpcodeTableError(PycError, LookupError):
    """pycfile has no opcode table for this Python version.

    Not about bad input: the version is one pycfile can read but not disassemble.  Also
    a ``LookupError`` (the lookup of a table by version failed), as it has always been.
    """

class AssembleError(PycError, ValueError):
    """An instruction list cannot be assembled (:func:`pycfile.assemble`): an unknown
    opname, an argument that does not fit the version, a jump to no instruction...

    :attr:`path` is ``instructions[N]``, :attr:`index` that ``N`` (``None`` when no one
    instruction is at fault) and :attr:`offset` the instruction's ``offset``.
    """

    def __init__(self, reason: str, *, index: Optional[int] = None, offset: Optional[int] = None, version: Optional[str] = None) -> None:
        super().__init__(reason, offset=offset, path="" if index is None else f"instructions[{index}]", version=version)
        #: The position of the instruction at fault in the list given.
        self.index = index


class HostCodeError(PycError, ValueError):
    """A code model cannot become a live code object of the running interpreter
    (:func:`pycfile.to_code`): it is of another version, or the host refuses it."""


class BadJsonError(PycError, ValueError):
    """The text given to :func:`pycfile.from_json` is not valid JSON, or not a pyc in
    pycfile's JSON schema.  :attr:`path` names the node (``code.co_consts[3]``) and
    :attr:`offset` is the character offset of a syntax error."""
