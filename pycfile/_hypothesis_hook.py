"""Hypothesis's entry point for pycfile (``[project.entry-points.hypothesis]``).

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported; it registers
:mod:`pycfile.strategies` for the model classes, so ``st.from_type(pycfile.Str)``,
``st.from_type(pycfile.PycFile)`` and the rest draw pycfile values (of any released
version).  Importing this module imports neither hypothesis nor the strategies: that
happens inside the hook.
"""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    """Register a strategy for each pycfile model class with hypothesis."""
    from hypothesis import strategies as st

    from . import _code, _header, _pyc, _values
    from . import strategies as pst
    from ._versions import known_formats

    kinds = {
        _values.Singleton: pst.singletons,
        _values.Int: pst.ints,
        _values.Long: pst.longs,
        _values.Float: pst.floats,
        _values.Complex: pst.complexes,
        _values.Bytes: pst.bytes_values,
        _values.Str: pst.strs,
        _values.Tuple: pst.tuples,
        _values.List: pst.lists,
        _values.Dict: pst.dicts,
        _values.Set: pst.sets,
        _values.FrozenSet: pst.frozensets,
        _values.Slice: pst.slices,
        _values.FrozenDict: pst.frozendicts,
    }
    for cls, make in kinds.items():
        st.register_type_strategy(cls, make())
    layouts = {}
    for fmt in known_formats():  # the last format of each layout (Code311a has no release)
        if fmt.code_layout is not None and fmt.version.implementation == "cpython":
            layouts[fmt.code_layout] = fmt
    for layout, fmt in layouts.items():
        st.register_type_strategy(_code.code_class(layout), pst.code_objects(fmt))
    st.register_type_strategy(_header.PycHeader, pst.headers())
    st.register_type_strategy(_pyc.PycFile, pst.pyc_files())
