"""Typed classes for every marshal value.

Each class keeps what a byte-exact write needs: ``code`` is the type code character as
stored (without the FLAG_REF bit), ``flag_ref`` is that bit.  A value reached through a
reference (``r`` in 3.4+, ``R`` in 2.4-2.7) is the *same object* as its first occurrence,
so sharing in the model is sharing in the stream.  Floats keep their raw bytes (8 IEEE
bytes for ``g``/``y``, the text for ``f``/``x``), so NaN payloads, -0.0 and odd spellings
survive, and equality of floats is equality of their bytes (NaN equals NaN).

The classes are mutable (edit them in place or with :func:`attrs.evolve`) except
:class:`Singleton`, whose instances the reader shares.  Don't subclass them: the writer
dispatches on the exact class.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Union

import attrs

from . import _walk

if TYPE_CHECKING:
    from ._versions import CodeLayout

__all__ = [
    "CodeBase",
    "Bytes",
    "Complex",
    "DictValue",
    "Float",
    "FrozenDict",
    "FrozenSetValue",
    "Int",
    "ListValue",
    "Long",
    "SetValue",
    "Singleton",
    "Slice",
    "Str",
    "TupleValue",
    "Value",
]

_SINGLETON_VALUES = {"N": None, "T": True, "F": False, "S": StopIteration, ".": Ellipsis}


@attrs.frozen
class Singleton:
    """``None`` (``N``), ``True`` (``T``), ``False`` (``F``), ``StopIteration`` (``S``)
    or ``Ellipsis`` (``.``).  Readers ignore FLAG_REF on these; it is kept for output."""

    #: ``N``, ``T``, ``F``, ``S`` or ``.``.
    code: str
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False

    @property
    def value(self) -> Any:
        """The Python object this stands for."""
        return _SINGLETON_VALUES[self.code]


#: The shared singleton values by (code, FLAG_REF): readers return these, never new ones.
SHARED_SINGLETONS = {(code, flag): Singleton(code, flag) for code in _SINGLETON_VALUES for flag in (False, True)}


@attrs.define
class Int:
    """An int stored in 32 bits (``i``) or 64 bits (``I``, written by 2.x and 3.0-3.2)."""

    #: The integer.
    value: int
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "i"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class Long:
    """An int stored as 15-bit digits (``l``).

    ``size`` is the stored signed digit count when it is not the minimal one (a zero top
    digit, or a negative count for zero: readers before 2.7 and PyPy accept those);
    ``None`` means the canonical count.
    """

    #: The integer.
    value: int
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "l"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False
    #: The stored signed digit count, when it is not the minimal one; otherwise ``None``.
    size: Optional[int] = None


_PACK_D = struct.Struct("<d")


def _float_of(raw: bytes, text: bool) -> float:
    if text:
        return float(raw.decode("latin-1"))
    #: The integer.
    value: float = _PACK_D.unpack(raw)[0]
    return value


@attrs.define
class Float:
    """A float: ``raw`` is 8 little-endian IEEE bytes (``g``) or ASCII text (``f``)."""

    #: The stored bytes: 8 little-endian IEEE bytes (``g``) or the ASCII text (``f``).
    raw: bytes
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "g"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False

    @property
    def value(self) -> float:
        """The float this stands for."""
        return _float_of(self.raw, self.code == "f")

    @classmethod
    def binary(cls, value: float, *, flag_ref: bool = False) -> "Float":
        """A ``g`` float holding exactly ``value``."""
        return cls(_PACK_D.pack(value), "g", flag_ref)


@attrs.define
class Complex:
    """A complex: ``real``/``imag`` are raw parts, 8 IEEE bytes (``y``) or text (``x``)."""

    #: The stored real part: 8 IEEE bytes (``y``) or text (``x``).
    real: bytes
    #: The stored imaginary part, in the same form as ``real``.
    imag: bytes
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "y"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False

    @property
    def value(self) -> complex:
        """The complex this stands for."""
        text = self.code == "x"
        return complex(_float_of(self.real, text), _float_of(self.imag, text))

    @classmethod
    def binary(cls, value: complex, *, flag_ref: bool = False) -> "Complex":
        """A ``y`` complex holding exactly ``value``."""
        return cls(_PACK_D.pack(value.real), _PACK_D.pack(value.imag), "y", flag_ref)


@attrs.define
class Bytes:
    """An 8-bit string: 3.x ``bytes`` (``s``), or a 2.x ``str`` (``s``, interned ``t``)."""

    #: The bytes.
    value: bytes
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "s"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class Str:
    """A text string: ``u``/``t`` (UTF-8) or ``a``/``A``/``z``/``Z`` (Latin-1 bytes).

    ``t``, ``A`` and ``Z`` mark a string the writer had interned (in 3.4+; in 2.x ``t``
    is an interned 8-bit string and is a :class:`Bytes`).
    """

    #: The text.
    value: str
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "u"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class TupleValue:
    """A tuple: ``(`` (32-bit count) or ``)`` (8-bit count, 3.4+)."""

    #: The items, in stored order.
    items: list[Value]
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "("
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class ListValue:
    """A list (``[``)."""

    #: The items, in stored order.
    items: list[Value]
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "["
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class DictValue:
    """A dict (``{``): the stored (key, value) pairs, in order, duplicates kept."""

    #: The (key, value) pairs, in stored order, duplicates kept.
    items: list[tuple[Value, Value]]
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "{"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class SetValue:
    """A set (``<``): items in their stored order."""

    #: The items, in stored order.
    items: list[Value]
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "<"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class FrozenSetValue:
    """A frozenset (``>``): items in their stored order (it decides the bytes)."""

    #: The items, in stored order.
    items: list[Value]
    #: The type code as stored, without the FLAG_REF bit.
    code: str = ">"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class Slice:
    """A slice constant (``:``, 3.14+)."""

    #: The start value.
    start: Value
    #: The stop value.
    stop: Value
    #: The step value.
    step: Value
    #: The type code as stored, without the FLAG_REF bit.
    code: str = ":"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


@attrs.define
class FrozenDict:
    """A frozendict constant (``}``, 3.15+): stored (key, value) pairs in order."""

    #: The (key, value) pairs, in stored order.
    items: list[tuple[Value, Value]]
    #: The type code as stored, without the FLAG_REF bit.
    code: str = "}"
    #: Whether the type byte has FLAG_REF (0x80) set, putting the object in the reference table.
    flag_ref: bool = False


class CodeBase:
    """What every code-object class is (:class:`pycfile.Code` and the classes of each
    layout derive from it); the model's other modules know code objects by it."""

    __slots__ = ()

    #: The FLAG_REF bit of the code object's type byte.
    flag_ref: bool

    #: The layout this class models.
    layout: ClassVar["CodeLayout"]
    #: Size in bytes of the integer fields (2 before 2.3, then 4).
    int_size: ClassVar[int] = 4
    #: The type code of a code object in this layout.
    type_code: ClassVar[str] = "c"


Value = Union[
    Singleton,
    Int,
    Long,
    Float,
    Complex,
    Bytes,
    Str,
    TupleValue,
    ListValue,
    DictValue,
    SetValue,
    FrozenSetValue,
    Slice,
    FrozenDict,
    CodeBase,
]
"""Any marshal value of the model: one of the value classes or a code object."""


# ``==``, ``!=`` and ``repr`` walk the model without recursion and cost once per shared
# object (attrs's own are recursive): see pycfile/_walk.py.
_walk.install(Int, Long, Float, Complex, Bytes, Str, TupleValue, ListValue, DictValue, SetValue, FrozenSetValue, Slice, FrozenDict)
_walk.register(Singleton)
