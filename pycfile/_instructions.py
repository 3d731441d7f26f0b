"""Decoding ``co_code`` into instructions, and a ``dis``-style listing.

:func:`get_instructions` reads a code object of any version that has an opcode table
(:func:`pycfile.opcode_table`) the way that version's own :func:`dis.get_instructions`
does: EXTENDED_ARG folded into the next argument, inline CACHE entries skipped (3.11+),
the argument resolved to a constant, name, variable, jump target or operator, with the
text ``dis`` shows for it.  :func:`disassemble` renders the listing ``dis.dis`` prints,
nested code included.  Every way a version's ``dis`` differs from another's is a field of
its :class:`~pycfile._opcodes.DisStyle` (``opcode_table(version).dis``): this module
reads those fields and compares no versions itself.

The bytes are never trusted: an unknown opcode, bytecode that ends in the middle of an
instruction, or an index outside ``co_consts``/``co_names``/the variables gives an
instruction whose ``note`` says what is wrong (and ``argval`` ``None``), never an error.
The work is linear in the size of the input: constant texts are built with a budget
(:data:`ARGREPR_LIMIT`) and once per constant object, EXTENDED_ARG chains are folded into
at most 64 bits, and nested code objects are walked with a stack of our own.
"""

from __future__ import annotations

import io
from typing import IO, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import attrs

from . import _linetable
from ._code import Code
from ._errors import BadPycError, PycError
from ._exceptiontable import ExceptionTableEntry, decode_exception_table
from ._opcodes import DisStyle, OpcodeTable, opcode_table
from ._pyc import PycFile
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
from ._versions import CodeLayout, PycFormat, PythonVersion, VersionLike, as_version

__all__ = ["ARGREPR_LIMIT", "Instruction", "disassemble", "get_instructions"]

#: The longest ``argrepr`` (and ``Disassembly of`` header) pycfile builds, in characters.
#: A longer text -- the repr of a huge constant, or of a constant that shares its parts
#: (marshal references can make a repr exponentially longer than the bytes) -- is cut
#: after this many characters and ends with :data:`ELIDED`.  The text is built with this
#: budget, so the work is bounded too.  (The longest constant of any CPython stdlib here,
#: in ``pydoc_data/topics``, shows as 73,000 characters.)
ARGREPR_LIMIT = 100_000
#: What ends an ``argrepr`` cut at :data:`ARGREPR_LIMIT`.
ELIDED = f" ... [elided: over {ARGREPR_LIMIT} characters]"
#: An argument folded from EXTENDED_ARG prefixes keeps at most this many bits (the
#: interpreters read arguments into a 32-bit C int; no compiler writes more than three
#: prefixes, which give 32 bits).
ARG_BITS = 64

_FORMAT_CONVERTERS = (None, "str", "repr", "ascii")
_CONVERTER_TEXTS = ("", "str", "repr", "ascii")


@attrs.define(slots=True, eq=True)
class Instruction:
    """One decoded instruction, like :class:`dis.Instruction` of the code's version."""

    #: Byte offset of the instruction in ``co_code``.
    offset: int
    #: The opcode byte.
    opcode: int
    #: Its name in this version (``<N>`` for an opcode the version does not define).
    opname: str
    #: The argument with any EXTENDED_ARG prefixes folded in; ``None`` if it takes none.
    arg: Optional[int]
    #: The argument resolved as ``dis`` resolves it: the constant (a pycfile model value),
    #: a name or variable name (``str``), a jump target offset, a comparison operator,
    #: a tuple of two names (3.13+ ``LOAD_FAST_LOAD_FAST``...), FORMAT_VALUE's
    #: ``(converter name or None, has format spec)``; else the argument itself.
    argval: Any
    #: Human-readable text for the argument, as ``dis.get_instructions`` gives it
    #: (3.13+ jumps: ``to L1``, labels numbered over the jump targets).
    argrepr: str
    #: Line number of the instruction (the last line start at or before it); ``None``
    #: for code with no line or before the first start.
    line_number: Optional[int]
    #: Whether a new line starts here (``dis.findlinestarts``).
    starts_line: bool
    #: Whether some jump targets this offset (exception handlers do not count, as in
    #: ``dis.get_instructions``).
    is_jump_target: bool
    #: For a jump, the offset it goes to.
    jump_target: Optional[int] = None
    #: Bytes the instruction takes, inline CACHE entries included.
    size: int = 2
    #: Inline CACHE code units after the instruction (3.11+), skipped like ``dis`` does.
    cache_entries: int = 0
    #: What is wrong with this instruction's bytes, if anything.
    note: Optional[str] = None
    #: 3.13+: the instruction's label (``L1`` is 1) when it is a jump target, as
    #: ``dis.Instruction.label``; ``None`` otherwise and before 3.13.
    label: Optional[int] = None


