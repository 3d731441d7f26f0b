"""Where the real sample pycs of ``../shared/samples/<version>/`` are.

``shared/`` lies beside the repository (in CI too); ``PYCFILE_SAMPLES_DIR`` overrides it.
Tests that read the samples fail in CI when the folder is missing (see test_samples.py).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHARED_SAMPLES"]

SHARED_SAMPLES = Path(os.environ.get("PYCFILE_SAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared" / "samples"))
