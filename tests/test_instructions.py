"""pycfile's instructions and listings equal each real interpreter's own ``dis``.

For every code object of every pyc in each required interpreter's corpus (its stdlib
compiled by itself and the sample modules, optimize 0), the worker
(``tests/oracle/ops_dis.py``) decodes the bytecode with that interpreter's ``dis`` (2.7:
its ``dis``/``opcode`` modules, read the way ``dis.disassemble`` reads) and returns per
code object the sha1 of a canonical JSON text of its instructions -- offset, opname, arg,
argval (constants as ``worker.describe`` trees), line, jump-target flag and argrepr --
and the sha1 of its listing (``dis.disassemble``), and per file the sha1 of the
``dis.dis`` listing of the module.  The same texts are built here from
:func:`pycfile.get_instructions` and :func:`pycfile.disassemble`, on the host Python;
only on a mismatch is the full text fetched, for a readable difference.  Both sides pass
texts through ``ops_dis.normalize_line``: code-object addresses and the (per-process)
order of frozenset items are all that is taken out.

:func:`compare` is that strict comparison, one function for every version.  Which pycs:
``PYCFILE_CORPUS=full``: the whole stdlib; ``PYCFILE_CORPUS_SHARD=k/n``: all of that
shard of the full stdlib (.ci/run gives each host another shard, so one CI run checks
them all); otherwise (the quick corpus) every ``QUICK_STRIDE``-th pyc of the quick
slice; the sample modules always.  Each run prints, per version, the code objects whose
instructions, and whose listings, are equal, out of how many (``pytest -s``; the figures in docs/disassembly.md
come from ``PYCFILE_CORPUS=full``).

The worker runs in its own process while this one decodes, so the two halves overlap.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import pycfile
from pycfile import Code, Instruction, get_instructions

from corpus import CorpusPart, Mode, checked, corpus_part
from interpreters import REQUIRED, Interpreter, require
from oracle import Oracle, OracleFor, describe_model, first_difference
from oracle.ops_dis import normalize_line, normalize_listing
from pycfile import _instructions

BATCH = 40  # pyc paths per worker request
QUICK_STRIDE = 4  # by default (the quick corpus), every QUICK_STRIDE-th pyc of its slice (CI shards: all)
SHOWN = 5  # mismatches shown in full


def stdlib_selection(part: CorpusPart) -> List[Path]:
    return checked(part.stdlib, QUICK_STRIDE)

_CONVERTERS = ("FORMAT_VALUE", "CONVERT_VALUE")


def _canon(value: Any, version: pycfile.PythonVersion, opname: str) -> Any:
    """What ``ops_dis.canon`` makes of the argval the interpreter's dis gives."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, str):
        callable_name = opname in _CONVERTERS or opname == "LOAD_COMMON_CONSTANT"
        return ["f", value] if callable_name else ["s", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, tuple):
        return ["t", [_canon(v, version, opname) for v in value]]
    if isinstance(value, (pycfile.Singleton, pycfile.Int, pycfile.Str)):  # 3.15 LOAD_COMMON_CONSTANT
        return _canon(pycfile.to_python(value), version, "")
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
    new_lines = version >= (3, 13)  # as ops_dis: dis.Instruction has line_number from 3.13
    out = []
    for ins in instructions:
        op = deopt.get(ins.opcode, ins.opcode)
        const = op in hasconst and ins.arg is not None and ins.argval is not None
        if const:
            argval = ["c", _canon_const(ins.argval, version)]
        else:
            argval = _canon(ins.argval, version, ins.opname)
        start = ins.line_number if ins.starts_line else None
        line: Any = [ins.starts_line, ins.line_number] if new_lines else start
        out.append([ins.offset, ins.opname, ins.arg, argval, line, ins.is_jump_target, normalize_line(ins.argrepr)])
    return out


def canonical_text(table: List[List[Any]]) -> str:
    return json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class _Ours:
    rows: List[str]
    texts: List[str]
    file: str
    instructions: int


