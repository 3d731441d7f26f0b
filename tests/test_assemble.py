"""``pycfile.assemble`` against the real interpreters.

- Identity: for every code object of every interpreter's corpus (all modes; every
  ``QUICK_STRIDE``-th pyc of the quick corpus, every pyc of the full one or of a CI shard) and of every shared
  sample that has an opcode table, ``assemble(code, get_instructions(code, v), v)``
  writes the very bytes: ``co_code``, the line table, the exception table and
  ``co_stacksize``.
- Edits: in every interpreter, a module compiled there is edited through
  ``get_instructions`` -> change -> ``assemble`` -> ``dump`` and imported sourceless;
  the interpreter sees (a) ``a + b`` become ``a * b``, (b) an instruction inserted at the
  top of a loop body inside two try statements, (c) an instruction removed, (d) the right
  line in tracebacks from the edited functions, and (e) jumps growing EXTENDED_ARG
  prefixes when 40,000 instructions are inserted.
- The stack effects pycfile holds equal each interpreter's own ``dis.stack_effect``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import attrs
import pytest

import pycfile
from pycfile import AssembleError, Code, Instruction, assemble, get_instructions, new_instruction

from corpus import Mode, checked, corpus_part, every_pyc, modes, quick
from interpreters import REQUIRED, Interpreter, require
from oracle import OracleFor
from shared_samples import SHARED_SAMPLES

QUICK_STRIDE = 4  # the quick corpus's stdlib pycs taken (CI's shards take all of the full one)
TABLE_FIELDS = ("co_code", "co_lnotab", "co_linetable", "co_exceptiontable")


def _has_table(version: pycfile.PythonVersion) -> bool:
    try:
        pycfile.opcode_table(version)
    except pycfile.NoOpcodeTableError:
        return False
    return True


def _no_table_skip(version: pycfile.PythonVersion) -> None:
    if not _has_table(version):
        pytest.skip(f"pycfile has no opcode table for {version} yet (NoOpcodeTableError): nothing to assemble")


def _differences(code: Code, version: Any) -> List[str]:
    """What ``assemble`` of the code's own instructions changes (empty: nothing)."""
    try:
        new = assemble(code, get_instructions(code, version), version)
    except pycfile.PycError as e:
        return [f"{type(e).__name__}: {e}"]
    out = [f for f in TABLE_FIELDS if hasattr(code, f) and getattr(code, f).value != getattr(new, f).value]
    if getattr(code, "co_stacksize", None) != getattr(new, "co_stacksize", None):
        out.append(f"co_stacksize {getattr(code, 'co_stacksize')} -> {getattr(new, 'co_stacksize')}")
    return out


def _key(code: Code) -> bytes:
    """What assembling a code object depends on: equal keys give equal results."""
    digest = hashlib.sha1()
    for field in TABLE_FIELDS:
        value = getattr(code, field, None)
        digest.update(value.value if isinstance(value, pycfile.Bytes) else b"-")
        digest.update(b"\0")
    digest.update(f"{getattr(code, 'co_firstlineno', 0)} {getattr(code, 'co_stacksize', 0)}".encode())
    return digest.digest()


def _check_files(paths: List[Path], version: Optional[pycfile.PythonVersion] = None) -> Tuple[int, int, List[str]]:
    """(code objects, distinct ones assembled, problems) over pycs."""
    seen: Set[bytes] = set()
    total = distinct = 0
    problems: List[str] = []
    for path in paths:
        pyc = pycfile.load(path)
        assert isinstance(pyc.code, Code)
        for code in pyc.code.walk():
            total += 1
            key = _key(code)
            if key in seen:
                continue
            seen.add(key)
            distinct += 1
            found = _differences(code, pyc.format)
            if found:
                problems.append(f"{path} {pycfile.to_python(getattr(code, 'co_name'))!r}: {', '.join(found)}")
    return total, distinct, problems


def _stdlib(interpreter: Interpreter, mode: Mode) -> List[Path]:
    part = corpus_part(interpreter, mode)
    return part.samples + checked(part.stdlib, QUICK_STRIDE)


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_corpus_code_reassembles_identically(key: str) -> None:
    interpreter = require(key)
    _no_table_skip(interpreter.version)
    files = [p for mode in modes(interpreter.major, interpreter.minor) for p in _stdlib(interpreter, mode)]
    assert files, f"no pycs for {key}"
    total, distinct, problems = _check_files(files)
    print(f"\n{key}: {total} code objects in {len(files)} pycs ({distinct} distinct) re-assembled, {len(problems)} differ")
    assert not problems, f"{len(problems)} of {distinct} code objects differ:\n" + "\n".join(problems[:10])


