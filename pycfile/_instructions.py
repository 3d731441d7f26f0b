"""Decoding ``co_code`` into instructions, and a ``dis``-style listing.

:func:`get_instructions` reads a code object of any version that has an opcode table
(:func:`pycfile.opcode_table`) the way that version's own :func:`dis.get_instructions`
does: EXTENDED_ARG folded into the next argument, inline CACHE entries skipped (3.11+),
the argument resolved to a constant, name, variable, jump target or operator.
:func:`disassemble` renders the listing ``dis.dis`` would print, nested code included.

The bytes are never trusted: an unknown opcode, bytecode that ends in the middle of an
instruction, or an index outside ``co_consts``/``co_names``/the variables gives an
instruction whose ``note`` says what is wrong (and ``argval`` ``None``), never an error.
"""

from __future__ import annotations

import io
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import attrs

from . import _linetable
from ._code import Code
from ._errors import PycError
from ._opcodes import OpcodeTable, opcode_table
from ._plain import to_python
from ._pyc import PycFile
from ._values import Bytes, Long, Str, Value
from ._values import ListValue
from ._values import TupleValue
from ._versions import PycFormat, PythonVersion, VersionLike, as_version

__all__ = ["Instruction", "disassemble", "get_instructions"]

_FORMAT_CONVERTERS = (None, "str", "repr", "ascii")
_MAKE_FUNCTION_FLAGS = ("defaults", "kwdefaults", "annotations", "closure")
_FUNCTION_ATTR_FLAGS_313 = ("defaults", "kwdefaults", "annotations", "closure")
_FUNCTION_ATTR_FLAGS_314 = ("defaults", "kwdefaults", "annotations", "closure", "annotate")
_COMMON_CONSTANTS_314 = ("AssertionError", "NotImplementedError", "tuple", "all", "any")
_SPECIAL_METHODS_314 = ("__enter__", "__exit__", "__aenter__", "__aexit__")


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
    #: a tuple of two names (3.13 ``LOAD_FAST_LOAD_FAST``...), FORMAT_VALUE's
    #: ``(converter name or None, has format spec)``; else the argument itself.
    argval: Any
    #: Human-readable text for the argument, like ``dis`` prints in parentheses.
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


def _code_repr(code: Code) -> str:
    name = _text(getattr(code, "co_name", None)) or "?"
    filename = _text(getattr(code, "co_filename", None)) or "?"
    line = getattr(code, "co_firstlineno", None)
    where = f', line {line}' if isinstance(line, int) else ""
    return f'<code object {name}, file "{filename}"{where}>'


def const_repr(value: Any, version: PythonVersion) -> str:
    """``repr`` of a constant as the code's own Python would show it."""
    if isinstance(value, Code):
        return _code_repr(value)
    try:
        plain = to_python(value)
    except (ValueError, TypeError, RecursionError):
        return f"<{type(value).__name__}>"
    if version.major < 3:
        text = _repr_2(plain)
        return text + "L" if isinstance(value, Long) else text
    try:
        return repr(plain)
    except ValueError:  # an int past the host's str() digit limit (3.11+, 3.7-3.10 updates)
        return _repr_3(plain)


def _int_text(number: int) -> str:
    """Decimal digits of any int, in pieces below the host's conversion limit."""
    if -(10**1000) < number < 10**1000:
        return str(number)
    sign = "-" if number < 0 else ""
    high, low = divmod(abs(number), 10**1000)
    return sign + _int_text(high) + str(low).zfill(1000)


def _repr_3(plain: Any) -> str:
    if isinstance(plain, int) and not isinstance(plain, bool):
        return _int_text(plain)
    if isinstance(plain, tuple):
        inner = ", ".join(_repr_3(x) for x in plain)
        return f"({inner},)" if len(plain) == 1 else f"({inner})"
    if isinstance(plain, frozenset):
        return "frozenset({" + ", ".join(_repr_3(x) for x in plain) + "})" if plain else "frozenset()"
    if isinstance(plain, complex) or isinstance(plain, float):
        return repr(plain)
    try:
        return repr(plain)
    except ValueError:
        return f"<{type(plain).__name__}>"


def _repr_2(plain: Any) -> str:
    if isinstance(plain, bytes):
        return repr(plain)[1:]
    if isinstance(plain, str):
        return "u" + repr(plain)
    if isinstance(plain, int) and not isinstance(plain, bool):
        return _int_text(plain)
    if isinstance(plain, tuple):
        inner = ", ".join(_repr_2(x) for x in plain)
        return f"({inner},)" if len(plain) == 1 else f"({inner})"
    if isinstance(plain, frozenset):
        return "frozenset([" + ", ".join(_repr_2(x) for x in plain) + "])"
    try:
        return repr(plain)
    except ValueError:
        return f"<{type(plain).__name__}>"