def _ours(path: Path) -> _Ours:
    pyc = pycfile.loads(path.read_bytes())
    version = pyc.version
    assert isinstance(pyc.code, Code)
    found = _Ours([], [], _sha1(normalize_listing(pycfile.disassemble(pyc))), 0)
    for code in pyc.code.walk():
        table = rows(get_instructions(code, version), code, version)
        found.instructions += len(table)
        found.rows.append(_sha1(canonical_text(table)))
        found.texts.append(_sha1(normalize_listing(pycfile.disassemble(code, version, depth=0))))
    return found


@dataclass
class Comparison:
    """What :func:`compare` found for one interpreter."""

    key: str
    pycs: int = 0
    codes: int = 0
    instructions: int = 0
    their_instructions: int = 0
    equal_rows: int = 0
    equal_texts: int = 0
    equal_files: int = 0
    problems: List[str] = field(default_factory=list)
    row_mismatches: List[Tuple[Path, int]] = field(default_factory=list)
    text_mismatches: List[Tuple[Path, int]] = field(default_factory=list)
    file_mismatches: List[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.key}: {self.pycs} pycs, {self.codes} code objects, {self.instructions} instructions; "
            f"instructions equal in {self.equal_rows}/{self.codes} code objects, listings equal in "
            f"{self.equal_texts}/{self.codes} code objects and {self.equal_files}/{self.pycs} files"
        )

    @property
    def equal(self) -> bool:
        return not (self.problems or self.row_mismatches or self.text_mismatches or self.file_mismatches) and (
            self.instructions == self.their_instructions
        )


def compare(interpreter: Interpreter, files: List[Path], oracle: Oracle) -> Comparison:
    """Instructions and listings of every code object of ``files`` (pycs ``interpreter``
    wrote), pycfile's against that interpreter's ``dis``."""
    found = Comparison(interpreter.key)
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    with ThreadPoolExecutor(1) as pool:
        futures: List[Future[Dict[str, Any]]] = [
            pool.submit(oracle.call, "dis_digests", paths=[str(p) for p in batch]) for batch in batches
        ]
        for batch, future in zip(batches, futures):
            ours = {str(p): _ours(p) for p in batch}
            answer = future.result()
            found.their_instructions += answer["instructions"]
            for path in batch:
                mine = ours[str(path)]
                theirs = answer["digests"][str(path)]
                if "error" in theirs:
                    found.problems.append(f"{path}: the interpreter could not decode it: {theirs['error']}")
                    continue
                found.pycs += 1
                found.codes += len(mine.rows)
                found.instructions += mine.instructions
                if len(theirs["rows"]) != len(mine.rows):
                    found.problems.append(f"{path}: {len(theirs['rows'])} code objects there, {len(mine.rows)} here")
                    continue
                for index, (a, b) in enumerate(zip(theirs["rows"], mine.rows)):
                    if a == b:
                        found.equal_rows += 1
                    else:
                        found.row_mismatches.append((path, index))
                for index, (a, b) in enumerate(zip(theirs["texts"], mine.texts)):
                    if a == b:
                        found.equal_texts += 1
                    else:
                        found.text_mismatches.append((path, index))
                if theirs["file"] == mine.file:
                    found.equal_files += 1
                else:
                    found.file_mismatches.append(path)
    return found


def _code(path: Path, index: int) -> Tuple[Code, pycfile.PythonVersion]:
    pyc = pycfile.loads(path.read_bytes())
    assert isinstance(pyc.code, Code)
    return list(pyc.code.walk())[index], pyc.version


def row_difference(oracle: Oracle, path: Path, index: int) -> str:
    code, version = _code(path, index)
    ours = json.loads(canonical_text(rows(get_instructions(code, version), code, version)))
    theirs = oracle.call("dis_instructions", path=str(path), index=index)
    return first_difference(theirs, ours) or "(equal when fetched in full)"


