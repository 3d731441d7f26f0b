"""Between model values and ordinary Python values.

:func:`to_python` gives the value a constant stands for.  :func:`from_python` makes the
model an interpreter's own marshal writer writes for a value (docs/canonical.md): its type
codes, FLAG_REF bits and references, from the rules in :mod:`pycfile._canonical`.

Both walk values with explicit stacks, not recursion: any depth a reader or writer
accepts converts on any thread, with no change of the recursion limit.
"""

from __future__ import annotations

import builtins
import string
import types
import struct
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

import attrs

from ._canonical import CanonicalRules, canonical_rules
from ._code import Code
from ._errors import NoPythonValueError, UnwritableError
from ._formats import marshal_rules
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
from ._versions import PycFormat, VersionLike, format_for_version

__all__ = ["Unhashable", "constant_from_python", "from_python", "to_python"]

_VALUE_TYPES = (Singleton, Int, Long, Float, Complex, Bytes, Str, TupleValue, ListValue, DictValue, SetValue, FrozenSetValue, Slice, FrozenDict, Code)
_HOST_FROZENDICT: Optional[type] = getattr(builtins, "frozendict", None)  # 3.15+ hosts


# ---- to_python -------------------------------------------------------------------------


@attrs.frozen(eq=False, repr=False)
class Unhashable:
    """Stands in a set, a frozenset or a dict key for a value Python cannot hash.

    Marshal streams may hold set items and dict keys that have no hashable Python value
    (a list, a dict, a code object; CPython's own ``marshal.loads`` fails on them).
    :func:`to_python` puts one of these in their place: it hashes and compares by
    identity, :attr:`value` is the converted value and :attr:`model` the model value it
    came from.
    """

    #: The Python value (a list, a dict, a set, a tuple holding one of those, a code
    #: object's model...).
    value: Any
    #: The model value it was converted from.
    model: Value

    def __repr__(self) -> str:
        return f"Unhashable({self.value!r})"