class _Decoder:
    """Resolves arguments for one code object."""

    def __init__(self, code: Code, table: OpcodeTable) -> None:
        self.code = code
        self.table = table
        self.version = table.version
        self.v = (table.version.major, table.version.minor)
        self.consts = _items(getattr(code, "co_consts", None))
        self.names = _items(getattr(code, "co_names", None))
        if self.version >= (3, 11):
            self.locals = _items(getattr(code, "co_localsplusnames", None))
            self.free = self.locals
        else:
            self.locals = _items(getattr(code, "co_varnames", None))
            cells = _items(getattr(code, "co_cellvars", None)) or []
            frees = _items(getattr(code, "co_freevars", None)) or []
            self.free = cells + frees

    def const(self, index: int) -> Tuple[Any, str, Optional[str]]:
        if self.consts is None or not 0 <= index < len(self.consts):
            return None, "", f"constant index {index} out of range"
        value = self.consts[index]
        return value, const_repr(value, self.version), None

    def _name_in(self, items: Optional[List[Value]], index: int, what: str) -> Tuple[Any, str, Optional[str]]:
        if items is None or not 0 <= index < len(items):
            return None, "", f"{what} index {index} out of range"
        text = _text(items[index])
        if text is None:
            return None, "", f"{what} {index} is not a string"
        return text, text, None

    def name(self, index: int) -> Tuple[Any, str, Optional[str]]:
        return self._name_in(self.names, index, "name")

    def local(self, index: int) -> Tuple[Any, str, Optional[str]]:
        return self._name_in(self.locals, index, "local")

    def free_var(self, index: int) -> Tuple[Any, str, Optional[str]]:
        return self._name_in(self.free, index, "cell/free variable")


def _line_starts(code: Code, version: PythonVersion) -> List[Tuple[int, Optional[int]]]:
    """``dis.findlinestarts`` of the code's version (none if the table is broken)."""
    try:
        return list(_linetable.line_starts(code, version))
    except PycError:  # a broken line table: no line numbers rather than no listing
        return []


def _resolve(op: int, name: str, arg: int, offset: int, size: int, caches: int, dec: _Decoder) -> Tuple[Any, str, Optional[int], Optional[str]]:
    """``(argval, argrepr, jump_target, note)`` for an instruction with an argument."""
    table = dec.table
    v = dec.v
    if op in table.hasconst:
        if v == (3, 11) and name == "KW_NAMES":
            return None, "", None, None  # 3.11's dis leaves it unresolved
        value, text, note = dec.const(arg)
        return value, text, None, note
    if op in table.hasname:
        if v >= (3, 11) and name == "LOAD_GLOBAL":
            value, text, note = dec.name(arg >> 1)
            if arg & 1 and text:
                text = f"{text} + NULL" if v >= (3, 13) else f"NULL + {text}"
            return value, text, None, note
        if v >= (3, 12) and name == "LOAD_ATTR":
            value, text, note = dec.name(arg >> 1)
            if arg & 1 and text:
                text = f"{text} + NULL|self" if v >= (3, 13) else f"NULL|self + {text}"
            return value, text, None, note
        if v >= (3, 12) and name == "LOAD_SUPER_ATTR":
            value, text, note = dec.name(arg >> 2)
            if arg & 1 and text:
                text = f"{text} + NULL|self" if v >= (3, 13) else f"NULL|self + {text}"
            return value, text, None, note
        value, text, note = dec.name(arg)
        return value, text, None, note
    if op in table.hasjrel or op in table.hasjabs:
        unit = table.jump_unit
        if op in table.hasjabs:
            target = arg * unit
        else:
            signed = -arg if op in table.backward else arg
            base = offset + (2 + 2 * caches if v >= (3, 12) else size if v < (3, 11) else 2)
            target = base + signed * unit
        if v < (3, 10) and op in table.hasjabs:
            return target, "", target, None  # dis shows absolute jumps without "to" before 3.10
        return target, f"to {target}", target, None
    if v >= (3, 13) and name in ("LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST",
                                 "LOAD_FAST_BORROW_LOAD_FAST_BORROW"):
        first, text1, note1 = dec.local(arg >> 4)
        second, text2, note2 = dec.local(arg & 15)
        return (first, second), f"{text1}, {text2}", None, note1 or note2
    if op in table.haslocal:
        value, text, note = dec.local(arg)
        return value, text, None, note
    if op in table.hasfree:
        value, text, note = dec.free_var(arg)
        return value, text, None, note
    if op in table.hascompare:
        shift = 5 if v >= (3, 13) else 4 if v >= (3, 12) else 0
        index = arg >> shift
        if not 0 <= index < len(table.cmp_op):
            return None, "", None, f"comparison {index} out of range"
        text = table.cmp_op[index]
        if v >= (3, 13) and arg & 16:
            return text, f"bool({text})", None, None
        return text, text, None, None
    return _resolve_other(name, arg, dec)


