"""A small, deterministic run of the fuzz campaign (fuzz/campaign.py, fuzz/drive.py):
mutated real pycs of every version folder through the readers and the round trip, some
through every public function and every CLI command; hostile models through the
functions that walk models.  The one property: accepted, or a PycError (or a documented
TypeError/ValueError), never anything else.  The full campaign (100,000 inputs per
version) and the atheris modes are run by fuzz/run_campaign.sh."""

from __future__ import annotations

import random
import tempfile
from typing import Any, List

import pytest

import pycfile
from pycfile._refs import copy_value, unique_values

from fuzz_harness import load_module

hostile = load_module("hostile")
drive = load_module("drive")
campaign = load_module("campaign")

# The fixtures only (the samples beside the repository are not there for everyone, and
# they would change which input an index makes).
FOLDERS = {v: [f for f in fs if f.parent == campaign.FIXTURES] for v, fs in campaign.version_folders().items()}
FOLDERS = {v: fs for v, fs in FOLDERS.items() if fs}
INPUTS = 40


def test_every_version_folder_is_found() -> None:
    assert {"2.7", "3.6", "3.12", "3.13", "pypy3.9", "broken"} <= set(FOLDERS)


@pytest.mark.parametrize("version", sorted(FOLDERS))
def test_mutated_pycs(version: str) -> None:
    seeds = campaign.seeds_of(FOLDERS[version])
    types = [hostile.type_positions(s) for s in seeds]
    found: List[Any] = []
    full = 0
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(INPUTS):
            data = campaign.make_input(version, index, seeds, types)
            escapes, loaded = drive.drive_pyc_bytes(data, full=False)
            found += escapes
            if loaded and full < 2:  # the first two that load: every public function
                full += 1
                found += drive.drive_bytes(data, full=True, tmp=tmp)
        found += drive.drive_cli(campaign.make_input(version, INPUTS, seeds, types), tmp)
    assert found == []


def test_the_seeds_themselves() -> None:
    for version in ("2.7", "3.12"):
        for data in campaign.seeds_of(FOLDERS[version])[:2]:
            assert drive.drive_bytes(data, full=True) == []


@pytest.mark.parametrize("seed", range(2))
def test_hostile_models_from_bytes(seed: int) -> None:
    """Models built from random bytes (shared, cyclic, deep, wrong types in fields)
    through ``==``, ``repr``, ``diff``, the copy and the walks; the other functions that
    take models are driven by the campaigns (the writer and to_python still let some
    exceptions through, see fuzz/README.md)."""
    rng = random.Random(seed)
    for _ in range(40):
        value = hostile.model_from_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        pyc = hostile.pyc312(value)
        assert value == value and not value != value
        repr(pyc)
        assert pycfile.diff(pyc, pyc) == []
        assert copy_value(value) == value
        unique_values(value)
        if isinstance(value, pycfile.Code):
            list(value.walk())


def test_the_atheris_harness_runs_without_atheris() -> None:
    harness = load_module("fuzz_pyc")
    for data in (b"", b"\x00" * 20, hostile.cyclic_code_pyc(), hostile.dag_pyc(40)):
        harness.TestOneInput(data)