def _as_code(code: Any) -> Code:
    if not isinstance(code, Code):
        raise TypeError(f"expected a pycfile code object, not {type(code).__name__}")
    return code


def _items(value: Any) -> Optional[List[Value]]:
    if isinstance(value, (TupleValue, ListValue)):
        return value.items
    return None


def _text(value: Any) -> Optional[str]:
    if isinstance(value, Str):
        return value.value
    if isinstance(value, Bytes):
        return value.value.decode("latin-1")
    return None


def _bounded(text: str) -> str:
    """``text``, cut at :data:`ARGREPR_LIMIT` characters."""
    return text if len(text) <= ARGREPR_LIMIT else text[:ARGREPR_LIMIT] + ELIDED


# -- constant texts ------------------------------------------------------------------------


def _code_repr(code: Code, py2: bool) -> str:
    """``repr`` of a code object, without its address: ``<code object f, file "x.py",
    line 3>`` (line -1 for a ``co_firstlineno`` of 0, ``file ???`` for a file name that is
    not a string; 2.x cuts the name at 100 and the file name at 300 characters)."""
    name = _text(getattr(code, "co_name", None))
    filename = _text(getattr(code, "co_filename", None))
    line = getattr(code, "co_firstlineno", None)
    line = -1 if not isinstance(line, int) or line == 0 else line if -(1 << 31) <= line < 1 << 31 else "?"
    if py2:
        name = "???" if name is None else name[:100]
        where = 'file "???"' if filename is None else f'file "{filename[:300]}"'
    else:
        name = "???" if name is None else name
        where = "file ???" if filename is None else f'file "{filename}"'
    return _bounded(f"<code object {name}, {where}, line {line}>")


_SMALL_INT = 10**500  # ints below this convert with str() under any host digit limit
_DIGIT_BITS = 3.3219280948873626  # log2(10)


def _int_text(number: int, room: int) -> Optional[str]:
    """The decimal digits of ``number``, or ``None`` if they are surely more than
    ``room`` characters (decided from the bit length, without converting)."""
    if -_SMALL_INT < number < _SMALL_INT:
        return str(number)
    if (abs(number).bit_length() - 1) / _DIGIT_BITS > room + 1:
        return None
    sign = "-" if number < 0 else ""
    rest = abs(number)
    pieces: List[int] = []
    while rest:  # at most room / 500 pieces: the host's str() digit limit never bites
        rest, piece = divmod(rest, _SMALL_INT)
        pieces.append(piece)
    return sign + str(pieces[-1]) + "".join(str(p).zfill(500) for p in reversed(pieces[:-1]))


