"""A semantic diff of two pycs: what differs in meaning, not in encoding.

Type codes, FLAG_REFs, sharing and the stored order of set items are ignored; values are
compared as the interpreter would load them (NaN equals NaN, ``1`` is not ``True``).
Code objects are matched by their place in the tree (``code.co_consts[3]``).
"""

from __future__ import annotations

from typing import Any, List, Optional, Set

import attrs

from ._code import Code, code_fields
from ._edit import constant_key
from ._plain import to_python
from ._pyc import PycFile
from ._values import Bytes, Dict as DictValue, FrozenDict, FrozenSet, List as ListValue, Set as SetValue, Slice, Str, Tuple as TupleValue, Value

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
        return f"{self.kind} {where}: {_short(self.a)} != {_short(self.b)}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _semantic(value: Value, active: Optional[Set[int]] = None) -> Any:
    """A hashable key equal for values that load equal (code objects by their fields)."""
    key = constant_key(value)
    if key is not None:
        return key
    active = active if active is not None else set()
    if id(value) in active:
        return ("cycle",)
    active.add(id(value))
    try:
        if isinstance(value, (TupleValue, ListValue)):
            return (type(value).__name__,) + tuple(_semantic(v, active) for v in value.items)
        if isinstance(value, (SetValue, FrozenSet)):
            return (type(value).__name__, frozenset(_semantic(v, active) for v in value.items))
        if isinstance(value, (DictValue, FrozenDict)):
            pairs = {_semantic(k, active): _semantic(v, active) for k, v in value.items}
            return (type(value).__name__, frozenset(pairs.items()))
        if isinstance(value, Slice):
            return ("slice", _semantic(value.start, active), _semantic(value.stop, active), _semantic(value.step, active))
        if isinstance(value, Code):
            fields = tuple(
                getattr(value, name) if is_int else _semantic(getattr(value, name), active)
                for name, is_int in code_fields(type(value))
            )
            return (type(value).__name__,) + fields
        return ("?", repr(value))
    finally:
        active.discard(id(value))


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
    _diff_code(a.code, b.code, "code", "", out)
    return out


def _diff_code(a: Value, b: Value, path: str, outer: str, out: List[Difference]) -> None:
    if not isinstance(a, Code) or not isinstance(b, Code) or type(a) is not type(b):
        if _semantic(a) != _semantic(b):
            out.append(Difference("code", path, _kind(a), _kind(b), outer))
        return
    name = outer + ("." if outer else "") + _name_of(getattr(a, "co_name", None))
    for field, is_int in code_fields(type(a)):
        va, vb = getattr(a, field), getattr(b, field)
        where = f"{path}.{field}"
        if field == "co_consts" and isinstance(va, TupleValue) and isinstance(vb, TupleValue):
            _diff_consts(va.items, vb.items, where, name, out)
            continue
        same = va == vb if is_int else _semantic(va) == _semantic(vb)
        if not same:
            kind = "name" if field in NAME_FIELDS else "field"
            out.append(Difference(kind, where, _plain(va), _plain(vb), name))


def _kind(value: Value) -> str:
    if isinstance(value, Code):
        return f"{type(value).__name__} {_name_of(getattr(value, 'co_name', None))}"
    return type(value).__name__


def _diff_consts(a: List[Value], b: List[Value], path: str, name: str, out: List[Difference]) -> None:
    for i in range(max(len(a), len(b))):
        where = f"{path}[{i}]"
        va = a[i] if i < len(a) else None
        vb = b[i] if i < len(b) else None
        if isinstance(va, Code) or isinstance(vb, Code):
            if va is None or vb is None:
                out.append(Difference("code", where, _plain(va), _plain(vb), name))
            else:
                _diff_code(va, vb, where, name, out)
            continue
        if va is None or vb is None or _semantic(va) != _semantic(vb):
            out.append(Difference("const", where, None if va is None else _plain(va), None if vb is None else _plain(vb), name))
