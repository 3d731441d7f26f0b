"""``fuzz/fuzz_pyc.py`` (the atheris harness) loaded as a module, so the property tests
and the harness share one check: bad bytes either load and write back identical, or
raise a PycError."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

__all__ = ["load_harness"]

HARNESS = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_pyc.py"


def load_harness() -> ModuleType:
    """The harness module (importing it needs no atheris)."""
    spec = importlib.util.spec_from_file_location("fuzz_pyc", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
