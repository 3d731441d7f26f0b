"""A semantic diff of two pycs: what differs in meaning, not in encoding.

Type codes, FLAG_REFs, sharing and the stored order of set items are ignored; values are
compared as the interpreter would load them (NaN equals NaN, ``1`` is not ``True``).
Nested code objects are matched by name (and rank among code objects of the same name in
the same ``co_consts``), the other constants by their order.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

import attrs

from ._code import Code, code_fields
from ._edit import Key, KeyMaker
from ._plain import to_python
from ._pyc import PycFile
from ._refs import deep
from ._values import Bytes, DictValue, FrozenDict, FrozenSetValue, ListValue, SetValue, Slice, Str, TupleValue, Value

__all__ = ["Difference", "diff"]

#: Code-object fields holding names.
NAME_FIELDS = frozenset(
    ["co_names", "co_varnames", "co_freevars", "co_cellvars", "co_localsplusnames", "co_name", "co_qualname"]
)


@attrs.frozen
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

    def __str__(self) -> str:
        where = f"{self.path} ({self.code_name})" if self.code_name else self.path
        if self.kind != "header":  # header paths say it already
            where = f"{self.kind} {where}"
        return f"{where}: {_short(self.a)} != {_short(self.b)}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Semantic(KeyMaker):
    """Keys equal for values that load equal (code objects by their fields); flat like
    :class:`KeyMaker`'s, so deep values compare without deep recursion in C."""

    def __init__(self) -> None:
        super().__init__()
        self._active: Set[int] = set()

    def key(self, value: Value) -> Key:
        found = self.model(value)
        if found is not None:
            return found
        if id(value) in self._active:
            return ("cycle",)
        self._active.add(id(value))
        try:
            return self._container(value)
        finally:
            self._active.discard(id(value))

    def _container(self, value: Value) -> Key:
        name = type(value).__name__
        if isinstance(value, (TupleValue, ListValue)):
            return (name,) + tuple([self.number(self.key(v)) for v in value.items])
        if isinstance(value, (SetValue, FrozenSetValue)):
            return (name, frozenset([self.number(self.key(v)) for v in value.items]))
        if isinstance(value, (DictValue, FrozenDict)):
            pairs = {self.number(self.key(k)): self.number(self.key(v)) for k, v in value.items}
            return (name, frozenset(pairs.items()))
        if isinstance(value, Slice):
            return ("slice",) + tuple([self.number(self.key(v)) for v in (value.start, value.stop, value.step)])
        if isinstance(value, Code):
            fields = [
                getattr(value, field) if is_int else self.number(self.key(getattr(value, field)))
                for field, is_int in code_fields(type(value))
            ]
            return (name,) + tuple(fields)
        return ("?", repr(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Code):
        name = getattr(value, "co_name", None)
        return f"<code {_name_of(name)}>"
    if isinstance(value, int) or value is None:
        return value
    try:
        return to_python(value)
    except (ValueError, TypeError):
        return value


def _name_of(value: Any) -> str:
    if isinstance(value, Str):
        return value.value
    if isinstance(value, Bytes):
        return value.value.decode("utf-8", "replace")
    return "?"


def diff(a: PycFile, b: PycFile) -> List[Difference]:
    """The differences between two pycs, header first, then code objects depth first.

    An empty list means they load to the same code with the same header.
    """
    return deep(_diff, a, b)


def _diff(a: PycFile, b: PycFile) -> List[Difference]:
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
    _diff_code(a.code, b.code, "code", "", out, _Semantic())
    return out


def _diff_code(a: Value, b: Value, path: str, outer: str, out: List[Difference], keys: _Semantic) -> None:
    if not isinstance(a, Code) or not isinstance(b, Code) or type(a) is not type(b):
        if keys.key(a) != keys.key(b):
            out.append(Difference("code", path, _kind(a), _kind(b), outer))
        return
    name = outer + ("." if outer else "") + _name_of(getattr(a, "co_name", None))
    for field, is_int in code_fields(type(a)):
        va, vb = getattr(a, field), getattr(b, field)
        where = f"{path}.{field}"
        if field == "co_consts" and isinstance(va, TupleValue) and isinstance(vb, TupleValue):
            _diff_consts(va.items, vb.items, where, name, out, keys)
            continue
        same = va == vb if is_int else keys.key(va) == keys.key(vb)
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


def _diff_consts(a: List[Value], b: List[Value], path: str, name: str, out: List[Difference], keys: _Semantic) -> None:
    """Code objects are matched by name (and rank among same-named ones), the other
    constants by their position among the non-code constants."""
    codes_a: Dict[Tuple[str, int], Tuple[int, Code]] = {}
    codes_b: Dict[Tuple[str, int], Tuple[int, Code]] = {}
    for items, codes in ((a, codes_a), (b, codes_b)):
        seen: Dict[str, int] = {}
        for i, item in enumerate(items):
            if isinstance(item, Code):
                codes[_code_label(item, seen)] = (i, item)
    plain_a = [(i, v) for i, v in enumerate(a) if not isinstance(v, Code)]
    plain_b = [(i, v) for i, v in enumerate(b) if not isinstance(v, Code)]
    for k in range(max(len(plain_a), len(plain_b))):
        ia, va = plain_a[k] if k < len(plain_a) else (None, None)
        ib, vb = plain_b[k] if k < len(plain_b) else (None, None)
        where = f"{path}[{ia if ia is not None else ib}]"
        if va is None or vb is None or keys.key(va) != keys.key(vb):
            out.append(Difference("const", where, None if va is None else _plain(va), None if vb is None else _plain(vb), name))
    for label in list(codes_a) + [label for label in codes_b if label not in codes_a]:
        ca, cb = codes_a.get(label), codes_b.get(label)
        if ca is not None and cb is not None:
            _diff_code(ca[1], cb[1], f"{path}[{ca[0]}]", name, out, keys)
        else:
            index = ca[0] if ca is not None else cb[0]  # type: ignore[index]
            out.append(
                Difference("code", f"{path}[{index}]", None if ca is None else _plain(ca[1]), None if cb is None else _plain(cb[1]), name)
            )
