"""The modules of ``fuzz/`` loaded as modules, so the test suite and the fuzzers share
their code: ``fuzz_pyc.py`` (the atheris harness and its bad-bytes check),
``hostile.py`` (the hostile inputs of issue 13, built) and ``drive.py`` (every public
function and CLI command on one input)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["load_harness", "load_module"]

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
HARNESS = FUZZ / "fuzz_pyc.py"


def load_module(name: str) -> ModuleType:
    """``fuzz/<name>.py`` as a module (importing it needs no atheris)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, FUZZ / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the fuzz modules import each other by name
    spec.loader.exec_module(module)
    return module


def load_harness() -> ModuleType:
    """The atheris harness module (importing it needs no atheris)."""
    return load_module("fuzz_pyc")
