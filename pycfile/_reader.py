"""The marshal reader: bytes of any version into the typed model.

One reader for every version: the version's :class:`~pycfile.PycFormat` decides which
type codes exist (``_Plan``, cached per format), the code-object layout and the nesting limit.  The
reader mirrors :mod:`pycfile._writer`.

Robustness: every length is checked against the bytes left before anything is
allocated, nesting is bounded by the version's limit (and the Python recursion limit is
raised for the duration of a read so that limit, not Python's, decides), and work is
linear in the input size.  Every failure is a :class:`~pycfile.BadPycError` carrying the
offset, the path in the object tree and the version.
"""

from __future__ import annotations

import operator
import struct
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _accel
from ._code import Code, code_class, code_fields
from ._deep import SHALLOW_DEPTH, TooDeepForThisStack, call_with_deep_stack
from ._errors import BadMarshalError, NestingTooDeepError, PycError, TruncatedError, version_text
from ._values import (
    Bytes,
    Complex,
    Float,
    FrozenDict,
    FrozenSetValue,
    Int,
    Long,
    SetValue,
    Singleton,
    Slice,
    Str,
    Value,
)
from ._values import DictValue
from ._values import ListValue
from ._values import TupleValue
from ._versions import PycFormat

__all__ = ["has_refs", "read_value", "readable_codes"]

FLAG_REF = 0x80

_I32 = struct.Struct("<i").unpack_from
_I64 = struct.Struct("<q").unpack_from
_I16 = struct.Struct("<h").unpack_from

# Short ASCII string type bytes (3.4+) -> their code, for the reader's fast path.
SHORT_ASCII = {0x7A: "z", 0x5A: "Z", 0xFA: "z", 0xDA: "Z"}

# Shared, immutable singleton values: index by the type byte (flag included).
_SINGLETONS: Dict[int, Singleton] = {}
for _c in "NTFS.":
    _SINGLETONS[ord(_c)] = Singleton(_c, False)
    _SINGLETONS[ord(_c) | FLAG_REF] = Singleton(_c, True)


def readable_codes(fmt: PycFormat) -> str:
    """The type codes the reader of ``fmt``'s version accepts (FACTS.md 3.2)."""
    v = fmt.version
    major = v.major
    codes = "0Nil(sc[{" + "f"  # every version
    if v >= (1, 4):
        codes += ".x"
    if v >= (1, 5) and not (3, 4) <= v < (3, 6):
        codes += "I"
    if v >= (1, 6):
        codes += "u"
    if v >= (2, 2):
        codes += "TFS"
    if v >= (2, 5):
        codes += "gy<>"
    if major == 2 and v >= (2, 4):
        codes += "tR"
    if v >= (3, 4):
        codes += "traAzZ)"
    if v >= (3, 14):
        codes += ":"
    if v >= (3, 15):
        codes += "}"
    if v < (1, 3):
        codes = codes.replace("c", "C")
    return "".join(sorted(set(codes)))


def has_refs(fmt: PycFormat) -> bool:
    """Whether ``fmt``'s marshal has FLAG_REF and ``r`` (3.4+)."""
    return fmt.version >= (3, 4)


def _checks_longs(fmt: PycFormat) -> bool:
    # 2.7 and CPython 3 reject unnormalized longs; older readers and PyPy accept them.
    return fmt.version >= (2, 7) and fmt.version.implementation == "cpython"