def _pick(names: Sequence[str], index: int, what: str) -> Tuple[str, Optional[str]]:
    if 0 <= index < len(names):
        return names[index], None
    return "", f"{what} {index} out of range"


def _resolve_other(name: str, arg: int, dec: _Decoder) -> Tuple[Any, str, Optional[int], Optional[str]]:
    v = dec.v
    table = dec.table
    if name == "FORMAT_VALUE" and v >= (3, 6):
        converter = _FORMAT_CONVERTERS[arg & 3]
        text = converter or ""
        with_spec = bool(arg & 4)
        if with_spec:
            text = f"{text}, with format" if text else "with format"
        return (converter, with_spec), text, None, None
    if name == "CONVERT_VALUE" and v >= (3, 13):
        text, note = _pick(("", "str", "repr", "ascii"), arg, "conversion")
        return (_FORMAT_CONVERTERS[arg] if 0 <= arg < 4 else None), text, None, note
    if name == "MAKE_FUNCTION" and v >= (3, 8):  # 3.6-3.7's dis shows no flags
        flags = ", ".join(s for i, s in enumerate(_MAKE_FUNCTION_FLAGS) if arg & (1 << i))
        return arg, flags, None, None
    if name == "SET_FUNCTION_ATTRIBUTE":
        names = _FUNCTION_ATTR_FLAGS_314 if v >= (3, 14) else _FUNCTION_ATTR_FLAGS_313
        return arg, ", ".join(s for i, s in enumerate(names) if arg & (1 << i)), None, None
    if name == "BINARY_OP" and table.nb_ops:
        text, note = _pick([symbol for _, symbol in table.nb_ops], arg, "binary operator")
        return arg, text, None, note
    if name == "CALL_INTRINSIC_1":
        text, note = _pick(table.intrinsic_1, arg, "intrinsic")
        return arg, text, None, note
    if name == "CALL_INTRINSIC_2":
        text, note = _pick(table.intrinsic_2, arg, "intrinsic")
        return arg, text, None, note
    if name == "LOAD_COMMON_CONSTANT":
        text, note = _pick(_COMMON_CONSTANTS_314, arg, "common constant")
        return arg, text, None, note
    if name == "LOAD_SPECIAL":
        text, note = _pick(_SPECIAL_METHODS_314, arg, "special method")
        return arg, text, None, note
    if name == "LOAD_SMALL_INT":
        return arg, str(arg), None, None
    if v < (3, 6) and dec.table.hasnargs and name in ("CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_FUNCTION_VAR", "CALL_FUNCTION_VAR_KW"):
        return arg, f"{arg & 0xFF} positional, {(arg >> 8) & 0xFF} keyword pair", None, None
    return arg, "", None, None


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


def _raw_instructions(data: bytes, table: OpcodeTable) -> Iterator[Tuple[int, int, Optional[int], int, int, Optional[str]]]:
    """``(offset, opcode, arg, size, caches, note)`` for every instruction, as dis reads them."""
    n = len(data)
    extended = 0
    ext_op = table.extended_arg
    fast = _fast(table)
    known = fast.known
    i = 0
    if table.wordcode:
        has_arg = fast.has_arg
        cache_of = fast.caches
        deop = fast.deop
        reset = table.version >= (3, 10)
        while i < n:
            op = data[i]
            caches = cache_of[op]
            note: Optional[str] = None
            arg: Optional[int] = None
            if i + 1 >= n:
                note = "the bytecode ends inside this instruction (odd length)"
            if has_arg[op]:
                arg = (data[i + 1] if i + 1 < n else 0) | extended
                extended = (arg << 8) if deop[op] == ext_op else 0
            elif reset:
                extended = 0
            size = 2 + 2 * caches
            if note is None and i + size > n:
                note = "the bytecode ends inside this instruction's inline cache"
            if not known[op]:
                note = note or f"unknown opcode {op}"
            yield i, op, arg, min(size, n - i), caches, note
            i += size
        return
    have_argument = table.have_argument
    while i < n:
        op = data[i]
        note = None
        arg = None
        size = 1
        if op >= have_argument:
            size = 3
            if i + 2 >= n:
                note = "the bytecode ends inside this instruction's argument"
            low = data[i + 1] if i + 1 < n else 0
            high = data[i + 2] if i + 2 < n else 0
            arg = low | (high << 8) | extended
            extended = arg << 16 if op == ext_op else 0
        if not known[op]:
            note = note or f"unknown opcode {op}"
        yield i, op, arg, min(size, n - i), 0, note
        i += size


