"""to_python and from_python on deep, cyclic and unhashable values (issue 13).

Both walk values on explicit stacks: no RecursionError at any depth a reader or writer
accepts, on a thread with a small stack, and the recursion limit is never touched.  (That
from_python writes what each interpreter writes is tests/test_oracle_values.py.)
"""

from __future__ import annotations

import marshal as host_marshal
import sys
import threading
from typing import Any, Callable, List

import pytest

import pycfile
from pycfile import ListValue, SetValue, Singleton, TupleValue

V3 = (3, 12)


def on_small_stack(fn: Callable[[], Any], stack_bytes: int = 512 * 1024) -> Any:
    """``fn()`` on a thread with a small stack; its result or its exception."""
    results: List[Any] = []
    errors: List[BaseException] = []

    def target() -> None:
        try:
            results.append(fn())
        except BaseException as exc:
            errors.append(exc)

    old = threading.stack_size(stack_bytes)
    try:
        thread = threading.Thread(target=target)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


# ---- to_python ---------------------------------------------------------------------------


def test_a_set_holding_a_list_gets_a_stand_in() -> None:
    """A valid 3.12 stream CPython's marshal.loads cannot turn into a set."""
    model = pycfile.marshal.loads(bytes.fromhex("3c010000005b00000000"), version=V3)
    with pytest.raises(TypeError):
        host_marshal.loads(bytes.fromhex("3c010000005b00000000"))
    (member,) = pycfile.to_python(model)
    assert isinstance(member, pycfile.Unhashable)
    assert member.value == [] and member.model is model.items[0]


def test_a_dict_key_that_is_a_list_gets_a_stand_in() -> None:
    model = pycfile.marshal.loads(bytes.fromhex("7b5b000000004e30"), version=V3)
    ((key, value),) = pycfile.to_python(model).items()
    assert isinstance(key, pycfile.Unhashable) and key.value == [] and value is None
    assert key.model is model.items[0][0]


def test_a_set_holding_a_code_object() -> None:
    """As in CPython's test_marshal: the code object stays a model, in a stand-in."""
    data = host_marshal.dumps({compile("x", "<x>", "eval")})
    model = pycfile.marshal.loads(data, version=sys.version_info[:2])
    (member,) = pycfile.to_python(model)
    assert isinstance(member, pycfile.Unhashable) and member.value is member.model is model.items[0]
    assert isinstance(member.model, pycfile.Code)


def test_stand_ins_hash_by_identity() -> None:
    data = b"<\x02\x00\x00\x00[\x00\x00\x00\x00[\x00\x00\x00\x00"  # {[], []}
    members = pycfile.to_python(pycfile.marshal.loads(data, version=V3))
    assert len(members) == 2 and [m.value for m in members] == [[], []]


def test_a_set_that_contains_itself() -> None:
    model = pycfile.marshal.loads(b"\xbc\x01\x00\x00\x00r\x00\x00\x00\x00", version=V3)
    result = pycfile.to_python(model)
    (member,) = result
    assert member.value is result


def test_a_tuple_that_contains_itself_has_no_python_value() -> None:
    model = pycfile.marshal.loads(b"\xa9\x01r\x00\x00\x00\x00", version=V3)
    with pytest.raises(pycfile.NoPythonValueError) as caught:
        pycfile.to_python(model)
    assert isinstance(caught.value, ValueError) and caught.value.path == "value"
    deeper = TupleValue([Singleton("N"), TupleValue([])])
    deeper.items[1].items.append(deeper)  # type: ignore[union-attr]
    with pytest.raises(pycfile.NoPythonValueError) as caught:
        pycfile.to_python(ListValue([deeper]))
    assert caught.value.path == "value[0]"


def test_a_cycle_through_a_list_closes() -> None:
    """tuple -> list -> the tuple: the list exists first, so the tuple can be built."""
    model = pycfile.marshal.loads(b"\xa9\x01\xdb\x01\x00\x00\x00r\x00\x00\x00\x00", version=V3)
    result = pycfile.to_python(model)
    assert result[0][0] is result


@pytest.mark.parametrize("opener", [b")\x01", b"[\x01\x00\x00\x00", b">\x01\x00\x00\x00", b"<\x01\x00\x00\x00"])
def test_to_python_at_the_deepest_depth_on_a_small_stack(opener: bytes) -> None:
    depth = 1999  # plus the leaf: the deepest 3.12 reads
    data = opener * depth + b"N"
    model = pycfile.marshal.loads(data, version=V3)
    limit = sys.getrecursionlimit()
    value = on_small_stack(lambda: pycfile.to_python(model))
    assert sys.getrecursionlimit() == limit
    for _ in range(depth):
        (value,) = value
        if isinstance(value, pycfile.Unhashable):  # a set in a set
            value = value.value
    assert value is None


