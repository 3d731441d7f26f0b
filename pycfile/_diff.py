"""A semantic diff of two pycs: what differs in meaning, not in encoding.

Type codes, FLAG_REFs, sharing and the stored order of set items are ignored; values are
compared as the interpreter would load them (NaN equals NaN, ``1`` is not ``True``).
Nested code objects are matched by name (and rank among code objects of the same name in
the same ``co_consts``), the other constants by their order.
"""

from __future__ import annotations

import math
import reprlib
import struct
from typing import Any, Dict, List, Set, Tuple, Type, cast

import attrs

from ._code import Code, code_fields
from ._errors import PycError
from ._plain import to_python
from ._pyc import PycFile
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
    Value,
)
from ._walk import children, components, is_value

__all__ = ["Difference", "diff"]

#: Code-object fields holding names.
NAME_FIELDS = frozenset(
    ["co_names", "co_varnames", "co_freevars", "co_cellvars", "co_localsplusnames", "co_name", "co_qualname"]
)


@attrs.frozen(repr=False)
class Difference:
    """One difference between two pycs.

    ``kind`` is ``"header"`` (a header field or the trailer), ``"code"`` (a code object
    on one side only, or of another layout), ``"const"`` (an item of ``co_consts``),
    ``"name"`` (a name field: ``co_names``, ``co_varnames``, ``co_name``...) or
    ``"field"`` (any other code field: bytecode, line tables, flags, file name...).
    ``path`` says where (``header.mtime``, ``code.co_consts[2].co_names``), ``code_name``
    is the dotted name of the code object (``<module>.f``), and ``a``/``b`` are the
    values on each side (plain Python values where possible; ``None`` for absent).
    """

    kind: str
    path: str
    a: Any
    b: Any
    code_name: str = ""

    def __repr__(self) -> str:
        # a and b shown with reprlib's limits: the repr of a shared constant grows with
        # the number of paths through it, exponentially in the size of the pyc.
        return (
            f"Difference(kind={self.kind!r}, path={self.path!r}, a={_SHORT.repr(self.a)}, "
            f"b={_SHORT.repr(self.b)}, code_name={self.code_name!r})"
        )

    def __str__(self) -> str:
        where = f"{self.path} ({self.code_name})" if self.code_name else self.path
        if self.kind != "header":  # header paths say it already
            where = f"{self.kind} {where}"
        return f"{where}: {_short(self.a)} != {_short(self.b)}"


