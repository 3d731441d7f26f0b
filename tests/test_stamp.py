"""Header edits checked by the real import system: a re-stamped timestamp pyc is used
(not recompiled) by every required interpreter, and hash-based pycs made by pycfile are
accepted by 3.7+ with ``--check-hash-based-pycs always``, while a wrong hash is refused."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

import pycfile

from edit_support import SOURCE, cache_path, run_import
from interpreters import REQUIRED
from oracle import OracleFor

pytestmark = pytest.mark.interpreters

HASH_KEYS = [key for key in REQUIRED if key != "cpython-2.7" and key != "cpython-3.6"]
SHOW = "import sys, stampmod; sys.stdout.write(stampmod.S)"
FROM_PYC = "from the pyc"


def _prepare(key: str, oracle_for: OracleFor, tmp_path: Path) -> tuple:
    """A source ``stampmod.py`` in tmp_path, and the interpreter's pyc of it with S patched."""
    oracle = oracle_for(key)
    source = tmp_path / "stampmod.py"
    source.write_bytes(SOURCE)
    os.utime(source, (1_600_000_000, 1_600_000_000))
    pyc = pycfile.loads(oracle.compile_source(SOURCE, str(source)))
    patched = pycfile.replace_constants(pyc, {"original text": FROM_PYC})
    target = cache_path(oracle.interpreter, tmp_path, "stampmod", oracle.info()["cache_tag"])
    target.parent.mkdir(exist_ok=True)
    return oracle, source, patched, target


@pytest.mark.parametrize("key", REQUIRED)
def test_restamped_timestamp_pyc_is_used(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    oracle, source, patched, target = _prepare(key, oracle_for, tmp_path)
    interpreter = oracle.interpreter

    stale = pycfile.to_timestamp(patched, mtime=12345, source_size=len(SOURCE))
    pycfile.dump(stale, target)
    assert run_import(interpreter, tmp_path, SHOW) == "original text", "a stale pyc was used"

    fresh = pycfile.restamp(stale, source)
    assert fresh.header.mtime == 1_600_000_000
    if fresh.format.header_size >= 12:
        assert fresh.header.source_size == len(SOURCE)
    pycfile.dump(fresh, target)
    data = target.read_bytes()
    assert struct.unpack_from("<I", data, 4 if interpreter.version < (3, 7) else 8)[0] == 1_600_000_000
    assert run_import(interpreter, tmp_path, SHOW) == FROM_PYC


@pytest.mark.parametrize("key", HASH_KEYS)
def test_hash_based_pycs_accepted_when_checked(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    oracle, source, patched, target = _prepare(key, oracle_for, tmp_path)
    interpreter = oracle.interpreter
    always = ["--check-hash-based-pycs", "always"]
    never = ["--check-hash-based-pycs", "never"]

    checked = pycfile.to_hash_based(patched, source)
    assert checked.header.flags == 3 and checked.header.source_hash == oracle.source_hash(SOURCE)
    pycfile.dump(checked, target)
    assert run_import(interpreter, tmp_path, SHOW, always) == FROM_PYC
    assert run_import(interpreter, tmp_path, SHOW) == FROM_PYC

    # A hash of another source: the check runs, fails, and the source is compiled instead.
    wrong = pycfile.to_hash_based(patched, SOURCE + b"\n# changed\n")
    pycfile.dump(wrong, target)
    assert run_import(interpreter, tmp_path, SHOW, always) == "original text"
    assert run_import(interpreter, tmp_path, SHOW) == "original text"
    assert run_import(interpreter, tmp_path, SHOW, never) == FROM_PYC

    # Unchecked: used as it is by default, checked (and refused here) under "always".
    unchecked = pycfile.to_hash_based(patched, SOURCE + b"\n# changed\n", check_source=False)
    assert unchecked.header.flags == 1
    pycfile.dump(unchecked, target)
    assert run_import(interpreter, tmp_path, SHOW) == FROM_PYC
    assert run_import(interpreter, tmp_path, SHOW, always) == "original text"
    good_unchecked = pycfile.to_hash_based(patched, source, check_source=False)
    pycfile.dump(good_unchecked, target)
    assert run_import(interpreter, tmp_path, SHOW, always) == FROM_PYC

    # restamp keeps the mode; to_timestamp goes back to a timestamp pyc that is used.
    assert pycfile.restamp(wrong, source).header == checked.header
    back = pycfile.to_timestamp(checked, source)
    assert back.header.flags == 0 and back.header.mtime == 1_600_000_000
    pycfile.dump(back, target)
    assert run_import(interpreter, tmp_path, SHOW, always) == FROM_PYC


@pytest.mark.parametrize("key", ["cpython-2.7", "cpython-3.6"])
def test_no_hash_based_pycs_before_3_7(key: str, oracle_for: OracleFor) -> None:
    pyc = pycfile.loads(oracle_for(key).compile_source(SOURCE))
    with pytest.raises(ValueError, match="3.7"):
        pycfile.to_hash_based(pyc, SOURCE)


def test_timestamps_are_stored_modulo_2_32(oracle_for: OracleFor) -> None:
    pyc = pycfile.loads(oracle_for("cpython-3.12").compile_source(SOURCE))
    stamped = pycfile.to_timestamp(pyc, mtime=2**32 + 7, source_size=2**32 + 9)
    data = pycfile.dumps(stamped)
    assert struct.unpack_from("<III", data, 4) == (0, 7, 9)
    assert pycfile.dumps(pyc) != data and pyc.header.mtime != 7  # the input is unchanged


def test_sources_must_be_regular_files(tmp_path: Path) -> None:
    """A directory or a FIFO is no source: refused (never stamped with a directory's
    size, never read from a FIFO, which would block)."""
    fmt = pycfile.format_for_version((3, 12))
    pyc = pycfile.PycFile(pycfile.PycHeader(fmt.magic, fmt, 0, 0, 0), pycfile.Singleton("N"))
    fifo = tmp_path / "m.py"
    os.mkfifo(fifo)
    for call in (
        lambda source: pycfile.source_stamp(source),
        lambda source: pycfile.restamp(pyc, source),
        lambda source: pycfile.to_timestamp(pyc, source),
        lambda source: pycfile.to_hash_based(pyc, source),
    ):
        with pytest.raises(IsADirectoryError):
            call(tmp_path)
        with pytest.raises(pycfile.NotRegularFileError, match="is a FIFO"):
            call(fifo)
