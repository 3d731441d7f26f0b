"""Talking to real interpreters: the client of ``worker.py``, and the same value trees
computed from pycfile models.

>>> oracle = Oracle.start(interpreter)                       # doctest: +SKIP
>>> oracle.loads(body) == describe_model(pycfile.marshal.loads(body, version=v), v)  # doctest: +SKIP

The tree format is described in ``worker.py``'s docstring; :func:`describe_model` must
build exactly what ``describe`` there builds from the object the interpreter makes.
"""

from __future__ import annotations

import json
import struct
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union, cast

import attrs

import pycfile
from pycfile import Code

from interpreters import Interpreter

__all__ = [
    "WORKER",
    "CompileResult",
    "InterpreterError",
    "Oracle",
    "OracleError",
    "OracleFor",
    "Tree",
    "describe_model",
    "first_difference",
    "worker_optimize_flag",
]

WORKER = Path(__file__).with_name("worker.py")

#: A JSON value tree (see worker.py).
Tree = Dict[str, Any]


class OracleError(Exception):
    """The worker died or broke the protocol."""


class InterpreterError(Exception):
    """The interpreter raised an exception while answering (``type_name``: its class)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


@dataclass(frozen=True)
class CompileResult:
    """What ``compile_tree`` did: relative paths compiled, and (path, reason) skipped."""

    compiled: List[str]
    skipped: List[Tuple[str, str]]


def worker_optimize_flag(interpreter: Interpreter, optimize: int) -> int:
    """The ``-O`` level a worker must run at to compile at ``optimize``: py_compile has
    an ``optimize`` parameter from 3.2; before that the interpreter's own flag decides."""
    return optimize if interpreter.major < 3 else 0


