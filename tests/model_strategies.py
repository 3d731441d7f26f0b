"""Hypothesis strategies the property tests share: every model strategy of a version, and
mutations of real pycs."""

from __future__ import annotations

import functools
import struct
from typing import Any, Callable, List, Tuple

from hypothesis import strategies as st

from pycfile import strategies as pst

__all__ = ["mutated", "strategies_for"]

_KINDS: List[Tuple[str, Callable[..., Any]]] = [
    ("singletons", pst.singletons),
    ("ints", pst.ints),
    ("longs", pst.longs),
    ("floats", pst.floats),
    ("complexes", pst.complexes),
    ("bytes_values", pst.bytes_values),
    ("strs", pst.strs),
    ("tuples", pst.tuples),
    ("lists", pst.lists),
    ("dicts", pst.dicts),
    ("sets", pst.sets),
    ("frozensets", pst.frozensets),
    ("slices", pst.slices),
    ("frozendicts", pst.frozendicts),
    ("marshal_values", lambda v, **kw: pst.marshal_values(v, code=True, **kw)),
    ("code_objects", pst.code_objects),
]


@functools.lru_cache(maxsize=None)
def strategies_for(fmt: Any) -> st.SearchStrategy[Tuple[str, Any]]:
    """One strategy over every model strategy of ``fmt`` (both canonical settings), as
    (strategy name, example) pairs."""
    options = []
    for name, make in _KINDS:
        try:
            for canonical in (False, True):
                options.append(make(fmt, canonical=canonical).map(lambda v, n=name: (n, v)))
        except ValueError:  # a kind this version does not have (sets before 2.5, slices before 3.14)
            continue
    for canonical in (False, True):
        if fmt.code_layout is not None:  # not the 3.11a1 development magics 3450-3459: layout unknown
            options.append(pst.pyc_files(fmt, canonical=canonical).map(lambda v: ("pyc_files", v)))
        options.append(pst.headers(fmt, canonical=canonical).map(lambda v: ("headers", v)))
    return st.one_of(options)


_P32 = struct.Struct("<i").pack
_HUGE = st.sampled_from([0x7FFFFFFF, -1, -0x80000000, 0x10000000, 0xFFFFFF])


@st.composite
def mutated(draw: Any, original: bytes) -> bytes:
    """``original`` after 1-4 flips, byte changes, truncations, insertions, deletions or
    4-byte length fields set huge (hypothesis picks and shrinks them)."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "delete", "length"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        else:
            data[pos + 1 : pos + 5] = _P32(draw(_HUGE))
    return bytes(data)
