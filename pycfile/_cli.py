"""The ``pycfile`` command (also ``python -m pycfile``).

Each subcommand is one function taking the parsed arguments and returning the exit
status, plus one :func:`register` call naming it and declaring its arguments.  Exit
status: 0 ok, 1 a difference (``diff``) or a failed check (``verify``, a ``patch`` that
matched nothing), 2 bad input or usage (the message gives the offset and the path in the
object tree).  Files are written atomically: a failed command leaves them as they were.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Union

import attrs

from ._code import Code, code_fields
from ._diff import diff
from ._discovery import discover, find_for_version
from ._edit import _replace, _replace_filename
from ._errors import PycError
from ._pyc import PycFile, dump, load
from ._reader import has_refs
from ._refs import deep, normalize, strip_refs, unique_values
from ._stamp import restamp, to_hash_based, to_timestamp
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

__all__ = ["main", "register"]

Run = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]


class CommandError(Exception):
    """A command cannot do what was asked (exit status ``status``)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


@attrs.frozen
class _Command:
    name: str
    help: str
    configure: Configure
    run: Run


_COMMANDS: List[_Command] = []


def register(name: str, help: str, configure: Configure, run: Run) -> None:
    """Add a subcommand: ``configure(parser)`` declares its arguments, ``run(args)``
    does the work and returns the exit status (raise :class:`PycError`, OSError or
    ValueError for bad input: they exit with status 2 and the message)."""
    _COMMANDS.append(_Command(name, help, configure, run))


def _out(args: argparse.Namespace) -> TextIO:
    stream: TextIO = getattr(args, "stdout", None) or sys.stdout
    return stream


def _write(pyc: PycFile, args: argparse.Namespace) -> str:
    target = args.output or args.file
    dump(pyc, target)
    return str(target)


def _file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the .pyc file")


def _output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="write here instead of replacing FILE (atomically) in place")


# -- info --------------------------------------------------------------------------------


def _mode(pyc: PycFile) -> str:
    header = pyc.header
    if header.hash_based:
        return "checked hash" if header.check_source else "unchecked hash"
    return "timestamp"


def _info(args: argparse.Namespace) -> int:
    with open(args.file, "rb") as f:
        data = f.read()
    from ._pyc import loads

    pyc = loads(data)
    header = pyc.header
    fmt = pyc.format
    values = unique_values(pyc.code)
    codes = [v for v in values if isinstance(v, Code)]
    consts = sum(len(getattr(getattr(c, "co_consts", None), "items", [])) for c in codes)
    lines = [
        f"file: {args.file} ({len(data)} bytes)",
        f"version: {fmt.version} (magic {fmt.magic_number}, {header.magic.hex(' ')}, {fmt.label})",
        f"header: {fmt.header_size} bytes, marshal version {fmt.marshal_version}",
        f"invalidation: {_mode(pyc)}",
    ]
    if header.flags is not None:
        lines.append(f"flags: {header.flags:#x}")
    if header.mtime is not None:
        lines.append(f"mtime: {header.mtime}")
    if header.source_size is not None:
        lines.append(f"source size: {header.source_size}")
    if header.source_hash is not None:
        lines.append(f"source hash: {header.source_hash.hex()}")
    lines.append(f"code: {type(pyc.code).__name__} ({len(data) - fmt.header_size - len(pyc.trailer)} bytes of marshal data)")
    lines.append(f"code objects: {len(codes)}")
    lines.append(f"constants: {consts}")
    if has_refs(fmt):
        lines.append(f"flagged objects: {sum(1 for v in values if v.flag_ref)}")
    lines.append(f"trailer: {len(pyc.trailer)} bytes")
    print("\n".join(lines), file=_out(args))
    return 0


register("info", "header, version, sizes and counts", _file_argument, _info)


# -- dump --------------------------------------------------------------------------------


def _dump(args: argparse.Namespace) -> int:
    from ._dumptext import iter_text
    from ._json import iter_json

    pyc = load(args.file)
    out = _out(args)
    if args.json:
        for piece in iter_json(pyc):
            out.write(piece)
    else:
        for line in iter_text(pyc, _mode(pyc)):
            out.write(line + "\n")
    return 0


def _dump_arguments(parser: argparse.ArgumentParser) -> None:
    _file_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable JSON")


register("dump", "the object tree, readable (or --json)", _dump_arguments, _dump)


# -- from-json ---------------------------------------------------------------------------


def _from_json(args: argparse.Namespace) -> int:
    from ._json import from_json

    if args.file == "-":
        text = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as f:
            text = f.read()
    pyc = from_json(text)
    dump(pyc, args.output)
    print(f"wrote {args.output}", file=_out(args))
    return 0


def _from_json_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the JSON that `pycfile dump --json` wrote (- for standard input)")
    parser.add_argument("-o", "--output", required=True, help="the .pyc file to write (atomically)")


