"""Editing constants and file names in a pyc.

Both functions return a new :class:`~pycfile.PycFile` and leave the input alone.  Only
what is replaced changes; everything else is written back byte for byte (a value that was
shared keeps being shared, so references elsewhere in the stream stay as they were
unless they pointed into a replaced value).
"""

from __future__ import annotations

import math
import struct
from typing import Any, Dict, List, Mapping, Optional, Tuple

import attrs

from ._code import Code
from ._plain import constant_from_python, from_python, new_constant_builder
from ._pyc import PycFile
from ._formats import has_refs
from ._refs import copy_value
from ._values import (
    Bytes,
    Complex,
    Float,
    FrozenSetValue,
    Int,
    Long,
    Singleton,
    Str,
    TupleValue,
    Value,
)

__all__ = ["KeyMaker", "replace_constants", "replace_filename"]

_PACK_D = struct.Struct("<d")
_SINGLETON_KEYS = {"N": ("None",), "T": ("bool", True), "F": ("bool", False), ".": ("Ellipsis",), "S": ("StopIteration",)}

Key = Tuple[Any, ...]


def _float_key(x: float) -> Any:
    return "nan" if math.isnan(x) else _PACK_D.pack(x)


class KeyMaker:
    """Match keys of constants: equal for values of the same type and value.

    A tuple or frozenset key names its items' keys by number (their index in
    :attr:`ids`), so keys stay flat: deeply nested constants hash and compare without
    deep recursion (which CPython 3.12 limits separately from the recursion limit).
    One KeyMaker's keys are comparable with each other only.
    """

    def __init__(self) -> None:
        self.ids: Dict[Key, int] = {}
        self._memo: Dict[int, Optional[Key]] = {}

    def number(self, key: Key) -> int:
        """The number standing for ``key`` inside container keys."""
        return self.ids.setdefault(key, len(self.ids))

    def python(self, obj: Any) -> Key:
        """The key of a plain Python value (TypeError for a kind no constant has).
        Nested tuples and frozensets are keyed without recursion, at any depth."""
        memo: Dict[int, Key] = {}
        stack: List[Tuple[Any, bool]] = [(obj, False)]
        while stack:
            o, ready = stack.pop()
            kind = type(o)
            if kind is not tuple and kind is not frozenset:
                memo[id(o)] = self._python_scalar(o)
            elif ready:
                numbers = [self.number(memo[id(item)]) for item in o]
                memo[id(o)] = ("tuple",) + tuple(numbers) if kind is tuple else ("frozenset", frozenset(numbers))
            elif id(o) not in memo:
                stack.append((o, True))
                stack.extend((item, False) for item in o)
        return memo[id(obj)]

    @staticmethod
    def _python_scalar(obj: Any) -> Key:
        if obj is None:
            return ("None",)
        if obj is True or obj is False:
            return ("bool", obj)
        if obj is Ellipsis:
            return ("Ellipsis",)
        if obj is StopIteration:
            return ("StopIteration",)
        kind = type(obj)
        if kind is int:
            return ("int", obj)
        if kind is float:
            return ("float", _float_key(obj))
        if kind is complex:
            return ("complex", _float_key(obj.real), _float_key(obj.imag))
        if kind is str:
            return ("str", obj)
        if kind is bytes:
            return ("bytes", obj)
        raise TypeError(f"{kind.__name__} is not a constant type replace_constants can match")

    def model(self, value: Value) -> Optional[Key]:
        """The key of a model value; ``None`` for what cannot be matched (code objects,
        mutable containers, text floats that are not floats, a tuple inside itself).
        Nested tuples and frozensets are keyed without recursion, at any depth."""
        if not isinstance(value, (TupleValue, FrozenSetValue)):
            return self._scalar(value)
        memo = self._memo
        stack: List[Tuple[Any, bool]] = [(value, False)]
        while stack:
            v, ready = stack.pop()
            if ready:
                keys = [memo[id(item)] if isinstance(item, (TupleValue, FrozenSetValue)) else self._scalar(item) for item in v.items]
                key: Optional[Key] = None
                if all(k is not None for k in keys):
                    numbers = [self.number(k) for k in keys if k is not None]
                    key = ("tuple",) + tuple(numbers) if isinstance(v, TupleValue) else ("frozenset", frozenset(numbers))
                memo[id(v)] = key
            elif id(v) not in memo:
                memo[id(v)] = None  # being keyed: a tuple inside itself matches nothing
                stack.append((v, True))
                stack.extend((item, False) for item in v.items if isinstance(item, (TupleValue, FrozenSetValue)) and id(item) not in memo)
        return memo[id(value)]

    def _scalar(self, value: Value) -> Optional[Key]:
        if isinstance(value, Singleton):
            return _SINGLETON_KEYS.get(value.code)
        if isinstance(value, (Int, Long)):
            return ("int", value.value)
        try:
            if isinstance(value, Float):
                return ("float", _float_key(value.value))
            if isinstance(value, Complex):
                number = value.value
                return ("complex", _float_key(number.real), _float_key(number.imag))
        except (ValueError, TypeError, struct.error):  # not a float: matches nothing
            return None
        if isinstance(value, Str):
            return ("str", value.value)
        if isinstance(value, Bytes):
            return ("bytes", value.value)
        return None


