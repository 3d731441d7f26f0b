"""Line and exception tables read as the real interpreters read them.

For every code object of each required interpreter's corpus (the stdlib and the sample
modules, optimize 0; the quick slice unless ``PYCFILE_CORPUS=full``), what pycfile says
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
import random
import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import attrs
import pytest

import pycfile
from pycfile import Bytes, Code, CodeLayout, PycFormat
from pycfile._exceptiontable import decode_exception_table, encode_exception_table
from pycfile._linetable import (
    decode_linetable,
    decode_lnotab,
    decode_locations,
    decode_pypy_positions,
    encode_linetable,
    encode_lnotab,
    encode_locations,
    encode_pypy_positions,
)

from corpus import Mode, corpus_part, every_pyc, quick
from interpreters import REQUIRED, require
from oracle import Oracle, OracleFor, first_difference
import shared_samples

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


def _table_kind(code: Code, fmt: PycFormat) -> str:
    if code.layout in (CodeLayout.V1_0, CodeLayout.V1_3):
        return ""
    if fmt.version.implementation == "pypy" and fmt.version >= (3, 10):
        return "PyPy positions"
    if code.layout == CodeLayout.V3_10:
        return "co_linetable (3.10)"
    if code.layout == CodeLayout.V3_11:
        return "locations"
    if code.layout == CodeLayout.V3_11A:
        return ""  # no 3.11 alpha pycs to check against
    return "co_lnotab"


def _round_trip(code: Code, fmt: PycFormat, counts: Dict[str, int]) -> List[str]:
    """What fails to round-trip in a code object's tables (empty if all do)."""
    kind = _table_kind(code, fmt)
    checks: List[Tuple[str, bytes, Any]] = []
    if kind == "PyPy positions":
        # PyPy 3.10 keeps the table where co_lnotab was, PyPy 3.11 (416 on) calls it co_linetable
        data = _bytes(code, "co_linetable" if hasattr(code, "co_linetable") else "co_lnotab")
        checks.append((kind, data, encode_pypy_positions(decode_pypy_positions(data))))
        if len(decode_pypy_positions(data)) != len(_bytes(code, "co_code")) // 2:
            checks.append(("PyPy positions: one entry per code unit", b"", b"x"))
        if hasattr(code, "co_exceptiontable"):  # PyPy 8.0 on (432)
            data = _bytes(code, "co_exceptiontable")
            checks.append(("co_exceptiontable", data, encode_exception_table(decode_exception_table(data))))
    elif kind == "co_lnotab":
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


# -- tables made to reach the rare entry kinds, compiled by each interpreter -------------


def _edge_source() -> str:
    """Python 2.7/3.x source whose tables need every rare form: line jumps over 127 and
    255 lines (both ways, through loops), columns over 127 and 255, expressions over
    several lines, a function longer than 255 bytes and 64 code units inside one try
    block, nested handlers."""
    long_expression = "y = " + " + ".join(["value"] * 70)  # columns up to ~600
    body = "\n".join(f"        total = total + {i} * value" for i in range(150))
    return f'''
def first(value):
    {long_expression}
    return y
{chr(10) * 300}
def second(value, items):
    total = 0
    try:
{body}
    except (ValueError, TypeError):
        try:
            total = -1
        finally:
            items.append(total)
    for item in items:
        while item:
            item = item - 1
            if item > 3:
                break
    return total
{chr(10) * 140}
def third(value):
    return (value +
            value *
            value)


class Holder(object):
    def method(self, a, b=2, *args, **kwargs):
        return [a for a in args if a]
'''


