# -*- coding: utf-8 -*-
"""The oracle worker: answers questions about marshal and pycs from inside a real interpreter.

It runs under every interpreter the suite tests against, from CPython 2.7 to 3.13 and
PyPy, so it keeps to the syntax and standard library they all share (no f-strings, no
annotations, no ``bytes.fromhex``).  It is started once per interpreter by
``tests/oracle/__init__.py`` and kept alive.

Protocol: each request and each response is a 4-byte big-endian length followed by that
many bytes of UTF-8 JSON.  A request is ``{"op": NAME, ...}``; a response is
``{"ok": RESULT}`` or ``{"error": EXCEPTION_TYPE_NAME, "message": TEXT}``.  EOF on stdin
ends the worker.

Operations:

- ``info``: implementation, version, magic (hex), marshal_version, cache_tag, stdlib
  (``os.path.dirname(os.__file__)``), hash_pyc (3.7+), optimize_flag (``-O`` count),
  optimize_parameter (whether py_compile takes ``optimize=``, 3.2+)
- ``loads`` (``data`` hex): ``describe(marshal.loads(data))``
- ``dumps`` (``value`` tree, optional ``marshal_version``): hex of ``marshal.dumps``
- ``source_hash`` (``data`` hex): hex of ``importlib.util.source_hash`` (3.7+)
- ``compile_tree`` (``src_root``, ``dst_root``, ``optimize``, ``invalidation``, optional
  ``files``: POSIX paths relative to src_root): py_compile each file to
  ``dst_root/<rel minus .py>.pyc`` with co_filename ``rel``; files that do not compile
  are listed in ``skipped`` with the reason.  Returns ``{"compiled": [...], "skipped":
  [[rel, reason], ...]}``
- ``compile_source`` (``source`` hex, ``filename``, ``optimize``, ``invalidation``): hex
  of the pyc py_compile writes

2.7's py_compile has no ``optimize`` parameter: it compiles at the interpreter's own
``-O`` level, so the client starts one worker per level there (``-O``, ``-OO``), and a
request for another level is refused rather than silently compiled at the wrong one.
Hash-based invalidation modes are refused before 3.7 for the same reason.

More operations live in ``ops_*.py`` modules beside this file (see ``load_extensions``).

``describe(obj)`` turns a value into a JSON tree that compares equal across versions and
against ``oracle.describe_model`` (the same tree built from a pycfile model):

- ``{"t": "None" | "True" | "False" | "Ellipsis" | "StopIteration"}``
- ``{"t": "int", "v": "123"}``: decimal below 2**64 in size, else hex (``"-0x1f..."``: no
  limit on digits, unlike ``str(int)`` in 3.11 and the 3.7-3.10 security releases);
  2.x ``long`` is ``{"t": "long", ...}``
- ``{"t": "float", "v": HEX}`` (``struct.pack('<d')``, so NaN and -0.0 compare by bits)
- ``{"t": "complex", "real": HEX, "imag": HEX}``
- ``{"t": "bytes", "v": HEX}``: 3.x ``bytes`` and 2.x ``str``
- ``{"t": "str", "v": TEXT}``: 3.x ``str`` and 2.x ``unicode``; a string holding any
  surrogate code point is ``{"t": "str", "cp": [CODE POINTS]}`` instead, because JSON
  would merge a high and a low surrogate into one character
- ``{"t": "tuple" | "list", "items": [...]}``
- ``{"t": "set" | "frozenset", "items": [...]}`` sorted by the items' JSON text
- ``{"t": "dict" | "frozendict", "items": [[k, v], ...]}`` sorted by the keys' JSON text
  (2.7's dicts iterate in hash order)
- ``{"t": "slice", "start": ..., "stop": ..., "step": ...}`` (3.14+ constants)
- ``{"t": "code", "fields": {"co_argcount": 1, "co_code": {...}, ...}}``: integer fields
  as JSON numbers, the others described; only the ``co_*`` attributes that stand for a
  marshalled field and that this interpreter has (``co_lnotab`` only before 3.10, where it
  is the marshalled table rather than one computed from ``co_linetable``)
- ``{"t": "cycle"}``: a container met again while it is still being described
"""

import binascii
import json
import marshal
import os
import platform
import py_compile
import shutil
import struct
import sys
import tempfile
import traceback
import types
import warnings

PY2 = sys.version_info[0] == 2
if PY2:
    TEXT = unicode  # noqa: F821
    BYTES = str
    LONG = long  # noqa: F821
    CHR = unichr  # noqa: F821
