"""Finding real Python interpreters on this machine.

``pycfile verify`` and the test suite use this same discovery.  Candidates come from
pyenv (``$(pyenv root)/versions/*/bin/python``), from names on PATH (``python2.7``,
``python3.6`` ... ``python3.15``, ``pypy3``, ``pypy``; pyenv's shims are skipped, they
only run the pyenv versions already listed) and from the environment variable
``PYCFILE_INTERPRETERS`` (paths separated by ``os.pathsep``).  Each candidate is asked
its version once; the first interpreter found for an (implementation, major, minor) wins.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import attrs

from ._versions import PythonVersion

__all__ = ["REQUIRED", "Interpreter", "discover", "find", "find_for_version", "missing_required"]

#: What the test suite must be able to run: CPython 2.7 and 3.6-3.15, and a PyPy 3.
REQUIRED: List[str] = ["cpython-2.7"] + [f"cpython-3.{minor}" for minor in range(6, 16)] + ["pypy-3"]

_PATH_NAMES = ["python2.7"] + [f"python3.{minor}" for minor in range(6, 16)] + ["pypy3", "pypy"]

# Runs under every candidate, 2.7 included; prints "implementation major minor full".
_PROBE = (
    "import platform, sys; "
    "print(' '.join([platform.python_implementation().lower()] + [str(x) for x in sys.version_info[:2]]"
    " + [platform.python_version()]))"
)


@attrs.frozen
class Interpreter:
    """A real interpreter: where it is and which Python it is."""

    path: str
    implementation: str  # "cpython" or "pypy"
    major: int
    minor: int
    full_version: str  # e.g. "3.12.1" (PyPy reports the Python version it implements)

    @property
    def key(self) -> str:
        """``cpython-3.12``, ``pypy-3.9``..."""
        return f"{self.implementation}-{self.major}.{self.minor}"

    @property
    def version(self) -> PythonVersion:
        """The version as pycfile names it (with the implementation)."""
        return PythonVersion(self.major, self.minor, self.implementation)

    def matches(self, key: str) -> bool:
        """Whether ``key`` (``cpython-3.12``, or ``pypy-3`` for any minor) names this one."""
        implementation, _, number = key.partition("-")
        return implementation == self.implementation and (
            number == f"{self.major}.{self.minor}" or number == str(self.major)
        )

    def __str__(self) -> str:
        return f"{self.key} ({self.full_version}, {self.path})"


def _pyenv_root() -> Path:
    root = os.environ.get("PYENV_ROOT")
    if root:
        return Path(root)
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            out = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30, check=True)
            if out.stdout.strip():
                return Path(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    return Path.home() / ".pyenv"


def _candidates() -> Iterator[str]:
    root = _pyenv_root()
    yield from (str(p) for p in sorted((root / "versions").glob("*/bin/python")))
    shims = str(root / "shims") + os.sep
    for name in _PATH_NAMES:
        found = shutil.which(name)
        if found and not found.startswith(shims):  # pyenv's shims run the versions above
            yield found
    yield from (p for p in os.environ.get("PYCFILE_INTERPRETERS", "").split(os.pathsep) if p)


@functools.lru_cache(maxsize=None)
def _probe(path: str) -> Optional[Interpreter]:
    try:
        out = subprocess.run([path, "-E", "-s", "-c", _PROBE], capture_output=True, text=True, timeout=60)
        implementation, major, minor, full = out.stdout.split()
        return Interpreter(path, implementation, int(major), int(minor), full)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None  # not there, broken, or printed something unexpected


def _found() -> Iterator[Interpreter]:
    """Working interpreters in candidate order (each path once; later ones of the same
    version are yielded too: the first one wins)."""
    seen_paths: Set[str] = set()
    for path in _candidates():
        real = os.path.realpath(path)
        if real in seen_paths:
            continue
        seen_paths.add(real)
        interpreter = _probe(path)
        if interpreter is not None:
            yield interpreter


@functools.lru_cache(maxsize=None)
def _discover() -> Tuple[Interpreter, ...]:
    found: Dict[Tuple[str, int, int], Interpreter] = {}
    for interpreter in _found():
        found.setdefault((interpreter.implementation, interpreter.major, interpreter.minor), interpreter)
    return tuple(sorted(found.values(), key=lambda i: (i.implementation, i.major, i.minor)))


def discover() -> List[Interpreter]:
    """Every working interpreter found, one per (implementation, major, minor).

    The search runs once per process; later calls return the same answer."""
    return list(_discover())


def find(key: str) -> Optional[Interpreter]:
    """The interpreter ``key`` names (``cpython-3.12``, ``pypy-3``...), if one was found.

    The same answer as searching :func:`discover`'s list, but it stops probing
    candidates at the first match (the first one found wins there too)."""
    if _discover.cache_info().currsize:
        return next((i for i in _discover() if i.matches(key)), None)
    return next((i for i in _found() if i.matches(key)), None)


def find_for_version(version: PythonVersion) -> Optional[Interpreter]:
    """The interpreter of exactly this implementation, major and minor, if one was found."""
    return find(f"{version.implementation}-{version.major}.{version.minor}")


def missing_required() -> List[str]:
    """The keys of :data:`REQUIRED` with no interpreter found."""
    return [key for key in REQUIRED if find(key) is None]
