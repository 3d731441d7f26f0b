"""Between model values and ordinary Python values.

:func:`to_python` gives the value a constant stands for.  :func:`from_python` makes a
model value the way the given version's CPython writes that Python value (FACTS.md
section 3.4): the type code it picks, and the FLAG_REF bit it sets on a fresh, unshared
constant.
"""

from __future__ import annotations

import string
from typing import Any, Dict, Set, Union

from ._code import Code
from ._deep import call_with_deep_stack
from ._values import (
    Bytes,
    Complex,
    Float,
    FrozenDict,
    FrozenSetValue,
    Int,
    ListValue,
    Long,
    Singleton,
    Slice,
    Str,
    TupleValue,
    Value,
)
from ._values import DictValue
from ._values import SetValue
from ._versions import PycFormat, VersionLike, format_for_version

__all__ = ["from_python", "to_python"]

_VALUE_TYPES = (Singleton, Int, Long, Float, Complex, Bytes, Str, TupleValue, ListValue, DictValue, SetValue, FrozenSetValue, Slice, FrozenDict, Code)


def to_python(value: Value) -> Any:
    """The ordinary Python value a model value stands for.

    Containers convert recursively; code objects stay models (a host code object of
    another version cannot be made).  2.x 8-bit strings become ``bytes``.  A tuple or
    frozenset that contains itself cannot exist in Python and raises ValueError.
    """
    memo: Dict[int, Any] = {}
    building: Set[int] = set()
    # List comprehensions, not generator expressions, below: 3.12 inlines them, so deep
    # nesting costs Python frames only (a generator's C frames hit 3.12's C recursion limit,
    # which no recursion limit raises).

    def conv(v: Value) -> Any:
        cls = type(v)
        if isinstance(v, (Int, Long, Bytes, Str, Singleton, Float, Complex)):
            return v.value
        if isinstance(v, Code):
            return v
        key = id(v)
        if key in memo:
            return memo[key]
        if key in building:
            raise ValueError(f"a {cls.__name__} that contains itself has no Python value")
        if isinstance(v, ListValue):
            out: list[Any] = []
            memo[key] = out
            out.extend([conv(i) for i in v.items])
            return out
        if isinstance(v, DictValue):
            d: dict[Any, Any] = {}
            memo[key] = d
            for k, val in v.items:
                d[conv(k)] = conv(val)
            return d
        if isinstance(v, SetValue):
            s: set[Any] = set()
            memo[key] = s
            s.update([conv(i) for i in v.items])
            return s
        building.add(key)
        try:
            if isinstance(v, TupleValue):
                result: Any = tuple([conv(i) for i in v.items])
            elif isinstance(v, FrozenSetValue):
                result = frozenset([conv(i) for i in v.items])
            elif isinstance(v, Slice):
                result = slice(conv(v.start), conv(v.stop), conv(v.step))
            elif isinstance(v, FrozenDict):
                result = _frozendict({conv(k): conv(val) for k, val in v.items})
            else:
                raise TypeError(f"{cls.__name__} is not a marshal value")
        finally:
            building.discard(key)
        memo[key] = result
        return result

    try:
        return conv(value)
    except RecursionError:  # deeper than the caller's stack allows: redo on a big one
        memo.clear()
        building.clear()
        return call_with_deep_stack(conv, value)


class _frozendict(Dict[Any, Any]):
    """A read-only dict standing in for 3.15's frozendict on older hosts."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("frozendict is read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _readonly


_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_")


def _interned(text: str, fmt: PycFormat) -> bool:
    """Whether the compiler of that version interns a str constant: identifier-like
    strings always; from 3.13 also one-character Latin-1 strings (FACTS.md 3.4)."""
    if text and all(c in _NAME_CHARS for c in text):
        return True
    return fmt.version >= (3, 13) and len(text) == 1 and ord(text) < 256


def _float_text(x: float, fmt: PycFormat) -> bytes:
    """The text a marshal v0/v1 writer stores for a float (FACTS.md 3.3)."""
    text = ("%.12g" if fmt.version < (2, 3) else "%.17g") % x
    if text.lstrip("-").isdigit():
        text += ".0"
    return text.encode("ascii")


def from_python(obj: Any, version: Union[VersionLike, PycFormat]) -> Value:
    """A model value for ``obj`` as ``version``'s CPython would write a fresh constant.

    Handles None, bool, int, float, complex, str, bytes, tuple, list, dict, set,
    frozenset, slice (3.14+), Ellipsis and StopIteration; model values (code objects
    included) are taken as they are.  In 2.x, ``bytes`` are the 8-bit ``str`` and
    ``str`` is ``unicode``.
    """
    fmt = version if isinstance(version, PycFormat) else format_for_version(version)
    v = fmt.version
    py3 = v.major >= 3
    mv = fmt.marshal_version
    always_ref_interned = v.implementation == "cpython" and v >= (3, 11)
    immortal = v.implementation == "cpython" and v >= (3, 12)

    def conv(o: Any) -> Value:
        if isinstance(o, _VALUE_TYPES):
            return o
        if o is None:
            return Singleton("N")
        if o is True:
            return Singleton("T")
        if o is False:
            return Singleton("F")
        if o is Ellipsis:
            return Singleton(".")
        if o is StopIteration:
            return Singleton("S")
        if type(o) is int:
            if -(1 << 31) <= o < (1 << 31):
                return Int(o, "i", immortal and -5 <= o <= 256)
            if (not py3 or v < (3, 3)) and -(1 << 63) <= o < (1 << 63) and v >= (1, 5):
                return Int(o, "I")
            return Long(o)
        if type(o) is float:
            return Float.binary(o) if mv >= 2 else Float(_float_text(o, fmt), "f")
        if type(o) is complex:
            if mv >= 2:
                return Complex.binary(o)
            return Complex(_float_text(o.real, fmt), _float_text(o.imag, fmt), "x")
        if type(o) is bytes:
            if not py3 and mv >= 1 and _interned(o.decode("latin-1"), fmt):
                return Bytes(o, "t")
            return Bytes(o, "s")
        if type(o) is str:
            if not py3 or mv < 3:
                return Str(o, "u")
            interned = _interned(o, fmt)
            flag = interned and always_ref_interned
            if mv >= 4 and o.isascii():
                if len(o) < 256:
                    return Str(o, "Z" if interned else "z", flag)
                return Str(o, "A" if interned else "a", flag)
            return Str(o, "t" if interned else "u", flag)
        if type(o) is tuple:
            return TupleValue([conv(i) for i in o], ")" if mv >= 4 and len(o) < 256 else "(")
        if type(o) is list:
            return ListValue([conv(i) for i in o])
        if type(o) is dict:
            return DictValue([(conv(k), conv(val)) for k, val in o.items()])
        if type(o) in (set, frozenset):
            items = [conv(i) for i in o]
            if v.implementation == "cpython" and v >= (3, 11):
                # 3.11+ sorts set items by their own marshal bytes (bpo-37596).
                from ._writer import write_value

                items.sort(key=lambda item: write_value(item, fmt))
            return SetValue(items) if type(o) is set else FrozenSetValue(items)
        if type(o) is slice:
            return Slice(conv(o.start), conv(o.stop), conv(o.step))
        raise TypeError(f"{type(o).__name__} values cannot be marshalled")

    return conv(obj)
