"""A pyc as JSON and back: :func:`to_json` and :func:`from_json`, lossless both ways.

The schema is documented in docs/json.md: one JSON object for the pyc, with its header
fields, its trailer and a tree of nodes for the code object -- one node per marshal value
with its class, type code and FLAG_REF bit -- so that ``from_json(to_json(pyc))`` writes
the very bytes ``pyc`` does.  A value the model reaches more than once (a reference in
the pyc) is written in full the first time, with an ``"id"``, and as ``{"same_as": ID}``
after that.

Both directions work without recursion and in time linear in the size of the pyc:
:func:`iter_json` gives the text in pieces (the CLI streams them), nesting deeper than
:data:`PRETTY_DEPTH` is written on one line (indentation would grow with the depth), and
text nested deeper than ``_FAST_DEPTH`` is parsed here rather than by :mod:`json`'s
recursive C parser.  :func:`from_json` turns each node into its value as soon as the
parser closes it (:class:`_Fast`), so the parsed text is never held as a whole; on any
problem the checking reader (:class:`_Reader`) reads the text again to say where.
"""

from __future__ import annotations

import json
import math
from itertools import accumulate
import re
import struct
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Type, Union

from ._code import Code, code_class, code_fields
from ._errors import BadJsonError, PycError, UnwritableError
from ._header import PycHeader
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
)
from ._versions import CodeLayout, PycFormat, format_for_magic

__all__ = ["PRETTY_DEPTH", "SCHEMA", "from_json", "iter_json", "to_json"]

#: The schema version, written as ``"pycfile_json"``.
SCHEMA = 1
#: JSON nesting deeper than this is written without line breaks.
PRETTY_DEPTH = 48
_FAST_DEPTH = 100  # deeper text is parsed by _parse, not json.loads
_EXACT = 1 << 53  # ints beyond this are written as hex strings (exact in any JSON reader)

_PACK_D = struct.Struct("<d").pack
_UNPACK_D = struct.Struct("<d").unpack
_SURROGATE = re.compile("[\ud800-\udfff]")
_SEQUENCES = (TupleValue, ListValue, SetValue, FrozenSetValue)
_MAPPINGS = (DictValue, FrozenDict)
_VALUE_CLASSES: Dict[str, Type[Any]] = {
    cls.__name__: cls
    for cls in (Singleton, Int, Long, Float, Complex, Bytes, Str, TupleValue, ListValue, SetValue, FrozenSetValue, DictValue, FrozenDict, Slice)
}
_CODE_CLASSES: Dict[str, Type[Code]] = {code_class(layout).__name__: code_class(layout) for layout in CodeLayout}
_SINGLETON_CODES = "NTFS."


# --------------------------------------------------------------------------------------
# writing


_ENCODE: Callable[[str], str] = getattr(json.encoder, "encode_basestring")
_ENCODE_ASCII: Callable[[str], str] = getattr(json.encoder, "encode_basestring_ascii")


def _string(value: str) -> str:
    if _SURROGATE.search(value):
        return _ENCODE_ASCII(value)  # escaped: a lone surrogate has no UTF-8
    return _ENCODE(value)


def _int(value: int) -> str:
    if -_EXACT <= value <= _EXACT:
        return str(value)
    return '"' + hex(value) + '"'


def _number(raw: bytes) -> Tuple[str, Optional[str]]:
    """A binary float's JSON ``value`` and, when that value does not give its 8 bytes
    back (a NaN with another payload), the bytes in hex."""
    number = _UNPACK_D(raw)[0]
    if math.isnan(number):
        text = '"nan"'
    elif math.isinf(number):
        text = '"inf"' if number > 0 else '"-inf"'
    else:
        text = repr(number)
    return text, None if _PACK_D(json.loads(text) if text[0] != '"' else float(text[1:-1])) == raw else raw.hex()


def _shared(root: Any) -> Set[int]:
    """ids of the objects the model reaches more than once (references, cycles)."""
    seen: Set[int] = set()
    twice: Set[int] = set()
    stack: List[Any] = [root]
    while stack:
        value = stack.pop()
        cls = type(value)
        if cls is Singleton:
            continue
        key = id(value)
        if key in seen:
            twice.add(key)
            continue
        seen.add(key)
        if cls in _SEQUENCES:
            stack.extend(value.items)
        elif cls in _MAPPINGS:
            for pair in value.items:
                if isinstance(pair, tuple) and len(pair) == 2:
                    stack.extend(pair)
        elif cls is Slice:
            stack.extend((value.start, value.stop, value.step))
        elif isinstance(value, Code):
            stack.extend(getattr(value, name) for name, is_int in code_fields(cls) if not is_int)
    return twice


