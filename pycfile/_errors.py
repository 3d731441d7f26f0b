"""The error hierarchy: every error pycfile raises on purpose derives from PycError.

Errors are split by who is at fault (as h11 does):

* :class:`BadPycError` -- the bytes given to a reader are not a valid pyc or marshal
  stream.  It carries the byte offset where the problem was found, the path in the
  object tree (``code.co_consts[3].co_names[0]``) and the format version.
* :class:`UnwritableError` -- a model given to a writer cannot be written for its
  version (a type code that version does not have, a value out of range, ...).

Each also subclasses the standard exception users already catch for that kind of
failure (``ValueError``, and ``EOFError`` for truncated input), as cbor2 does.

Every error pickles and unpickles to an equal one (type, message, offset, path, version
and any attribute of its own), so errors cross process pools; each class names itself
``pycfile.<Name>``, where users import it from.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

__all__ = [
    "BadHeaderError",
    "BadMarshalError",
    "BadPycError",
    "BadTableError",
    "NestingTooDeepError",
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


class NoOpcodeTableError(PycError, LookupError):
    """pycfile has no opcode table for this Python version.

    Not about bad input: the version is one pycfile can read but not disassemble.  Also
    a ``LookupError`` (the lookup of a table by version failed), as it has always been.
    """