register("from-json", "write the pyc that `dump --json` text (edited or not) stands for", _from_json_arguments, _from_json)


# -- patch -------------------------------------------------------------------------------

_TYPES: Dict[str, Callable[[str], Any]] = {
    "str": str,
    "bytes": lambda text: text.encode("utf-8", "surrogateescape"),
    "int": lambda text: int(text, 0),
    "float": float,
    "complex": complex,
    "literal": ast.literal_eval,
}


def _patch(args: argparse.Namespace) -> int:
    if not args.replace and args.filename is None and not args.filename_prefix:
        raise CommandError("nothing to do: give --replace, --filename or --filename-prefix")
    convert = _TYPES[args.type]
    mapping: Dict[Any, Any] = {}
    for old, new in args.replace or []:
        try:
            mapping[convert(old)] = convert(new)
        except (ValueError, SyntaxError) as e:
            raise CommandError(f"--replace {old!r} {new!r} is not a {args.type}: {e}") from None
    pyc = load(args.file)
    out = _out(args)
    if mapping:
        pyc, count = deep(_replace, pyc, mapping)
        if count == 0:
            hint = " (the 8-bit strings of 2.x match --type bytes)" if pyc.version.major < 3 and args.type == "str" else ""
            print(f"pycfile patch: no constant matched {', '.join(repr(k) for k in mapping)}{hint}; nothing written", file=sys.stderr)
            return 1
        print(f"replaced {count} constant{'s' if count != 1 else ''}", file=out)
    if args.filename is not None or args.filename_prefix:
        prefixes = dict(args.filename_prefix or [])
        pyc, count = _replace_filename(pyc, args.filename, prefixes)
        print(f"replaced co_filename in {count} code object{'s' if count != 1 else ''}", file=out)
    print(f"wrote {_write(pyc, args)}", file=out)
    return 0


def _patch_arguments(parser: argparse.ArgumentParser) -> None:
    _file_argument(parser)
    parser.add_argument(
        "--replace", nargs=2, action="append", metavar=("OLD", "NEW"), help="replace constants equal to OLD by NEW (repeatable)"
    )
    parser.add_argument(
        "-t",
        "--type",
        choices=sorted(_TYPES),
        default="str",
        help="how OLD and NEW are read: str (default), bytes (UTF-8; the 8-bit str of 2.x), int, float, "
        "complex, or literal (a Python literal such as b'\\x00' or (1, 2))",
    )
    parser.add_argument("--filename", help="set co_filename of every code object")
    parser.add_argument(
        "--filename-prefix", nargs=2, action="append", metavar=("OLD", "NEW"), help="replace a co_filename prefix (repeatable)"
    )
    _output_argument(parser)


register("patch", "replace constants and file names", _patch_arguments, _patch)


# -- strip-refs --------------------------------------------------------------------------


def _strip_refs(args: argparse.Namespace) -> int:
    pyc = load(args.file)
    pyc = normalize(pyc) if args.normalize else strip_refs(pyc)
    print(f"wrote {_write(pyc, args)}", file=_out(args))
    return 0


def _strip_refs_arguments(parser: argparse.ArgumentParser) -> None:
    _file_argument(parser)
    parser.add_argument(
        "--normalize", action="store_true", help="also merge equal values and flag exactly the shared ones (canonical bytes)"
    )
    _output_argument(parser)


register("strip-refs", "drop FLAG_REFs nothing references (reproducible output)", _strip_refs_arguments, _strip_refs)


# -- restamp -----------------------------------------------------------------------------


def _restamp(args: argparse.Namespace) -> int:
    pyc = load(args.file)
    mode = args.mode
    if mode == "keep" and (args.mtime is not None or args.source_size is not None):
        mode = "timestamp"  # a stored mtime or size only exists in timestamp pycs
    if mode in ("checked-hash", "unchecked-hash") or (mode == "keep" and pyc.header.hash_based):
        if args.source is None:
            raise CommandError("a hash-based pyc needs --source")
        check = pyc.header.check_source if mode == "keep" else mode == "checked-hash"
        pyc = to_hash_based(pyc, args.source, check_source=check)
    elif mode == "keep" and args.source is not None:
        pyc = restamp(pyc, args.source)
    else:
        if args.source is None and args.mtime is None:
            raise CommandError("give --source, or --mtime (and --source-size)")
        pyc = to_timestamp(pyc, args.source, mtime=args.mtime, source_size=args.source_size)
    print(f"{_mode(pyc)} pyc; wrote {_write(pyc, args)}", file=_out(args))
    return 0