def _version_of(version: Union[VersionLike, PycFormat, None], pyc: Optional[PycFile]) -> PythonVersion:
    if version is None:
        if pyc is None:
            raise TypeError("pass version= with a code object (a PycFile knows its own)")
        return pyc.version
    if isinstance(version, PycFormat):
        return version.version
    return as_version(version)


def get_instructions(code: Code, version: Union[VersionLike, PycFormat]) -> List[Instruction]:
    """The instructions of one code object (not its nested ones), as the ``dis`` module
    of ``version`` reads them: EXTENDED_ARG folded, inline caches skipped."""
    code = _as_code(code)
    table = opcode_table(version)
    raw_code = getattr(code, "co_code", None)
    data = raw_code.value if isinstance(raw_code, Bytes) else b""
    dec = _Decoder(code, table)
    raw = list(_raw_instructions(data, table))
    starts = dict(_line_starts(code, table.version))
    fast = _fast(table)
    deop = fast.deop
    names = fast.names
    out: List[Instruction] = []
    by_offset: Dict[int, Instruction] = {}
    targets: List[int] = []
    line: Optional[int] = None
    for offset, op, arg, size, caches, note in raw:
        argval: Any = None
        argrepr = ""
        target: Optional[int] = None
        if arg is not None:
            if note is not None and note.startswith("unknown opcode"):
                argval = arg
            else:
                base = deop[op]
                argval, argrepr, target, arg_note = _resolve(base, names[base], arg, offset, size, caches, dec)
                note = note or arg_note
                if target is not None:
                    targets.append(target)
        starts_line = offset in starts
        if starts_line:
            line = starts[offset]
        ins = Instruction(
            offset, op, names[op], arg, argval, argrepr, line, starts_line, False, target, size, caches, note
        )
        out.append(ins)
        by_offset[offset] = ins
    for target in targets:
        found = by_offset.get(target)
        if found is not None:
            found.is_jump_target = True
    return out


def _format_instruction(ins: Instruction, line_width: int) -> str:
    fields = []
    if ins.starts_line and ins.line_number is not None:
        fields.append(str(ins.line_number).rjust(line_width))
    else:
        fields.append(" " * line_width)
    fields.append("   ")
    fields.append(">>" if ins.is_jump_target else "  ")
    fields.append(str(ins.offset).rjust(4))
    fields.append(ins.opname.ljust(20))
    if ins.arg is not None:
        fields.append(str(ins.arg).rjust(5))
        if ins.argrepr:
            fields.append(f"({ins.argrepr})")
    if ins.note:
        fields.append(f"[{ins.note}]")
    return " ".join(fields).rstrip()


def _write_code(code: Code, version: PythonVersion, out: IO[str], seen: Dict[int, bool]) -> None:
    instructions = get_instructions(code, version)
    lines = [i.line_number for i in instructions if i.starts_line and i.line_number is not None]
    width = max(3, len(str(max(lines)))) if lines else 3
    for index, ins in enumerate(instructions):
        if ins.starts_line and index:
            out.write("\n")
        out.write(_format_instruction(ins, width) + "\n")
    for const in _items(getattr(code, "co_consts", None)) or []:
        if isinstance(const, Code) and id(const) not in seen:
            seen[id(const)] = True
            out.write(f"\nDisassembly of {_code_repr(const)}:\n")
            _write_code(const, version, out, seen)


def disassemble(
    code: Union[Code, PycFile],
    version: Union[VersionLike, PycFormat, None] = None,
    *,
    file: Optional[IO[str]] = None,
) -> str:
    """A ``dis.dis``-style listing of a code object and every code object nested in it.

    ``code`` is a code object (then ``version`` is required) or a :class:`PycFile`
    (its version is used unless ``version`` is given).  The text is returned and, if
    ``file`` is given, also written there.
    """
    pyc = code if isinstance(code, PycFile) else None
    v = _version_of(version, pyc)
    root = _as_code(pyc.code if pyc is not None else code)
    buffer = io.StringIO()
    _write_code(root, v, buffer, {id(root): True})
    text = buffer.getvalue()
    if file is not None:
        file.write(text)
    return text