class _Plan:
    """What a read of one format needs that does not depend on the input (cached)."""

    __slots__ = ("fmt", "names", "pick", "pool", "py3", "check_longs", "strict_floats", "refs", "short_ascii", "code_cls", "steps")

    def __init__(self, fmt: PycFormat) -> None:
        self.fmt = fmt
        codes = readable_codes(fmt)
        self.refs = refs = has_refs(fmt)
        self.py3 = fmt.version.major >= 3
        self.check_longs = _checks_longs(fmt)
        # CPython parses text floats with PyOS_string_to_double: no spaces, no underscores.
        self.strict_floats = fmt.version.implementation == "cpython"
        # For each of the 256 type bytes, the name of its handler ('' = unknown; a
        # flagged singleton has its own, '!'-suffixed, shared value).
        names = [""] * 256
        for c in codes:
            names[ord(c)] = c
            if refs:
                names[ord(c) | FLAG_REF] = c + "!" if c in "NTFS." else c
        self.names = names
        # Picks, from _read's handlers in _HANDLER_NAMES order, one per type byte.
        self.pick = operator.itemgetter(*[_HANDLER_NAMES.index(name) for name in names])
        self.short_ascii = {b: c for b, c in SHORT_ASCII.items() if names[b]}
        layout = fmt.code_layout
        self.code_cls = code_cls = code_class(layout) if layout is not None else None
        # The layout as steps: a run of int fields (one struct) or a run of object fields.
        steps: List[Tuple[Tuple[str, ...], Optional[struct.Struct]]] = []
        if code_cls is not None:
            int_char = "h" if code_cls.int_size == 2 else "i"
            for name, is_int in code_fields(code_cls):
                if steps and (steps[-1][1] is not None) == is_int:
                    names_, _ = steps[-1]
                    steps[-1] = (names_ + (name,), struct.Struct("<" + int_char * (len(names_) + 1)) if is_int else None)
                else:
                    steps.append(((name,), struct.Struct("<" + int_char) if is_int else None))
        self.steps = steps
        #: Readers of this format ready for reuse (see _make_reader).
        self.pool: List[Callable[[bytes, int, int], Tuple[Value, int]]] = []


_PLANS: Dict[int, _Plan] = {}


def _plan(fmt: PycFormat) -> _Plan:
    plan = _PLANS.get(id(fmt))
    if plan is None or plan.fmt is not fmt:  # keyed by identity: hashing a format is slow
        plan = _PLANS[id(fmt)] = _Plan(fmt)
    return plan


def read_value(
    data: bytes, pos: int, fmt: PycFormat, root: str = "value"
) -> Tuple[Value, int]:
    """Read one marshal value at ``data[pos:]``; return it and the offset after it."""
    if _accel.ENABLED:
        done = _accel.read(data, pos, fmt)
        if done is not None:
            return done
    try:
        try:
            return _read(data, pos, fmt, min(SHALLOW_DEPTH, fmt.max_depth))
        except (TooDeepForThisStack, RecursionError):
            return call_with_deep_stack(_read, data, pos, fmt, fmt.max_depth)
    except PycError as e:
        e._prepend_path(root)
        if e.version is None:
            e.version = version_text(fmt)
        raise


def _read(data: bytes, start: int, fmt: PycFormat, limit: int) -> Tuple[Value, int]:
    plan = _plan(fmt)
    pool = plan.pool
    try:
        reader = pool.pop()
    except IndexError:
        reader = _make_reader(plan)
    try:
        return reader(data, start, limit)
    finally:
        pool.append(reader)


