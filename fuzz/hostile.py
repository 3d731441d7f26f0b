"""Hostile inputs, built rather than stored: the small byte strings and models of issue 13
(deep, self-containing, shared as a DAG, wrong types in fields) and the mutations of
real pycs that the campaigns and the test suite feed to every public function.

Everything here is deterministic: a mutation is a function of the seed bytes and a
``random.Random``, so an input is named by (seed file, index) and can be made again.
"""

from __future__ import annotations

import random
import struct
from typing import Any, Callable, Dict, List, Optional, Tuple

import pycfile
from pycfile import (
    Bytes,
    Code311,
    DictValue,
    FrozenSetValue,
    Int,
    ListValue,
    PycFile,
    PycHeader,
    Singleton,
    Str,
    TupleValue,
)

__all__ = [
    "FMT312",
    "code312",
    "cyclic_code_pyc",
    "dag",
    "dag_pyc",
    "deep_model",
    "deep_pyc",
    "deep_stream",
    "hostile_models",
    "model_from_bytes",
    "mutate",
    "pyc312",
    "self_tuple_stream",
    "type_positions",
]

#: The format the hand-made pycs below are written in.
FMT312 = pycfile.format_for_version((3, 12))


# -- small hand-made pycs (CPython 3.12 layout) -------------------------------------------


def _name(text: str) -> Str:
    return Str(text, "z", False)


def code312(consts: Any, name: str = "m", *, flag_ref: bool = False) -> Code311:
    """A minimal 3.12 code object (``RESUME; RETURN_CONST 0``) with these ``co_consts``."""
    return Code311(
        co_argcount=0,
        co_posonlyargcount=0,
        co_kwonlyargcount=0,
        co_stacksize=1,
        co_flags=0,
        co_code=Bytes(b"\x97\x00y\x00"),
        co_consts=consts,
        co_names=TupleValue([], ")"),
        co_localsplusnames=TupleValue([], ")"),
        co_localspluskinds=Bytes(b""),
        co_filename=_name("m.py"),
        co_name=_name(name),
        co_qualname=_name(name),
        co_firstlineno=1,
        co_linetable=Bytes(b""),
        co_exceptiontable=Bytes(b""),
        flag_ref=flag_ref,
    )


def pyc312(code: Any) -> PycFile:
    """A 3.12 timestamp pyc around ``code``."""
    return PycFile(PycHeader(FMT312.magic, FMT312, flags=0, mtime=0, source_size=0), code)


def self_tuple_stream() -> bytes:
    """``a9 01 72 00000000``: a flagged 1-tuple whose item is a reference to itself."""
    return bytes.fromhex("a9017200000000")


def deep_stream(depth: int) -> bytes:
    """3.x marshal: ``depth`` tuples nested in each other around ``None``."""
    return b")\x01" * (depth - 1) + b"N"


def deep_model(depth: int, kind: Callable[[List[Any]], Any] = lambda items: TupleValue(items, ")")) -> Any:
    """A model ``depth`` containers deep (built by hand: no reader limit applies)."""
    value: Any = Singleton("N")
    for _ in range(depth - 1):
        value = kind([value])
    return value


def deep_pyc(depth: int) -> bytes:
    """A legal 3.12 pyc whose only constant nests ``depth`` tuples (the code object
    and ``co_consts`` are two more levels, within the 2,000 limit for depth <= 1,998)."""
    return pycfile.dumps(pyc312(code312(TupleValue([deep_model(depth)], ")"))))


_DAG_KINDS: Dict[str, Callable[[Any], Any]] = {
    "tuple": lambda prev: TupleValue([prev, prev], ")", True),
    "list": lambda prev: ListValue([prev, prev], "[", True),
    "dict": lambda prev: DictValue([(Int(0), prev), (Int(1), prev)], "{", True),
    "frozenset": lambda prev: FrozenSetValue([TupleValue([Int(0), prev], ")"), TupleValue([Int(1), prev], ")")], ">", True),
}


def dag(levels: int, kind: str = "tuple", leaf: str = "x") -> Any:
    """Two items both referencing the previous level, ``levels`` times: 2**levels paths
    to the leaf, one object per level."""
    value: Any = Str(leaf, "z", True)
    for _ in range(levels):
        value = _DAG_KINDS[kind](value)
    return value


def dag_pyc(levels: int, kind: str = "tuple", leaf: str = "x") -> bytes:
    """A 3.12 pyc whose constant is :func:`dag` (each level is written once and then
    referenced: a few bytes per level)."""
    return pycfile.dumps(pyc312(code312(TupleValue([dag(levels, kind, leaf)], ")"))))


def cyclic_code_pyc(same_name: bool = False) -> bytes:
    """A 3.12 pyc whose nested code object's ``co_consts`` is a reference to its
    parent's ``co_consts`` -- the tuple that holds it: the code object reaches itself.
    With ``same_name`` the two code objects are equal in every field."""
    consts = TupleValue([Singleton("N")], ")", True)
    parent = code312(consts, "m")
    child = code312(consts, "m" if same_name else "f")
    consts.items.append(child)
    return pycfile.dumps(pyc312(parent))


