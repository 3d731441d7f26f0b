"""What pycfile reads is what the real interpreters read.

For a deterministic sample of each interpreter's corpus (and every sample module), the
tree the interpreter's own ``marshal.loads`` gives of a pyc's body equals the tree
``describe_model`` builds from pycfile's model of it.  Also: values the interpreters
marshal read and write back exactly, and ``pycfile.source_hash`` agrees with
``importlib.util.source_hash``.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

import pycfile

from corpus import Mode, corpus_part, modes, quick
from interpreters import REQUIRED, require
from oracle import InterpreterError, OracleFor, Tree, describe_model, first_difference

pytestmark = pytest.mark.interpreters

# stdlib pycs per interpreter, spread over its modes (fewer for secondary hosts)
SAMPLE_SIZE = 30 if quick() else 150
SHOWN = 10
HASHING = [key for key in REQUIRED if key not in ("cpython-2.7", "cpython-3.6")]


def _spread(files: List[Path], count: int) -> List[Path]:
    return files[:: max(1, len(files) // count)][:count] if count else []


@pytest.mark.parametrize("key", REQUIRED)
def test_values_match_the_interpreter(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    all_modes = modes(interpreter.major, interpreter.minor)
    files: List[Path] = []
    for i, mode in enumerate(all_modes):
        part = corpus_part(interpreter, mode)
        share = SAMPLE_SIZE // len(all_modes) + (i < SAMPLE_SIZE % len(all_modes))
        files += _spread(part.stdlib, share) + (part.samples if mode == Mode(0) else [])
    failures = []
    for path in files:
        data = path.read_bytes()
        pyc = pycfile.loads(data)
        try:
            seen = oracle.loads(data[pyc.header.size :])
        except InterpreterError as exc:
            failures.append(f"{path}: the interpreter's marshal.loads fails: {exc}")
            continue
        difference = first_difference(seen, describe_model(pyc.code, pyc.version))
        if difference:
            failures.append(f"{path}: {difference}")
    assert not failures, f"{len(failures)} of {len(files)} pycs read differently:\n" + "\n".join(failures[:SHOWN])


def _int(n: int) -> Tree:
    return {"t": "int", "v": str(n) if abs(n) < 2**64 else ("-" if n < 0 else "") + f"0x{abs(n):x}"}


def _str(s: str) -> Tree:
    return {"t": "str", "v": s}


def _values(major: int) -> List[Tree]:
    """Trees of values every interpreter of this major version can marshal."""
    text = [_str(s) for s in ("", "ascii", "latin-1 \xe9", "snowman \u2603", "emoji \U0001f600")]
    ints = [_int(n) for n in (0, 1, -1, 2**31 - 1, -(2**31), 2**31)]
    longs: List[Tree] = [dict(_int(n), t="long" if major < 3 else "int") for n in (2**63, -(2**100), 2**15, 0, 7**5000)]
    floats: List[Tree] = [{"t": "float", "v": v} for v in ("0000000000000080", "000000000000f87f", "9a9999999999b93f")]
    others: List[Tree] = [
        {"t": "None"},
        {"t": "True"},
        {"t": "Ellipsis"},
        {"t": "StopIteration"},
        {"t": "bytes", "v": "00ff41"},
        {"t": "complex", "real": "000000000000f03f", "imag": "00000000000000c0"},
        {"t": "str", "cp": [0xD800, 0x41]},
        {"t": "frozenset", "items": ints[:3]},
        {"t": "tuple", "items": [{"t": "list", "items": text[:2]}, {"t": "dict", "items": [[_int(1), _str("one")]]}]},
        {"t": "tuple", "items": text + ints},
    ]
    return text + ints + longs + floats + others


@pytest.mark.parametrize("key", REQUIRED)
def test_values_the_interpreter_marshals(key: str, oracle_for: OracleFor) -> None:
    """``marshal.dumps`` output of the interpreter reads as the value it was given and
    is written back byte for byte."""
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    failures = []
    for tree in _values(interpreter.major):
        data = oracle.dumps(tree)
        try:
            model = pycfile.marshal.loads(data, version=interpreter.version)
            out = pycfile.marshal.dumps(model, version=interpreter.version)
        except pycfile.PycError as exc:
            failures.append(f"{tree}: {exc}")
            continue
        difference = first_difference(oracle.loads(data), describe_model(model, interpreter.version))
        if difference or out != data:
            failures.append(f"{tree}: {data.hex()} -> {out.hex()} {difference or ''}")
    assert not failures, "\n".join(failures[:SHOWN])


@pytest.mark.parametrize("key", HASHING)
def test_source_hash(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    real = Path(oracle.info()["stdlib"], "os.py").read_bytes()
    sources = [b"", b"x", b"1234567", b"12345678", b"123456789", b"# \xc3\xa9\n" * 100, real]
    for source in sources:
        assert pycfile.source_hash(source, interpreter.version) == oracle.source_hash(source), source[:20]
