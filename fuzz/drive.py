"""Drive every public function and every CLI command with one input, and collect what
escapes.

The one property: each call is accepted, or raises a :class:`pycfile.PycError` subclass
-- or, where the documentation says so, a ``TypeError`` for a wrong argument type or a
``ValueError`` for an impossible request (listed in :data:`DOCUMENTED`).  Anything else
(``IndexError``, ``RecursionError``, ``MemoryError``, an ``AttributeError`` from a
model...) is an *escape*.  Accepted results are checked too: a pyc that loads writes
back to the same bytes, equals a second load of itself, and diffs empty against itself,
its :func:`~pycfile.strip_refs` and its :func:`~pycfile.normalize` copies.

:func:`drive_bytes` takes pyc bytes, :func:`drive_model` a model value, and
:func:`drive_cli` runs the ``pycfile`` commands in-process on a file holding the bytes.
Each returns a list of :class:`Escape`.  Hangs are the caller's business (the campaigns
run inputs under a watchdog).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Type

import pycfile
import pycfile.marshal
from pycfile import _cli

__all__ = ["DOCUMENTED", "Escape", "drive_bytes", "drive_cli", "drive_model"]


class Escape(NamedTuple):
    """Something other than the property: an exception that escaped ``api``, or a
    result that broke a promise (``kind`` is then ``"broken"``)."""

    api: str
    kind: str
    message: str


#: The exceptions other than PycError a function is documented to raise for some input
#: the drivers give it (docs/reference/errors.md, "Not errors", and the docstrings).
DOCUMENTED: Dict[str, Tuple[Type[BaseException], ...]] = {
    # a tuple or frozenset that contains itself has no Python value (to_python docstring)
    "to_python": (ValueError,),
    # Python values it cannot marshal (code objects of another version among them)
    "from_python": (TypeError,),
    # hash-based pycs need 3.7+; a timestamp header needs its fields
    "to_hash_based": (ValueError,),
    "to_timestamp": (ValueError,),
    "restamp": (ValueError,),
    "source_hash": (ValueError,),
    "cli restamp": (ValueError,),
    # a magic already in the table cannot be registered again
    "register_magic": (ValueError,),
}


def _call(escapes: List[Escape], api: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; an exception other than PycError and the documented
    ones for ``api`` is recorded.  Returns the result, or None if it raised."""
    try:
        return fn(*args, **kwargs)
    except pycfile.PycError:
        return None
    except DOCUMENTED.get(api, ()):
        return None
    except Exception as e:  # noqa: BLE001 - this is what the harness looks for
        escapes.append(Escape(api, type(e).__name__, _message(e)))
        return None


def _message(e: BaseException) -> str:
    try:
        text = str(e)
    except Exception:  # noqa: BLE001
        text = "<str() failed>"
    return text[:300]


def _broken(escapes: List[Escape], api: str, what: str) -> None:
    escapes.append(Escape(api, "broken", what))


def drive_bytes(data: bytes, *, full: bool = True, tmp: Optional[str] = None) -> List[Escape]:
    """Every reading function on ``data`` (a pyc, or garbage); with ``full``, every
    function that takes what was read.  ``tmp`` is a directory for the functions that
    take paths (made and removed here if not given)."""
    return drive_pyc_bytes(data, full=full, tmp=tmp)[0]


