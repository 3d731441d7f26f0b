"""Between live code objects of the running interpreter and pycfile's model.

:func:`from_code` models a code object the running interpreter made (``compile()``, a
function's ``__code__``); :func:`to_code` makes a live code object of a model of the
running interpreter's own version.  Both go through the interpreter's :mod:`marshal`,
so the model is exactly what ``marshal.dumps`` writes: ``pycfile.marshal.dumps(
from_code(c), version=host) == marshal.dumps(c)``.
"""

from __future__ import annotations

import marshal as _marshal
import platform
import sys
import types
from typing import Optional, Union

from ._code import Code
from ._errors import HostCodeError, PycError
from ._reader import read_value
from ._versions import PycFormat, PythonVersion, VersionLike, as_version, format_for_version
from ._writer import write_value

__all__ = ["code_constant", "from_code", "host_format", "host_version", "to_code"]


def host_version() -> PythonVersion:
    """The version of the running interpreter, as pycfile names it."""
    implementation = "pypy" if platform.python_implementation() == "PyPy" else "cpython"
    return PythonVersion(sys.version_info[0], sys.version_info[1], implementation)


def host_format() -> PycFormat:
    """The pyc format of the running interpreter's version."""
    return format_for_version(host_version())


def from_code(code: types.CodeType) -> Code:
    """The model of a live code object of the running interpreter (nested code objects
    included), byte for byte what its ``marshal.dumps`` writes.

    Raises ``TypeError`` for anything that is not a code object.
    """
    if not isinstance(code, types.CodeType):
        raise TypeError(f"from_code takes a code object, not {type(code).__name__} (a function's is its __code__)")
    fmt = host_format()
    value, _ = read_value(_marshal.dumps(code), 0, fmt, root="code")
    if not isinstance(value, Code):  # pragma: no cover - marshal wrote a code object
        raise HostCodeError(f"marshal.dumps of a code object gave a {type(value).__name__}")
    return value


def code_constant(code: types.CodeType, fmt: PycFormat) -> Code:
    """:func:`from_code` for a live code object met inside a value given to
    :func:`pycfile.from_python`: only the running interpreter's version can hold it."""
    host = host_version()
    if fmt.version != host:
        raise HostCodeError(
            f"a live code object is of the running {host}; it cannot be a constant of {fmt.version}", version=str(fmt.version)
        )
    return from_code(code)


def to_code(code: Code, version: Optional[Union[VersionLike, PycFormat]] = None) -> types.CodeType:
    """A live code object of the running interpreter from a model of its own version.

    ``version`` (optional) is the version the model is of; a model of another version
    than the running interpreter's -- another layout, or ``version`` naming another --
    raises :class:`HostCodeError`, as does a model the interpreter's ``marshal.loads``
    refuses.  The bytecode is not checked: running a code object made from bad bytecode
    can crash the interpreter.  Raises ``TypeError`` for anything that is not a model
    code object.
    """
    if not isinstance(code, Code):
        raise TypeError(f"to_code takes a pycfile code object, not {type(code).__name__}")
    host = host_version()
    fmt = host_format()
    if version is not None:
        wanted = version.version if isinstance(version, PycFormat) else as_version(version)
        if wanted != host:
            raise HostCodeError(f"the code is {wanted}; the running interpreter is {host}", version=str(wanted))
    if code.layout != fmt.code_layout:
        raise HostCodeError(
            f"a {type(code).__name__} ({code.layout.value} layout) is not a code object of the running {host}"
            f" (layout {fmt.code_layout.value if fmt.code_layout else '?'})",
            version=str(host),
        )
    try:
        data = write_value(code, fmt, root="code")
    except PycError as e:
        raise HostCodeError(f"the model cannot be written as {host}: {e}", path=e.path, version=str(host)) from None
    try:
        value = _marshal.loads(data)
    except (ValueError, EOFError, TypeError, SystemError) as e:
        raise HostCodeError(f"{host}'s marshal refuses it: {e}", version=str(host)) from None
    if not isinstance(value, types.CodeType):  # pragma: no cover - the model was a code object
        raise HostCodeError(f"marshal.loads gave a {type(value).__name__}", version=str(host))
    return value