def _sample_dirs() -> List[Path]:
    if not SHARED_SAMPLES.is_dir():
        return []
    return sorted(p for p in SHARED_SAMPLES.iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", [p.name for p in _sample_dirs()] or ["(no shared samples)"])
def test_samples_reassemble_identically(folder: str) -> None:
    directory = SHARED_SAMPLES / folder
    if not directory.is_dir():
        pytest.skip(f"no {SHARED_SAMPLES}")
    files = sorted(directory.glob("*.pyc"))
    version = pycfile.load(files[0]).version
    if not _has_table(version):
        # Nothing to re-assemble: assemble says so, naming the version, rather than guessing.
        code = pycfile.load(files[0]).code
        assert isinstance(code, Code)
        with pytest.raises(pycfile.NoOpcodeTableError, match="opcode table"):
            assemble(code, [], version)
        return
    total, distinct, problems = _check_files(files)
    print(f"\n{folder}: {total} code objects in {len(files)} pycs ({distinct} distinct) re-assembled, {len(problems)} differ")
    assert total > 0
    assert not problems, "\n".join(problems[:10])


# -- edits seen by the real interpreters -------------------------------------------------

SOURCE = b'''\
class Neg(object):
    def __neg__(self):
        return self


class Boom(object):
    def __neg__(self):
        raise KeyError("boom")


class Fail(object):
    def __neg__(self):
        raise ValueError("fail")


def add(a, b):
    return a + b


def loop(xs):
    total = 0
    try:
        for x in xs:
            try:
                total = total * 10 + x
            except TypeError:
                total = -1
    except KeyError:
        return -2
    return 1000 // total


def negate_all(xs):
    out = []
    try:
        for x in xs:
            out.append(-x)
    except TypeError:
        return None
    return out
'''
FOR_LINE = 23  # "for x in xs:" in loop
RETURN_LINE = 30  # "return 1000 // total"
APPEND_LINE = 36  # "out.append(-x)"
CALLS = [
    "add(3, 4)",
    "loop([1, 2, 3])",
    "loop([1, Neg(), 2])",
    "loop([1, Boom()])",
    "loop([])",
    "loop([Fail()])",
    "negate_all([1, 2])",
    "negate_all([1, u'a'])",
    "negate_all([Fail()])",
]


def _value(number: int) -> Dict[str, Any]:
    return {"value": {"t": "int", "v": str(number)}}


def _find(pyc: pycfile.PycFile, name: str) -> Tuple[int, Code]:
    consts = getattr(pyc.code, "co_consts")
    for index, const in enumerate(consts.items):
        if isinstance(const, Code) and pycfile.to_python(getattr(const, "co_name")) in (name, name.encode()):
            return index, const
    raise KeyError(name)


def _replace(pyc: pycfile.PycFile, name: str, instructions: List[Instruction]) -> Code:
    index, code = _find(pyc, name)
    new = assemble(code, instructions, pyc.format)
    getattr(pyc.code, "co_consts").items[index] = new
    return new


def _multiply(pyc: pycfile.PycFile, instructions: List[Instruction]) -> List[Instruction]:
    """``a + b`` -> ``a * b``: BINARY_ADD -> BINARY_MULTIPLY, or (3.11+) BINARY_OP's operator."""
    table = pycfile.opcode_table(pyc.version)
    symbols = [symbol for _, symbol in table.nb_ops]
    out = []
    for ins in instructions:
        if ins.opname == "BINARY_ADD":
            ins = attrs.evolve(ins, opname="BINARY_MULTIPLY")
        elif ins.opname == "BINARY_OP" and symbols[ins.arg or 0] == "+":
            ins = attrs.evolve(ins, arg=symbols.index("*"))
        out.append(ins)
    assert out != instructions
    return out


def _run(oracle: Any, key: str, data: bytes, tag: str, calls: List[str]) -> List[Dict[str, Any]]:
    name = f"assembled_{tag}_" + key.replace("-", "_").replace(".", "_")
    result: List[Dict[str, Any]] = oracle.call("run_calls", pyc=data.hex(), name=name, calls=calls)
    return result


def _line_in(result: Dict[str, Any], function: str) -> int:
    lines = [line for name, line in result["frames"] if name == function]
    assert lines, result
    return int(lines[-1])


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_edits_are_seen_by_the_interpreter(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    _no_table_skip(oracle.interpreter.version)
    original = oracle.compile_source(SOURCE, "edited.py")
    before = _run(oracle, key, original, "before", CALLS)
    assert before[:4] == [_value(7), _value(8), _value(1000 // -8), _value(-1000)]

    pyc = pycfile.loads(original)
    v = pyc.version
    # (a) a + b -> a * b
    _replace(pyc, "add", _multiply(pyc, get_instructions(_find(pyc, "add")[1], v)))
    # (b) UNARY_NEGATIVE at the top of the loop body: the loop is in one try, the body in another
    instructions = get_instructions(_find(pyc, "loop")[1], v)
    at = next(i for i, ins in enumerate(instructions) if ins.opname == "FOR_ITER") + 1
    instructions.insert(at, new_instruction("UNARY_NEGATIVE"))
    loop = _replace(pyc, "loop", instructions)
    # (c) the negation removed from negate_all
    instructions = get_instructions(_find(pyc, "negate_all")[1], v)
    _replace(pyc, "negate_all", [ins for ins in instructions if ins.opname != "UNARY_NEGATIVE"])
    data = pycfile.dumps(pyc)
    assert pycfile.dumps(pycfile.loads(data)) == data

    after = _run(oracle, key, data, "after", CALLS)
    assert after[0] == _value(12)  # (a)
    # (b) the loop sees -x: the jumps still close the loop, the inner handler still
    # catches 10 * total + Neg(), and the outer one the KeyError the new instruction raises
    assert after[1] == _value(1000 // -123)
    assert after[2] == _value(1000 // -12)
    assert after[3] == _value(-2)
    # (c)
    assert after[6]["value"]["items"] == [{"t": "int", "v": "1"}, {"t": "int", "v": "2"}]
    assert after[7]["value"]["items"][0] == {"t": "int", "v": "1"}
    assert after[8]["value"]["items"][0]["t"] != "int"
    # (d) tracebacks: an original instruction after the insertion keeps its line; the new
    # one has the line of the instruction before it (FOR_ITER: the for statement)
    assert after[4]["raised"] == before[4]["raised"] == "ZeroDivisionError"
    assert _line_in(after[4], "loop") == _line_in(before[4], "loop") == RETURN_LINE
    assert after[5]["raised"] == "ValueError" and _line_in(after[5], "loop") == FOR_LINE
    loop_lines = {ins.line_number for ins in get_instructions(loop, v) if ins.opname == "UNARY_NEGATIVE"}
    assert loop_lines == {FOR_LINE}


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_jumps_grow_extended_args(key: str, oracle_for: OracleFor) -> None:
    """(e) 40,000 NOPs (2.x: 70,000 one-byte NOPs, past a 16-bit argument) in the loop
    body push the loop's jumps past what one argument byte holds: assemble adds
    EXTENDED_ARG prefixes and the interpreter still runs the loop and shows the lines."""
    oracle = oracle_for(key)
    _no_table_skip(oracle.interpreter.version)
    pyc = pycfile.loads(oracle.compile_source(SOURCE, "edited.py"))
    v = pyc.version
    code = _find(pyc, "loop")[1]
    instructions = get_instructions(code, v)
    assert not any(ins.opname == "EXTENDED_ARG" for ins in instructions)
    at = next(i for i, ins in enumerate(instructions) if ins.opname == "FOR_ITER") + 1
    count = 40_000 if pyc.format.version >= (3, 6) else 70_000
    instructions[at:at] = [new_instruction("NOP") for _ in range(count)] + [new_instruction("UNARY_NEGATIVE")]
    new = _replace(pyc, "loop", instructions)
    assert any(ins.opname == "EXTENDED_ARG" for ins in get_instructions(new, v))
    after = _run(oracle, key, pycfile.dumps(pyc), "big", CALLS[1:6])
    assert after[:3] == [_value(1000 // -123), _value(1000 // -12), _value(-2)]
    assert _line_in(after[3], "loop") == RETURN_LINE
    assert _line_in(after[4], "loop") == FOR_LINE
    # and back: without the NOPs, assemble keeps the prefixes it was given
    shrunk = [ins for ins in get_instructions(new, v) if ins.opname != "NOP"]
    again = _replace(pyc, "loop", shrunk)
    assert sum(ins.opname == "EXTENDED_ARG" for ins in get_instructions(again, v)) == sum(
        ins.opname == "EXTENDED_ARG" for ins in shrunk
    )
    after = _run(oracle, key, pycfile.dumps(pyc), "shrunk", CALLS[1:2])
    assert after == [_value(1000 // -123)]


# -- stack effects --------------------------------------------------------------------------

STACK_ARGS: List[int] = list(range(0, 260)) + [300, 511, 512, 513, 1000, 4096, 65535, 65536, 65537, 70000]
# Where pycfile's table knowingly differs from the interpreter's dis.stack_effect (see
# scripts/make_stack_effects.py): 3.6 and 3.7 give one value where a jump and a
# fall-through differ, 3.6's finally and with blocks count what the interpreter pushes,
# 3.10 counts GEN_START as 0, 3.11/3.12 RETURN_GENERATOR as 1 (3.13's dis does too), and
# PyPy counts a jump from the depth after the instruction.
KNOWN = {
    "cpython-3.6": {"FOR_ITER", "JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP", "SETUP_EXCEPT", "SETUP_FINALLY",
                    "SETUP_WITH", "SETUP_ASYNC_WITH", "END_FINALLY", "POP_EXCEPT", "WITH_CLEANUP_START",
                    "WITH_CLEANUP_FINISH"},
    "cpython-3.7": {"FOR_ITER", "JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP", "SETUP_EXCEPT", "SETUP_FINALLY",
                    "SETUP_WITH", "SETUP_ASYNC_WITH"},
    "cpython-3.10": {"GEN_START"},
    "cpython-3.11": {"RETURN_GENERATOR"},
    "cpython-3.12": {"RETURN_GENERATOR"},
}


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_stack_effects_are_the_interpreters(key: str, oracle_for: OracleFor) -> None:
    from pycfile._stackeffect import stack_effect

    oracle = oracle_for(key)
    interpreter = oracle.interpreter
    answer = oracle.call("stack_effects", args=STACK_ARGS)
    if answer["effects"] is None:
        pytest.skip(f"{key} has no dis.stack_effect (its table comes from CPython's sources)")
    version = interpreter.version
    table_key = f"{interpreter.implementation}-{interpreter.major}.{interpreter.minor}"
    pypy = interpreter.implementation == "pypy"
    wrong: List[str] = []
    checked = 0
    for opname, entry in answer["effects"].items():
        if opname in KNOWN.get(table_key, ()) or (pypy and opname.startswith(("JUMP_IF_", "POP_JUMP", "FOR_ITER", "SETUP_"))):
            continue
        args = STACK_ARGS if len(entry["plain"]) > 1 else [None]
        for i, arg in enumerate(args):
            for jump, values in ((None, entry["plain"]), (True, entry.get("jump")), (False, entry.get("nojump"))):
                if values is None or values[i] is None:
                    continue
                checked += 1
                ours = stack_effect(opname, arg, version, jump=jump)
                if ours != values[i]:
                    wrong.append(f"{opname}({arg}, jump={jump}): {values[i]} there, {ours} here")
    assert checked > 1000
    assert not wrong, f"{len(wrong)} differ:\n" + "\n".join(wrong[:20])


# -- bad edits -------------------------------------------------------------------------------

HOST = pycfile.PythonVersion(3, 12)


def _host_has_table() -> bool:
    try:
        pycfile.opcode_table(tuple(__import__("sys").version_info[:2]))
    except pycfile.NoOpcodeTableError:
        return False
    return True


HOST_TABLE = pytest.mark.skipif(not _host_has_table(), reason="pycfile has no opcode table for the running Python yet")


def _host_code() -> Code:
    source = "def f(xs):\n    for x in xs:\n        try:\n            print(-x)\n        except E:\n            pass\n"
    module = pycfile.from_code(compile(source, "m.py", "exec"))
    return next(c for c in module.walk() if pycfile.to_python(getattr(c, "co_name")) == "f")


_HOST_CODE = _host_code()
_HOST_VERSION = pycfile.PythonVersion(*__import__("sys").version_info[:2])


def _raises(instructions: List[Instruction], match: str) -> AssembleError:
    with pytest.raises(AssembleError, match=match) as info:
        assemble(_HOST_CODE, instructions, _HOST_VERSION)
    return info.value


@HOST_TABLE
def test_unknown_opname_says_which_instruction() -> None:
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    instructions.insert(3, new_instruction("NO_SUCH_OP"))
    error = _raises(instructions, "no opcode named 'NO_SUCH_OP'")
    assert error.index == 3 and error.path == "instructions[3]"
    assert "instruction 3 (NO_SUCH_OP" in str(error)


@HOST_TABLE
def test_argument_that_does_not_fit() -> None:
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    at = next(i for i, ins in enumerate(instructions) if ins.opname == "LOAD_FAST" or ins.opname.startswith("LOAD_FAST"))
    instructions[at] = attrs.evolve(instructions[at], arg=1 << 32)
    assert _raises(instructions, "does not fit").index == at
    instructions[at] = attrs.evolve(instructions[at], arg=None)
    assert _raises(instructions, "takes an argument").index == at
    instructions[at] = attrs.evolve(instructions[at], arg="x")
    assert _raises(instructions, "must be an int").index == at


@HOST_TABLE
def test_argument_given_to_an_instruction_without_one() -> None:
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    instructions.insert(2, new_instruction("NOP", 5))
    assert _raises(instructions, "takes no argument").index == 2


@HOST_TABLE
def test_jump_to_nowhere() -> None:
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    at = next(i for i, ins in enumerate(instructions) if ins.jump_target is not None)
    target = instructions[at].jump_target
    error = _raises(instructions[:at] + [attrs.evolve(instructions[at], jump_target=9999)] + instructions[at + 1 :], "offset 9999")
    assert error.index == at
    removed = [ins for ins in instructions if ins.offset != target]
    assert _raises(removed, f"jump to offset {target}").index is not None
    instructions.insert(1, new_instruction("JUMP_FORWARD"))
    assert _raises(instructions, "needs jump_target").index == 1


@HOST_TABLE
def test_jump_the_wrong_way() -> None:
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    first = instructions[0].offset
    instructions.append(new_instruction("JUMP_FORWARD", jump_target=first))
    assert _raises(instructions, "jumps forward only").index == len(instructions) - 1


@HOST_TABLE
def test_removed_exception_handler() -> None:
    entries = _HOST_CODE.exception_table(_HOST_VERSION)
    if not entries:
        pytest.skip("the host has no exception table (before 3.11)")
    handler = entries[0].target
    instructions = [ins for ins in get_instructions(_HOST_CODE, _HOST_VERSION) if ins.offset != handler]
    with pytest.raises(AssembleError, match=f"exception handler at offset {handler}"):
        assemble(_HOST_CODE, instructions, _HOST_VERSION)


def test_wrong_argument_types() -> None:
    with pytest.raises(TypeError):
        assemble("code", [], _HOST_VERSION)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        assemble(_HOST_CODE, [1], _HOST_VERSION)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        new_instruction(5)  # type: ignore[arg-type]


def test_new_instructions_have_unique_negative_offsets() -> None:
    a, b = new_instruction("NOP"), new_instruction("LOAD_CONST", 0)
    assert a.offset < 0 and b.offset < 0 and a.offset != b.offset
    assert (b.opname, b.arg, b.opcode) == ("LOAD_CONST", 0, -1)


@HOST_TABLE
def test_a_jump_to_a_new_instruction() -> None:
    """A new jump over a new instruction: the jump names the new one by its offset."""
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    skipped = new_instruction("NOP")
    landing = new_instruction("NOP")
    jump = new_instruction("JUMP_FORWARD", jump_target=landing.offset)
    at = 2
    instructions[at:at] = [jump, skipped, landing]
    new = assemble(_HOST_CODE, instructions, _HOST_VERSION)
    listed = get_instructions(new, _HOST_VERSION)
    jumped = next(ins for ins in listed if ins.opname == "JUMP_FORWARD")
    position = listed.index(jumped)
    assert jumped.jump_target == listed[position + 2].offset


@HOST_TABLE
def test_code_left_unchanged() -> None:
    before = pycfile.marshal.dumps(_HOST_CODE, version=_HOST_VERSION)
    instructions = get_instructions(_HOST_CODE, _HOST_VERSION)
    instructions.insert(1, new_instruction("NOP"))
    new = assemble(_HOST_CODE, instructions, _HOST_VERSION)
    assert pycfile.marshal.dumps(_HOST_CODE, version=_HOST_VERSION) == before
    assert getattr(new, "co_code") != getattr(_HOST_CODE, "co_code")


# -- inserting instructions keeps everything else -------------------------------------------


def _handler(code: Code, version: Any, offset: int) -> Optional[Tuple[int, int, bool]]:
    for entry in code.exception_table(version):
        if entry.start <= offset < entry.end:
            return entry.target, entry.depth, entry.lasti
    return None


def _insertion_problems(code: Code, version: Any, every: int) -> List[str]:
    """Put a NOP after every ``every``-th instruction and check that every original
    instruction keeps its opcode, argument, line, exception handler and jump target."""
    before = get_instructions(code, version)
    edited: List[Instruction] = []
    for i, ins in enumerate(before):
        edited.append(ins)
        if i % every == every - 1 and ins.opname != "EXTENDED_ARG":
            edited.append(new_instruction("NOP"))
    try:
        new = assemble(code, edited, version)
    except AssembleError as e:
        return [f"AssembleError: {e}"]
    after = get_instructions(new, version)
    # the originals, in order, are the instructions of ``after`` that are not new NOPs
    added = {id(ins) for ins in edited if ins.offset < 0}
    real_after = [ins for ins in after if ins.opname != "EXTENDED_ARG"]
    real_before = [ins for ins in before if ins.opname != "EXTENDED_ARG"]
    plain_edited = [ins for ins in edited if ins.opname != "EXTENDED_ARG"]
    if len(real_after) != len(plain_edited):
        return [f"{len(real_after)} instructions after, {len(plain_edited)} given"]
    new_of: Dict[int, Instruction] = {}
    it = iter(real_after)
    for ins in plain_edited:
        out = next(it)
        if id(ins) not in added:
            new_of[ins.offset] = out
    problems = []
    unit_start: Dict[int, int] = {}  # an instruction's offset -> its first EXTENDED_ARG's
    pending: List[int] = []
    for ins in before:
        if ins.opname == "EXTENDED_ARG":
            pending.append(ins.offset)
            continue
        unit_start[ins.offset] = pending[0] if pending else ins.offset
        pending = []
    for ins in real_before:
        out = new_of[ins.offset]
        if (out.opname, out.line_number) != (ins.opname, ins.line_number):
            problems.append(f"offset {ins.offset}: {ins.opname} line {ins.line_number} became {out.opname} line {out.line_number}")
        if ins.jump_target is None:
            if out.arg != ins.arg:
                problems.append(f"offset {ins.offset}: {ins.opname} arg {ins.arg} became {out.arg}")
        else:
            target = next((b for b in real_before if unit_start[b.offset] == ins.jump_target), None)
            expected = new_of[target.offset] if target is not None else None
            landed = next((a for a in after if a.offset == out.jump_target), None)
            if expected is None or landed is None or (landed.offset != expected.offset and landed.opname != "EXTENDED_ARG"):
                problems.append(f"offset {ins.offset}: {ins.opname} to {ins.jump_target} now goes to {out.jump_target}")
        was, now = _handler(code, version, unit_start[ins.offset]), _handler(new, version, out.offset)
        if (was is None) != (now is None) or (was and now and (was[1:] != now[1:])):
            problems.append(f"offset {ins.offset}: handler {was} became {now}")
    if getattr(new, "co_stacksize", 0) < getattr(code, "co_stacksize", 0):
        problems.append("co_stacksize shrank")
    return problems


def _insertion_check(files: List[Path], every: int = 3) -> List[str]:
    problems: List[str] = []
    for path in files:
        pyc = pycfile.load(path)
        try:
            table = pycfile.opcode_table(pyc.version)
        except pycfile.NoOpcodeTableError:
            continue
        if "NOP" not in table.opmap:
            continue
        assert isinstance(pyc.code, Code)
        for code in pyc.code.walk():
            found = _insertion_problems(code, pyc.format, every)
            problems += [f"{path.name} {pycfile.to_python(getattr(code, 'co_name'))!r}: {p}" for p in found[:3]]
    return problems


@pytest.mark.parametrize("folder", [p.name for p in _sample_dirs()] or ["(no shared samples)"])
def test_samples_take_inserted_instructions(folder: str) -> None:
    directory = SHARED_SAMPLES / folder
    if not directory.is_dir():
        pytest.skip(f"no {SHARED_SAMPLES}")
    problems = _insertion_check(sorted(directory.glob("*.pyc")))
    assert not problems, "\n".join(problems[:10])


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_corpus_takes_inserted_instructions(key: str) -> None:
    """The same on every 50th stdlib pyc (optimize 0) of each interpreter."""
    interpreter = require(key)
    _no_table_skip(interpreter.version)
    part = corpus_part(interpreter, Mode(0))
    problems = _insertion_check(part.samples + part.stdlib[:: 50 if every_pyc() else 5])
    assert not problems, "\n".join(problems[:10])


# -- any list of instructions: assembled, or an AssembleError -------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TABLE_VERSIONS = [v for v in pycfile.opcode_table_versions() if pycfile.format_for_version(v).code_layout is not None]


def _blank_code(version: pycfile.PythonVersion) -> Code:
    """A code object of the version's layout with a few constants, names and variables
    and empty tables."""
    layout = pycfile.format_for_version(version).code_layout
    assert layout is not None
    cls = pycfile.code_class(layout)
    text = (lambda s: pycfile.Bytes(s.encode(), "s")) if version.major < 3 else (lambda s: pycfile.Str(s, "u"))
    fields: Dict[str, Any] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        name = field.name
        if name == "flag_ref":
            continue
        if field.type in ("int", int):
            fields[name] = 1 if name == "co_firstlineno" else 0
        elif name == "co_consts":
            fields[name] = pycfile.TupleValue([pycfile.Int(i) for i in range(4)])
        elif name in ("co_names", "co_varnames", "co_localsplusnames", "co_cellvars", "co_freevars"):
            fields[name] = pycfile.TupleValue([text(f"n{i}") for i in range(4)])
        elif name == "co_localspluskinds":
            fields[name] = pycfile.Bytes(bytes([0x20] * 4))
        elif name in ("co_filename", "co_name", "co_qualname"):
            fields[name] = text("x")
        else:
            fields[name] = pycfile.Bytes(b"")
    return cls(**fields)


@st.composite
def _programs(draw: Any) -> Tuple[pycfile.PythonVersion, List[Instruction]]:
    version = draw(st.sampled_from(TABLE_VERSIONS))
    table = pycfile.opcode_table(version)
    names = sorted(n for n, op in table.opmap.items() if op < 256)
    count = draw(st.integers(1, 12))
    made = [new_instruction("NOP" if "NOP" in table.opmap else names[0]) for _ in range(count)]
    out: List[Instruction] = []
    for ins in made:
        name = draw(st.sampled_from(names + ["NO_SUCH_OP"]))
        op = table.opmap.get(name, 0)
        arg = draw(st.one_of(st.none(), st.integers(0, 3), st.integers(0, 2**33)))
        target = draw(st.one_of(st.none(), st.sampled_from([m.offset for m in made] + [9999])))
        if table.has_arg(op) and arg is None and draw(st.booleans()):
            arg = 0
        out.append(attrs.evolve(ins, opname=name, arg=arg, jump_target=target))
    return version, out


@settings(max_examples=300, deadline=None)
@given(_programs())
def test_any_instruction_list_assembles_or_says_why(program: Tuple[pycfile.PythonVersion, List[Instruction]]) -> None:
    version, instructions = program
    code = _blank_code(version)
    try:
        new = assemble(code, instructions, version)
    except AssembleError as error:
        assert error.index is None or 0 <= error.index < len(instructions)
        return
    table = pycfile.opcode_table(version)
    listed = [ins for ins in get_instructions(new, version) if ins.opname != "EXTENDED_ARG"]
    given_ops = [ins for ins in instructions if ins.opname != "EXTENDED_ARG"]
    assert [ins.opname for ins in listed] == [ins.opname for ins in given_ops]
    for old, now in zip(given_ops, listed):
        if now.jump_target is None and table.has_arg(table.opmap[old.opname]):
            assert now.arg == old.arg
    assert pycfile.marshal.loads(pycfile.marshal.dumps(new, version=version), version=version) == new