# -- hostile models ---------------------------------------------------------------------


def hostile_models() -> List[Tuple[str, Any]]:
    """``(name, value)`` pairs of models no reader makes: deep, cyclic, shared, and
    with wrong types in fields."""
    cyclic_list = ListValue([], "[", True)
    cyclic_list.items.append(cyclic_list)
    unflagged_cycle = TupleValue([], "(", False)
    unflagged_cycle.items.append(unflagged_cycle)
    code_in_itself = code312(TupleValue([], ")"), flag_ref=True)
    code_in_itself.co_consts.items.append(code_in_itself)
    self_tuple = pycfile.marshal.loads(self_tuple_stream(), version=(3, 12))
    found: List[Tuple[str, Any]] = [
        ("deep 2000", deep_model(2000)),
        ("deep 100000", deep_model(100_000)),
        ("deep list 5000", deep_model(5000, lambda items: ListValue(items))),
        ("self tuple", self_tuple),
        ("cyclic list", cyclic_list),
        ("unflagged cycle", unflagged_cycle),
        ("code in itself", code_in_itself),
        ("dag 40", dag(40)),
        ("dag list 40", dag(40, "list")),
        ("dag dict 40", dag(40, "dict")),
        ("items not a list", TupleValue(5)),  # type: ignore[arg-type]
        ("item not a value", TupleValue([5, "x", None])),  # type: ignore[list-item]
        ("str holding an int", Str(5)),  # type: ignore[arg-type]
        ("int holding a str", Int("x")),  # type: ignore[arg-type]
        ("bytes holding a str", Bytes("x")),  # type: ignore[arg-type]
        ("dict item not a pair", DictValue([(Singleton("N"),)])),  # type: ignore[list-item]
        ("dict item an int", DictValue([5])),  # type: ignore[list-item]
        ("bad singleton code", Singleton("q")),
        ("code with None fields", _code_with(co_consts=None, co_names=None, co_argcount=None)),
        ("code with a str count", _code_with(co_argcount="x")),
        ("code with a list consts", _code_with(co_consts=ListValue([Int(1)]))),
        ("huge int", Int(1 << 20_000)),
        ("long with a float", pycfile.Long(1.5)),  # type: ignore[arg-type]
        ("deep python list in a field", Int(_deep_python_list(50_000))),
    ]
    return found


def _code_with(**fields: Any) -> Code311:
    code = code312(TupleValue([Singleton("N")], ")"))
    for name, value in fields.items():
        setattr(code, name, value)
    return code


def _deep_python_list(depth: int) -> List[Any]:
    value: List[Any] = []
    for _ in range(depth):
        value = [value]
    return value


# -- mutations of real pycs ---------------------------------------------------------------

_TYPE_CODES = b"0NFTS.ifgxyIlcC(){}[]<>sutaAzZrR:?}"
_SIZED = frozenset(b"s u t a A ( [ { < > c".replace(b" ", b""))
_HUGE = (0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x40000000, 0x00FFFFFF, 0x10000, 0xFFFF)


def _u32(data: bytearray, at: int, value: int) -> None:
    if 0 <= at <= len(data) - 4:
        data[at : at + 4] = struct.pack("<I", value & 0xFFFFFFFF)


def type_positions(data: bytes) -> List[int]:
    """Offsets of bytes that could be type codes (with or without FLAG_REF): where
    the type-aware mutations act.  Cached by the callers, one list per seed."""
    return [i for i, b in enumerate(data) if (b & 0x7F) in _TYPE_CODES]


def _flip_bit(data: bytearray, rng: random.Random, types: List[int]) -> None:
    at = rng.randrange(len(data))
    data[at] ^= 1 << rng.randrange(8)


def _toggle_flag(data: bytearray, rng: random.Random, types: List[int]) -> None:
    if types:
        data[rng.choice(types)] ^= 0x80


def _swap_type(data: bytearray, rng: random.Random, types: List[int]) -> None:
    if types:
        at = rng.choice(types)
        data[at] = (data[at] & 0x80) | rng.choice(_TYPE_CODES)


def _retarget(data: bytearray, rng: random.Random, types: List[int]) -> None:
    refs = [i for i in types if data[i] & 0x7F == ord("r")]
    if refs:
        _u32(data, rng.choice(refs) + 1, rng.choice([0, 1, 2, rng.randrange(64), rng.randrange(1 << 16), 0xFFFFFFFF]))


def _huge_length(data: bytearray, rng: random.Random, types: List[int]) -> None:
    sized = [i for i in types if data[i] & 0x7F in _SIZED]
    if sized:
        _u32(data, rng.choice(sized) + 1, rng.choice(_HUGE))


def _small_length(data: bytearray, rng: random.Random, types: List[int]) -> None:
    sized = [i for i in types if data[i] & 0x7F in _SIZED]
    if sized:
        at = rng.choice(sized) + 1
        if at + 4 <= len(data):
            old = struct.unpack_from("<I", data, at)[0]
            _u32(data, at, max(0, old + rng.choice([-2, -1, 1, 2])))