class _Writer:
    """The node tree of one model as JSON text, without recursion: a stack of
    generators, each writing one container or code node and asking the driver (by
    yielding ``(value, depth)``) to write each node inside it."""

    def __init__(self, root: Any, indent: Optional[int]) -> None:
        self.indent = indent
        self.shared = _shared(root)
        self.ids: Dict[int, int] = {}
        self.lines = ["" if indent is None else "\n" + " " * (indent * depth) for depth in range(PRETTY_DEPTH + 1)]
        self.codes: Dict[str, str] = {}

    def nl(self, depth: int) -> str:
        return self.lines[depth] if depth <= PRETTY_DEPTH else ""

    def head(self, value: Any, depth: int) -> Tuple[str, bool]:
        """The opening of a node with its scalar members, and whether it has nested
        ones (else the text is the whole node)."""
        cls = type(value)
        sep = "," + self.nl(depth + 1)
        parts = ["{" + self.nl(depth + 1) + '"type": "' + cls.__name__ + '"']
        if not isinstance(value, Code):
            code = value.code
            text = self.codes.get(code) if type(code) is str else None
            if text is None:
                if not isinstance(code, str):
                    raise UnwritableError(f"a {cls.__name__}'s type code is a {type(code).__name__}, not a str")
                text = self.codes[code] = '"code": ' + _string(code)
            parts.append(text)
        if value.flag_ref:
            parts.append('"ref": true')
        if cls is not Singleton and id(value) in self.shared:
            self.ids[id(value)] = len(self.ids)
            parts.append('"id": ' + str(self.ids[id(value)]))
        nested = False
        if cls is Singleton:
            pass
        elif cls is Int or cls is Long:
            if not isinstance(value.value, int):
                raise UnwritableError(f"an {cls.__name__} holds a {type(value.value).__name__}")
            parts.append('"value": ' + _int(value.value))
            if cls is Long and value.size is not None:
                parts.append('"size": ' + str(value.size))
        elif cls is Float:
            if value.code == "f":
                parts.append('"text": ' + _string(bytes(value.raw).decode("latin-1")))
            else:
                self.binary(parts, "value", "raw", value.raw)
        elif cls is Complex:
            if value.code == "x":
                parts.append('"real_text": ' + _string(bytes(value.real).decode("latin-1")))
                parts.append('"imag_text": ' + _string(bytes(value.imag).decode("latin-1")))
            else:
                self.binary(parts, "real", "real_raw", value.real)
                self.binary(parts, "imag", "imag_raw", value.imag)
        elif cls is Bytes:
            parts.append('"hex": "' + bytes(value.value).hex() + '"')
        elif cls is Str:
            if _SURROGATE.search(value.value):
                # JSON readers join an escaped high and low surrogate into one character
                parts.append('"utf8_hex": "' + value.value.encode("utf-8", "surrogatepass").hex() + '"')
            else:
                parts.append('"value": ' + _string(value.value))
        elif cls in _SEQUENCES or cls in _MAPPINGS or cls is Slice or isinstance(value, Code):
            nested = True
        else:
            raise UnwritableError(f"{cls.__name__} is not a marshal value")
        text = sep.join(parts)
        return (text if nested else text + self.nl(depth) + "}"), nested

    @staticmethod
    def binary(parts: List[str], key: str, raw_key: str, raw: bytes) -> None:
        raw = bytes(raw)
        if len(raw) != 8:  # not a float: kept as it is (the writer will refuse it)
            parts.append('"' + raw_key + '": "' + raw.hex() + '"')
            return
        text, extra = _number(raw)
        parts.append('"' + key + '": ' + text)
        if extra is not None:
            parts.append('"' + raw_key + '": "' + extra + '"')

    def body(self, value: Any, depth: int) -> Iterator[Any]:
        """The nested members of a container or code node, then its end."""
        nl = self.nl
        cls = type(value)
        if cls in _SEQUENCES:
            inner = nl(depth + 2)
            yield "," + nl(depth + 1) + '"items": ['
            for i, item in enumerate(value.items):
                yield inner if i == 0 else "," + inner
                yield (item, depth + 2)
            yield (nl(depth + 1) if value.items else "") + "]" + nl(depth) + "}"
        elif cls in _MAPPINGS:
            inner, inner2 = nl(depth + 2), nl(depth + 3)
            yield "," + nl(depth + 1) + '"items": ['
            for i, pair in enumerate(value.items):
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise UnwritableError(f"{cls.__name__} item {i} is not a (key, value) pair")
                yield (inner if i == 0 else "," + inner) + "[" + inner2
                yield (pair[0], depth + 3)
                yield "," + inner2
                yield (pair[1], depth + 3)
                yield inner + "]"
            yield (nl(depth + 1) if value.items else "") + "]" + nl(depth) + "}"
        elif cls is Slice:
            for name in ("start", "stop", "step"):
                yield "," + nl(depth + 1) + '"' + name + '": '
                yield (getattr(value, name), depth + 1)
            yield nl(depth) + "}"
        else:
            inner = nl(depth + 2)
            yield "," + nl(depth + 1) + '"fields": {'
            for i, (name, is_int) in enumerate(code_fields(cls)):
                field = getattr(value, name)
                key = (inner if i == 0 else "," + inner) + '"' + name + '": '
                if is_int:
                    if not isinstance(field, int) or isinstance(field, bool):
                        raise UnwritableError(f"{name} is a {type(field).__name__}, not an int")
                    yield key + str(field)
                else:
                    yield key
                    yield (field, depth + 2)
            yield nl(depth + 1) + "}" + nl(depth) + "}"

    def write(self, root: Any, depth: int) -> Iterator[str]:
        out: List[str] = []
        stack: List[Iterator[Any]] = []
        request: Optional[Tuple[Any, int]] = (root, depth)
        while True:
            if request is not None:
                value, level = request
                request = None
                if type(value) is not Singleton and id(value) in self.ids:
                    out.append('{"same_as": ' + str(self.ids[id(value)]) + "}")
                else:
                    text, nested = self.head(value, level)
                    out.append(text)
                    if nested:
                        stack.append(self.body(value, level))
            if not stack:
                break
            item = next(stack[-1], None)
            if item is None:
                stack.pop()
            elif type(item) is str:
                out.append(item)
            else:
                request = item
            if len(out) >= 2048:
                yield "".join(out)
                out.clear()
        if out:
            yield "".join(out)


