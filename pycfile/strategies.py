"""Hypothesis strategies for marshal values, code objects, headers and whole pycs.

Fuzz your own marshal or pyc tool with the values pycfile can write::

    from hypothesis import given
    from pycfile import strategies as pst

    @given(pst.pyc_files(version=(3, 12)))
    def test_my_tool(pyc):
        data = pycfile.dumps(pyc)
        my_tool.parse(data)

Every strategy takes the target ``version=`` (a :class:`~pycfile.PythonVersion`, a
``(major, minor)`` tuple or a :class:`~pycfile.PycFormat`; ``None`` draws one of the
released versions) and size knobs.  Two flavours:

- ``canonical=True``: values as that version's CPython writes them -- its type codes,
  and FLAG_REF exactly where its ``marshal.dumps`` of the loaded value sets it (the
  root, small ints, the empty string and tuple, set items...), so the real interpreter
  loads a canonical plain value and re-dumps it to the same bytes.  Not covered: code
  objects (the interpreter interns names and constants its own way) and PyPy (which
  flags by its own rules); their canonical values still use the writer's type codes.
  Strings whose interning depends on the interpreter's state (one Latin-1 character
  before 3.13, 2.x strings under 2 bytes) are not drawn, and sets hold at most one item
  (their order follows hashes).
- ``canonical=False`` (the default): anything the version's reader accepts --
  non-canonical type codes, unused FLAG_REFs, shared references and self-references,
  NaN payloads, lone surrogates, odd float text -- for fuzzing readers.

Set items and dict keys are always hashable values whose equality the interpreter
agrees with (strings, ints, bytes in 3.x, tuples and frozensets of those), so the real
interpreter of the version can build every value drawn here.  Code objects carry
fields the interpreter's code constructor accepts, so ``marshal.loads`` succeeds there.

This module imports hypothesis; ``import pycfile`` does not import this module.
Install the extra: ``pip install "pycfile[hypothesis]"`` (from a checkout of the
repository: ``pip install -e ".[hypothesis]"``); without hypothesis, importing this
module raises an ImportError that says so.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, List, Optional, Protocol, Tuple, Union

import attrs

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as _missing:  # only hypothesis itself: other errors are bugs
    if _missing.name != "hypothesis" and not str(_missing.name).startswith("hypothesis."):
        raise
    raise ImportError(
        "pycfile.strategies needs hypothesis, an optional dependency: "
        'pip install "pycfile[hypothesis]" (from a checkout of the repository: pip install -e ".[hypothesis]")',
        name="hypothesis",
    ) from None

from ._code import CO_FAST_CELL, CO_FAST_FREE, CO_FAST_HIDDEN, CO_FAST_LOCAL, Code, code_class, code_fields
from ._header import FLAG_CHECK_SOURCE, FLAG_HASH_BASED, PycHeader
from ._pyc import PycFile
from ._canonical import CanonicalRules, canonical_rules
from ._formats import has_refs, marshal_rules
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
from ._errors import UnknownMagicError
from ._versions import PycFormat, PythonVersion, format_for_magic, format_for_version

__all__ = [
    "ContainerStrategy",
    "ScalarStrategy",
    "VersionArg",
    "bytes_values",
    "code_objects",
    "complexes",
    "dicts",
    "floats",
    "frozendicts",
    "frozensets",
    "headers",
    "ints",
    "lists",
    "longs",
    "marshal_values",
    "pyc_files",
    "python_values",
    "released_formats",
    "sets",
    "singletons",
    "slices",
    "strs",
    "tuples",
]

#: What ``version=`` accepts.
VersionArg = Union[PythonVersion, Tuple[int, int], PycFormat, None]

_PACK_D = struct.Struct("<d")
_MIN32, _MAX32 = -(2**31), 2**31 - 1
_MIN64, _MAX64 = -(2**63), 2**63 - 1


def released_formats() -> List[PycFormat]:
    """The format each released version writes (CPython 1.0-3.15, PyPy), in version order."""
    found = []
    for implementation in ("cpython", "pypy"):
        for major in (1, 2, 3):
            for minor in range(20):
                try:
                    found.append(format_for_version(PythonVersion(major, minor, implementation)))
                except ValueError:
                    continue
    return found


def _formats(version: VersionArg, needs: str = "", code: bool = False) -> st.SearchStrategy[PycFormat]:
    """The format ``version`` names, or (``None``) any released one that has the type
    codes ``needs`` and, with ``code``, a known code layout."""

    def usable(f: PycFormat) -> bool:
        return all(c in marshal_rules(f).type_codes for c in needs) and (not code or f.code_layout is not None)

    if version is None:
        return st.sampled_from([f for f in released_formats() if usable(f)])
    fmt = version if isinstance(version, PycFormat) else format_for_version(version)
    if not usable(fmt):
        what = f"type codes {needs!r}" if needs else "a known code-object layout"
        raise ValueError(f"{fmt.version} ({fmt.label}) has no {what}")
    return st.just(fmt)




@attrs.define
class _Ctx:
    """One drawing context: the format, the flavour and the size knobs."""

    fmt: PycFormat
    canonical: bool
    max_depth: int
    max_leaves: int
    max_size: int
    leaves: int = 0

    @property
    def py3(self) -> bool:
        return self.fmt.version.major >= 3

    @property
    def codes(self) -> str:
        return "".join(sorted(marshal_rules(self.fmt).type_codes))

    @property
    def refs(self) -> bool:
        return has_refs(self.fmt)

    @property
    def cpython(self) -> bool:
        return self.fmt.version.implementation == "cpython"

    @property
    def flags_cached(self) -> bool:
        """CPython 3.4+ flags the objects its loader hands out from a cache."""
        return self.refs and self.cpython

    @property
    def rules(self) -> "CanonicalRules":
        """What the version's interpreter writes for a value it has just loaded."""
        return canonical_rules(self.fmt)

    def small_int(self, n: int) -> bool:
        """Whether the loader hands out ``n`` from its small-int cache."""
        cache = self.rules.small_ints
        return cache is not None and cache[0] <= n <= cache[1]

    def cached_bytes(self, data: bytes) -> bool:
        """Whether the loader hands out ``data`` as one shared object (``b''``; 3.14+:
        every one-byte bytes too)."""
        return (not data and bool(self.rules.empty_bytes)) or (len(data) == 1 and self.rules.one_byte)