@attrs.define(slots=True)
class _Frame:
    """A container being written: its items (``pairs``: key-value pairs), what closes it."""

    items: Sequence[Any]
    close: str
    pairs: bool = False
    index: int = 0

    def length(self) -> int:
        return 2 * len(self.items) if self.pairs else len(self.items)

    def next_item(self) -> Tuple[str, Any]:
        i = self.index
        self.index += 1
        if self.pairs:
            pair = self.items[i // 2]
            item = pair[i % 2] if isinstance(pair, tuple) and len(pair) == 2 else _MALFORMED
            return ("" if i == 0 else ": " if i % 2 else ", "), item
        return ("" if i == 0 else ", "), self.items[i]


_NOTHING = object()
_MALFORMED = object()  # a dict item of a hand-made model that is no (key, value) pair


def _str_repr(text: str, table: OpcodeTable) -> str:
    """``repr`` of a string as the table's version shows it: its Unicode database decides
    which characters are printable (the host's ``repr`` is used when it agrees)."""
    if text.isascii() or not table.printable:
        return repr(text)
    if all(c.isprintable() == table.is_printable(ord(c)) for c in set(text) if c > "\x7f"):
        return repr(text)
    quote = '"' if "'" in text and '"' not in text else "'"
    out = [quote]
    for c in text:
        o = ord(c)
        if c == quote or c == "\\":
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x7F or table.is_printable(o):
            out.append(c)
        elif o <= 0xFF:
            out.append(f"\\x{o:02x}")
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append(quote)
    return "".join(out)


class _Reprs:
    """The texts of constants as the code's own Python's ``repr`` shows them, built with a
    budget of :data:`ARGREPR_LIMIT` characters and once per object (memoised by identity
    for one listing or decode: the objects live in the code model throughout)."""

    def __init__(self, table: OpcodeTable) -> None:
        self.table = table
        self.py2 = table.dis.reprs == "python2"
        self.memo: Dict[int, str] = {}
        self.leaves: Dict[int, str] = {}

    def const(self, value: Any) -> str:
        key = id(value)
        text = self.memo.get(key)
        if text is None:
            text = self._render(value)
            self.memo[key] = text
        return text

    def _render(self, value: Any) -> str:
        """The text, written iteratively: each step writes at least one character, so the
        work stops within the budget however large or shared the value is."""
        out: List[str] = []
        size = 0
        stack: List[_Frame] = []
        pending: Any = value
        while True:
            if pending is not _NOTHING:
                piece, frame = self._open(pending, ARGREPR_LIMIT - size)
                pending = _NOTHING
                if piece is None:  # an int whose digits alone pass the budget
                    return "".join(out)[:ARGREPR_LIMIT] + ELIDED
                out.append(piece)
                size += len(piece)
                if frame is not None:
                    stack.append(frame)
            elif stack:
                frame = stack[-1]
                if frame.index < frame.length():
                    separator, pending = frame.next_item()
                    if separator:
                        out.append(separator)
                        size += len(separator)
                else:
                    stack.pop()
                    out.append(frame.close)
                    size += len(frame.close)
            else:
                return "".join(out)
            if size > ARGREPR_LIMIT:
                return "".join(out)[:ARGREPR_LIMIT] + ELIDED

    def _open(self, value: Any, room: int) -> Tuple[Optional[str], Optional[_Frame]]:
        """The text that starts ``value``, and the frame of its items if it has any."""
        py2 = self.py2
        if isinstance(value, (TupleValue, ListValue, FrozenSetValue, SetValue)):
            items = value.items
            if isinstance(value, TupleValue):
                return ("()", None) if not items else ("(", _Frame(items, ",)" if len(items) == 1 else ")"))
            if isinstance(value, ListValue):
                return ("[]", None) if not items else ("[", _Frame(items, "]"))
            kind = "frozenset" if isinstance(value, FrozenSetValue) else "set"
            if py2:
                return (f"{kind}([])", None) if not items else (f"{kind}([", _Frame(items, "])"))
            if not items:
                return f"{kind}()", None
            return ("frozenset({", _Frame(items, "})")) if kind == "frozenset" else ("{", _Frame(items, "}"))
        if isinstance(value, (Str, Bytes)):
            return self._leaf(value), None
        if isinstance(value, (Int, Long)):
            number = value.value
            if not isinstance(number, int):
                return f"<bad {type(value).__name__.lower()}>", None
            text = _int_text(number, room)
            if text is not None and py2 and isinstance(value, Long):
                text += "L"
            return text, None
        if isinstance(value, Singleton):
            return _SINGLETON_TEXTS[py2].get(value.code, "<?>"), None
        if isinstance(value, (Float, Complex)):
            try:
                return repr(value.value), None
            except (ValueError, OverflowError, TypeError):
                return f"<bad {type(value).__name__.lower()}>", None
        if isinstance(value, Code):
            return _code_repr(value, py2), None
        if isinstance(value, DictValue):
            return ("{}", None) if not value.items else ("{", _Frame(value.items, "}", pairs=True))
        if isinstance(value, FrozenDict):
            if not value.items:
                return "frozendict()", None
            return "frozendict({", _Frame(value.items, "})", pairs=True)
        if isinstance(value, Slice):
            return "slice(", _Frame([value.start, value.stop, value.step], ")")
        if value is _MALFORMED:
            return "<?>", None
        return f"<{type(value).__name__}>", None

    def _leaf(self, value: Union[Str, Bytes]) -> str:
        """A string's repr, at most a budget long (memoised: it is the one leaf whose
        text costs as much as its size)."""
        key = id(value)
        text = self.leaves.get(key)
        if text is None:
            if isinstance(value, Bytes):
                data = value.value if isinstance(value.value, bytes) else b""
                text = repr(data)[1:] if self.py2 else repr(data)
            else:
                string = value.value if isinstance(value.value, str) else ""
                text = "u" + ascii(string) if self.py2 else _str_repr(string, self.table)
            text = text[: ARGREPR_LIMIT + 1]
            self.leaves[key] = text
        return text


_SINGLETON_TEXTS: Dict[bool, Dict[str, str]] = {
    False: {"N": "None", "T": "True", "F": "False", ".": "Ellipsis", "S": "<class 'StopIteration'>"},
    True: {"N": "None", "T": "True", "F": "False", ".": "Ellipsis", "S": "<type 'exceptions.StopIteration'>"},
}


def const_repr(value: Any, version: Union[VersionLike, PycFormat]) -> str:
    """``repr`` of a constant as the code's own Python would show it (cut at
    :data:`ARGREPR_LIMIT` characters)."""
    return _Reprs(opcode_table(version)).const(value)


# -- decoding -----------------------------------------------------------------------------


class _Names:
    """The name tables of one code object: constants, names, locals, cells and frees."""

    def __init__(self, code: Code) -> None:
        self.consts = _items(getattr(code, "co_consts", None))
        self.names = _items(getattr(code, "co_names", None))
        plus = getattr(code, "co_localsplusnames", None)
        if plus is not None:  # 3.11+: one table for locals, cells and frees
            self.locals = _items(plus)
            self.free = self.locals
        else:
            self.locals = _items(getattr(code, "co_varnames", None))
            cells = _items(getattr(code, "co_cellvars", None)) or []
            frees = _items(getattr(code, "co_freevars", None)) or []
            self.free = cells + frees

    @staticmethod
    def _name_in(items: Optional[List[Value]], index: int, what: str) -> Tuple[Any, str, Optional[str]]:
        if items is None or not 0 <= index < len(items):
            return None, "", f"{what} index {index} out of range"
        text = _text(items[index])
        if text is None:
            return None, "", f"{what} {index} is not a string"
        return text, _bounded(text), None

    def name(self, index: int) -> Tuple[Any, str, Optional[str]]:
        return self._name_in(self.names, index, "name")

    def local(self, index: int) -> Tuple[Any, str, Optional[str]]:
        return self._name_in(self.locals, index, "local")

    def free_var(self, index: int) -> Tuple[Any, str, Optional[str]]:
        return self._name_in(self.free, index, "cell/free variable")


@attrs.frozen(slots=True)
class _Fast:
    """Per-opcode lookups of one table, as lists indexed by opcode (0-255)."""

    names: List[str]
    known: List[bool]
    has_arg: List[bool]
    caches: List[int]
    deop: List[int]


_FAST: Dict[str, _Fast] = {}


def _fast(table: OpcodeTable) -> _Fast:
    fast = _FAST.get(table.version_key)
    if fast is None:
        ops = range(256)
        fast = _Fast(
            names=[table.name(op) for op in ops],
            known=[table.is_known(op) for op in ops],
            has_arg=[table.has_arg(op) for op in ops],
            caches=[table.cache_entries(op) for op in ops],
            deop=[table.deopt.get(op, op) for op in ops],
        )
        _FAST[table.version_key] = fast
    return fast


# (offset, opcode, arg, size, caches, note, prefixed): ``prefixed`` says an EXTENDED_ARG
# came before this instruction's argument (2.x shows such an argument as a long).
_Raw = Tuple[int, int, Optional[int], int, int, Optional[str], bool]

_CUT_NOTE = f"EXTENDED_ARG prefixes make this argument wider than {ARG_BITS} bits: only its low {ARG_BITS} bits are kept"
_LOW = -(1 << (ARG_BITS - 1))
_HIGH = 1 << ARG_BITS
_INT_OVERFLOW = 1 << 31


def _clip(value: int, signed: bool) -> int:
    if signed:
        return ((value - _LOW) % _HIGH) + _LOW
    return value % _HIGH


def _raw_instructions(data: bytes, table: OpcodeTable) -> Iterator[_Raw]:
    """Every instruction, as ``dis`` reads the bytes.  A pending EXTENDED_ARG is kept to
    :data:`ARG_BITS` bits, so a chain of any length folds in linear time."""
    style = table.dis
    n = len(data)
    extended = 0
    cut = False  # the pending EXTENDED_ARG value was clipped
    pending = False  # an EXTENDED_ARG is waiting for the next argument
    ext_op = table.extended_arg
    fast = _fast(table)
    known = fast.known
    shift = style.extended_arg_shift
    wrap = style.extended_arg_wrap
    reset = style.extended_arg_reset
    has_arg = fast.has_arg
    deop = fast.deop
    i = 0
    if style.wordcode:
        cache_of = fast.caches
        while i < n:
            op = data[i]
            caches = cache_of[op]
            note: Optional[str] = None
            arg: Optional[int] = None
            prefixed = False
            if i + 1 >= n:
                note = "the bytecode ends inside this instruction (odd length)"
            if has_arg[op]:
                arg = (data[i + 1] if i + 1 < n else 0) | extended
                if cut:
                    note = note or _CUT_NOTE
                prefixed = pending
                if deop[op] == ext_op:
                    extended = arg << shift
                    if wrap and extended >= _INT_OVERFLOW:
                        extended -= 2 * _INT_OVERFLOW
                    if not _LOW <= extended < _HIGH:
                        extended = _clip(extended, wrap)
                        cut = True
                    pending = True
                else:
                    extended, cut, pending = 0, False, False
            elif reset:
                extended, cut, pending = 0, False, False
            size = 2 + 2 * caches
            if note is None and i + size > n:
                note = "the bytecode ends inside this instruction's inline cache"
            if not known[op]:
                note = note or f"unknown opcode {op}"
            yield i, op, arg, min(size, n - i), caches, note, prefixed
            i += size
        return
    while i < n:
        op = data[i]
        note = None
        arg = None
        prefixed = False
        size = 1
        if has_arg[op]:
            size = 3
            if i + 2 >= n:
                note = "the bytecode ends inside this instruction's argument"
            low = data[i + 1] if i + 1 < n else 0
            high = data[i + 2] if i + 2 < n else 0
            arg = low | (high << 8) | extended
            if cut:
                note = note or _CUT_NOTE
            prefixed = pending
            if op == ext_op:
                extended = arg << shift
                if not _LOW <= extended < _HIGH:
                    extended = _clip(extended, False)
                    cut = True
                pending = True
            else:
                extended, cut, pending = 0, False, False
        if not known[op]:
            note = note or f"unknown opcode {op}"
        yield i, op, arg, min(size, n - i), 0, note, prefixed
        i += size


def _jump_target(table: OpcodeTable, op: int, arg: int, offset: int, caches: int) -> Optional[int]:
    """Where a jump goes (``op`` is the base opcode), as ``dis`` computes it; ``None`` if
    ``op`` is no jump."""
    style = table.dis
    if op in table.hasjabs:
        return arg * style.jump_unit
    if op in table.hasjrel:
        signed = -arg if op in table.backward else arg
        base = offset + (2 if style.wordcode else 3)
        if style.jump_skips_caches:
            base += 2 * caches
        return base + signed * style.jump_unit
    return None


def _literal_model(value: Any) -> Any:
    """A model value for one of 3.15's ``LOAD_COMMON_CONSTANT`` literals."""
    if value is None:
        return Singleton("N")
    if value is True:
        return Singleton("T")
    if value is False:
        return Singleton("F")
    if isinstance(value, int):
        return Int(value)
    if isinstance(value, str):
        return Str(value)
    return value


def _pick(names: Sequence[str], index: int, what: str) -> Tuple[str, Optional[str]]:
    if 0 <= index < len(names):
        return names[index], None
    return "", f"{what} {index} out of range"


class _Resolver:
    """Resolves the arguments of one code object's instructions."""

    def __init__(self, code: Code, table: OpcodeTable, reprs: _Reprs, labels: Dict[int, int]) -> None:
        self.table = table
        self.style: DisStyle = table.dis
        self.names = _Names(code)
        self.reprs = reprs
        self.labels = labels

    def resolve(self, op: int, name: str, arg: int, offset: int, caches: int) -> Tuple[Any, str, Optional[int], Optional[str]]:
        """``(argval, argrepr, jump_target, note)`` for an instruction with an argument
        (``op``/``name``: the base opcode)."""
        table = self.table
        style = self.style
        names = self.names
        if op in table.hasconst:
            if name in style.unresolved_consts:
                return None, "", None, None
            consts = names.consts
            if consts is None or not 0 <= arg < len(consts):
                return None, "", None, f"constant index {arg} out of range"
            value = consts[arg]
            return value, self.reprs.const(value), None, None
        if op in table.hasname:
            spec = style.name_args.get(name)
            if spec is None:
                value, text, note = names.name(arg)
                return value, text, None, note
            value, text, note = names.name(arg >> spec.shift)
            if text:
                for bit, fmt in spec.flags:
                    if arg & bit:
                        text = _bounded(fmt.format(text))
                        break
            return value, text, None, note
        target = _jump_target(table, op, arg, offset, caches)
        if target is not None:
            if style.jump_labels:
                text = f"{style.jump_prepositions.get(name, 'to')} L{self.labels[target]}"
            elif op in table.hasjabs and not style.absolute_jump_text:
                text = ""
            else:
                text = f"to {target}"
            return target, text, target, None
        if name in style.local_pairs:
            first, text1, note1 = names.local(arg >> 4)
            second, text2, note2 = names.local(arg & 15)
            return (first, second), _bounded(f"{text1}, {text2}"), None, note1 or note2
        if op in table.haslocal:
            value, text, note = names.local(arg)
            return value, text, None, note
        if op in table.hasfree:
            value, text, note = names.free_var(arg)
            return value, text, None, note
        if op in table.hascompare:
            index = arg >> style.compare_shift
            if not 0 <= index < len(table.cmp_op):
                return None, "", None, f"comparison {index} out of range"
            text = table.cmp_op[index]
            if arg & style.compare_bool_bit:
                return text, f"bool({text})", None, None
            return text, text, None, None
        return self._by_name(op, name, arg)

    def _by_name(self, op: int, name: str, arg: int) -> Tuple[Any, str, Optional[int], Optional[str]]:
        table = self.table
        style = self.style
        if name == "FORMAT_VALUE":
            converter = _FORMAT_CONVERTERS[arg & 3]
            text = converter or ""
            with_spec = bool(arg & 4)
            if with_spec:
                text = f"{text}, with format" if text else "with format"
            return (converter, with_spec), text, None, None
        if name == "CONVERT_VALUE":
            text, note = _pick(_CONVERTER_TEXTS, arg, "conversion")
            return (_FORMAT_CONVERTERS[arg] if 0 <= arg < 4 else None), text, None, note
        if name == "MAKE_FUNCTION":
            flags = table.make_function_flags
            return arg, ", ".join(s for i, s in enumerate(flags) if arg & (1 << i)), None, None
        if name == "SET_FUNCTION_ATTRIBUTE":
            flags = table.function_attr_flags
            return arg, ", ".join(s for i, s in enumerate(flags) if arg & (1 << i)), None, None
        if name == "BINARY_OP" and table.nb_ops:
            text, note = _pick([symbol for _, symbol in table.nb_ops], arg, "binary operator")
            return arg, text, None, note
        if name == "CALL_INTRINSIC_1":
            text, note = _pick(table.intrinsic_1, arg, "intrinsic")
            return arg, text, None, note
        if name == "CALL_INTRINSIC_2":
            text, note = _pick(table.intrinsic_2, arg, "intrinsic")
            return arg, text, None, note
        if name == "LOAD_COMMON_CONSTANT" and table.common_constants:
            if not 0 <= arg < len(table.common_constants):
                return (None if style.common_constant_argval == "object" else arg), "", None, f"common constant {arg} out of range"
            text, (kind, value) = table.common_constants[arg]
            if style.common_constant_argval == "object":
                return (value if kind == "callable" else _literal_model(value)), text, None, None
            return arg, text, None, None
        if name == "LOAD_SPECIAL" and table.special_method_names:
            text, note = _pick(table.special_method_names, arg, "special method")
            return arg, text, None, note
        words = style.test_ops.get(name)
        if words is not None:
            return arg, words[1] if arg else words[0], None, None
        if op in table.hasnargs:
            return arg, f"{arg & 0xFF} positional, {(arg >> 8) & 0xFF} keyword pair", None, None
        return arg, "", None, None


def _line_starts(code: Code, version: PythonVersion) -> List[Tuple[int, Optional[int]]]:
    """``dis.findlinestarts`` of the code's version (none if the table is broken)."""
    try:
        return list(_linetable.line_starts(code, version))
    except PycError:  # a broken line table: no line numbers rather than no listing
        return []


@attrs.define(slots=True)
class _Decoded:
    """One code object decoded: its instructions and what a listing needs besides."""

    instructions: List[Instruction]
    #: Per instruction: an EXTENDED_ARG came before its argument.
    prefixed: List[bool]
    #: Offsets marked as targets (``>>``) or labelled (3.13+: offset -> label number).
    labels: Dict[int, int]
    starts: List[Tuple[int, Optional[int]]]


def _decode(code: Code, table: OpcodeTable, reprs: _Reprs, handlers: Iterable[ExceptionTableEntry] = ()) -> _Decoded:
    """Decode one code object.  ``handlers`` are exception-table entries whose offsets
    take labels (3.13+) or ``>>`` marks (3.11-3.12) too, as in ``dis.dis`` listings;
    ``dis.get_instructions`` counts jumps only."""
    style = table.dis
    raw_code = getattr(code, "co_code", None)
    data = raw_code.value if isinstance(raw_code, Bytes) and isinstance(raw_code.value, bytes) else b""
    fast = _fast(table)
    deop = fast.deop
    names = fast.names
    raw = list(_raw_instructions(data, table))
    targets: Set[int] = set()
    for offset, op, arg, _, caches, note, _ in raw:
        if arg is not None and not (note is not None and note.startswith("unknown opcode")):
            goes_to = _jump_target(table, deop[op], arg, offset, caches)
            if goes_to is not None:
                targets.add(goes_to)
    for entry in handlers:
        if style.jump_labels:
            targets.update((entry.start, entry.end, entry.target))
        elif style.exception_targets_marked and entry.start < entry.end:
            targets.add(entry.target)
    labels = {offset: number for number, offset in enumerate(sorted(targets), 1)}
    resolver = _Resolver(code, table, reprs, labels)
    starts = _line_starts(code, table.version)
    start_of = dict(starts)
    out: List[Instruction] = []
    prefixed_flags: List[bool] = []
    line: Optional[int] = None
    for offset, op, arg, size, caches, note, prefixed in raw:
        argval: Any = None
        argrepr = ""
        target: Optional[int] = None
        if arg is not None:
            if note is not None and note.startswith("unknown opcode"):
                argval = arg
            else:
                base = deop[op]
                argval, argrepr, target, arg_note = resolver.resolve(base, names[base], arg, offset, caches)
                note = note or arg_note
        starts_line = offset in start_of
        if starts_line:
            line = start_of[offset]
        label = labels.get(offset)
        out.append(
            Instruction(
                offset, op, names[op], arg, argval, argrepr, line, starts_line, label is not None, target, size,
                caches, note, label if style.jump_labels else None,
            )
        )
        prefixed_flags.append(prefixed)
    return _Decoded(out, prefixed_flags, labels, starts)


def get_instructions(code: Code, version: Union[VersionLike, PycFormat]) -> List[Instruction]:
    """The instructions of one code object (not its nested ones), as the ``dis`` module
    of ``version`` reads them: EXTENDED_ARG folded, inline caches skipped, each argument
    resolved and described as that ``dis.get_instructions`` does.

    Raises :class:`TypeError` if ``code`` is not a pycfile code object and
    :class:`~pycfile.NoOpcodeTableError` for a version without an opcode table.
    """
    code = _as_code(code)
    table = opcode_table(version)
    return _decode(code, table, _Reprs(table)).instructions


# -- listings ------------------------------------------------------------------------------


def _handlers(code: Code, style: DisStyle) -> Tuple[List[ExceptionTableEntry], Optional[str]]:
    """The exception-table entries a listing shows, and the error if the table is broken."""
    if not style.exception_table or code.layout not in (CodeLayout.V3_11, CodeLayout.V3_11A):
        return [], None
    value = getattr(code, "co_exceptiontable", None)
    if not isinstance(value, Bytes):
        return [], f"co_exceptiontable is a {type(value).__name__}, not bytes"
    try:
        return decode_exception_table(value.value), None
    except PycError as e:
        return [], str(e)


def _lineno_width(style: DisStyle, lines: List[Optional[int]]) -> int:
    if style.lineno_width == "fixed":
        return 3
    if style.lineno_width == "grows":
        known = [line for line in lines if line is not None]
        if not known:
            return 0
        highest = max(known)
        return len(str(highest)) if highest >= 1000 else 3
    highest = max((line for line in lines if line), default=-1)  # 3.13+: filter(None, ...)
    if highest == -1:
        return 0
    width = max(3, len(str(highest)))
    if width < 4 and None in lines:
        width = 4
    return width


def _listing(code: Code, table: OpcodeTable, reprs: _Reprs, out: List[str]) -> None:
    """Append the lines ``dis.disassemble`` prints for one code object (no nested ones)."""
    style = table.dis
    entries, broken = _handlers(code, style)
    decoded = _decode(code, table, reprs, entries)
    instructions = decoded.instructions
    width = _lineno_width(style, [line for _, line in decoded.starts])
    data = getattr(code, "co_code", None)
    length = len(data.value) if isinstance(data, Bytes) and isinstance(data.value, bytes) else 0
    if style.listing == "labels":
        label_width = 4 + len(str(len(decoded.labels)))
        for ins in instructions:
            if width and ins.starts_line and ins.offset > 0:
                out.append("")
            fields = []
            if width:
                if ins.starts_line:
                    fields.append(("  --" if ins.line_number is None else str(ins.line_number)).rjust(width))
                else:
                    fields.append(" " * width)
            label = decoded.labels.get(ins.offset)
            fields.append(f"L{label}:".rjust(label_width) if label is not None else " " * label_width)
            fields.append("   ")
            fields.append(ins.opname.ljust(20))
            if ins.arg is not None:
                fields.append(repr(ins.arg).rjust(5 - max(0, len(ins.opname) - 20)))
                if ins.argrepr:
                    fields.append(f"({ins.argrepr})")
            out.append(" ".join(fields).rstrip())
    else:
        if style.offset_width == "grows" and length - 2 >= 10000:
            offset_width = len(str(length - 2))
        else:
            offset_width = 4
        print_style = style.listing == "print"
        shown = table.hasconst | table.hasname | table.hasjrel | table.haslocal | table.hascompare | table.hasfree
        deopt = table.deopt
        start_lines = dict(decoded.starts)
        for ins, prefixed in zip(instructions, decoded.prefixed):
            if ins.starts_line and ins.offset > 0 and width:
                out.append("")
            fields = []
            if width:
                line = start_lines.get(ins.offset) if ins.starts_line else None
                fields.append(str(line).rjust(width) if ins.starts_line else " " * width)
            fields.append("   ")
            fields.append(">>" if ins.offset in decoded.labels else "  ")
            fields.append(repr(ins.offset).rjust(offset_width))
            fields.append(ins.opname.ljust(20))
            if ins.arg is not None:
                long = "L" if prefixed and style.long_args_after_extended_arg else ""
                fields.append((repr(ins.arg) + long).rjust(5))
                if print_style:
                    if deopt.get(ins.opcode, ins.opcode) in shown and not (ins.note or "").startswith("unknown"):
                        text = ins.argrepr
                        if long and ins.jump_target is not None and text:
                            text += "L"
                        fields.append(f"({text})")
                elif ins.argrepr:
                    fields.append(f"({ins.argrepr})")
            if print_style:
                out.append(" ".join(fields) + (" " if style.print_trailing_space else ""))
            else:
                out.append(" ".join(fields).rstrip())
    if broken is not None:
        out.append("ExceptionTable:")
        out.append(f"  [malformed: {broken}]")
    elif entries:
        out.append("ExceptionTable:")
        for e in entries:
            lasti = " lasti" if e.lasti else ""
            if style.exception_table == "labels":
                labels = decoded.labels
                out.append(f"  L{labels[e.start]} to L{labels[e.end]} -> L{labels[e.target]} [{e.depth}]{lasti}")
            else:
                out.append(f"  {e.start} to {e.end - 2} -> {e.target} [{e.depth}]{lasti}")


def _nested(code: Code) -> Iterator[Code]:
    for const in _items(getattr(code, "co_consts", None)) or []:
        if isinstance(const, Code):
            yield const


def _version_of(version: Union[VersionLike, PycFormat, None], pyc: Optional[PycFile]) -> PythonVersion:
    if version is None:
        if pyc is None:
            raise TypeError("pass version= with a code object (a PycFile knows its own)")
        return pyc.version
    if isinstance(version, PycFormat):
        return version.version
    return as_version(version)


def disassemble(
    code: Union[Code, PycFile],
    version: Union[VersionLike, PycFormat, None] = None,
    *,
    file: Optional[IO[str]] = None,
    depth: Optional[int] = None,
) -> str:
    """The listing ``dis.dis`` of the code's version prints for a code object and every
    code object nested in it (for 2.x-3.6, whose ``dis.dis`` lists only the outer one,
    the nested ones follow as 3.7 lists them).

    ``code`` is a code object (then ``version`` is required) or a :class:`PycFile`
    (its version is used unless ``version`` is given).  The text is returned and, if
    ``file`` is given, also written there.  ``depth``, as in ``dis.dis``, limits how
    deep nested code objects are listed (0: only ``code`` itself; ``None``: all).  Raises :class:`TypeError` for an argument of
    another type, :class:`~pycfile.BadPycError` for a :class:`PycFile` whose body is not
    a code object, :class:`~pycfile.NoOpcodeTableError` for a version without an opcode
    table.  Where the listing may differ from ``dis``: an ``argrepr`` longer than
    :data:`ARGREPR_LIMIT` characters is cut, and a code object met a second time (the same
    object, through a marshal reference: compilers never write one) is listed once.
    """
    pyc = code if isinstance(code, PycFile) else None
    if pyc is None and not isinstance(code, Code):
        raise TypeError(f"expected a pycfile code object or PycFile, not {type(code).__name__}")
    v = _version_of(version, pyc)
    if pyc is not None and not isinstance(pyc.code, Code):
        raise BadPycError(f"the pyc holds a {type(pyc.code).__name__}, not a code object", path="code")
    root = pyc.code if pyc is not None else code
    assert isinstance(root, Code)
    table = opcode_table(v)
    reprs = _Reprs(table)
    py2 = reprs.py2
    lines: List[str] = []
    _listing(root, table, reprs, lines)
    listed = {id(root)}
    stack = [_nested(root)] if depth is None or depth > 0 else []
    while stack:  # dis's recursion, depth first, on a stack of our own
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        lines.append("")
        lines.append(f"Disassembly of {_code_repr(child, py2)}:")
        if id(child) in listed:
            lines.append("(listed above)")
            continue
        listed.add(id(child))
        _listing(child, table, reprs, lines)
        if depth is None or len(stack) < depth:
            stack.append(_nested(child))
    text = "\n".join(lines) + "\n" if lines else ""
    if file is not None:
        file.write(text)
    return text
