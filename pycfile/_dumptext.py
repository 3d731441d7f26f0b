"""The readable tree ``pycfile dump`` prints: one line per value, indented by depth.

Written without recursion and in time linear in the pyc's size: a value the model
reaches again is shown as ``-> #N``, pointing at the line marked ``#N`` where it was
shown in full; ints too long for ``str()`` (over 4,300 digits) are shown in hex.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Tuple

from ._code import Code, code_fields
from ._json import _shared
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
)

__all__ = ["iter_text"]

_SEQUENCES = (TupleValue, ListValue, SetValue, FrozenSetValue)
_MAPPINGS = (DictValue, FrozenDict)
_MAX_PAD = 64  # deeper lines are indented no further (the text stays linear in size)


def _int(number: int) -> str:
    if number.bit_length() < 14000:  # well below the 4,300 digits str() allows
        return str(number)
    return hex(number)


def _scalar(value: Any) -> str:
    cls = type(value)
    if cls is Singleton:
        return {"N": "None", "T": "True", "F": "False", "S": "StopIteration", ".": "Ellipsis"}.get(value.code, "?")
    if cls is Int or cls is Long:
        return _int(value.value) if isinstance(value.value, int) else repr(value.value)
    if cls is Float:
        return value.raw.decode("latin-1") if value.code == "f" else repr(value.value)
    if cls is Complex:
        if value.code == "x":
            return f"{value.real.decode('latin-1')} {value.imag.decode('latin-1')}j"
        return repr(value.value)
    if cls is Bytes:
        return repr(value.value)
    if cls is Str:
        return repr(value.value)
    return ""


def iter_text(pyc: PycFile, mode: str) -> Iterator[str]:
    """The lines of the dump of a pyc (``mode``: its invalidation mode, for the head)."""
    header = pyc.header
    fmt = pyc.format
    yield f"{fmt.version} (magic {fmt.magic_number}), {fmt.header_size}-byte header, {mode}"
    for key in ("flags", "mtime", "source_size"):
        value = getattr(header, key)
        if value is not None:
            yield f"{key}: {value}"
    if header.source_hash is not None:
        yield f"source_hash: {header.source_hash.hex()}"
    shared = _shared(pyc.code)
    ids: Dict[int, int] = {}
    # work: (label, value or None, depth); a None value means the label is a whole line
    work: List[Tuple[str, Any, int]] = [("code", pyc.code, 0)]
    while work:
        label, value, depth = work.pop()
        pad = "  " * min(depth, _MAX_PAD)
        if value is None:
            yield pad + label
            continue
        if isinstance(value, int):  # an int field of a code object
            yield f"{pad}{label}: {value}"
            continue
        cls = type(value)
        if cls is not Singleton and id(value) in ids:
            yield f"{pad}{label}: -> #{ids[id(value)]}"
            continue
        ref = " ref" if getattr(value, "flag_ref", False) else ""
        mark = ""
        if cls is not Singleton and id(value) in shared:
            ids[id(value)] = len(ids)
            mark = f" #{ids[id(value)]}"
        if isinstance(value, Code):
            name = getattr(value, "co_name", None)
            shown = _scalar(name) if name is not None else ""
            yield f"{pad}{label}: {cls.__name__}{ref}{mark} {shown}".rstrip()
            work.extend(reversed([(n, getattr(value, n), depth + 1) for n, _ in code_fields(cls)]))
            continue
        head = f"{pad}{label}: {cls.__name__} {value.code!r}{ref}{mark}"
        if cls in _SEQUENCES:
            yield f"{head} [{len(value.items)}]"
            work.extend(reversed([(f"[{i}]", item, depth + 1) for i, item in enumerate(value.items)]))
        elif cls in _MAPPINGS:
            yield f"{head} [{len(value.items)}]"
            pairs: List[Tuple[str, Any, int]] = []
            for i, (k, v) in enumerate(value.items):
                pairs.append((f"[{i}] key", k, depth + 1))
                pairs.append((f"[{i}] value", v, depth + 1))
            work.extend(reversed(pairs))
        elif cls is Slice:
            yield head
            work.extend([("step", value.step, depth + 1), ("stop", value.stop, depth + 1), ("start", value.start, depth + 1)])
        else:
            yield f"{head} {_scalar(value)}"
    if pyc.trailer:
        yield f"trailer: {pyc.trailer!r}"
