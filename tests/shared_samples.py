"""The real sample pycs of ``../shared/samples/<version>/``: versions no interpreter here
can make (1.x, 2.0-2.6, 3.0-3.5, PyPy 3.10...).

The folder lies beside the repository (in CI too); ``PYCFILE_SAMPLES_DIR`` points the
tests at another copy.  They are read where they are, never copied into the repository.
Tests that need them carry the ``shared_samples`` marker: without the folder they skip
(the summary line at the end of the run says so), or, under ``PYCFILE_STRICT=1``, fail.
Parametrize over :func:`params` so that a missing folder still gives one test to skip.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, List, Sequence

import pytest

from interpreters import STRICT_VARIABLE, strict

__all__ = ["SHARED_SAMPLES", "SKIP_REASON", "files", "folders", "params", "require"]

SHARED_SAMPLES = Path(os.environ.get("PYCFILE_SAMPLES_DIR") or Path(__file__).resolve().parents[2] / "shared" / "samples")
SKIP_REASON = f"no shared sample pycs in {SHARED_SAMPLES} (set PYCFILE_SAMPLES_DIR)"


def files(pattern: str = "*/*.pyc") -> List[Path]:
    """The sample pycs matching ``pattern`` (none when the folder is missing)."""
    return list(_files(pattern))


@functools.lru_cache(maxsize=None)
def _files(pattern: str) -> Sequence[Path]:
    if not SHARED_SAMPLES.is_dir():
        return ()
    return tuple(sorted(p for p in SHARED_SAMPLES.glob(pattern) if p.is_file()))


def folders() -> List[Path]:
    """The version folders (``3.14``, ``1.1-1.2``, ``pypy3.10``...)."""
    if not SHARED_SAMPLES.is_dir():
        return []
    return sorted(p for p in SHARED_SAMPLES.iterdir() if p.is_dir() and any(p.glob("*.pyc")))


def require() -> None:
    """Skip the calling test when there are no samples (fail it in strict mode)."""
    if files():
        return
    if strict():
        pytest.fail(f"{SKIP_REASON}: {STRICT_VARIABLE}=1 requires them", pytrace=False)
    pytest.skip(SKIP_REASON)


def params(items: Sequence[Any], ids: Callable[[Any], str] = str) -> List[Any]:
    """Parameters for a test over ``items`` (sample files or folders), each marked
    ``shared_samples``; one placeholder when there are none, which skips or fails."""
    mark = pytest.mark.shared_samples
    if not items:
        return [pytest.param(None, id="no-shared-samples", marks=mark)]
    return [pytest.param(item, id=ids(item), marks=mark) for item in items]