class _Short(reprlib.Repr):
    """reprlib with room for typical constants, whose cost is bounded however big or
    shared the value (a shared tuple's own repr grows with the number of paths)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxtuple = self.maxlist = self.maxset = self.maxfrozenset = self.maxdict = 12
        self.maxstring = self.maxother = 120
        self.maxlong = 60

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, Code):
            return f"<code {_name_of(getattr(x, 'co_name', None))}>"
        if is_value(x):
            return "<" + type(x).__name__ + ">"
        if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 4 * self.maxlong:
            return f"<int of {x.bit_length()} bits>"
        return super().repr1(x, level)


_SHORT = _Short()


def _short(value: Any, limit: int = 80) -> str:
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SINGLETON_KEYS = {"N": ("None",), "T": ("bool", True), "F": ("bool", False), ".": ("Ellipsis",), "S": ("StopIteration",)}
_PACK_D = struct.Struct("<d")
_ORDERED = {TupleValue: "tuple", ListValue: "list", Slice: "slice"}
_UNORDERED = {SetValue: "set", FrozenSetValue: "frozenset"}
_MAPPING = {DictValue: "dict", FrozenDict: "frozendict"}


def _float_key(x: float) -> Any:
    return "nan" if math.isnan(x) else _PACK_D.pack(x)


def _head(value: Any) -> Tuple[Any, ...]:
    """What a value is apart from the values inside it, as the interpreter loads it
    (type codes, FLAG_REFs and digit counts left out)."""
    kind = type(value)
    if kind is Singleton:
        return _SINGLETON_KEYS.get(value.code, ("?", value.code))
    if kind is Int or kind is Long:
        return ("int", value.value)
    if kind is Str:
        return ("str", value.value)
    if kind is Bytes:
        return ("bytes", value.value)
    try:
        if kind is Float:
            return ("float", _float_key(value.value))
        if kind is Complex:
            number = value.value
            return ("complex", _float_key(number.real), _float_key(number.imag))
    except (ValueError, TypeError, struct.error):  # text that is not a float
        return ("bad float", kind.__name__, value.code, getattr(value, "raw", None), getattr(value, "real", None))
    if isinstance(value, Code):
        return (kind.__name__,) + tuple(getattr(value, name) for name, is_int in code_fields(kind) if is_int)
    name = _ORDERED.get(kind) or _UNORDERED.get(kind) or _MAPPING.get(kind)
    return (name or "?",)


class _Semantic:
    """Numbers for values, equal exactly when the interpreter loads the values equal:
    type codes, FLAG_REFs, sharing and the stored order of set items do not count.

    A value is numbered from its :func:`_head` and its children's numbers, children
    first (by strongly connected components), each object once: linear time however
    deep or shared.  The members of a cycle (a tuple that contains itself, a code object
    reached again through its parent's ``co_consts``) are numbered by the shape of the
    whole cycle as walked from where it was first met, so two cycles are equal when they
    have the same shape and close at the same places.
    """

    def __init__(self) -> None:
        self._numbers: Dict[Any, int] = {}
        self._of: Dict[int, int] = {}

    def same(self, a: Any, b: Any) -> bool:
        """Whether ``a`` and ``b`` load to equal values."""
        return a is b or self.key(a) == self.key(b)

    def key(self, value: Any) -> int:
        """The number of ``value``."""
        known = self._of.get(id(value))
        if known is not None:
            return known
        for component in components(value, _kids, self._done):
            first = component[0]
            if len(component) == 1 and not any(kid is first for kid in _kids(first)):
                self._of[id(first)] = self._number_of(first)
            else:
                self._number_cycle(component)
        return self._of[id(value)]

    def _done(self, value: Any) -> bool:
        return id(value) in self._of

    def _number(self, key: Any) -> int:
        return self._numbers.setdefault(key, len(self._numbers))

    def _number_of(self, value: Any) -> int:
        found = children(value)
        try:
            if found is None:
                return self._number(("?", id(value)))
            head = _head(value)
            numbers = [self._of[id(v)] for v in found]
            kind = type(value)
            if kind in _UNORDERED:
                return self._number(head + (frozenset(numbers),))
            if kind in _MAPPING:
                pairs = dict(zip(numbers[::2], numbers[1::2]))  # the last of equal keys wins
                return self._number(head + (frozenset(pairs.items()),))
            return self._number(head + tuple(numbers))
        except TypeError:  # a field holding something unhashable: equal to itself only
            return self._number(("?", id(value)))

    def _number_cycle(self, component: List[Any]) -> None:
        members = {id(v) for v in component}
        entry = component[-1]
        order: Dict[int, int] = {}
        shape: List[Any] = []
        stack = [entry]
        while stack:
            value = stack.pop()
            if id(value) in order:
                continue
            order[id(value)] = len(order)
            inside = [v for v in _kids(value) if id(v) in members]
            stack.extend(reversed(inside))
            shape.append(value)
        described = []
        for value in shape:
            try:
                head: Tuple[Any, ...] = _head(value)
                hash(head)
            except TypeError:
                head = ("?", id(value))
            refs = tuple(("in", order[id(v)]) if id(v) in members else ("out", self._of[id(v)]) for v in _kids(value))
            described.append(head + refs)
        cycle = self._number(("cycle", tuple(described)))
        for value in shape:
            self._of[id(value)] = self._number(("in cycle", cycle, order[id(value)]))


def _kids(value: Any) -> List[Any]:
    return children(value) or []


def _plain(value: Any) -> Any:
    if isinstance(value, Code):
        name = getattr(value, "co_name", None)
        return f"<code {_name_of(name)}>"
    if isinstance(value, int) or value is None:
        return value
    try:
        return to_python(value)
    except (PycError, ValueError, TypeError, RecursionError):
        return value


def _name_of(value: Any) -> str:
    if isinstance(value, Str) and isinstance(value.value, str):
        return value.value
    if isinstance(value, Bytes) and isinstance(value.value, bytes):
        return value.value.decode("utf-8", "replace")
    return "?"


def diff(a: PycFile, b: PycFile) -> List[Difference]:
    """The differences between two pycs, header first, then code objects depth first.

    An empty list means they load to the same code with the same header.  Each pair of
    code objects is compared once, however often it is reached (shared, or reached
    again through a cycle); values that contain themselves are compared by shape.
    Raises TypeError if ``a`` or ``b`` is not a :class:`PycFile`.
    """
    for pyc in (a, b):
        if not isinstance(pyc, PycFile):
            raise TypeError(f"diff() takes two PycFiles, not {type(pyc).__name__}")
    out: List[Difference] = []
    ha, hb = a.header, b.header
    if ha.magic != hb.magic or ha.version != hb.version:
        out.append(Difference("header", "header.version", f"{ha.version} ({ha.format.magic_number})", f"{hb.version} ({hb.format.magic_number})"))
    for name in ("flags", "mtime", "source_size", "source_hash"):
        va, vb = getattr(ha, name), getattr(hb, name)
        if va != vb:
            out.append(Difference("header", f"header.{name}", va, vb))
    if a.trailer != b.trailer:
        out.append(Difference("header", "trailer", a.trailer, b.trailer))
    _diff_codes(a.code, b.code, out)
    return out


# A task: compare the fields of a pair of code objects from field number ``start`` on.
_Task = Tuple[Value, Value, str, str, int]


def _diff_codes(a: Value, b: Value, out: List[Difference]) -> None:
    """Code objects depth first, in the order a recursive walk would give: a code
    object's fields up to ``co_consts``, its constants, the code objects nested there
    (each in full), then its remaining fields."""
    keys = _Semantic()
    compared: Set[Tuple[int, int]] = set()
    tasks: List[_Task] = [(a, b, "code", "", -1)]
    while tasks:
        a, b, path, outer, start = tasks.pop()
        if start < 0:  # a new pair
            if not isinstance(a, Code) or not isinstance(b, Code) or type(a) is not type(b):
                if not keys.same(a, b):
                    out.append(Difference("code", path, _kind(a), _kind(b), outer))
                continue
            if (id(a), id(b)) in compared:
                continue
            compared.add((id(a), id(b)))
            start = 0
        name = outer + ("." if outer else "") + _name_of(getattr(a, "co_name", None))
        fields = code_fields(cast(Type[Code], type(a)))
        for number in range(start, len(fields)):
            field, is_int = fields[number]
            va, vb = getattr(a, field), getattr(b, field)
            where = f"{path}.{field}"
            if field == "co_consts" and isinstance(va, TupleValue) and isinstance(vb, TupleValue):
                nested = _diff_consts(va.items, vb.items, where, name, out, keys)
                tasks.append((a, b, path, outer, number + 1))
                tasks.extend(reversed(nested))
                break
            same = va == vb if is_int else keys.same(va, vb)
            if not same:
                kind = "name" if field in NAME_FIELDS else "field"
                out.append(Difference(kind, where, _plain(va), _plain(vb), name))


def _kind(value: Value) -> str:
    if isinstance(value, Code):
        return f"{type(value).__name__} {_name_of(getattr(value, 'co_name', None))}"
    return type(value).__name__


def _code_label(value: Code, seen: Dict[str, int]) -> Tuple[str, int]:
    name = _name_of(getattr(value, "co_name", None))
    seen[name] = seen.get(name, 0) + 1
    return name, seen[name]


def _diff_consts(
    a: List[Value], b: List[Value], path: str, name: str, out: List[Difference], keys: _Semantic
) -> List[_Task]:
    """Code objects are matched by name (and rank among same-named ones), the other
    constants by their position among the non-code constants.  Returns the pairs of
    matched code objects, to be compared next."""
    codes_a: Dict[Tuple[str, int], Tuple[int, Code]] = {}
    codes_b: Dict[Tuple[str, int], Tuple[int, Code]] = {}
    for items, codes in ((a, codes_a), (b, codes_b)):
        if not isinstance(items, list):
            continue
        seen: Dict[str, int] = {}
        for i, item in enumerate(items):
            if isinstance(item, Code):
                codes[_code_label(item, seen)] = (i, item)
    plain_a = [(i, v) for i, v in enumerate(a) if not isinstance(v, Code)] if isinstance(a, list) else []
    plain_b = [(i, v) for i, v in enumerate(b) if not isinstance(v, Code)] if isinstance(b, list) else []
    for k in range(max(len(plain_a), len(plain_b))):
        ia, va = plain_a[k] if k < len(plain_a) else (None, None)
        ib, vb = plain_b[k] if k < len(plain_b) else (None, None)
        where = f"{path}[{ia if ia is not None else ib}]"
        if ia is None or ib is None or not keys.same(va, vb):
            out.append(Difference("const", where, None if ia is None else _plain(va), None if ib is None else _plain(vb), name))
    nested: List[_Task] = []
    for label in list(codes_a) + [label for label in codes_b if label not in codes_a]:
        ca, cb = codes_a.get(label), codes_b.get(label)
        if ca is not None and cb is not None:
            nested.append((ca[1], cb[1], f"{path}[{ca[0]}]", name, -1))
        else:
            index = ca[0] if ca is not None else cb[0]  # type: ignore[index]
            out.append(
                Difference("code", f"{path}[{index}]", None if ca is None else _plain(ca[1]), None if cb is None else _plain(cb[1]), name)
            )
    return nested
