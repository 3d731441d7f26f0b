"""The bridge to live code objects of the running interpreter: ``from_code`` models one
byte for byte as its own ``marshal.dumps`` writes it, ``to_code`` gives a live one back
(for the host's own version only), ``from_python`` takes values holding live code, and
an edit through ``assemble`` is seen when the live code runs."""

from __future__ import annotations

import importlib.util
import marshal
import types
from typing import List

import attrs
import pytest

import pycfile
from pycfile import Code, HostCodeError, assemble, from_code, get_instructions, new_instruction, to_code
from pycfile._hostcode import host_format, host_version

HOST = host_version()

SOURCE = '''
import os

class C:
    """doc"""
    def method(self, x, *args, key=None, **kw):
        return [y * 2 for y in args if y], {k: v for k, v in kw.items()}

def gen(n):
    for i in range(n):
        try:
            yield i + 1
        except ValueError:
            return -1

async def coro(xs):
    async with xs as y:
        return y

def add(a, b):
    return a + b

VALUES = (1, 2.5, 3j, "text", b"bytes", None, ..., frozenset({1, 2}), 10**40)
'''


def _marshal(code: types.CodeType) -> bytes:
    """``marshal.dumps(code)`` called as from_code calls it: CPython sets FLAG_REF on an
    object from its reference count at that moment, and this frame holds one more, as
    from_code's does (called directly, an object only a local holds is not flagged)."""
    return marshal.dumps(code)


def _stdlib_code_objects() -> List[types.CodeType]:
    out = []
    for name in ("argparse", "json.decoder", "typing", "dataclasses", "asyncio.tasks"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        with open(spec.origin, "rb") as f:
            out.append(compile(f.read(), spec.origin, "exec"))
    return out


@pytest.mark.parametrize("index", range(6))
def test_from_code_is_what_marshal_writes(index: int) -> None:
    code = ([compile(SOURCE, "m.py", "exec")] + _stdlib_code_objects())[index]
    model = from_code(code)
    assert isinstance(model, Code) and model.layout == host_format().code_layout
    assert pycfile.marshal.dumps(model, version=HOST) == _marshal(code)
    assert to_code(model) == code  # (its marshal bytes may differ: CPython flags by reference counts)


def test_nested_code_objects_and_the_functions_of_a_module() -> None:
    namespace: dict = {}
    exec(compile(SOURCE, "m.py", "exec"), namespace)
    for function in (namespace["add"], namespace["gen"], namespace["C"].method):
        model = from_code(function.__code__)
        assert pycfile.marshal.dumps(model, version=HOST) == _marshal(function.__code__)


def test_an_assembled_edit_runs_in_the_host() -> None:
    try:
        pycfile.opcode_table(HOST)
    except pycfile.NoOpcodeTableError:
        pytest.skip(f"pycfile has no opcode table for {HOST} yet")
    namespace: dict = {}
    exec(compile(SOURCE, "m.py", "exec"), namespace)
    add = namespace["add"]
    model = from_code(add.__code__)
    out = []
    table = pycfile.opcode_table(HOST)
    symbols = [symbol for _, symbol in table.nb_ops]
    for ins in get_instructions(model, HOST):
        if ins.opname == "BINARY_ADD":
            ins = attrs.evolve(ins, opname="BINARY_MULTIPLY")
        elif ins.opname == "BINARY_OP" and symbols[ins.arg or 0] == "+":
            ins = attrs.evolve(ins, arg=symbols.index("*"))
        out.append(ins)
    out.insert(len(out) - 1, new_instruction("UNARY_NEGATIVE"))  # before the return
    edited = types.FunctionType(to_code(assemble(model, out, HOST)), namespace)
    assert add(3, 4) == 7 and edited(3, 4) == -12


def test_to_code_refuses_other_versions() -> None:
    other = (3, 10) if HOST != (3, 10) else (3, 12)
    module = pycfile.from_code(compile("x = 1", "m.py", "exec"))
    with pytest.raises(HostCodeError, match="running"):
        to_code(module, version=other)
    assert to_code(module, version=HOST) == compile("x = 1", "m.py", "exec")
    with pytest.raises(TypeError):
        to_code(pycfile.Singleton("N"))  # type: ignore[arg-type]


def test_to_code_refuses_a_model_of_another_layout() -> None:
    layouts = [layout for layout in pycfile.CodeLayout if layout != host_format().code_layout]
    cls = pycfile.code_class(layouts[0])
    fields: dict = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        if field.name != "flag_ref":
            fields[field.name] = 0 if field.type in ("int", int) else pycfile.Bytes(b"")
    with pytest.raises(HostCodeError, match="layout"):
        to_code(cls(**fields))


def test_to_code_refuses_what_marshal_refuses() -> None:
    model = from_code(compile("x = 1", "m.py", "exec"))
    broken = attrs.evolve(model, co_consts=pycfile.Int(5))  # type: ignore[misc]
    with pytest.raises(HostCodeError):
        to_code(broken)
    unwritable = attrs.evolve(model, co_name=pycfile.Int(1 << 40))  # type: ignore[misc]
    with pytest.raises(HostCodeError):
        to_code(unwritable)


def test_wrong_argument_types() -> None:
    with pytest.raises(TypeError, match="__code__"):
        from_code(lambda: 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_code(compile("1", "m", "eval"))  # type: ignore[arg-type]


def test_from_python_takes_live_code_objects() -> None:
    code = compile("def f():\n    return 42\n", "m.py", "exec")
    value = pycfile.from_python((1, code, [code]), HOST)
    assert isinstance(value, pycfile.TupleValue)
    alone = from_code(code)
    held = attrs.evolve(value.items[1], flag_ref=alone.flag_ref)  # more holders: flagged
    assert pycfile.marshal.dumps(held, version=HOST) == pycfile.marshal.dumps(alone, version=HOST)
    assert to_code(value.items[1]) == code
    other = (3, 10) if HOST != (3, 10) else (3, 12)
    with pytest.raises(HostCodeError, match="running"):
        pycfile.from_python((1, code), other)