def text_difference(oracle: Oracle, path: Path, index: "int | None") -> str:
    if index is None:
        ours = normalize_listing(pycfile.disassemble(pycfile.loads(path.read_bytes())))
    else:
        code, version = _code(path, index)
        ours = normalize_listing(pycfile.disassemble(code, version, depth=0))
    theirs = oracle.call("dis_text", path=str(path), index=index)
    return first_difference(theirs.split("\n"), ours.split("\n")) or "(equal when fetched in full)"


def explain(found: Comparison, oracle: Oracle, root: Path) -> List[str]:
    """The problems, and the first differences of a few mismatches."""
    out = list(found.problems[:SHOWN])
    for path, index in found.row_mismatches[:SHOWN]:
        out.append(f"{path.relative_to(root)} code #{index} instructions: {row_difference(oracle, path, index)}")
    for path, index in found.text_mismatches[:SHOWN]:
        out.append(f"{path.relative_to(root)} code #{index} listing: {text_difference(oracle, path, index)}")
    for path in found.file_mismatches[:SHOWN]:
        out.append(f"{path.relative_to(root)} listing: {text_difference(oracle, path, None)}")
    return out


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_instructions_and_listings_equal_the_interpreters_dis(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    part = corpus_part(interpreter, Mode(0, "timestamp"))
    assert part.stdlib and part.samples, f"no pycs for {key}"
    oracle = oracle_for(interpreter)
    found = compare(interpreter, part.samples + stdlib_selection(part), oracle)
    print("\n" + found.summary())
    assert found.codes, f"no code objects checked for {key}"
    assert found.equal, (
        f"{found.summary()}:\n" + "\n".join(explain(found, oracle, part.root))
    )


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


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_code_object_lists_without_error(data: st.DataObject) -> None:
    """Code objects drawn by pycfile.strategies (any constants, nested code) of any
    version with a table: decoding and listing never raise, texts stay bounded."""
    version = data.draw(st.sampled_from([v for v in VERSIONS if pycfile.format_for_version(v).code_layout]))
    from pycfile import strategies

    code = data.draw(strategies.code_objects(version))
    assert isinstance(code, Code)
    listing = pycfile.disassemble(code, version)
    for ins in get_instructions(code, version):
        assert len(ins.argrepr) <= _instructions.ARGREPR_LIMIT + len(_instructions.ELIDED)
        assert ins.argrepr in listing or ins.argrepr.startswith(("to L", "from L")) or not ins.argrepr


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


def test_strings_show_as_their_versions_unicode_database_shows_them() -> None:
    """U+14000 was assigned in Unicode 16 (3.14), U+A7CE in Unicode 17 (3.15): each version's
    repr escapes the characters its own database does not know, whatever the host's is."""
    const_repr = _instructions.const_repr
    assert const_repr(pycfile.Str("\U00014000"), (3, 13)) == "'\\U00014000'"
    assert const_repr(pycfile.Str("\U00014000"), (3, 14)) == "'\U00014000'"
    assert const_repr(pycfile.Str("a'\ua7ce"), (3, 14)) == '"a\'\\ua7ce"'
    assert const_repr(pycfile.Str("a'\ua7ce"), (3, 15)) == '"a\'\ua7ce"'
    assert const_repr(pycfile.Str("\xe9\u0378"), (3, 15)) == "'\xe9\\u0378'"  # U+0378: unassigned
    assert const_repr(pycfile.Str("\xe9"), (2, 7)) == "u'\\xe9'"
    assert pycfile.opcode_table((3, 15)).unicode_version == "17.0.0"


# -- hostile inputs (issue 13): no escape, no recursion, nothing super-linear ------------
#
# Each input is built here, small.  No test times anything: sizes are chosen so the
# linear code finishes in well under a second while the old quadratic (or exponential)
# code would run for minutes, so a regression shows as a hang; where that is not
# possible the test counts operations instead.

V312 = pycfile.PythonVersion(3, 12)
V313 = pycfile.PythonVersion(3, 13)


def _with(code: Code, **fields: Any) -> Code:
    return attrs.evolve(code, **fields)  # type: ignore[misc]


def _load_consts(version: pycfile.PythonVersion, count: int, index: int = 0) -> bytes:
    table = pycfile.opcode_table(version)
    return bytes([table.opmap["LOAD_CONST"], index]) * count


def test_a_constant_nested_1000_deep_is_listed() -> None:
    """A tuple nested 1,000 deep (RecursionError before): its text is built without recursion."""
    value: pycfile.Value = pycfile.Int(7)
    for _ in range(1000):
        value = pycfile.TupleValue([value])
    code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([value]))
    [ins] = get_instructions(code, V312)
    assert ins.argrepr == "(" * 1000 + "7" + ",)" * 1000
    assert ins.argrepr in pycfile.disassemble(code, V312)