Draw = Callable[[st.SearchStrategy[Any]], Any]


def _flag(draw: Draw, ctx: _Ctx, cached: bool = False) -> bool:
    """FLAG_REF for a fresh object: canonical as CPython sets it, else random."""
    if not ctx.refs:
        return False
    if ctx.canonical:
        return cached and ctx.flags_cached
    flag: bool = draw(st.booleans())
    return flag


# ---- leaves ------------------------------------------------------------------------


def _singleton(draw: Draw, ctx: _Ctx) -> Value:
    codes = [c for c in "NTFS." if c in ctx.codes]
    code: str = draw(st.sampled_from(codes))
    # PyPy puts a flagged singleton in its reference table (CPython does not), so only
    # CPython streams carry one
    return Singleton(code, False if ctx.canonical or not ctx.cpython else _flag(draw, ctx))


def _int(draw: Draw, ctx: _Ctx) -> Value:
    if ctx.canonical:
        low, high = ctx.rules.small_ints or (-5, 256)
        n: int = draw(st.one_of(st.integers(low, high), st.integers(_MIN32, _MAX32)))
        if not ctx.py3 and "I" in ctx.codes:
            n = draw(st.one_of(st.just(n), st.integers(_MIN64, _MAX64)))
            code = "i" if _MIN32 <= n <= _MAX32 else "I"
        else:
            code = "i"
        return Int(n, code, _flag(draw, ctx, cached=ctx.small_int(n)))
    codes = [c for c in "iI" if c in ctx.codes]
    code = draw(st.sampled_from(codes))
    lo, hi = (_MIN32, _MAX32) if code == "i" else (_MIN64, _MAX64)
    return Int(draw(st.integers(lo, hi)), code, _flag(draw, ctx))


def _long(draw: Draw, ctx: _Ctx) -> Value:
    # 2.x longs may hold any value; 3.x writes 'l' only beyond what 'i' holds.
    digits = draw(st.integers(0, max(1, ctx.max_size // 2)))
    magnitude: int = draw(st.integers(0, 2 ** (15 * digits + 1)))
    negative: bool = draw(st.booleans())
    if ctx.py3 and ctx.canonical:
        magnitude += 2**31 + negative  # 3.x writes 'l' only where 'i' cannot hold it
    value = -magnitude if negative else magnitude
    size: Optional[int] = None
    # CPython 2.7+ rejects unnormalized digit counts, and so does PyPy 3.9 (for zero)
    lenient = ctx.cpython and not marshal_rules(ctx.fmt).checks.normalized_longs
    if not ctx.canonical and lenient and draw(st.integers(0, 3)) == 0:
        canonical_size = (magnitude.bit_length() + 14) // 15
        stored = canonical_size + draw(st.integers(0, 2))
        size = -stored if negative or (value == 0 and draw(st.booleans())) else stored
        if value < 0 and size > 0 or value > 0 and size < 0:
            size = -size
        if size == (-canonical_size if value < 0 else canonical_size):
            size = None  # that is the canonical count after all
    return Long(value, "l", _flag(draw, ctx), size)


_FLOAT_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: repr(x).encode("ascii")),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: ("%.17g" % x).encode("ascii")),
    st.sampled_from([b"0", b"-0", b"1e300", b"1E-5", b"inf", b"-inf", b"nan", b"-nan", b"3.", b".5", b"+2"]),
)


def _float_raw(draw: Draw, ctx: _Ctx) -> bytes:
    if ctx.canonical:
        x: float = draw(st.floats(allow_nan=True, allow_infinity=True))
        return _PACK_D.pack(x)
    raw: bytes = draw(
        st.one_of(
            st.floats().map(_PACK_D.pack),
            st.binary(min_size=8, max_size=8),  # NaN payloads, signalling NaNs, -0.0...
            st.integers(0, 2**52 - 1).map(lambda m: (0x7FF << 52 | m | 1).to_bytes(8, "little")),
        )
    )
    return raw


def _canonical_float_code(ctx: _Ctx) -> str:
    return "g" if ctx.rules.binary_floats else "f"


def _float(draw: Draw, ctx: _Ctx) -> Value:
    if ctx.canonical:
        if _canonical_float_code(ctx) == "g":
            return Float(_float_raw(draw, ctx), "g", _flag(draw, ctx))
        x: float = draw(st.floats(allow_nan=False, allow_infinity=False))
        return Float(_float_text(x, ctx), "f", False)
    code: str = draw(st.sampled_from([c for c in "gf" if c in ctx.codes]))
    if code == "g":
        return Float(_float_raw(draw, ctx), "g", _flag(draw, ctx))
    return Float(draw(_FLOAT_TEXT), "f", _flag(draw, ctx))


def _float_text(x: float, ctx: _Ctx) -> bytes:
    text = ctx.rules.float_text % x
    if text.lstrip("-").isdigit():
        text += ".0"
    return text.encode("ascii")


def _complex(draw: Draw, ctx: _Ctx) -> Value:
    binary = "y" in ctx.codes and (_canonical_float_code(ctx) == "g" if ctx.canonical else draw(st.booleans()))
    if binary:
        return Complex(_float_raw(draw, ctx), _float_raw(draw, ctx), "y", _flag(draw, ctx))
    if ctx.canonical:
        xs = st.floats(allow_nan=False, allow_infinity=False)
        return Complex(_float_text(draw(xs), ctx), _float_text(draw(xs), ctx), "x", False)
    return Complex(draw(_FLOAT_TEXT), draw(_FLOAT_TEXT), "x", _flag(draw, ctx))


def _bytes(draw: Draw, ctx: _Ctx) -> Value:
    if ctx.canonical:
        # 2.x: a 0- or 1-character str may come back interned (the interpreter's own
        # cache), so canonical 2.x strings have at least 2 bytes.
        low = 0 if ctx.py3 else 2
        data: bytes = draw(st.binary(min_size=low, max_size=max(low, ctx.max_size)))
        return Bytes(data, "s", _flag(draw, ctx, cached=ctx.cached_bytes(data)))
    data = draw(st.binary(max_size=ctx.max_size))
    code = "t" if not ctx.py3 and "t" in ctx.codes and draw(st.booleans()) else "s"
    return Bytes(data, code, _flag(draw, ctx) if code == "s" else False)


