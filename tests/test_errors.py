"""The error hierarchy: every error pickles to an equal one (process pools), one way of
naming the version, the classes defined in one place, and wrong arguments refused."""

from __future__ import annotations

import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, List

import pytest

import pycfile
import pycfile._errors
from pycfile import Int, PycError

from fuzz_harness import load_module

hostile = load_module("hostile")

_VERSION_TEXT = re.compile(r"^(CPython|PyPy) \d+\.\d+, magic \d+$")


def _raised(call: Callable[[], Any]) -> PycError:
    with pytest.raises(PycError) as info:
        call()
    return info.value


def _real_errors() -> List[PycError]:
    """One error of each class, raised by pycfile itself."""
    fmt = pycfile.format_for_version((3, 12))
    return [
        _raised(lambda: pycfile.loads(b"\x01\x02\r\n")),  # UnknownMagicError
        _raised(lambda: pycfile.loads(b"\x00\x00\x00\x00")),  # NotPycError
        _raised(lambda: pycfile.loads(bytes.fromhex("03f30d0a00"))),  # TruncatedError
        _raised(lambda: pycfile.marshal.loads(b"q", version=(3, 12))),  # BadMarshalError
        _raised(lambda: pycfile.marshal.loads(hostile.deep_stream(2100), version=(3, 12))),  # NestingTooDeepError
        _raised(lambda: pycfile.decode_exception_table(b"\x82\x0a")),  # BadTableError
        _raised(lambda: pycfile.marshal.dumps(Int(1 << 40), version=(3, 12))),  # UnwritableError
        _raised(lambda: pycfile.PycHeader(fmt.magic, fmt, flags=0).to_bytes()),  # UnwritableError, no offset
        _raised(lambda: pycfile.opcode_table((1, 5))),  # NoOpcodeTableError
        pycfile.BadHeaderError("a header field", offset=4, path="header.flags", version="CPython 3.12, magic 3531"),
        pycfile.BadPycError("bad"),
        PycError("base"),
    ]


def _same(a: PycError, b: PycError) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b) and a.args == b.args
    assert vars(a) == vars(b)  # reason, offset, path, version, and magic where it has one


def _classes() -> List[type]:
    return [c for c in vars(pycfile._errors).values() if isinstance(c, type) and issubclass(c, PycError)]


def _made_errors() -> List[PycError]:
    """One error of every class, made by hand with every attribute set."""
    made: List[PycError] = []
    for cls in _classes():
        if cls is pycfile.UnknownMagicError:
            made.append(cls(b"\x01\x02\r\n", offset=3))
        elif cls is pycfile.NotPycError:
            made.append(cls(b"impo", "text"))
        elif cls is pycfile.NotRegularFileError:
            made.append(cls("/tmp/fifo.pyc", "FIFO"))
        elif cls is pycfile.AssembleError:
            made.append(cls("why", index=1, offset=7, version="CPython 3.12, magic 3531"))
        else:
            made.append(cls("why", offset=7, path="code.co_consts[1]", version="CPython 3.12, magic 3531"))
    return made


def test_real_errors_cover_the_usual_classes() -> None:
    classes = {type(e) for e in _real_errors()}
    assert {pycfile.UnknownMagicError, pycfile.TruncatedError, pycfile.BadTableError, pycfile.NoOpcodeTableError} <= classes


@pytest.mark.parametrize("error", _real_errors() + _made_errors(), ids=lambda e: type(e).__name__)
def test_errors_pickle_equal(error: PycError) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        _same(error, pickle.loads(pickle.dumps(error, protocol)))


def test_unknown_magic_keeps_its_magic() -> None:
    error = _raised(lambda: pycfile.loads(b"\x01\x02\r\n" + bytes(12)))
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, pycfile.UnknownMagicError) and copy.magic == b"\x01\x02\r\n" and copy.offset == 0


def _load_unknown_magic() -> None:
    pycfile.loads(b"\x00\x00\x00\x00")


def test_errors_cross_a_process_pool() -> None:
    with ProcessPoolExecutor(1) as pool:
        error = pool.submit(_load_unknown_magic).exception()
    assert isinstance(error, pycfile.UnknownMagicError) and error.magic == b"\x00\x00\x00\x00"


def test_errors_are_named_where_users_import_them() -> None:
    for cls in _classes():
        assert cls.__module__ == "pycfile" and getattr(pycfile, cls.__qualname__) is cls

    class Mine(PycError):  # a user's own subclass keeps its own module
        pass

    assert Mine.__module__ == __name__


def test_moved_errors_are_the_same_classes_everywhere() -> None:
    from pycfile import _exceptiontable, _linetable, _opcodes

    assert _linetable.BadTableError is _exceptiontable.BadTableError is pycfile.BadTableError
    assert issubclass(pycfile.BadTableError, pycfile.BadPycError)
    assert _opcodes.NoOpcodeTableError is pycfile.NoOpcodeTableError
    assert issubclass(pycfile.NoOpcodeTableError, (PycError)) and issubclass(pycfile.NoOpcodeTableError, LookupError)
    assert not issubclass(pycfile.NoOpcodeTableError, pycfile.BadPycError)


def test_one_version_text_everywhere() -> None:
    texts = [e.version for e in _real_errors()[:8] if e.version is not None]
    assert len(texts) == 4  # the header, the reader (twice), the writer
    trailing = _raised(lambda: pycfile.marshal.loads(b"N\x00", version=(2, 7)))
    texts.append(trailing.version)
    for text in texts:
        assert text is not None and _VERSION_TEXT.match(text), text
    assert trailing.version == "CPython 2.7, magic 62211"
    assert pycfile._errors.version_text(pycfile.format_for_version((3, 9))) == "CPython 3.9, magic 3425"


def test_loads_prefix_offsets() -> None:
    data = b"NT"
    assert pycfile.marshal.loads_prefix(data, version=(3, 12), offset=1)[1] == 2
    with pytest.raises(ValueError, match="0 or more"):
        pycfile.marshal.loads_prefix(data, version=(3, 12), offset=-1)  # not counted from the end
    with pytest.raises(TypeError):
        pycfile.marshal.loads_prefix(data, version=(3, 12), offset="1")  # type: ignore[arg-type]
    with pytest.raises(pycfile.TruncatedError) as info:
        pycfile.marshal.loads_prefix(data, version=(3, 12), offset=2)
    assert info.value.offset == 2


@pytest.mark.parametrize("data", [5, "text", None, 2.0])
def test_data_that_is_not_bytes_is_a_type_error(data: Any) -> None:
    for call in (
        lambda: pycfile.loads(data),
        lambda: pycfile.marshal.loads(data, version=(3, 12)),
        lambda: pycfile.marshal.loads_prefix(data, version=(3, 12)),
    ):
        with pytest.raises(TypeError):
            call()


def test_bytes_like_data_is_read() -> None:
    data = pycfile.marshal.dumps(Int(7), version=(3, 12))
    for form in (bytearray(data), memoryview(data)):
        assert pycfile.marshal.loads(form, version=(3, 12)) == Int(7)
