"""Shared fixtures: live oracles inside the real interpreters; hypothesis profiles.

``oracle_for("cpython-3.12")`` (or ``oracle_for(interpreter)``) returns the session's
worker for that interpreter, started on first use and closed when the session ends; a
missing interpreter fails or skips the test as ``interpreters.require`` decides.

Hypothesis profiles: ``dev`` (the default: few examples, quick) and ``ci`` (loaded
when the environment variable ``CI`` is set, as ``.ci/run`` does: more examples,
derandomized, no example database, so CI runs are deterministic).
``HYPOTHESIS_PROFILE`` picks one explicitly.
"""

from __future__ import annotations

import os
from typing import Dict, Iterator, Union

import pytest
from hypothesis import HealthCheck, settings

from interpreters import Interpreter, require
from oracle import Oracle, OracleFor

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("ci", max_examples=200, derandomize=True, database=None, print_blob=True, **_COMMON)  # type: ignore[arg-type]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci() else "dev"))


@pytest.fixture(scope="session")
def oracle_for() -> Iterator[OracleFor]:
    """A function from an interpreter (or its key) to a live :class:`Oracle`."""
    oracles: Dict[str, Oracle] = {}

    def get(which: Union[str, Interpreter]) -> Oracle:
        interpreter = require(which) if isinstance(which, str) else which
        if interpreter.key not in oracles:
            oracles[interpreter.key] = Oracle.start(interpreter)
        return oracles[interpreter.key]

    yield get
    for oracle in oracles.values():
        oracle.close()
