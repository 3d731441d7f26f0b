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

import struct
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _accel
from ._errors import BadMarshalError, NestingTooDeepError, PycError, TruncatedError, version_text
from ._formats import FLAG_REF, MarshalRules, marshal_rules
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
from ._versions import PycFormat

__all__ = ["read_value"]

_I32 = struct.Struct("<i").unpack_from
_I64 = struct.Struct("<q").unpack_from

# Shared, immutable singleton values: index by the type byte (flag included).
SINGLETONS: Dict[int, Singleton] = {}
for _c in "NTFS.":
    SINGLETONS[ord(_c)] = Singleton(_c, False)
    SINGLETONS[ord(_c) | FLAG_REF] = Singleton(_c, True)


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
    n = r.size32(r.plan.bytes_noun, pos, pos - 1, 1)
    pos += 4
    return Bytes(r.data[pos : pos + n], "s", b > 127), pos + n


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


# The containers whose model object exists before its items (so an item can refer to
# it), and those whose reference slot is reserved and filled after them (FACTS.md 3.5).
_MADE_FIRST = frozenset(["tuple", "small_tuple", "list", "dict", "set"])
_BUILT_AFTER = {"frozenset": FrozenSetValue, "frozendict": FrozenDict, "slice": Slice, "code": None}
_SCALARS = frozenset(
    ["null", "singleton", "int32", "int64", "long", "float_text", "float", "complex_text", "complex", "bytes",
     "interned_bytes", "string_ref", "utf8", "latin", "short_latin"]
)  # fmt: skip


class _Plan:
    """What a read of one format needs that does not depend on the input (cached)."""

    __slots__ = ("rules", "scalar", "container", "short_latin", "labels", "bytes_noun")

    def __init__(self, rules: MarshalRules) -> None:
        self.rules = rules
        handlers = globals()
        #: per type byte: the scalar handler (or None)
        self.scalar: List[Optional[Callable[[_Reader, int, int], Tuple[Value, int]]]] = [None] * 256
        #: per type byte: the container handler and its name (or None)
        self.container: List[Optional[Tuple[str, Callable[[_Reader, int, int], Tuple[Any, int, int]]]]] = [None] * 256
        for b, name in enumerate(rules.handlers):
            if name in _SCALARS:
                self.scalar[b] = handlers["read_" + name]
            elif name and name != "ref":
                self.container[b] = (name, handlers["read_" + name])
        #: short Latin-1 string type bytes -> their code (the loop's fast path)
        self.short_latin = {b: chr(b & 0x7F) for b, name in enumerate(rules.handlers) if name == "short_latin"}
        #: the names of a container's items where they have names (else they are [i])
        self.labels = {"slice": ("start", "stop", "step"), "code": tuple(n for names, _ in rules.code_runs for n in names)}
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
    if b & FLAG_REF and not rules.refs and rules.handlers[b & 0x7F]:
        return bad(f"type code {b:#04x}: FLAG_REF is not known to {rules.fmt.version}", at)
    char = chr(b & 0x7F)
    shown = repr(char) if char.isprintable() else "non-printing"
    return bad(f"unknown type code {b:#04x} ({shown})", at)


class _Frame:
    """A container being read: its items so far and what to make of them."""

    __slots__ = ("name", "obj", "b", "slot", "labels", "runs", "run")

    def __init__(self, name: str, obj: Any, b: int, slot: int, labels: Optional[Tuple[str, ...]]) -> None:
        self.name = name  # the handler name ("" for the root)
        self.obj = obj  # the model object made first, or None
        self.b = b  # the type byte
        self.slot = slot  # its reserved reference slot, or -1
        self.labels = labels  # item names (code fields, slice parts), or None for [i]
        self.runs: Tuple[Tuple[Tuple[str, ...], Optional[struct.Struct]], ...] = ()
        self.run = 0  # code objects: the index of the next run of fields


