"""Code objects: one class per marshalled layout (FACTS.md section 4.1).

Fields are named as CPython names the attributes of a code object (``co_consts``,
``co_linetable``...) and declared in the order they are marshalled.  Integer fields are
plain ints; every other field holds a marshal value (usually a :class:`~pycfile.Bytes`,
:class:`~pycfile.TupleValue` or :class:`~pycfile.Str`), so references and type codes inside a
code object survive a round trip like anywhere else.

From 3.11 on, CPython marshals ``co_localsplusnames``/``co_localspluskinds`` instead of
varnames, cellvars, freevars and nlocals; :class:`Code311` and :class:`Code311a` derive
those so a tool can ask every version the same questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Dict, Iterator, List, Optional, Tuple, Type, Union

import attrs

from . import _exceptiontable, _linetable, _walk
from ._values import Bytes, CodeBase, TupleValue
from ._versions import CodeLayout

if TYPE_CHECKING:
    from ._exceptiontable import ExceptionTableEntry
    from ._linetable import PositionTuple, VersionOrFormat
    from ._values import Value

__all__ = [
    "CO_FAST_CELL",
    "CO_FAST_FREE",
    "CO_FAST_HIDDEN",
    "CO_FAST_LOCAL",
    "Code",
    "Code10",
    "Code13",
    "Code15",
    "Code21",
    "Code23",
    "Code30",
    "Code38",
    "Code310",
    "Code311",
    "Code311a",
    "CodePyPy416",
    "CodePyPy432",
    "code_class",
]

CO_FAST_HIDDEN = 0x10
CO_FAST_LOCAL = 0x20
CO_FAST_CELL = 0x40
CO_FAST_FREE = 0x80


class Code(CodeBase):
    """Base of the code-object classes.  Don't instantiate it directly."""

    __slots__ = ()

    def walk(self) -> Iterator["Code"]:
        """This code object and every code object nested in its constants, depth first."""
        return _walk.preorder(self, _nested_code)

    # -- line and exception tables (pycfile/_linetable.py, _exceptiontable.py) ---------

    def line_starts(self, version: "VersionOrFormat") -> List[Tuple[int, Optional[int]]]:
        """``(offset, line)`` pairs as ``dis.findlinestarts`` of ``version`` gives them.

        ``version`` is the code object's Python version: a :class:`PythonVersion`, a
        ``(major, minor)`` tuple or the pyc's :class:`PycFormat` (``pyc.format``).  Each
        version's quirks are kept (see :func:`pycfile.line_starts`).
        """
        return _linetable.line_starts(self, version)

    def lines(self, version: "VersionOrFormat") -> List[Tuple[int, int, Optional[int]]]:
        """``(start, end, line)`` byte ranges like ``co_lines()`` (see :func:`pycfile.lines`)."""
        return _linetable.lines(self, version)

    def positions(self, version: "VersionOrFormat") -> List["PositionTuple"]:
        """``(line, end_line, column, end_column)`` per instruction like ``co_positions()``
        (see :func:`pycfile.positions`)."""
        return _linetable.positions(self, version)

    def exception_table(self, version: "VersionOrFormat") -> List["ExceptionTableEntry"]:
        """The 3.11+ exception table entries (byte offsets, like
        ``dis._parse_exception_table``); ``[]`` before 3.11 and PyPy 8.0."""
        return _exceptiontable.exception_table(self, version)


@attrs.define
class Code10(Code):
    """CPython 1.0-1.2 (type code ``C``)."""

    layout: ClassVar[CodeLayout] = CodeLayout.V1_0
    int_size: ClassVar[int] = 2
    type_code: ClassVar[str] = "C"

    co_code: Value
    co_consts: Value
    co_names: Value
    co_filename: Value
    co_name: Value
    flag_ref: bool = False


@attrs.define
class Code13(Code):
    """CPython 1.3-1.4."""

    layout: ClassVar[CodeLayout] = CodeLayout.V1_3
    int_size: ClassVar[int] = 2

    co_argcount: int
    co_nlocals: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_filename: Value
    co_name: Value
    flag_ref: bool = False


@attrs.define
class Code15(Code):
    """CPython 1.5-2.0."""

    layout: ClassVar[CodeLayout] = CodeLayout.V1_5
    int_size: ClassVar[int] = 2

    co_argcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_filename: Value
    co_name: Value
    co_firstlineno: int
    co_lnotab: Value
    flag_ref: bool = False


@attrs.define
class Code21(Code):
    """CPython 2.1-2.2 (16-bit integer fields, with free and cell variables)."""

    layout: ClassVar[CodeLayout] = CodeLayout.V2_1
    int_size: ClassVar[int] = 2

    co_argcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_firstlineno: int
    co_lnotab: Value
    flag_ref: bool = False


@attrs.define
class Code23(Code):
    """CPython 2.3-2.7 and PyPy 2."""

    layout: ClassVar[CodeLayout] = CodeLayout.V2_3

    co_argcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_firstlineno: int
    co_lnotab: Value
    flag_ref: bool = False


@attrs.define
class Code30(Code):
    """CPython 3.0-3.7 (and 3.8a1-a3): adds ``co_kwonlyargcount``."""

    layout: ClassVar[CodeLayout] = CodeLayout.V3_0

    co_argcount: int
    co_kwonlyargcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_firstlineno: int
    co_lnotab: Value
    flag_ref: bool = False


@attrs.define
class Code38(Code):
    """CPython 3.8a4-3.10a2 and PyPy 3: adds ``co_posonlyargcount``."""

    layout: ClassVar[CodeLayout] = CodeLayout.V3_8

    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_firstlineno: int
    co_lnotab: Value
    flag_ref: bool = False