def _text(draw: Draw, ctx: _Ctx, surrogates: bool) -> str:
    alphabet = st.characters() if surrogates else st.characters(blacklist_categories=["Cs"])
    kind: int = draw(st.integers(0, 2))
    if kind == 0:
        ascii_text: str = draw(st.text(st.characters(max_codepoint=127), max_size=ctx.max_size))
        return ascii_text
    if kind == 1:
        latin: str = draw(st.text(st.characters(max_codepoint=255), max_size=ctx.max_size))
        return latin
    text: str = draw(st.text(alphabet, max_size=ctx.max_size))
    return text


def _str(draw: Draw, ctx: _Ctx) -> Value:
    if "u" not in ctx.codes:  # before 1.6 there is no unicode: strings are bytes
        return _bytes(draw, ctx)
    if ctx.canonical:
        text = _text(draw, ctx, surrogates=False)
        one_latin1 = len(text) == 1 and ord(text) < 256
        if one_latin1 and ctx.flags_cached and ctx.rules.one_char_str == "cached":
            text += "_"  # whether 3.4-3.12 interned that character depends on the process
        interned = ctx.flags_cached and (
            (text == "" and ctx.rules.empty_str) or (one_latin1 and ctx.rules.one_char_str == "interned")
        )
        if ctx.rules.ascii_codes and text.isascii():
            code = "z" if len(text) < 256 else "a"
            code = code.upper() if interned else code
        else:
            code = "t" if interned else "u"
        return Str(text, code, _flag(draw, ctx, cached=interned))
    text = _text(draw, ctx, surrogates=True)
    # the short codes hold Latin-1 in CPython, ASCII only in PyPy ("string is not ascii")
    top = 256 if ctx.cpython else 128
    codes = [c for c in "utaAzZ" if c in ctx.codes and (c in "ut" or all(ord(ch) < top for ch in text))]
    if not ctx.py3:
        codes = ["u"]
    code = draw(st.sampled_from(codes))
    if code in "zZ" and len(text) > 255:
        text = text[:255]
    return Str(text, code, _flag(draw, ctx))


def _hashable_leaf(draw: Draw, ctx: _Ctx) -> Value:
    """A leaf whose Python equality agrees with its description in every version."""
    if not ctx.py3:
        kind = draw(st.sampled_from(["str", "int"] if "u" in ctx.codes else ["int"]))
    else:
        kind = draw(st.sampled_from(["str", "int", "bytes"]))
    ctx.leaves += 1
    if kind == "str":
        return _str(draw, ctx)
    if kind == "bytes":
        return _bytes(draw, ctx)
    return _int(draw, ctx)


_LEAF_KINDS: List[Tuple[str, Callable[[Draw, _Ctx], Value]]] = [
    ("singleton", _singleton),
    ("int", _int),
    ("long", _long),
    ("float", _float),
    ("complex", _complex),
    ("bytes", _bytes),
    ("str", _str),
]


def _leaf(draw: Draw, ctx: _Ctx) -> Value:
    ctx.leaves += 1
    kinds = [f for name, f in _LEAF_KINDS if name != "complex" or "x" in ctx.codes or "y" in ctx.codes]
    f = draw(st.sampled_from(kinds))
    value: Value = f(draw, ctx)
    return value


# ---- containers ----------------------------------------------------------------------


def _count(draw: Draw, ctx: _Ctx) -> int:
    room = max(0, ctx.max_leaves - ctx.leaves)
    n: int = draw(st.integers(0, min(room, 6)))
    return n


def _some(n: int, ctx: _Ctx, item: Callable[[], Value]) -> List[Value]:
    """Up to ``n`` items, fewer when the leaf budget runs out."""
    items: List[Value] = []
    while len(items) < n and ctx.leaves < ctx.max_leaves:
        items.append(item())
    return items


def _tuple_code(draw: Draw, ctx: _Ctx, n: int) -> str:
    small = ")" in ctx.codes and n < 256
    if ctx.canonical:
        return ")" if small and ctx.rules.ascii_codes else "("
    return ")" if small and draw(st.booleans()) else "("


def _set_order(ctx: _Ctx, items: List[Value]) -> List[Value]:
    """Canonical set items: where the writer holds a second reference to each item while
    it writes it (``set_items_flagged``), each one gets FLAG_REF; 3.11+ sorts them by
    their marshal bytes (bpo-37596)."""
    if ctx.canonical and ctx.flags_cached and ctx.rules.set_items_flagged:
        for item in items:
            if not isinstance(item, Singleton):
                item.flag_ref = True
        if ctx.rules.sorted_sets:
            from ._writer import write_value

            return sorted(items, key=lambda item: write_value(item, ctx.fmt))
    return items


def _unique(items: List[Value], ctx: _Ctx) -> List[Value]:
    """Drop items the interpreter would find equal (canonical sets and dict keys)."""
    seen = set()
    out = []
    for item in items:
        key = _equality_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _equality_key(value: Value) -> Any:
    if isinstance(value, (Int, Long)):
        return ("int", value.value)
    if isinstance(value, Str):
        return ("str", value.value)
    if isinstance(value, Bytes):
        return ("bytes", value.value)
    if isinstance(value, TupleValue):
        return ("tuple", tuple(_equality_key(i) for i in value.items))
    if isinstance(value, FrozenSetValue):
        return ("frozenset", frozenset(_equality_key(i) for i in value.items))
    return ("id", id(value))


def _hashable(draw: Draw, ctx: _Ctx, depth: int) -> Value:
    if depth >= ctx.max_depth or ctx.leaves >= ctx.max_leaves or draw(st.integers(0, 3)) > 0:
        return _hashable_leaf(draw, ctx)
    n = _count(draw, ctx)
    items = _some(n, ctx, lambda: _hashable(draw, ctx, depth + 1))
    if draw(st.booleans()) or ">" not in ctx.codes:
        return TupleValue(items, _tuple_code(draw, ctx, n), _flag(draw, ctx, cached=n == 0))
    return _frozenset_of(draw, ctx, items)


