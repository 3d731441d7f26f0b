"""The marshal writer: the typed model back into bytes of its version.

It mirrors :mod:`pycfile._reader`.  Nothing is re-derived: each value is written with
its own type code and FLAG_REF bit, reference indices are recomputed as the pre-order
position among flagged objects, and an object met a second time (by identity) is
written as a reference -- ``r`` in 3.4+, ``R`` for 2.x interned strings -- exactly as
the reader resolved it.  A model that cannot be written in its version (a type code
the version does not have, a value out of range, a reference into an object that is
still being written) raises :class:`~pycfile.UnwritableError` with the path.
"""

from __future__ import annotations

import functools
import operator
import struct
from typing import Any, Callable, Sequence, Dict, FrozenSet, List, Optional, Set, Tuple, Type

from . import _accel
from ._code import Code, code_class, code_fields
from ._deep import SHALLOW_DEPTH, TooDeepForThisStack, call_with_deep_stack
from ._errors import PycError, UnwritableError, version_text
from ._reader import FLAG_REF, has_refs, readable_codes
from ._values import (
    Bytes,
    Complex,
    Float,
    FrozenDict,
    Int,
    Long,
    Singleton,
    Slice,
    Str,
    Value,
)
from ._values import DictValue
from ._values import FrozenSetValue
from ._values import ListValue
from ._values import SetValue
from ._values import TupleValue
from ._versions import PycFormat

__all__ = ["write_value"]

_P32 = struct.Struct("<i").pack
_P64 = struct.Struct("<q").pack
# The bytes of a reference ('r' and its index), for the first indices.
_REF_CACHED = 4096
_REF_BYTES = [b"r" + _P32(i) for i in range(_REF_CACHED)]
# The type byte and size of a short ASCII string: _SHORT_HEADS[type byte][size].
_SHORT_HEADS = {b: [bytes((b, n)) for n in range(256)] for b in (0x7A, 0x5A, 0xFA, 0xDA)}


def _allowed_codes(fmt: PycFormat) -> Dict[type, FrozenSet[str]]:
    py3 = fmt.version.major >= 3
    readable = set(readable_codes(fmt))
    by_class: Dict[type, str] = {
        Singleton: "NTFS.",
        Int: "iI",
        Long: "l",
        Float: "fg",
        Complex: "xy",
        Bytes: "s" if py3 else "st",
        Str: "utaAzZ" if py3 else "u",
        TupleValue: "()",
        ListValue: "[",
        DictValue: "{",
        SetValue: "<",
        FrozenSetValue: ">",
        Slice: ":",
        FrozenDict: "}",
    }
    return {cls: frozenset(c for c in codes if c in readable) for cls, codes in by_class.items()}


class _Plan:
    """What a write in one format needs that does not depend on the value (cached)."""

    __slots__ = ("fmt", "type_bytes", "refs", "code_cls", "int_fmt", "field_runs", "pool")

    def __init__(self, fmt: PycFormat) -> None:
        self.fmt = fmt
        allowed = _allowed_codes(fmt)
        # Per class: type code -> type byte (FLAG_REF clear), for the codes allowed.
        self.type_bytes: Dict[type, Dict[str, int]] = {cls: {c: ord(c) for c in codes} for cls, codes in allowed.items()}
        self.refs = has_refs(fmt)
        layout = fmt.code_layout
        self.code_cls: Optional[Type[Code]] = code_class(layout) if layout is not None else None
        self.int_fmt = struct.Struct("<h" if self.code_cls is not None and self.code_cls.int_size == 2 else "<i")
        # The layout as runs of int fields and runs of object fields.
        runs: List[Tuple[str, ...]] = []
        kinds: List[bool] = []
        for name, is_int in code_fields(self.code_cls) if self.code_cls is not None else ():
            if runs and kinds[-1] == is_int:
                runs[-1] += (name,)
            else:
                runs.append((name,))
                kinds.append(is_int)
        # Each run: its names, whether they are ints, a getter of their values as a
        # tuple, and (for ints) the struct packing them all.
        self.field_runs: List[Tuple[Tuple[str, ...], bool, Callable[[Any], Tuple[Any, ...]], struct.Struct]] = [
            (
                names,
                is_int,
                operator.attrgetter(*names) if len(names) > 1 else _single_getter(names[0]),
                struct.Struct("<" + self.int_fmt.format[-1] * len(names)),
            )
            for names, is_int in zip(runs, kinds)
        ]
        #: Writers of this format ready for reuse (see _make_writer).
        self.pool: List[Callable[[Value, int], bytes]] = []


def _single_getter(name: str) -> Callable[[Any], Tuple[Any, ...]]:
    def get(v: Any) -> Tuple[Any, ...]:
        return (getattr(v, name),)

    return get


_PLANS: Dict[int, _Plan] = {}
_IS_INT = functools.partial(operator.is_, int)  # _IS_INT(type(x)): x is an int, not a bool


def write_value(value: Value, fmt: PycFormat, root: str = "value") -> bytes:
    """The marshal bytes of ``value`` in ``fmt``'s version."""
    if _accel.ENABLED:
        done = _accel.write(value, fmt)
        if done is not None:
            return done
    try:
        try:
            return _write(value, fmt, min(SHALLOW_DEPTH, fmt.max_depth))
        except (TooDeepForThisStack, RecursionError):
            return call_with_deep_stack(_write, value, fmt, fmt.max_depth)
    except PycError as e:
        e._prepend_path(root)
        if e.version is None:
            e.version = version_text(fmt)
        raise



def _write(value: Value, fmt: PycFormat, limit: int) -> bytes:
    plan = _PLANS.get(id(fmt))
    if plan is None or plan.fmt is not fmt:  # keyed by identity: hashing a format is slow
        plan = _PLANS[id(fmt)] = _Plan(fmt)
    pool = plan.pool
    try:
        writer = pool.pop()
    except IndexError:
        writer = _make_writer(plan)
    try:
        return writer(value, limit)
    finally:
        pool.append(writer)