def _restamp_arguments(parser: argparse.ArgumentParser) -> None:
    _file_argument(parser)
    parser.add_argument("-s", "--source", help="the source file to stamp the pyc for")
    parser.add_argument(
        "--mode",
        choices=["keep", "timestamp", "checked-hash", "unchecked-hash"],
        default="keep",
        help="invalidation mode of the result (default: keep the pyc's)",
    )
    parser.add_argument("--mtime", type=int, help="the mtime to store (overrides the source's)")
    parser.add_argument("--source-size", type=int, help="the source size to store (3.3+; overrides the source's)")
    _output_argument(parser)


register("restamp", "make the header match a source (timestamp or hash-based)", _restamp_arguments, _restamp)


# -- diff --------------------------------------------------------------------------------


def _diff(args: argparse.Namespace) -> int:
    differences = diff(load(args.a), load(args.b))
    out = _out(args)
    for difference in differences:
        print(difference, file=out)
    return 1 if differences else 0


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="the first .pyc file")
    parser.add_argument("b", help="the second .pyc file")


register("diff", "semantic differences of two pycs (exit 1 if any)", _diff_arguments, _diff)


# -- dis ---------------------------------------------------------------------------------


def _dis(args: argparse.Namespace) -> int:
    from ._instructions import disassemble

    disassemble(load(args.file), file=_out(args))
    return 0


register("dis", "disassemble the bytecode (as dis.dis of the pyc's version)", _file_argument, _dis)


# -- verify ------------------------------------------------------------------------------

# Runs inside the pyc's own interpreter (2.7 to 3.x): the checks its import system makes
# on a sourceless pyc, then unmarshalling the code (nothing is executed unless --exec).
VERIFY_SCRIPT = r"""
import marshal, struct, sys
path, run = sys.argv[1], sys.argv[2] == "1"
f = open(path, "rb")
data = f.read()
f.close()
try:
    from importlib.util import MAGIC_NUMBER as magic
except ImportError:
    import imp
    magic = imp.get_magic()
def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)
if data[:4] != magic:
    fail("bad magic number %r (this interpreter reads %r)" % (data[:4], magic))
v = sys.version_info
size = 16 if v >= (3, 7) else 12 if v >= (3, 3) else 8
if len(data) < size:
    fail("the header is %d bytes, the file %d" % (size, len(data)))
if v >= (3, 7):
    flags = struct.unpack("<I", data[4:8])[0]
    if flags & ~3:
        fail("invalid flags %r" % flags)
try:
    code = marshal.loads(data[size:])
except Exception as e:
    fail("%s: %s" % (type(e).__name__, e))
if type(code) is not type(compile("", "", "exec")):
    fail("the pyc holds a %s, not a code object" % type(code).__name__)
if run:
    namespace = {"__name__": "__pycfile_verify__", "__file__": path}
    exec(code, namespace)
sys.stdout.write("loads: code object %r\n" % (code.co_name,))
"""


def _verify(args: argparse.Namespace) -> int:
    pyc = load(args.file)
    out = _out(args)
    if args.python:
        python = args.python
        label = python
    else:
        interpreter = find_for_version(pyc.version)
        if interpreter is None:
            found = ", ".join(i.key for i in discover()) or "none"
            raise CommandError(f"no {pyc.version} interpreter found (found: {found}); pass --python")
        python = interpreter.path
        label = str(interpreter)
    proc = subprocess.run(
        [python, "-E", "-s", "-B", "-c", VERIFY_SCRIPT, os.path.abspath(args.file), "1" if args.exec else "0"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=args.timeout,
    )
    if proc.returncode == 0:
        print(f"ok: {label} {proc.stdout.strip()}", file=out)
        return 0
    message = proc.stderr.strip() or f"exit status {proc.returncode}"
    print(f"FAILED: {label}: {message}", file=out)
    return 1


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    _file_argument(parser)
    parser.add_argument("--python", help="the interpreter to use (default: one of the pyc's version, found like the tests do)")
    parser.add_argument("--exec", action="store_true", help="also execute the module code (it runs!)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the interpreter (default 120)")


register("verify", "load the pyc in a real interpreter of its version", _verify_arguments, _verify)


# -- main --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every registered subcommand."""
    parser = argparse.ArgumentParser(prog="pycfile", description="Read, inspect and edit .pyc files of every Python version.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"pycfile {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for command in _COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    run: Run = args.run
    try:
        return run(args)
    except CommandError as e:
        print(f"pycfile {args.command}: error: {e}", file=sys.stderr)
        return e.status
    except PycError as e:
        where = f" (offset {e.offset}, path {e.path or '-'})" if e.offset is not None or e.path else ""
        print(f"pycfile {args.command}: error: {type(e).__name__}: {e}{where}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`pycfile dump x.pyc | head`)
        sys.stderr.close()
        return 0
    except (OSError, ValueError, TypeError) as e:
        print(f"pycfile {args.command}: error: {e}", file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as e:
        print(f"pycfile {args.command}: error: the interpreter took longer than {e.timeout} s", file=sys.stderr)
        return 1
