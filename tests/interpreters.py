"""The real Python interpreters the suite tests pycfile against.

Discovery lives in the package (``pycfile._discovery``) so that ``pycfile verify`` and
the tests find the same interpreters; this module adds what only tests need.

A test that needs one calls :func:`require`.  A missing interpreter fails the test, in CI
and out of it, unless ``PYCFILE_ALLOW_MISSING_INTERPRETERS=1`` turns that into a skip.
"""

from __future__ import annotations

import os

import pytest

from pycfile._discovery import REQUIRED, Interpreter, discover, find, missing_required

__all__ = ["ALLOW_MISSING_VARIABLE", "REQUIRED", "Interpreter", "discover", "find", "missing_required", "require"]

ALLOW_MISSING_VARIABLE = "PYCFILE_ALLOW_MISSING_INTERPRETERS"


def require(key: str) -> Interpreter:
    """The interpreter ``key`` names; a missing one fails the calling test (or skips it,
    when ``PYCFILE_ALLOW_MISSING_INTERPRETERS=1``)."""
    interpreter = find(key)
    if interpreter is not None:
        return interpreter
    where = "looked in $(pyenv root)/versions, on PATH and in $PYCFILE_INTERPRETERS"
    if os.environ.get(ALLOW_MISSING_VARIABLE) == "1":
        pytest.skip(f"no {key} interpreter ({where}; {ALLOW_MISSING_VARIABLE}=1)")
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    pytest.fail(
        f"no {key} interpreter: {where}. "
        + ("CI must test every required interpreter; " if in_ci else "")
        + f"install it, or set {ALLOW_MISSING_VARIABLE}=1 to skip the tests that need it",
        pytrace=False,
    )
