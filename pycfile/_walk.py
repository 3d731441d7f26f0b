"""Walking a model without recursion: equality, repr and the traversals the other
modules share.

A model is a graph, not a tree: a value reached through a reference is the same Python
object as its first occurrence, so values are shared (a DAG) and can contain themselves
(a tuple holding a reference to itself is legal marshal data).  A model can also nest as
deep as the format allows (2,000 or 5,000 levels), or deeper when it is built by hand.
Everything here works with explicit stacks, so neither depth nor cycles end in a
``RecursionError``, and remembers what it has seen by identity, so shared values cost
once: time is linear in the number of distinct objects (and their fields).

* :func:`install` gives the model classes their ``==``, ``!=`` and ``repr`` (attrs makes
  recursive ones): :func:`equal` and :func:`model_repr`.
* :func:`children` gives the marshal values directly inside a value, in the order the
  writer writes them; :func:`preorder` and :func:`components` walk those.

Which fields of a class hold marshal values is read from the attrs field annotations
(``Value``, ``list[Value]``, ``list[tuple[Value, Value]]``), so the walk needs no table to
keep in step with the classes.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

import attrs

__all__ = [
    "children",
    "components",
    "equal",
    "install",
    "is_value",
    "leaf_repr",
    "model_repr",
    "preorder",
    "register",
    "scalar_fields",
    "set_children",
]

# How a field holds marshal values.
_ONE = 0  # the field is a value
_ITEMS = 1  # a list of values
_PAIRS = 2  # a list of (key, value) pairs

_KIND_OF_TYPE = {"Value": _ONE, "list[Value]": _ITEMS, "list[tuple[Value,Value]]": _PAIRS}

#: Installed (model) classes -> their attrs field names, in declaration order.
_FIELDS: Dict[type, Tuple[str, ...]] = {}
#: Installed classes -> a function giving all their field values as a tuple.
_GETTERS: Dict[type, Callable[[Any], Tuple[Any, ...]]] = {}
#: Every registered value class -> its value-holding fields and how they hold values.
_KIDS: Dict[type, Tuple[Tuple[str, int], ...]] = {}
#: Every registered value class -> its other fields (type code, FLAG_REF, ints...).
_SCALARS: Dict[type, Tuple[str, ...]] = {}
#: Types the equality and repr walks descend into: installed classes, list and tuple.
_NODES: Set[type] = {list, tuple}


class _Unset:
    """Stands for a slot that holds nothing (an instance made without ``__init__``)."""

    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()


def _type_text(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return text.replace(" ", "").replace("List[", "list[").replace("Tuple[", "tuple[").replace('"', "")


def register(cls: type) -> None:
    """Record which fields of the attrs class ``cls`` hold marshal values (for
    :func:`children`)."""
    spec = []
    scalars = []
    for field in attrs.fields(cls):
        text = _type_text(field.type)
        kind = _KIND_OF_TYPE.get(text)
        if kind is not None:
            spec.append((field.name, kind))
        elif "Value" in text:  # a new way of holding values: teach _KIND_OF_TYPE
            raise TypeError(f"{cls.__name__}.{field.name}: no walk for a field of type {text}")
        else:
            scalars.append(field.name)
    _KIDS[cls] = tuple(spec)
    _SCALARS[cls] = tuple(scalars)


def install(*classes: type) -> None:
    """Give each attrs class :func:`equal` as ``==``/``!=`` and :func:`model_repr` as
    ``repr`` (its instances stay unhashable), and :func:`register` it."""
    for cls in classes:
        register(cls)
        names = tuple(field.name for field in attrs.fields(cls))
        _FIELDS[cls] = names
        _GETTERS[cls] = _getter(names)
        _NODES.add(cls)
        setattr(cls, "__eq__", _eq)
        setattr(cls, "__ne__", _ne)
        setattr(cls, "__repr__", model_repr)
        setattr(cls, "__hash__", None)


def _getter(names: Tuple[str, ...]) -> Callable[[Any], Tuple[Any, ...]]:
    get = operator.attrgetter(*names)

    def values(obj: Any) -> Tuple[Any, ...]:
        try:
            found = get(obj)
        except AttributeError:  # a slot that holds nothing
            return tuple(getattr(obj, name, _UNSET) for name in names)
        return found if len(names) > 1 else (found,)

    return values


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return equal(self, other)


def _ne(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return not equal(self, other)


_eq.__name__ = _eq.__qualname__ = "__eq__"
_eq.__doc__ = "Structural equality (see :func:`pycfile._walk.equal`)."
_ne.__name__ = _ne.__qualname__ = "__ne__"


# -- equality ------------------------------------------------------------------------


def equal(a: object, b: object) -> bool:
    """Whether ``a`` and ``b`` are equal as attrs compares them -- same class, fields
    equal -- without recursion.

    Fields that are model objects, lists or tuples are compared item by item; any other
    field value with ``==``.  Each pair of objects is compared once: a pair met again is
    assumed equal while it is being compared (coinduction), so values that contain
    themselves are equal when their structure is, and shared values cost once.
    """
    if a is b:
        return True
    nodes = _NODES
    getters = _GETTERS
    assumed: Set[Tuple[int, int]] = set()
    stack: List[Tuple[Any, Any]] = [(a, b)]
    pop = stack.pop
    push = stack.append
    while stack:
        x, y = pop()
        kind = type(x)
        get = getters.get(kind)
        if get is not None:
            if type(y) is not kind:
                return False
            pair = (id(x), id(y))
            if pair in assumed:
                continue
            assumed.add(pair)
            for fx, fy in zip(get(x), get(y)):
                if fx is fy:
                    continue
                if type(fx) in nodes or type(fy) in nodes:
                    push((fx, fy))
                elif not fx == fy:
                    return False
        elif kind is list or kind is tuple:
            if type(y) is not kind or len(x) != len(y):
                return False
            pair = (id(x), id(y))
            if pair in assumed:
                continue
            assumed.add(pair)
            for fx, fy in zip(x, y):
                if fx is fy:
                    continue
                if type(fx) in nodes or type(fy) in nodes:
                    push((fx, fy))
                elif not fx == fy:
                    return False
        elif x is not y and not x == y:
            return False
    return True


# -- repr ----------------------------------------------------------------------------


def leaf_repr(obj: object) -> str:
    """``repr(obj)``, except that an int too long for decimal text is shown in hex."""
    try:
        return repr(obj)
    except ValueError:  # int longer than sys.get_int_max_str_digits()
        if isinstance(obj, int):
            return hex(obj)
        raise


def _walked(obj: object) -> bool:
    kind = type(obj)
    return kind in _FIELDS or ((kind is list or kind is tuple) and len(obj) > 0)  # type: ignore[arg-type]


def model_repr(root: object) -> str:
    """attrs's repr (``Int(value=7, code='i', flag_ref=True)``), made without recursion,
    with each object written once.

    An object met more than once is written in full at its first occurrence, labelled
    ``#1=``, and as ``#1#`` after that (as Common Lisp prints shared structure), so a
    value that contains itself reads ``#1=TupleValue(items=[#1#], code=')', flag_ref=True)``
    and the text grows with the number of distinct objects, not the number of paths to
    them.
    """
    fields = _FIELDS
    # First pass: how often each object is met, to know which ones need a label.
    met: Dict[int, int] = {}
    stack: List[Any] = [root]
    while stack:
        obj = stack.pop()
        if not _walked(obj):
            continue
        key = id(obj)
        count = met.get(key, 0)
        met[key] = count + 1
        if count:
            continue
        get = _GETTERS.get(type(obj))
        if get is not None:
            stack.extend(get(obj))
        else:
            stack.extend(obj)
    # Second pass: the text.  Work items are (True, text) or (False, object).
    labels: Dict[int, int] = {}
    out: List[str] = []
    work: List[Tuple[bool, Any]] = [(False, root)]
    while work:
        is_text, item = work.pop()
        if is_text:
            out.append(item)
            continue
        if not _walked(item):
            out.append(leaf_repr(item))
            continue
        key = id(item)
        if met[key] > 1:
            label = labels.get(key)
            if label is not None:
                out.append(f"#{label}#")
                continue
            label = labels[key] = len(labels) + 1
            out.append(f"#{label}=")
        kind = type(item)
        names = fields.get(kind)
        if names is not None:
            out.append(kind.__name__ + "(")
            work.append((True, ")"))
            values = _GETTERS[kind](item)
            for i in range(len(names) - 1, -1, -1):
                work.append((False, values[i]))
                work.append((True, (", " if i else "") + names[i] + "="))
            continue
        out.append("[" if kind is list else "(")
        work.append((True, "]" if kind is list else (",)" if len(item) == 1 else ")")))
        for i in range(len(item) - 1, -1, -1):
            work.append((False, item[i]))
            if i:
                work.append((True, ", "))
    return "".join(out)


model_repr.__name__ = model_repr.__qualname__ = "__repr__"


# -- traversals ------------------------------------------------------------------------


def is_value(obj: object) -> bool:
    """Whether ``obj`` is an instance of a registered value class."""
    return type(obj) in _KIDS


def children(value: object) -> Optional[List[Any]]:
    """The marshal values directly inside ``value``, in the order the writer writes them
    (``[]`` for a scalar); ``None`` when ``value`` is not a registered value, or is one
    whose fields do not have the shape of a model (a ``items`` that is not a list, a dict
    item that is not a pair)."""
    spec = _KIDS.get(type(value))
    if spec is None:
        return None
    out: List[Any] = []
    for name, kind in spec:
        held = getattr(value, name, _UNSET)
        if kind == _ONE:
            out.append(held)
            continue
        if type(held) is not list and type(held) is not tuple:
            return None
        if kind == _ITEMS:
            out.extend(held)
            continue
        for pair in held:
            if type(pair) is not tuple or len(pair) != 2:
                return None
            out.extend(pair)
    return out


def scalar_fields(cls: type) -> Tuple[str, ...]:
    """The fields of a registered value class that do not hold marshal values."""
    return _SCALARS[cls]


def set_children(value: Any, new: List[Any]) -> None:
    """Put ``new`` (as many values as :func:`children` gave) in ``value``'s places."""
    spec = _KIDS[type(value)]
    at = 0
    for name, kind in spec:
        if kind == _ONE:
            setattr(value, name, new[at])
            at += 1
        elif kind == _ITEMS:
            count = len(getattr(value, name))
            setattr(value, name, list(new[at : at + count]))
            at += count
        else:
            count = len(getattr(value, name))
            setattr(value, name, [(new[at + 2 * i], new[at + 2 * i + 1]) for i in range(count)])
            at += 2 * count


