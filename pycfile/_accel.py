"""The optional C accelerator (``pycfile/_speedups.c``): loading it and making its plans.

The pure-Python reader and writer are the reference.  When the extension is built (and
``PYCFILE_PURE`` is not set in the environment), :func:`pycfile.loads` and
:func:`pycfile.dumps` first hand the input to it; it builds exactly the model (or the
bytes) the pure-Python code builds, or gives up on anything unusual -- every error
included -- and the pure-Python code then runs on the same input from the start.  So the
accelerator never decides what is valid, and errors always come from the pure code.

The extension and the pure code are tied by names only.  The extension exports the
names of its reader handlers (``HANDLERS``), of the model classes it builds (``KINDS``)
and of the fields it fills in each (``FIELDS``).  :func:`_pure_facts` says, in the same
vocabulary, what the pure code does for a format (the one place that reads the pure
code's internals); :func:`make_plan` checks that the two agree -- every handler name
known to the extension, every class one it knows, filled field by field with exactly
the fields it fills, and no validators, converters or hooks -- and otherwise leaves the
format to the pure code.  ``tests/test_speedups.py`` asserts a plan for every known
format, so a disagreement fails a test instead of silently slowing pycfile down.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import attrs

from ._versions import PycFormat

__all__ = ["ACCELERATED", "ENABLED", "PureFacts", "heads", "make_plan", "plan", "read", "write"]

_speedups: Any = None
if not os.environ.get("PYCFILE_PURE"):
    # Any failure to load it leaves pure Python: not only an ImportError (a missing or
    # stale build), also whatever else loading it raises -- including a warning that a
    # ``-W error`` filter turned into an exception.  (The module itself emits no warning:
    # it declares the GIL mode a free-threaded build asks for.)  The process's warnings
    # filters are left as they are.
    try:
        from . import _speedups  # type: ignore[attr-defined, no-redef]
    except Exception:
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
heads: Optional[Callable[[List[str], int], List[Union[bytes, OSError]]]] = getattr(_speedups, "heads", None)


class PureFacts(NamedTuple):
    """What the pure-Python reader and writer do for one format, as plain data in the
    extension's vocabulary (its ``HANDLERS``, ``KINDS`` and ``FIELDS`` names)."""

    #: Per type byte (256): the name of the pure reader's handler ("tuple", "ref",
    #: "singleton", ...; "" for a byte that is no type code).
    handlers: Tuple[str, ...]
    #: Per type byte (256): the shared Singleton a "singleton" handler returns, else None.
    singletons: Tuple[Any, ...]
    #: The model classes by kind name (the class's name; the layout's code class is "Code").
    classes: Dict[str, type]
    #: The code layout's fields in stream order (empty without a known layout).
    code_fields: Tuple[str, ...]
    #: The layout as runs of fields: n object fields (n > 0) or -n int fields.
    code_steps: Tuple[int, ...]
    #: Bytes per int field of the layout (2 or 4).
    int_size: int
    #: The code object's type code ("c", or "C" before 1.3).
    code_type: str
    #: Per kind name: the type codes the writer accepts for that class.
    allowed: Dict[str, str]
    #: The deepest nesting the format allows (as the pure code counts it).
    max_depth: int
    #: Whether the format has FLAG_REF and references.
    refs: bool


