"""``==``, ``repr``, ``diff``, ``normalize`` and ``strip_refs`` on models that are deep,
contain themselves, or share values (issue 13): no RecursionError, cycles and sharing
handled, work that grows with the number of objects, not the number of paths.

The inputs are the small byte strings of the issue, built by ``fuzz/hostile.py``.  A DAG
of 200 levels has 2**200 paths: a walk that follows paths would never finish, so these
tests fail by hanging (pytest's own timeout, or CI's) rather than by a timing assertion.
"""

from __future__ import annotations

import copy
import pickle
import re
from typing import Any, List

import attrs
import pytest

import pycfile
from pycfile import Bytes, DictValue, Float, Int, ListValue, Long, Singleton, Str, TupleValue
from pycfile._walk import children

from fuzz_harness import load_module

hostile = load_module("hostile")
V312 = (3, 12)


def _load(stream: bytes) -> Any:
    return pycfile.marshal.loads(stream, version=V312)


# -- equality -----------------------------------------------------------------------------


def test_the_self_referential_tuple_is_equal_to_another_load_of_itself() -> None:
    a = _load(hostile.self_tuple_stream())
    b = _load(hostile.self_tuple_stream())
    assert a.items[0] is a and a is not b
    assert a == b and not a != b
    assert a != _load(bytes.fromhex("a90272000000004e"))  # (itself, None): two items


def test_cycles_are_equal_when_their_structure_is() -> None:
    # t1 = (t1,) and t2 = ((t2,),) unfold to the same infinite tree: equal, as the
    # coinductive definition says; a cycle with another leaf is not.
    t1 = TupleValue([], ")")
    t1.items.append(t1)
    inner = TupleValue([], ")")
    t2 = TupleValue([inner], ")")
    inner.items.append(t2)
    assert t1 == t2
    t3 = TupleValue([Int(1)], ")")
    t3.items.append(t3)
    t4 = TupleValue([Int(2)], ")")
    t4.items.append(t4)
    assert t3 != t4 and not t3 == t4


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_deep_models_compare_without_recursion(depth: int) -> None:
    if depth <= 2000:  # the deepest a 3.x reader accepts
        a, b = _load(hostile.deep_stream(depth)), _load(hostile.deep_stream(depth))
    else:
        a, b = hostile.deep_model(depth), hostile.deep_model(depth)
    assert a == b
    innermost = b
    while innermost.items and isinstance(innermost.items[0], TupleValue):
        innermost = innermost.items[0]
    innermost.items[0] = Singleton("T")
    assert a != b


@pytest.mark.parametrize("kind", ["tuple", "list", "dict", "frozenset"])
def test_shared_values_compare_once_per_pair(kind: str) -> None:
    data = hostile.dag_pyc(200, kind)
    assert len(data) < 5000  # 2**200 paths in a few kilobytes
    a, b = pycfile.loads(data), pycfile.loads(data)
    assert a == b
    assert a != pycfile.loads(hostile.dag_pyc(200, kind, leaf="y"))


def test_equality_keeps_attrs_semantics() -> None:
    nan = Float.binary(float("nan"))
    assert nan == Float.binary(float("nan"))  # floats by their bytes: NaN equals NaN
    assert Float.binary(0.0) != Float.binary(-0.0)
    assert Int(1) != Long(1) and Int(1) != 1 and (Int(1) == 1) is False
    assert Int(7, "i", True) != Int(7, "i", False)
    assert Str("a") == Str("a") and Str("a") != Bytes(b"a")
    assert TupleValue([Int(1)]) != ListValue([Int(1)])
    assert DictValue([(Int(1), Int(2))]) == DictValue([(Int(1), Int(2))])
    assert DictValue([(Int(1), Int(2))]) != DictValue([(Int(2), Int(1))])
    assert Int.__eq__(Int(1), 1) is NotImplemented
    with pytest.raises(TypeError):
        hash(Int(1))  # mutable model classes stay unhashable
    assert hash(Singleton("N")) == hash(Singleton("N"))  # the frozen singleton keeps its hash


def test_equality_of_real_code_objects() -> None:
    data = hostile.cyclic_code_pyc()
    a, b = pycfile.loads(data), pycfile.loads(data)
    assert a == b and a.code == b.code
    b.code.co_consts.items[1].co_firstlineno = 2
    assert a != b


def test_equality_with_wrong_types_in_fields_does_not_raise() -> None:
    for _, value in hostile.hostile_models():
        assert value == value
        assert not value != value


# -- repr ---------------------------------------------------------------------------------


