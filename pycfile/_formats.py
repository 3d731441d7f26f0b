"""What each pyc format's marshal stream can hold: one table, read by everyone.

The magic table (:mod:`pycfile._versions`) gives every format its version, marshal
version, code layout and nesting limit.  This module adds what those mean for a marshal
stream -- which type codes its reader accepts and which model class each one reads into,
whether FLAG_REF exists, which checks the reader makes -- as data: :data:`TYPE_CODES`
(one row per type code and era, from FACTS.md 3.2) and :data:`READER_CHECKS`.  The
reader, the writer, the strategies and the C accelerator all ask :func:`marshal_rules`;
none of them compares version numbers.
"""

from __future__ import annotations

import struct
from typing import Dict, FrozenSet, List, Optional, Tuple, Type

import attrs

from ._code import Code, code_class, code_fields
from ._values import (
    Bytes,
    Complex,
    DictValue,
    Float,
    FrozenDict,
    FrozenSetValue,
    Int,
    ListValue,
    Long,
    SetValue,
    Singleton,
    Slice,
    Str,
    TupleValue,
)
from ._versions import PycFormat

__all__ = ["FLAG_REF", "HANDLERS", "MarshalRules", "TYPE_CODES", "TypeCode", "has_refs", "marshal_rules"]

#: The bit of a type byte that puts the object in the reference table (marshal 3+).
FLAG_REF = 0x80

Version = Tuple[int, int]
_ALWAYS: Tuple[Tuple[Version, Optional[Version]], ...] = (((1, 0), None),)


@attrs.frozen
class TypeCode:
    """One marshal type code in one era: what it reads into and which readers accept it."""

    #: The type code character (FLAG_REF clear).
    code: str
    #: The handler that reads and writes it: the same name in the pure-Python reader
    #: (``read_<name>``), writer (``write_<name>``) and the C accelerator.
    handler: str
    #: The model class it stands for (``None``: no value of its own -- ``0``, ``r``, ``R``).
    model: Optional[type]
    #: The reader versions that accept it: ``(first, last)`` ``(major, minor)`` ranges,
    #: ``last`` ``None`` for "still".
    readers: Tuple[Tuple[Version, Optional[Version]], ...] = _ALWAYS
    #: Readers of a format whose marshal version is below this do not accept it.
    since_marshal: int = 0

    def read_by(self, fmt: PycFormat) -> bool:
        """Whether the reader of ``fmt`` accepts this type code."""
        v = (fmt.version.major, fmt.version.minor)
        if fmt.marshal_version < self.since_marshal:
            return False
        return any(first <= v and (last is None or v <= last) for first, last in self.readers)


def _since(major: int, minor: int) -> Tuple[Tuple[Version, Optional[Version]], ...]:
    return (((major, minor), None),)


_PY2 = (2, 7)

#: Every type code of every era (FACTS.md 3.1-3.2).  A code with a different meaning in
#: 2.x and 3.x (``t``) has a row per era.
TYPE_CODES: Tuple[TypeCode, ...] = (
    TypeCode("0", "null", None),
    TypeCode("N", "singleton", Singleton),
    TypeCode("T", "singleton", Singleton, _since(2, 2)),
    TypeCode("F", "singleton", Singleton, _since(2, 2)),
    TypeCode("S", "singleton", Singleton, _since(2, 2)),
    TypeCode(".", "singleton", Singleton, _since(1, 4)),
    TypeCode("i", "int32", Int),
    TypeCode("I", "int64", Int, (((1, 5), (3, 3)), ((3, 6), None))),  # not 3.4-3.5
    TypeCode("l", "long", Long),
    TypeCode("f", "float_text", Float),
    TypeCode("g", "float", Float, _since(2, 5)),
    TypeCode("x", "complex_text", Complex, _since(1, 4)),
    TypeCode("y", "complex", Complex, _since(2, 5)),
    TypeCode("s", "bytes", Bytes),
    TypeCode("t", "interned_bytes", Bytes, (((2, 4), _PY2),)),  # 2.x: joins the string table
    TypeCode("R", "string_ref", None, (((2, 4), _PY2),)),
    TypeCode("t", "utf8", Str, _since(3, 4)),  # 3.x: an interned str
    TypeCode("u", "utf8", Str, _since(1, 6)),
    TypeCode("a", "latin", Str, _since(3, 4)),
    TypeCode("A", "latin", Str, _since(3, 4)),
    TypeCode("z", "short_latin", Str, _since(3, 4)),
    TypeCode("Z", "short_latin", Str, _since(3, 4)),
    TypeCode("r", "ref", None, _since(3, 4)),
    TypeCode("(", "tuple", TupleValue),
    TypeCode(")", "small_tuple", TupleValue, _since(3, 4)),
    TypeCode("[", "list", ListValue),
    TypeCode("{", "dict", DictValue),
    TypeCode("<", "set", SetValue, _since(2, 5)),
    TypeCode(">", "frozenset", FrozenSetValue, _since(2, 5)),
    TypeCode(":", "slice", Slice, since_marshal=5),
    TypeCode("}", "frozendict", FrozenDict, since_marshal=6),
    TypeCode("C", "code", Code, (((1, 0), (1, 2)),)),
    TypeCode("c", "code", Code, _since(1, 3)),
)