def _replace(pyc: PycFile, mapping: Mapping[Any, Any]) -> Tuple[PycFile, int]:
    fmt = pyc.format
    keys = KeyMaker()
    wanted: Dict[Key, Any] = {}
    for old, new in mapping.items():
        wanted[keys.python(old)] = new
    # 2.x: a text key also matches the 8-bit strings that equal it as Python 2 compares
    # them (ASCII only: there "caf\xc3\xa9" != u"caf\xe9"); bytes keys match exactly.
    texts = _eight_bit_texts(mapping) if fmt.version.major < 3 else {}
    code = copy_value(pyc.code)
    result = PycFile(attrs.evolve(pyc.header), code, pyc.trailer)
    if not isinstance(code, Code):
        return result, 0
    # Each site: the list holding a matching constant, its index, the constant, and the
    # code object whose constants it is in.
    sites: List[Tuple[List[Value], int, Value, int]] = []
    scanned: set[int] = set()

    def scan(top: Optional[Value], owner: int) -> None:
        stack = [top]
        while stack:
            container = stack.pop()
            if not isinstance(container, (TupleValue, FrozenSetValue)) or id(container) in scanned:
                continue
            scanned.add(id(container))
            nested = []
            for i, item in enumerate(container.items):
                key = keys.model(item) if wanted else None
                if key is not None and key in wanted:
                    sites.append((container.items, i, item, owner))
                elif texts and isinstance(item, Bytes) and item.value in texts:
                    sites.append((container.items, i, item, owner))
                else:
                    nested.append(item)
            stack.extend(reversed(nested))

    for each in code.walk():
        scan(getattr(each, "co_consts", None), id(each))
    counts: Dict[int, int] = {}
    for _, _, old, _ in sites:
        counts[id(old)] = counts.get(id(old), 0) + 1
    made: Dict[int, Value] = {}
    refs = has_refs(fmt)
    # New constants are made by the canonical writer's rules (pycfile._canonical), as
    # constants: one builder, so the interned strings they share are one object; the
    # compiler merges equal constants within each code object.
    builder = new_constant_builder(fmt)
    owner_now = None
    for items, i, old, owner in sites:
        if owner != owner_now:
            builder.next_code_object()
            owner_now = owner
        new = made.get(id(old))
        if new is None:
            key = keys.model(old)
            assert key is not None
            if key in wanted:
                value = wanted[key]
            else:  # matched by text: an 8-bit str of 2.x
                assert isinstance(old, Bytes)
                value = texts[old.value]
            if key not in wanted and isinstance(old, Bytes) and type(value) is str:  # stays 8-bit
                new = Bytes(value.encode("utf-8", "surrogateescape"), old.code, old.flag_ref)
            else:
                new = copy_value(value) if _is_model(value) else constant_from_python(value, fmt, builder)
            if refs and counts[id(old)] > 1 and not isinstance(new, Singleton):
                new.flag_ref = True  # shared, so CPython's refcount is above one
            made[id(old)] = new
        items[i] = new
    return result, len(sites)


def _eight_bit_texts(mapping: Mapping[Any, Any]) -> Dict[bytes, Any]:
    """The ASCII text keys of ``mapping`` as the 8-bit strings of 2.x they equal (the
    bytes keys win where both name the same string)."""
    texts = {old.encode("ascii"): new for old, new in mapping.items() if type(old) is str and old.isascii()}
    for old in mapping:
        if type(old) is bytes:
            texts.pop(old, None)
    return texts


def _is_model(obj: Any) -> bool:
    return attrs.has(type(obj)) or isinstance(obj, Code)