@pytest.mark.parametrize("key", REQUIRED)
def test_rare_table_forms_match_the_interpreter(key: str, oracle_for: OracleFor, tmp_path: Path) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    path = tmp_path / "edge.pyc"
    path.write_bytes(oracle.compile_source(_edge_source().encode("ascii"), "edge.py"))
    theirs = _ask(oracle, [path], full=True)["files"][0]
    pyc = pycfile.loads(path.read_bytes())
    codes = list(pyc.code.walk())
    assert len(codes) == len(theirs)
    names = _expected_tables(interpreter.version)
    seen_kinds = set()
    for index, (code, tables) in enumerate(zip(codes, theirs)):
        assert not _round_trip(code, pyc.format, {})
        ours = json.loads(json.dumps(_ours(code, pyc.format, names)))
        for name in names:
            assert ours[name] == tables[name], f"code #{index} {name}: {first_difference(tables[name], ours[name])}"
        if code.layout == CodeLayout.V3_11:
            seen_kinds |= {e.kind for e in decode_locations(_bytes(code, "co_linetable"))}
    if interpreter.version >= (3, 11):
        # the source reaches the long form, the one-line forms and short forms
        assert {14, 10} <= seen_kinds and seen_kinds & set(range(10)), seen_kinds


# -- the shared sample pycs (no interpreter here for most of their versions) -----------

SAMPLE_FILES = shared_samples.files()
SET_LINENO = 127


def _int(code: Code, field: str) -> int:
    value = getattr(code, field)
    assert isinstance(value, int)
    return value


def _code_bytes(code: Code) -> bytes:
    return _bytes(code, "co_code") if hasattr(code, "co_code") else b""


def _sample_problems(code: Code, fmt: PycFormat) -> List[str]:
    """What is wrong with the tables of one sample code object."""
    problems = _round_trip(code, fmt, {})
    raw = _code_bytes(code)
    starts = code.line_starts(fmt)
    ranges = code.lines(fmt)
    positions = code.positions(fmt)
    entries = code.exception_table(fmt)
    version = fmt.version
    if code.layout in (CodeLayout.V1_0, CodeLayout.V1_3):
        if starts or ranges:
            problems.append("line data from a code object without a line table")
    if (1, 5) <= version < (2, 3) and version.implementation == "cpython":
        # The compiler also wrote SET_LINENO instructions: every line start after the
        # first is at one that carries its line.
        at = {}
        i = 0
        while i < len(raw):
            if raw[i] == SET_LINENO and i + 2 < len(raw):
                at[i] = raw[i + 1] | raw[i + 2] << 8
            i += 3 if raw[i] >= 90 else 1
        problems += [f"line start {s} has no SET_LINENO {line}" for s, line in starts[1:] if at.get(s) != line]
    if code.layout == CodeLayout.V3_10:
        again = encode_linetable(pycfile.build_linetable(ranges, _int(code, "co_firstlineno")))
        if again != _bytes(code, "co_linetable"):
            problems.append("build_linetable does not give back the compiler's table")
    if code.layout in (CodeLayout.V3_10, CodeLayout.V3_11):
        # The compiler covers every byte of the code with the table, in order.
        covered = [(start, end) for start, end, _ in ranges]
        if code.layout == CodeLayout.V3_11:
            table = _bytes(code, "co_linetable")
            if version >= (3, 12) and pycfile.encode_positions(positions, _int(code, "co_firstlineno")) != table:
                problems.append("encode_positions does not give back the compiler's table")
            if sum(2 * e.length for e in decode_locations(table)) != len(raw):
                problems.append("location table does not cover co_code exactly")
            if len(positions) != len(raw) // 2:
                problems.append(f"{len(positions)} positions for {len(raw) // 2} code units")
        if covered and (covered[0][0] != 0 or covered[-1][1] != len(raw) or any(a[1] != b[0] for a, b in zip(covered, covered[1:]))):
            problems.append(f"line ranges {covered} do not tile co_code ({len(raw)} bytes)")
    for e in entries:
        if not (0 <= e.start < e.end <= len(raw) and 0 <= e.target < len(raw)):
            problems.append(f"exception entry {e} outside co_code ({len(raw)} bytes)")
    return problems


@pytest.mark.parametrize("path", shared_samples.params(SAMPLE_FILES, lambda p: f"{p.parent.name}/{p.name}"))
def test_sample_tables(path: Path) -> None:
    pyc = pycfile.loads(path.read_bytes())
    problems = [f"code #{i}: {p}" for i, code in enumerate(pyc.code.walk()) for p in _sample_problems(code, pyc.format)]
    assert not problems, "\n".join(problems[:SHOWN])