def _frozenset_of(draw: Draw, ctx: _Ctx, items: List[Value]) -> Value:
    if ctx.canonical:
        items = _set_order(ctx, _unique(items, ctx)[:1])
        cached = not items and ctx.rules.empty_frozenset  # a shared singleton (3.4-3.9)
        return FrozenSetValue(items, ">", _flag(draw, ctx, cached=cached))
    return FrozenSetValue(items, ">", _flag(draw, ctx))


def _node(draw: Draw, ctx: _Ctx, depth: int) -> Value:
    if depth >= ctx.max_depth or ctx.leaves >= ctx.max_leaves or draw(st.integers(0, 2)) == 0:
        return _leaf(draw, ctx)
    kinds = ["tuple", "list", "dict"]
    if "<" in ctx.codes:
        kinds += ["set", "frozenset"]
    if ":" in ctx.codes:
        kinds.append("slice")
    if "}" in ctx.codes:
        kinds.append("frozendict")
    kind = draw(st.sampled_from(kinds))
    return _container(draw, ctx, depth, kind)


def _container(draw: Draw, ctx: _Ctx, depth: int, kind: str) -> Value:
    n = _count(draw, ctx)
    if kind in ("tuple", "list"):
        items = _some(n, ctx, lambda: _node(draw, ctx, depth + 1))
        if kind == "tuple":
            return TupleValue(items, _tuple_code(draw, ctx, n), _flag(draw, ctx, cached=n == 0))
        return ListValue(items, "[", _flag(draw, ctx))
    if kind in ("set", "frozenset"):
        items = _some(n, ctx, lambda: _hashable(draw, ctx, depth + 1))
        if kind == "frozenset":
            return _frozenset_of(draw, ctx, items)
        if ctx.canonical:
            items = _set_order(ctx, _unique(items, ctx)[:1])
        return SetValue(items, "<", _flag(draw, ctx))
    if kind in ("dict", "frozendict"):
        keys = _some(n, ctx, lambda: _hashable(draw, ctx, depth + 1))
        if ctx.canonical:
            keys = _unique(keys, ctx)
            if not ctx.rules.ordered_dicts or not ctx.cpython:
                keys = keys[:1]  # hash order: one key keeps the bytes stable
        pairs = [(k, _node(draw, ctx, depth + 1)) for k in keys]
        if kind == "dict":
            return DictValue(pairs, "{", _flag(draw, ctx))
        return FrozenDict(pairs, "}", _flag(draw, ctx))
    # slice
    parts = [_node(draw, ctx, depth + 1) for _ in range(3)]
    return Slice(parts[0], parts[1], parts[2], ":", _flag(draw, ctx))


# ---- sharing (the "anything" flavour) -----------------------------------------------------

_SELF_OK = (TupleValue, ListValue, DictValue, SetValue)  # registered before their items are read


def _positions(root: Value) -> List[Tuple[Any, Any, Value, bool, bool, Tuple[int, ...]]]:
    """(parent, slot, node, hashable position, locked, ancestors' ids) in write order;
    a locked position is a code-object field (or inside one, constants aside), whose
    type the code constructor checks."""
    out: List[Tuple[Any, Any, Value, bool, bool, Tuple[int, ...]]] = []
    seen = set()

    def visit(parent: Any, slot: Any, node: Value, hashable: bool, locked: bool, ancestors: Tuple[int, ...]) -> None:
        out.append((parent, slot, node, hashable, locked, ancestors))
        if id(node) in seen:
            return
        seen.add(id(node))
        inner = ancestors + (id(node),)
        if isinstance(node, (TupleValue, ListValue, SetValue, FrozenSetValue)):
            hashed = hashable or isinstance(node, (SetValue, FrozenSetValue))
            for i, item in enumerate(node.items):
                visit(node, i, item, hashed, locked, inner)
        elif isinstance(node, (DictValue, FrozenDict)):
            for i, (k, v) in enumerate(node.items):
                visit(node, (i, 0), k, True, locked, inner)
                visit(node, (i, 1), v, hashable, locked, inner)
        elif isinstance(node, Slice):
            for name in ("start", "stop", "step"):
                visit(node, name, getattr(node, name), hashable, locked, inner)
        elif isinstance(node, Code):
            for name, is_int in code_fields(type(node)):
                if not is_int:
                    field = getattr(node, name)
                    if name == "co_consts" and isinstance(field, TupleValue):
                        out.append((node, name, field, True, True, inner))
                        seen.add(id(field))
                        for i, item in enumerate(field.items):
                            visit(field, i, item, True, False, inner + (id(field),))
                    else:
                        visit(node, name, field, True, True, inner)

    visit(None, None, root, False, False, ())
    return out


def _put(parent: Any, slot: Any, value: Value) -> None:
    if isinstance(slot, tuple):
        i, part = slot
        pair = list(parent.items[i])
        pair[part] = value
        parent.items[i] = (pair[0], pair[1])
    elif isinstance(slot, int):
        parent.items[slot] = value
    else:
        setattr(parent, slot, value)


def _share(draw: Draw, ctx: _Ctx, root: Value) -> Value:
    """Turn some later positions into references to earlier objects (3.4+), or 2.x
    interned strings into string references: flagged objects met again are written as
    references, so sharing in the model is sharing in the stream."""
    if ctx.canonical:
        return _canonical_share(ctx, root)
    times: int = draw(st.integers(0, 3))
    for _ in range(times):
        spots = _positions(root)
        if len(spots) < 2:
            break
        j: int = draw(st.integers(1, len(spots) - 1))
        parent, slot, _, hashable, locked, ancestors = spots[j]
        if locked:
            continue
        target = spots[draw(st.integers(0, j - 1))][2]
        if ctx.refs:
            if isinstance(target, (Singleton, Code)):
                continue
            if hashable and not isinstance(target, (Int, Str, Bytes)):
                continue
            # a frozenset, slice or code object's slot is reserved while it is read (and
            # PyPy reserves a tuple's too: "invalid reference")
            if id(target) in ancestors and not isinstance(target, _SELF_OK if ctx.cpython else _SELF_OK[1:]):
                continue
            target.flag_ref = True
            _put(parent, slot, target)
        elif isinstance(target, Bytes) and target.code == "t" and "R" in ctx.codes and not hashable:
            _put(parent, slot, target)
    return root


