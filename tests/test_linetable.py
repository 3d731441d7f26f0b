"""Line and exception tables read as the real interpreters read them.

For every code object of each required interpreter's corpus (the stdlib and the sample
modules, optimize 0; the quick slice with ``PYCFILE_CORPUS=quick``), what pycfile says
equals what the interpreter itself says:

* ``line_starts`` equals that interpreter's ``dis.findlinestarts``;
* ``lines`` equals ``co_lines()`` (3.10+), ``positions`` equals ``co_positions()`` and
  ``exception_table`` equals ``dis._parse_exception_table`` (3.11+).

The worker (``tests/oracle/ops_lines.py``) reads the pycs itself and sends one SHA-1 per
table and code object; this side hashes the same canonical JSON text, and fetches the
whole tables of a file only when a digest differs.  Each test prints its per-table
counts of code objects checked (``pytest -rP`` shows them).

In the same pass every table round-trips: ``encode(decode(b)) == b`` for the bytes of
each line/location/exception table (and with it ``decode(encode(x)) == x`` for the
entries ``x = decode(b)``, since ``encode(x)`` is ``b`` again).  The same is checked on
every code object of the shared sample pycs (1.0-3.14, PyPy 3.10), where no interpreter
can answer; there the tables must also fit the code they describe.  Tables made to
exercise the rare entry kinds (long lines, big line jumps, long functions) are compiled
by each interpreter and compared whole.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pytest

import pycfile
from pycfile import Bytes, Code, CodeLayout, PycFormat
from pycfile._exceptiontable import decode_exception_table, encode_exception_table
from pycfile._linetable import (
    decode_linetable,
    decode_lnotab,
    decode_locations,
    encode_linetable,
    encode_lnotab,
    encode_locations,
)

from corpus import Mode, corpus_part
from interpreters import REQUIRED, require
from oracle import Oracle, OracleFor, first_difference

pytestmark = pytest.mark.interpreters

BATCH = 60  # pycs per worker request
SHOWN = 5  # differences listed in a message


def _digest(table: List[Tuple[Any, ...]]) -> str:
    """SHA-1 of the canonical text of a table (a list of tuples), as the worker makes it."""
    return hashlib.sha1(json.dumps(table, separators=(",", ":")).encode("ascii")).hexdigest()


def _expected_tables(version: pycfile.PythonVersion) -> List[str]:
    """The tables the interpreter of ``version`` must report (so none is silently skipped)."""
    names = ["starts"]
    if version >= (3, 10) and version.implementation == "cpython":
        names.append("lines")
    if version >= (3, 11) and version.implementation == "cpython":
        names += ["positions", "exceptions"]
    return names


def _ours(code: Code, fmt: PycFormat, names: Sequence[str]) -> Dict[str, List[Tuple[Any, ...]]]:
    """pycfile's answer for one code object: lists of tuples, as the worker makes them."""
    out: Dict[str, List[Tuple[Any, ...]]] = {}
    for name in names:
        if name == "starts":
            out[name] = list(code.line_starts(fmt))
        elif name == "lines":
            out[name] = list(code.lines(fmt))
        elif name == "positions":
            out[name] = list(code.positions(fmt))
        else:
            out[name] = [(e.start, e.end, e.target, e.depth, e.lasti) for e in code.exception_table(fmt)]
    return out


def _table_kind(code: Code) -> str:
    if code.layout in (CodeLayout.V1_0, CodeLayout.V1_3):
        return ""
    if code.layout == CodeLayout.V3_10:
        return "co_linetable (3.10)"
    if code.layout == CodeLayout.V3_11:
        return "locations"
    if code.layout == CodeLayout.V3_11A:
        return ""  # no 3.11 alpha pycs to check against
    return "co_lnotab"