def iter_json(pyc: PycFile, *, indent: Optional[int] = 1) -> Iterator[str]:
    """The text :func:`to_json` returns, in pieces (to write a big pyc's JSON without
    holding all of it)."""
    if not isinstance(pyc, PycFile):
        raise TypeError(f"to_json takes a PycFile, not {type(pyc).__name__}")
    header = pyc.header
    writer = _Writer(pyc.code, indent)
    nl1 = writer.nl(1)
    nl2 = writer.nl(2)
    fmt = header.format
    top = [
        '"pycfile_json": ' + str(SCHEMA),
        '"version": ' + _string(str(fmt.version)),
        '"magic": "' + bytes(header.magic).hex() + '"',
    ]
    if fmt.magic != header.magic:
        top.append('"format_magic": "' + fmt.magic.hex() + '"')
    fields = [
        '"flags": ' + ("null" if header.flags is None else str(header.flags)),
        '"mtime": ' + ("null" if header.mtime is None else str(header.mtime)),
        '"source_size": ' + ("null" if header.source_size is None else str(header.source_size)),
        '"source_hash": ' + ("null" if header.source_hash is None else '"' + bytes(header.source_hash).hex() + '"'),
    ]
    top.append('"header": {' + nl2 + ("," + nl2).join(fields) + nl1 + "}")
    yield "{" + nl1 + ("," + nl1).join(top) + "," + nl1 + '"code": '
    try:
        yield from writer.write(pyc.code, 1)
    except PycError as e:
        e._prepend_path("code")
        raise
    yield "," + nl1 + '"trailer": "' + bytes(pyc.trailer).hex() + '"' + writer.nl(0) + "}" + ("\n" if indent is not None else "")


def to_json(pyc: PycFile, *, indent: Optional[int] = 1) -> str:
    """The pyc as JSON text (schema: docs/json.md); :func:`from_json` gives it back.

    ``indent`` spaces per level (``None``: all on one line).  Raises
    :class:`UnwritableError` for a model that is not made of marshal values.
    """
    return "".join(iter_json(pyc, indent=indent))


