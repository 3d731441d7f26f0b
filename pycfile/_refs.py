"""Reproducible output: dropping unused FLAG_REFs, and the normalising write.

CPython (3.4+) sets FLAG_REF on an object when its reference count is above one while
it is marshalled (and always on interned strings), so the bytes of a pyc depend on
references that happened to exist in the compiler, not only on the code.  A FLAG_REF
that no later ``r`` uses changes nothing in the loaded value: :func:`strip_refs` drops
those.  :func:`normalize` goes further and gives one canonical form for equal models
however they were flagged or shared.

The helpers here (copying a model, visiting the children of a value) are shared by the
other editing modules.
"""

from __future__ import annotations

import copy
import operator
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, TypeVar, cast

import attrs

from ._code import Code, code_fields
from ._pyc import PycFile
from ._formats import has_refs
from ._values import (
    Bytes,
    Complex,
    Float,
    ListValue,
    SetValue,
    FrozenDict,
    FrozenSetValue,
    Int,
    Long,
    Singleton,
    Slice,
    Str,
    TupleValue,
    Value,
)
from ._walk import children, components, is_value, preorder, scalar_fields, set_children
from ._writer import write_value

__all__ = ["normalize", "strip_refs"]

_PLAIN_SINGLETONS = {code: Singleton(code) for code in "NTFS."}
_ITEMS = (TupleValue, ListValue, SetValue, FrozenSetValue)
_LEAVES = (Int, Long, Float, Complex, Bytes, Str)
#: Values that are immutable in Python: equal ones can be one object.
_IMMUTABLE = (Int, Long, Float, Complex, Bytes, Str, TupleValue, FrozenSetValue, Slice, FrozenDict, Code)


def kids(value: Value) -> List[Value]:
    """The values directly inside ``value``, in the order the writer writes them
    (``[]`` for a scalar, and for anything that is not a well-formed model value)."""
    return children(value) or []


def set_kids(value: Value, new: List[Value]) -> None:
    """Put ``new`` (as many values as :func:`kids` gave) in ``value``'s places."""
    if new or children(value):
        set_children(value, new)


def _objects(value: Any) -> List[Any]:
    """The model objects directly inside ``value`` (singletons, which are shared and
    immutable, and anything that is not a model value left out)."""
    found = children(value)
    if not found:
        return []
    return [v for v in found if is_value(v) and not isinstance(v, Singleton)]


def copy_value(value: Value) -> Value:
    """A deep copy of a model value that keeps its sharing (and so its references),
    cycles included; singletons and field values other than model values are shared."""
    if not is_value(value) or isinstance(value, Singleton):
        return value
    made: Dict[int, Any] = {}
    order = []
    for each in preorder(value, _objects):
        made[id(each)] = copy.copy(each)
        order.append(each)
    for each in order:
        found = children(each)
        if found:
            set_children(made[id(each)], [made.get(id(v), v) for v in found])
    return cast(Value, made[id(value)])


def unflagged(value: Value) -> Value:
    """A shallow copy of ``value`` with FLAG_REF cleared (children shared)."""
    if isinstance(value, Singleton):
        return _PLAIN_SINGLETONS.get(value.code, value)
    new = copy.copy(value)
    new.flag_ref = False
    return new


def unique_values(root: Value) -> List[Value]:
    """Every value reachable from ``root`` (singletons excepted), each once, pre-order."""
    return [v for v in preorder(root, kids) if not isinstance(v, Singleton)]


@attrs.frozen
class _RefUse:
    """What the writer does with the FLAG_REFs under a root."""

    #: Ids of the flagged objects written (each flagged object reachable).
    written: Set[int]
    #: Ids of the flagged objects it writes a reference to (met again).
    used: Set[int]
    #: Flagged singletons among the children of each object (readers ignore those flags).
    singletons: int


def _children_getter(cls: type) -> Optional[Callable[[Any], Sequence[Value]]]:
    """How to get the children of a ``cls`` value in :func:`kids` order; None for a
    class whose values have none."""
    if issubclass(cls, _ITEMS):
        return _items
    if issubclass(cls, Singleton):
        return _SINGLETON
    if issubclass(cls, _LEAVES):
        return None
    if issubclass(cls, Code):
        names = [name for name, is_int in code_fields(cls) if not is_int]
        if len(names) > 1:
            return operator.attrgetter(*names)
    return kids


def _items(value: Any) -> Sequence[Value]:
    """A container's items (none, for a hostile model whose items are not a list)."""
    items = value.items
    return items if type(items) is list else ()


def _SINGLETON(value: Any) -> Sequence[Value]:
    """The children getter of singletons (marks them: they are skipped)."""
    return ()


_CHILDREN: Dict[type, Optional[Callable[[Any], Sequence[Value]]]] = {}


def _ref_use(root: Value) -> _RefUse:
    """Walk ``root`` as the writer writes it: a flagged object once, then a reference
    each time it is met again; an unflagged one each time it is met."""
    written: Set[int] = set()
    used: Set[int] = set()
    active: Set[int] = set()  # unflagged objects being written (an id on the stack: leaving one)
    flagged_singleton = False
    stack: List[Any] = [root]
    pop, push, extend = stack.pop, stack.append, stack.extend
    getters = _CHILDREN
    while stack:
        value = pop()
        cls = type(value)
        if cls is int:
            active.discard(value)
            continue
        try:
            children_of = getters[cls]
        except KeyError:
            if not is_value(value):
                continue  # not a marshal value: the writer says so
            children_of = getters[cls] = _children_getter(cls)
        if children_of is _SINGLETON:
            flagged_singleton = flagged_singleton or value.flag_ref
            continue
        key = id(value)
        if value.flag_ref:
            if key in written:
                used.add(key)
                continue
            written.add(key)
        elif children_of is None:
            continue
        else:
            if key in active:
                continue  # an unflagged object inside itself: the writer refuses it anyway
            active.add(key)
            push(key)
        if children_of is not None:
            extend(reversed(children_of(value)))
    singletons = 0
    if flagged_singleton:  # rare: readers ignore these flags, CPython never writes them
        singletons = sum(1 for v in unique_values(root) for c in kids(v) if isinstance(c, Singleton) and c.flag_ref)
    return _RefUse(written, used, singletons)


