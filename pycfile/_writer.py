"""The marshal writer: the typed model back into bytes of its version.

It mirrors :mod:`pycfile._reader`: one ``write_<handler>`` function per handler name of
:mod:`pycfile._formats`, in the reader's order, and one loop (:func:`_run`) with its own
stack that writes every container's items -- so nesting costs no Python recursion.
Nothing is re-derived: each value is written with its own type code and FLAG_REF bit,
reference indices are recomputed as the pre-order position among flagged objects, and an
object met a second time (by identity) is written as a reference -- ``r`` in 3.4+, ``R``
for 2.x interned strings -- exactly as the reader resolved it.  The reference table is
kept in one place, the loop.  A model that cannot be written in its version (a type code
the version does not have, a value out of range, a reference into an object that is
still being written) raises :class:`~pycfile.UnwritableError` with the path.
"""

from __future__ import annotations

import functools
import operator
import struct
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from . import _accel
from ._code import Code
from ._errors import PycError, UnwritableError, version_text
from ._formats import FLAG_REF, MarshalRules, marshal_rules
from ._values import Bytes, Singleton, Str, TupleValue, Value
from ._versions import PycFormat

__all__ = ["write_value"]

_P32 = struct.Struct("<i").pack
_P64 = struct.Struct("<q").pack
_B_I32 = struct.Struct("<Bi").pack  # a type byte and a 32-bit size or value
_PIECES = 1024  # output pieces held before they are joined (see _Writer)
_BYTE = [bytes((i,)) for i in range(256)]
# The bytes of a reference ('r' and its index), for the first indices.
_REF_CACHED = 4096
_REF_BYTES = [b"r" + _P32(i) for i in range(_REF_CACHED)]
# A type byte and an 8-bit size: [FLAG_REF clear, set][size], for short strings by type
# code (FLAG_REF clear) and for small tuples.
_SHORT_HEADS = {b: tuple([bytes((b | f, n)) for n in range(256)] for f in (0, FLAG_REF)) for b in (0x7A, 0x5A)}
_TUPLE_HEADS = tuple([bytes((0x29 | f, n)) for n in range(256)] for f in (0, FLAG_REF))


def write_value(value: Value, fmt: PycFormat, root: str = "value") -> bytes:
    """The marshal bytes of ``value`` in ``fmt``'s version."""
    if _accel.ENABLED:
        done = _accel.write(value, fmt)
        if done is not None:
            return done
    try:
        return _run(_Writer(_plan(fmt)), value)
    except PycError as e:
        e._prepend_path(root)
        if e.version is None:
            e.version = version_text(fmt)
        raise


class _Writer:
    """The state of one write: the output, and the 2.x interned-string table."""

    __slots__ = ("done", "out", "plan", "strings")

    def __init__(self, plan: "_Plan") -> None:
        # The output: the pieces appended since the last join (each is one C call to add,
        # cheaper than growing a bytearray), and before them what was joined so far (the
        # loop joins the pieces whenever a code object ends with more than _PIECES of them,
        # which keeps their memory bounded).
        self.done = bytearray()
        self.out: List[bytes] = []
        self.plan = plan
        self.strings: Dict[int, int] = {}  # id(Bytes 't') -> string-table index (2.x)

    def fail(self, msg: str) -> UnwritableError:
        return UnwritableError(msg, offset=len(self.done) + sum(map(len, self.out)))


# ---- the handlers, one per name in _formats.HANDLERS ----------------------------------
# A scalar handler: (writer, value, type byte with FLAG_REF) -> None, output appended.
# A container handler writes its header and returns the children to write.


def write_null(w: _Writer, v: Any, b: int) -> None:  # pragma: no cover - no model value is '0'
    raise w.fail("NULL is not a value")


def write_singleton(w: _Writer, v: Any, b: int) -> None:
    w.out.append(_BYTE[b])


def write_int32(w: _Writer, v: Any, b: int) -> None:
    n = v.value
    if not -0x80000000 <= n <= 0x7FFFFFFF:
        raise w.fail(f"{_int_text(n)} does not fit the 32 bits of type code 'i'")
    w.out.append(_BYTE[b])
    w.out.append(_P32(n))


def write_int64(w: _Writer, v: Any, b: int) -> None:
    n = v.value
    if not -0x8000000000000000 <= n <= 0x7FFFFFFFFFFFFFFF:
        raise w.fail(f"{_int_text(n)} does not fit the 64 bits of type code 'I'")
    w.out.append(_BYTE[b])
    w.out.append(_P64(n))