def _splice(data: bytearray, rng: random.Random, types: List[int]) -> None:
    start = rng.randrange(len(data))
    length = rng.randrange(1, 16)
    chunk = data[start : start + length]
    at = rng.randrange(len(data) + 1)
    data[at:at] = chunk


def _cut(data: bytearray, rng: random.Random, types: List[int]) -> None:
    start = rng.randrange(len(data))
    del data[start : start + rng.randrange(1, 16)]


def _truncate(data: bytearray, rng: random.Random, types: List[int]) -> None:
    del data[rng.randrange(len(data)) :]


_MUTATIONS = (
    (_flip_bit, 4),
    (_toggle_flag, 4),
    (_swap_type, 3),
    (_retarget, 3),
    (_huge_length, 2),
    (_small_length, 2),
    (_splice, 1),
    (_cut, 1),
    (_truncate, 1),
)
_OPERATORS = [op for op, weight in _MUTATIONS for _ in range(weight)]


def mutate(seed: bytes, rng: random.Random, header: int = 0, types: Optional[List[int]] = None) -> bytes:
    """One to four stacked mutations of ``seed``: bit flips, FLAG_REF toggles, type
    swaps, reference retargets, huge and off-by-one lengths, splices, cuts and
    truncation.  The first ``header`` bytes are left alone three times in four, so most
    inputs reach the marshal reader.  ``types`` is :func:`type_positions` of ``seed``
    (computed here if not given)."""
    data = bytearray(seed)
    if types is None:
        types = type_positions(seed)
    keep = header if rng.random() < 0.75 else 0
    positions = [i - keep for i in types if i >= keep]
    body = data[keep:]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        if not body:
            break
        valid = [i for i in positions if i < len(body)] if len(body) != len(data) - keep else positions
        rng.choice(_OPERATORS)(body, rng, valid)
    return bytes(data[:keep] + body)


# -- models from fuzz bytes ---------------------------------------------------------------

_SINGLETON_CODES = "NTFS.q"
_WEIRD: List[Any] = [5, None, "x", b"y", 1.5, [1, [2]], (), object()]


def model_from_bytes(data: bytes) -> Any:
    """A model built by the bytes as a little program over a stack of values: scalars,
    containers of the values on top, shared values (a value pushed twice), cycles (a
    container put inside itself), deep wrapping, FLAG_REF toggles, code objects, and
    values of wrong types.  Any bytes make some model (the fuzzers' "hostile models")."""
    stack: List[Any] = []
    it = iter(data)
    wraps = 5000

    def byte() -> int:
        return next(it, 0)

    def take(count: int) -> List[Any]:
        count = min(count, len(stack))
        items = stack[len(stack) - count :]
        del stack[len(stack) - count :]
        return items

    for op in it:
        kind = op % 16
        if kind == 0:
            stack.append(Int(byte() - 128, "i", bool(op & 0x80)))
        elif kind == 1:
            stack.append(Str("s" * (byte() % 4), "z", bool(op & 0x80)))
        elif kind == 2:
            stack.append(Bytes(bytes([byte()]), "s", bool(op & 0x80)))
        elif kind == 3:
            stack.append(Singleton(_SINGLETON_CODES[byte() % len(_SINGLETON_CODES)]))
        elif kind == 4:
            stack.append(TupleValue(take(byte() % 5), ")", bool(op & 0x80)))
        elif kind == 5:
            stack.append(ListValue(take(byte() % 5), "[", bool(op & 0x80)))
        elif kind == 6:
            items = take(2 * (byte() % 3))
            stack.append(DictValue(list(zip(items[::2], items[1::2])), "{", bool(op & 0x80)))
        elif kind == 7:
            stack.append(FrozenSetValue(take(byte() % 4), ">", bool(op & 0x80)))
        elif kind == 8 and stack:
            stack.append(stack[-1])  # shared
        elif kind == 9 and stack and isinstance(getattr(stack[-1], "items", None), list):
            if isinstance(stack[-1], DictValue):
                stack[-1].items.append((Int(0), stack[-1]))
            else:
                stack[-1].items.append(stack[-1])  # a cycle
        elif kind == 10 and stack:
            value = stack.pop()
            levels = min(byte() * 16 + byte(), wraps)  # deep, but a model of at most
            wraps -= levels  # ~5,000 levels in all: work per input stays in seconds
            for _ in range(levels):
                value = TupleValue([value], ")")
            stack.append(value)
        elif kind == 11:
            stack.append(_WEIRD[byte() % len(_WEIRD)])
        elif kind == 12:
            consts = stack.pop() if stack else TupleValue([], ")")
            stack.append(code312(consts, "c", flag_ref=bool(op & 0x80)))
        elif kind == 13 and stack and hasattr(stack[-1], "flag_ref") and not isinstance(stack[-1], Singleton):
            stack[-1].flag_ref = not stack[-1].flag_ref
        elif kind == 14 and len(stack) >= 2:
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif kind == 15 and stack and hasattr(stack[-1], "code") and not isinstance(stack[-1], Singleton):
            stack[-1].code = chr(byte())  # a type code that may not fit
    return stack[-1] if stack else Singleton("N")
