"""Bare marshal streams (no pyc header), for any version.

>>> import pycfile
>>> value = pycfile.marshal.loads(b"\\xe9\\x07\\x00\\x00\\x00", version=(3, 12))
>>> value
Int(value=7, code='i', flag_ref=True)
>>> pycfile.marshal.dumps(value, version=(3, 12))
b'\\xe9\\x07\\x00\\x00\\x00'
"""

from __future__ import annotations

import operator
from typing import Tuple, Union

from ._errors import BadMarshalError, version_text
from ._reader import read_value
from ._values import Value
from ._versions import PycFormat, VersionLike, format_for_version
from ._writer import write_value

__all__ = ["dumps", "loads", "loads_prefix"]


def _format(version: Union[VersionLike, PycFormat]) -> PycFormat:
    return version if isinstance(version, PycFormat) else format_for_version(version)


def _bytes(data: bytes) -> bytes:
    """``data`` as bytes; TypeError for what is not bytes-like (``bytes(5)`` would make
    five zero bytes)."""
    return data if type(data) is bytes else bytes(memoryview(data))


def loads(data: bytes, *, version: Union[VersionLike, PycFormat]) -> Value:
    """Read the one marshal value that ``data`` holds, as ``version`` wrote it.

    Bytes after the value are an error (use :func:`loads_prefix` to allow them), so
    that ``dumps(loads(data)) == data`` always holds.
    """
    fmt = _format(version)
    data = _bytes(data)
    value, end = read_value(data, 0, fmt)
    if end != len(data):
        raise BadMarshalError(
            f"{len(data) - end} bytes after the marshalled value", offset=end, version=version_text(fmt)
        )
    return value


def loads_prefix(data: bytes, *, version: Union[VersionLike, PycFormat], offset: int = 0) -> Tuple[Value, int]:
    """Read one marshal value at ``data[offset:]``; return it and the offset after it
    (like CPython's ``marshal.loads``, which ignores what follows).

    ``offset`` counts from the start of ``data``: a negative one raises ``ValueError``
    (it is not counted from the end), one that is not an int ``TypeError``, and one at or
    past the end :class:`~pycfile.TruncatedError`.
    """
    start = operator.index(offset)
    if start < 0:
        raise ValueError(f"offset must be 0 or more, not {start}")
    return read_value(_bytes(data), start, _format(version))


def dumps(value: Value, *, version: Union[VersionLike, PycFormat]) -> bytes:
    """The marshal bytes of a model value, as ``version`` stores it."""
    return write_value(value, _format(version))