def _make_writer(plan: _Plan) -> Callable[[Value, int], bytes]:  # noqa: C901
    """A writer for one format.  Making one costs more than a small write, so writers
    are kept in the plan's pool and reused; each serves one write at a time (the state
    of the current write lives in this function's variables)."""
    fmt = plan.fmt
    out = bytearray()
    append = out.append
    extend = out.extend
    limit = 0
    refs_enabled = plan.refs
    py3 = fmt.version.major >= 3
    maxdepth = fmt.max_depth
    type_bytes = plan.type_bytes
    str_get = type_bytes[Str].get
    bytes_get = type_bytes[Bytes].get
    refs: Dict[int, int] = {}  # id(object) -> reference index (3.4+)
    pending: Set[int] = set()  # indices of reserved slots still being written
    strings: Dict[int, int] = {}  # id(Bytes 't') -> string-table index (2.x)
    refs_get = refs.get

    def fail(msg: str) -> UnwritableError:
        return UnwritableError(msg, offset=len(out))

    def too_deep() -> Exception:
        if limit < maxdepth:
            return TooDeepForThisStack()
        return fail(f"object too deeply nested to marshal (limit {maxdepth})")

    def check_code(v: Any, cls: type) -> int:
        b = type_bytes[cls].get(v.code)
        if b is None:
            raise fail(f"type code {v.code!r} cannot hold a {cls.__name__} in {fmt.version}")
        if v.flag_ref:
            if not refs_enabled:
                raise fail(f"FLAG_REF needs marshal version 3 (Python 3.4+), not {fmt.version}")
            return b | FLAG_REF
        return b

    def w(v: Value, depth: int) -> None:
        cls = type(v)
        if cls is Singleton:
            append(check_code(v, Singleton))
            return
        writer = writers.get(cls)
        if writer is None:
            if not isinstance(v, Code):
                raise fail(f"{cls.__name__} is not a marshal value")
            writer = w_code  # a code class of another layout: w_code says so
        # Only a flagged object has a reference index, so only a flagged object can be
        # met again as a reference.
        if v.flag_ref and refs_enabled:
            key = id(v)
            idx = refs.get(key)
            if idx is not None:
                if idx in pending:
                    raise fail(f"reference to a {cls.__name__} that is still being written (its slot is reserved)")
                append(0x72)
                extend(_P32(idx))
                return
            refs[key] = len(refs)
        writer(v, depth)

    def w_int(v: Int, depth: int) -> None:
        b = check_code(v, Int)
        n = v.value
        if b & 0x7F == 0x69:
            if not -0x80000000 <= n <= 0x7FFFFFFF:
                raise fail(f"{n} does not fit the 32 bits of type code 'i'")
            append(b)
            extend(_P32(n))
        else:
            if not -0x8000000000000000 <= n <= 0x7FFFFFFFFFFFFFFF:
                raise fail(f"{n} does not fit the 64 bits of type code 'I'")
            append(b)
            extend(_P64(n))

    def w_long(v: Long, depth: int) -> None:
        append(check_code(v, Long))
        n = v.value
        mag = -n if n < 0 else n
        digits = []
        while mag:
            digits.append(mag & 0x7FFF)
            mag >>= 15
        size = len(digits)
        if v.size is not None:
            stored = -v.size if v.size < 0 else v.size
            if stored < size or (n > 0 and v.size < 0) or (n < 0 and v.size > 0) or stored > 0x7FFFFFFF:
                raise fail(f"Long.size {v.size} cannot hold {n}")
            digits.extend([0] * (stored - size))
            extend(_P32(v.size))
        else:
            extend(_P32(-size if n < 0 else size))
        extend(struct.pack(f"<{len(digits)}H", *digits))

    def text_float(raw: bytes, what: str) -> None:
        if len(raw) > 255:
            raise fail(f"{what} text is {len(raw)} bytes; at most 255 fit")
        append(len(raw))
        extend(raw)

    def w_float(v: Float, depth: int) -> None:
        b = check_code(v, Float)
        append(b)
        if b & 0x7F == 0x67:
            if len(v.raw) != 8:
                raise fail(f"a 'g' float is 8 bytes, not {len(v.raw)}")
            extend(v.raw)
        else:
            text_float(v.raw, "float")

    def w_complex(v: Complex, depth: int) -> None:
        b = check_code(v, Complex)
        append(b)
        if b & 0x7F == 0x79:
            if len(v.real) != 8 or len(v.imag) != 8:
                raise fail("a 'y' complex has two 8-byte parts")
            extend(v.real)
            extend(v.imag)
        else:
            text_float(v.real, "complex")
            text_float(v.imag, "complex")

    def w_bytes(v: Bytes, depth: int) -> None:
        b = check_code(v, Bytes)
        if b == 0x74:  # 2.x interned string: 't' the first time, then 'R'
            idx = strings.get(id(v))
            if idx is not None:
                append(0x52)
                extend(_P32(idx))
                return
            strings[id(v)] = len(strings)
        data = v.value
        append(b)
        extend(_P32(len(data)))
        extend(data)

    def w_str(v: Str, depth: int) -> None:
        b = check_code(v, Str)
        code = b & 0x7F
        try:
            if code == 0x75 or code == 0x74:
                data = v.value.encode("utf-8", "surrogatepass")
            else:
                data = v.value.encode("latin-1")
        except UnicodeEncodeError as e:
            raise fail(f"type code {chr(code)!r} cannot hold {v.value[e.start:e.end]!r}: {e.reason}") from None
        append(b)
        if code == 0x7A or code == 0x5A:
            if len(data) > 255:
                raise fail(f"type code {chr(code)!r} holds at most 255 characters, not {len(data)}")
            append(len(data))
        else:
            extend(_P32(len(data)))
        extend(data)

    def items(seq: Sequence[Any], depth: int, names: Optional[Tuple[str, ...]] = None) -> None:
        """Write a container's items, or a run of code fields named by ``names``."""
        if seq and depth >= limit:
            raise too_deep()
        depth += 1
        i = 0
        try:
            for i, item in enumerate(seq):
                # Inline fast paths for the commonest items: a reference to a flagged
                # object already written, a short ASCII string, a bytes object;
                # anything else, and anything wrong, goes through w().
                try:
                    flagged = item.flag_ref
                except AttributeError:  # not a marshal value: w() says so
                    flagged = False
                if flagged:
                    if not refs_enabled:
                        w(item, depth)  # says what is wrong
                        continue
                    # (a Singleton is never in refs: it goes on to w())
                    idx = refs_get(id(item))
                    if idx is not None:
                        if idx in pending:
                            w(item, depth)  # says what is wrong
                        elif idx < _REF_CACHED:
                            extend(_REF_BYTES[idx])
                        else:
                            append(0x72)
                            extend(_P32(idx))
                        continue
                cls = type(item)
                if cls is Str:
                    b = str_get(item.code)
                    if b == 0x7A or b == 0x5A:
                        text = item.value
                        n = len(text)
                        if n < 256 and text.isascii():
                            if flagged:
                                refs[id(item)] = len(refs)
                                extend(_SHORT_HEADS[b | FLAG_REF][n])
                            else:
                                extend(_SHORT_HEADS[b][n])
                            extend(text.encode("ascii"))
                            continue
                elif cls is Bytes:
                    b = bytes_get(item.code)
                    if b == 0x73:
                        raw = item.value
                        if flagged:
                            refs[id(item)] = len(refs)
                            append(0xF3)
                        else:
                            append(0x73)
                        extend(_P32(len(raw)))
                        extend(raw)
                        continue
                w(item, depth)
        except PycError as e:
            e._prepend_path(f"[{i}]" if names is None else names[i])
            raise

    def w_tuple(v: TupleValue, depth: int) -> None:
        b = check_code(v, TupleValue)
        append(b)
        n = len(v.items)
        if b & 0x7F == 0x29:
            if n > 255:
                raise fail(f"type code ')' holds at most 255 items, not {n}")
            append(n)
        else:
            extend(_P32(n))
        items(v.items, depth)

    def sequence(cls: type) -> Callable[[Any, int], None]:
        def w_seq(v: Any, depth: int) -> None:
            append(check_code(v, cls))
            extend(_P32(len(v.items)))
            items(v.items, depth)

        return w_seq

    def reserved(v: Any, body: Callable[[], None]) -> None:
        idx = refs.get(id(v)) if v.flag_ref else None
        if idx is not None:
            pending.add(idx)
        body()
        if idx is not None:
            pending.discard(idx)

    def w_frozenset(v: FrozenSetValue, depth: int) -> None:
        append(check_code(v, FrozenSetValue))
        extend(_P32(len(v.items)))
        reserved(v, lambda: items(v.items, depth))

    def pairs(seq: List[Any], depth: int) -> None:
        if depth >= limit:
            raise too_deep()
        depth += 1
        i = 0
        part = "key"
        try:
            for i, (key, val) in enumerate(seq):
                part = "key"
                w(key, depth)
                part = "value"
                w(val, depth)
        except PycError as e:
            e._prepend_path(f"[{i}].{part}")
            raise
        except (TypeError, ValueError):
            raise fail(f"dict item {i} is not a (key, value) pair") from None
        append(0x30)

    def w_dict(v: DictValue, depth: int) -> None:
        append(check_code(v, DictValue))
        pairs(v.items, depth)

    def w_frozendict(v: FrozenDict, depth: int) -> None:
        append(check_code(v, FrozenDict))
        reserved(v, lambda: pairs(v.items, depth))

    def w_slice(v: Slice, depth: int) -> None:
        append(check_code(v, Slice))
        reserved(v, lambda: items([v.start, v.stop, v.step], depth, ("start", "stop", "step")))

    expected_code = plan.code_cls
    int_fmt = plan.int_fmt
    int_limit = 1 << (8 * int_fmt.size - 1)
    field_runs = plan.field_runs

    def w_code(v: Any, depth: int) -> None:
        if type(v) is not expected_code:
            want = expected_code.__name__ if expected_code else "no known layout"
            raise fail(f"{type(v).__name__} cannot be written in {fmt.version} ({fmt.label}): its layout is {want}")
        b = ord(v.type_code)
        if v.flag_ref:
            if not refs_enabled:
                raise fail(f"FLAG_REF needs marshal version 3 (Python 3.4+), not {fmt.version}")
            b |= FLAG_REF
        append(b)

        idx = refs.get(id(v)) if b & FLAG_REF else None
        if idx is not None:
            pending.add(idx)
        for names, is_int, get, st in field_runs:
            values = get(v)
            if not is_int:
                items(values, depth, names)
                continue
            if all(map(_IS_INT, map(type, values))):
                try:
                    extend(st.pack(*values))
                    continue
                except struct.error:
                    pass
            for name, val in zip(names, values):
                if type(val) is not int or not -int_limit <= val < int_limit:
                    error = fail(f"{name} must be an int that fits {8 * int_fmt.size} bits, not {val!r}")
                    error._prepend_path(name)
                    raise error
        if idx is not None:
            pending.discard(idx)

    writers: Dict[type, Callable[[Any, int], None]] = {  # by exact class
        Int: w_int,
        Long: w_long,
        Float: w_float,
        Complex: w_complex,
        Bytes: w_bytes,
        Str: w_str,
        TupleValue: w_tuple,
        ListValue: sequence(ListValue),
        SetValue: sequence(SetValue),
        FrozenSetValue: w_frozenset,
        DictValue: w_dict,
        FrozenDict: w_frozendict,
        Slice: w_slice,
    }
    if expected_code is not None:
        writers[expected_code] = w_code

    def write(value_: Value, limit_: int) -> bytes:
        nonlocal limit
        limit = limit_
        try:
            w(value_, 1)
            return bytes(out)
        finally:  # keep nothing of this write alive in the pool
            out.clear()
            refs.clear()
            pending.clear()
            strings.clear()

    return write