def test_to_python_far_deeper_than_any_reader() -> None:
    model: Any = TupleValue([])
    for _ in range(100_000):
        model = ListValue([TupleValue([model])])
    value = on_small_stack(lambda: pycfile.to_python(model))
    for _ in range(100_000):
        (value,) = value
        (value,) = value
    assert value == ()


def test_to_python_refuses_what_is_not_a_value() -> None:
    with pytest.raises(TypeError):
        pycfile.to_python([1])  # type: ignore[arg-type]
    with pytest.raises(pycfile.NoPythonValueError):
        pycfile.to_python(TupleValue([1]))  # type: ignore[list-item]
    with pytest.raises(pycfile.NoPythonValueError):
        pycfile.to_python(TupleValue([pycfile.Float(b"1.5x", "f")]))


# ---- from_python -------------------------------------------------------------------------


def nested_list(depth: int) -> List[Any]:
    value: List[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("version", [(2, 7), (3, 6), (3, 12), (3, 15)])
def test_from_python_writes_a_1500_deep_list(version: Any) -> None:
    deep = nested_list(1500)
    model = on_small_stack(lambda: pycfile.from_python(deep, version))
    data = pycfile.marshal.dumps(model, version=version)
    assert data.count(b"[") + data.count(b"\xdb") == 1500  # 3.6 flags the root


@pytest.mark.parametrize("version", [(2, 7), (3, 12)])
def test_from_python_stops_where_the_interpreter_stops(version: Any) -> None:
    """2000 objects deep is the limit (a list of 1999 lists and a None fits)."""
    pycfile.from_python(nested_list(2000), version)
    with pytest.raises(pycfile.UnwritableError, match="too deeply nested"):
        on_small_stack(lambda: pycfile.from_python(nested_list(2001), version))
    with pytest.raises(pycfile.UnwritableError, match="too deeply nested"):
        pycfile.from_python(nested_list(100_000), version)


def test_from_python_writes_a_list_that_contains_itself_with_a_reference() -> None:
    loop: List[Any] = []
    loop.append(loop)
    model = pycfile.from_python(loop, V3)
    assert isinstance(model, ListValue) and model.items[0] is model and model.flag_ref
    assert pycfile.marshal.dumps(model, version=V3) == host_marshal.dumps(loop) == bytes.fromhex("db010000007200000000")
    with pytest.raises(pycfile.UnwritableError, match="contains itself"):
        pycfile.from_python(loop, (2, 7))


def test_from_python_refuses_a_slice_that_contains_itself() -> None:
    """Its slot is reserved while it is written (CPython: "unmarshallable object")."""
    items: List[Any] = []
    loop = slice(items)
    items.append(loop)
    with pytest.raises(pycfile.UnwritableError, match="contains itself"):
        pycfile.from_python(loop, (3, 14))


def test_from_python_shares_a_shared_container() -> None:
    inner = [1]
    model = pycfile.from_python([inner, inner], V3)
    assert isinstance(model, ListValue) and model.items[0] is model.items[1] and model.items[0].flag_ref  # type: ignore[union-attr]


def test_from_python_refuses_what_marshal_never_writes() -> None:
    with pytest.raises(TypeError):
        pycfile.from_python(object(), V3)
    with pytest.raises(pycfile.UnwritableError):
        pycfile.from_python(slice(1), (3, 13))
    with pytest.raises(pycfile.UnwritableError):
        pycfile.from_python({1}, (2, 4))


def test_new_constants_are_interned_like_the_compilers() -> None:
    """replace_constants builds new constants with the code constructor's interning:
    identifier-like strings are interned (and in 3.11+ always flagged)."""
    from pycfile._plain import constant_from_python

    fmt = pycfile.format_for_version(V3)
    model = constant_from_python(("name", "not a name", ("name",)), fmt)
    assert isinstance(model, TupleValue)
    first, other, inner = model.items
    assert isinstance(inner, TupleValue) and inner.items[0] is first
    assert (first.code, first.flag_ref, other.code, other.flag_ref) == ("Z", True, "z", False)  # type: ignore[union-attr]
    assert isinstance(pycfile.from_python(("name",), V3).items[0], pycfile.Str)  # type: ignore[union-attr]
    assert pycfile.from_python(("name",), V3).items[0].code == "z"  # type: ignore[union-attr]


def test_set_items_sort_by_the_interpreters_key_bytes() -> None:
    """3.11+ sorts set items by their own marshal bytes: (300,) is ``a9 01 69 ...`` (300
    is not cached, so unflagged) and (2,) is ``a9 01 e9 ...`` (a cached small int)."""
    model = pycfile.from_python({(2,), (300,)}, (3, 13))
    assert isinstance(model, SetValue)
    assert [pycfile.to_python(item) for item in model.items] == [(300,), (2,)]
