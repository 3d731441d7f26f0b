"""The real Python interpreters the suite tests pycfile against.

Discovery lives in the package (``pycfile._discovery``) so that ``pycfile verify`` and
the tests find the same interpreters; this module adds what only tests need.

A test that needs one calls :func:`require`.  A missing interpreter skips the test (the
summary line at the end of the run says which were missing and how to add them), or,
in strict mode (``PYCFILE_STRICT=1``, which ``.ci/run`` sets), fails it: CI must test
every interpreter of :data:`REQUIRED`.
"""

from __future__ import annotations

import os
from typing import Set

import pytest

from pycfile._discovery import REQUIRED, Interpreter, discover, find, missing_required

__all__ = [
    "MISSING",
    "REQUIRED",
    "STRICT_VARIABLE",
    "Interpreter",
    "discover",
    "find",
    "missing_required",
    "require",
    "skip_reason",
    "strict",
]

#: Set to 1 (by .ci/run): what cannot run fails instead of skipping.
STRICT_VARIABLE = "PYCFILE_STRICT"
WHERE = "looked in $(pyenv root)/versions, on PATH and in $PYCFILE_INTERPRETERS"
#: The keys :func:`require` could not find in this session (for the summary line).
MISSING: Set[str] = set()


def strict() -> bool:
    """Whether ``PYCFILE_STRICT`` asks for every interpreter and the shared samples."""
    return os.environ.get(STRICT_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def skip_reason(key: str) -> str:
    """The skip message of a test that needs the interpreter ``key``."""
    return f"no {key} interpreter ({WHERE})"


def require(key: str) -> Interpreter:
    """The interpreter ``key`` names; a missing one skips the calling test (fails it
    under ``PYCFILE_STRICT=1``)."""
    interpreter = find(key)
    if interpreter is not None:
        return interpreter
    MISSING.add(key)
    if strict():
        pytest.fail(f"{skip_reason(key)}: {STRICT_VARIABLE}=1 requires every interpreter", pytrace=False)
    pytest.skip(skip_reason(key))
