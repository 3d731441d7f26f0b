"""The optional C accelerator (``pycfile/_speedups.c``): loading it and making its plans.

The pure-Python reader and writer are the reference.  When the extension is built (and
``PYCFILE_PURE`` is not set in the environment), :func:`pycfile.loads` and
:func:`pycfile.dumps` first hand the input to it; it builds exactly the model (or the
bytes) the pure-Python code builds, or gives up on anything unusual -- every error
included -- and the pure-Python code then runs on the same input from the start.  So the
accelerator never decides what is valid, and errors always come from the pure code.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Tuple, Union

import attrs

from ._code import code_fields
from ._values import Bytes, Complex, Float, FrozenSetValue, Int, Long, SetValue, Singleton, Str
from ._values import DictValue
from ._values import ListValue
from ._values import TupleValue
from ._versions import PycFormat

__all__ = ["ACCELERATED", "ENABLED", "heads", "make_plan", "plan", "read", "write"]

_speedups: Any
try:
    if os.environ.get("PYCFILE_PURE"):
        raise ImportError("PYCFILE_PURE is set")
    from . import _speedups  # type: ignore[attr-defined, no-redef]
except ImportError:
    _speedups = None

#: Whether the C accelerator is in use (tests and benchmarks switch it off to run the
#: pure-Python code).
ENABLED: bool = _speedups is not None

#: Whether pycfile runs with its C accelerator: ``pycfile._speedups`` was built at install
#: and ``PYCFILE_PURE`` was not set when pycfile was imported.  Results are the same
#: either way; only the speed differs.
ACCELERATED: bool = ENABLED

#: ``heads(paths, size)``: each file's first ``size`` bytes, or the OSError reading it
#: raised (for scan_headers); None without the accelerator.
heads: Optional[Callable[[list[str], int], list[Union[bytes, OSError]]]] = getattr(_speedups, "heads", None)

# The model classes in the order _speedups.c numbers its kinds (the code class is last),
# with their fields in the order _speedups.c's reader passes them.
_KINDS = (Singleton, Int, Long, Float, Complex, Bytes, Str, TupleValue, ListValue, DictValue, SetValue, FrozenSetValue)
_VALUE = ("value", "code", "flag_ref")
_ITEMS = ("items", "code", "flag_ref")
_FIELDS = (
    ("code", "flag_ref"), _VALUE, ("value", "code", "flag_ref", "size"), ("raw", "code", "flag_ref"),
    ("real", "imag", "code", "flag_ref"), _VALUE, _VALUE, _ITEMS, _ITEMS, _ITEMS, _ITEMS, _ITEMS,
)  # fmt: skip

# _speedups.c's reader handlers by the pure reader's handler names (type codes).
_BAIL, _SINGLE = 0, 1
_HANDLERS = {
    "i": 2, "I": 3, "l": 4, "g": 5, "y": 6, "s": 7, "u": 8, "a": 9, "A": 9, "z": 10, "Z": 10,
    "r": 11, "(": 12, ")": 13, "[": 14, "{": 15, "<": 16, ">": 17, "c": 18, "C": 18, "R": 20,
}  # fmt: skip
_INTERNED2 = 19  # 2.x 't' (in 3.x 't' is a Str, read like 'u')


def _fields(cls: type, expected: Tuple[str, ...]) -> Optional[Tuple[str, ...]]:
    """The field names of an attrs class, if they are ``expected`` (the order C passes
    them in) and C may build it slot by slot (no hooks); otherwise None."""
    fields = attrs.fields(cls)
    names = tuple(f.name for f in fields)
    if names != expected:
        return None
    if any(f.validator is not None or f.converter is not None or f.on_setattr not in (None, attrs.setters.NO_OP) for f in fields):
        return None
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return None
    return names


_PLANS: Dict[int, Tuple[PycFormat, Any]] = {}


def plan(fmt: PycFormat) -> Any:
    """The accelerator's plan for ``fmt`` (cached), or None when it is not in use."""
    if _speedups is None:
        return None
    cached = _PLANS.get(id(fmt))
    if cached is not None and cached[0] is fmt:
        return cached[1]
    made = make_plan(fmt, _speedups)
    _PLANS[id(fmt)] = (fmt, made)
    return made


def make_plan(fmt: PycFormat, speedups: Any) -> Any:
    """A plan of the extension module ``speedups`` for ``fmt``, or None if its model
    classes cannot be built slot by slot."""
    from ._formats import marshal_rules
    from ._values import SHARED_SINGLETONS

    rules = marshal_rules(fmt)
    py3 = fmt.version.major >= 3
    code_cls = rules.code_class
    handlers = bytearray(256)
    singles: list[Any] = [None] * 256
    for b, hname in enumerate(rules.handlers):
        name = chr(b & 0x7F) if hname else ""
        if hname == "singleton":
            handlers[b] = _SINGLE
            singles[b] = SHARED_SINGLETONS[chr(b & 0x7F), b > 127]
        elif name == "t":
            handlers[b] = _HANDLERS["u"] if py3 else _INTERNED2
        elif name in ("c", "C"):
            handlers[b] = _HANDLERS[name] if code_cls is not None else _BAIL
        elif hname == "ref" and b & 0x80:
            handlers[b] = _BAIL
        else:
            handlers[b] = _HANDLERS.get(name, _BAIL)
    classes: list[Any] = []
    for cls, expected in zip(_KINDS, _FIELDS):
        names = _fields(cls, expected)
        if names is None:
            return None
        classes.append((cls, names))
    steps: list[int] = []
    if code_cls is not None:
        stream = tuple(name for name, _ in code_fields(code_cls))
        names = _fields(code_cls, stream + ("flag_ref",))
        if names is None:
            return None
        classes.append((code_cls, names))
        steps = [len(names_) if st is None else -len(names_) for names_, st in rules.code_runs]
    else:
        classes.append(None)
    allowed = rules.writable
    return speedups.make_plan(
        bytes(handlers),
        tuple(singles),
        tuple(classes),
        tuple(steps),
        code_cls.int_size if code_cls is not None else 4,
        ord(code_cls.type_code) if code_cls is not None else 0,
        fmt.max_depth,
        int(rules.refs),
        tuple("".join(sorted(allowed.get(cls, ()))) for cls in _KINDS) + ("",),
    )


def read(data: bytes, pos: int, fmt: PycFormat) -> Optional[Tuple[Any, int]]:
    """The accelerator's read of one value, or None: the pure-Python reader must decide
    (an error, something the accelerator leaves to it, or no plan for ``fmt``)."""
    accel = plan(fmt)
    if accel is None:
        return None
    result: Optional[Tuple[Any, int]] = _speedups.read(accel, data, pos)
    return result


def write(value: Any, fmt: PycFormat) -> Optional[bytes]:
    """The accelerator's bytes of ``value``, or None: the pure-Python writer must decide."""
    accel = plan(fmt)
    if accel is None:
        return None
    result: Optional[bytes] = _speedups.write(accel, value)
    return result