#: Every handler name, in the order the reader and writer define them.
HANDLERS: Tuple[str, ...] = tuple(dict.fromkeys(t.handler for t in TYPE_CODES))


@attrs.frozen
class ReaderChecks:
    """Checks a version's reader makes on well-formed type codes."""

    #: Longs with a zero top digit (or a negative count for zero) are refused.
    normalized_longs: bool
    #: Text floats are parsed without surrounding whitespace or underscores
    #: (``PyOS_string_to_double``); PyPy parses them with its ``float()``.
    strict_float_text: bool


#: ``(implementation, first version) -> checks`` (FACTS.md 3.3); the last row at or
#: below a format's version applies.
READER_CHECKS: Dict[Tuple[str, Version], ReaderChecks] = {
    ("cpython", (1, 0)): ReaderChecks(normalized_longs=False, strict_float_text=True),
    ("cpython", (2, 7)): ReaderChecks(normalized_longs=True, strict_float_text=True),
    ("pypy", (1, 0)): ReaderChecks(normalized_longs=False, strict_float_text=False),
}


@attrs.frozen(eq=False)
class MarshalRules:
    """What one format's marshal stream can hold (made by :func:`marshal_rules`)."""

    #: The format these rules are for.
    fmt: PycFormat
    #: The type codes its reader accepts.
    type_codes: FrozenSet[str]
    #: For each of the 256 type bytes, the handler that reads it (``""``: an error).
    handlers: Tuple[str, ...]
    #: For each model class, the type codes a value of it can be written with.
    writable: Dict[type, FrozenSet[str]]
    #: Whether the stream has FLAG_REF and ``r`` (marshal 3+).
    refs: bool
    #: Checks of the reader.
    checks: ReaderChecks
    #: ``MAX_MARSHAL_STACK_DEPTH`` of the version's reader.
    max_depth: int
    #: The code class of the format's layout (``None``: no known layout).
    code_class: Optional[Type[Code]]
    #: The code-object fields in stream order as runs: ``(names, int struct or None)``;
    #: a run of integer fields is read or written with one struct.
    code_runs: Tuple[Tuple[Tuple[str, ...], Optional[struct.Struct]], ...]

    @property
    def int_size(self) -> int:
        """Bytes of a code object's integer fields: 2 before 2.3, then 4."""
        return self.code_class.int_size if self.code_class is not None else 4


def _checks(fmt: PycFormat) -> ReaderChecks:
    v = (fmt.version.major, fmt.version.minor)
    rows = [(since, c) for (impl, since), c in READER_CHECKS.items() if impl == fmt.version.implementation and since <= v]
    if not rows:
        rows = [(since, c) for (impl, since), c in READER_CHECKS.items() if impl == "cpython" and since <= v]
    return max(rows, key=lambda row: row[0])[1]


def _code_runs(code_cls: Optional[Type[Code]]) -> Tuple[Tuple[Tuple[str, ...], Optional[struct.Struct]], ...]:
    if code_cls is None:
        return ()
    int_char = "h" if code_cls.int_size == 2 else "i"
    runs: List[Tuple[Tuple[str, ...], bool]] = []
    for name, is_int in code_fields(code_cls):
        if runs and runs[-1][1] == is_int:
            runs[-1] = (runs[-1][0] + (name,), is_int)
        else:
            runs.append(((name,), is_int))
    return tuple((names, struct.Struct("<" + int_char * len(names)) if is_int else None) for names, is_int in runs)


def _make(fmt: PycFormat) -> MarshalRules:
    rows = [t for t in TYPE_CODES if t.read_by(fmt)]
    refs = fmt.marshal_version >= 3
    handlers = [""] * 256
    writable: Dict[type, set[str]] = {}
    code_cls = code_class(fmt.code_layout) if fmt.code_layout is not None else None
    for row in rows:
        handlers[ord(row.code)] = row.handler
        if refs:
            handlers[ord(row.code) | FLAG_REF] = row.handler
        if row.model is Code:  # the layout's class; without a known layout none is writable
            if code_cls is not None:
                writable.setdefault(code_cls, set()).add(row.code)
        elif row.model is not None:
            writable.setdefault(row.model, set()).add(row.code)
    return MarshalRules(
        fmt=fmt,
        type_codes=frozenset(row.code for row in rows),
        handlers=tuple(handlers),
        writable={cls: frozenset(codes) for cls, codes in writable.items()},
        refs=refs,
        checks=_checks(fmt),
        max_depth=fmt.max_depth,
        code_class=code_cls,
        code_runs=_code_runs(code_cls),
    )


_RULES: Dict[int, MarshalRules] = {}


def marshal_rules(fmt: PycFormat) -> MarshalRules:
    """The rules of ``fmt``'s marshal stream (cached per format)."""
    rules = _RULES.get(id(fmt))
    if rules is None or rules.fmt is not fmt:  # keyed by identity: hashing a format is slow
        rules = _RULES[id(fmt)] = _make(fmt)
    return rules


def has_refs(fmt: PycFormat) -> bool:
    """Whether ``fmt``'s marshal has FLAG_REF and ``r`` (marshal version 3+, Python 3.4+)."""
    return marshal_rules(fmt).refs