def write_long(w: _Writer, v: Any, b: int) -> None:
    n = v.value
    w.out.append(_BYTE[b])
    digits = int_to_digits(-n if n < 0 else n)
    size = len(digits) // 2
    if v.size is not None:
        stored = -v.size if v.size < 0 else v.size
        if stored < size or (n > 0 and v.size < 0) or (n < 0 and v.size > 0) or stored > 0x7FFFFFFF:
            raise w.fail(f"Long.size {v.size} cannot hold {_int_text(n)}")
        w.out.append(_P32(v.size))
        w.out.append(digits)
        w.out.append(bytes(2 * (stored - size)))
    else:
        w.out.append(_P32(-size if n < 0 else size))
        w.out.append(digits)


def int_to_digits(mag: int) -> bytes:
    """The minimal little-endian 15-bit digits of ``mag`` >= 0, 2 bytes each, in time
    linear in their number: 15 bytes (120 bits) become eight digits at a time."""
    if mag < 1 << 120:
        out = []
        while mag:
            out.append(mag & 0x7FFF)
            mag >>= 15
        return struct.pack(f"<{len(out)}H", *out)
    raw = mag.to_bytes(-(-mag.bit_length() // 120) * 15, "little")
    digits: List[int] = []
    for i in range(0, len(raw), 15):
        chunk = int.from_bytes(raw[i : i + 15], "little")
        digits += (chunk & 0x7FFF, chunk >> 15 & 0x7FFF, chunk >> 30 & 0x7FFF, chunk >> 45 & 0x7FFF,
                   chunk >> 60 & 0x7FFF, chunk >> 75 & 0x7FFF, chunk >> 90 & 0x7FFF, chunk >> 105)  # fmt: skip
    while digits and not digits[-1]:
        digits.pop()
    return struct.pack(f"<{len(digits)}H", *digits)


def _text_float(w: _Writer, raw: bytes, what: str) -> None:
    if len(raw) > 255:
        raise w.fail(f"{what} text is {len(raw)} bytes; at most 255 fit")
    w.out.append(_BYTE[len(raw)])
    w.out.append(raw)


def write_float_text(w: _Writer, v: Any, b: int) -> None:
    w.out.append(_BYTE[b])
    _text_float(w, v.raw, "float")


def write_float(w: _Writer, v: Any, b: int) -> None:
    if len(v.raw) != 8:
        raise w.fail(f"a 'g' float is 8 bytes, not {len(v.raw)}")
    w.out.append(_BYTE[b])
    w.out.append(v.raw)


def write_complex_text(w: _Writer, v: Any, b: int) -> None:
    w.out.append(_BYTE[b])
    _text_float(w, v.real, "complex")
    _text_float(w, v.imag, "complex")


def write_complex(w: _Writer, v: Any, b: int) -> None:
    if len(v.real) != 8 or len(v.imag) != 8:
        raise w.fail("a 'y' complex has two 8-byte parts")
    w.out.append(_BYTE[b])
    w.out.append(v.real)
    w.out.append(v.imag)


def write_bytes(w: _Writer, v: Any, b: int) -> None:
    data = v.value
    w.out.append(_BYTE[b])
    w.out.append(_P32(len(data)))
    w.out.append(data)


def write_interned_bytes(w: _Writer, v: Any, b: int) -> None:
    """2.x ``t``: written the first time, then a string ref (``R``)."""
    idx = w.strings.get(id(v))
    if idx is not None:
        write_string_ref(w, idx)
        return
    w.strings[id(v)] = len(w.strings)
    write_bytes(w, v, b)


def write_string_ref(w: _Writer, idx: int) -> None:
    """2.x ``R``: a string of the interned-string table."""
    w.out.append(_BYTE[0x52])
    w.out.append(_P32(idx))


def _encoded(w: _Writer, v: Any, b: int, encoding: str) -> bytes:
    try:
        data: bytes = v.value.encode(encoding, "surrogatepass")
    except UnicodeEncodeError as e:
        raise w.fail(f"type code {chr(b & 0x7F)!r} cannot hold {v.value[e.start:e.end]!r}: {e.reason}") from None
    return data


def write_utf8(w: _Writer, v: Any, b: int) -> None:
    data = _encoded(w, v, b, "utf-8")
    w.out.append(_BYTE[b])
    w.out.append(_P32(len(data)))
    w.out.append(data)


def write_latin(w: _Writer, v: Any, b: int) -> None:
    data = _encoded(w, v, b, "latin-1")
    w.out.append(_BYTE[b])
    w.out.append(_P32(len(data)))
    w.out.append(data)


def write_short_latin(w: _Writer, v: Any, b: int) -> None:
    data = _encoded(w, v, b, "latin-1")
    if len(data) > 255:
        raise w.fail(f"type code {chr(b & 0x7F)!r} holds at most 255 characters, not {len(data)}")
    w.out.append(_BYTE[b])
    w.out.append(_BYTE[len(data)])
    w.out.append(data)


def write_tuple(w: _Writer, v: Any, b: int) -> Sequence[Any]:
    w.out.append(_BYTE[b])
    w.out.append(_P32(len(v.items)))
    return v.items  # type: ignore[no-any-return]


def write_small_tuple(w: _Writer, v: Any, b: int) -> Sequence[Any]:
    n = len(v.items)
    if n > 255:
        raise w.fail(f"type code ')' holds at most 255 items, not {n}")
    w.out.append(_BYTE[b])
    w.out.append(_BYTE[n])
    return v.items  # type: ignore[no-any-return]


write_list = write_tuple


def write_dict(w: _Writer, v: Any, b: int) -> Sequence[Any]:
    w.out.append(_BYTE[b])
    return v.items  # type: ignore[no-any-return]


write_set = write_frozenset = write_tuple


def write_slice(w: _Writer, v: Any, b: int) -> Sequence[Any]:
    w.out.append(_BYTE[b])
    return (v.start, v.stop, v.step)


write_frozendict = write_dict


def write_code(w: _Writer, v: Any, b: int) -> Sequence[Any]:
    w.out.append(_BYTE[b])
    return ()  # the loop writes the fields run by run


_SCALARS = frozenset(
    ["null", "singleton", "int32", "int64", "long", "float_text", "float", "complex_text", "complex", "bytes",
     "interned_bytes", "string_ref", "utf8", "latin", "short_latin"]
)  # fmt: skip
# How the loop goes through a container's children (the reader's kinds); the reader
# fills a frozenset's, frozendict's, slice's or code object's reference slot only after
# its items, so a reference to one of them from inside it cannot be read (FACTS.md 3.5).
_ROOT, _SEQ, _PAIRS, _FROZENSET, _FROZENDICT, _SLICE, _CODE = range(7)
_KINDS = {"tuple": _SEQ, "small_tuple": _SEQ, "list": _SEQ, "set": _SEQ, "dict": _PAIRS,
          "frozenset": _FROZENSET, "frozendict": _FROZENDICT, "slice": _SLICE, "code": _CODE}  # fmt: skip
_FILLED_AFTER = (_FROZENSET, _FROZENDICT, _SLICE, _CODE)

# Per model class and type code: (type byte, container kind or -1 for a scalar, handler).
Entry = Tuple[int, int, Callable[..., Any]]


class _Plan:
    """What a write in one format needs that does not depend on the value (cached)."""

    __slots__ = ("rules", "by_class", "str_heads", "bytes_types", "small_tuple", "int_limit", "code_getters")

    def __init__(self, rules: MarshalRules) -> None:
        self.rules = rules
        handlers = globals()
        self.by_class: Dict[type, Dict[str, Entry]] = {}
        for cls, codes in rules.writable.items():
            entries: Dict[str, Entry] = {}
            for c in codes:
                name = rules.handlers[ord(c)]
                entries[c] = (ord(c), -1 if name in _SCALARS else _KINDS[name], handlers["write_" + name])
            self.by_class[cls] = entries
        # The loop's fast paths: a short Latin-1 Str code -> its type byte and size (by
        # FLAG_REF, then size); a Bytes code -> its type byte (by FLAG_REF); whether a ')'
        # tuple is written inline.
        refs = rules.refs
        self.str_heads = {c: _SHORT_HEADS[ord(c)] for c in rules.writable.get(Str, ()) if refs and rules.handlers[ord(c)] == "short_latin"}
        self.bytes_types = {c: (ord(c), ord(c) | FLAG_REF) for c in rules.writable.get(Bytes, ()) if rules.handlers[ord(c)] == "bytes"}
        self.small_tuple = refs and ")" in rules.writable.get(TupleValue, ()) and rules.handlers[0x29] == "small_tuple"
        self.int_limit = 1 << (8 * rules.int_size - 1)
        #: per run of code fields: a getter of their values as a tuple
        self.code_getters = [_getter(names) for names, _ in rules.code_runs]


def _getter(names: Tuple[str, ...]) -> Callable[[Any], Tuple[Any, ...]]:
    if len(names) > 1:
        return operator.attrgetter(*names)
    name = names[0]
    return lambda v: (getattr(v, name),)


_IS_INT = functools.partial(operator.is_, int)  # _IS_INT(type(x)): x is an int, not a bool


_PLANS: Dict[int, _Plan] = {}


def _plan(fmt: PycFormat) -> _Plan:
    plan = _PLANS.get(id(fmt))
    if plan is None or plan.rules.fmt is not fmt:  # keyed by identity: hashing a format is slow
        plan = _PLANS[id(fmt)] = _Plan(marshal_rules(fmt))
    return plan


# A frame of the loop's stack: a container being written, as the loop's variables
# (kind, the value, the iterator over its children -- which says which child is being
# written, see _index --, the reference to it while its slot is reserved (or None), the
# children's names, the next run of code fields).
Frame = Tuple[int, Any, Iterator[Any], Optional[bytes], Optional[Tuple[str, ...]], int]


def _run(w: _Writer, root: Value) -> bytes:  # noqa: C901 - one loop, kept whole for speed
    """Write ``root``: the loop that writes every container's children."""
    plan = w.plan
    rules = plan.rules
    out = w.out
    by_class = plan.by_class
    str_heads = plan.str_heads
    bytes_types = plan.bytes_types
    small_tuple = plan.small_tuple
    use_refs = rules.refs
    limit = rules.max_depth
    code_runs = len(rules.code_runs)
    code_class = rules.code_class
    # id(object) -> the bytes of a reference to it (3.4+: 'r' and its index, the pre-order
    # position among flagged objects); b"" while an object whose slot the reader fills
    # after its items (_FILLED_AFTER) is being written.
    refs: Dict[int, bytes] = {}
    refs_get = refs.get
    ref_bytes = _REF_BYTES
    tuple_heads = _TUPLE_HEADS
    str_cls, bytes_cls, tuple_cls, seq = Str, Bytes, TupleValue, _SEQ
    stack: List[Frame] = []
    # The current container (the root holds the one value written); ``it`` yields its
    # children: a dict's keys and values in turn.
    it: Iterator[Any] = iter((root,))
    kind, parent, labels, run = _ROOT, None, None, 0
    reserved: Optional[bytes] = None
    v: Any
    try:
        while True:
            for v in it:
                # -- one child: the commonest classes first, each reading its own flag
                # (so each attribute read sees one class), then any child -----------------
                cls = type(v)
                if cls is str_cls:
                    flagged = v.flag_ref
                    if flagged:
                        key = id(v)
                        ref = refs_get(key)
                        if ref is not None:  # met again: a reference, the one place they are made
                            if not ref:
                                raise _still_written(w, v)
                            out.append(ref)
                            continue
                    heads = str_heads.get(v.code)
                    if heads is not None:  # write_short_latin, inline
                        try:
                            raw = v.value.encode("latin-1")
                        except UnicodeEncodeError:  # the handler says why
                            raw = None
                        if raw is not None:
                            n = len(raw)
                            if n < 256:
                                if flagged:
                                    try:
                                        refs[key] = ref_bytes[len(refs)]
                                    except IndexError:  # beyond the cached ones
                                        refs[key] = _B_I32(0x72, len(refs))
                                    out.append(heads[1][n])
                                else:
                                    out.append(heads[0][n])
                                out.append(raw)
                                continue
                elif cls is tuple_cls:
                    flagged = v.flag_ref
                    if flagged:
                        key = id(v)
                        ref = refs_get(key)
                        if ref is not None:
                            if not ref:
                                raise _still_written(w, v)
                            out.append(ref)
                            continue
                    if small_tuple and v.code == ")":  # write_small_tuple, inline
                        children = v.items
                        n = len(children)
                        if n < 256:
                            if flagged:
                                try:
                                    refs[key] = ref_bytes[len(refs)]
                                except IndexError:  # beyond the cached ones
                                    refs[key] = _B_I32(0x72, len(refs))
                                out.append(tuple_heads[1][n])
                            else:
                                out.append(tuple_heads[0][n])
                            if n:
                                if len(stack) + 1 >= limit:
                                    raise w.fail(f"object too deeply nested to marshal (limit {limit})")
                                stack.append((kind, parent, it, reserved, labels, run))
                                kind, parent, reserved, labels, run = seq, v, None, None, 0
                                it = iter(children)
                                break
                            continue
                elif cls is bytes_cls:
                    flagged = v.flag_ref
                    if flagged:
                        key = id(v)
                        ref = refs_get(key)
                        if ref is not None:
                            if not ref:
                                raise _still_written(w, v)
                            out.append(ref)
                            continue
                    types = bytes_types.get(v.code)
                    if types is not None and (not flagged or use_refs):  # write_bytes, inline
                        raw = v.value
                        if flagged:
                            try:
                                refs[key] = ref_bytes[len(refs)]
                            except IndexError:  # beyond the cached ones
                                refs[key] = _B_I32(0x72, len(refs))
                            out.append(_B_I32(types[1], len(raw)))
                        else:
                            out.append(_B_I32(types[0], len(raw)))
                        out.append(raw)
                        continue
                else:
                    try:
                        flagged = v.flag_ref
                    except AttributeError:  # not a marshal value: said below
                        flagged = False
                    if flagged:
                        key = id(v)
                        ref = refs_get(key)
                        if ref is not None:
                            if not ref:
                                raise _still_written(w, v)
                            out.append(ref)
                            continue
                # -- any child: its handler --------------------------------------------
                codes = by_class.get(cls)
                if codes is None:
                    raise _not_writable(w, v)
                code = v.type_code if cls is code_class else v.code
                entry = codes.get(code)
                if entry is None:
                    raise w.fail(f"type code {code!r} cannot hold a {cls.__name__} in {rules.fmt.version}")
                b, child_kind, handler = entry
                if flagged:
                    if not use_refs:
                        raise w.fail(_NO_REFS.format(rules.fmt.version))
                    b |= FLAG_REF
                    if cls is not Singleton:
                        try:
                            refs[key] = ref_bytes[len(refs)]
                        except IndexError:  # beyond the cached ones
                            refs[key] = _B_I32(0x72, len(refs))
                if child_kind < 0:
                    handler(w, v, b)
                    continue
                # -- a container: write its header, then its children ------------------
                children = handler(w, v, b)
                paired = child_kind == _PAIRS or child_kind == _FROZENDICT
                if (children or paired) and len(stack) + 1 >= limit:
                    raise w.fail(f"object too deeply nested to marshal (limit {limit})")
                stack.append((kind, parent, it, reserved, labels, run))
                reserved = None
                if flagged and child_kind in _FILLED_AFTER:
                    reserved = refs[key]
                    refs[key] = b""  # being written: a reference to it cannot be read
                kind, parent, labels, run = child_kind, v, None, 0
                if kind == _CODE:  # its fields, run by run
                    it = iter(())
                    more = _code_ints(w, v, 0, len(stack))
                    if more is None:
                        error = w.fail(f"object too deeply nested to marshal (limit {limit})")
                        kind, parent, it, reserved, labels, run = stack.pop()  # the code object's own
                        raise error
                    children, labels, run = more
                    it = iter(children)
                elif paired:
                    it = _Pairs(children)
                else:
                    it = iter(children)
                    if kind == _SLICE:
                        labels = _SLICE_FIELDS
                break
            else:
                # -- the current container is complete (a sequence: nothing to add) ---
                if kind != seq:
                    if kind == _CODE:
                        if run < code_runs:
                            it = iter(())
                            more = _code_ints(w, parent, run, len(stack))
                            if more is None:
                                error = w.fail(f"object too deeply nested to marshal (limit {limit})")
                                kind, parent, it, reserved, labels, run = stack.pop()  # the code object's own
                                raise error
                            children, labels, run = more
                            if children:
                                it = iter(children)
                                continue
                        if len(out) > _PIECES:
                            w.done += b"".join(out)
                            out.clear()
                    elif kind == _PAIRS or kind == _FROZENDICT:
                        out.append(b"0")
                    if reserved is not None:
                        refs[id(parent)] = reserved
                    if not stack:
                        if w.done:
                            w.done += b"".join(out)
                            return bytes(w.done)
                        return b"".join(out)
                kind, parent, it, reserved, labels, run = stack.pop()
    except _NotAPair as e:
        kind, parent, it, reserved, labels, run = stack.pop()  # the dict's own error
        error = w.fail(f"dict item {e.args[0]} is not a (key, value) pair")
        error._prepend_path(_path(stack, kind, it, labels))
        raise error from None
    except PycError as e:
        e._prepend_path(_path(stack, kind, it, labels))
        raise
    except (TypeError, AttributeError, ValueError, OverflowError, KeyError, IndexError, struct.error) as e:
        # A field of the wrong type (a Str whose value is an int, items that are not a
        # list...): the model cannot be written, and the path says where.
        error = w.fail(f"a {type(v).__name__} holding something its fields cannot hold ({type(e).__name__}: {_short(e)})")
        error._prepend_path(_path(stack, kind, it, labels))
        raise error from None


def _short(e: BaseException) -> str:
    text = str(e)
    return text if len(text) <= 200 else text[:200] + "..."


def _int_text(n: int) -> str:
    """``n`` for an error message: digits if short, else its size."""
    return str(n) if n.bit_length() <= 128 else f"an int of {n.bit_length()} bits"


def _still_written(w: _Writer, v: Any) -> UnwritableError:
    return w.fail(f"reference to a {type(v).__name__} that is still being written (its slot is reserved)")


class _NotAPair(Exception):
    """Internal: a dict's item is not a (key, value) pair."""


class _Pairs:
    """A dict's keys and values in turn; ``index`` is the last one's: 2 * pair + 0 for a
    key, 1 for a value."""

    __slots__ = ("items", "index", "value")

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items
        self.index = -1
        self.value: Any = None

    def __iter__(self) -> "_Pairs":
        return self

    def __next__(self) -> Any:
        self.index += 1
        if self.index & 1:
            return self.value
        n = self.index >> 1
        if n >= len(self.items):
            raise StopIteration
        pair = self.items[n]
        if type(pair) is not tuple or len(pair) != 2:
            raise _NotAPair(n)
        self.value = pair[1]
        return pair[0]


def _index(it: Iterator[Any]) -> int:
    """The index of the child ``it`` yielded last (-1: none yet)."""
    if type(it) is _Pairs:
        return it.index
    state: Any = it.__reduce__()  # a list or tuple iterator: (iter, (sequence,), next index)
    return state[2] - 1 if len(state) > 2 else -1


_SLICE_FIELDS: Tuple[str, ...] = ("start", "stop", "step")
_NO_REFS = "FLAG_REF needs marshal version 3 (Python 3.4+), not {}"


def _not_writable(w: _Writer, v: Any) -> UnwritableError:
    if not isinstance(v, Code):
        return w.fail(f"{type(v).__name__} is not a marshal value")
    rules = w.plan.rules
    want = rules.code_class.__name__ if rules.code_class else "no known layout"
    return w.fail(f"{type(v).__name__} cannot be written in {rules.fmt.version} ({rules.fmt.label}): its layout is {want}")


def _code_ints(w: _Writer, v: Any, run: int, depth: int) -> Optional[Tuple[Sequence[Any], Tuple[str, ...], int]]:
    """Write code object ``v``'s integer fields from run ``run`` up to its next run of
    object fields; return those fields, their names and the next run (an empty run at
    the end), or None if they would be nested deeper than the limit (``v`` is at
    ``depth``)."""
    plan = w.plan
    runs = plan.rules.code_runs
    while run < len(runs):
        names, st = runs[run]
        values = plan.code_getters[run](v)
        run += 1
        if st is None:
            if depth >= plan.rules.max_depth:
                return None
            return values, names, run
        if all(map(_IS_INT, map(type, values))):
            try:
                w.out.append(st.pack(*values))
                continue
            except struct.error:
                pass
        limit = plan.int_limit
        for name, val in zip(names, values):
            if type(val) is not int or not -limit <= val < limit:
                error = w.fail(f"{name} must be an int that fits {8 * plan.rules.int_size} bits, not {val!r}")
                error._prepend_path(name)
                raise error
    return (), (), run


def _path(stack: List[Frame], kind: int, it: Iterator[Any], labels: Optional[Tuple[str, ...]]) -> str:
    """Where the loop is: the path from the root value to the child being written."""
    frames = [(f[0], _index(f[2]), f[4]) for f in stack] + [(kind, _index(it), labels)]
    path = ""
    for k, child, names in frames[1:]:  # the root frame has no step
        if child < 0:  # none yet
            continue
        if k == _PAIRS or k == _FROZENDICT:
            step = f"[{child >> 1}].{'value' if child & 1 else 'key'}"
        elif names is not None:
            step = names[child]
        else:
            step = f"[{child}]"
        path += step if step.startswith("[") or not path else "." + step
    return path
