"""Opcode tables: equal to each real interpreter's own ``opcode`` module (CPython 2.7,
3.6-3.15, PyPy 3.9), and (for the versions with no interpreter here) consistent with
every real pyc in shared/samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Set

import pytest

import pycfile
from pycfile import Code, opcode_table

from interpreters import REQUIRED, require
from oracle import OracleFor
import shared_samples

GROUPS = ("hasconst", "hasname", "hasjrel", "hasjabs", "haslocal", "hascompare", "hasfree", "hasnargs", "hasexc")


@pytest.mark.interpreters
@pytest.mark.parametrize("key", REQUIRED)
def test_table_equals_the_interpreters_opcode_module(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    facts: Dict[str, Any] = oracle_for(interpreter).call("opcode_facts")
    table = opcode_table(interpreter.version)
    assert dict(table.opmap) == facts["opmap"]
    assert table.have_argument == facts["HAVE_ARGUMENT"]
    assert table.extended_arg == facts["EXTENDED_ARG"]
    assert list(table.cmp_op) == facts["cmp_op"]
    def numbers(names: List[str]) -> Set[int]:  # "<148>": a number the module lists unnamed
        return {facts["opmap"][n] if n in facts["opmap"] else int(n.strip("<>")) for n in names}

    for group in GROUPS:
        assert set(getattr(table, group)) == numbers(facts.get(group, [])), group
    if "hasarg" in facts:
        assert set(table.hasarg) == numbers(facts["hasarg"])
    else:  # before 3.12 an opcode (3.11: its base opcode) takes an argument when >= HAVE_ARGUMENT
        wrong = [op for op in range(256) if table.has_arg(op) != (table.deopt.get(op, op) >= facts["HAVE_ARGUMENT"])]
        assert not wrong
    cache = {table.name(op): n for op, n in table.cache.items()}
    assert cache == facts.get("cache", {})
    assert [list(p) for p in table.nb_ops] == facts.get("nb_ops", [])
    assert list(table.intrinsic_1) == facts.get("intrinsic_1_descs", [])
    assert list(table.intrinsic_2) == facts.get("intrinsic_2_descs", [])
    for base, family in facts.get("specializations", {}).items():
        for name in family:
            number = facts["all_opmap"][name]
            assert table.name(number) == name
            assert table.deopt[number] == facts["opmap"][base]
    # what dis adds: backward jumps (3.11+), flag names, LOAD_COMMON_CONSTANT/LOAD_SPECIAL (3.14+)
    assert {table.name(op) for op in table.backward} == set(facts.get("backward", []))
    assert list(table.make_function_flags) == facts.get("make_function_flags", [])
    assert list(table.function_attr_flags) == facts.get("function_attr_flags", [])
    assert [[text, list(value)] for text, value in table.common_constants] == facts.get("common_constants", [])
    assert list(table.special_method_names) == facts.get("special_method_names", [])
    if "printable" in facts:  # 3.x: the characters repr() shows as they are
        assert table.unicode_version == facts["printable"]["unicode"]
        assert list(table.printable) == facts["printable"]["bounds"]
    assert table.source == f"the {interpreter.implementation} {interpreter.full_version} interpreter's opcode module"


@pytest.mark.parametrize("version", pycfile.opcode_table_versions(), ids=str)
def test_tables_are_consistent(version: pycfile.PythonVersion) -> None:
    table = opcode_table(version)
    real = {n: op for n, op in table.opmap.items() if op < 256}
    assert len(set(real.values())) == len(real), "two opcodes share a number"
    assert table.extended_arg is not None and table.name(table.extended_arg) == "EXTENDED_ARG"
    assert table.has_arg(table.extended_arg)
    for group in GROUPS:
        for op in getattr(table, group):
            # (3.12's own opcode.hasfree keeps 148, LOAD_CLASSDEREF's old number)
            assert table.is_known(op) or "interpreter" in table.source, (group, op)
            if op < 256 and group != "hasexc":
                assert table.has_arg(op), (group, table.name(op))
    assert not (table.hasjrel & table.hasjabs)
    assert table.wordcode == (version >= (3, 6))


def test_versions_without_a_table() -> None:
    with pytest.raises(pycfile.NoOpcodeTableError):
        opcode_table((1, 5))
    with pytest.raises(pycfile.NoOpcodeTableError):
        opcode_table(pycfile.PythonVersion(3, 8, "pypy"))


def _check_code(code: Code, version: pycfile.PythonVersion, where: str) -> List[str]:
    problems = []
    instructions = pycfile.get_instructions(code, version)
    data = getattr(code, "co_code").value
    offsets = {i.offset for i in instructions}
    if sum(i.size for i in instructions) != len(data):
        problems.append(f"{where}: instructions cover {sum(i.size for i in instructions)} of {len(data)} bytes")
    for ins in instructions:
        if ins.opname == "CACHE" and version >= (3, 11):
            # dis skips inline caches: one decoded as an instruction means the cache
            # count of the instruction before it is wrong.
            problems.append(f"{where} @{ins.offset}: a CACHE entry read as an instruction")
        if ins.note:
            problems.append(f"{where} @{ins.offset} {ins.opname}: {ins.note}")
        if ins.jump_target is not None and ins.jump_target not in offsets:
            problems.append(f"{where} @{ins.offset} {ins.opname}: jump to {ins.jump_target}, not an instruction")
    if instructions and version >= (3, 0) and instructions[-1].opname not in (
        "RETURN_VALUE", "RETURN_CONST", "RERAISE", "RAISE_VARARGS", "JUMP_BACKWARD", "JUMP_ABSOLUTE",
        "JUMP_FORWARD", "POP_EXCEPT", "END_FINALLY", "YIELD_VALUE", "POP_TOP", "NOP", "JUMP_BACKWARD_NO_INTERRUPT",
        "END_ASYNC_FOR", "CALL_INTRINSIC_1", "CLEANUP_THROW",
    ):
        problems.append(f"{where}: ends with {instructions[-1].opname}")
    return problems


@pytest.mark.parametrize("folder", shared_samples.params(shared_samples.folders(), lambda p: p.name))
def test_tables_decode_the_real_samples(folder: Path) -> None:
    """Every code object of every real pyc of a version with a table decodes cleanly:
    known opcodes only, indices in range, every jump landing on an instruction, the
    instructions (with their inline caches) covering the bytecode exactly."""
    problems: List[str] = []
    checked = 0
    for path in sorted(folder.glob("*.pyc")):
        try:
            pyc = pycfile.loads(path.read_bytes())
        except pycfile.PycError:
            continue  # the core's own tests cover unreadable samples
        if pyc.version < (2, 3):  # tables start at 2.3: older versions must say so, not guess
            with pytest.raises(pycfile.NoOpcodeTableError):
                opcode_table(pyc.version)
            checked += 1
            continue
        opcode_table(pyc.version)
        assert isinstance(pyc.code, Code)
        for index, code in enumerate(pyc.code.walk()):
            checked += 1
            problems.extend(_check_code(code, pyc.version, f"{path.name}#{index}"))
    assert checked, f"no readable samples in {folder.name}"
    assert not problems, f"{len(problems)} problems in {checked} code objects:\n" + "\n".join(problems[:15])
