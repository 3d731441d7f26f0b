"""The error hierarchy: every error pycfile raises on purpose derives from PycError.

Errors are split by who is at fault (as h11 does):

* :class:`BadPycError` -- the bytes given to a reader are not a valid pyc or marshal
  stream.  It carries the byte offset where the problem was found, the path in the
  object tree (``code.co_consts[3].co_names[0]``) and the format version.
* :class:`UnwritableError` -- a model given to a writer cannot be written for its
  version (a type code that version does not have, a value out of range, ...).

Each also subclasses the standard exception users already catch for that kind of
failure (``ValueError``, and ``EOFError`` for truncated input), as cbor2 does.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "AssembleError",
    "BadHeaderError",
    "BadJsonError",
    "BadMarshalError",
    "BadPycError",
    "HostCodeError",
    "NestingTooDeepError",
    "PycError",
    "TruncatedError",
    "UnknownMagicError",
    "UnwritableError",
]


class PycError(Exception):
    """Base of every error pycfile raises for bad input or an unwritable model.

    ``str(error)`` joins :attr:`reason`, :attr:`offset`, :attr:`path` and :attr:`version`
    into one message, e.g. ``bad marshal data (unknown type code 0x71 ('q')) at offset 25
    in code.co_code (CPython 2.7, magic 62211)``.
    """

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
        #: The format version being read or written, e.g. ``"CPython 3.12"``.
        self.version = version

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


class UnwritableError(PycError, ValueError):
    """A model cannot be written in its version's format."""


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