class _frozendict(Dict[Any, Any]):
    """A read-only dict standing in for 3.15's frozendict on older hosts."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("frozendict is read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _readonly


_LEAVES = (Int, Long, Bytes, Str, Singleton, Float, Complex)
_MUTABLE = (ListValue, DictValue, SetValue)
_IMMUTABLE = (TupleValue, FrozenSetValue, Slice, FrozenDict)


def _items_of(v: Value) -> List[Value]:
    """The values a container holds, in stored order (dict pairs flattened)."""
    if isinstance(v, (TupleValue, ListValue, SetValue, FrozenSetValue)):
        return v.items
    if isinstance(v, (DictValue, FrozenDict)):
        return [x for pair in v.items for x in pair]
    if isinstance(v, Slice):
        return [v.start, v.stop, v.step]
    return []


def _member(item: Any, model: Value) -> Any:
    """``item`` if Python can hash it, else its :class:`Unhashable` stand-in."""
    try:
        hash(item)
    except (TypeError, RecursionError):
        return Unhashable(item, model)
    return item


def _insert(add: Callable[[Any], None], item: Any, model: Value) -> None:
    try:
        add(item)
    except RecursionError:  # equal hashes, items too deep to compare on this stack
        add(Unhashable(item, model))


def to_python(value: Value) -> Any:
    """The ordinary Python value a model value stands for.

    Containers convert item by item, keeping sharing and cycles through lists, dicts
    and sets; code objects stay models (a host code object of another version cannot be
    made); 2.x 8-bit strings become ``bytes``; a 3.15 frozendict is the host's
    ``frozendict`` (a read-only dict before 3.15).  A set item or dict key with no
    hashable Python value becomes an :class:`Unhashable` stand-in.  A tuple, frozenset,
    slice or frozendict that contains itself through immutable containers only (valid
    marshal data, but no Python value can be built) raises
    :class:`~pycfile.NoPythonValueError`, as does a model holding a non-value or a text
    float that is not a number.  Raises TypeError if ``value`` is not a model value.
    """
    if not isinstance(value, _VALUE_TYPES):
        raise TypeError(f"to_python takes a model value, not {type(value).__name__}")
    return _ToPython().run(value)


class _ToPython:
    """One conversion: every container is made once (``made``), mutable ones empty
    first, so cycles through them close; immutable ones once their items exist."""

    def __init__(self) -> None:
        self.made: Dict[int, Any] = {}
        self.where: Dict[int, Tuple[Optional[Value], str]] = {}  # id -> (parent, step)

    def path(self, node: Value) -> str:
        steps: List[str] = []
        current: Optional[Value] = node
        while current is not None:
            parent, step = self.where.get(id(current), (None, "value"))
            steps.append(step)
            current = parent
        return "".join(reversed(steps))

    def leaf(self, v: Value, parent: Optional[Value], step: str) -> Any:
        if isinstance(v, Code):
            return v
        try:
            return v.value  # type: ignore[union-attr]
        except (ValueError, struct.error) as e:  # a text float that is no number, a short raw float
            self.where.setdefault(id(v), (parent, step))
            raise NoPythonValueError(f"{type(v).__name__} has no Python value: {e}", path=self.path(v)) from None

    def run(self, root: Value) -> Any:
        if isinstance(root, _LEAVES) or isinstance(root, Code):
            return self.leaf(root, None, "value")
        containers = self.collect(root)
        made = self.made
        for node in containers:  # mutable containers exist before anything refers to them
            if isinstance(node, ListValue):
                made[id(node)] = []
            elif isinstance(node, DictValue):
                made[id(node)] = {}
            elif isinstance(node, SetValue):
                made[id(node)] = set()
        for node in containers:
            if isinstance(node, _IMMUTABLE) and id(node) not in made:
                self.build_immutable(node)
        for node in containers:
            if isinstance(node, _MUTABLE):
                self.fill(node)
        return made[id(root)]

    def collect(self, root: Value) -> List[Value]:
        """Every container reachable from ``root``, each once; checks the leaves."""
        found: List[Value] = [root]
        self.where[id(root)] = (None, "value")
        seen: Set[int] = {id(root)}
        stack = [root]
        while stack:
            node = stack.pop()
            for i, item in enumerate(_items_of(node)):
                if id(item) in seen:
                    continue
                if isinstance(item, (_LEAVES, Code)):
                    continue
                seen.add(id(item))
                self.where[id(item)] = (node, _step(node, i))
                if not isinstance(item, (_MUTABLE, _IMMUTABLE)):
                    raise NoPythonValueError(f"{type(item).__name__} is not a marshal value", path=self.path(item))
                found.append(item)
                stack.append(item)
        return found

    def value_of(self, item: Value, parent: Value, i: int) -> Any:
        if isinstance(item, (_LEAVES, Code)):
            return self.leaf(item, parent, _step(parent, i))
        return self.made[id(item)]

    def build_immutable(self, start: Value) -> None:
        """Build ``start`` and the immutable containers it needs first (depth first, on
        an explicit stack); meeting one that is still waiting for its items is a cycle
        through immutable containers only."""
        made = self.made
        waiting: Set[int] = {id(start)}
        stack: List[Tuple[Value, int]] = [(start, 0)]
        while stack:
            node, i = stack[-1]
            items = _items_of(node)
            while i < len(items):
                item = items[i]
                if isinstance(item, _IMMUTABLE) and id(item) not in made:
                    if id(item) in waiting:
                        raise NoPythonValueError(
                            f"a {type(item).__name__} that contains itself through immutable containers has no Python value",
                            path=self.path(item),
                        )
                    break
                i += 1
            if i < len(items):
                stack[-1] = (node, i)
                waiting.add(id(items[i]))
                stack.append((items[i], 0))
                continue
            stack.pop()
            waiting.discard(id(node))
            made[id(node)] = self.make_immutable(node)

    def make_immutable(self, node: Value) -> Any:
        values = [self.value_of(item, node, i) for i, item in enumerate(_items_of(node))]
        if isinstance(node, TupleValue):
            return tuple(values)
        if isinstance(node, Slice):
            return slice(values[0], values[1], values[2])
        if isinstance(node, FrozenSetValue):
            members: Set[Any] = set()
            for item, value in zip(node.items, values):
                _insert(members.add, _member(value, item), item)
            return frozenset(members)
        assert isinstance(node, FrozenDict)
        pairs: Dict[Any, Any] = {}
        for j in range(0, len(values), 2):
            key = _member(values[j], node.items[j // 2][0])
            _insert(lambda k: pairs.__setitem__(k, values[j + 1]), key, node.items[j // 2][0])
        return _HOST_FROZENDICT(pairs) if _HOST_FROZENDICT is not None else _frozendict(pairs)

    def fill(self, node: Value) -> None:
        target = self.made[id(node)]
        values = [self.value_of(item, node, i) for i, item in enumerate(_items_of(node))]
        if isinstance(node, ListValue):
            target.extend(values)
        elif isinstance(node, SetValue):
            for item, value in zip(node.items, values):
                _insert(target.add, _member(value, item), item)
        else:
            assert isinstance(node, DictValue)
            for j in range(0, len(values), 2):
                key = _member(values[j], node.items[j // 2][0])
                _insert(lambda k: target.__setitem__(k, values[j + 1]), key, node.items[j // 2][0])


def _step(parent: Value, i: int) -> str:
    if isinstance(parent, (DictValue, FrozenDict)):
        return f"[{i // 2}].{'key' if i % 2 == 0 else 'value'}"
    if isinstance(parent, Slice):
        return "." + ("start", "stop", "step")[i]
    return f"[{i}]"


# ---- from_python -----------------------------------------------------------------------


def from_python(obj: Any, version: Union[VersionLike, PycFormat]) -> Value:
    """The model ``version``'s interpreter writes for ``obj``.

    It is the model of ``marshal.dumps(marshal.loads(marshal.dumps(obj)))`` in that
    interpreter: the type codes its marshal version writes, the values its loader shares
    (small ints, ``''``, ``b''``, ``()``, one-character strings...) flagged and written
    again as references, FLAG_REF where its writer holds a second reference (set items),
    set items in its order (docs/canonical.md gives the rules and their limits).  A
    container met twice is one model object, flagged, so a list that contains itself is
    written with a reference as CPython writes it.

    Handles None, bool, int, float, complex, str, bytes, tuple, list, dict, set,
    frozenset, slice (3.14+), frozendict (3.15+ hosts), Ellipsis and StopIteration; model
    values (code objects included) are taken as they are.  In 2.x, ``bytes`` are the
    8-bit ``str`` and ``str`` is ``unicode``.

    Raises :class:`~pycfile.UnwritableError` for what the version's marshal cannot
    write: a kind it lacks, nesting deeper than its limit, a value that contains itself
    where it has no references; TypeError for an object of a kind marshal never writes.
    """
    fmt = version if isinstance(version, PycFormat) else format_for_version(version)
    return _Canonical(fmt, constant=False).convert(obj)


def constant_from_python(obj: Any, fmt: PycFormat, builder: Optional["_Canonical"] = None) -> Value:
    """The model of ``obj`` as a constant of a code object of ``fmt``: :func:`from_python`'s
    rules, plus the interning the code constructor does to co_consts.  Pass one
    ``builder`` (``new_constant_builder``) for constants that share interned strings."""
    return (builder or _Canonical(fmt, constant=True)).convert(obj)


def new_constant_builder(fmt: PycFormat) -> "_Canonical":
    """A converter whose constants share the objects the interpreter would share."""
    return _Canonical(fmt, constant=True)


_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_")
_CONTAINER_TYPES: Tuple[type, ...] = (tuple, list, dict, set, frozenset, slice) + ((_HOST_FROZENDICT,) if _HOST_FROZENDICT else ())
_RESERVED_TYPES: Tuple[type, ...] = (frozenset, slice) + ((_HOST_FROZENDICT,) if _HOST_FROZENDICT else ())
# The type code each container kind needs in the version's marshal.
_NEEDS = {set: "<", frozenset: ">", slice: ":", complex: "x", str: "u"}
if _HOST_FROZENDICT is not None:
    _NEEDS[_HOST_FROZENDICT] = "}"


def _children(o: Any) -> List[Any]:
    kind = type(o)
    if kind is tuple or kind is list:
        return list(o)
    if kind is slice:
        return [o.start, o.stop, o.step]
    if kind is set or kind is frozenset:
        return list(o)
    return [x for pair in o.items() for x in pair]  # dict, frozendict


def _name_like(text: str) -> bool:
    return all(c in _NAME_CHARS for c in text)


class _Canonical:
    """One conversion to the canonical model (or a series of constants for one pyc)."""

    def __init__(self, fmt: PycFormat, constant: bool) -> None:
        self.fmt = fmt
        self.rules: CanonicalRules = canonical_rules(fmt)
        self.codes = "".join(sorted(marshal_rules(fmt).type_codes))
        self.constant = constant
        #: The one model of each value the interpreter keeps one object for.
        self.shared: Dict[Any, Value] = {}
        #: Constants: the first model of each constant value (the compiler merges them).
        self.merging = constant and self.rules.constants_merged
        self.merged: Dict[Any, Value] = {}
        self.merged_ids: Set[int] = set()

    def next_code_object(self) -> None:
        """The constants that follow are another code object's: the compiler merges equal
        constants within one code object (interned strings stay shared throughout)."""
        self.merged = {}
        self.merged_ids = set()

    # -- the walk --------------------------------------------------------------------------

    def convert(self, obj: Any) -> Value:
        if isinstance(obj, _VALUE_TYPES):
            return obj
        counts = self.survey(obj)
        root = self.build(obj, counts)
        if self.rules.root_flagged and self.rules.refs and not self.constant and not isinstance(root, Singleton):
            root.flag_ref = True
        return root

    def too_deep(self) -> UnwritableError:
        limit = self.fmt.max_depth
        return UnwritableError(f"object too deeply nested to marshal (limit {limit})", version=f"{self.fmt.version}")

    def survey(self, root: Any) -> Dict[int, int]:
        """Check every object and the nesting (objects counted as the writer counts
        them, a reference as one); how often each container is met."""
        refs = self.rules.refs
        limit = self.fmt.max_depth
        counts: Dict[int, int] = {}
        self.check(root)
        if type(root) not in _CONTAINER_TYPES:
            return counts
        heights: Dict[int, int] = {}  # no references: a container met again is written again
        on_path: Set[int] = {id(root)}
        counts[id(root)] = 1
        # frames: [object, children, next child, height so far, depth]
        frames: List[List[Any]] = [[root, _children(root), 0, 1, 1]]
        while frames:
            frame = frames[-1]
            node, kids, i, height, depth = frame
            if i == len(kids):
                frames.pop()
                on_path.discard(id(node))
                heights[id(node)] = height
                if frames:
                    frames[-1][3] = max(frames[-1][3], height + 1)
                continue
            frame[2] = i + 1
            kid = kids[i]
            if depth + 1 > limit:
                raise self.too_deep()
            if type(kid) not in _CONTAINER_TYPES:
                self.check(kid)
                frame[3] = max(height, 2)
                continue
            key = id(kid)
            seen = counts.get(key, 0)
            counts[key] = seen + 1
            if seen:
                if key in on_path:
                    if not refs:
                        raise UnwritableError(
                            f"a {type(kid).__name__} that contains itself cannot be written without references (3.4+)",
                            version=f"{self.fmt.version}",
                        )
                    if isinstance(kid, _RESERVED_TYPES):
                        raise UnwritableError(
                            f"a {type(kid).__name__} that contains itself has no marshal form (its slot is reserved while it is written)",
                            version=f"{self.fmt.version}",
                        )
                sub = 1 if refs else heights[key]
                if depth + sub > limit:
                    raise self.too_deep()
                frame[3] = max(frame[3], sub + 1)
                continue
            self.check(kid)
            on_path.add(key)
            frames.append([kid, _children(kid), 0, 1, depth + 1])
        return counts

    def check(self, o: Any) -> None:
        if isinstance(o, _VALUE_TYPES) or isinstance(o, types.CodeType):
            return
        kind = type(o)
        needs = _NEEDS.get(kind)
        if needs is None and kind not in _SCALAR_TYPES and kind not in _CONTAINER_TYPES and not _is_singleton(o):
            raise TypeError(f"{kind.__name__} values cannot be marshalled")
        if needs is not None and needs not in self.codes and not (kind is complex and "y" in self.codes):
            raise UnwritableError(f"{self.fmt.version} cannot marshal a {kind.__name__} (no type code {needs!r})", version=f"{self.fmt.version}")

    def build(self, root: Any, counts: Dict[int, int]) -> Value:
        """The models, children before their container, on an explicit stack; a
        container met again is its first model (a reference, or a cycle closing)."""
        if type(root) not in _CONTAINER_TYPES or self.cached_empty(root):
            return self.merge(self.leaf(root))
        models: Dict[int, Value] = {}
        first = self.shell(root, counts, models)
        # frames: [object, model, children, next child, built items]
        frames: List[Tuple[Any, Value, List[Any], List[int], List[Value]]] = [(root, first, _children(root), [0], [])]
        while frames:
            node, model, kids, at, built = frames[-1]
            i = at[0]
            if i == len(kids):
                frames.pop()
                self.finish(node, model, built)
                model = models[id(node)] = self.merge(model)
                if frames:
                    frames[-1][4].append(model)
                else:
                    first = model
                continue
            at[0] = i + 1
            kid = kids[i]
            if type(kid) not in _CONTAINER_TYPES or self.cached_empty(kid):
                built.append(self.merge(self.leaf(kid)))
            elif id(kid) in models:
                built.append(models[id(kid)])
            else:
                shell = self.shell(kid, counts, models)
                frames.append((kid, shell, _children(kid), [0], []))
        return first

    def shell(self, o: Any, counts: Dict[int, int], models: Dict[int, Value]) -> Value:
        """The empty model of a container, flagged if it is met more than once."""
        kind = type(o)
        model: Value
        if kind is tuple:
            model = TupleValue([], ")" if self.rules.ascii_codes and len(o) < 256 else "(")
        elif kind is list:
            model = ListValue([])
        elif kind is dict:
            model = DictValue([])
        elif kind is set:
            model = SetValue([])
        elif kind is frozenset:
            model = FrozenSetValue([])
        elif kind is slice:
            none = Singleton("N")
            model = Slice(none, none, none)
        else:
            model = FrozenDict([])
        models[id(o)] = model
        if self.rules.refs and (counts.get(id(o), 1) > 1 or self.kind_flagged(model)):
            model.flag_ref = True
        return model

    def finish(self, o: Any, model: Value, built: List[Value]) -> None:
        if isinstance(model, Slice):
            model.start, model.stop, model.step = built
        elif isinstance(model, (DictValue, FrozenDict)):
            model.items = [(built[j], built[j + 1]) for j in range(0, len(built), 2)]
        elif isinstance(model, (SetValue, FrozenSetValue)):
            model.items = self.set_items(built)
        else:
            assert isinstance(model, (TupleValue, ListValue))
            model.items = built

    def set_items(self, items: List[Value]) -> List[Value]:
        rules = self.rules
        if rules.sorted_sets:
            from ._writer import write_value

            def key(item: Value) -> bytes:
                if isinstance(item, Singleton) or item.flag_ref or not rules.set_key_item_flagged:
                    return write_value(item, self.fmt)
                item.flag_ref = True
                try:
                    return write_value(item, self.fmt)
                finally:
                    item.flag_ref = False

            items = sorted(items, key=key)
        if rules.refs and rules.set_items_flagged:
            for item in items:
                if not isinstance(item, Singleton):
                    item.flag_ref = True
        return items

    def merge(self, model: Value) -> Value:
        """A constant equal to one made before is that one (flagged: met twice)."""
        if not self.merging:
            return model
        key = self.constant_key(model)
        if key is None:
            return model
        first = self.merged.setdefault(key, model)
        self.merged_ids.add(id(first))
        if first is not model and self.rules.refs:
            _flag(first)
        return first

    def constant_key(self, model: Value) -> Optional[Tuple[Any, ...]]:
        """What the compiler merges constants by: type and value (floats by their bits,
        NaN never); tuples and frozensets by their items, merged already."""
        if isinstance(model, (Int, Long)):
            return ("int", model.value)
        if isinstance(model, (Str, Bytes)):
            return (type(model).__name__, model.value)
        if isinstance(model, (Float, Complex)):
            number = model.value
            if number != number:
                return None
            return ("float", model.raw) if isinstance(model, Float) else ("complex", model.real, model.imag)
        if isinstance(model, (TupleValue, FrozenSetValue)):
            items: List[Any] = []
            for item in model.items:
                if isinstance(item, Singleton):
                    items.append(item.code)
                elif id(item) in self.merged_ids:
                    items.append(id(item))
                else:
                    return None
            if isinstance(model, TupleValue):
                return ("tuple", tuple(items))
            return ("frozenset", frozenset(items))
        return None

    # -- scalars ---------------------------------------------------------------------------

    def cached_empty(self, o: Any) -> bool:
        """An empty tuple or frozenset the loader hands out as one shared object."""
        if o:
            return False
        kind = type(o)
        return self.rules.refs and ((kind is tuple and self.rules.empty_tuple) or (kind is frozenset and self.rules.empty_frozenset))

    def one(self, key: Tuple[Any, ...], make: Callable[[], Value], flagged: bool) -> Value:
        """The one model of a value the interpreter keeps one object for; flagged from the
        start when the interpreter's own caches hold it, else once it is met again."""
        model = self.shared.get(key)
        if model is None:
            model = self.shared[key] = make()
            if flagged and self.rules.refs:
                _flag(model)
        elif self.rules.refs:
            _flag(model)
        return model

    def kind_flagged(self, model: Value) -> bool:
        kinds = self.rules.flagged_kinds
        return bool(kinds) and _KIND_NAMES.get(type(model), "") in kinds

    def fresh(self, model: Value) -> Value:
        if self.rules.refs and self.kind_flagged(model):
            _flag(model)
        return model

    def leaf(self, o: Any) -> Value:
        if isinstance(o, _VALUE_TYPES):
            return o
        if isinstance(o, types.CodeType):  # a live code object: only the host's version holds it
            from ._hostcode import code_constant

            return code_constant(o, self.fmt)
        rules = self.rules
        if o is None:
            return Singleton("N")
        if o is True:
            return Singleton("T")
        if o is False:
            return Singleton("F")
        if o is Ellipsis:
            return Singleton(".")
        if o is StopIteration:
            return Singleton("S")
        kind = type(o)
        if kind is int:
            return self.int_model(o)
        if kind is float:
            return Float.binary(o) if rules.binary_floats else Float(self.float_text(o), "f")
        if kind is complex:
            if rules.binary_floats:
                return Complex.binary(o)
            return Complex(self.float_text(o.real), self.float_text(o.imag), "x")
        if kind is bytes:
            return self.bytes_model(o)
        if kind is str:
            return self.str_model(o)
        if kind is tuple:
            return self.one(("tuple",), lambda: TupleValue([], ")" if rules.ascii_codes else "("), True)
        assert kind is frozenset
        return self.one(("frozenset",), lambda: FrozenSetValue([]), True)

    def int_model(self, n: int) -> Value:
        rules = self.rules
        if -(1 << 31) <= n < (1 << 31):
            small = rules.small_ints
            if rules.refs and small is not None and small[0] <= n <= small[1]:
                return self.one(("int", n), lambda: Int(n, "i"), True)
            return Int(n, "i")
        if rules.int64 and -(1 << 63) <= n < (1 << 63):
            return Int(n, "I")
        return self.fresh(Long(n))

    def float_text(self, x: float) -> bytes:
        """The text a marshal 0/1 writer stores for a float (FACTS.md 3.3)."""
        text = self.rules.float_text % x
        if text.lstrip("-").isdigit():
            text += ".0"
        return text.encode("ascii")

    def bytes_model(self, data: bytes) -> Value:
        rules = self.rules
        if not rules.py3:  # a 2.x str: interned ones are shared through the string table
            interned = (not data and rules.empty_bytes == "interned") or (
                self.constant
                and rules.constants_interned
                and (_name_like(data.decode("latin-1")) or (len(data) == 1 and rules.constant_one_char_interned))
            )
            if interned and rules.string_refs:
                return self.one(("bytes-t", data), lambda: Bytes(data, "t"), False)
            return Bytes(data, "s")
        one_byte = len(data) == 1 and (rules.one_byte or (self.constant and rules.constant_one_byte))
        if rules.refs and ((not data and rules.empty_bytes == "cached") or one_byte):
            return self.one(("bytes", data), lambda: Bytes(data, "s"), True)
        return self.fresh(Bytes(data, "s"))

    def str_model(self, text: str) -> Value:
        rules = self.rules
        if rules.surrogate_pairs_joined:
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        if not rules.py3 or not rules.interned_code:  # 2.x unicode, 3.0-3.3: no interning
            return Str(text, "u")
        one_char = len(text) == 1 and ord(text) < 256
        empty = not text and rules.empty_str
        cached = empty or (one_char and rules.one_char_str != "")
        interned = (
            empty
            or (one_char and rules.one_char_str == "interned")
            or (self.constant and rules.constants_interned and _name_like(text))
        )
        if rules.ascii_codes and text.isascii():
            code = ("Z" if interned else "z") if len(text) < 256 else ("A" if interned else "a")
        else:
            code = "t" if interned else "u"
        if rules.refs and (cached or interned):
            return self.one(("str", text), lambda: Str(text, code), cached or (interned and rules.interned_always_flagged))
        return self.fresh(Str(text, code))


_SCALAR_TYPES = (int, float, complex, bytes, str, bool)
_KIND_NAMES: Dict[type, str] = {
    Str: "str",
    Bytes: "bytes",
    Long: "long",
    ListValue: "list",
    DictValue: "dict",
    SetValue: "set",
    FrozenSetValue: "frozenset",
}


def _flag(model: Value) -> None:
    if not isinstance(model, Singleton):
        model.flag_ref = True


def _is_singleton(o: Any) -> bool:
    return o is None or o is Ellipsis or o is StopIteration