def replace_constants(pyc: PycFile, mapping: Mapping[Any, Any]) -> PycFile:
    """A new pyc in which every constant equal to a key of ``mapping`` is replaced by
    the mapped value.

    Constants are looked for in the ``co_consts`` of every code object (nested ones
    included) and inside the tuple and frozenset constants there.  Matching is by type
    and value: ``1``, ``True`` and ``1.0`` are different constants, NaN matches NaN, and
    ``0.0`` is not ``-0.0``; keys may be None, bool, int, float, complex, str, bytes,
    Ellipsis, and tuples or frozensets of those.

    In 2.x pycs, ``str`` keys match the ``unicode`` constants and, as Python 2's ``==``
    does, the 8-bit ``str`` constants of the same text when it is ASCII (``"hello"``
    matches ``u"hello"`` and ``"hello"``).  Beyond ASCII they match ``unicode`` only: the
    pyc does not say which encoding the source had (Python 2 also finds
    ``"caf\xc3\xa9" != u"caf\xe9"``), so name such an 8-bit string by its bytes
    (``b"caf\xc3\xa9"``).  ``bytes`` keys match the 8-bit strings exactly, whatever they
    hold; a ``str`` inside a tuple or frozenset key matches ``unicode`` items only.  An
    8-bit string matched by a ``str`` key and replaced by a ``str`` stays an 8-bit string
    with the same type code (``s``, or ``t`` when interned), the new text encoded as
    UTF-8 (what a ``# -*- coding: utf-8 -*-`` source holds).

    The new value is written the way that version's compiler writes such a constant:
    :func:`pycfile.from_python`'s rules plus the compiler's (identifier-like strings
    interned, equal constants one object; docs/canonical.md); a replaced value that was
    shared is shared (and from 3.4 flagged for reference) like the one it replaces.
    Values may also be model values, written as they are.
    Everything else is written back byte for byte.  ``pyc`` is not changed.
    """
    return _replace(pyc, mapping)[0]


def _text_of(value: Value) -> Optional[str]:
    if isinstance(value, Str):
        return value.value
    if isinstance(value, Bytes):
        return value.value.decode("utf-8", "surrogateescape")
    return None


def _string_like(old: Value, text: str, pyc: PycFile) -> Value:
    """``text`` stored like ``old`` (same kind, type code and flag where they can hold it)."""
    if isinstance(old, Bytes):
        return Bytes(text.encode("utf-8", "surrogateescape"), old.code, old.flag_ref)
    if isinstance(old, Str):
        code = old.code
        ascii_only = text.isascii()
        if code in "zZ" and (not ascii_only or len(text) > 255):
            code = {"z": "a", "Z": "A"}[code]
        if code in "aA" and not ascii_only:
            code = {"a": "u", "A": "t"}[code]
        return Str(text, code, old.flag_ref)
    return from_python(text, pyc.format)


def _replace_filename(
    pyc: PycFile, filename: Optional[str], prefixes: Optional[Mapping[str, str]]
) -> Tuple[PycFile, int]:
    if filename is None and not prefixes:
        raise ValueError("give a filename or a non-empty prefixes mapping")
    ordered = sorted((prefixes or {}).items(), key=lambda item: -len(item[0]))
    code = copy_value(pyc.code)
    result = PycFile(attrs.evolve(pyc.header), code, pyc.trailer)
    if not isinstance(code, Code):
        return result, 0
    made: Dict[int, Value] = {}
    changed = 0
    for each in code.walk():
        old = getattr(each, "co_filename", None)
        if old is None:
            continue
        text = _text_of(old)
        if text is None:
            continue
        if filename is not None:
            new_text = filename
        else:
            new_text = text
            for before, after in ordered:
                if text.startswith(before):
                    new_text = after + text[len(before):]
                    break
        if new_text == text:
            continue
        new = made.get(id(old))
        if new is None:
            new = made[id(old)] = _string_like(old, new_text, pyc)
        setattr(each, "co_filename", new)
        changed += 1
    return result, changed


def replace_filename(
    pyc: PycFile, filename: Optional[str] = None, *, prefixes: Optional[Mapping[str, str]] = None
) -> PycFile:
    """A new pyc whose code objects all have ``co_filename`` ``filename``, or, with
    ``prefixes``, whose file names starting with a key have that prefix replaced by its
    value (the longest matching prefix wins; other names stay).

    The new name keeps the old one's kind, type code and FLAG_REF where they can hold it
    (2.x file names are 8-bit strings, encoded as UTF-8).  ``pyc`` is not changed.
    """
    return _replace_filename(pyc, filename, prefixes)[0]