def _cache_key(ctx: _Ctx, node: Value) -> Any:
    """What makes the interpreter's loader hand out one shared object for equal values:
    its small-int, empty and one-character caches, and interning."""
    if isinstance(node, Int) and ctx.small_int(node.value):
        return ("int", node.value)
    if isinstance(node, Str) and (node.code in "tAZ" or not node.value):
        return ("str", node.value)
    if isinstance(node, Bytes) and (not node.value or (len(node.value) == 1 and ctx.rules.one_byte)):
        return ("bytes", node.value)
    if isinstance(node, TupleValue) and not node.items:
        return ("tuple",)
    if isinstance(node, FrozenSetValue) and not node.items and ctx.rules.empty_frozenset:
        return ("frozenset",)
    return None


def _canonical_share(ctx: _Ctx, root: Value) -> Value:
    """Make equal cached values one object (CPython writes the repeats as references),
    and flag the root (the caller holds a second reference to it while it is written)."""
    if not ctx.flags_cached:
        return root
    first: dict[Any, Value] = {}
    for parent, slot, node, _, _, _ in _positions(root):
        key = _cache_key(ctx, node)
        if key is None or isinstance(node, Singleton):
            continue
        if key not in first:
            first[key] = node
            node.flag_ref = True
        elif first[key] is not node and parent is not None:
            _put(parent, slot, first[key])
    if not isinstance(root, Singleton):
        root.flag_ref = True
    return root


# ---- the composite strategies (decorated once: decorating is the slow part) -----------------


@st.composite
def _scalar_values(draw: Draw, formats: st.SearchStrategy[PycFormat], kind: Callable[[Draw, _Ctx], Value], canonical: bool, max_size: int) -> Value:
    return kind(draw, _ctx(formats, draw, canonical, 1, 1, max_size))


@st.composite
def _container_values(
    draw: Draw, formats: st.SearchStrategy[PycFormat], kind: str, canonical: bool, max_depth: int, max_leaves: int, max_size: int
) -> Value:
    ctx = _ctx(formats, draw, canonical, max_depth, max_leaves, max_size)
    return _share(draw, ctx, _container(draw, ctx, 1, kind))


@st.composite
def _any_values(
    draw: Draw, formats: st.SearchStrategy[PycFormat], canonical: bool, max_depth: int, max_leaves: int, max_size: int, code: bool
) -> Value:
    ctx = _ctx(formats, draw, canonical, max_depth, max_leaves, max_size)
    if code and ctx.fmt.code_layout is not None and draw(st.integers(0, 3)) == 0:
        return _share(draw, ctx, _code(draw, ctx, 1))
    return _share(draw, ctx, _node(draw, ctx, 1))


@st.composite
def _code_values(draw: Draw, formats: st.SearchStrategy[PycFormat], canonical: bool, max_depth: int, max_leaves: int, max_size: int) -> Value:
    ctx = _ctx(formats, draw, canonical, max_depth, max_leaves, max_size)
    return _share(draw, ctx, _code(draw, ctx, 1))


@st.composite
def _header_values(draw: Draw, formats: st.SearchStrategy[PycFormat], canonical: bool) -> PycHeader:
    fmt: PycFormat = draw(formats)
    return _header(draw, fmt, canonical)


def _header(draw: Draw, fmt: PycFormat, canonical: bool) -> PycHeader:
    try:  # the row a reader finds for the magic (1.2 writes 1.1's magic, and reads as 1.1)
        fmt = format_for_magic(fmt.magic)
    except UnknownMagicError:
        pass  # a registered or made-up format: keep it
    size = fmt.header_size
    if size == 8:
        return PycHeader(fmt.magic, fmt, mtime=draw(_U32))
    if size == 12:
        return PycHeader(fmt.magic, fmt, mtime=draw(_U32), source_size=draw(_U32))
    flags: int = draw(st.sampled_from([0, FLAG_HASH_BASED, FLAG_HASH_BASED | FLAG_CHECK_SOURCE]) if canonical else _U32)
    if flags & FLAG_HASH_BASED:
        return PycHeader(fmt.magic, fmt, flags=flags, source_hash=draw(st.binary(min_size=8, max_size=8)))
    return PycHeader(fmt.magic, fmt, flags=flags, mtime=draw(_U32), source_size=draw(_U32))


@st.composite
def _pyc_values(draw: Draw, formats: st.SearchStrategy[PycFormat], canonical: bool, max_depth: int, max_leaves: int, max_size: int) -> PycFile:
    ctx = _ctx(formats, draw, canonical, max_depth, max_leaves, max_size)
    header = _header(draw, ctx.fmt, canonical)
    code = _share(draw, ctx, _code(draw, ctx, 1))
    trailer: bytes = b"" if canonical else draw(st.one_of(st.just(b""), st.binary(max_size=8)))
    return PycFile(header, code, trailer)


_U32 = st.integers(0, 2**32 - 1)


# ---- public value strategies -----------------------------------------------------------


def _ctx(formats: st.SearchStrategy[PycFormat], draw: Draw, canonical: bool, max_depth: int, max_leaves: int, max_size: int) -> _Ctx:
    fmt: PycFormat = draw(formats)
    return _Ctx(fmt, canonical, max_depth, max_leaves, max_size)


class ScalarStrategy(Protocol):
    """The signature of the per-kind scalar strategies (:func:`ints`, :func:`strs`...)."""

    def __call__(self, version: VersionArg = None, *, canonical: bool = False, max_size: int = 16) -> st.SearchStrategy[Value]:
        ...


class ContainerStrategy(Protocol):
    """The signature of the per-kind container strategies (:func:`tuples`, :func:`dicts`...)."""

    def __call__(
        self,
        version: VersionArg = None,
        *,
        canonical: bool = False,
        max_depth: int = 3,
        max_leaves: int = 12,
        max_size: int = 16,
    ) -> st.SearchStrategy[Value]:
        ...


