"""Shared by the editing tests: a module every required interpreter compiles, and
running an import in a fresh interpreter process."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

from interpreters import Interpreter
from oracle import Tree

#: Compiles under 2.7 and every 3.x (ASCII, u"" and b"" prefixes).
SOURCE = b'''\
"""A module whose constants the tests patch."""
S = u"original text"
B = b"original bytes"
I = 123456
F = 2.5
T = (123456, u"original text", 2.5)


def get():
    return 123456, 2.5, u"original text"


def nested():
    def inner():
        return u"original text", b"original bytes"
    return inner()


G = get()
N = nested()


def fail():
    raise ValueError("boom")
'''

FILENAME = "orig/patchme.py"


def str_tree(text: str) -> Tree:
    return {"t": "str", "v": text}


def bytes_tree(data: bytes) -> Tree:
    return {"t": "bytes", "v": data.hex()}


def int_tree(number: int) -> Tree:
    return {"t": "int", "v": str(number)}


def float_tree(number: float) -> Tree:
    return {"t": "float", "v": struct.pack("<d", number).hex()}


def tuple_tree(*items: Tree) -> Tree:
    return {"t": "tuple", "items": list(items)}


def cache_path(interpreter: Interpreter, directory: Path, name: str, cache_tag: Optional[str]) -> Path:
    """Where the import system of ``interpreter`` looks for the pyc of ``name.py``."""
    if interpreter.major < 3:
        return directory / f"{name}.pyc"
    assert cache_tag
    return directory / "__pycache__" / f"{name}.{cache_tag}.pyc"


def run_import(
    interpreter: Interpreter, directory: Path, statement: str, extra: Optional[List[str]] = None
) -> str:
    """Run ``statement`` in a fresh ``interpreter`` in ``directory`` (on sys.path, no
    bytecode written); its stdout, or an AssertionError with stderr."""
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [interpreter.path, "-E", "-s", "-B", *(extra or []), "-c", statement],
        cwd=str(directory),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{interpreter}: {statement!r} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout
