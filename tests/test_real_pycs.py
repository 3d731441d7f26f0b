"""Every pyc the real interpreters write round-trips byte for byte.

The corpus (tests/corpus.py) is each required interpreter's own stdlib and the sample
modules, compiled by that interpreter in every mode.  One test per interpreter and mode;
a failure lists the first few files and the count.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest

import pycfile

from corpus import CorpusPart, Mode, corpus_part, modes
from interpreters import REQUIRED, require

pytestmark = pytest.mark.interpreters

SHOWN = 10  # failures listed in a message


def _nominal_version(key: str) -> Tuple[int, int]:
    # "pypy-3" has no minor: any PyPy 3 this suite meets is 3.7+ and writes hash pycs.
    number = key.partition("-")[2]
    major, _, minor = number.partition(".")
    return int(major), int(minor) if minor else 9


CASES = [
    pytest.param(key, mode, id=f"{key}-{mode}") for key in REQUIRED for mode in modes(*_nominal_version(key))
]


def _part(key: str, mode: Mode) -> CorpusPart:
    interpreter = require(key)
    if mode not in modes(interpreter.major, interpreter.minor):
        pytest.skip(f"{interpreter} has no {mode} pycs")
    return corpus_part(interpreter, mode)


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _check(part: CorpusPart, path: Path) -> List[str]:
    """What is wrong with one pyc (empty if it round-trips and has the right header)."""
    data = path.read_bytes()
    try:
        pyc = pycfile.loads(data)
        out = pycfile.dumps(pyc)
    except Exception as exc:
        return [f"{type(exc).__name__}: {exc}"]
    problems = []
    if out != data:
        at = _first_difference(data, out)
        problems.append(f"written back differently ({len(out)} bytes for {len(data)}, first at offset {at})")
    if pyc.version != part.interpreter.version:
        problems.append(f"read as {pyc.version}, written by {part.interpreter.version}")
    if pyc.header.magic != part.magic:
        problems.append(f"magic {pyc.header.magic.hex()}, the interpreter's is {part.magic.hex()}")
    if pyc.version >= (3, 7) and pyc.header.flags != part.mode.flags:
        problems.append(f"flags {pyc.header.flags}, {part.mode} writes {part.mode.flags}")
    return problems


@pytest.mark.parametrize(("key", "mode"), CASES)
def test_corpus_round_trips(key: str, mode: Mode) -> None:
    part = _part(key, mode)
    files = part.files
    skipped = part.skipped
    assert part.stdlib, f"no stdlib pycs compiled for {part.interpreter} in {mode}: {skipped[:5]}"
    assert len(skipped) * 20 < len(files), f"too many sources failed to compile: {skipped[:5]}"
    assert not [s for s in skipped if s.startswith("samples/")], f"sample modules that do not compile: {skipped}"
    failures = [f"{path.relative_to(part.root)}: {'; '.join(p)}" for path in files for p in [_check(part, path)] if p]
    assert not failures, f"{len(failures)} of {len(files)} {part.interpreter.key} {mode} pycs fail:\n" + "\n".join(
        failures[:SHOWN]
    )


@pytest.mark.parametrize(
    "key", [k for k in REQUIRED if _nominal_version(k) >= (3, 7)]
)
def test_checked_hash_pycs_hold_the_source_hash(key: str) -> None:
    """The hash in a checked-hash pyc is pycfile.source_hash of its source."""
    part = _part(key, Mode(0, "checked-hash"))
    files = part.samples + part.stdlib[:: max(1, len(part.stdlib) // 50)]
    wrong = []
    for path in files:
        header = pycfile.loads(path.read_bytes()).header
        expected = pycfile.source_hash(part.source(path).read_bytes(), part.interpreter.version)
        if header.source_hash != expected:
            wrong.append(f"{path.relative_to(part.root)}: {header.source_hash!r} != {expected!r}")
    assert not wrong, f"{len(wrong)} of {len(files)}:\n" + "\n".join(wrong[:SHOWN])