else:
    TEXT = str
    BYTES = bytes
    LONG = None
    CHR = chr

# Every co_* attribute that stands for a marshalled field, in CPython's marshal order
# (3.11+ derives varnames/freevars/cellvars/nlocals from co_localsplusnames/kinds, which
# are not exposed).  co_lnotab is left out from 3.10 on, where it is computed.
CODE_FIELDS = (
    "co_argcount",
    "co_posonlyargcount",
    "co_kwonlyargcount",
    "co_nlocals",
    "co_stacksize",
    "co_flags",
    "co_code",
    "co_consts",
    "co_names",
    "co_varnames",
    "co_freevars",
    "co_cellvars",
    "co_filename",
    "co_name",
    "co_qualname",
    "co_firstlineno",
    "co_lnotab",
    "co_linetable",
    "co_endlinetable",
    "co_columntable",
    "co_exceptiontable",
)
INT_FIELDS = frozenset(
    ["co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize", "co_flags", "co_firstlineno"]
)
SINGLETONS = ((None, "None"), (True, "True"), (False, "False"), (Ellipsis, "Ellipsis"), (StopIteration, "StopIteration"))
# Positional arguments of types.CodeType before code.replace() existed (3.8).
CODE_ARGS_2 = (
    "co_argcount co_nlocals co_stacksize co_flags co_code co_consts co_names co_varnames "
    "co_filename co_name co_firstlineno co_lnotab co_freevars co_cellvars"
).split()
CODE_ARGS_3 = CODE_ARGS_2[:1] + ["co_kwonlyargcount"] + CODE_ARGS_2[1:]


class Misuse(Exception):
    """A request this interpreter cannot serve as asked (not a property of one file)."""


def to_hex(data):
    return binascii.hexlify(data).decode("ascii")


def from_hex(text):
    return binascii.unhexlify(text.encode("ascii"))


def native(path):
    """A path as the interpreter's native ``str``."""
    if PY2 and isinstance(path, TEXT):
        return path.encode(sys.getfilesystemencoding() or "utf-8")
    return path


def int_text(number):
    if -(2**64) < number < 2**64:
        return str(number)
    return ("-" if number < 0 else "") + "0x%x" % abs(number)


def int_of(text, kind):
    return kind(text, 16) if "x" in text else kind(text)


def message_of(exc):
    if not PY2:
        return str(exc)
    try:
        return TEXT(exc)
    except UnicodeError:
        return TEXT(str(exc), "utf-8", "replace")


def json_text(tree):
    return json.dumps(tree, sort_keys=True, separators=(",", ":"))


def code_fields(code):
    names = []
    for name in CODE_FIELDS:
        if name == "co_lnotab" and sys.version_info >= (3, 10):
            continue
        if hasattr(code, name):
            names.append(name)
    return names


def describe(obj, stack=None):
    """The JSON tree of a value (see the module docstring)."""
    if stack is None:
        stack = set()
    for singleton, name in SINGLETONS:
        if obj is singleton:
            return {"t": name}
    kind = type(obj)
    if kind is int:
        return {"t": "int", "v": int_text(obj)}
    if PY2 and kind is LONG:
        return {"t": "long", "v": int_text(obj)}
    if kind is float:
        return {"t": "float", "v": to_hex(struct.pack("<d", obj))}
    if kind is complex:
        return {"t": "complex", "real": to_hex(struct.pack("<d", obj.real)), "imag": to_hex(struct.pack("<d", obj.imag))}
    if kind is BYTES:
        return {"t": "bytes", "v": to_hex(obj)}
    if kind is TEXT:
        return describe_text(obj)
    if kind is slice:
        return {"t": "slice", "start": describe(obj.start, stack), "stop": describe(obj.stop, stack), "step": describe(obj.step, stack)}
    if id(obj) in stack:
        return {"t": "cycle"}
    stack.add(id(obj))
    try:
        return describe_container(obj, kind, stack)
    finally:
        stack.discard(id(obj))


def describe_text(text):
    points = [ord(c) for c in text]
    if any(0xD800 <= p <= 0xDFFF for p in points):
        return {"t": "str", "cp": points}
    return {"t": "str", "v": text}