def _round_trip(code: Code, fmt: PycFormat, counts: Dict[str, int]) -> List[str]:
    """What fails to round-trip in a code object's tables (empty if all do)."""
    kind = _table_kind(code)
    checks: List[Tuple[str, bytes, Any]] = []
    if kind == "co_lnotab":
        data = _bytes(code, "co_lnotab")
        checks.append((kind, data, encode_lnotab(decode_lnotab(data, fmt), fmt)))
    elif kind == "co_linetable (3.10)":
        data = _bytes(code, "co_linetable")
        checks.append((kind, data, encode_linetable(decode_linetable(data))))
    elif kind == "locations":
        data = _bytes(code, "co_linetable")
        checks.append((kind, data, encode_locations(decode_locations(data))))
        data = _bytes(code, "co_exceptiontable")
        checks.append(("co_exceptiontable", data, encode_exception_table(decode_exception_table(data))))
    problems = []
    for name, data, again in checks:
        counts[name] = counts.get(name, 0) + 1
        if again != data:
            problems.append(f"{name} {data.hex()} is written back as {again.hex()}")
    return problems


def _bytes(code: Code, field: str) -> bytes:
    value = getattr(code, field)
    assert isinstance(value, Bytes), f"{field} is {value!r}"
    return value.value


def _batches(files: List[Path]) -> List[List[Path]]:
    return [files[i : i + BATCH] for i in range(0, len(files), BATCH)]


def _ask(oracle: Oracle, paths: Sequence[Path], full: bool = False) -> Dict[str, Any]:
    answer: Dict[str, Any] = oracle.call("line_tables", paths=[str(p) for p in paths], full=full)
    return answer


@pytest.mark.parametrize("key", REQUIRED)
def test_tables_match_the_interpreter(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    part = corpus_part(interpreter, Mode(0))
    files = part.files
    assert part.stdlib, f"no stdlib pycs for {interpreter}"
    expected = _expected_tables(interpreter.version)
    counts = {name: 0 for name in expected}
    round_trips: Dict[str, int] = {}
    unwritable: List[str] = []
    mismatched: List[Tuple[Path, int, str]] = []
    with ThreadPoolExecutor(1) as pool:  # the worker answers the next batch while we compute
        futures: List[Future[Dict[str, Any]]] = [pool.submit(_ask, oracle, batch) for batch in _batches(files)]
        for batch, future in zip(_batches(files), futures):
            answer = future.result()
            assert answer["tables"] == expected, f"{interpreter} reports tables {answer['tables']}, expected {expected}"
            for path, theirs in zip(batch, answer["files"]):
                pyc = pycfile.loads(path.read_bytes())
                codes = list(pyc.code.walk())
                assert len(codes) == len(theirs), f"{path}: {len(codes)} code objects, the interpreter walks {len(theirs)}"
                for index, (code, digests) in enumerate(zip(codes, theirs)):
                    unwritable += [f"{path.relative_to(part.root)} code #{index}: {p}" for p in _round_trip(code, pyc.format, round_trips)]
                    for name, table in _ours(code, pyc.format, expected).items():
                        counts[name] += 1
                        if _digest(table) != digests[name]:
                            mismatched.append((path, index, name))
    print(f"{interpreter.key}: {len(files)} pycs; code objects checked per table: {counts}; tables round-tripped: {round_trips}")
    assert not unwritable, f"{len(unwritable)} tables do not round-trip:\n" + "\n".join(unwritable[:SHOWN])
    if mismatched:
        pytest.fail(f"{len(mismatched)} tables differ in {interpreter.key}:\n" + "\n".join(_explain(oracle, part.root, mismatched[:SHOWN])))


def _explain(oracle: Oracle, root: Path, mismatched: Sequence[Tuple[Path, int, str]]) -> List[str]:
    """Readable differences, from the whole tables of the files concerned."""
    lines = []
    for path, index, name in mismatched:
        theirs = _ask(oracle, [path], full=True)["files"][0][index][name]
        pyc = pycfile.loads(path.read_bytes())
        code = list(pyc.code.walk())[index]
        ours = json.loads(json.dumps(_ours(code, pyc.format, [name])[name]))  # tuples as lists, like theirs
        where = f"{path.relative_to(root)} code #{index} ({code.co_name if hasattr(code, 'co_name') else '?'})"
        lines.append(f"{where} {name}: {first_difference(theirs, ours)} (interpreter first, pycfile second)")
    return lines
