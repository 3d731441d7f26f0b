"""Shared fixtures: live oracles inside the real interpreters; hypothesis profiles; what
a run without every interpreter skipped.

``oracle_for("cpython-3.12")`` (or ``oracle_for(interpreter)``) returns the session's
worker for that interpreter, started on first use and closed when the session ends; a
missing interpreter skips the test (fails it under ``PYCFILE_STRICT=1``), as
``interpreters.require`` decides.  Tests marked ``shared_samples`` skip (or fail, under
``PYCFILE_STRICT=1``) without ``../shared/samples``.  One line at the end of the run
says what was skipped and how to run it.

Environment:

- ``PYCFILE_STRICT=1`` (``.ci/run`` sets it): every interpreter of
  ``pycfile._discovery.REQUIRED`` and the shared samples are required; a missing one fails.
- ``PYCFILE_CORPUS``: ``quick`` (the default) or ``full`` (see tests/corpus.py).
- Hypothesis profiles: ``dev`` (the default: few examples, quick, random) and ``ci``
  (loaded when the environment variable ``CI`` is set, as ``.ci/run`` does: more
  examples, derandomized, no example database, so CI runs are deterministic).
  ``HYPOTHESIS_PROFILE`` picks one explicitly.
"""

from __future__ import annotations

import os
from typing import Dict, Iterator, List, Union

import pytest
from hypothesis import HealthCheck, settings

import shared_samples
from corpus import CORPUS_VARIABLE, SHARD_VARIABLE, corpus_part, corpus_size, shard
from interpreters import MISSING, REQUIRED, STRICT_VARIABLE, Interpreter, require
from oracle import Oracle, OracleFor

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("ci", max_examples=200, derandomize=True, database=None, print_blob=True, **_COMMON)  # type: ignore[arg-type]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci() else "dev"))


def pytest_configure(config: pytest.Config) -> None:
    corpus_size()  # a value of PYCFILE_CORPUS other than quick or full is a usage error
    shard()  # so is a PYCFILE_CORPUS_SHARD other than k/n


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_samples") is not None:
        shared_samples.require()


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


def _order(key: str) -> int:
    return REQUIRED.index(key) if key in REQUIRED else len(REQUIRED)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return ""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how many tests were skipped for want of interpreters or of the shared
    samples, which, and how to run them; the corpus size when it was the quick one."""
    skipped: List[pytest.TestReport] = terminalreporter.stats.get("skipped", [])
    reasons = [_skip_reason(r) for r in skipped]
    for_interpreters = sum(1 for r in reasons if r.startswith("no ") and " interpreter (" in r)
    for_samples = sum(1 for r in reasons if r == shared_samples.SKIP_REASON)
    other = len(reasons) - for_interpreters - for_samples
    parts = []
    if for_interpreters:
        parts.append(
            f"{for_interpreters} for want of {', '.join(sorted(MISSING, key=_order))} (install them with pyenv or as "
            "python3.X/pypy3 on PATH, or list them in PYCFILE_INTERPRETERS)"
        )
    if for_samples:
        parts.append(f"{for_samples} for want of the shared sample pycs (put them in ../shared/samples or set PYCFILE_SAMPLES_DIR)")
    if other:
        parts.append(f"{other} for other reasons (pytest -rs lists them)")
    line = f"pycfile: {len(reasons)} skipped: " + "; ".join(parts) + "." if parts else ""
    selected = shard()
    if selected is not None and corpus_part.cache_info().currsize:
        line += (" " if line else "pycfile: ") + f"Corpus shard {selected[0]}/{selected[1]} of each full stdlib ({SHARD_VARIABLE})."
    elif corpus_size() == "quick" and corpus_part.cache_info().currsize:  # the corpus was used
        line += (" " if line else "pycfile: ") + f"Quick corpus (a tenth of each stdlib): {CORPUS_VARIABLE}=full runs the full one."
    if line:
        if for_interpreters or for_samples:
            line += f" {STRICT_VARIABLE}=1 (CI) makes a missing interpreter or sample folder fail."
        terminalreporter.write_line(line, yellow=bool(parts))