def drive_pyc_bytes(data: bytes, *, full: bool = True, tmp: Optional[str] = None) -> Tuple[List[Escape], bool]:
    """:func:`drive_bytes`, and whether ``data`` loaded."""
    escapes: List[Escape] = []
    _call(escapes, "format_for_magic", pycfile.format_for_magic, data[:4])
    pyc = _call(escapes, "loads", pycfile.loads, data)
    if pyc is None:
        if full:
            _with_tmp(tmp, lambda d: _paths(escapes, data, None, d))
        return escapes, False
    fmt = pyc.format
    out = _call(escapes, "dumps", pycfile.dumps, pyc)
    if out is not None and out != data:
        _broken(escapes, "dumps", "a pyc read from bytes was written back differently")
    again = pycfile.loads(data)
    if _call(escapes, "==", lambda: pyc == again) is False:
        _broken(escapes, "==", "two loads of the same bytes are not equal")
    _call(escapes, "repr", repr, pyc)
    body = data[fmt.header_size : len(data) - len(pyc.trailer)]
    value = _call(escapes, "marshal.loads", pycfile.marshal.loads, body, version=fmt)
    if value is None:
        _broken(escapes, "marshal.loads", "the body of a pyc that loads does not load")
    prefix = _call(escapes, "marshal.loads_prefix", pycfile.marshal.loads_prefix, data, version=fmt, offset=fmt.header_size)
    if prefix is not None and prefix[1] != len(data) - len(pyc.trailer):
        _broken(escapes, "marshal.loads_prefix", "ends elsewhere than loads")
    if value is not None:
        written = _call(escapes, "marshal.dumps", pycfile.marshal.dumps, value, version=fmt)
        if written is not None and written != body:
            _broken(escapes, "marshal.dumps", "written back differently")
    if full:
        _model_functions(escapes, pyc, again)
        _with_tmp(tmp, lambda d: _paths(escapes, data, pyc, d))
    return escapes, True


def _with_tmp(tmp: Optional[str], fn: Callable[[str], None]) -> None:
    if tmp is not None:
        fn(tmp)
        return
    with tempfile.TemporaryDirectory(prefix="pycfile-fuzz-") as d:
        fn(d)


def _model_functions(escapes: List[Escape], pyc: pycfile.PycFile, again: pycfile.PycFile) -> None:
    """Every function that takes a PycFile or a code object, on one that loaded."""
    fmt = pyc.format
    code = pyc.code
    if _call(escapes, "diff", pycfile.diff, pyc, again) not in (None, []):
        _broken(escapes, "diff", "a pyc differs from a second load of itself")
    stripped = _call(escapes, "strip_refs", pycfile.strip_refs, pyc)
    if stripped is not None:
        _call(escapes, "dumps(strip_refs)", pycfile.dumps, stripped)
        if _call(escapes, "diff", pycfile.diff, pyc, stripped) not in (None, []):
            _broken(escapes, "diff", "a pyc differs from its strip_refs copy")
    normal = _call(escapes, "normalize", pycfile.normalize, pyc)
    if normal is not None:
        if _call(escapes, "dumps(normalize)", pycfile.dumps, normal) is None:
            _broken(escapes, "normalize", "gave a model dumps refuses")
        if _call(escapes, "diff", pycfile.diff, pyc, normal) not in (None, []):
            _broken(escapes, "diff", "a pyc differs from its normalize copy")
    plain = _call(escapes, "to_python", pycfile.to_python, code)
    consts = getattr(code, "co_consts", None)
    if consts is not None:
        python = _call(escapes, "to_python", pycfile.to_python, consts)
        if python is not None:
            _call(escapes, "from_python", pycfile.from_python, python, fmt)
    del plain
    for mapping in ({1: 2, "a": "b", None: None}, {b"x": b"y", (1, 2): (3,), 1.5: 2.5}):
        replaced = _call(escapes, "replace_constants", pycfile.replace_constants, pyc, mapping)
        if replaced is not None:
            _call(escapes, "dumps(replace_constants)", pycfile.dumps, replaced)
    renamed = _call(escapes, "replace_filename", pycfile.replace_filename, pyc, "fuzz.py")
    if renamed is not None:
        _call(escapes, "dumps(replace_filename)", pycfile.dumps, renamed)
    _call(escapes, "replace_filename", pycfile.replace_filename, pyc, prefixes={"/": "/x/", "": "y"})
    _call(escapes, "to_timestamp", pycfile.to_timestamp, pyc, mtime=1, source_size=2 if fmt.header_size > 8 else None)
    _call(escapes, "to_hash_based", pycfile.to_hash_based, pyc, b"x = 1\n")
    _call(escapes, "source_hash", pycfile.source_hash, b"x = 1\n", fmt)
    _call(escapes, "dump", pycfile.dump, pyc, io.BytesIO())
    _call(escapes, "header.to_bytes", pyc.header.to_bytes)
    _call(escapes, "opcode_table", pycfile.opcode_table, fmt)
    _call(escapes, "disassemble", pycfile.disassemble, pyc, file=io.StringIO())
    if isinstance(code, pycfile.Code):
        walked = _call(escapes, "Code.walk", lambda: list(code.walk()))
        for each in (walked or [])[:64]:
            _code_functions(escapes, each, fmt)


