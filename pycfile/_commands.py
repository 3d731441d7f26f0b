"""The machinery of the ``pycfile`` command: registering subcommands, their errors, and
output that cannot act on the terminal.

Each subcommand is one function taking the parsed arguments and returning the exit
status, plus one :func:`register` call naming it and declaring its arguments
(:mod:`pycfile._cli` has most of them, :mod:`pycfile._cli_scan` the scan).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, List, TextIO

import attrs

__all__ = ["CommandError", "Configure", "Run", "escape", "register"]

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


# -- terminal safety -----------------------------------------------------------------

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates ("Trojan source"): shown as \\xNN / \\uNNNN instead of acting on the terminal.
_UNSAFE = [c for c in range(0x20) if c not in (0x09, 0x0A)] + list(range(0x7F, 0xA0))
_UNSAFE += [0x061C, 0x200E, 0x200F] + list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in _UNSAFE if c not in (0x09, 0x0A)}


def escape(text: str) -> str:
    """``text`` with terminal control characters escaped (tab and newline kept)."""
    return text.translate(_ESCAPES)


class _Escaping:
    """A text stream writing to another with :func:`escape` applied."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(escape(text))

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _out(args: argparse.Namespace) -> TextIO:
    stream: TextIO = getattr(args, "stdout", None) or sys.stdout
    return _Escaping(stream)  # type: ignore[return-value]