def _kind_strategy(kind: Callable[[Draw, _Ctx], Value], doc: str, needs: str = "") -> ScalarStrategy:
    def strategy(
        version: VersionArg = None, *, canonical: bool = False, max_size: int = 16
    ) -> st.SearchStrategy[Value]:
        return _scalar_values(_formats(version, needs), kind, canonical, max_size)

    strategy.__doc__ = doc + "\n\n``max_size`` bounds the length of strings, bytes and long digits."
    return strategy


singletons = _kind_strategy(_singleton, "None, True, False, StopIteration or Ellipsis (the version's codes).")
ints = _kind_strategy(_int, "A :class:`~pycfile.Int` (``i``, and ``I`` where the version has it).")
longs = _kind_strategy(_long, "A :class:`~pycfile.Long` (with non-minimal digit counts where the version's reader accepts them).")
floats = _kind_strategy(_float, "A :class:`~pycfile.Float`: 8 raw bytes (NaN payloads too) or text.")
complexes = _kind_strategy(_complex, "A :class:`~pycfile.Complex`: raw 8-byte parts or text (1.4+).", "x")
bytes_values = _kind_strategy(_bytes, "A :class:`~pycfile.Bytes` (3.x bytes, 2.x str; ``t`` interned in 2.4-2.7).")
strs = _kind_strategy(_str, "A :class:`~pycfile.Str` (1.6+; lone surrogates in the anything flavour).", "u")


_NEEDS = {"set": "<", "frozenset": ">", "slice": ":", "frozendict": "}"}


def _container_strategy(kind: str, doc: str) -> ContainerStrategy:
    def strategy(
        version: VersionArg = None,
        *,
        canonical: bool = False,
        max_depth: int = 3,
        max_leaves: int = 12,
        max_size: int = 16,
    ) -> st.SearchStrategy[Value]:
        return _container_values(_formats(version, _NEEDS.get(kind, "")), kind, canonical, max_depth, max_leaves, max_size)

    strategy.__doc__ = doc + "\n\n``max_depth`` bounds the nesting, ``max_leaves`` the number of leaves, ``max_size`` strings and bytes."
    return strategy


tuples = _container_strategy("tuple", "A :class:`~pycfile.TupleValue` of marshal values.")
lists = _container_strategy("list", "A :class:`~pycfile.ListValue` of marshal values.")
dicts = _container_strategy("dict", "A :class:`~pycfile.DictValue` (hashable keys).")
sets = _container_strategy("set", "A :class:`~pycfile.SetValue` (2.5+; hashable items).")
frozensets = _container_strategy("frozenset", "A :class:`~pycfile.FrozenSetValue` (2.5+; hashable items).")
slices = _container_strategy("slice", "A :class:`~pycfile.Slice` (3.14+ only).")
frozendicts = _container_strategy("frozendict", "A :class:`~pycfile.FrozenDict` (3.15+ only).")

for _name_, _strategy_ in [
    ("singletons", singletons),
    ("ints", ints),
    ("longs", longs),
    ("floats", floats),
    ("complexes", complexes),
    ("bytes_values", bytes_values),
    ("strs", strs),
    ("tuples", tuples),
    ("lists", lists),
    ("dicts", dicts),
    ("sets", sets),
    ("frozensets", frozensets),
    ("slices", slices),
    ("frozendicts", frozendicts),
]:
    setattr(_strategy_, "__name__", _name_)  # for the API reference
    setattr(_strategy_, "__qualname__", _name_)



def marshal_values(
    version: VersionArg = None,
    *,
    canonical: bool = False,
    max_depth: int = 3,
    max_leaves: int = 12,
    max_size: int = 16,
    code: bool = False,
) -> st.SearchStrategy[Value]:
    """Any marshal value of ``version``: scalars, strings, containers (nested up to
    ``max_depth``, at most about ``max_leaves`` leaves), and code objects when
    ``code=True``.  ``max_size`` bounds string, bytes and long-digit lengths."""

    return _any_values(_formats(version), canonical, max_depth, max_leaves, max_size, code)


# ---- code objects --------------------------------------------------------------------------------

_NAME = st.sampled_from(
    "a b c x y f g i n s self cls args kwargs value result data _ __init__ __name__ "
    "<module> <lambda> <listcomp> Spam spam_eggs x1 longer_name_here".split()
)
CO_VARARGS, CO_VARKEYWORDS = 0x4, 0x8


def _name(draw: Draw, ctx: _Ctx, text: Optional[str] = None) -> Value:
    """A name: a 2.x str, else a str with the codes the version's compiler uses."""
    name: str = text if text is not None else draw(_NAME)
    if not ctx.py3:
        if ctx.canonical or "t" not in ctx.codes:
            return Bytes(name.encode("ascii"), "t" if "t" in ctx.codes else "s")
        return Bytes(name.encode("ascii"), draw(st.sampled_from(["s", "t"])))
    if ctx.fmt.marshal_version >= 4:
        code = "Z" if ctx.canonical else draw(st.sampled_from(["Z", "z", "A", "a", "t", "u"]))
    elif ctx.fmt.marshal_version == 3:
        code = "t" if ctx.canonical else draw(st.sampled_from(["t", "u"]))
    else:
        code = "u"
    return Str(name, code, _flag(draw, ctx, cached=True) if ctx.canonical else _flag(draw, ctx))


def _names(draw: Draw, ctx: _Ctx, n: int) -> Value:
    items = [_name(draw, ctx) for _ in range(n)]
    return TupleValue(items, _tuple_code(draw, ctx, n), _flag(draw, ctx, cached=n == 0))


def _blob(draw: Draw, ctx: _Ctx, data: bytes) -> Value:
    return Bytes(data, "s", _flag(draw, ctx, cached=ctx.cached_bytes(data)))