def _used_refs(root: Value) -> Set[int]:
    """The ids of flagged objects the writer writes a reference to (met again)."""
    return _ref_use(root).used


def unused_refs(pyc: PycFile) -> int:
    """How many FLAG_REFs :func:`strip_refs` clears in ``pyc``: on objects no reference
    uses, and on singletons (readers never put those in the reference table).  0 before
    3.4, which has no FLAG_REF."""
    if not has_refs(pyc.format) or isinstance(pyc.code, Singleton):
        return 0
    use = _ref_use(pyc.code)
    return len(use.written) - len(use.used) + use.singletons


def _unflag_singletons(value: Value) -> None:
    found = kids(value)
    if any(isinstance(c, Singleton) and c.flag_ref for c in found):
        set_kids(value, [_PLAIN_SINGLETONS.get(c.code, c) if isinstance(c, Singleton) and c.flag_ref else c for c in found])


def strip_refs(pyc: PycFile) -> PycFile:
    """A copy of ``pyc`` without the FLAG_REFs that no reference uses.

    The interpreter loads it to the same value (only objects that are referenced again
    keep the flag), its bytes depend only on the input, and it is never longer than the
    input.  Versions before 3.4 have no FLAG_REF: they are copied unchanged.
    """
    _need_pyc(pyc, "strip_refs")
    code = copy_value(pyc.code)
    result = PycFile(attrs.evolve(pyc.header), code, pyc.trailer)
    if not has_refs(pyc.format) or isinstance(code, Singleton):
        return result
    used = _used_refs(code)
    for value in unique_values(code):
        if isinstance(value, Singleton) or not is_value(value):
            continue
        _unflag_singletons(value)
        if value.flag_ref and id(value) not in used:
            value.flag_ref = False
    return result


def _scalars(value: Any) -> Tuple[Any, ...]:
    """The fields of ``value`` that are not marshal values (type code, flag, ints...)."""
    return tuple(getattr(value, name) for name in scalar_fields(type(value)))


def _canonical(root: Value) -> Value:
    """``root`` rebuilt with one object per distinct immutable value, flags cleared.

    Values are rebuilt children first (by strongly connected components), so equal
    immutable values are found by their scalar fields and the identity of their
    already-rebuilt children: linear time, however deep or shared.  Values on a cycle
    (a tuple that contains itself, a code object reached again through its parent's
    ``co_consts``) are copied but never merged: merging equal members of a cycle can put
    a code object inside itself, which no marshal stream can hold.
    """
    if isinstance(root, Singleton):
        return _PLAIN_SINGLETONS.get(root.code, root)
    if not is_value(root):
        return root
    table: Dict[Tuple[Any, ...], Value] = {}
    made: Dict[int, Value] = {}

    def new_of(value: Any) -> Any:
        if isinstance(value, Singleton):
            return _PLAIN_SINGLETONS.get(value.code, value)
        return made.get(id(value), value)

    for component in components(root, _objects, lambda value: False):
        if len(component) > 1 or any(kid is component[0] for kid in _objects(component[0])):
            for value in component:
                made[id(value)] = unflagged(value)
            for value in component:
                set_kids(made[id(value)], [new_of(v) for v in kids(value)])
            continue
        value = component[0]
        found = children(value)
        new = unflagged(value)
        if found is None:  # not a well-formed value: copied as it is, the writer says why
            made[id(value)] = new
            continue
        rebuilt = [new_of(v) for v in found]
        set_kids(new, rebuilt)
        made[id(value)] = new
        if isinstance(new, _IMMUTABLE):
            try:
                key = (type(new), _scalars(new), tuple([id(v) for v in rebuilt]))
                existing = table.setdefault(key, new)
            except TypeError:  # a field holding something unhashable: kept apart
                continue
            made[id(value)] = existing
    return made[id(root)]


def normalize(pyc: PycFile) -> PycFile:
    """A canonical copy of ``pyc``: equal models give identical bytes, however they
    were flagged or shared.

    Equal immutable values (strings, numbers, tuples, frozensets, code objects...) become
    one object, and from 3.4 on an object carries FLAG_REF exactly when it is met again
    (so it is written once and referenced after that); in 2.x equal interned strings are
    written once and referenced with ``R``.  The interpreter loads the result to the same
    value as the input.  Values that contain themselves keep their objects (only their
    flags change).  Raises :class:`~pycfile.UnwritableError` when the result cannot be
    written (as :func:`pycfile.dumps` would), so what it returns can always be written.
    """
    _need_pyc(pyc, "normalize")
    code = _canonical(pyc.code)
    if has_refs(pyc.format):
        met: Dict[int, int] = {id(code): 1}
        values = unique_values(code)
        for value in values:
            for kid in _objects(value):
                met[id(kid)] = met.get(id(kid), 0) + 1
        for value in values:
            if is_value(value) and not isinstance(value, Singleton):
                value.flag_ref = met[id(value)] > 1
    write_value(code, pyc.format, root="code")  # raises UnwritableError saying why
    return PycFile(attrs.evolve(pyc.header), code, pyc.trailer)


def _need_pyc(pyc: object, name: str) -> None:
    if not isinstance(pyc, PycFile):
        raise TypeError(f"{name}() takes a PycFile, not {type(pyc).__name__}")