def test_repr_of_simple_values_is_attrs_repr() -> None:
    assert repr(_load(b"\xe9\x07\x00\x00\x00")) == "Int(value=7, code='i', flag_ref=True)"
    assert repr(TupleValue([Str("a"), Float(b"1.5", "f")], "(")) == (
        "TupleValue(items=[Str(value='a', code='u', flag_ref=False), Float(raw=b'1.5', code='f', flag_ref=False)], "
        "code='(', flag_ref=False)"
    )
    assert repr(DictValue([(Int(1), Singleton("N"))])) == (
        "DictValue(items=[(Int(value=1, code='i', flag_ref=False), Singleton(code='N', flag_ref=False))], "
        "code='{', flag_ref=False)"
    )
    assert repr(TupleValue([TupleValue([], ")")], ")")) == (
        "TupleValue(items=[TupleValue(items=[], code=')', flag_ref=False)], code=')', flag_ref=False)"
    )


def test_repr_labels_a_value_that_contains_itself() -> None:
    assert repr(_load(hostile.self_tuple_stream())) == "#1=TupleValue(items=[#1#], code=')', flag_ref=True)"


def test_repr_writes_a_shared_value_once() -> None:
    shared = Str("x", "z", True)
    assert repr(TupleValue([shared, shared, Str("x", "z", True)], ")")) == (
        "TupleValue(items=[#1=Str(value='x', code='z', flag_ref=True), #1#, Str(value='x', code='z', flag_ref=True)], "
        "code=')', flag_ref=False)"
    )
    # A DAG of n levels: each level written once (the n shared ones labelled), so the
    # text grows linearly with n, not with the 2**n paths.
    sizes = [len(repr(hostile.dag(n))) for n in (100, 200)]
    text = repr(hostile.dag(200))
    assert len(set(re.findall(r"#(\d+)=", text))) == 200 and text.count("#200#") == 1
    assert sizes[1] < 2.1 * sizes[0]


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_repr_of_deep_models(depth: int) -> None:
    value = _load(hostile.deep_stream(depth)) if depth <= 2000 else hostile.deep_model(depth)
    text = repr(value)
    assert text.count("TupleValue(") == depth - 1 and text.endswith("flag_ref=False)")


def test_repr_of_an_int_over_the_digit_limit() -> None:
    text = repr(Long(10**5000))
    assert text.startswith("Long(value=0x") and eval(text[len("Long(value="):text.index(",")]) == 10**5000


def test_repr_of_code_shows_the_shared_tuple() -> None:
    text = repr(pycfile.loads(hostile.cyclic_code_pyc()))
    assert text.startswith("PycFile(header=PycHeader(") and "co_consts=#" in text and text.count("co_name=") == 2


# -- the children walk ------------------------------------------------------------------


def test_children_of_every_kind() -> None:
    a, b, c = Int(1), Str("s"), Singleton("N")
    assert children(TupleValue([a, b])) == [a, b]
    assert children(DictValue([(a, b), (c, a)])) == [a, b, c, a]
    assert children(pycfile.FrozenDict([(a, b)])) == [a, b]
    assert children(pycfile.Slice(a, b, c)) == [a, b, c]
    assert children(a) == [] and children(c) == []
    assert children(5) is None and children(TupleValue(5)) is None  # type: ignore[arg-type]
    assert children(DictValue([(a,)])) is None  # type: ignore[list-item]
    code = hostile.code312(TupleValue([a]))
    assert children(code) == [getattr(code, name) for name, is_int in pycfile._code.code_fields(type(code)) if not is_int]


# -- diff ---------------------------------------------------------------------------------


def test_diff_of_a_code_object_that_reaches_itself() -> None:
    data = hostile.cyclic_code_pyc()
    assert len(data) < 200
    a, b = pycfile.loads(data), pycfile.loads(data)
    assert pycfile.diff(a, b) == []
    b.code.co_consts.items[1].co_firstlineno = 7
    found = pycfile.diff(a, b)
    assert [(d.kind, d.path, d.a, d.b, d.code_name) for d in found] == [
        ("field", "code.co_consts[1].co_firstlineno", 1, 7, "m.f")
    ]


@pytest.mark.parametrize("kind", ["tuple", "list", "dict", "frozenset"])
def test_diff_of_shared_values(kind: str) -> None:
    a = pycfile.loads(hostile.dag_pyc(200, kind))
    assert pycfile.diff(a, pycfile.loads(hostile.dag_pyc(200, kind))) == []
    found = pycfile.diff(a, pycfile.loads(hostile.dag_pyc(200, kind, leaf="y")))
    assert [(d.kind, d.path) for d in found] == [("const", "code.co_consts[0]")]
    assert len(str(found[0])) < 250 and len(repr(found[0])) < 5000  # bounded, not 2**200


def test_diff_of_deep_pycs() -> None:
    a = pycfile.loads(hostile.deep_pyc(1990))
    b = pycfile.loads(hostile.deep_pyc(1990))
    assert pycfile.diff(a, b) == []
    b.code.co_consts.items[0] = TupleValue([], ")")
    assert [d.kind for d in pycfile.diff(a, b)] == ["const"]


def test_diff_compares_cycles_by_shape() -> None:
    def cyclic(leaf: Any) -> pycfile.PycFile:
        t = TupleValue([leaf], ")", True)
        t.items.append(t)
        return hostile.pyc312(hostile.code312(TupleValue([t], ")")))

    assert pycfile.diff(cyclic(Int(1)), cyclic(Long(1))) == []  # type codes do not count
    assert [d.kind for d in pycfile.diff(cyclic(Int(1)), cyclic(Int(2)))] == ["const"]


