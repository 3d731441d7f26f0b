"""pycfile's instructions equal each real interpreter's own ``dis.get_instructions``.

For every code object of every pyc in each required interpreter's corpus (stdlib and
sample modules, optimize 0; the quick slice with ``PYCFILE_CORPUS=quick``), the worker
(``tests/oracle/ops_dis.py``) decodes the bytecode with that interpreter's ``dis`` (2.7:
its ``dis``/``opcode`` modules, read the way ``dis.disassemble`` reads) and returns a
sha1 per code object of a canonical JSON text: offset, opname, arg, argval (constants as
``worker.describe`` trees), line and jump-target flag.  The same text is built here from
:func:`pycfile.get_instructions` on the model, on the host Python; only on a mismatch is
the full list fetched, for a readable difference.

The worker runs in its own process while this one decodes, so the two halves overlap.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import pycfile
from pycfile import Code, Instruction, get_instructions

from corpus import Mode, corpus_part, quick
from interpreters import REQUIRED, require
from oracle import Oracle, OracleFor, describe_model, first_difference

pytestmark = pytest.mark.interpreters

BATCH = 40  # pyc paths per worker request
# The full stdlib has ~10x the code of the quick slice (3.8 million instructions for 3.11
# alone); decoding every one of them on both sides takes ~30 minutes of CPU for the ten
# interpreters.  With the full corpus every STRIDE-th stdlib pyc is checked (every code
# object in it), with the quick slice every one; the sample modules always.
STRIDE = 4
SHOWN = 5  # mismatches shown in full

_CONVERTERS = ("FORMAT_VALUE", "CONVERT_VALUE")


def _canon(value: Any, version: pycfile.PythonVersion, opname: str) -> Any:
    """What ``ops_dis.canon`` makes of the argval the interpreter's dis gives."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, str):
        return ["f", value] if opname in _CONVERTERS else ["s", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, tuple):
        return ["t", [_canon(v, version, opname) for v in value]]
    return ["?", repr(value)]


def _canon_const(value: Any, version: pycfile.PythonVersion) -> Any:
    if isinstance(value, Code):
        name = getattr(value, "co_name")
        text = name.value if isinstance(name, pycfile.Str) else name.value.decode("latin-1")
        return ["code", text, getattr(value, "co_firstlineno")]
    return describe_model(value, version)


def rows(instructions: List[Instruction], code: Code, version: pycfile.PythonVersion) -> List[List[Any]]:
    """The canonical list ``ops_dis.instructions`` builds, from pycfile's instructions."""
    table = pycfile.opcode_table(version)
    hasconst = table.hasconst
    deopt = table.deopt
    new_lines = version >= (3, 13)
    out = []
    for ins in instructions:
        op = deopt.get(ins.opcode, ins.opcode)
        if op in hasconst and ins.arg is not None and ins.argval is not None:
            argval = ["c", _canon_const(ins.argval, version)]
        else:
            argval = _canon(ins.argval, version, ins.opname)
        start = ins.line_number if ins.starts_line else None
        line: Any = [ins.starts_line, ins.line_number] if new_lines else start
        out.append([ins.offset, ins.opname, ins.arg, argval, line, ins.is_jump_target])
    return out


def canonical_text(table: List[List[Any]]) -> str:
    return json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _ours(path: Path) -> Tuple[List[str], int, pycfile.PythonVersion]:
    pyc = pycfile.loads(path.read_bytes())
    version = pyc.version
    digests = []
    count = 0
    assert isinstance(pyc.code, Code)
    for code in pyc.code.walk():
        table = rows(get_instructions(code, version), code, version)
        count += len(table)
        digests.append(hashlib.sha1(canonical_text(table).encode("ascii")).hexdigest())
    return digests, count, version


def _difference(oracle: Oracle, path: Path, index: int) -> str:
    pyc = pycfile.loads(path.read_bytes())
    assert isinstance(pyc.code, Code)
    code = list(pyc.code.walk())[index]
    ours = json.loads(canonical_text(rows(get_instructions(code, pyc.version), code, pyc.version)))
    theirs = oracle.call("dis_instructions", path=str(path), index=index)
    return first_difference(theirs, ours) or "(equal when fetched in full)"


@pytest.mark.parametrize("key", REQUIRED)
def test_instructions_equal_the_interpreters_dis(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    part = corpus_part(interpreter, Mode(0, "timestamp"))
    files = part.samples + (part.stdlib if quick() else part.stdlib[::STRIDE])
    assert part.stdlib and part.samples, f"no pycs for {key}"
    oracle = oracle_for(interpreter)
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    with ThreadPoolExecutor(1) as pool:
        futures: List[Future[Dict[str, Any]]] = [
            pool.submit(oracle.call, "dis_digests", paths=[str(p) for p in batch]) for batch in batches
        ]
        problems: List[str] = []
        mismatched: List[Tuple[Path, int]] = []
        codes = instructions = theirs_count = 0
        for batch, future in zip(batches, futures):
            ours = {str(p): _ours(p) for p in batch}
            answer = future.result()
            theirs_count += answer["instructions"]
            for path in batch:
                digests, count, _ = ours[str(path)]
                expected = answer["digests"][str(path)]
                if isinstance(expected, dict):
                    problems.append(f"{path}: the interpreter could not decode it: {expected['error']}")
                    continue
                codes += len(digests)
                instructions += count
                if len(expected) != len(digests):
                    problems.append(f"{path}: {len(expected)} code objects there, {len(digests)} here")
                    continue
                for index, (a, b) in enumerate(zip(expected, digests)):
                    if a != b:
                        mismatched.append((path, index))
    for path, index in mismatched[:SHOWN]:
        problems.append(f"{path.relative_to(part.root)} code #{index}: {_difference(oracle, path, index)}")
    print(f"\n{key}: {len(files)} pycs, {codes} code objects, {instructions} instructions checked")
    assert not problems and not mismatched, (
        f"{len(mismatched)} of {codes} code objects differ from {key}'s dis:\n" + "\n".join(problems[: SHOWN * 2])
    )
    assert instructions == theirs_count