def test_990_nested_code_objects_are_listed() -> None:
    """990 code objects each holding the next (RecursionError before): walked on a stack."""
    code = make_code(V312, _load_consts(V312, 1))
    for depth in range(990):
        code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([code]),
                     co_name=pycfile.Str(f"f{depth}"))
    listing = pycfile.disassemble(code, V312)
    assert listing.count("Disassembly of <code object") == 990
    assert pycfile.disassemble(code, V312, depth=0).count("Disassembly of") == 0
    assert pycfile.disassemble(code, V312, depth=2).count("Disassembly of") == 2


def test_an_exponential_constant_is_elided() -> None:
    """60 levels of (previous, previous): a repr of 2**60 items.  dis would never finish;
    pycfile cuts the text at ARGREPR_LIMIT characters, building no more than that."""
    value: pycfile.Value = pycfile.Int(1)
    for _ in range(60):
        value = pycfile.TupleValue([value, value])
    code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([value]))
    [ins] = get_instructions(code, V312)
    assert ins.argrepr.endswith(_instructions.ELIDED)
    assert len(ins.argrepr) == _instructions.ARGREPR_LIMIT + len(_instructions.ELIDED)
    assert ins.argrepr.startswith("(" * 60 + "1, 1), (1, 1)), ")
    assert ins.argval is value


def test_a_self_containing_constant_is_elided() -> None:
    """The tuple ``a9 01 72 00000000`` (a tuple holding itself, through a reference)."""
    cyclic = pycfile.marshal.loads(bytes.fromhex("a90172" + "00000000"), version=V312)
    assert isinstance(cyclic, pycfile.TupleValue) and cyclic.items[0] is cyclic
    code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([cyclic]))
    [ins] = get_instructions(code, V312)
    assert ins.argrepr.startswith("((((") and ins.argrepr.endswith(_instructions.ELIDED)


def test_a_shared_constant_is_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """One large constant loaded 2,000 times from 50 code objects (the same object, as a
    marshal reference makes it): its text is built once per listing (counted)."""
    big = pycfile.TupleValue([pycfile.Int(i) for i in range(2000)])
    text = _instructions.const_repr(big, V312)
    calls: List[Any] = []
    render = _instructions._Reprs._render

    def counting(self: Any, value: Any) -> str:
        calls.append(value)
        return render(self, value)

    monkeypatch.setattr(_instructions._Reprs, "_render", counting)
    inner = [_with(make_code(V312, _load_consts(V312, 40)), co_consts=pycfile.TupleValue([big])) for _ in range(50)]
    outer = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([big, *inner]))
    listing = pycfile.disassemble(outer, V312)
    assert listing.count(text) == 2001
    assert [id(v) for v in calls] == [id(big)]


def test_a_repeated_code_object_is_listed_once() -> None:
    """A code object reached twice (the same object: only a marshal reference makes one)
    is listed the first time only, so a DAG of code objects stays linear."""
    code = make_code(V312, _load_consts(V312, 1))
    for _ in range(40):  # 2**40 listings if every occurrence were listed in full
        code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([code, code]))
    listing = pycfile.disassemble(code, V312)
    assert listing.count("(listed above)") == 40
    assert listing.count("Disassembly of") == 80