def _code_functions(escapes: List[Escape], code: pycfile.Code, fmt: pycfile.PycFormat) -> None:
    _call(escapes, "get_instructions", pycfile.get_instructions, code, fmt)
    _call(escapes, "disassemble", pycfile.disassemble, code, fmt, file=io.StringIO())
    for name in ("lines", "line_starts", "positions", "exception_table"):
        _call(escapes, name, getattr(pycfile, name), code, fmt)
        _call(escapes, f"Code.{name}", getattr(code, name), fmt)
    version = fmt.version
    for field, decode, encode, with_version in (
        ("co_lnotab", pycfile.decode_lnotab, pycfile.encode_lnotab, True),
        ("co_linetable", pycfile.decode_linetable, pycfile.encode_linetable, False),
        ("co_linetable", pycfile.decode_locations, pycfile.encode_locations, False),
        ("co_linetable", pycfile.decode_pypy_positions, pycfile.encode_pypy_positions, False),
        ("co_exceptiontable", pycfile.decode_exception_table, pycfile.encode_exception_table, False),
    ):
        table = getattr(code, field, None)
        raw = getattr(table, "value", None)
        if not isinstance(raw, bytes):
            continue
        args: Tuple[Any, ...] = (raw, version) if with_version else (raw,)
        entries = _call(escapes, decode.__name__, decode, *args)
        if entries is not None:
            _call(escapes, encode.__name__, encode, entries, *args[1:])
    ranges = _call(escapes, "lines", pycfile.lines, code, fmt)
    first = getattr(code, "co_firstlineno", 1)
    if ranges is not None and isinstance(first, int):
        _call(escapes, "build_linetable", pycfile.build_linetable, ranges, first)
    spans = _call(escapes, "positions", pycfile.positions, code, fmt)
    if spans is not None and isinstance(first, int):
        _call(escapes, "encode_positions", pycfile.encode_positions, spans, first)
        _call(escapes, "build_locations", pycfile.build_locations, list(enumerate(spans)), first)


def _paths(escapes: List[Escape], data: bytes, pyc: Optional[pycfile.PycFile], directory: str) -> None:
    """The functions that take paths: load, dump, read_header, scan_headers, restamp,
    source_stamp."""
    path = os.path.join(directory, "input.pyc")
    with open(path, "wb") as f:
        f.write(data)
    _call(escapes, "load", pycfile.load, path)
    _call(escapes, "read_header", pycfile.read_header, path)
    scanned = _call(escapes, "scan_headers", lambda: list(pycfile.scan_headers(directory)))
    for _, found in scanned or []:
        if not isinstance(found, (pycfile.PycHeader, pycfile.PycError, OSError)):
            _broken(escapes, "scan_headers", f"yielded a {type(found).__name__}")
    source = os.path.join(directory, "input.py")
    with open(source, "wb") as f:
        f.write(b"x = 1\n")
    _call(escapes, "source_stamp", pycfile.source_stamp, source)
    if pyc is not None:
        _call(escapes, "restamp", pycfile.restamp, pyc, source)
        _call(escapes, "dump", pycfile.dump, pyc, os.path.join(directory, "out.pyc"))


# -- models -------------------------------------------------------------------------------


