"""Hypothesis's entry point for pycfile (``[project.entry-points.hypothesis]``).

Hypothesis calls :func:`_hypothesis_setup_hook` while it is being imported; the hook
registers a resolver for each pycfile model class, so ``st.from_type(pycfile.Str)``,
``st.from_type(pycfile.PycFile)`` and the rest draw pycfile values (of any released
version).  :mod:`pycfile.strategies` is imported only when such a strategy is first
resolved: the hook may run in the middle of ``import pycfile.strategies`` itself
(which imports hypothesis), and importing this module imports nothing at all.
"""

from __future__ import annotations

from typing import Any, Callable, Dict


def _strategy_for(cls: type) -> Any:
    """The strategy for one model class (called by hypothesis's ``from_type``)."""
    from . import _code, _header, _pyc, _values
    from . import strategies as pst
    from ._versions import known_formats

    kinds: Dict[type, Callable[[], Any]] = {
        _values.Singleton: pst.singletons,
        _values.Int: pst.ints,
        _values.Long: pst.longs,
        _values.Float: pst.floats,
        _values.Complex: pst.complexes,
        _values.Bytes: pst.bytes_values,
        _values.Str: pst.strs,
        _values.TupleValue: pst.tuples,
        _values.ListValue: pst.lists,
        _values.DictValue: pst.dicts,
        _values.SetValue: pst.sets,
        _values.FrozenSetValue: pst.frozensets,
        _values.Slice: pst.slices,
        _values.FrozenDict: pst.frozendicts,
        _header.PycHeader: pst.headers,
        _pyc.PycFile: pst.pyc_files,
    }
    if cls in kinds:
        return kinds[cls]()
    # a code class: the last CPython format of its layout (Code311a has no release)
    fmt = [f for f in known_formats() if f.code_layout is not None and _code.code_class(f.code_layout) is cls][-1]
    return pst.code_objects(fmt)


def _hypothesis_setup_hook() -> None:
    """Register a resolver for each pycfile model class with hypothesis."""
    from hypothesis import strategies as st

    from . import _code, _header, _pyc, _values
    from ._versions import CodeLayout

    classes = [
        _values.Singleton,
        _values.Int,
        _values.Long,
        _values.Float,
        _values.Complex,
        _values.Bytes,
        _values.Str,
        _values.TupleValue,
        _values.ListValue,
        _values.DictValue,
        _values.SetValue,
        _values.FrozenSetValue,
        _values.Slice,
        _values.FrozenDict,
        _header.PycHeader,
        _pyc.PycFile,
    ] + [_code.code_class(layout) for layout in CodeLayout]
    for cls in classes:
        st.register_type_strategy(cls, _strategy_for)