def _pure_facts(fmt: PycFormat) -> PureFacts:
    """The pure code's facts for ``fmt``: what the format table (:mod:`pycfile._formats`)
    says the pure reader and writer do, in the extension's vocabulary.  The handler
    names are the table's, which are also the names of the pure reader's and writer's
    handler functions (``read_tuple``/``write_tuple`` -> "tuple")."""
    from ._formats import marshal_rules
    from ._values import SHARED_SINGLETONS

    rules = marshal_rules(fmt)
    singles = tuple(
        SHARED_SINGLETONS[chr(b & 0x7F), b > 127] if name == "singleton" else None for b, name in enumerate(rules.handlers)
    )
    code_cls = rules.code_class
    classes: Dict[str, type] = {cls.__name__: cls for cls in rules.writable if cls is not code_cls}
    allowed = {cls.__name__: "".join(sorted(codes)) for cls, codes in rules.writable.items() if cls is not code_cls}
    fields: Tuple[str, ...] = ()
    steps: List[int] = []
    if code_cls is not None:
        classes["Code"] = code_cls
        for run, st in rules.code_runs:
            fields += run
            steps.append(len(run) if st is None else -len(run))
    # Without a known code layout the pure reader refuses code objects: so does C.
    handlers = rules.handlers if code_cls is not None else tuple("" if h == "code" else h for h in rules.handlers)
    return PureFacts(
        handlers=handlers,
        singletons=singles,
        classes=classes,
        code_fields=fields,
        code_steps=tuple(steps),
        int_size=rules.int_size,
        code_type=code_cls.type_code if code_cls is not None else "c",
        allowed=allowed,
        max_depth=rules.max_depth,
        refs=rules.refs,
    )


@attrs.frozen
class _Frozen:
    x: int


_SETATTRS = (object.__setattr__, _Frozen.__setattr__)


def _check_class(cls: type, names: Sequence[str]) -> None:
    """Raise ValueError unless the extension may build ``cls`` by filling ``names``:
    an attrs class whose fields are exactly those, with no validator, converter or
    on_setattr hook, no __attrs_pre_init__/__attrs_post_init__, an attrs-made __init__
    and no __setattr__ of its own (the extension fills the slots as attrs' __init__ does)."""
    if not attrs.has(cls):
        raise ValueError(f"{cls.__name__} is not an attrs class")
    fields = attrs.fields(cls)
    have = sorted(f.name for f in fields)
    if have != sorted(names) or len(set(names)) != len(names):
        raise ValueError(f"{cls.__name__} has the fields {have}; the accelerator fills {sorted(names)}")
    for f in fields:
        if f.validator is not None or f.converter is not None or not f.init:
            raise ValueError(f"{cls.__name__}.{f.name} has a validator or converter, or is not set by __init__")
        if f.on_setattr not in (None, attrs.setters.NO_OP):
            raise ValueError(f"{cls.__name__}.{f.name} has an on_setattr hook")
    for hook in ("__attrs_pre_init__", "__attrs_post_init__", "__attrs_init__"):
        if hasattr(cls, hook):
            raise ValueError(f"{cls.__name__} has {hook}")
    if getattr(cls, "__setattr__", None) not in _SETATTRS:
        raise ValueError(f"{cls.__name__} has a __setattr__ of its own")


def _make_plan(facts: PureFacts, speedups: Any, untrack: bool = True) -> Any:
    """The extension's plan for ``facts``; ValueError saying what disagrees, if anything."""
    unknown = sorted(set(facts.handlers) - set(speedups.HANDLERS))
    if unknown:
        raise ValueError(f"reader handlers the accelerator does not know: {unknown}")
    strangers = sorted(set(facts.classes) - set(speedups.KINDS))
    if strangers:
        raise ValueError(f"model classes the accelerator does not know: {strangers}")
    classes: Dict[str, type] = {}
    for kind, fields in zip(speedups.KINDS, speedups.FIELDS):
        cls = facts.classes.get(kind)
        if cls is not None:
            _check_class(cls, (*facts.code_fields, "flag_ref") if fields is None else fields)
            classes[kind] = cls
    return speedups.make_plan(
        facts.handlers,
        facts.singletons,
        classes,
        facts.code_fields,
        facts.code_steps,
        facts.int_size,
        ord(facts.code_type),
        facts.max_depth,
        int(facts.refs),
        facts.allowed,
        untrack,
    )


def make_plan(fmt: PycFormat, speedups: Any, facts: Optional[PureFacts] = None, untrack: bool = True) -> Any:
    """A plan of the extension module ``speedups`` for ``fmt`` (described by ``facts``,
    by default the pure code's), or None if the two disagree in any way: then the format
    stays with the pure-Python code.  ``untrack=False`` keeps every object the reader
    makes tracked by the garbage collector (only to measure what untracking buys)."""
    try:
        return _make_plan(_pure_facts(fmt) if facts is None else facts, speedups, untrack)
    except Exception:
        return None


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