def _bytecode(draw: Draw, ctx: _Ctx) -> bytes:
    units: int = draw(st.integers(0, 8))
    if ctx.rules.checks_bytecode:
        # the code constructor walks the instructions (caches after an instruction):
        # keep to CACHE/NOP-like opcode 0 so every build is safe.
        return b"\x00\x00" * units
    data: bytes = draw(st.binary(min_size=2 * units, max_size=2 * units))
    return data


def _code(draw: Draw, ctx: _Ctx, depth: int) -> Value:
    """A code object of the format's layout that its interpreter accepts."""
    layout = ctx.fmt.code_layout
    if layout is None:
        raise ValueError(f"the code-object layout of {ctx.fmt.label} is not known")
    cls = code_class(layout)
    int_max = 0x7FFF if cls.int_size == 2 else 0x7FFFFFFF
    argcount: int = draw(st.integers(0, 3))
    posonly: int = draw(st.integers(0, argcount))
    kwonly: int = draw(st.integers(0, 2))
    flags: int = draw(st.sampled_from([0, 0x3, 0x43, 0x47, 0x4B, 0x4F, 0x63, 0x20, 0x1000]))
    if not ctx.py3 and flags & 0x1000:
        flags &= ~0x1000
    ncell: int = draw(st.integers(0, 2))
    nfree: int = draw(st.integers(0, 2))
    if ctx.rules.co_nofree:  # 0x40 is CO_NOFREE, which the code constructor sets itself
        flags = flags & ~0x40 | (0x40 if ncell == nfree == 0 and ctx.rules.co_nofree == "constructor" else 0)
    total = argcount + kwonly + bool(flags & CO_VARARGS) + bool(flags & CO_VARKEYWORDS)
    extra: int = draw(st.integers(0, 3))
    varnames = [f"v{i}" for i in range(total + extra)]
    cellvars = [f"c{i}" for i in range(ncell)]
    freevars = [f"f{i}" for i in range(nfree)]
    consts: List[Value] = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < ctx.max_depth and ctx.leaves < ctx.max_leaves and draw(st.integers(0, 4)) == 0:
            consts.append(_code(draw, ctx, depth + 1))
        else:
            consts.append(_node(draw, ctx, depth + 1))
    nconst = len(consts)
    values: dict[str, Any] = {
        "co_argcount": argcount,
        "co_posonlyargcount": posonly,
        "co_kwonlyargcount": kwonly,
        "co_nlocals": len(varnames),
        "co_stacksize": draw(st.integers(ctx.rules.min_stacksize, min(int_max, 1000))),
        "co_flags": flags,
        "co_code": _blob(draw, ctx, _bytecode(draw, ctx)),
        "co_consts": TupleValue(consts, _tuple_code(draw, ctx, nconst), _flag(draw, ctx, cached=nconst == 0)),
        "co_names": _names(draw, ctx, draw(st.integers(0, 3))),
        "co_varnames": TupleValue([_name(draw, ctx, n) for n in varnames], _tuple_code(draw, ctx, len(varnames)), _flag(draw, ctx, cached=not varnames)),
        "co_freevars": TupleValue([_name(draw, ctx, n) for n in freevars], _tuple_code(draw, ctx, nfree), _flag(draw, ctx, cached=not freevars)),
        "co_cellvars": TupleValue([_name(draw, ctx, n) for n in cellvars], _tuple_code(draw, ctx, ncell), _flag(draw, ctx, cached=not cellvars)),
        "co_filename": _name(draw, ctx, draw(_NAME) + ".py") if not ctx.canonical or ctx.py3 else Bytes((draw(_NAME) + ".py").encode(), "s"),
        "co_name": _name(draw, ctx),
        "co_qualname": _name(draw, ctx),
        "co_firstlineno": draw(st.integers(0, min(int_max, 100000))),
        "co_lnotab": _blob(draw, ctx, draw(st.binary(max_size=ctx.max_size))),
        "co_linetable": _blob(draw, ctx, draw(st.binary(max_size=ctx.max_size))),
        "co_endlinetable": _blob(draw, ctx, draw(st.binary(max_size=ctx.max_size))),
        "co_columntable": _blob(draw, ctx, draw(st.binary(max_size=ctx.max_size))),
        "co_exceptiontable": _blob(draw, ctx, b"" if ctx.canonical else draw(st.binary(max_size=ctx.max_size))),
    }
    if any(name == "co_localsplusnames" for name, _ in code_fields(cls)):
        names = varnames + cellvars + freevars
        kinds = [CO_FAST_LOCAL] * len(varnames) + [CO_FAST_CELL] * ncell + [CO_FAST_FREE] * nfree
        if ctx.rules.hidden_locals and extra and draw(st.booleans()):
            kinds[-1 - ncell - nfree] |= CO_FAST_HIDDEN
        n = len(names)
        values["co_localsplusnames"] = TupleValue([_name(draw, ctx, x) for x in names], _tuple_code(draw, ctx, n), _flag(draw, ctx, cached=n == 0))
        values["co_localspluskinds"] = _blob(draw, ctx, bytes(kinds))
    args = {name: values[name] for name, _ in code_fields(cls)}
    make: Any = cls  # the layout's class: its fields are exactly ``args``
    code: Value = make(**args, flag_ref=_flag(draw, ctx))
    return code


def code_objects(
    version: VersionArg = None,
    *,
    canonical: bool = False,
    max_depth: int = 2,
    max_leaves: int = 12,
    max_size: int = 16,
) -> st.SearchStrategy[Value]:
    """A code object of ``version``'s layout (``Code10`` ... ``Code311``) whose fields
    the interpreter of that version accepts: the right field types, enough varnames for
    the argument counts, consistent 3.11+ localsplus names and kinds.  Constants are
    marshal values and, up to ``max_depth``, nested code objects."""

    return _code_values(_formats(version, code=True), canonical, max_depth, max_leaves, max_size)


# ---- headers and pyc files ---------------------------------------------------------------


def headers(version: VersionArg = None, *, canonical: bool = False) -> st.SearchStrategy[PycHeader]:
    """A :class:`~pycfile.PycHeader` of the version's era: 8 bytes (mtime), 12 bytes
    (mtime, source size) or 16 bytes (3.7+: flags word, then mtime and source size or an
    8-byte source hash).  Canonical flags words are 0, 1 and 3; otherwise any 32 bits."""
    return _header_values(_formats(version), canonical)