def preorder(root: Any, kids: Callable[[Any], Optional[List[Any]]]) -> Iterator[Any]:
    """``root`` and everything reachable through ``kids`` (``None`` or ``[]``: nothing),
    each object once (by identity), in depth-first pre-order."""
    seen: Set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        found = kids(obj)
        if found:
            stack.extend(reversed(found))


def components(
    root: Any, kids: Callable[[Any], List[Any]], done: Callable[[Any], bool]
) -> List[List[Any]]:
    """The strongly connected components of the graph reachable from ``root`` through
    ``kids`` (Tarjan's algorithm, without recursion), children before parents.

    Objects for which ``done`` is true are not entered (they belong to components
    found before).  In each component the object it was entered by comes last.  A
    component of one object is a cycle only if the object is among its own kids.
    """
    if done(root):
        return []
    index: Dict[int, int] = {}
    low: Dict[int, int] = {}
    on_stack: Set[int] = set()
    pending: List[Any] = []
    found: List[List[Any]] = []
    frames: List[List[Any]] = []

    def enter(obj: Any) -> None:
        key = id(obj)
        index[key] = low[key] = len(index)
        pending.append(obj)
        on_stack.add(key)
        frames.append([obj, kids(obj), 0])

    enter(root)
    while frames:
        frame = frames[-1]
        obj, its, at = frame
        if at < len(its):
            frame[2] = at + 1
            kid = its[at]
            key = id(kid)
            if key in index:
                if key in on_stack and index[key] < low[id(obj)]:
                    low[id(obj)] = index[key]
            elif not done(kid):
                enter(kid)
            continue
        frames.pop()
        key = id(obj)
        if frames:
            parent = id(frames[-1][0])
            if low[key] < low[parent]:
                low[parent] = low[key]
        if low[key] == index[key]:
            component = []
            while True:
                member = pending.pop()
                on_stack.discard(id(member))
                component.append(member)
                if member is obj:
                    break
            found.append(component)
    return found