def test_diff_takes_pycs() -> None:
    pyc = pycfile.loads(hostile.cyclic_code_pyc())
    with pytest.raises(TypeError):
        pycfile.diff(pyc, pyc.code)  # type: ignore[arg-type]


# -- normalize and strip_refs -----------------------------------------------------------


@pytest.mark.parametrize("same_name", [False, True])
def test_normalize_a_code_cycle_gives_a_writable_model(same_name: bool) -> None:
    pyc = pycfile.loads(hostile.cyclic_code_pyc(same_name))
    normal = pycfile.normalize(pyc)
    data = pycfile.dumps(normal)
    again = pycfile.loads(data)
    assert pycfile.diff(pyc, again) == [] and pycfile.dumps(pycfile.normalize(again)) == data
    # the two code objects stay two objects even when they are equal
    assert again.code.co_consts.items[1] is not again.code


def test_normalize_refuses_what_cannot_be_written() -> None:
    cycle = TupleValue([], "(")
    cycle.items.append(cycle)
    code_in_itself = hostile.code312(TupleValue([], ")"))
    code_in_itself.co_consts.items.append(code_in_itself)
    for value in (code_in_itself, hostile.code312(TupleValue([Int(1 << 40)], ")"))):
        with pytest.raises(pycfile.UnwritableError):
            pycfile.normalize(hostile.pyc312(value))
    # a tuple that contains itself is writable once flagged: normalize flags it
    normal = pycfile.normalize(hostile.pyc312(hostile.code312(TupleValue([cycle], ")"))))
    assert pycfile.loads(pycfile.dumps(normal)).code.co_consts.items[0].flag_ref


@pytest.mark.parametrize("kind", ["tuple", "list", "dict", "frozenset"])
def test_normalize_and_strip_refs_of_shared_values(kind: str) -> None:
    pyc = pycfile.loads(hostile.dag_pyc(200, kind))
    for made in (pycfile.normalize(pyc), pycfile.strip_refs(pyc)):
        data = pycfile.dumps(made)
        assert len(data) < 10_000
        assert pycfile.diff(pyc, pycfile.loads(data)) == []


def test_normalize_and_strip_refs_of_deep_pycs() -> None:
    pyc = pycfile.loads(hostile.deep_pyc(1990))
    assert pycfile.loads(pycfile.dumps(pycfile.strip_refs(pyc))) == pyc  # nothing was flagged
    normal = pycfile.loads(pycfile.dumps(pycfile.normalize(pyc)))
    assert pycfile.diff(pyc, normal) == [] and normal.code.co_name is normal.code.co_qualname


def test_strip_refs_keeps_a_cycle_written() -> None:
    pyc = pycfile.loads(hostile.cyclic_code_pyc())
    stripped = pycfile.strip_refs(pyc)
    assert stripped == pyc  # every flag here is used
    assert stripped.code.co_consts is not pyc.code.co_consts  # a copy


@pytest.mark.parametrize("function", [pycfile.normalize, pycfile.strip_refs])
def test_normalize_and_strip_refs_take_pycs(function: Any) -> None:
    with pytest.raises(TypeError):
        function(pycfile.loads(hostile.cyclic_code_pyc()).code)


def test_copies_keep_sharing_and_cycles() -> None:
    from pycfile._refs import copy_value

    value = _load(hostile.self_tuple_stream())
    made = copy_value(value)
    assert made is not value and made.items[0] is made and made == value
    shared = Str("s", "z", True)
    pair = copy_value(TupleValue([shared, shared]))
    assert pair.items[0] is pair.items[1] and pair.items[0] is not shared
    deep = copy_value(hostile.deep_model(100_000))
    assert deep == hostile.deep_model(100_000)


# -- models with wrong types in fields ------------------------------------------------------

@pytest.mark.parametrize("name", [name for name, _ in hostile.hostile_models()])
def test_hostile_models_in_model_functions(name: str) -> None:
    value = dict(hostile.hostile_models())[name]
    pyc = hostile.pyc312(value)
    repr(pyc)
    assert pyc == pyc
    pycfile.diff(pyc, pyc)
    for function in (pycfile.strip_refs, pycfile.normalize):
        try:
            function(pyc)
        except pycfile.PycError:
            pass


def test_walk_visits_each_code_object_once() -> None:
    pyc = pycfile.loads(hostile.cyclic_code_pyc())
    assert [pycfile.to_python(c.co_name) for c in pyc.code.walk()] == ["m", "f"]
    deep = hostile.code312(TupleValue([], ")"), "c0")
    for i in range(1, 5000):  # code objects nested 5,000 deep (by hand: no reader limit)
        deep = hostile.code312(TupleValue([deep], ")"), f"c{i}")
    assert sum(1 for _ in deep.walk()) == 5000
