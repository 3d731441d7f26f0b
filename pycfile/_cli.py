"""The ``pycfile`` command (also ``python -m pycfile``); its manual is docs/cli.md.

Each subcommand is one function taking the parsed arguments and returning the exit
status, plus one :func:`register` call naming it and declaring its arguments.  Exit
status: 0 ok, 1 a difference (``diff``) or a failed check (``verify``, a ``patch`` that
matched nothing), 2 bad input or usage (the message names the file and gives the offset
and the path in the object tree).  Files are written atomically (``pycfile._files``): a
failed command leaves them as they were, and an output path that cannot be written (a
directory, a FIFO, ``-o ""``) is refused before anything is read or written.  Text
output escapes the terminal control characters a pyc's names and strings may hold.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from types import FrameType
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, TextIO, Tuple


from ._code import Code
from ._commands import _COMMANDS, _JSON_ESCAPES, CommandError, Run, _out, escape, register
from ._diff import diff
from ._discovery import discover, find_for_version
from ._edit import _replace, _replace_filename
from ._errors import NotPycError, NotRegularFileError, PycError, UnknownMagicError
from ._files import check_regular, check_target, read_regular
from ._formats import has_refs
from ._pyc import PycFile, dump, loads
from ._refs import normalize, strip_refs, unique_values
from ._stamp import restamp, to_hash_based, to_timestamp
from ._versions import _BY_VERSION, PythonVersion, format_for_version

__all__ = ["main", "register"]

# The command machinery (register, CommandError, the escaping output) lives in
# _commands.py, which every module that adds a command imports.


# -- reading and writing -----------------------------------------------------------------

_VERSION_ARG = re.compile(r"(?i)(cpython|pypy)?-?(\d+)\.(\d+)")


def parse_version(text: str) -> PythonVersion:
    """A ``--read-as`` value: ``3.8`` (CPython), ``cpython3.8``, ``pypy3.9``
    (``cpython-3.8``, ``pypy-3.9`` too), a version pycfile knows a pyc format of."""
    m = _VERSION_ARG.fullmatch(text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version: give MAJOR.MINOR (3.8) or pypyMAJOR.MINOR (pypy3.9)")
    version = PythonVersion(int(m.group(2)), int(m.group(3)), (m.group(1) or "cpython").lower())
    try:
        format_for_version(version)
    except ValueError:
        names = ", ".join(f"{'pypy' if i == 'pypy' else ''}{a}.{b}" for i, a, b in sorted(_BY_VERSION))
        raise argparse.ArgumentTypeError(f"pycfile knows no pyc format of {version}; known: {names}") from None
    return version


def _read(path: str, args: argparse.Namespace) -> Tuple[bytes, PycFile]:
    """The bytes and the model of the pyc at ``path`` (read as ``--read-as`` if given);
    any problem is a CommandError naming ``path``."""
    version: Optional[PythonVersion] = getattr(args, "read_as", None)
    data = read_regular(path)  # OSError and NotRegularFileError name the path already
    try:
        return data, loads(data, version=version)
    except NotPycError as e:
        what = f"{e.looks_like}, " if e.looks_like else ""
        raise CommandError(f"not a pyc file: {path} ({what}it starts with {e.magic!r})") from None
    except UnknownMagicError as e:
        number = int.from_bytes(e.magic[:2], "little")
        raise CommandError(
            f"{path}: unknown magic number {number} (bytes {e.magic.hex(' ')}); "
            "--read-as VERSION reads it as a known version (e.g. --read-as 3.12)"
        ) from None
    except PycError as e:
        raise CommandError(f"{path}: {type(e).__name__}: {e}") from None


def _load(path: str, args: argparse.Namespace) -> PycFile:
    return _read(path, args)[1]


def _target(args: argparse.Namespace) -> str:
    """Where the command writes (``-o``, else FILE in place), checked before anything
    is read or written: an empty path, a directory, a FIFO, a device are refused."""
    target: str = args.file if args.output is None else args.output
    if target == "":
        raise CommandError("-o/--output: an empty path names no file")
    check_target(target)
    return target


def _write(pyc: PycFile, args: argparse.Namespace) -> str:
    target = _target(args)
    dump(pyc, target)
    return target


def _file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the .pyc file")
    _read_as_argument(parser)


def _read_as_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--read-as",
        metavar="VERSION",
        type=parse_version,
        help="read the pyc as this version whatever its magic number says: 3.8, pypy3.9... "
        "(for a magic pycfile does not know)",
    )


def _output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="write here instead of replacing FILE (atomically) in place")


# -- info --------------------------------------------------------------------------------


def _mode(pyc: PycFile) -> str:
    header = pyc.header
    if header.hash_based:
        return "checked hash" if header.check_source else "unchecked hash"
    return "timestamp"


def _info(args: argparse.Namespace) -> int:
    data, pyc = _read(args.file, args)
    header = pyc.header
    fmt = pyc.format
    values = unique_values(pyc.code)
    codes = [v for v in values if isinstance(v, Code)]
    consts = sum(len(getattr(getattr(c, "co_consts", None), "items", [])) for c in codes)
    lines = [
        f"file: {args.file} ({len(data)} bytes)",
        f"version: {fmt.version} (magic {fmt.magic_number}, {header.magic.hex(' ')}{'; ' + fmt.release_note if fmt.release_note else ''})",
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

    pyc = _load(args.file, args)
    if args.json:  # control characters as JSON's own \uXXXX escapes: still valid JSON
        raw: TextIO = getattr(args, "stdout", None) or sys.stdout
        for piece in iter_json(pyc):
            raw.write(piece.translate(_JSON_ESCAPES))
    else:
        out = _out(args)
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
    _target(args)
    pyc = _load(args.file, args)
    out = _out(args)
    if mapping:
        pyc, count = _replace(pyc, mapping)
        if count == 0:
            non_ascii = any(isinstance(k, str) and not k.isascii() for k in mapping)
            hint = " (in 2.x non-ASCII text matches unicode only: --type bytes matches 8-bit strings)" if pyc.version.major < 3 and non_ascii else ""
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
    _target(args)
    pyc = _load(args.file, args)
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
    _target(args)
    if args.source is not None:
        check_regular(args.source)  # a directory or a FIFO has no stamp to take
    pyc = _load(args.file, args)
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
    differences = diff(_load(args.a, args), _load(args.b, args))
    out = _out(args)
    for difference in differences:
        print(difference, file=out)
    return 1 if differences else 0


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="the first .pyc file")
    parser.add_argument("b", help="the second .pyc file")
    _read_as_argument(parser)


register("diff", "semantic differences of two pycs (exit 1 if any)", _diff_arguments, _diff)


# -- dis ---------------------------------------------------------------------------------


def _dis(args: argparse.Namespace) -> int:
    from ._instructions import disassemble

    # Terminal control characters from names in the pyc are escaped (escape()).
    _out(args).write(escape(disassemble(_load(args.file, args))))
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
    pyc = _load(args.file, args)
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


def _error(e: BaseException) -> str:
    """The message of an error a command raised (its class named where that helps)."""
    if isinstance(e, (CommandError, NotRegularFileError)):
        return str(e)
    if isinstance(e, PycError):
        return f"{type(e).__name__}: {e}"
    if isinstance(e, OSError) and e.strerror:
        return f"{e.filename}: {e.strerror}" if e.filename is not None else e.strerror
    return str(e)


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like KeyboardInterrupt, so whatever is being
    written is cleaned up, then exits with 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: Optional[FrameType]) -> None:
    raise _Terminated(signum)


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`_Terminated` while a command runs (in the main
    thread, where their handler is the default); the handlers are restored after."""
    saved: Dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                saved[signum] = signal.signal(signum, _terminate)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    run: Run = args.run
    try:
        with _signals_unwind():
            return run(args)
    except CommandError as e:
        print(escape(f"pycfile {args.command}: error: {_error(e)}"), file=sys.stderr)
        return e.status
    except BrokenPipeError:  # the reader went away (`pycfile dump x.pyc | head`)
        sys.stderr.close()
        return 0
    except (PycError, OSError, ValueError, TypeError) as e:
        print(escape(f"pycfile {args.command}: error: {_error(e)}"), file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as e:
        print(f"pycfile {args.command}: error: the interpreter took longer than {e.timeout} s", file=sys.stderr)
        return 1
    except _Terminated as e:
        print(f"pycfile {args.command}: terminated by signal {e.signum}", file=sys.stderr)
        return 128 + e.signum


from . import _cli_scan  # noqa: E402,F401  (registers "scan"; imports register from here)
