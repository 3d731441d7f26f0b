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
from ._deep import call_with_deep_stack
from ._pyc import PycFile
from ._formats import has_refs
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

__all__ = ["normalize", "strip_refs"]

_PLAIN_SINGLETONS = {code: Singleton(code) for code in "NTFS."}
_ITEMS = (TupleValue, ListValue, SetValue, FrozenSetValue)
_PAIRS = (DictValue, FrozenDict)
_LEAVES = (Int, Long, Float, Complex, Bytes, Str)


def kids(value: Value) -> List[Value]:
    """The values directly inside ``value``, in the order the writer writes them."""
    if isinstance(value, _ITEMS):
        return list(value.items)
    if isinstance(value, _PAIRS):
        return [x for pair in value.items for x in pair]
    if isinstance(value, Slice):
        return [value.start, value.stop, value.step]
    if isinstance(value, Code):
        return [getattr(value, name) for name, is_int in code_fields(type(value)) if not is_int]
    return []


def set_kids(value: Value, new: List[Value]) -> None:
    """Put ``new`` (as many values as :func:`kids` gave) in ``value``'s places."""
    if isinstance(value, _ITEMS):
        value.items = list(new)
    elif isinstance(value, _PAIRS):
        value.items = [(new[i], new[i + 1]) for i in range(0, len(new), 2)]
    elif isinstance(value, Slice):
        value.start, value.stop, value.step = new
    elif isinstance(value, Code):
        names = [name for name, is_int in code_fields(type(value)) if not is_int]
        for name, item in zip(names, new):
            setattr(value, name, item)


T = TypeVar("T")


def deep(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, rerun on a big stack if the input nests deeper than this one allows."""
    try:
        return fn(*args)
    except RecursionError:
        return call_with_deep_stack(fn, *args)


def copy_value(value: Value) -> Value:
    """A deep copy of a model value that keeps its sharing (and so its references)."""
    try:
        return copy.deepcopy(value)
    except RecursionError:
        return cast(Value, call_with_deep_stack(copy.deepcopy, value))


def unflagged(value: Value) -> Value:
    """A shallow copy of ``value`` with FLAG_REF cleared (children shared)."""
    if isinstance(value, Singleton):
        return _PLAIN_SINGLETONS[value.code]
    return cast(Value, attrs.evolve(cast(Any, value), flag_ref=False))


def unique_values(root: Value) -> List[Value]:
    """Every value reachable from ``root`` (singletons excepted), each once, pre-order."""
    seen: Set[int] = set()
    out: List[Value] = []
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, Singleton) or id(value) in seen:
            continue
        seen.add(id(value))
        out.append(value)
        stack.extend(reversed(kids(value)))
    return out


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
        return operator.attrgetter("items")
    if issubclass(cls, Singleton):
        return _SINGLETON
    if issubclass(cls, _LEAVES):
        return None
    if issubclass(cls, Code):
        names = [name for name, is_int in code_fields(cls) if not is_int]
        if len(names) > 1:
            return operator.attrgetter(*names)
    return kids


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
    children = kids(value)
    if any(isinstance(c, Singleton) and c.flag_ref for c in children):
        set_kids(value, [_PLAIN_SINGLETONS[c.code] if isinstance(c, Singleton) and c.flag_ref else c for c in children])


def strip_refs(pyc: PycFile) -> PycFile:
    """A copy of ``pyc`` without the FLAG_REFs that no reference uses.

    The interpreter loads it to the same value (only objects that are referenced again
    keep the flag), its bytes depend only on the input, and it is never longer than the
    input.  Versions before 3.4 have no FLAG_REF: they are copied unchanged.
    """
    code = copy_value(pyc.code)
    result = PycFile(attrs.evolve(pyc.header), code, pyc.trailer)
    if not has_refs(pyc.format) or isinstance(code, Singleton):
        return result
    used = _used_refs(code)
    for value in unique_values(code):
        _unflag_singletons(value)
        if not isinstance(value, Singleton) and value.flag_ref and id(value) not in used:
            value.flag_ref = False
    return result


def _leaf_key(value: Value) -> Optional[Tuple[Any, ...]]:
    if isinstance(value, (Int, Bytes, Str)):
        return (type(value), value.code, value.value)
    if isinstance(value, Long):
        return (Long, value.code, value.value, value.size)
    if isinstance(value, Float):
        return (Float, value.code, value.raw)
    if isinstance(value, Complex):
        return (Complex, value.code, value.real, value.imag)
    return None


_IMMUTABLE = (TupleValue, FrozenSetValue, Slice, FrozenDict, Code)


def _canonical(root: Value) -> Value:
    """``root`` rebuilt with one object per distinct immutable value, flags cleared."""
    table: Dict[Tuple[Any, ...], Value] = {}
    memo: Dict[int, Value] = {}
    building: Set[int] = set()
    pinned: Set[int] = set()

    def canon(value: Value) -> Value:
        if isinstance(value, Singleton):
            return _PLAIN_SINGLETONS[value.code]
        done = memo.get(id(value))
        if done is not None:
            if id(done) in building:
                pinned.add(id(done))  # referenced from inside itself: keep this object
            return done
        leaf = _leaf_key(value)
        if leaf is not None:
            new = table.get(leaf)
            if new is None:
                new = table[leaf] = unflagged(value)
            memo[id(value)] = new
            return new
        new = unflagged(value)
        memo[id(value)] = new
        building.add(id(new))
        children = [canon(child) for child in kids(value)]
        set_kids(new, children)
        building.discard(id(new))
        if isinstance(new, _IMMUTABLE) and id(new) not in pinned:
            ints: Tuple[Any, ...] = ()
            if isinstance(new, Code):
                ints = tuple(getattr(new, name) for name, is_int in code_fields(type(new)) if is_int)
            key = (type(new), getattr(new, "code", None), ints, tuple(id(c) for c in children))
            existing = table.get(key)
            if existing is not None:
                memo[id(value)] = existing
                return existing
            table[key] = new
        return new

    try:
        return canon(root)
    except RecursionError:
        table.clear()
        memo.clear()
        building.clear()
        pinned.clear()
        return call_with_deep_stack(canon, root)


def normalize(pyc: PycFile) -> PycFile:
    """A canonical copy of ``pyc``: equal models give identical bytes, however they
    were flagged or shared.

    Equal immutable values (strings, numbers, tuples, frozensets, code objects...) become
    one object, and from 3.4 on an object carries FLAG_REF exactly when it is met again
    (so it is written once and referenced after that); in 2.x equal interned strings are
    written once and referenced with ``R``.  The interpreter loads the result to the same
    value as the input.
    """
    code = _canonical(pyc.code)
    if has_refs(pyc.format):
        seen: Set[int] = set()
        again: Set[int] = set()
        stack = [code]
        while stack:
            value = stack.pop()
            if isinstance(value, Singleton):
                continue
            if id(value) in seen:
                again.add(id(value))
                continue
            seen.add(id(value))
            stack.extend(reversed(kids(value)))
        for value in unique_values(code):
            if not isinstance(value, Singleton):
                value.flag_ref = id(value) in again
    return PycFile(attrs.evolve(pyc.header), code, pyc.trailer)
