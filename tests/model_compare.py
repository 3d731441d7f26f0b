"""Comparing two models field by field, sharing included (the property tests and the
accelerator tests share it)."""

from __future__ import annotations

from typing import Any, Dict

import attrs

import pycfile

__all__ = ["same_model"]


def same_model(a: Any, b: Any) -> bool:
    """Structural equality of two models that also requires the same sharing: each
    object of ``a`` corresponds to exactly one of ``b`` (so cycles terminate)."""
    pairs: Dict[int, int] = {}
    back: Dict[int, int] = {}

    def same(x: Any, y: Any) -> bool:
        if type(x) is not type(y):
            return False
        if not attrs.has(type(x)):
            if isinstance(x, (list, tuple)):
                return len(x) == len(y) and all(same(i, j) for i, j in zip(x, y))
            return bool(x == y)
        if isinstance(x, pycfile.Singleton):
            return bool(x == y)
        if id(x) in pairs or id(y) in back:
            return pairs.get(id(x)) == id(y) and back.get(id(y)) == id(x)
        pairs[id(x)] = id(y)
        back[id(y)] = id(x)
        return all(
            same(getattr(x, f.name), getattr(y, f.name))
            for f in attrs.fields(type(x))  # type: ignore[misc]
            if f.name != "format"
        ) and (not isinstance(x, pycfile.PycHeader) or x.format == y.format)

    return same(a, b)