def _run(r: _Reader, pos: int) -> Tuple[Value, int]:  # noqa: C901 - one loop, kept whole for speed
    """Read one value at ``pos``: the loop that reads every container's items."""
    data = r.data
    end = r.end
    plan = r.plan
    rules = plan.rules
    scalar = plan.scalar
    container = plan.container
    short_latin = plan.short_latin
    use_refs = rules.refs
    limit = rules.max_depth
    refs: List[Any] = []  # the reference table (None: a reserved slot)
    stack: List[Tuple[_Frame, List[Any], int]] = []  # the enclosing frames, their items and counts
    frame = _Frame("", None, 0, -1, None)  # the root: one item
    items: List[Any] = []
    todo = 1  # items still to read into ``items``; -1: key/value pairs up to '0'
    obj: Any
    try:
        while True:
            # -- the items of the current container ----------------------------------
            while todo:
                if pos >= end:
                    raise TruncatedError("EOF read where object expected", offset=pos)
                b = data[pos]
                if todo < 0:  # a dict's pairs, ended by '0' where a key is due
                    if len(items) & 1:
                        if b & 0x7F == 0x30:
                            raise bad(f"{frame.name} key without a value", pos)
                    elif b == 0x30:
                        pos += 1
                        break
                    elif b == 0xB0:
                        raise bad("FLAG_REF on the end of a dict (the model cannot keep it)", pos)
                if b == 0x72 and use_refs:  # a reference: resolved here, the one place
                    if pos + 5 <= end:
                        j = _I32(data, pos + 1)[0]
                        if 0 <= j < len(refs):
                            found = refs[j]
                            if found is not None:
                                items.append(found)
                                pos += 5
                                todo -= 1
                                continue
                    raise _bad_ref(r, refs, pos)
                if b in short_latin:  # fast path: a short ASCII string
                    k = pos + 2 + data[pos + 1] if pos + 1 < end else end + 1
                    if k <= end:
                        obj = Str(data[pos + 2 : k].decode("latin-1"), short_latin[b], b > 127)
                        if b > 127:
                            refs.append(obj)
                        items.append(obj)
                        pos = k
                        todo -= 1
                        continue
                pos += 1
                handler = scalar[b]
                if handler is not None:
                    obj, pos = handler(r, pos, b)
                    if b > 127 and use_refs and obj.__class__ is not Singleton:
                        refs.append(obj)
                    items.append(obj)
                    todo -= 1
                    continue
                entry = container[b]
                if entry is None:
                    if b & 0x7F == 0x72 and use_refs:
                        raise bad("FLAG_REF on a reference (the model cannot keep it)", pos - 1)
                    raise _unknown(r, b, pos - 1)
                # -- a container: remember where we are, read its items --------------
                name, opener = entry
                made, count, pos = opener(r, pos, b)
                slot = -1
                if b > 127:
                    if made is not None:
                        refs.append(made)
                    else:
                        slot = len(refs)
                        refs.append(None)
                child = _Frame(name, made, b, slot, plan.labels.get(name))
                stack.append((frame, items, todo - 1))
                frame, items, todo = child, [], count
                if name == "code":
                    child.runs = rules.code_runs
                    pos, todo = _next_code_run(r, child, items, pos)
                if (todo or name in ("dict", "frozendict")) and len(stack) + 1 > limit:
                    raise NestingTooDeepError(f"objects nested deeper than the limit of {limit}", offset=pos)
            # -- the current container is complete -------------------------------------
            if frame.name == "code" and frame.run < len(frame.runs):
                pos, todo = _next_code_run(r, frame, items, pos)
                continue
            if not stack:
                return items[0], pos
            value = _finish(frame, items, rules)
            if frame.slot >= 0:
                refs[frame.slot] = value
            frame, items, todo = stack.pop()
            items.append(value)
    except PycError as e:
        e._prepend_path(_path(stack, frame, items))
        raise


def _next_code_run(r: _Reader, frame: _Frame, items: List[Any], pos: int) -> Tuple[int, int]:
    """Read a code object's integer fields up to its next run of object fields; return
    the offset and how many object fields follow (0 at the end)."""
    runs = frame.runs
    while frame.run < len(runs):
        names, st = runs[frame.run]
        frame.run += 1
        if st is None:
            return pos, len(names)
        if pos + st.size > r.end:
            size = r.plan.rules.int_size
            cut = (r.end - pos) // size  # the first field not all there
            at = pos + cut * size
            items.extend([0] * cut)  # so the error's path names that field
            raise r.truncated(f"code object field {names[cut]}", at, size)
        items.extend(st.unpack_from(r.data, pos))
        pos += st.size
    return pos, 0


def _finish(frame: _Frame, items: List[Any], rules: MarshalRules) -> Value:
    """The model object of a complete container."""
    name = frame.name
    obj = frame.obj
    if name in ("dict", "frozendict"):
        it = iter(items)
        pairs = list(zip(it, it))
        if obj is not None:
            obj.items = pairs
            return obj  # type: ignore[no-any-return]
        return FrozenDict(pairs, "}", frame.b > 127)
    if obj is not None:
        obj.items = items
        return obj  # type: ignore[no-any-return]
    if name == "frozenset":
        return FrozenSetValue(items, ">", frame.b > 127)
    if name == "slice":
        return Slice(items[0], items[1], items[2], ":", frame.b > 127)
    code_cls = rules.code_class
    assert code_cls is not None
    made: Value = code_cls(*items, flag_ref=frame.b > 127)  # type: ignore[call-arg]
    return made


def _bad_ref(r: _Reader, refs: List[Any], pos: int) -> PycError:
    if pos + 5 > r.end:
        return r.truncated("ref", pos + 1, 4)
    i = _I32(r.data, pos + 1)[0]
    return bad(f"invalid reference {i} ({len(refs)} objects flagged so far)", pos)


def _path(stack: List[Tuple[_Frame, List[Any], int]], frame: _Frame, items: List[Any]) -> str:
    """Where the loop is: the path from the root value to the item being read."""
    steps = []
    for f, its in [(f, its) for f, its, _ in stack[1:]] + [(frame, items)] if stack else []:
        if f.name in ("dict", "frozendict"):
            steps.append(f"[{len(its) // 2}].{'value' if len(its) & 1 else 'key'}")
        elif f.labels is not None:
            steps.append(f.labels[min(len(its), len(f.labels) - 1)])
        else:
            steps.append(f"[{len(its)}]")
    path = ""
    for step in steps:
        path += step if step.startswith("[") or not path else "." + step
    return path