def _make_reader(plan: _Plan) -> Callable[[bytes, int, int], Tuple[Value, int]]:  # noqa: C901
    """A reader for one format.  Making one costs more than a small read, so readers
    are kept in the plan's pool and reused; each serves one read at a time (the state
    of the current read lives in this function's variables)."""
    fmt = plan.fmt
    data = b""
    end = 0
    pos = 0
    limit = 0
    refs: List[Any] = []  # 3.4+ reference table (None = reserved slot)
    strings: List[Bytes] = []  # 2.4-2.7 interned-string table
    maxdepth = fmt.max_depth
    py3 = plan.py3
    check_longs = plan.check_longs
    short_ascii = plan.short_ascii
    strict_floats = plan.strict_floats

    def truncated(what: str, at: int, need: int) -> TruncatedError:
        return TruncatedError(f"marshal data too short: {what} needs {need} bytes, {end - at} left", offset=at)

    def bad(msg: str, at: int) -> BadMarshalError:
        return BadMarshalError(f"bad marshal data ({msg})", offset=at)

    def too_deep(at: int) -> Exception:
        if limit < maxdepth:
            return TooDeepForThisStack()
        return NestingTooDeepError(f"objects nested deeper than the limit of {maxdepth}", offset=at)

    def size32(what: str, at: int, per_item: int) -> int:
        """A 32-bit count at pos; checked against the bytes left (each item needs at
        least ``per_item`` bytes) before the caller allocates anything."""
        nonlocal pos
        if pos + 4 > end:
            raise truncated(f"{what} size", pos, 4)
        n: int = _I32(data, pos)[0]
        if n < 0:
            raise bad(f"{what} size out of range: {n}", at)
        pos += 4
        if n * per_item > end - pos:
            raise truncated(f"{what} of size {n}", at, n * per_item)
        return n

    def r_object(depth: int) -> Value:
        nonlocal pos
        if pos >= end:
            raise TruncatedError("EOF read where object expected", offset=pos)
        b = data[pos]
        pos += 1
        return handlers[b](b, depth)

    # ---- scalars ------------------------------------------------------------------

    def h_unknown(b: int, depth: int) -> Value:
        if b & FLAG_REF and not plan.refs and handlers[b & 0x7F] is not h_unknown:
            raise bad(f"type code {b:#04x}: FLAG_REF is not known to {fmt.version}", pos - 1)
        char = chr(b & 0x7F)
        shown = repr(char) if char.isprintable() else "non-printing"
        raise bad(f"unknown type code {b:#04x} ({shown})", pos - 1)

    def h_null(b: int, depth: int) -> Value:
        raise bad("NULL object where a value is expected", pos - 1)

    def h_int(b: int, depth: int) -> Value:
        nonlocal pos
        if pos + 4 > end:
            raise truncated("int", pos, 4)
        obj = Int(_I32(data, pos)[0], "i", b > 127)
        pos += 4
        if b > 127:
            refs.append(obj)
        return obj

    def h_int64(b: int, depth: int) -> Value:
        nonlocal pos
        if pos + 8 > end:
            raise truncated("64-bit int", pos, 8)
        obj = Int(_I64(data, pos)[0], "I", b > 127)
        pos += 8
        if b > 127:
            refs.append(obj)
        return obj

    def h_long(b: int, depth: int) -> Value:
        nonlocal pos
        at = pos - 1
        if pos + 4 > end:
            raise truncated("long size", pos, 4)
        n = _I32(data, pos)[0]
        pos += 4
        size = -n if n < 0 else n
        if size > 0x7FFFFFFF:
            raise bad(f"long size out of range: {n}", at)
        if 2 * size > end - pos:
            raise truncated(f"long of {size} digits", at, 2 * size)
        digits = struct.unpack_from(f"<{size}H", data, pos)
        pos += 2 * size
        value = 0
        for d in reversed(digits):
            if d > 0x7FFF:
                raise bad("digit out of range in long", at)
            value = (value << 15) | d
        canonical = (value.bit_length() + 14) // 15
        stored: Optional[int] = None
        if size != canonical or (n < 0 and value == 0):
            if check_longs:
                raise bad("unnormalized long data", at)
            stored = n
        obj = Long(-value if n < 0 else value, "l", b > 127, stored)
        if b > 127:
            refs.append(obj)
        return obj

    def text_float(what: str) -> bytes:
        nonlocal pos
        if pos >= end:
            raise truncated(what, pos, 1)
        n = data[pos]
        pos += 1
        if pos + n > end:
            raise truncated(what, pos, n)
        raw = data[pos : pos + n]
        text = raw.decode("latin-1")
        try:
            # CPython parses with PyOS_string_to_double: unlike float(), no surrounding
            # whitespace and no underscores.  PyPy parses with its float().
            if strict_floats and ("_" in text or text.strip() != text):
                raise ValueError(text)
            float(text)
        except ValueError:
            raise bad(f"{what} text {raw!r} is not a number", pos - 1) from None
        pos += n
        return raw

    def h_float_text(b: int, depth: int) -> Value:
        obj = Float(text_float("float"), "f", b > 127)
        if b > 127:
            refs.append(obj)
        return obj

    def h_float(b: int, depth: int) -> Value:
        nonlocal pos
        if pos + 8 > end:
            raise truncated("float", pos, 8)
        obj = Float(data[pos : pos + 8], "g", b > 127)
        pos += 8
        if b > 127:
            refs.append(obj)
        return obj

    def h_complex_text(b: int, depth: int) -> Value:
        real = text_float("complex")
        obj = Complex(real, text_float("complex"), "x", b > 127)
        if b > 127:
            refs.append(obj)
        return obj

    def h_complex(b: int, depth: int) -> Value:
        nonlocal pos
        if pos + 16 > end:
            raise truncated("complex", pos, 16)
        obj = Complex(data[pos : pos + 8], data[pos + 8 : pos + 16], "y", b > 127)
        pos += 16
        if b > 127:
            refs.append(obj)
        return obj

    def h_bytes(b: int, depth: int) -> Value:
        nonlocal pos
        n = size32("string" if not py3 else "bytes object", pos - 1, 1)
        obj = Bytes(data[pos : pos + n], "s", b > 127)
        pos += n
        if b > 127:
            refs.append(obj)
        return obj

    def h_interned2(b: int, depth: int) -> Value:
        nonlocal pos
        n = size32("string", pos - 1, 1)
        obj = Bytes(data[pos : pos + n], "t", False)
        pos += n
        strings.append(obj)
        return obj

    def h_stringref(b: int, depth: int) -> Value:
        nonlocal pos
        if pos + 4 > end:
            raise truncated("string ref", pos, 4)
        i: int = _I32(data, pos)[0]
        if not 0 <= i < len(strings):
            raise bad(f"string ref out of range: {i} with {len(strings)} interned strings", pos - 1)
        pos += 4
        return strings[i]

    def h_unicode(b: int, depth: int) -> Value:
        nonlocal pos
        at = pos - 1
        n = size32("string", at, 1)
        try:
            text = data[pos : pos + n].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as e:
            raise bad(f"invalid UTF-8 in string: {e.reason} at byte {e.start}", pos + e.start) from None
        obj = Str(text, chr(b & 0x7F), b > 127)
        pos += n
        if b > 127:
            refs.append(obj)
        return obj

    def h_ascii(b: int, depth: int) -> Value:
        nonlocal pos
        n = size32("string", pos - 1, 1)
        obj = Str(data[pos : pos + n].decode("latin-1"), chr(b & 0x7F), b > 127)
        pos += n
        if b > 127:
            refs.append(obj)
        return obj

    def h_short_ascii(b: int, depth: int) -> Value:
        nonlocal pos
        if pos >= end:
            raise truncated("string size", pos, 1)
        n = data[pos]
        pos += 1
        if pos + n > end:
            raise truncated(f"string of size {n}", pos - 2, n)
        obj = Str(data[pos : pos + n].decode("latin-1"), chr(b & 0x7F), b > 127)
        pos += n
        if b > 127:
            refs.append(obj)
        return obj

    def h_ref(b: int, depth: int) -> Value:
        nonlocal pos
        if b == 0xF2:
            raise bad("FLAG_REF on a reference (the model cannot keep it)", pos - 1)
        if pos + 4 > end:
            raise truncated("ref", pos, 4)
        i = _I32(data, pos)[0]
        if not 0 <= i < len(refs) or refs[i] is None:
            raise bad(f"invalid reference {i} ({len(refs)} objects flagged so far)", pos - 1)
        pos += 4
        found: Value = refs[i]
        return found

    # ---- containers ---------------------------------------------------------------

    def read_items(n: int, depth: int, names: Optional[Tuple[str, ...]] = None) -> List[Value]:
        """Read ``n`` values: a container's items, or a run of code-object fields
        named by ``names`` (the reader's hot path)."""
        nonlocal pos
        depth += 1
        items: List[Value] = []
        append = items.append
        i = 0
        try:
            if n and depth > limit:  # inside the try: the path names the child
                raise too_deep(pos)
            for i in range(n):
                if pos >= end:
                    raise TruncatedError("EOF read where object expected", offset=pos)
                c = data[pos]
                # Inline fast paths for the commonest items (a reference, a short
                # ASCII string); anything unusual, including every error, goes to
                # the handler, which repeats the checks and says what is wrong.
                if c == 0x72:
                    if pos + 5 <= end:
                        j = _I32(data, pos + 1)[0]
                        if 0 <= j < len(refs):
                            found = refs[j]
                            if found is not None:
                                append(found)
                                pos += 5
                                continue
                elif c in short_ascii:
                    k = pos + 2 + data[pos + 1] if pos + 1 < end else end + 1
                    if k <= end:
                        obj = Str(data[pos + 2 : k].decode("latin-1"), short_ascii[c], c > 127)
                        if c > 127:
                            refs.append(obj)
                        append(obj)
                        pos = k
                        continue
                pos += 1
                append(handlers[c](c, depth))
        except PycError as e:
            e._prepend_path(f"[{i}]" if names is None else names[i])
            raise
        return items

    def h_tuple(b: int, depth: int) -> Value:
        obj = TupleValue([], "(", b > 127)
        if b > 127:
            refs.append(obj)
        obj.items = read_items(size32("tuple", pos - 1, 1), depth)
        return obj

    def h_small_tuple(b: int, depth: int) -> Value:
        nonlocal pos
        if pos >= end:
            raise truncated("tuple size", pos, 1)
        n = data[pos]
        pos += 1
        obj = TupleValue([], ")", b > 127)
        if b > 127:
            refs.append(obj)
        obj.items = read_items(n, depth)
        return obj

    def h_list(b: int, depth: int) -> Value:
        obj = ListValue([], "[", b > 127)
        if b > 127:
            refs.append(obj)
        obj.items = read_items(size32("list", pos - 1, 1), depth)
        return obj

    def h_set(b: int, depth: int) -> Value:
        obj = SetValue([], "<", b > 127)
        if b > 127:
            refs.append(obj)
        obj.items = read_items(size32("set", pos - 1, 1), depth)
        return obj

    def h_frozenset(b: int, depth: int) -> Value:
        at = pos - 1
        slot = len(refs)
        if b > 127:
            refs.append(None)
        obj = FrozenSetValue(read_items(size32("set", at, 1), depth), ">", b > 127)
        if b > 127:
            refs[slot] = obj
        return obj

    def read_pairs(depth: int, what: str) -> List[Tuple[Value, Value]]:
        nonlocal pos
        depth += 1
        pairs: List[Tuple[Value, Value]] = []
        i = 0
        part = "key"
        try:
            if depth > limit:
                raise too_deep(pos)
            while True:
                if pos >= end:
                    raise TruncatedError("EOF read where object expected", offset=pos)
                c = data[pos]
                pos += 1
                if c == 0x30:  # '0' ends the dict
                    return pairs
                if c == 0xB0:
                    raise bad("FLAG_REF on the end of a dict (the model cannot keep it)", pos - 1)
                part = "key"
                key = handlers[c](c, depth)
                if pos >= end:
                    raise TruncatedError("EOF read where object expected", offset=pos)
                c = data[pos]
                if c & 0x7F == 0x30:
                    raise bad(f"{what} key without a value", pos)
                pos += 1
                part = "value"
                pairs.append((key, handlers[c](c, depth)))
                i += 1
        except PycError as e:
            e._prepend_path(f"[{i}].{part}")
            raise

    def h_dict(b: int, depth: int) -> Value:
        obj = DictValue([], "{", b > 127)
        if b > 127:
            refs.append(obj)
        obj.items = read_pairs(depth, "dict")
        return obj

    def h_frozendict(b: int, depth: int) -> Value:
        slot = len(refs)
        if b > 127:
            refs.append(None)
        obj = FrozenDict(read_pairs(depth, "frozendict"), "}", b > 127)
        if b > 127:
            refs[slot] = obj
        return obj

    def h_slice(b: int, depth: int) -> Value:
        slot = len(refs)
        if b > 127:
            refs.append(None)
        start, stop, step = read_items(3, depth, ("start", "stop", "step"))
        obj = Slice(start, stop, step, ":", b > 127)
        if b > 127:
            refs[slot] = obj
        return obj

    # ---- code objects -------------------------------------------------------------

    code_cls = plan.code_cls
    steps = plan.steps

    def h_code(b: int, depth: int) -> Value:
        nonlocal pos
        if code_cls is None:
            raise bad(f"the code-object layout of magic {fmt.magic_number} ({fmt.label}) is not known", pos - 1)
        slot = len(refs)
        if b > 127:
            refs.append(None)
        values: List[Any] = []
        for names, st in steps:
            if st is None:
                values += read_items(len(names), depth, names)
            else:
                if pos + st.size > end:
                    cut = (end - pos) // code_cls.int_size  # the first field not all there
                    at = pos + cut * code_cls.int_size
                    truncation = truncated(f"code object field {names[cut]}", at, code_cls.int_size)
                    truncation._prepend_path(names[cut])
                    raise truncation
                values += st.unpack_from(data, pos)
                pos += st.size
        obj: Code = code_cls(*values, flag_ref=b > 127)  # type: ignore[call-arg]
        if b > 127:
            refs[slot] = obj
        return obj

    # The handlers in _HANDLER_NAMES order; the plan picks one for each type byte.
    handlers: List[Callable[[int, int], Value]] = list(
        plan.pick(
            (
                h_unknown, h_null, h_int, h_int64, h_long, h_float_text, h_float,
                h_complex_text, h_complex, h_bytes, h_unicode if py3 else h_interned2,
                h_stringref, h_unicode, h_ascii, h_ascii, h_short_ascii, h_short_ascii,
                h_ref, h_tuple, h_small_tuple, h_list, h_dict, h_set, h_frozenset,
                h_slice, h_frozendict, h_code, h_code,
            ) + _SINGLETON_HANDLERS  # fmt: skip
        )
    )

    def read(data_: bytes, start: int, limit_: int) -> Tuple[Value, int]:
        nonlocal data, end, pos, limit, refs, strings
        data, end, pos, limit, refs, strings = data_, len(data_), start, limit_, [], []
        try:
            value = r_object(1)
            return value, pos
        finally:  # keep nothing of this read alive in the pool
            data, refs, strings = b"", [], []

    return read


def _singleton_handler(value: Singleton) -> Callable[[int, int], Value]:
    def h(b: int, depth: int) -> Value:
        return value

    return h


# The handler names (type codes; '!' = a singleton with FLAG_REF) in the order _read
# lists its handlers.
_HANDLER_NAMES = ("", "0", "i", "I", "l", "f", "g", "x", "y", "s", "t", "R", "u", "a", "A", "z", "Z",
                  "r", "(", ")", "[", "{", "<", ">", ":", "}", "c", "C",
                  "N", "T", "F", "S", ".", "N!", "T!", "F!", "S!", ".!")  # fmt: skip
_SINGLETON_HANDLERS = tuple(_singleton_handler(_SINGLETONS[ord(c)]) for c in "NTFS.") + tuple(
    _singleton_handler(_SINGLETONS[ord(c) | FLAG_REF]) for c in "NTFS."
)