def describe_container(obj, kind, stack):
    if kind is tuple or kind is list:
        return {"t": kind.__name__, "items": [describe(x, stack) for x in obj]}
    if kind is set or kind is frozenset:
        items = [describe(x, stack) for x in obj]
        items.sort(key=json_text)
        return {"t": kind.__name__, "items": items}
    if kind is dict or kind.__name__ == "frozendict":
        pairs = [[describe(k, stack), describe(v, stack)] for k, v in obj.items()]
        pairs.sort(key=lambda pair: json_text(pair[0]))
        return {"t": kind.__name__, "items": pairs}
    if kind is types.CodeType:
        fields = {}
        for name in code_fields(obj):
            value = getattr(obj, name)
            fields[name] = value if name in INT_FIELDS else describe(value, stack)
        return {"t": "code", "fields": fields}
    return {"t": "unknown", "type": kind.__name__, "repr": repr(obj)}


def build(tree):
    """The value a JSON tree describes (the inverse of ``describe``)."""
    t = tree["t"]
    for singleton, name in SINGLETONS:
        if t == name:
            return singleton
    if t == "int":
        return int_of(tree["v"], int)
    if t == "long":
        return int_of(tree["v"], LONG if PY2 else int)
    if t == "float":
        return struct.unpack("<d", from_hex(tree["v"]))[0]
    if t == "complex":
        real = struct.unpack("<d", from_hex(tree["real"]))[0]
        return complex(real, struct.unpack("<d", from_hex(tree["imag"]))[0])
    if t == "bytes":
        return from_hex(tree["v"])
    if t == "str":
        if "cp" in tree:
            return TEXT("").join(CHR(p) for p in tree["cp"])
        return TEXT(tree["v"])
    if t in ("tuple", "list", "set", "frozenset"):
        kind = {"tuple": tuple, "list": list, "set": set, "frozenset": frozenset}[t]
        return kind(build(x) for x in tree["items"])
    if t == "dict":
        return dict((build(k), build(v)) for k, v in tree["items"])
    if t == "slice":
        return slice(build(tree["start"]), build(tree["stop"]), build(tree["step"]))
    if t == "code":
        return build_code(tree["fields"])
    raise ValueError("cannot build a value of kind %r" % (t,))


def build_code(fields):
    values = {}
    for name, value in fields.items():
        values[native(name)] = value if name in INT_FIELDS else build(value)
    if hasattr(types.CodeType, "replace"):
        return compile("", "", "exec").replace(**values)
    names = CODE_ARGS_2 if PY2 else CODE_ARGS_3
    return types.CodeType(*[values[name] for name in names])


def pyc_header_size():
    """The size of the header of the pycs this interpreter writes."""
    if PY2 or sys.version_info < (3, 3):
        return 8
    if sys.version_info < (3, 7):
        return 12
    return 16


def walk_code(code):
    """Every code object in ``code``, each once, in pycfile's ``Code.walk`` order (depth
    first, children in ``co_consts`` order)."""
    seen = set()
    stack = [code]
    found = []
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        stack.extend(reversed([c for c in current.co_consts if isinstance(c, types.CodeType)]))
    return found


def pyc_codes(path):
    """The code objects of a pyc this interpreter wrote, in ``walk_code`` order."""
    with open(path, "rb") as f:
        data = f.read()
    return walk_code(marshal.loads(data[pyc_header_size():]))


# -- operations ------------------------------------------------------------------------


def magic_number():
    if PY2:
        import imp

        return imp.get_magic()
    import importlib.util

    return importlib.util.MAGIC_NUMBER


def has_optimize_parameter():
    return sys.version_info >= (3, 2)


def op_info(request):
    return {
        "implementation": platform.python_implementation().lower(),
        "version": list(sys.version_info[:3]),
        "magic": to_hex(magic_number()),
        "marshal_version": marshal.version,
        "cache_tag": getattr(getattr(sys, "implementation", None), "cache_tag", None),
        "stdlib": os.path.dirname(os.path.abspath(os.__file__)),
        "hash_pyc": sys.version_info >= (3, 7),
        "optimize_flag": sys.flags.optimize,
        "optimize_parameter": has_optimize_parameter(),
        "executable": sys.executable,
    }


def op_loads(request):
    return describe(marshal.loads(from_hex(request["data"])))


def op_dumps(request):
    value = build(request["value"])
    return to_hex(marshal.dumps(value, request.get("marshal_version", marshal.version)))


def op_source_hash(request):
    if sys.version_info < (3, 7):
        raise NotImplementedError("importlib.util.source_hash came in 3.7")
    import importlib.util

    return to_hex(importlib.util.source_hash(from_hex(request["data"])))