def drive_model(value: Any, fmt: Optional[pycfile.PycFormat] = None) -> List[Escape]:
    """Every function that takes a model, on ``value`` (any object: hostile models
    are the point) as a bare value and, if it could be one, as the code of a pyc."""
    escapes: List[Escape] = []
    fmt = fmt or pycfile.format_for_version((3, 12))
    _call(escapes, "repr", repr, value)
    if _call(escapes, "==", lambda: value == value) is False and isinstance(value, tuple(_MODEL_TYPES)):
        _broken(escapes, "==", "a model is not equal to itself")
    _call(escapes, "!=", lambda: value != value)
    _call(escapes, "marshal.dumps", pycfile.marshal.dumps, value, version=fmt)
    _call(escapes, "to_python", pycfile.to_python, value)
    pyc = pycfile.PycFile(pycfile.PycHeader(fmt.magic, fmt, flags=0, mtime=0, source_size=0), value)
    _call(escapes, "repr", repr, pyc)
    _call(escapes, "dumps", pycfile.dumps, pyc)
    _call(escapes, "diff", pycfile.diff, pyc, pyc)
    stripped = _call(escapes, "strip_refs", pycfile.strip_refs, pyc)
    normal = _call(escapes, "normalize", pycfile.normalize, pyc)
    if normal is not None and _call(escapes, "dumps(normalize)", pycfile.dumps, normal) is None:
        _broken(escapes, "normalize", "gave a model dumps refuses")
    del stripped
    _call(escapes, "replace_constants", pycfile.replace_constants, pyc, {1: 2, "x": "y"})
    _call(escapes, "replace_filename", pycfile.replace_filename, pyc, "fuzz.py")
    if isinstance(value, pycfile.Code):
        _call(escapes, "Code.walk", lambda: list(value.walk()))
        _call(escapes, "disassemble", pycfile.disassemble, pyc, file=io.StringIO())
        _code_functions(escapes, value, fmt)
    return escapes


_MODEL_TYPES = [
    pycfile.Int, pycfile.Long, pycfile.Float, pycfile.Complex, pycfile.Bytes, pycfile.Str, pycfile.TupleValue,
    pycfile.ListValue, pycfile.DictValue, pycfile.SetValue, pycfile.FrozenSetValue, pycfile.Slice, pycfile.FrozenDict,
    pycfile.Code,
]


# -- the command line --------------------------------------------------------------------

_ALLOWED_IN_CLI = (pycfile.PycError, _cli.CommandError)


def drive_cli(data: bytes, directory: str, *, verify: bool = False) -> List[Escape]:
    """Every ``pycfile`` command on a file holding ``data``, in-process (so that an
    exception the command line would turn into exit status 2 is still seen: only
    PycError and the command line's own usage errors may end a command)."""
    escapes: List[Escape] = []
    path = os.path.join(directory, "cli.pyc")
    other = os.path.join(directory, "cli-out.pyc")
    source = os.path.join(directory, "cli.py")
    with open(path, "wb") as f:
        f.write(data)
    with open(source, "wb") as f:
        f.write(b"x = 1\n")
    commands: List[List[str]] = [
        ["info", path],
        ["dump", path],
        ["dump", "--json", path],
        ["dis", path],
        ["diff", path, path],
        ["strip-refs", path, "-o", other],
        ["strip-refs", "--normalize", path, "-o", other],
        ["patch", path, "--replace", "1", "2", "-t", "int", "-o", other],
        ["patch", path, "--replace", "x", "y", "--filename", "f.py", "-o", other],
        ["patch", path, "--filename-prefix", "/", "/x/", "-o", other],
        ["restamp", path, "-s", source, "-o", other],
        ["restamp", path, "--mode", "unchecked-hash", "-s", source, "-o", other],
        ["restamp", path, "--mtime", "5", "--source-size", "6", "-o", other],
    ]
    if verify:
        commands.append(["verify", path, "--timeout", "30"])
    for argv in commands:
        _run_command(escapes, argv)
    return escapes


def _run_command(escapes: List[Escape], argv: List[str]) -> None:
    api = "cli " + argv[0]
    args = _cli.build_parser().parse_args(argv)
    args.stdout = io.StringIO()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            status = args.run(args)
    except _ALLOWED_IN_CLI:
        return
    except DOCUMENTED.get(api, ()):
        return
    except Exception as e:  # noqa: BLE001
        escapes.append(Escape(api, type(e).__name__, _message(e)))
        return
    if status not in (0, 1):
        _broken(escapes, api, f"exit status {status}")