FIXTURE_FILES = sorted(p for p in (Path(__file__).resolve().parent / "fixtures").glob("*/*.pyc") if p.parent.name != "broken")


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_tables(path: Path) -> None:
    """The same on the committed fixtures, which hold versions no required interpreter
    runs (PyPy 3.11's layout with co_qualname and co_exceptiontable)."""
    pyc = pycfile.loads(path.read_bytes())
    problems = [f"code #{i}: {p}" for i, code in enumerate(pyc.code.walk()) for p in _sample_problems(code, pyc.format)]
    assert not problems, "\n".join(problems[:SHOWN])


# -- random tables of every entry kind, read by each interpreter ------------------------

RANDOM_CASES = 120


def _random_location(rng: random.Random) -> pycfile.LocationEntry:
    kind = rng.randrange(16)
    length = rng.randint(1, 8)
    if kind <= 9:
        column = kind * 8 + rng.randrange(8)
        return pycfile.LocationEntry(kind, length, 0, 0, column, column + rng.randrange(16))
    if kind <= 12:
        return pycfile.LocationEntry(kind, length, kind - 10, 0, rng.randrange(128), rng.randrange(128))
    if kind == 13:
        return pycfile.LocationEntry(kind, length, rng.randint(-300, 300))
    if kind == 14:
        column = rng.choice([None, rng.randrange(5000)])
        end_column = rng.choice([None, rng.randrange(5000)])
        return pycfile.LocationEntry(kind, length, rng.randint(-5000, 5000), rng.randrange(300), column, end_column)
    return pycfile.LocationEntry(kind, length)


def _random_case(rng: random.Random, version: pycfile.PythonVersion) -> Dict[str, Any]:
    """Random tables in the format of ``version`` (tables only; the code bytes are zeros)."""
    first = rng.randrange(0, 3000)
    exceptions = b""
    if version >= (3, 11):
        table = encode_locations([_random_location(rng) for _ in range(rng.randrange(40))])
        units = rng.randrange(1, 400)
        entries = []
        for _ in range(rng.randrange(6)):
            start = rng.randrange(units)
            entries.append(
                pycfile.ExceptionTableEntry(2 * start, 2 * (start + rng.randrange(1, 5000)), 2 * rng.randrange(100000), rng.randrange(300), rng.random() < 0.5)
            )
        exceptions = encode_exception_table(entries)
        code = bytes(2 * units)
    elif version >= (3, 10):
        pairs = [
            pycfile.LinetableEntry(rng.choice([0, 2, 4, 6, rng.randrange(256)]), rng.choice([None, rng.randint(-127, 127), 0, 1]))
            for _ in range(rng.randrange(40))
        ]
        # CPython 3.10 reads past the end of a table that ends in empty entries (the
        # compiler never writes one), so the last entry covers some code.
        pairs.append(pycfile.LinetableEntry(rng.randint(1, 255), rng.choice([None, rng.randint(-127, 127)])))
        table = encode_linetable(pairs)
        code = bytes(rng.randrange(0, 600))
    else:
        low, high = (-128, 127) if version >= (3, 6) else (0, 255)
        pairs = [pycfile.LnotabEntry(rng.choice([0, rng.randrange(256), 2, 6]), rng.choice([0, 1, rng.randint(low, high)])) for _ in range(rng.randrange(40))]
        table = encode_lnotab(pairs, version)
        total = sum(p.offset_delta for p in pairs)
        code = bytes(rng.randrange(0, total + 20))
    return {"firstlineno": first, "code": code.hex(), "table": table.hex(), "exceptions": exceptions.hex()}


def _model_of(template: Code, case: Dict[str, Any]) -> Code:
    changes: Dict[str, Any] = {"co_firstlineno": case["firstlineno"], "co_code": Bytes(bytes.fromhex(case["code"]))}
    table = Bytes(bytes.fromhex(case["table"]))
    if hasattr(template, "co_lnotab"):
        changes["co_lnotab"] = table
    else:
        changes["co_linetable"] = table
    if hasattr(template, "co_exceptiontable"):
        changes["co_exceptiontable"] = Bytes(bytes.fromhex(case["exceptions"]))
    return attrs.evolve(template, **changes)