def compile_one(src, dst, dfile, optimize, invalidation):
    """py_compile one file, with every option this version's py_compile has."""
    if not has_optimize_parameter() and optimize != sys.flags.optimize:
        raise Misuse(
            "this interpreter compiles at its own -O level (%d), not %d: start the worker with -O/-OO"
            % (sys.flags.optimize, optimize)
        )
    kwargs = {"cfile": native(dst), "dfile": native(dfile), "doraise": True}
    if has_optimize_parameter():
        kwargs["optimize"] = optimize
    if sys.version_info >= (3, 7):
        kwargs["invalidation_mode"] = py_compile.PycInvalidationMode[invalidation.upper().replace("-", "_")]
    elif invalidation != "timestamp":
        raise Misuse("hash-based pycs came in 3.7")
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        try:
            os.makedirs(parent)
        except OSError:
            if not os.path.isdir(parent):
                raise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        py_compile.compile(native(src), **kwargs)


def walk_sources(root, exclude):
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in exclude)
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                found.append(os.path.relpath(path, root).replace(os.sep, "/"))
    return found


def op_compile_tree(request):
    src_root = request["src_root"]
    dst_root = request["dst_root"]
    optimize = request.get("optimize", 0)
    invalidation = request.get("invalidation", "timestamp")
    files = request.get("files")
    if files is None:
        files = walk_sources(src_root, set(request.get("exclude", ["site-packages", "dist-packages", "__pycache__"])))
    compiled = []
    skipped = []
    for rel in files:
        src = os.path.join(src_root, *rel.split("/"))
        dst = os.path.join(dst_root, *(rel[:-3] + ".pyc").split("/"))
        try:
            compile_one(src, dst, rel, optimize, invalidation)
        except Misuse:
            raise
        except Exception as exc:  # a syntax error in test data, an undecodable file...
            skipped.append([rel, "%s: %s" % (type(exc).__name__, message_of(exc))])
        else:
            compiled.append(rel)
    return {"compiled": compiled, "skipped": skipped}


def op_compile_source(request):
    directory = tempfile.mkdtemp(prefix="pycfile-oracle-")
    try:
        filename = request.get("filename", "source.py")
        src = os.path.join(directory, "source.py")
        dst = os.path.join(directory, "source.pyc")
        with open(src, "wb") as f:
            f.write(from_hex(request["source"]))
        compile_one(src, dst, filename, request.get("optimize", 0), request.get("invalidation", "timestamp"))
        with open(dst, "rb") as f:
            return to_hex(f.read())
    finally:
        shutil.rmtree(directory, ignore_errors=True)


OPS = {
    "info": op_info,
    "loads": op_loads,
    "dumps": op_dumps,
    "source_hash": op_source_hash,
    "compile_tree": op_compile_tree,
    "compile_source": op_compile_source,
}


# -- the loop --------------------------------------------------------------------------


def read_exactly(fd, size):
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while len(view):
        view = view[os.write(fd, view):]


def answer(request):
    try:
        handler = OPS[request["op"]]
    except KeyError:
        return {"error": "UnknownOperation", "message": "no operation %r" % (request.get("op"),)}
    try:
        return {"ok": handler(request)}
    except Exception as exc:
        return {"error": type(exc).__name__, "message": message_of(exc), "traceback": traceback.format_exc()}


def load_extensions():
    """Add the operations of every ``ops_*.py`` beside this file to ``OPS``.

    Each such module defines its own ``OPS`` dict and may ``import worker`` for the
    helpers here (``describe``, ``build``, ``from_hex``...): this module is registered
    under that name before they are imported.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    sys.dont_write_bytecode = True  # Python 2 would leave ops_*.pyc beside the sources
    sys.modules.setdefault("worker", sys.modules[__name__])
    if here not in sys.path:
        sys.path.insert(0, here)
    for name in sorted(os.listdir(here)):
        if name.startswith("ops_") and name.endswith(".py"):
            module = __import__(name[:-3])
            for op, handler in module.OPS.items():
                if op in OPS:
                    raise RuntimeError("%s redefines the operation %r" % (name, op))
                OPS[op] = handler


def main():
    load_extensions()
    # Keep the protocol's pipes to ourselves: anything else that writes to fd 1 (a
    # print in a compiled module's codec, a C extension) goes to stderr instead.
    in_fd = os.dup(0)
    out_fd = os.dup(1)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    while True:
        head = read_exactly(in_fd, 4)
        if head is None:
            return
        body = read_exactly(in_fd, struct.unpack(">I", head)[0])
        if body is None:
            return
        response = json.dumps(answer(json.loads(body.decode("utf-8"))), separators=(",", ":"))
        if not isinstance(response, bytes):
            response = response.encode("ascii")
        write_all(out_fd, struct.pack(">I", len(response)) + response)


if __name__ == "__main__":
    main()
