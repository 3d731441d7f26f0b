"""The canonical-writer rules: what each interpreter's marshal writer does with a value.

:func:`pycfile.from_python` makes the model that an interpreter's own
``marshal.dumps(marshal.loads(marshal.dumps(value)))`` writes.  Two kinds of facts decide
those bytes, and both are here, as data keyed by the format:

- the type codes the marshal version writes (FACTS.md 3.4): binary or text floats,
  ``I`` for 64-bit ints, the ASCII string codes and the small tuple, ``t`` for interned
  strings, the 2.x string table;
- what the interpreter's loader and writer do with identity: which values the loader
  hands out as one shared object (small ints, ``''``, ``b''``, ``()``, one-character
  strings, one-byte bytes, interned strings), so that a repeat is written as a
  reference, and where the writer sets FLAG_REF because something holds an extra
  reference while it writes (set items, the argument of 3.6's ``marshal.dumps``).

Every entry of the CPython rows was measured on the interpreters the test suite runs
(2.7, 3.6-3.15; ``tests/test_oracle_values.py`` checks them on generated values); rows
for versions with no interpreter here say where their entries come from.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import attrs

from ._formats import has_refs
from ._versions import PycFormat, PythonVersion

__all__ = ["CanonicalRules", "canonical_rules"]


@attrs.frozen
class CanonicalRules:
    """How one version's interpreter writes a value it has just loaded.

    The first group follows from the marshal version; the others are the interpreter's
    own behaviour (one row per implementation and version range in ``_ROWS``).
    """

    # -- type codes (the marshal version's writer) ----------------------------------------
    #: ``g``/``y`` binary floats (marshal 2+); otherwise text ``f``/``x``.
    binary_floats: bool = True
    #: The printf format of text floats (``.0`` is added to an all-digit text).
    float_text: str = "%.17g"
    #: ``I`` for an int that needs 33-64 bits (a C long on LP64 hosts: 1.5-2.7, 3.0-3.2).
    int64: bool = False
    #: 3.x: ``str`` is text and ``bytes`` is ``s``; 2.x: ``bytes`` is the 8-bit str.
    py3: bool = True
    #: The UTF-8 encoder writes a high and a low surrogate in a row as the one character
    #: they pair into (2.x; 3.x writes each with surrogatepass).
    surrogate_pairs_joined: bool = False
    #: ``z Z a A`` for ASCII strings and ``)`` for small tuples (marshal 4+).
    ascii_codes: bool = True
    #: 3.x ``t`` for an interned non-ASCII string (marshal 3+).
    interned_code: bool = True
    #: 2.x ``t``/``R``: interned 8-bit strings go in the string table (marshal 1+ in 2.x).
    string_refs: bool = False
    #: FLAG_REF and ``r`` references (marshal 3+, Python 3.4+).
    refs: bool = True

    # -- objects the loader shares (equal values come back as one object) -------------------
    #: The small-int cache, low and high bound included (``None``: no cache matters).
    small_ints: Optional[Tuple[int, int]] = (-5, 256)
    #: ``''`` is one object, and interned.
    empty_str: bool = True
    #: One-character Latin-1 strings: ``"interned"`` (one object, interned), ``"cached"``
    #: (one object; interned or not by the process's history, see docs/canonical.md) or
    #: ``""`` (a new object each time).
    one_char_str: str = "cached"
    #: ``b''``: ``"cached"`` (one object), ``"interned"`` (2.x: one interned string) or ``""``.
    empty_bytes: str = "cached"
    #: One-byte bytes are one object per value (3.14+).
    one_byte: bool = False
    #: ``()`` is one object.
    empty_tuple: bool = True
    #: ``frozenset()`` is one object (3.4-3.9).
    empty_frozenset: bool = True

    # -- FLAG_REF the writer sets for references it holds itself ---------------------------
    #: ``marshal.dumps`` holds a second reference to its argument (3.6: METH_VARARGS
    #: with an argument tuple), so the root is flagged.
    root_flagged: bool = False
    #: Items of a set or frozenset are flagged: the writer holds a reference to each while
    #: writing it (3.4-3.8: an iterator; 3.11+: the sorted list).
    set_items_flagged: bool = True
    #: Set items are written sorted by their own marshal bytes (bpo-37596, 3.11+);
    #: otherwise in iteration (hash) order.
    sorted_sets: bool = False
    #: Dicts keep insertion order (CPython 3.6+, PyPy); otherwise they iterate in hash order.
    ordered_dicts: bool = True
    #: The sort key of a set item is written while the writer holds a reference to the item
    #: (3.13+: ``_PySet_NextEntryRef``), so the key's root is flagged.
    set_key_item_flagged: bool = False
    #: An interned string is flagged even when nothing else holds it (3.11+, gh-78214).
    interned_always_flagged: bool = False
    #: Kinds the writer always flags whatever their reference count (PyPy).
    flagged_kinds: Tuple[str, ...] = ()

    # -- constants of a code object (what the code constructor does to co_consts) ----------
    #: Identifier-like string constants (``[A-Za-z0-9_]*``) are interned, nested ones in
    #: tuples and frozensets too.
    constants_interned: bool = True
    #: 2.x: a one-character 8-bit string constant is the interned cached character.
    constant_one_char_interned: bool = False
    #: 3.x: a one-byte bytes constant is the cached byte (the compiler's bytes come from
    #: the cache; marshal.loads used it only from 3.14).
    constant_one_byte: bool = True
    #: Equal constants of a code object are one object, nested ones too (the compiler's
    #: constant table: 3.6's peephole folds tuples out of it, 3.8+ merge_consts_recursive;
    #: 3.7 folds tuples in the AST out of separate objects).
    constants_merged: bool = True

    # -- what the code constructor checks and sets (strategies draw code it accepts) -------
    #: It walks the instructions (inline caches after each: 3.11+, and PyPy 3), so only
    #: well-formed bytecode builds.
    checks_bytecode: bool = False
    #: CO_NOFREE (0x40): ``"constructor"`` -- the code constructor sets it itself, exactly
    #: when there are no cell or free variables (2.2-3.10); ``"absent"`` -- the flag does
    #: not exist yet (before 2.2); ``""`` -- gone (3.11+).
    co_nofree: str = "constructor"
    #: The smallest stack size it keeps (3.13+ raises 0 to 1).
    min_stacksize: int = 0
    #: ``co_localspluskinds`` may mark a local hidden (CO_FAST_HIDDEN, 3.12+).
    hidden_locals: bool = False


_NONE = CanonicalRules(
    refs=False,
    constants_merged=False,
    constant_one_byte=False,
    ordered_dicts=False,
    small_ints=None,
    empty_str=False,
    one_char_str="",
    empty_bytes="",
    empty_tuple=False,
    empty_frozenset=False,
    set_items_flagged=False,
    co_nofree="absent",
)

# 2.x: no FLAG_REF; interned strings are shared through the 't'/'R' string table.  The
# empty string and the one-character strings of 2.x come from interned caches
# (stringobject.c), but marshal.loads makes a one-character 's' string without the cache
# (PyString_FromStringAndSize(NULL, 1)), so only b'' comes back interned.
_PY2 = attrs.evolve(
    _NONE, co_nofree="constructor", py3=False, int64=True, interned_code=False, ascii_codes=False, constant_one_char_interned=True, surrogate_pairs_joined=True
)
_PY2_STRING_TABLE = attrs.evolve(_PY2, string_refs=True, empty_bytes="interned")

# 3.4+: FLAG_REF by reference count; the defaults of CanonicalRules are 3.8's.  3.4 and
# 3.5 have no interpreter here: their row is 3.6's with hash-ordered dicts and without the
# root flag (3.5's ceval.c moves the stack's references into a METH_VARARGS call's
# argument tuple, load_args, where 3.6 adds references).
_PY38 = CanonicalRules()
_PY37 = attrs.evolve(_PY38, constants_merged=False)
_PY36 = attrs.evolve(_PY38, root_flagged=True)
_PY34 = attrs.evolve(_PY36, root_flagged=False, ordered_dicts=False)
_PY39 = attrs.evolve(_PY38, set_items_flagged=False)  # _PySet_NextEntry: borrowed items
_PY310 = attrs.evolve(_PY39, empty_frozenset=False)  # the empty frozenset singleton went
_PY311 = attrs.evolve(
    _PY310, set_items_flagged=True, sorted_sets=True, interned_always_flagged=True, checks_bytecode=True, co_nofree=""
)
_PY312 = attrs.evolve(_PY311, hidden_locals=True)
_PY313 = attrs.evolve(_PY312, one_char_str="interned", set_key_item_flagged=True, min_stacksize=1)
_PY314 = attrs.evolve(_PY313, one_byte=True)
_PY315 = attrs.evolve(_PY314, small_ints=(-5, 1024))

# PyPy 3 (observed on 7.3.11, FACTS.md 3.5): flags every str, bytes, long, list, dict, set
# and frozenset it writes and nothing else; no small-int or empty-tuple sharing.
_PYPY3 = attrs.evolve(
    _NONE,
    refs=True,
    ordered_dicts=True,
    empty_str=True,
    flagged_kinds=("str", "bytes", "long", "list", "dict", "set", "frozenset"),
    checks_bytecode=True,
    co_nofree="constructor",
)

#: (implementation, first version, last version, rules); the first matching row wins.
_ROWS: List[Tuple[str, Tuple[int, int], Tuple[int, int], CanonicalRules]] = [
    # 1.0-2.3: marshal 0, 2.4: marshal 1 (text floats); %.12g up to 2.2 (2.1/2.2 unconfirmed)
    ("cpython", (1, 0), (1, 4), attrs.evolve(_PY2, int64=False, float_text="%.12g", constant_one_char_interned=False, co_nofree="absent")),
    ("cpython", (1, 5), (2, 1), attrs.evolve(_PY2, float_text="%.12g", constant_one_char_interned=False, co_nofree="absent")),
    ("cpython", (2, 2), (2, 2), attrs.evolve(_PY2, float_text="%.12g", constant_one_char_interned=False)),
    ("cpython", (2, 3), (2, 3), _PY2),
    ("cpython", (2, 4), (2, 4), _PY2_STRING_TABLE),
    ("cpython", (2, 5), (2, 7), _PY2_STRING_TABLE),
    # 3.0-3.3: marshal 2, no references, no interning codes; 'I' up to 3.2
    ("cpython", (3, 0), (3, 2), attrs.evolve(_NONE, int64=True, ascii_codes=False, interned_code=False, co_nofree="constructor")),
    ("cpython", (3, 3), (3, 3), attrs.evolve(_NONE, ascii_codes=False, interned_code=False, co_nofree="constructor")),
    ("cpython", (3, 4), (3, 5), _PY34),
    ("cpython", (3, 6), (3, 6), _PY36),
    ("cpython", (3, 7), (3, 7), _PY37),
    ("cpython", (3, 8), (3, 8), _PY38),
    ("cpython", (3, 9), (3, 9), _PY39),
    ("cpython", (3, 10), (3, 10), _PY310),
    ("cpython", (3, 11), (3, 11), _PY311),
    ("cpython", (3, 12), (3, 12), _PY312),
    ("cpython", (3, 13), (3, 13), _PY313),
    ("cpython", (3, 14), (3, 14), _PY314),
    ("cpython", (3, 15), (99, 0), _PY315),
    ("pypy", (2, 0), (2, 99), attrs.evolve(_PY2_STRING_TABLE, checks_bytecode=True)),
    ("pypy", (3, 0), (3, 10), _PYPY3),
    ("pypy", (3, 11), (99, 0), attrs.evolve(_PYPY3, co_nofree="")),
]

_CACHE: Dict[int, Tuple[PycFormat, CanonicalRules]] = {}


def _row(version: PythonVersion) -> CanonicalRules:
    key = (version.major, version.minor)
    for implementation, first, last, rules in _ROWS:
        if implementation == version.implementation and first <= key <= last:
            return rules
    return _PY315 if version.implementation == "cpython" else _PYPY3


def canonical_rules(fmt: PycFormat) -> CanonicalRules:
    """The rules of ``fmt``'s interpreter, with the type-code facts of ``fmt``'s marshal
    version (a development magic may write an older marshal version than its release)."""
    cached = _CACHE.get(id(fmt))
    if cached is not None and cached[0] is fmt:
        return cached[1]
    rules = _row(fmt.version)
    mv = fmt.marshal_version
    refs = rules.refs and has_refs(fmt) and mv >= 3
    rules = attrs.evolve(
        rules,
        binary_floats=rules.binary_floats and mv >= 2,
        ascii_codes=rules.ascii_codes and mv >= 4,
        interned_code=rules.interned_code and mv >= 3,
        string_refs=rules.string_refs and mv >= 1,
        refs=refs,
    )
    _CACHE[id(fmt)] = (fmt, rules)
    return rules
