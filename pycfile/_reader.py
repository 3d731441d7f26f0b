"""The marshal reader: bytes of any version into the typed model.

One reader for every version.  :func:`pycfile._formats.marshal_rules` says which type
codes a format has and which handler reads each; this module has one ``read_<handler>``
function per handler name, in the same order as :mod:`pycfile._writer`'s
``write_<handler>`` functions.  A scalar handler returns its value; a container handler
reads its header and says how many items follow, and the loop in :func:`_run` reads them.
The loop keeps its own stack, so nesting costs no Python recursion: any depth the
version allows is read on any thread, without touching the recursion limit.  The
reference table (FLAG_REF) is kept in one place, that loop.

Robustness: every length is checked against the bytes left before anything is
allocated, nesting is bounded by the version's limit, and work is linear in the input
size.  Every failure is a :class:`~pycfile.BadPycError` carrying the offset, the path in
the object tree and the version.
"""

from __future__ import annotations

import itertools
import struct

import attrs
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import _accel
from ._errors import BadMarshalError, NestingTooDeepError, PycError, TruncatedError, version_text
from ._formats import FLAG_REF, MarshalRules, marshal_rules
from ._values import (
    SHARED_SINGLETONS,
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
from ._versions import PycFormat

__all__ = ["read_value"]

_I32 = struct.Struct("<i").unpack_from
_I64 = struct.Struct("<q").unpack_from
_U32 = struct.Struct("<I").unpack_from

# The shared singleton values by type byte (FLAG_REF included).
SINGLETONS: Dict[int, Singleton] = {ord(c) | (FLAG_REF if flag else 0): v for (c, flag), v in SHARED_SINGLETONS.items()}


def read_value(data: bytes, pos: int, fmt: PycFormat, root: str = "value") -> Tuple[Value, int]:
    """Read one marshal value at ``data[pos:]``; return it and the offset after it."""
    if _accel.ENABLED:
        done = _accel.read(data, pos, fmt)
        if done is not None:
            return done
    try:
        return _run(_Reader(data, _plan(fmt)), pos)
    except PycError as e:
        e._prepend_path(root)
        if e.version is None:
            e.version = version_text(fmt)
        raise


class _Reader:
    """The state of one read: the input, and the 2.x interned-string table."""

    __slots__ = ("data", "end", "plan", "strings")

    def __init__(self, data: bytes, plan: "_Plan") -> None:
        self.data = data
        self.end = len(data)
        self.plan = plan
        self.strings: List[Bytes] = []

    def truncated(self, what: str, at: int, need: int) -> TruncatedError:
        return TruncatedError(f"marshal data too short: {what} needs {need} bytes, {self.end - at} left", offset=at)

    def size32(self, what: str, pos: int, at: int, per_item: int) -> int:
        """The 32-bit count at ``pos``, checked against the bytes left (each item needs at
        least ``per_item`` bytes) before the caller allocates anything."""
        if pos + 4 > self.end:
            raise self.truncated(f"{what} size", pos, 4)
        n: int = _I32(self.data, pos)[0]
        if n < 0:
            raise bad(f"{what} size out of range: {n}", at)
        if n * per_item > self.end - pos - 4:
            raise self.truncated(f"{what} of size {n}", at, n * per_item)
        return n


def bad(msg: str, at: int) -> BadMarshalError:
    return BadMarshalError(f"bad marshal data ({msg})", offset=at)


# ---- the handlers, one per name in _formats.HANDLERS ----------------------------------
# A scalar handler: (reader, offset after the type byte, type byte) -> (value, offset).
# A container handler: -> (model object or None, item count or -1 for pairs up to '0',
# offset).  Errors are raised with their offset; the loop adds the path.


def read_null(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    raise bad("NULL object where a value is expected", pos - 1)


def read_singleton(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    return SINGLETONS[b], pos


def read_int32(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    if pos + 4 > r.end:
        raise r.truncated("int", pos, 4)
    return Int(_I32(r.data, pos)[0], "i", b > 127), pos + 4


def read_int64(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    if pos + 8 > r.end:
        raise r.truncated("64-bit int", pos, 8)
    return Int(_I64(r.data, pos)[0], "I", b > 127), pos + 8


def read_long(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    at = pos - 1
    if pos + 4 > r.end:
        raise r.truncated("long size", pos, 4)
    n = _I32(r.data, pos)[0]
    pos += 4
    size = -n if n < 0 else n
    if 2 * size > r.end - pos:
        raise r.truncated(f"long of {size} digits", at, 2 * size)
    raw = r.data[pos : pos + 2 * size]
    if size and max(struct.unpack(f"<{size}H", raw)) > 0x7FFF:
        raise bad("digit out of range in long", at)
    value = digits_to_int(raw)
    canonical = (value.bit_length() + 14) // 15
    stored: Optional[int] = None
    if size != canonical or (n < 0 and value == 0):
        if r.plan.rules.checks.normalized_longs:
            raise bad("unnormalized long data", at)
        stored = n
    return Long(-value if n < 0 else value, "l", b > 127, stored), pos + 2 * size


def digits_to_int(raw: bytes) -> int:
    """The value of little-endian 15-bit digits (2 bytes each, each at most 0x7FFF), in
    time linear in their number: eight digits (120 bits) become 15 bytes at a time."""
    size = len(raw) // 2
    if size <= 8:
        value = 0
        for d in reversed(struct.unpack(f"<{size}H", raw)):
            value = (value << 15) | d
        return value
    digits = struct.unpack(f"<{size}H", raw) + (0,) * (-size % 8)
    parts = []
    for i in range(0, len(digits), 8):
        d = digits[i : i + 8]
        chunk = d[0] | d[1] << 15 | d[2] << 30 | d[3] << 45 | d[4] << 60 | d[5] << 75 | d[6] << 90 | d[7] << 105
        parts.append(chunk.to_bytes(15, "little"))
    return int.from_bytes(b"".join(parts), "little")


def _text_float(r: _Reader, pos: int, what: str) -> Tuple[bytes, int]:
    if pos >= r.end:
        raise r.truncated(what, pos, 1)
    n = r.data[pos]
    pos += 1
    if pos + n > r.end:
        raise r.truncated(what, pos, n)
    raw = r.data[pos : pos + n]
    text = raw.decode("latin-1")
    try:
        # CPython parses with PyOS_string_to_double: unlike float(), no surrounding
        # whitespace and no underscores.  PyPy parses with its float().
        if r.plan.rules.checks.strict_float_text and ("_" in text or text.strip() != text):
            raise ValueError(text)
        float(text)
    except ValueError:
        raise bad(f"{what} text {raw!r} is not a number", pos - 1) from None
    return raw, pos + n


def read_float_text(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    raw, pos = _text_float(r, pos, "float")
    return Float(raw, "f", b > 127), pos


def read_float(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    if pos + 8 > r.end:
        raise r.truncated("float", pos, 8)
    return Float(r.data[pos : pos + 8], "g", b > 127), pos + 8


def read_complex_text(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    real, pos = _text_float(r, pos, "complex")
    imag, pos = _text_float(r, pos, "complex")
    return Complex(real, imag, "x", b > 127), pos


def read_complex(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    if pos + 16 > r.end:
        raise r.truncated("complex", pos, 16)
    data = r.data
    return Complex(data[pos : pos + 8], data[pos + 8 : pos + 16], "y", b > 127), pos + 16


def read_bytes(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    data = r.data
    if pos + 4 <= r.end:  # the common case inline; size32 says what is wrong
        n = _I32(data, pos)[0]
        if 0 <= n <= r.end - pos - 4:
            pos += 4
            return Bytes(data[pos : pos + n], "s", b > 127), pos + n
    r.size32(r.plan.bytes_noun, pos, pos - 1, 1)
    raise AssertionError("size32 raises")  # pragma: no cover


def read_interned_bytes(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    """2.x ``t``: an 8-bit string that joins the interned-string table."""
    n = r.size32("string", pos, pos - 1, 1)
    pos += 4
    obj = Bytes(r.data[pos : pos + n], "t", False)
    r.strings.append(obj)
    return obj, pos + n


def read_string_ref(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    """2.x ``R``: a string of the interned-string table."""
    if pos + 4 > r.end:
        raise r.truncated("string ref", pos, 4)
    i: int = _I32(r.data, pos)[0]
    if not 0 <= i < len(r.strings):
        raise bad(f"string ref out of range: {i} with {len(r.strings)} interned strings", pos - 1)
    return r.strings[i], pos + 4


def read_utf8(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    at = pos - 1
    n = r.size32("string", pos, at, 1)
    pos += 4
    try:
        text = r.data[pos : pos + n].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as e:
        raise bad(f"invalid UTF-8 in string: {e.reason} at byte {e.start}", pos + e.start) from None
    return Str(text, chr(b & 0x7F), b > 127), pos + n


def read_latin(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    n = r.size32("string", pos, pos - 1, 1)
    pos += 4
    return Str(r.data[pos : pos + n].decode("latin-1"), chr(b & 0x7F), b > 127), pos + n


def read_short_latin(r: _Reader, pos: int, b: int) -> Tuple[Value, int]:
    if pos >= r.end:
        raise r.truncated("string size", pos, 1)
    n = r.data[pos]
    pos += 1
    if pos + n > r.end:
        raise r.truncated(f"string of size {n}", pos - 2, n)
    return Str(r.data[pos : pos + n].decode("latin-1"), chr(b & 0x7F), b > 127), pos + n


def read_tuple(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return TupleValue([], "(", b > 127), r.size32("tuple", pos, pos - 1, 1), pos + 4


def read_small_tuple(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    if pos >= r.end:
        raise r.truncated("tuple size", pos, 1)
    return TupleValue([], ")", b > 127), r.data[pos], pos + 1


def read_list(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return ListValue([], "[", b > 127), r.size32("list", pos, pos - 1, 1), pos + 4


def read_dict(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return DictValue([], "{", b > 127), -1, pos


def read_set(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return SetValue([], "<", b > 127), r.size32("set", pos, pos - 1, 1), pos + 4


def read_frozenset(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return None, r.size32("set", pos, pos - 1, 1), pos + 4


def read_slice(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return None, 3, pos


def read_frozendict(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    return None, -1, pos


def read_code(r: _Reader, pos: int, b: int) -> Tuple[Any, int, int]:
    rules = r.plan.rules
    if rules.code_class is None:
        fmt = rules.fmt
        raise bad(f"the code-object layout of magic {fmt.magic_number} ({fmt.label}) is not known", pos - 1)
    return None, 0, pos  # the loop reads the fields run by run


# How the loop finishes a container: the model object of a sequence or a dict exists
# before its items (so an item can refer to it); a frozenset's, frozendict's, slice's or
# code object's reference slot is reserved and filled after them (FACTS.md 3.5).
_ROOT, _SEQ, _PAIRS, _FROZENSET, _FROZENDICT, _SLICE, _CODE = range(7)
_KINDS = {"tuple": _SEQ, "small_tuple": _SEQ, "list": _SEQ, "set": _SEQ, "dict": _PAIRS,
          "frozenset": _FROZENSET, "frozendict": _FROZENDICT, "slice": _SLICE, "code": _CODE}  # fmt: skip
_SCALARS = frozenset(
    ["null", "singleton", "int32", "int64", "long", "float_text", "float", "complex_text", "complex", "bytes",
     "interned_bytes", "string_ref", "utf8", "latin", "short_latin"]
)  # fmt: skip

# What the loop does with a type byte: the commonest cases first, inline (each falls
# back to its handler when the input is not plainly well formed, so errors are the
# handler's), then any scalar or container by its handler.  _END: a dict's '0' (or
# '0' | FLAG_REF), in the table used while a dict's pairs are read.
_REF, _SHORT_REF, _BYTES, _SMALL_TUPLE, _SHORT, _SINGLE, _INT, _END, _OTHER = range(9)
_ACTS = {"ref": _REF, "bytes": _BYTES, "small_tuple": _SMALL_TUPLE, "singleton": _SINGLE, "int32": _INT}
#: per type byte: its type code (FLAG_REF clear), and its shared singleton (if any)
_CHARS = [chr(b & 0x7F) for b in range(256)]
_SINGLES = [SINGLETONS.get(b) for b in range(256)]

Scalar = Callable[[_Reader, int, int], Tuple[Value, int]]
Opener = Callable[[_Reader, int, int], Tuple[Any, int, int]]


class _Plan:
    """What a read of one format needs that does not depend on the input (cached)."""

    __slots__ = ("rules", "acts", "pair_acts", "scalar", "keep", "container", "bytes_noun")

    def __init__(self, rules: MarshalRules) -> None:
        self.rules = rules
        handlers = globals()
        #: per type byte: what the loop does with it (see _REF...)
        self.acts = [_OTHER] * 256
        #: per type byte: the scalar handler (or None)
        self.scalar: List[Optional[Scalar]] = [None] * 256
        #: per type byte: whether the value read joins the reference table
        self.keep = [False] * 256
        #: per type byte: the container handler, its kind and its items' names (or None)
        self.container: List[Optional[Tuple[Opener, int, Optional[Tuple[str, ...]]]]] = [None] * 256
        labels = {"slice": ("start", "stop", "step"), "code": tuple(n for names, _ in rules.code_runs for n in names)}
        for b, name in enumerate(rules.handlers):
            if name in _SCALARS:
                self.scalar[b] = handlers["read_" + name]
                self.keep[b] = b & FLAG_REF != 0 and name != "singleton"
                if name == "short_latin":
                    self.acts[b] = _SHORT_REF if b & FLAG_REF else _SHORT
                else:
                    self.acts[b] = _ACTS.get(name, _OTHER)
            elif name in _KINDS:
                self.container[b] = (handlers["read_" + name], _KINDS[name], labels.get(name))
                self.acts[b] = _ACTS.get(name, _OTHER)
            elif name == "ref" and b == 0x72:
                self.acts[b] = _REF
        code_cls: Any = rules.code_class  # the loop passes its fields positionally, flag_ref last
        assert code_cls is None or attrs.fields(code_cls)[-1].name == "flag_ref"
        #: the same while a dict's pairs are read: '0' ends them
        self.pair_acts = list(self.acts)
        self.pair_acts[0x30] = self.pair_acts[0x30 | FLAG_REF] = _END
        #: what an 's' is called in errors
        self.bytes_noun = "bytes object" if rules.fmt.version.major >= 3 else "string"


_PLANS: Dict[int, _Plan] = {}


def _plan(fmt: PycFormat) -> _Plan:
    plan = _PLANS.get(id(fmt))
    if plan is None or plan.rules.fmt is not fmt:  # keyed by identity: hashing a format is slow
        plan = _PLANS[id(fmt)] = _Plan(marshal_rules(fmt))
    return plan


# The handler of a reference ('r') is the loop itself: the reference table lives there.


def _unknown(r: _Reader, b: int, at: int) -> BadMarshalError:
    rules = r.plan.rules
    if b & 0x7F == 0x72 and rules.refs:
        return bad("FLAG_REF on a reference (the model cannot keep it)", at)
    if b & FLAG_REF and not rules.refs and rules.handlers[b & 0x7F]:
        return bad(f"type code {b:#04x}: FLAG_REF is not known to {rules.fmt.version}", at)
    char = chr(b & 0x7F)
    shown = repr(char) if char.isprintable() else "non-printing"
    return bad(f"unknown type code {b:#04x} ({shown})", at)


# A frame of the loop's stack: a container being read, as the loop's variables
# (kind, model object made first, type byte, reserved slot, item names, items, the
# iterator counting the items still to read, next run of code fields).
Frame = Tuple[int, Any, int, int, Optional[Tuple[str, ...]], List[Any], Iterator[Any], int]


def _run(r: _Reader, pos: int) -> Tuple[Value, int]:  # noqa: C901 - one loop, kept whole for speed
    """Read one value at ``pos``: the loop that reads every container's items."""
    data = r.data
    end = r.end
    plan = r.plan
    rules = plan.rules
    acts = seq_acts = plan.acts
    pair_acts = plan.pair_acts
    scalar = plan.scalar
    keep = plan.keep
    container = plan.container
    code_runs = len(rules.code_runs)
    code_cls: Any = rules.code_class
    chars = _CHARS
    singles = _SINGLES
    u32, i32 = _U32, _I32
    str_cls, bytes_cls, tuple_cls, int_cls, seq = Str, Bytes, TupleValue, Int, _SEQ
    limit = rules.max_depth
    refs: List[Any] = []  # the reference table (None: a reserved slot)
    stack: List[Frame] = []
    # The current container (the root holds the one value read); ``it`` yields once per
    # item still to read (a dict's: until its '0').
    items: List[Any] = []
    it: Iterator[Any] = iter(range(1))
    kind, made, fb, slot, labels, run = _ROOT, None, 0, -1, None, 0
    obj: Any
    try:
        while True:
            for _ in it:
                try:
                    b = data[pos]
                except IndexError:
                    raise TruncatedError("EOF read where object expected", offset=pos) from None
                act = acts[b]
                # The commonest type codes first, read here (literal numbers: see _ACTS);
                # anything not plainly well formed falls through to its handler, which
                # says what is wrong.
                if act == 0:  # _REF: a reference, resolved here, the one place
                    try:  # (unsigned: a negative index is out of range too)
                        found = refs[u32(data, pos + 1)[0]]
                    except (IndexError, struct.error):
                        found = None
                    if found is None:
                        raise _bad_ref(r, refs, pos)
                    items.append(found)
                    pos += 5
                    continue
                if act == 1:  # _SHORT_REF: read_short_latin of a flagged string
                    try:
                        k = pos + 2 + data[pos + 1]
                    except IndexError:
                        k = end + 1
                    if k <= end:
                        obj = str_cls(data[pos + 2 : k].decode("latin-1"), chars[b], True)
                        refs.append(obj)
                        items.append(obj)
                        pos = k
                        continue
                elif act == 2:  # _BYTES: read_bytes
                    try:
                        n = i32(data, pos + 1)[0]
                    except struct.error:
                        n = -1
                    if 0 <= n <= end - pos - 5:
                        pos += 5
                        obj = bytes_cls(data[pos : pos + n], "s", b > 127)
                        if b > 127:
                            refs.append(obj)
                        items.append(obj)
                        pos += n
                        continue
                elif act == 3:  # _SMALL_TUPLE: read_small_tuple, the container opened here
                    try:
                        count = data[pos + 1]
                    except IndexError:
                        count = -1
                    if count >= 0:
                        pos += 2
                        obj = tuple_cls([], ")", b > 127)
                        if b > 127:
                            refs.append(obj)
                        if not count:
                            items.append(obj)
                            continue
                        stack.append((kind, made, fb, slot, labels, items, it, run))
                        kind, made, fb, slot, labels, items, run = seq, obj, b, -1, None, obj.items, 0
                        if len(stack) >= limit:
                            raise NestingTooDeepError(f"objects nested deeper than the limit of {limit}", offset=pos)
                        it = iter(range(count))
                        acts = seq_acts
                        break
                elif act == 4:  # _SHORT: read_short_latin of an unflagged string
                    try:
                        k = pos + 2 + data[pos + 1]
                    except IndexError:
                        k = end + 1
                    if k <= end:
                        items.append(str_cls(data[pos + 2 : k].decode("latin-1"), chars[b], False))
                        pos = k
                        continue
                elif act == 5:  # _SINGLE: read_singleton
                    items.append(singles[b])
                    pos += 1
                    continue
                elif act == 6:  # _INT: read_int32
                    try:
                        obj = int_cls(i32(data, pos + 1)[0], "i", b > 127)
                    except struct.error:
                        obj = None
                    if obj is not None:
                        if b > 127:
                            refs.append(obj)
                        items.append(obj)
                        pos += 5
                        continue
                elif act == 7:  # _END: a dict's '0', its pairs are complete
                    if len(items) & 1:
                        raise bad(f"{'frozendict' if kind == _FROZENDICT else 'dict'} key without a value", pos)
                    if b != 0x30:
                        raise bad("FLAG_REF on the end of a dict (the model cannot keep it)", pos)
                    pos += 1
                    value = _finish(kind, made, fb, items, rules)
                    if slot >= 0:
                        refs[slot] = value
                    kind, made, fb, slot, labels, items, it, run = stack.pop()
                    acts = pair_acts if kind == _PAIRS or kind == _FROZENDICT else seq_acts
                    items.append(value)
                    break
                handler = scalar[b]
                if handler is not None:
                    obj, pos = handler(r, pos + 1, b)
                    if keep[b]:
                        refs.append(obj)
                    items.append(obj)
                    continue
                entry = container[b]
                if entry is None:
                    raise _unknown(r, b, pos)
                # -- a container: remember where we are, read its items --------------
                opener, child_kind, child_labels = entry
                obj, count, pos = opener(r, pos + 1, b)
                if not count and child_kind == _SEQ:  # an empty sequence: nothing to remember
                    if b > 127:
                        refs.append(obj)
                    items.append(obj)
                    continue
                child_slot = -1
                if b > 127:
                    if obj is not None:
                        refs.append(obj)
                    else:
                        child_slot = len(refs)
                        refs.append(None)
                stack.append((kind, made, fb, slot, labels, items, it, run))
                kind, made, fb, slot, labels, items, run = child_kind, obj, b, child_slot, child_labels, [], 0
                if kind == _SEQ:
                    items = obj.items
                if kind == _CODE:
                    pos, count, run = _code_ints(r, items, pos, 0)
                if count and len(stack) >= limit:
                    raise NestingTooDeepError(f"objects nested deeper than the limit of {limit}", offset=pos)
                if count < 0:
                    it = _FOREVER()
                    acts = pair_acts
                else:
                    it = iter(range(count))
                    acts = seq_acts
                break
            else:
                # -- the current container is complete ---------------------------------
                if kind == seq:
                    value = made  # type: ignore[assignment]
                elif kind == _CODE:
                    if run < code_runs:
                        pos, count, run = _code_ints(r, items, pos, run)
                        it = iter(range(count))
                        continue
                    items.append(fb > 127)  # flag_ref, the last field
                    value = code_cls(*items)
                    if slot >= 0:
                        refs[slot] = value
                elif kind == _ROOT:
                    return items[0], pos
                else:
                    value = _finish(kind, made, fb, items, rules)
                    if slot >= 0:
                        refs[slot] = value
                kind, made, fb, slot, labels, items, it, run = stack.pop()
                acts = pair_acts if kind == _PAIRS or kind == _FROZENDICT else seq_acts
                items.append(value)
    except PycError as e:
        e._prepend_path(_path(stack, kind, labels, items))
        raise


_FOREVER = itertools.count


def _code_ints(r: _Reader, items: List[Any], pos: int, run: int) -> Tuple[int, int, int]:
    """Read a code object's integer fields from run ``run`` up to its next run of object
    fields; return the offset, how many object fields follow (0 at the end) and the next
    run."""
    runs = r.plan.rules.code_runs
    while run < len(runs):
        names, st = runs[run]
        run += 1
        if st is None:
            return pos, len(names), run
        if pos + st.size > r.end:
            size = r.plan.rules.int_size
            cut = (r.end - pos) // size  # the first field not all there
            at = pos + cut * size
            items.extend([0] * cut)  # so the error's path names that field
            raise r.truncated(f"code object field {names[cut]}", at, size)
        items.extend(st.unpack_from(r.data, pos))
        pos += st.size
    return pos, 0, run


def _finish(kind: int, made: Any, b: int, items: List[Any], rules: MarshalRules) -> Value:
    """The model object of a complete container (other than a sequence or a code object)."""
    if kind == _PAIRS or kind == _FROZENDICT:
        it = iter(items)
        pairs = list(zip(it, it))
        if made is not None:
            made.items = pairs
            return made  # type: ignore[no-any-return]
        return FrozenDict(pairs, "}", b > 127)
    if kind == _FROZENSET:
        return FrozenSetValue(items, ">", b > 127)
    assert kind == _SLICE, kind  # a code object is finished in the loop
    return Slice(items[0], items[1], items[2], ":", b > 127)


def _bad_ref(r: _Reader, refs: List[Any], pos: int) -> PycError:
    if pos + 5 > r.end:
        return r.truncated("ref", pos + 1, 4)
    i = _I32(r.data, pos + 1)[0]
    return bad(f"invalid reference {i} ({len(refs)} objects flagged so far)", pos)


def _path(stack: List[Frame], kind: int, labels: Optional[Tuple[str, ...]], items: List[Any]) -> str:
    """Where the loop is: the path from the root value to the item being read."""
    frames = [(f[0], f[4], f[5]) for f in stack] + [(kind, labels, items)]
    path = ""
    for k, names, its in frames[1:]:  # the root frame has no step
        if k == _PAIRS or k == _FROZENDICT:
            step = f"[{len(its) // 2}].{'value' if len(its) & 1 else 'key'}"
        elif names is not None:
            step = names[min(len(its), len(names) - 1)]
        else:
            step = f"[{len(its)}]"
        path += step if step.startswith("[") or not path else "." + step
    return path