class Oracle:
    """A live worker process inside one interpreter.  Thread-safe (one request at a time)."""

    def __init__(self, interpreter: Interpreter, process: "subprocess.Popen[bytes]", stderr: IO[bytes], optimize_flag: int) -> None:
        self.interpreter = interpreter
        self.optimize_flag = optimize_flag
        self._process = process
        self._stderr = stderr
        self._lock = threading.Lock()
        self._siblings: Dict[int, Oracle] = {}
        self._info: Optional[Dict[str, Any]] = None

    @classmethod
    def start(cls, interpreter: Interpreter, *, optimize_flag: int = 0) -> "Oracle":
        """Start a worker in ``interpreter`` (run with ``-O`` ``optimize_flag`` times)."""
        flags = ["-" + "O" * optimize_flag] if optimize_flag else []
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [interpreter.path, "-E", "-s", *flags, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        return cls(interpreter, process, stderr, optimize_flag)

    def __enter__(self) -> "Oracle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Oracle {self.interpreter.key} pid={self._process.pid} -O×{self.optimize_flag}>"

    # -- the protocol ------------------------------------------------------------------

    def request(self, op: str, **arguments: Any) -> Dict[str, Any]:
        """Send one request; the raw response (``{"ok": ...}`` or ``{"error": ...}``)."""
        body = json.dumps({"op": op, **arguments}).encode("utf-8")
        with self._lock:
            stdin, stdout = self._process.stdin, self._process.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write(struct.pack(">I", len(body)) + body)
                stdin.flush()
                head = stdout.read(4)
                size = struct.unpack(">I", head)[0] if len(head) == 4 else -1
                answer = stdout.read(size) if size >= 0 else b""
            except (OSError, ValueError) as exc:
                raise OracleError(f"{self!r}: {exc}; stderr:\n{self.stderr()}") from exc
            if size < 0 or len(answer) != size:
                raise OracleError(f"{self!r} died (exit {self._process.poll()}) answering {op!r}; stderr:\n{self.stderr()}")
        return cast(Dict[str, Any], json.loads(answer))

    def call(self, op: str, **arguments: Any) -> Any:
        """Send one request; its result, or :class:`InterpreterError`."""
        response = self.request(op, **arguments)
        if "error" in response:
            raise InterpreterError(response["error"], response.get("message", ""))
        return response["ok"]

    def stderr(self) -> str:
        """What the worker wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Stop the worker (and any sibling started for another -O level)."""
        for sibling in self._siblings.values():
            sibling.close()
        self._siblings.clear()
        if self._process.stdin and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._stderr.close()

    # -- operations --------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        """implementation, version, magic (hex), marshal_version, cache_tag, stdlib, hash_pyc..."""
        if self._info is None:
            self._info = cast(Dict[str, Any], self.call("info"))
        return self._info

    def loads(self, data: bytes) -> Tree:
        """The tree of ``marshal.loads(data)`` in the interpreter."""
        return cast(Tree, self.call("loads", data=data.hex()))

    def dumps(self, value: Tree, marshal_version: Optional[int] = None) -> bytes:
        """``marshal.dumps`` of the value a tree describes."""
        arguments: Dict[str, Any] = {"value": value}
        if marshal_version is not None:
            arguments["marshal_version"] = marshal_version
        return bytes.fromhex(self.call("dumps", **arguments))

    def source_hash(self, data: bytes) -> bytes:
        """``importlib.util.source_hash(data)`` (3.7+)."""
        return bytes.fromhex(self.call("source_hash", data=data.hex()))

    def compile_source(
        self, source: bytes, filename: str = "source.py", *, optimize: int = 0, invalidation: str = "timestamp"
    ) -> bytes:
        """The pyc py_compile writes for ``source`` (co_filename ``filename``)."""
        worker = self._for_optimize(optimize)
        return bytes.fromhex(
            worker.call("compile_source", source=source.hex(), filename=filename, optimize=optimize, invalidation=invalidation)
        )

    def compile_tree(
        self,
        src_root: Union[str, Path],
        dst_root: Union[str, Path],
        *,
        optimize: int = 0,
        invalidation: str = "timestamp",
        files: Optional[Sequence[str]] = None,
    ) -> CompileResult:
        """py_compile every .py under ``src_root`` (or the ``files`` given, relative
        POSIX paths) to ``dst_root/<rel minus .py>.pyc``, co_filename the relative path."""
        arguments: Dict[str, Any] = {
            "src_root": str(src_root),
            "dst_root": str(dst_root),
            "optimize": optimize,
            "invalidation": invalidation,
        }
        if files is not None:
            arguments["files"] = list(files)
        result = self._for_optimize(optimize).call("compile_tree", **arguments)
        return CompileResult(result["compiled"], [(rel, reason) for rel, reason in result["skipped"]])

    def _for_optimize(self, optimize: int) -> "Oracle":
        flag = worker_optimize_flag(self.interpreter, optimize)
        if flag == self.optimize_flag:
            return self
        if flag not in self._siblings:
            self._siblings[flag] = Oracle.start(self.interpreter, optimize_flag=flag)
        return self._siblings[flag]


#: What the ``oracle_for`` fixture (tests/conftest.py) returns.
OracleFor = Callable[[Union[str, Interpreter]], Oracle]


# -- the model side --------------------------------------------------------------------

_SINGLETON_NAMES = {"N": "None", "T": "True", "F": "False", "S": "StopIteration", ".": "Ellipsis"}
_PACK_D = struct.Struct("<d")


def describe_model(value: pycfile.Value, version: Union[pycfile.PythonVersion, Tuple[int, int]]) -> Tree:
    """The tree ``worker.describe`` makes of the object the interpreter of ``version``
    builds from this model value (what ``marshal.loads`` there returns)."""
    return _describe(value, pycfile.as_version(version).major < 3, set())


def _json_text(tree: Any) -> str:
    return json.dumps(tree, sort_keys=True, separators=(",", ":"))


def _int_text(number: int) -> str:
    if -(2**64) < number < 2**64:
        return str(number)
    return ("-" if number < 0 else "") + f"0x{abs(number):x}"


def _float_hex(raw: bytes, text: bool) -> str:
    return _PACK_D.pack(float(raw.decode("latin-1"))).hex() if text else raw.hex()


def _describe(value: pycfile.Value, py2: bool, stack: Set[int]) -> Tree:
    if isinstance(value, pycfile.Singleton):
        return {"t": _SINGLETON_NAMES[value.code]}
    if isinstance(value, pycfile.Int):
        return {"t": "int", "v": _int_text(value.value)}
    if isinstance(value, pycfile.Long):
        return {"t": "long" if py2 else "int", "v": _int_text(value.value)}
    if isinstance(value, pycfile.Float):
        return {"t": "float", "v": _float_hex(value.raw, value.code == "f")}
    if isinstance(value, pycfile.Complex):
        text = value.code == "x"
        return {"t": "complex", "real": _float_hex(value.real, text), "imag": _float_hex(value.imag, text)}
    if isinstance(value, pycfile.Bytes):
        return {"t": "bytes", "v": value.value.hex()}
    if isinstance(value, pycfile.Str):
        points = [ord(c) for c in value.value]
        if any(0xD800 <= p <= 0xDFFF for p in points):
            return {"t": "str", "cp": points}
        return {"t": "str", "v": value.value}
    if isinstance(value, pycfile.Slice):
        return {
            "t": "slice",
            "start": _describe(value.start, py2, stack),
            "stop": _describe(value.stop, py2, stack),
            "step": _describe(value.step, py2, stack),
        }
    if id(value) in stack:
        return {"t": "cycle"}
    stack.add(id(value))
    try:
        return _describe_container(value, py2, stack)
    finally:
        stack.discard(id(value))


def _describe_container(value: pycfile.Value, py2: bool, stack: Set[int]) -> Tree:
    if isinstance(value, (pycfile.TupleValue, pycfile.ListValue)):
        kind = "tuple" if isinstance(value, pycfile.TupleValue) else "list"
        return {"t": kind, "items": [_describe(x, py2, stack) for x in value.items]}
    if isinstance(value, (pycfile.SetValue, pycfile.FrozenSetValue)):
        kind = "set" if isinstance(value, pycfile.SetValue) else "frozenset"
        unique = {_json_text(tree): tree for tree in (_describe(x, py2, stack) for x in value.items)}
        return {"t": kind, "items": [unique[k] for k in sorted(unique)]}
    if isinstance(value, (pycfile.DictValue, pycfile.FrozenDict)):
        kind = "dict" if isinstance(value, pycfile.DictValue) else "frozendict"
        pairs: Dict[str, List[Tree]] = {}
        for k, v in value.items:
            key = _describe(k, py2, stack)
            pairs[_json_text(key)] = [key, _describe(v, py2, stack)]  # the last value wins
        return {"t": kind, "items": [pairs[k] for k in sorted(pairs)]}
    if isinstance(value, Code):
        return {"t": "code", "fields": _code_fields(value, py2, stack)}
    raise TypeError(f"not a pycfile value: {value!r}")


_LOCALSPLUS = ("co_localsplusnames", "co_localspluskinds")


def _code_fields(code: Code, py2: bool, stack: Set[int]) -> Dict[str, Any]:
    names = [f.name for f in attrs.fields(type(code)) if f.name != "flag_ref"]  # type: ignore[arg-type]
    if _LOCALSPLUS[0] in names:
        # 3.11+: the interpreter shows the views CPython derives from localsplus.
        names = [n for n in names if n not in _LOCALSPLUS] + ["co_nlocals", "co_varnames", "co_freevars", "co_cellvars"]
    fields: Dict[str, Any] = {}
    for name in names:
        field = getattr(code, name)
        fields[name] = field if isinstance(field, int) else _describe(field, py2, stack)
    return fields


def first_difference(expected: Any, actual: Any, path: str = "$") -> Optional[str]:
    """Where two trees first differ, as ``path: expected != actual`` (``None`` if equal)."""
    if type(expected) is not type(actual):
        return f"{path}: {_short(expected)} != {_short(actual)}"
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return f"{path}.{key}: only in {'actual' if key in actual else 'expected'}"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        for i, (a, b) in enumerate(zip(expected, actual)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items != {len(actual)}"
        return None
    if expected == actual:
        return None
    if isinstance(expected, str) and isinstance(actual, str):
        at = next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
        start = max(0, at - 20)
        return (
            f"{path}: differs at character {at} (lengths {len(expected)}, {len(actual)}): "
            f"...{expected[start:at + 40]!r} != ...{actual[start:at + 40]!r}"
        )
    return f"{path}: {_short(expected)} != {_short(actual)}"


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
