"""Shared fixtures: live oracles inside the real interpreters.

``oracle_for("cpython-3.12")`` (or ``oracle_for(interpreter)``) returns the session's
worker for that interpreter, started on first use and closed when the session ends; a
missing interpreter fails or skips the test as ``interpreters.require`` decides.
"""

from __future__ import annotations

from typing import Dict, Iterator, Union

import pytest

from interpreters import Interpreter, require
from oracle import Oracle, OracleFor


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