# --------------------------------------------------------------------------------------
# parsing the text


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _depth(text: str) -> int:
    """How deeply JSON text nests (strings skipped), in C-speed passes."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


_TOKEN = re.compile(
    r'[ \t\n\r]*(?:(?P<punct>[\[\]{},:])|(?P<str>")|(?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)|(?P<lit>true|false|null))'
)
_LITERALS = {"true": True, "false": False, "null": None}


def _parse(text: str, hook: Optional[Callable[[Dict[str, Any]], Any]] = None) -> Any:
    """JSON text to Python values (like ``json.loads``, ``hook`` like its ``object_hook``)
    without recursion."""
    scanstring: Callable[[str, int], Tuple[str, int]] = getattr(json.decoder, "scanstring")
    pos = 0
    stack: List[Any] = []  # open containers: [list] or [dict, pending key or None]
    result: Any = None
    done = False
    expect_value = True
    after_comma = False

    def bad(why: str, at: int) -> BadJsonError:
        return BadJsonError(f"not JSON: {why}", offset=at)

    while True:
        match = _TOKEN.match(text, pos)
        if match is None:
            rest = text[pos:].strip()
            if not rest and done and not stack:
                return result
            raise bad("unexpected end" if not rest else f"unexpected {text[pos:pos + 10].strip()!r}", pos)
        pos = match.end()
        after_comma, was_comma = False, after_comma
        kind = match.lastgroup or ""
        token = match.group(kind)
        if done:
            raise bad(f"unexpected {token!r} after the value", match.start(kind))
        value: Any = None
        is_value = False
        if kind == "str":
            try:
                value, pos = scanstring(text, pos)
            except ValueError as e:
                raise bad(str(e), pos) from None
            is_value = True
        elif kind == "num":
            try:
                value = int(token) if token.lstrip("-").isdigit() else float(token)
            except ValueError as e:
                raise bad(str(e), match.start("num")) from None
            is_value = True
        elif kind == "lit":
            value = _LITERALS[token]
            is_value = True
        elif token == "[" or token == "{":
            if not expect_value:
                raise bad(f"unexpected {token!r}", pos - 1)
            container: Any = [] if token == "[" else {}
            if stack:
                top = stack[-1]
                if isinstance(top[0], dict) and (top[1] is None or top[1][0] is not _COLON):
                    raise bad("a ':' is missing" if top[1] is not None else "an object key must be a string", pos - 1)
            stack.append([container, None])
            expect_value = token == "["
            continue
        elif token == "]" or token == "}":
            if not stack:
                raise bad(f"unexpected {token!r}", pos - 1)
            top = stack[-1]
            if isinstance(top[0], list) != (token == "]") or top[1] is not None or was_comma:
                raise bad(f"unexpected {token!r}", pos - 1)
            stack.pop()
            closed = top[0] if hook is None or token == "]" else hook(top[0])
            if stack:
                _attach(stack, closed, bad, pos - 1)
            else:
                result = closed
                done = True
            expect_value = False
            continue
        elif token == ",":
            if not stack or expect_value or stack[-1][1] is not None or not stack[-1][0]:
                raise bad("unexpected ','", pos - 1)
            expect_value = isinstance(stack[-1][0], list)
            after_comma = True
            continue
        elif token == ":":
            top = stack[-1] if stack else None
            if top is None or not isinstance(top[0], dict) or top[1] is None or top[1][0] is _COLON:
                raise bad("unexpected ':'", pos - 1)
            top[1] = (_COLON, top[1][1])
            expect_value = True
            continue
        if is_value:
            if not stack:
                result = value
                done = True
                continue
            top = stack[-1]
            if isinstance(top[0], dict) and top[1] is None:
                if kind != "str":
                    raise bad("an object key must be a string", match.start(kind))
                top[1] = (None, value)
                expect_value = False
                continue
            if not expect_value:
                raise bad("a ',' is missing", match.start(kind))
            _attach(stack, value, bad, pos)
            expect_value = False


_COLON = object()


def _attach(stack: List[Any], value: Any, bad: Callable[[str, int], BadJsonError], at: int) -> None:
    top = stack[-1]
    if isinstance(top[0], list):
        top[0].append(value)
        return
    pending = top[1]
    if pending is None or pending[0] is not _COLON:
        raise bad("a ':' is missing", at)
    top[0][pending[1]] = value
    top[1] = None


def _loads(text: str, hook: Optional[Callable[[Dict[str, Any]], Any]] = None) -> Any:
    if len(text) > 2 * _FAST_DEPTH and _depth(text) > _FAST_DEPTH:
        return _parse(text, hook)
    try:
        return json.loads(text, object_hook=hook)
    except json.JSONDecodeError as e:
        raise BadJsonError(f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})", offset=e.pos) from None
    except (ValueError, RecursionError) as e:
        raise BadJsonError(f"not JSON: {e}") from None


# --------------------------------------------------------------------------------------
# from the parsed tree to the model


#: A node's place in the tree: (parent's place, step), materialised only for errors.
_Path = Optional[Tuple[Any, str]]


class _Reader:
    """Builds model values from parsed nodes without recursion.  Containers and code
    objects are made before their contents, so a reference (``same_as``) may name any
    node met before it in the text, an enclosing one included."""

    def __init__(self) -> None:
        self.ids: Dict[int, Any] = {}

    def fail(self, why: str, path: _Path) -> BadJsonError:
        return BadJsonError(why, path=_join(path))

    def build(self, root: Any, root_path: str) -> Any:
        # work items: (node, setter, path steps); a setter stores the built value
        result: List[Any] = [None]

        def set_result(value: Any) -> None:
            result[0] = value

        work: List[Tuple[Any, Callable[[Any], None], _Path]] = [(root, set_result, (None, root_path))]
        while work:
            node, store, path = work.pop()
            value = self.node(node, path, work)
            store(value)
        return result[0]

    def node(self, node: Any, path: _Path, work: List[Tuple[Any, Callable[[Any], None], _Path]]) -> Any:
        if not isinstance(node, dict):
            raise self.fail(f"a node is a JSON object, not {_kind(node)}", path)
        if "same_as" in node:
            if len(node) != 1:
                raise self.fail("a same_as node has no other member", path)
            target = node["same_as"]
            if type(target) is not int or target not in self.ids:
                raise self.fail(f"same_as {target!r} names no node written before it", path)
            return self.ids[target]
        name = node.get("type")
        if not isinstance(name, str):
            raise self.fail("a node needs a string \"type\"", path)
        flag = node.get("ref", False)
        if not isinstance(flag, bool):
            raise self.fail("\"ref\" is true or false", path)
        cls = _VALUE_CLASSES.get(name)
        code_cls = _CODE_CLASSES.get(name) if cls is None else None
        if cls is None and code_cls is None:
            raise self.fail(f"unknown node type {name!r}", path)
        allowed = _MEMBERS[name] if code_cls is None else _CODE_MEMBERS
        extra = set(node) - allowed
        if extra:
            raise self.fail(f"a {name} node has no member {sorted(extra)[0]!r}", path)
        if code_cls is not None:
            value: Any = code_cls.__new__(code_cls)
            value.flag_ref = flag
            self.register(node, value, path)
            self.code_fields(node, value, code_cls, path, work)
            return value
        assert cls is not None
        code = node.get("code")
        if not isinstance(code, str):
            raise self.fail("a node needs a string \"code\" (its type code)", path)
        try:
            value = self.scalar(cls, node, code, flag, path)
        except (ValueError, TypeError, OverflowError) as e:
            raise self.fail(f"bad {name}: {e}", path) from None
        if value is not None:
            self.register(node, value, path)
            return value
        if cls in _SEQUENCES or cls in _MAPPINGS:
            items = node.get("items")
            if not isinstance(items, list):
                raise self.fail(f"a {name} node needs an \"items\" array", path)
            value = cls([], code, flag)
            self.register(node, value, path)
            out: List[Any] = value.items
            if cls in _SEQUENCES:
                out.extend([None] * len(items))
                for i in range(len(items) - 1, -1, -1):
                    work.append((items[i], _setter(out, i), (path, f"[{i}]")))
            else:
                out.extend([None] * len(items))
                for i in range(len(items) - 1, -1, -1):
                    pair = items[i]
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise self.fail(f"item {i} of a {name} is not a [key, value] array", path)
                    box: List[Any] = [None, None]
                    out[i] = box
                    work.append((pair[1], _pair_setter(out, i, box, 1), (path, f"[{i}].value")))
                    work.append((pair[0], _pair_setter(out, i, box, 0), (path, f"[{i}].key")))
            return value
        # Slice
        missing = [k for k in ("start", "stop", "step") if k not in node]
        if missing:
            raise self.fail(f"a Slice node needs {missing[0]!r}", path)
        value = Slice(Singleton("N"), Singleton("N"), Singleton("N"), code, flag)
        self.register(node, value, path)
        for k in ("step", "stop", "start"):
            work.append((node[k], _attr_setter(value, k), (path, k)))
        return value

    def register(self, node: Dict[str, Any], value: Any, path: _Path) -> None:
        if "id" in node:
            number = node["id"]
            if type(number) is not int or number in self.ids:
                raise self.fail(f"id {number!r} is not a new integer", path)
            self.ids[number] = value

    def code_fields(
        self, node: Dict[str, Any], value: Any, cls: Type[Code], path: _Path, work: List[Tuple[Any, Callable[[Any], None], _Path]]
    ) -> None:
        fields = node.get("fields")
        if not isinstance(fields, dict):
            raise self.fail(f"a {cls.__name__} node needs a \"fields\" object", path)
        layout = code_fields(cls)
        names = {name for name, _ in layout}
        extra = set(fields) - names
        if extra:
            raise self.fail(f"a {cls.__name__} has no field {sorted(extra)[0]!r}", path)
        for name, is_int in reversed(layout):
            if name not in fields:
                raise self.fail(f"field {name!r} is missing", path)
            field = fields[name]
            if is_int:
                if type(field) is not int:
                    raise self.fail(f"{name} is an integer, not {_kind(field)}", (path, name))
                setattr(value, name, field)
            else:
                work.append((field, _attr_setter(value, name), (path, name)))

    def scalar(self, cls: Type[Any], node: Dict[str, Any], code: str, flag: bool, path: _Path) -> Any:
        """A scalar value, or None for a container or slice."""
        if cls is Singleton:
            if code not in _SINGLETON_CODES or len(code) != 1:
                raise ValueError(f"{code!r} is not a singleton's type code (N, T, F, S or .)")
            return Singleton(code, flag)
        if cls is Int or cls is Long:
            number = _integer(self.need(node, "value", path))
            if cls is Int:
                return Int(number, code, flag)
            size = node.get("size")
            if size is not None and type(size) is not int:
                raise ValueError("size is an integer")
            return Long(number, code, flag, size)
        if cls is Float:
            if code == "f":
                return Float(_latin1(self.need(node, "text", path)), code, flag)
            return Float(_raw(node, "value", "raw", self, path), code, flag)
        if cls is Complex:
            if code == "x":
                return Complex(_latin1(self.need(node, "real_text", path)), _latin1(self.need(node, "imag_text", path)), code, flag)
            return Complex(_raw(node, "real", "real_raw", self, path), _raw(node, "imag", "imag_raw", self, path), code, flag)
        if cls is Bytes:
            text = self.need(node, "hex", path)
            if not isinstance(text, str):
                raise ValueError("hex is a string")
            return Bytes(bytes.fromhex(text), code, flag)
        if cls is Str:
            if "utf8_hex" in node:
                raw = node["utf8_hex"]
                if not isinstance(raw, str) or "value" in node:
                    raise ValueError("utf8_hex is a hex string, given instead of value")
                return Str(bytes.fromhex(raw).decode("utf-8", "surrogatepass"), code, flag)
            text = self.need(node, "value", path)
            if not isinstance(text, str):
                raise ValueError("value is a string")
            return Str(text, code, flag)
        return None

    def need(self, node: Dict[str, Any], key: str, path: _Path) -> Any:
        if key not in node:
            raise self.fail(f"a {node.get('type')} node needs {key!r}", path)
        return node[key]


_COMMON = {"type", "code", "ref", "id"}
_MEMBERS: Dict[str, Set[str]] = {
    "Singleton": _COMMON,
    "Int": _COMMON | {"value"},
    "Long": _COMMON | {"value", "size"},
    "Float": _COMMON | {"value", "raw", "text"},
    "Complex": _COMMON | {"real", "imag", "real_raw", "imag_raw", "real_text", "imag_text"},
    "Bytes": _COMMON | {"hex"},
    "Str": _COMMON | {"value", "utf8_hex"},
    "TupleValue": _COMMON | {"items"},
    "ListValue": _COMMON | {"items"},
    "SetValue": _COMMON | {"items"},
    "FrozenSetValue": _COMMON | {"items"},
    "DictValue": _COMMON | {"items"},
    "FrozenDict": _COMMON | {"items"},
    "Slice": _COMMON | {"start", "stop", "step"},
}
_CODE_MEMBERS = {"type", "ref", "id", "fields"}


def _setter(items: List[Any], index: int) -> Callable[[Any], None]:
    def store(value: Any) -> None:
        items[index] = value

    return store


def _pair_setter(items: List[Any], index: int, box: List[Any], side: int) -> Callable[[Any], None]:
    def store(value: Any) -> None:
        box[side] = value
        items[index] = (box[0], box[1])

    return store


def _attr_setter(target: Any, name: str) -> Callable[[Any], None]:
    def store(value: Any) -> None:
        setattr(target, name, value)

    return store


def _integer(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        negative = text.startswith("-")
        digits = text[1:] if negative else text
        if digits.startswith("0x"):
            number = int(digits[2:], 16)
            return -number if negative else number
    raise ValueError(f"{value!r} is not an integer (a JSON number, or a hex string such as \"-0x1f\")")


def _latin1(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("the text of a float is a string")
    return value.encode("latin-1")


def _raw(node: Dict[str, Any], key: str, raw_key: str, reader: _Reader, path: _Path) -> bytes:
    if raw_key in node:
        text = node[raw_key]
        if not isinstance(text, str):
            raise ValueError(f"{raw_key} is a hex string")
        raw = bytes.fromhex(text)
        if key in node:
            written = node[key]
            if len(raw) == 8 and written != "nan" and _float_bytes(written) != raw:
                raise ValueError(f"{key} {written!r} and {raw_key} {text!r} disagree")
        return raw
    return _float_bytes(reader.need(node, key, path))


def _float_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        if value not in ("nan", "inf", "-inf"):
            raise ValueError(f"{value!r} is not a number, \"nan\", \"inf\" or \"-inf\"")
        return _PACK_D(float(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return _PACK_D(float(value))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _join(path: _Path) -> str:
    steps: List[str] = []
    while path is not None:
        path, step = path
        steps.append(step)
    text = ""
    for step in reversed(steps):
        text = step if not text else text + step if step.startswith("[") else text + "." + step
    return text


class _Slow(Exception):
    """The fast reader met something it leaves to :class:`_Reader` (which says what)."""


_MODEL_TYPES = tuple(_VALUE_CLASSES.values()) + (Code,)


class _Fast:
    """Builds the model while the text is parsed, as the ``object_hook`` of the parser:
    each node becomes its value as soon as its object closes, so the parsed objects are
    never all held at once.  Anything unusual (a reference to an enclosing node, any
    error) raises :class:`_Slow`, and :class:`_Reader` reads the text again."""

    def __init__(self) -> None:
        self.ids: Dict[int, Any] = {}
        self.scalars = _Reader()

    def hook(self, node: Dict[str, Any]) -> Any:
        if "same_as" in node:
            target = node["same_as"]
            if len(node) != 1 or type(target) is not int or target not in self.ids:
                raise _Slow
            return self.ids[target]
        name = node.get("type")
        if name is None:
            return node  # the header, a code object's fields, the top object
        flag = node.get("ref", False)
        if type(name) is not str or type(flag) is not bool:
            raise _Slow
        cls = _VALUE_CLASSES.get(name)
        try:
            if cls is None:
                value = self.code(node, name, flag)
            else:
                if not node.keys() <= _MEMBERS[name]:
                    raise _Slow
                code = node.get("code")
                if type(code) is not str:
                    raise _Slow
                value = self.scalars.scalar(cls, node, code, flag, None)
                if value is None:
                    value = self.compound(cls, node, code, flag)
        except (ValueError, TypeError, OverflowError, BadJsonError):
            raise _Slow from None
        if "id" in node:
            number = node["id"]
            if type(number) is not int or number in self.ids:
                raise _Slow
            self.ids[number] = value
        return value

    @staticmethod
    def code(node: Dict[str, Any], name: str, flag: bool) -> Code:
        cls = _CODE_CLASSES.get(name)
        fields = node.get("fields")
        if cls is None or not node.keys() <= _CODE_MEMBERS or type(fields) is not dict:
            raise _Slow
        layout = code_fields(cls)
        if len(fields) != len(layout):
            raise _Slow
        arguments: Dict[str, Any] = {}
        for field, is_int in layout:
            value = fields.get(field, fields)
            if (type(value) is not int) if is_int else not isinstance(value, _MODEL_TYPES):
                raise _Slow
            arguments[field] = value
        return cls(**arguments, flag_ref=flag)  # type: ignore[call-arg]

    @staticmethod
    def compound(cls: Type[Any], node: Dict[str, Any], code: str, flag: bool) -> Any:
        if cls is Slice:
            parts: List[Any] = [node.get(k) for k in ("start", "stop", "step")]
            if not all(isinstance(p, _MODEL_TYPES) for p in parts):
                raise _Slow
            return Slice(parts[0], parts[1], parts[2], code, flag)
        items = node.get("items")
        if type(items) is not list:
            raise _Slow
        if cls in _SEQUENCES:
            for item in items:
                if not isinstance(item, _MODEL_TYPES):
                    raise _Slow
            return cls(items, code, flag)
        pairs = []
        for pair in items:
            if type(pair) is not list or len(pair) != 2 or not isinstance(pair[0], _MODEL_TYPES) or not isinstance(pair[1], _MODEL_TYPES):
                raise _Slow
            pairs.append((pair[0], pair[1]))
        return cls(pairs, code, flag)


def from_json(text: Union[str, bytes, bytearray]) -> PycFile:
    """The pyc that :func:`to_json` text stands for (edited or not).

    Raises :class:`BadJsonError` (naming the node: ``code.co_consts[3]``) for text that
    is not JSON or not a pyc in pycfile's schema, and ``TypeError`` for a ``text`` that
    is neither str nor bytes.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadJsonError(f"not UTF-8: {e.reason}", offset=e.start) from None
    if not isinstance(text, str):
        raise TypeError(f"from_json takes a str or bytes, not {type(text).__name__}")
    try:
        tree = _loads(text, _Fast().hook)
        fast = True
    except _Slow:
        tree = _loads(text)
        fast = False
    if not isinstance(tree, dict):
        raise BadJsonError(f"the JSON holds {_kind(tree)}, not a pyc object")
    schema = tree.get("pycfile_json")
    if schema != SCHEMA:
        raise BadJsonError(f"\"pycfile_json\" is {schema!r}; this pycfile reads schema {SCHEMA}", path="pycfile_json")
    known = {"pycfile_json", "version", "magic", "format_magic", "header", "code", "trailer"}
    extra = set(tree) - known
    if extra:
        raise BadJsonError(f"unknown member {sorted(extra)[0]!r}", path=sorted(extra)[0])
    magic = _hex(tree, "magic", 4)
    fmt: PycFormat
    try:
        fmt = format_for_magic(_hex(tree, "format_magic", 4) if "format_magic" in tree else magic)
    except PycError as e:
        raise BadJsonError(f"{e.reason} (register it with pycfile.register_magic first)", path="magic") from None
    header = tree.get("header")
    if not isinstance(header, dict):
        raise BadJsonError("\"header\" is an object", path="header")
    extra = set(header) - {"flags", "mtime", "source_size", "source_hash"}
    if extra:
        raise BadJsonError(f"unknown member {sorted(extra)[0]!r}", path="header." + sorted(extra)[0])
    numbers: Dict[str, Optional[int]] = {}
    for name in ("flags", "mtime", "source_size"):
        value = header.get(name)
        if value is not None and type(value) is not int:
            raise BadJsonError(f"{name} is an integer or null", path="header." + name)
        numbers[name] = value
    source_hash = None if header.get("source_hash") is None else _hex(header, "source_hash", None, "header.")
    if "code" not in tree:
        raise BadJsonError("\"code\" is missing", path="code")
    code = tree["code"]
    if not fast or not isinstance(code, _MODEL_TYPES):
        if fast:  # the code node is not a node: read it again to say why
            tree = _loads(text)
        code = _Reader().build(tree["code"], "code")
    return PycFile(
        PycHeader(magic, fmt, numbers["flags"], numbers["mtime"], numbers["source_size"], source_hash),
        code,
        _hex(tree, "trailer", None) if "trailer" in tree else b"",
    )


def _hex(tree: Dict[str, Any], key: str, size: Optional[int], prefix: str = "") -> bytes:
    value = tree.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        data = bytes.fromhex(value)
    except ValueError:
        raise BadJsonError(f"{key} is a hex string", path=prefix + key) from None
    if size is not None and len(data) != size:
        raise BadJsonError(f"{key} is {size} bytes, not {len(data)}", path=prefix + key)
    return data