def test_long_extended_arg_chains_fold_in_linear_time() -> None:
    """400,000 EXTENDED_ARG prefixes.  Folding them as dis does makes an argument of 3.2
    million bits, one shift at a time: quadratic, several minutes (100,000 took 4.8 s).
    pycfile keeps 64 bits, says so in a note, and never needs the 4,300-digit str()."""
    for version in (pycfile.PythonVersion(2, 7), V312):
        table = pycfile.opcode_table(version)
        ext = table.extended_arg
        assert ext is not None
        load = table.opmap["LOAD_CONST"]
        if table.wordcode:  # 3.12's dis wraps 2**31 to -2**31, then grows it further down
            data = bytes([ext, 0x80]) + bytes([ext, 0]) * 400_000 + bytes([load, 0])
        else:
            data = bytes([ext, 1, 0]) + bytes([ext, 0, 0]) * 400_000 + bytes([load, 0, 0])
        *_, last = _instructions._raw_instructions(data, table)
        offset, op, arg, size, caches, note, prefixed = last
        assert op == load and prefixed and arg is not None
        assert arg.bit_length() <= _instructions.ARG_BITS and note == _instructions._CUT_NOTE
    short = bytes([pycfile.opcode_table(V312).extended_arg or 0, 1]) * 1800 + _load_consts(V312, 1)
    listing = pycfile.disassemble(make_code(V312, short), V312)  # ValueError (4300 digits) before
    assert "EXTENDED_ARG" in listing and "[" not in listing.splitlines()[-1]


def test_the_32_bit_wrap_of_extended_arg_follows_dis() -> None:
    """3.11+ ``dis`` wraps a pending EXTENDED_ARG of 2**31 or more to a negative C int."""
    table = pycfile.opcode_table(V312)
    ext = table.extended_arg or 0
    data = bytes([ext, 0x80, ext, 0, ext, 0, table.opmap["LOAD_CONST"], 0])
    *_, last = get_instructions(make_code(V312, data), V312)
    assert last.arg == -(2**31) and last.note == "constant index -2147483648 out of range"
    v310 = pycfile.PythonVersion(3, 10)
    table = pycfile.opcode_table(v310)
    ext = table.extended_arg or 0
    data = bytes([ext, 0x80, ext, 0, ext, 0, table.opmap["LOAD_CONST"], 0])
    *_, last = get_instructions(make_code(v310, data), v310)
    assert last.arg == 2**31


def _location_table_with_a_long_varint(groups: int, payload: int) -> bytes:
    """A 3.11+ location table: one kind-13 entry (line only) whose line delta is a varint
    of ``groups`` continuation bytes carrying ``payload`` each, then a last byte 0."""
    return bytes([0x80 | (13 << 3)]) + bytes([0x40 | payload]) * groups + b"\x00"


def test_a_long_line_table_varint_is_refused_quickly() -> None:
    """A location-table varint of 1,000,000 bytes: the old decoder grew a 6-million-bit
    int one OR at a time (quadratic: minutes; 2,390 bytes already made ``dis`` fail with
    ValueError "Exceeds the limit (4300 digits)").  Now: refused at 32 bits."""
    code = make_code(V312, _load_consts(V312, 1), tables=b"")
    code = _with(code, co_linetable=pycfile.Bytes(_location_table_with_a_long_varint(1_000_000, 0x3F)))
    with pytest.raises(pycfile.BadTableError, match="does not fit in 32 bits"):
        pycfile.lines(code, V312)
    listing = pycfile.disassemble(code, V312)  # the listing goes on without line numbers
    assert "LOAD_CONST" in listing
    zeros = _with(code, co_linetable=pycfile.Bytes(_location_table_with_a_long_varint(1_000_000, 0)))
    assert pycfile.lines(zeros, V312) == [(0, 2, 1)]  # zero groups add nothing: line 1 + 0


def test_a_long_exception_table_varint_is_refused_quickly() -> None:
    """An exception-table varint of 1,000,000 bytes (quadratic before: 4.7 s at 100 KB)."""
    table = bytes([0x80 | 0x40 | 1]) + bytes([0x40 | 0x3F]) * 1_000_000 + b"\x00"
    with pytest.raises(pycfile.BadTableError, match="does not fit in 32 bits"):
        pycfile.decode_exception_table(table)
    zeros = bytes([0x80 | 0x40]) + bytes([0x40]) * 1_000_000 + bytes([0, 2, 0, 0])
    [entry] = pycfile.decode_exception_table(zeros)
    assert (entry.start, entry.end, entry.target, entry.depth) == (0, 4, 0, 0)