def pyc_files(
    version: VersionArg = None,
    *,
    canonical: bool = False,
    max_depth: int = 2,
    max_leaves: int = 12,
    max_size: int = 16,
) -> st.SearchStrategy[PycFile]:
    """A whole :class:`~pycfile.PycFile`: a header of the version's era, a module code
    object (see :func:`code_objects`) and, in the anything flavour, trailing bytes."""
    return _pyc_values(_formats(version, code=True), canonical, max_depth, max_leaves, max_size)


# ---- plain Python values ---------------------------------------------------------------------

_HOST_FROZENDICT: Optional[type] = getattr(__import__("builtins"), "frozendict", None)
_EDGE_INTS = [-(2**63) - 1, -(2**63), -(2**31) - 1, -(2**31), -6, -5, 0, 1, 256, 257, 1024, 1025, 2**31 - 1, 2**31, 2**63 - 1, 2**63]


@st.composite
def _plain_values(draw: Draw, formats: st.SearchStrategy[PycFormat], max_depth: int, max_leaves: int, max_size: int) -> Any:
    from ._canonical import canonical_rules

    fmt: PycFormat = draw(formats)
    rules = canonical_rules(fmt)
    codes = "".join(sorted(marshal_rules(fmt).type_codes))
    leaves = [0]
    text_alphabet = st.characters(blacklist_categories=())

    def text() -> str:
        value: str = draw(st.text(text_alphabet, max_size=max_size))
        if len(value) == 1 and ord(value) < 256 and rules.one_char_str == "cached":
            value += "\u0100"  # whether the interpreter interned that character is its history
        return value

    def number() -> Any:
        kind = draw(st.sampled_from(["small", "edge", "int", "big", "float"] + (["complex"] if "x" in codes or "y" in codes else [])))
        if kind == "small":
            return draw(st.integers(-8, 1030))
        if kind == "edge":
            return draw(st.sampled_from(_EDGE_INTS))
        if kind == "int":
            return draw(st.integers(-(2**64), 2**64))
        if kind == "big":
            return draw(st.integers(-(2 ** (15 * max_size)), 2 ** (15 * max_size)))
        if kind == "float":
            return draw(st.floats())
        return complex(draw(st.floats()), draw(st.floats()))

    def key() -> Any:
        """A set item or dict key: hashable, and equal in the interpreter exactly when
        equal here (2.x compares 8-bit and unicode strings, so 2.x keys are text and ints)."""
        leaves[0] += 1
        kind = draw(st.sampled_from(["str", "int", "bytes"] if rules.py3 else ["str", "int"]))
        if kind == "str":
            return text()
        if kind == "bytes":
            return draw(st.binary(max_size=max_size))
        return draw(st.integers(-(2**40), 2**40))

    def hashable(depth: int) -> Any:
        if depth >= max_depth or leaves[0] >= max_leaves or draw(st.integers(0, 3)) > 0:
            return key()
        items = [hashable(depth + 1) for _ in range(count())]
        if "<" in codes and draw(st.booleans()):
            return frozenset(items[: None if rules.sorted_sets else 1])
        return tuple(items)

    def count() -> int:
        n: int = draw(st.integers(0, max(0, min(5, max_leaves - leaves[0]))))
        return n

    def leaf() -> Any:
        leaves[0] += 1
        kind = draw(st.sampled_from(["singleton", "number", "str", "bytes"]))
        if kind == "singleton":
            return draw(st.sampled_from([None, True, False, Ellipsis] + ([StopIteration] if "S" in codes else [])))
        if kind == "number":
            return number()
        if kind == "str":
            return text() if "u" in codes else draw(st.binary(max_size=max_size))
        return draw(st.binary(max_size=max_size))

    def node(depth: int) -> Any:
        if depth >= max_depth or leaves[0] >= max_leaves or draw(st.integers(0, 2)) == 0:
            return leaf()
        kinds = ["tuple", "list", "dict"] + (["set", "frozenset"] if "<" in codes else [])
        kinds += ["slice"] if ":" in codes else []
        kinds += ["frozendict"] if "}" in codes and _HOST_FROZENDICT is not None else []
        kind = draw(st.sampled_from(kinds))
        if kind in ("tuple", "list"):
            items = [node(depth + 1) for _ in range(count())]
            return tuple(items) if kind == "tuple" else items
        if kind in ("set", "frozenset"):
            members = [hashable(depth + 1) for _ in range(count())]
            if not rules.sorted_sets:  # hash order: the interpreter's order is its own
                members = members[:1]
            return set(members) if kind == "set" else frozenset(members)
        if kind == "slice":
            return slice(node(depth + 1), node(depth + 1), node(depth + 1))
        pairs = [(hashable(depth + 1), node(depth + 1)) for _ in range(count())]
        if not rules.ordered_dicts:
            pairs = pairs[:1]
        if kind == "dict":
            return dict(pairs)
        assert _HOST_FROZENDICT is not None
        return _HOST_FROZENDICT(pairs)

    return node(1)


def python_values(
    version: VersionArg = None,
    *,
    max_depth: int = 3,
    max_leaves: int = 12,
    max_size: int = 16,
) -> st.SearchStrategy[Any]:
    """Plain Python values ``version``'s marshal can write: None, bools, Ellipsis,
    StopIteration, ints of every size, floats (NaN and infinities too), complex numbers,
    str (lone surrogates too), bytes, and tuples, lists, dicts, sets, frozensets, slices
    (3.14+) and frozendicts (3.15+, on a host that has them) of those, each object fresh
    (nothing shared), for testing :func:`pycfile.from_python` against the interpreter.

    Left out, because the interpreter's bytes for them depend on its run-time state
    (docs/canonical.md): one-character Latin-1 strings in 3.4-3.12 (interned or not by
    the process's history), sets of more than one item where sets are written in hash
    order (before 3.11), and dicts of more than one key where dicts are unordered
    (before 3.6).  Set items and dict keys are strings, ints, bytes (3.x) and tuples and
    frozensets of those."""
    return _plain_values(_formats(version), max_depth, max_leaves, max_size)