@attrs.define
class Code310(Code):
    """CPython 3.10a3-3.10: the last field is the PEP 626 ``co_linetable``."""

    layout: ClassVar[CodeLayout] = CodeLayout.V3_10

    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_firstlineno: int
    co_linetable: Value
    flag_ref: bool = False


class _LocalsPlus:
    """Derived views of 3.11+ ``co_localsplusnames``/``co_localspluskinds``."""

    __slots__ = ()  # the attrs classes below hold the fields; no per-object __dict__

    co_localsplusnames: Value
    co_localspluskinds: Value

    def _names_with(self, mask: int) -> TupleValue:
        names = self.co_localsplusnames
        kinds = self.co_localspluskinds
        if not isinstance(names, TupleValue) or not isinstance(kinds, Bytes):
            return TupleValue([], ")")
        return TupleValue([n for n, k in zip(names.items, kinds.value) if k & mask], ")")

    @property
    def co_varnames(self) -> TupleValue:
        """The local variable names (kind has CO_FAST_LOCAL), as CPython derives them."""
        return self._names_with(CO_FAST_LOCAL)

    @property
    def co_cellvars(self) -> TupleValue:
        """The cell variable names (kind has CO_FAST_CELL)."""
        return self._names_with(CO_FAST_CELL)

    @property
    def co_freevars(self) -> TupleValue:
        """The free variable names (kind has CO_FAST_FREE)."""
        return self._names_with(CO_FAST_FREE)

    @property
    def co_nlocals(self) -> int:
        """The number of locals (kinds with CO_FAST_LOCAL)."""
        kinds = self.co_localspluskinds
        if not isinstance(kinds, Bytes):
            return 0
        return sum(1 for k in kinds.value if k & CO_FAST_LOCAL)


@attrs.define
class Code311a(_LocalsPlus, Code):
    """CPython 3.11a1-a7: localsplus, and separate end-line and column tables."""

    layout: ClassVar[CodeLayout] = CodeLayout.V3_11A

    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_localsplusnames: Value
    co_localspluskinds: Value
    co_filename: Value
    co_name: Value
    co_qualname: Value
    co_firstlineno: int
    co_linetable: Value
    co_endlinetable: Value
    co_columntable: Value
    co_exceptiontable: Value
    flag_ref: bool = False


@attrs.define
class Code311(_LocalsPlus, Code):
    """CPython 3.11b1 and later: localsplus, the PEP 657 location table."""

    layout: ClassVar[CodeLayout] = CodeLayout.V3_11

    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_localsplusnames: Value
    co_localspluskinds: Value
    co_filename: Value
    co_name: Value
    co_qualname: Value
    co_firstlineno: int
    co_linetable: Value
    co_exceptiontable: Value
    flag_ref: bool = False


@attrs.define
class CodePyPy416(Code):
    """PyPy 3.11 from 7.3.19 (magic 416): the fields of :class:`Code38` with
    ``co_qualname`` after ``co_name``.  The last field is PyPy's position table (see
    :func:`pycfile.decode_pypy_positions`), which PyPy 3.11 names ``co_linetable``."""

    layout: ClassVar[CodeLayout] = CodeLayout.PYPY_416

    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_qualname: Value
    co_firstlineno: int
    co_linetable: Value
    flag_ref: bool = False


@attrs.define
class CodePyPy432(Code):
    """PyPy 3.11 from 8.0 (magic 432) and PyPy 3.12 (448): the fields of
    :class:`CodePyPy416` and a trailing ``co_exceptiontable`` in CPython 3.11's format."""

    layout: ClassVar[CodeLayout] = CodeLayout.PYPY_432

    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_nlocals: int
    co_stacksize: int
    co_flags: int
    co_code: Value
    co_consts: Value
    co_names: Value
    co_varnames: Value
    co_freevars: Value
    co_cellvars: Value
    co_filename: Value
    co_name: Value
    co_qualname: Value
    co_firstlineno: int
    co_linetable: Value
    co_exceptiontable: Value
    flag_ref: bool = False


def _nested_code(code: "Code") -> List["Code"]:
    """The code objects directly in ``code.co_consts`` (what :meth:`Code.walk` descends into)."""
    consts = getattr(code, "co_consts", None)
    items = getattr(consts, "items", None)
    if isinstance(items, list):
        return [c for c in items if isinstance(c, Code)]
    return []


AnyCode = Union[Code10, Code13, Code15, Code21, Code23, Code30, Code38, Code310, Code311a, Code311, CodePyPy416, CodePyPy432]

_CLASSES: Dict[CodeLayout, Type[Code]] = {
    cls.layout: cls
    for cls in (Code10, Code13, Code15, Code21, Code23, Code30, Code38, Code310, Code311a, Code311, CodePyPy416, CodePyPy432)
}


def code_class(layout: CodeLayout) -> Type[Code]:
    """The code class for a layout."""
    return _CLASSES[layout]


def code_fields(cls: Type[CodeBase]) -> Tuple[Tuple[str, bool], ...]:
    """``(name, is_int)`` for each marshalled field of a code class, in stream order."""
    fields: Tuple[attrs.Attribute[Any], ...] = attrs.fields(cls)  # type: ignore[arg-type]
    return tuple((f.name, f.type in ("int", int)) for f in fields if f.name != "flag_ref")



# ``==``, ``!=`` and ``repr`` walk the model without recursion and cost once per shared
# object (attrs's own are recursive): see pycfile/_walk.py.
_walk.install(*_CLASSES.values())