def test_a_first_line_no_interpreter_could_hold() -> None:
    """A model whose co_firstlineno has 20,000 digits (str() of it raises ValueError)."""
    code = _with(make_code(V312, _load_consts(V312, 1)), co_firstlineno=10**20000)
    with pytest.raises(pycfile.BadTableError, match="co_firstlineno does not fit"):
        pycfile.line_starts(code, V312)
    outer = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([code]))
    listing = pycfile.disassemble(outer, V312)
    assert 'file "x", line ?>' in listing


def test_a_broken_exception_table_is_shown_not_raised() -> None:
    code = _with(make_code(V312, _load_consts(V312, 1)), co_exceptiontable=pycfile.Bytes(b"\x01"))
    listing = pycfile.disassemble(code, V312)
    assert "ExceptionTable:\n  [malformed: " in listing


def test_a_pyc_whose_body_is_no_code_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``loads(header + b"N")`` (TypeError before): BadPycError, and ``pycfile dis`` exits 2."""
    fmt = pycfile.format_for_version(V312)
    data = fmt.magic + bytes(12) + b"N"
    pyc = pycfile.loads(data)
    with pytest.raises(pycfile.BadPycError, match="not a code object"):
        pycfile.disassemble(pyc)
    with pytest.raises(TypeError):
        pycfile.disassemble(pyc.code, V312)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        get_instructions(pyc.code, V312)  # type: ignore[arg-type]
    path = tmp_path / "none.pyc"
    path.write_bytes(data)
    from pycfile._cli import main

    assert main(["dis", str(path)]) == 2
    assert "not a code object" in capsys.readouterr().err


def test_pycfile_dis_on_deep_pycs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI on a pyc of 990 nested code objects and one holding a tuple nested 1,000
    deep (a RecursionError traceback before)."""
    from pycfile._cli import main

    fmt = pycfile.format_for_version(V312)
    header = pycfile.PycHeader(fmt.magic, fmt, flags=0, mtime=0, source_size=0)
    code = make_code(V312, _load_consts(V312, 1))
    for _ in range(990):
        code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([code]))
    pycfile.dump(pycfile.PycFile(header, code), tmp_path / "functions.pyc")
    value: pycfile.Value = pycfile.Int(1)
    for _ in range(1000):
        value = pycfile.TupleValue([value])
    code = _with(make_code(V312, _load_consts(V312, 1)), co_consts=pycfile.TupleValue([value]))
    pycfile.dump(pycfile.PycFile(header, code), tmp_path / "tuple.pyc")
    assert main(["dis", str(tmp_path / "functions.pyc")]) == 0
    assert capsys.readouterr().out.count("Disassembly of") == 990
    assert main(["dis", str(tmp_path / "tuple.pyc")]) == 0
    assert "(" * 1000 + "1" + ",)" * 1000 in capsys.readouterr().out


def test_pycfile_dis_escapes_terminal_controls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = make_code(V312, bytes([pycfile.opcode_table(V312).opmap["LOAD_NAME"], 0]))
    code = _with(code, co_names=pycfile.TupleValue([pycfile.Str("\x1b[2Jx\x9b")]))
    fmt = pycfile.format_for_version(V312)
    path = tmp_path / "escape.pyc"
    pycfile.dump(pycfile.PycFile(pycfile.PycHeader(fmt.magic, fmt, flags=0, mtime=0, source_size=0), code), path)
    from pycfile._cli import main

    assert main(["dis", str(path)]) == 0
    out = capsys.readouterr().out
    assert "(\\x1b[2Jx\\x9b)" in out and "\x1b" not in out and "\x9b" not in out
    assert "(\x1b[2Jx\x9b)" in pycfile.disassemble(code, V312)  # the library gives dis's text
