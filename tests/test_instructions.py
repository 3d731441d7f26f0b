"""pycfile's instructions equal each real interpreter's own ``dis.get_instructions``.

For every code object of every pyc in each required interpreter's corpus (stdlib and
sample modules, optimize 0; the quick slice unless ``PYCFILE_CORPUS=full``), the worker
(``tests/oracle/ops_dis.py``) decodes the bytecode with that interpreter's ``dis`` (2.7:
its ``dis``/``opcode`` modules, read the way ``dis.disassemble`` reads) and returns a
sha1 per code object of a canonical JSON text: offset, opname, arg, argval (constants as
``worker.describe`` trees), line, jump-target flag and argrepr (except for constants and
3.13+ jumps).  Every ``STRIDE``-th stdlib pyc of the full corpus is checked, every
``QUICK_STRIDE``-th of the quick one (see below).  The same text is built here from
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

from corpus import CorpusPart, Mode, corpus_part, full_stdlib, quick
from interpreters import REQUIRED, Interpreter, require
from oracle import Oracle, OracleFor, describe_model, first_difference

BATCH = 40  # pyc paths per worker request
# The full stdlib has ~10x the code of the quick slice (3.8 million instructions for 3.11
# alone); decoding every one of them on both sides takes ~30 minutes of CPU for the ten
# interpreters.  With the full corpus every STRIDE-th stdlib pyc is checked (every code
# object in it), with the quick slice every QUICK_STRIDE-th; the sample modules always.
# PYCFILE_DIS_SHARD=k/n checks every n-th pyc of the FULL stdlib from the k-th on, quick
# corpus or not: .ci/run gives each host another shard, so one CI run checks them all.
STRIDE = 4
QUICK_STRIDE = 2
SHARD_VARIABLE = "PYCFILE_DIS_SHARD"


def _stdlib_selection(interpreter: Interpreter, part: CorpusPart) -> List[Path]:
    shard = os.environ.get(SHARD_VARIABLE, "").strip()
    if shard:
        k, _, n = shard.partition("/")
        assert k.isdigit() and n.isdigit() and int(k) < int(n), f"{SHARD_VARIABLE}={shard!r}: expected k/n"
        return full_stdlib(interpreter, part.mode)[int(k) :: int(n)]
    return part.stdlib[:: QUICK_STRIDE if quick() else STRIDE]
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
    jumps = table.hasjrel | table.hasjabs
    deopt = table.deopt
    new_lines = version >= (3, 13)
    out = []
    for ins in instructions:
        op = deopt.get(ins.opcode, ins.opcode)
        const = op in hasconst and ins.arg is not None and ins.argval is not None
        if const:
            argval = ["c", _canon_const(ins.argval, version)]
        else:
            argval = _canon(ins.argval, version, ins.opname)
        argrepr = None if const or (new_lines and op in jumps) else ins.argrepr
        start = ins.line_number if ins.starts_line else None
        line: Any = [ins.starts_line, ins.line_number] if new_lines else start
        out.append([ins.offset, ins.opname, ins.arg, argval, line, ins.is_jump_target, argrepr])
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


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_instructions_equal_the_interpreters_dis(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    part = corpus_part(interpreter, Mode(0, "timestamp"))
    files = part.samples + _stdlib_selection(interpreter, part)
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


# -- untrusted bytes ---------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import attrs  # noqa: E402

VERSIONS = pycfile.opcode_table_versions()


def make_code(
    version: pycfile.PythonVersion, co_code: bytes, *, consts: int = 2, names: int = 2, tables: bytes = b""
) -> Code:
    """A code object of ``version``'s layout around ``co_code``, with a few constants,
    names and variables, and ``tables`` as every line/location/exception table."""
    layout = pycfile.format_for_version(version).code_layout
    assert layout is not None
    cls = pycfile.code_class(layout)
    py2 = version.major < 3

    def text(s: str) -> pycfile.Value:
        return pycfile.Bytes(s.encode(), "t") if py2 else pycfile.Str(s, "u")

    fields: Dict[str, Any] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        name = field.name
        if name == "flag_ref":
            continue
        if field.type in ("int", int):
            fields[name] = 1 if name == "co_firstlineno" else 0
        elif name == "co_code":
            fields[name] = pycfile.Bytes(co_code)
        elif name == "co_consts":
            fields[name] = pycfile.TupleValue([pycfile.Int(i) for i in range(consts)])
        elif name in ("co_names", "co_varnames", "co_localsplusnames", "co_cellvars", "co_freevars"):
            fields[name] = pycfile.TupleValue([text(f"{name[3]}{i}") for i in range(names)])
        elif name == "co_localspluskinds":
            fields[name] = pycfile.Bytes(bytes([0x20] * names))
        elif name in ("co_filename", "co_name", "co_qualname"):
            fields[name] = text("x")
        else:
            fields[name] = pycfile.Bytes(tables)
    return cls(**fields)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VERSIONS), st.binary(max_size=64), st.binary(max_size=16))
def test_any_bytes_decode_without_error(version: pycfile.PythonVersion, data: bytes, tables: bytes) -> None:
    code = make_code(version, data, tables=tables)
    instructions = get_instructions(code, version)
    assert sum(i.size for i in instructions) == len(data)
    assert all(i.note for i in instructions if not pycfile.opcode_table(version).is_known(i.opcode))
    pycfile.disassemble(code, version)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_bad_bytes_give_notes(version: pycfile.PythonVersion) -> None:
    table = pycfile.opcode_table(version)
    unknown = next(op for op in range(1, 256) if not table.is_known(op))
    load_const = table.opmap["LOAD_CONST"]
    ext = table.extended_arg
    assert ext is not None
    if table.wordcode:
        body = bytes([unknown, 0, load_const, 7, ext, 1])  # index 7: out of range; EXTENDED_ARG last
    else:
        body = bytes([unknown, load_const, 7, 0, ext, 1])  # EXTENDED_ARG cut short
    instructions = get_instructions(make_code(version, body), version)
    assert instructions[0].opname == f"<{unknown}>" and instructions[0].note == f"unknown opcode {unknown}"
    assert instructions[1].opname == "LOAD_CONST" and instructions[1].arg == 7
    assert instructions[1].argval is None and "constant index 7 out of range" in (instructions[1].note or "")
    assert instructions[2].opname == "EXTENDED_ARG"
    if not table.wordcode:
        assert instructions[2].note is not None
    odd = get_instructions(make_code(version, bytes([load_const])), version)
    assert len(odd) == 1 and odd[0].note is not None


def test_extended_arg_is_folded() -> None:
    for version in [pycfile.PythonVersion(2, 7), pycfile.PythonVersion(3, 5), pycfile.PythonVersion(3, 12)]:
        table = pycfile.opcode_table(version)
        ext, load_const = table.extended_arg, table.opmap["LOAD_CONST"]
        assert ext is not None
        if table.wordcode:
            body = bytes([ext, 1, load_const, 2])
            expected = 0x102
        else:
            body = bytes([ext, 1, 0, load_const, 2, 0])
            expected = 0x10002
        instructions = get_instructions(make_code(version, body, consts=0x10003), version)
        assert [i.opname for i in instructions] == ["EXTENDED_ARG", "LOAD_CONST"]
        assert instructions[1].arg == expected and instructions[1].argval == pycfile.Int(expected)


def test_disassemble_takes_a_pycfile_and_writes_to_a_stream() -> None:
    import io

    fmt = pycfile.format_for_version((3, 12))
    header = pycfile.PycHeader(fmt.magic, fmt, flags=0, mtime=0, source_size=0)
    pyc = pycfile.PycFile(header, make_code(pycfile.PythonVersion(3, 12), bytes([151, 0])))
    stream = io.StringIO()
    text = pycfile.disassemble(pyc, file=stream)
    assert stream.getvalue() == text and "RESUME" in text
    with pytest.raises(TypeError):
        pycfile.disassemble(pyc.code)