@pytest.mark.parametrize("key", REQUIRED)
def test_random_tables_read_as_the_interpreter_reads_them(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    part = corpus_part(interpreter, Mode(0))
    pyc = pycfile.loads(part.stdlib[0].read_bytes())
    rng = random.Random(f"tables-{key}")
    cases = [_random_case(rng, interpreter.version) for _ in range(RANDOM_CASES)]
    answers = oracle.call("raw_tables", cases=cases)
    names = _expected_tables(interpreter.version)
    failures = []
    for index, (case, theirs) in enumerate(zip(cases, answers)):
        assert sorted(theirs) == sorted(names)
        ours = json.loads(json.dumps(_ours(_model_of(pyc.code, case), pyc.format, names)))
        for name in names:
            if ours[name] != theirs[name]:
                failures.append(f"case {index} {name} ({case}): {first_difference(theirs[name], ours[name])}")
    assert not failures, f"{len(failures)} of {len(cases)} random tables read differently:\n" + "\n".join(failures[:SHOWN])


# -- writing positions back ------------------------------------------------------------

STRIDE = 8 if every_pyc() else 1  # pycs taken: every 8th of the full corpus (or a CI shard), all of the quick one


@pytest.mark.parametrize("key", [k for k in REQUIRED if k.startswith("cpython-3.1") and int(k.split(".")[1]) >= 11])
def test_encode_positions_writes_what_the_compiler_wrote(key: str) -> None:
    """From the positions alone, ``encode_positions`` rebuilds CPython's own table: the
    same bytes for 3.12+ (the entry kinds the compiler picks, spans split at 8 units),
    and for 3.11 (one entry per instruction there) a table with the same positions."""
    interpreter = require(key)
    part = corpus_part(interpreter, Mode(0))
    exact = interpreter.version >= (3, 12)
    checked = 0
    wrong = []
    for path in part.files[::STRIDE]:
        pyc = pycfile.loads(path.read_bytes())
        for code in pyc.code.walk():
            assert isinstance(code, pycfile.Code311)
            table = _bytes(code, "co_linetable")
            positions = code.positions(pyc.format)
            again = pycfile.encode_positions(positions, code.co_firstlineno)
            checked += 1
            if exact and again != table:
                wrong.append(f"{path.relative_to(part.root)} {code.co_name}: {table.hex()} != {again.hex()}")
            elif not exact and attrs.evolve(code, co_linetable=Bytes(again)).positions(pyc.format) != positions:
                wrong.append(f"{path.relative_to(part.root)} {code.co_name}: other positions from {again.hex()}")
    print(f"{key}: {checked} code objects rebuilt from their positions")
    assert checked and not wrong, f"{len(wrong)} of {checked}:\n" + "\n".join(wrong[:SHOWN])


def test_build_linetable_writes_what_the_compiler_wrote() -> None:
    """From its ``lines()`` alone, ``build_linetable`` rebuilds CPython 3.10's table."""
    interpreter = require("cpython-3.10")
    part = corpus_part(interpreter, Mode(0))
    checked = 0
    wrong = []
    for path in part.files[::STRIDE]:
        pyc = pycfile.loads(path.read_bytes())
        for code in pyc.code.walk():
            assert isinstance(code, pycfile.Code310)
            table = _bytes(code, "co_linetable")
            again = encode_linetable(pycfile.build_linetable(code.lines(pyc.format), code.co_firstlineno))
            checked += 1
            if again != table:
                wrong.append(f"{path.relative_to(part.root)} {code.co_name}: {table.hex()} != {again.hex()}")
    print(f"cpython-3.10: {checked} code objects rebuilt from their lines")
    assert checked and not wrong, f"{len(wrong)} of {checked}:\n" + "\n".join(wrong[:SHOWN])
