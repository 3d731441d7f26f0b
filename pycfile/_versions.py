"""Python versions and the magic-number table.

Everything the reader and writer need to know about a pyc's format is looked up here,
once, from the magic number: the Python version, the header layout, the marshal
version, the code-object layout, the nesting limit, and which releases wrote it.  The
facts come from ``shared/FACTS.md`` (sections 1-4), which cites CPython's sources for
each value, from the magic list the released 3.15 installs, and from the real
interpreters (each version's default says where it comes from: :func:`release_source`).
"""

from __future__ import annotations

import enum
from typing import Dict, List, Optional, Tuple, Union

import attrs

from ._errors import UnknownMagicError

__all__ = [
    "CodeLayout",
    "PycFormat",
    "PythonVersion",
    "VersionLike",
    "as_version",
    "format_for_magic",
    "format_for_version",
    "known_formats",
    "register_magic",
    "release_source",
]


@attrs.frozen(eq=False, order=False)
class PythonVersion:
    """A Python language version: implementation, major and minor.

    Compares with ``(major, minor)`` tuples: ``PythonVersion(3, 12) >= (3, 8)``.
    Two versions are equal when major, minor and implementation all match; a
    version equals a tuple when major and minor match.
    """

    #: The major version, e.g. 3.
    major: int
    #: The minor version, e.g. 12.
    minor: int
    #: ``"cpython"`` or ``"pypy"``.
    implementation: str = "cpython"

    def _key(self) -> Tuple[int, int]:
        return (self.major, self.minor)

    def _other(self, other: object) -> Optional[Tuple[int, ...]]:
        if isinstance(other, PythonVersion):
            return other._key()
        if isinstance(other, tuple) and all(isinstance(x, int) for x in other):
            return other
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PythonVersion):
            return self._key() == other._key() and self.implementation == other.implementation
        key = self._other(other)
        return NotImplemented if key is None else self._key() == key

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: object) -> bool:
        key = self._other(other)
        return NotImplemented if key is None else self._key() < key

    def __le__(self, other: object) -> bool:
        key = self._other(other)
        return NotImplemented if key is None else self._key() <= key

    def __gt__(self, other: object) -> bool:
        key = self._other(other)
        return NotImplemented if key is None else self._key() > key

    def __ge__(self, other: object) -> bool:
        key = self._other(other)
        return NotImplemented if key is None else self._key() >= key

    def __str__(self) -> str:
        name = {"cpython": "CPython", "pypy": "PyPy"}.get(self.implementation, self.implementation)
        return f"{name} {self.major}.{self.minor}"


VersionLike = Union[PythonVersion, Tuple[int, int]]


class CodeLayout(enum.Enum):
    """The field sequence of a marshalled code object (FACTS.md section 4.1).

    Each CPython member is named for the first release that used it, each PyPy-only one
    for the first PyPy magic number that has it.
    """

    V1_0 = "1.0"  # 1.0-1.2, type byte 'C'
    V1_3 = "1.3"  # 1.3-1.4
    V1_5 = "1.5"  # 1.5-2.0
    V2_1 = "2.1"  # 2.1-2.2 (16-bit fields, with free/cell vars)
    V2_3 = "2.3"  # 2.3-2.7
    V3_0 = "3.0"  # 3.0-3.7, 3.8a1-a3: kwonlyargcount
    V3_8 = "3.8"  # 3.8a4-3.10a2: posonlyargcount, co_lnotab
    V3_10 = "3.10"  # 3.10a3-3.10: co_linetable (PEP 626)
    V3_11A = "3.11a"  # 3.11a1-a7: localsplus, end-line and column tables
    V3_11 = "3.11"  # 3.11b1 onwards
    PYPY_416 = "pypy-416"  # PyPy 3.11 7.3.19 on (magic 416): the 3.8 fields + co_qualname
    PYPY_432 = "pypy-432"  # PyPy 3.11 8.0 (432), PyPy 3.12 (448): + co_exceptiontable


@attrs.frozen
class PycFormat:
    """One row of the magic-number table: how a pyc with this magic is laid out, and
    which releases wrote it."""

    #: The 4 magic bytes at the start of the file.
    magic: bytes
    #: The Python version that writes this magic.
    version: PythonVersion
    #: The label in CPython's magic list, e.g. ``"3.12b1"`` or ``"2.7 -U"`` (for PyPy,
    #: ``"PyPy 3.9"``).  It names the release the number was *meant* for, which can be
    #: one pre-release early; :attr:`first_release` says which release really wrote it.
    label: str
    #: Header size in bytes: 8 (<= 3.2), 12 (3.3-3.6), 16 (3.7+, PEP 552).
    header_size: int
    #: The marshal format version that this Python writes pycs with (0-6).
    marshal_version: int
    #: The code-object layout; ``None`` for layouts nobody reconstructed.
    code_layout: Optional[CodeLayout]
    #: ``MAX_MARSHAL_STACK_DEPTH`` of this version's reader (POSIX value).
    max_depth: int
    #: Whether a final release (``x.y.z``, not a pre-release) writes this magic.
    released: bool = False
    #: The first release, pre-releases included, that wrote this magic (``"3.8b4"``,
    #: ``"PyPy 7.3.19"``); ``""`` when no release did or it is not known which.
    first_release: str = ""

    @property
    def magic_number(self) -> int:
        """The magic as a number: the 16-bit value (1.3+) or the 32-bit word (1.0-1.2)."""
        word = int.from_bytes(self.magic, "little")
        return word & 0xFFFF if self.magic[2:] == b"\r\n" else word

    @property
    def release_note(self) -> str:
        """Which releases wrote this magic, in words: ``"first written by 3.8b4"``,
        ``"pre-release magic, written by 3.8a4"``, ``"unreleased magic (3.15a4)"``, or
        ``""`` for a released magic whose first release is not known."""
        if self.first_release and self.released:
            return f"first written by {self.first_release}"
        if self.first_release:
            return f"pre-release magic, written by {self.first_release}"
        return "" if self.released else f"unreleased magic ({self.label})"


def as_version(version: VersionLike) -> PythonVersion:
    """Turn ``(major, minor)`` or a :class:`PythonVersion` into a PythonVersion."""
    if isinstance(version, PythonVersion):
        return version
    if (
        isinstance(version, tuple)
        and len(version) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in version)
    ):
        return PythonVersion(version[0], version[1])
    raise TypeError(f"version must be a (major, minor) tuple or a PythonVersion, not {version!r}")


# --------------------------------------------------------------------------------------
# The table.  Magic numbers and labels: FACTS.md 1.2-1.4 and 1.6, and CPython's magic list
# (Include/internal/pycore_magic_number.h) as the released 3.15.2 installs it.

_CRLF = b"\r\n"


def _max_depth(version: Tuple[int, int]) -> int:
    # FACTS.md 3.6: 2.5+ readers stop at 2000; earlier readers had no check, and their
    # writers stopped at 5000, which is the deepest any real pyc of theirs can be.
    return 2000 if version >= (2, 5) else 5000


def _marshal_version(version: Tuple[int, int]) -> int:
    # FACTS.md 3.1: what each release of 1.x-2.x writes pycs with.
    if version <= (2, 3):
        return 0
    if version == (2, 4):
        return 1
    return 2


# CPython 3 changed its marshal version mid-cycle, so it goes by magic: the first magic
# whose pycs can hold each version's type codes (FACTS.md 3.1).
_PY3_MARSHAL: List[Tuple[int, int]] = [
    (3000, 2),  # 3.0-3.3
    (3250, 4),  # 3.4a1 on: refs (version 3) and short strings (version 4) came in 3.4
    (3608, 5),  # 3.14a1 "Add support for slices": the ':' slice code (version 5)
    # frozendict ('}', version 6) came with PEP 814's frozendict (gh-141510, merged
    # 2026-03-06), which bumped no magic: 3661 (3.15a4) was current from 3.15a4 to a7, the
    # list's next number, 3662, is labelled 3.15a8.  So 3661 pycs may hold '}' and 3660
    # ones cannot.  Checked: python3.15 (3.15.2) marshals frozendict({...}) as 0x7d|FLAG_REF.
    (3661, 6),
]


def _py3_marshal(number: int) -> int:
    return [version for first, version in _PY3_MARSHAL if number >= first][-1]


# 1.x-2.2: (magic word or number, label, version, layout)
_OLD: List[Tuple[int, str, Tuple[int, int], CodeLayout]] = [
    (0x00999902, "1.0", (1, 0), CodeLayout.V1_0),
    (0x00999903, "1.1/1.2", (1, 1), CodeLayout.V1_0),
    (11913, "1.3", (1, 3), CodeLayout.V1_3),
    (5892, "1.4", (1, 4), CodeLayout.V1_3),
    (20121, "1.5", (1, 5), CodeLayout.V1_5),
    (50428, "1.6", (1, 6), CodeLayout.V1_5),
    (50823, "2.0", (2, 0), CodeLayout.V1_5),
    (60202, "2.1", (2, 1), CodeLayout.V2_1),
    (60717, "2.2", (2, 2), CodeLayout.V2_1),
]

# 2.3-2.7, every number in CPython's list: (magic, label)
_PY2: List[Tuple[int, str]] = [
    (62011, "2.3a0"),
    (62021, "2.3a0"),
    (62041, "2.4a0"),
    (62051, "2.4a3"),
    (62061, "2.4b1"),
    (62071, "2.5a0"),
    (62081, "2.5a0"),
    (62091, "2.5a0"),
    (62092, "2.5a0"),
    (62101, "2.5b3"),
    (62111, "2.5b3"),
    (62121, "2.5c1"),
    (62131, "2.5c2"),
    (62151, "2.6a0"),
    (62161, "2.6a1"),
    (62171, "2.7a0"),
    (62181, "2.7a0"),
    (62191, "2.7a0"),
    (62201, "2.7a0"),
    (62211, "2.7a0"),
]

# CPython 3: (first magic, last magic, version, layout, header size).  Pre-release
# numbers are listed with the release they lead to; layouts change by magic, not by
# minor version (FACTS.md 1.2, 1.3, 4.1).  3.16 is CPython's main branch: its list
# starts at 3700 ("Python 3.16 will start with 3700", 3.15.2's pycore_magic_number.h);
# its layout is 3.15's, and Py_MARSHAL_VERSION is 6 on main and in 3.15
# (Include/cpython/marshal.h of 3.15.2; gh-155315 marshals frozendicts on "3.16 (main)").
_PY3_RANGES: List[Tuple[int, int, Tuple[int, int], Optional[CodeLayout], int]] = [
    (3000, 3131, (3, 0), CodeLayout.V3_0, 8),
    (3141, 3151, (3, 1), CodeLayout.V3_0, 8),
    (3160, 3180, (3, 2), CodeLayout.V3_0, 8),
    (3190, 3200, (3, 3), CodeLayout.V3_0, 8),
    (3210, 3230, (3, 3), CodeLayout.V3_0, 12),  # 3210: source size added
    (3250, 3310, (3, 4), CodeLayout.V3_0, 12),
    (3320, 3351, (3, 5), CodeLayout.V3_0, 12),
    (3360, 3379, (3, 6), CodeLayout.V3_0, 12),
    (3390, 3391, (3, 7), CodeLayout.V3_0, 12),
    (3392, 3394, (3, 7), CodeLayout.V3_0, 16),  # 3392: PEP 552 flags word
    (3400, 3401, (3, 8), CodeLayout.V3_0, 16),
    (3410, 3413, (3, 8), CodeLayout.V3_8, 16),  # 3410: posonlyargcount
    (3420, 3425, (3, 9), CodeLayout.V3_8, 16),
    (3430, 3430, (3, 10), CodeLayout.V3_8, 16),
    (3431, 3439, (3, 10), CodeLayout.V3_10, 16),  # 3431: PEP 626 line table
    (3450, 3459, (3, 11), None, 16),  # unreleased intermediate layouts
    (3460, 3493, (3, 11), CodeLayout.V3_11A, 16),
    (3494, 3499, (3, 11), CodeLayout.V3_11, 16),
    (3500, 3549, (3, 12), CodeLayout.V3_11, 16),
    (3550, 3599, (3, 13), CodeLayout.V3_11, 16),
    (3600, 3649, (3, 14), CodeLayout.V3_11, 16),
    (3650, 3699, (3, 15), CodeLayout.V3_11, 16),
    (3700, 3749, (3, 16), CodeLayout.V3_11, 16),
]
# The numbers CPython's list actually has, within those ranges, and their labels.
# 3.0-3.14: FACTS.md 1.3; 3.15: the list in 3.15.2's own pycore_magic_number.h (its
# 3656 is "Add TRACE_RECORD instruction"; lazy imports moved to 3661 before 3.15a4).
_PY3_LABELS: Dict[int, str] = {}
for _labels, _numbers in [
    ("3.0 dev", [3000, 3010, 3020, 3030, 3040, 3050, 3060, 3061, 3071, 3081, 3091, 3101, 3103]),
    ("3.0a4", [3111]),
    ("3.0b1", [3131]),
    ("3.1a1", [3141, 3151]),
    ("3.2a1", [3160]),
    ("3.2a2", [3170]),
    ("3.2a3", [3180]),
    ("3.3a1", [3190, 3200, 3210]),
    ("3.3a2", [3220]),
    ("3.3a4", [3230]),
    ("3.4a1", [3250, 3260, 3270, 3280]),
    ("3.4a4", [3290, 3300]),
    ("3.4rc2", [3310]),
    ("3.5a1", [3320]),
    ("3.5b1", [3330]),
    ("3.5b2", [3340]),
    ("3.5b3", [3350]),
    ("3.5.3", [3351]),  # the list says "3.5.2"; the 3.5.2 tarball still has 3350
    ("3.6a0", [3360]),
    ("3.6a1", [3361]),
    ("3.6a2", [3370, 3371, 3372]),
    ("3.6b1", [3373, 3375, 3376, 3377]),
    ("3.6b2", [3378]),
    ("3.6rc1", [3379]),
    ("3.7a1", [3390]),
    ("3.7a2", [3391]),
    ("3.7a4", [3392]),
    ("3.7b1", [3393]),
    ("3.7b5", [3394]),
    ("3.8a1", [3400, 3401, 3410]),
    ("3.8b2", [3411, 3412]),
    ("3.8b4", [3413]),
    ("3.9a0", [3420, 3421, 3422]),
    ("3.9a2", [3423, 3424, 3425]),
    ("3.10a1", [3430, 3431]),
    ("3.10a2", [3432, 3433]),
    ("3.10a6", [3434]),
    ("3.10a7", [3435]),
    ("3.10b1", [3436, 3437, 3438, 3439]),
    ("3.11a1", list(range(3450, 3462))),
    ("3.11a2", [3462]),
    ("3.11a3", [3463, 3464, 3465]),
    ("3.11a4", list(range(3466, 3475))),
    ("3.11a5", list(range(3475, 3486))),
    ("3.11a6", list(range(3486, 3492))),
    ("3.11a7", [3492, 3493, 3494]),
    ("3.11b4", [3495]),
    ("3.12a1", list(range(3500, 3510))),
    ("3.12a2", [3510, 3511, 3512]),
    ("3.12a4", [3513, 3514]),
    ("3.12a5", [3515, 3516, 3517]),
    ("3.12a6", [3518, 3519, 3520]),
    ("3.12a7", [3521, 3522, 3523, 3524]),
    ("3.12b1", list(range(3525, 3532))),
    ("3.13a1", list(range(3550, 3569))),
    ("3.13a5", [3569]),
    ("3.13a6", [3570]),
    ("3.13b1", [3571]),
    ("3.14a1", list(range(3600, 3609))),
    ("3.14a2", [3609]),
    ("3.14a4", [3610, 3611, 3612, 3613]),
    ("3.14a5", [3614, 3615, 3616]),
    ("3.14a6", [3617, 3618, 3619, 3620]),
    ("3.14a7", [3621, 3622, 3623]),
    ("3.14b1", [3624]),
    ("3.14b3", [3625]),
    ("3.14rc2", [3626]),
    ("3.14rc3", [3627]),
    ("3.15a0", [3650]),
    ("3.15a1", list(range(3651, 3657))),
    ("3.15a4", list(range(3657, 3662))),
    ("3.15a8", list(range(3662, 3666))),
    ("3.15b1", [3666]),
]:
    for _n in _numbers:
        _PY3_LABELS[_n] = _labels

# The first release (pre-releases included) that wrote each magic.  3.7-3.13: FACTS.md 1.2,
# read from the release trees (the list's labels can be one pre-release early: 3410 is
# labelled 3.8a1 but 3.8a1-a3 wrote 3401).  3.14 and 3.15 had no tree here: the list's
# labels name the *upcoming* pre-release, so the last number of each label is what that
# pre-release wrote (from 3.14a1 on, where FIRST_BY_LABEL starts).  3.5.3: FACTS.md 1.2.
_FIRST_WRITTEN: Dict[int, str] = {
    3351: "3.5.3",
    3392: "3.7a4", 3393: "3.7b1", 3394: "3.7b5",
    3401: "3.8a1", 3410: "3.8a4", 3411: "3.8b2", 3412: "3.8b3", 3413: "3.8b4",
    3420: "3.9a1", 3422: "3.9a2", 3424: "3.9a3", 3425: "3.9a4",
    3430: "3.10a2", 3432: "3.10a3", 3433: "3.10a4", 3434: "3.10a6", 3435: "3.10a7", 3439: "3.10b1",
    3460: "3.11a1", 3462: "3.11a2", 3465: "3.11a3", 3474: "3.11a4", 3478: "3.11a5",
    3485: "3.11a6", 3491: "3.11a7", 3494: "3.11b1", 3495: "3.11b4",
    3509: "3.12a1", 3512: "3.12a2", 3514: "3.12a4", 3517: "3.12a5", 3520: "3.12a6", 3524: "3.12a7", 3531: "3.12b1",
    3563: "3.13a1", 3565: "3.13a2", 3566: "3.13a3", 3568: "3.13a4", 3569: "3.13a5", 3570: "3.13b1", 3571: "3.13b2",
}
_FIRST_BY_LABEL = 3600
for _label in sorted(set(label for n, label in _PY3_LABELS.items() if n >= _FIRST_BY_LABEL)):
    if "a0" not in _label:  # "3.15a0" is the start of development, not a release
        _FIRST_WRITTEN[max(n for n, label in _PY3_LABELS.items() if label == _label)] = _label

# PyPy: (magic, version, header size, marshal version, layout, released, first release,
# where the facts come from).  PyPy's number is pypy_incremental_magic in
# pypy/interpreter/pycode.py (a multiple of 16 below 3000), PyPy 2's is CPython 2.7's + 7
# (FACTS.md 1.6).  "asked" rows were measured with PyPy interpreters from Debian's archive
# (compile a module, read its header, marshal code objects and walk their fields).
_PYPY: List[Tuple[int, Tuple[int, int], int, int, Optional[CodeLayout], bool, str, str]] = [
    (62218, (2, 7), 8, 2, CodeLayout.V2_3, True, "", "asked PyPy 7.3.3 (Python 2.7.18)"),
    (48, (3, 2), 8, 2, CodeLayout.V3_0, True, "",
     "PyPy3 2.x pycs (issue 12); PyPy3's importing.py: MARSHAL_VERSION_FOR_PYC = 2, CPython 3.2's import"),
    (64, (3, 3), 12, 2, CodeLayout.V3_0, True, "",
     "PyPy3.3 5.x; the py3.5 branch bumped 64 to 80 in August 2016 (FACTS.md 1.6)"),
    (112, (3, 5), 12, 4, CodeLayout.V3_0, True, "", "pycode.py in PyPy's py3.5 branch: pypy_incremental_magic = 112"),
    (160, (3, 6), 12, 4, CodeLayout.V3_0, True, "", "PyPy3.6 pycs (issue 12)"),
    (192, (3, 6), 12, 4, CodeLayout.V3_0, True, "", "PyPy3.6 pycs (issue 12)"),
    (224, (3, 7), 16, 4, CodeLayout.V3_0, True, "",
     "PyPy3.7 7.3.2-7.3.3 (7.3.4's release notes: 'update pyc magic number')"),
    (240, (3, 7), 16, 4, CodeLayout.V3_0, True, "", "asked PyPy 7.3.5 (Python 3.7.10)"),
    (256, (3, 8), 16, 4, CodeLayout.V3_8, True, "",
     "PyPy3.8 7.3.10-7.3.11 (7.3.6-7.3.9 wrote CPython's 3413: PyPy issue 3783, fixed in 7.3.10); UNCONFIRMED"),
    (336, (3, 9), 16, 4, CodeLayout.V3_8, True, "", "asked PyPy 7.3.11 (Python 3.9.16)"),
    (384, (3, 10), 16, 4, CodeLayout.V3_8, True, "",
     "pycode.py in PyPy's py3.10 branch (16 fields, co_linetable where co_lnotab was); Gentoo pypy310-pp73-384"),
    (400, (3, 11), 16, 4, CodeLayout.V3_8, True, "PyPy 7.3.18",
     "Gentoo's dev-lang/pypy-3.11.7.3.18 (subslot checked against the binary); layout: co_qualname came in 7.3.19"),
    (416, (3, 11), 16, 4, CodeLayout.PYPY_416, True, "PyPy 7.3.19",
     "asked PyPy 7.3.19 (Python 3.11.11): the 3.8 fields with co_qualname after co_name; its stdlib pycs round-trip"),
    (432, (3, 11), 16, 4, CodeLayout.PYPY_432, True, "",
     "asked PyPy 8.0.1 (Python 3.11.17), Gentoo pypy-3.11.7.3.23: co_qualname and a trailing co_exceptiontable; "
     "its stdlib pycs round-trip"),
    (448, (3, 12), 16, 4, CodeLayout.PYPY_432, True, "PyPy 8.0.0",
     "Gentoo's dev-lang/pypy-3.12.8.0.0 (subslot pypy312-pp80-448); layout: 8.0's 3.11 one, UNCONFIRMED (no PyPy 3.12 here)"),
]

# The magic each version's releases write: format_for_version's answer, and where it comes
# from.  "asked X" = importlib.util.MAGIC_NUMBER (imp.get_magic() on 2.7) of interpreter X,
# which tests/test_versions.py asks again of every interpreter it finds.
_RELEASES: List[Tuple[str, Tuple[int, int], int, str]] = [
    ("cpython", (1, 0), 0x00999902, "UNCONFIRMED: the unpyc decompiler's table (FACTS.md 1.1)"),
    ("cpython", (1, 1), 0x00999903, "a 1.1/1.2-era Lib/compile.py (FACTS.md 1.1); UNCONFIRMED"),
    ("cpython", (1, 2), 0x00999903, "a 1.1/1.2-era Lib/compile.py (FACTS.md 1.1); UNCONFIRMED"),
    ("cpython", (1, 3), 11913, "UNCONFIRMED: unpyc and libmagic (FACTS.md 1.2)"),
    ("cpython", (1, 4), 5892, "CPython's Python/import.c at tag v1.4"),
    ("cpython", (1, 5), 20121, "the magic list in CPython's Python/import.c"),
    ("cpython", (1, 6), 50428, "the magic list in CPython's Python/import.c"),
    ("cpython", (2, 0), 50823, "the magic list in CPython's Python/import.c"),
    ("cpython", (2, 1), 60202, "the magic list in CPython's Python/import.c"),
    ("cpython", (2, 2), 60717, "the magic list in CPython's Python/import.c"),
    ("cpython", (2, 3), 62011, "CPython's Python/import.c at tag v2.3.7"),
    ("cpython", (2, 4), 62061, "CPython's Python/import.c at tag v2.4.6"),
    ("cpython", (2, 5), 62131, "CPython's Python/import.c at tag v2.5.6"),
    ("cpython", (2, 6), 62161, "CPython's Python/import.c at tag v2.6.9"),
    ("cpython", (2, 7), 62211, "asked CPython 2.7.18"),
    ("cpython", (3, 0), 3131, "UNCONFIRMED: no 3.0 tree; the launcher's range and 3.1's MAGIC + 1 (FACTS.md 1.4)"),
    ("cpython", (3, 1), 3151, "CPython's Python/import.c at tag v3.1.5 (MAGIC 3150, written as MAGIC + 1)"),
    ("cpython", (3, 2), 3180, "CPython's Python/import.c at tag v3.2.6"),
    ("cpython", (3, 3), 3230, "CPython's Lib/importlib/_bootstrap.py at tag v3.3.7"),
    ("cpython", (3, 4), 3310, "CPython's Lib/importlib/_bootstrap.py at tag v3.4.10"),
    ("cpython", (3, 5), 3351, "CPython's Lib/importlib/_bootstrap_external.py at tag v3.5.10 (3.5.0-3.5.2: 3350)"),
    ("cpython", (3, 6), 3379, "asked CPython 3.6.15"),
    ("cpython", (3, 7), 3394, "asked CPython 3.7.16"),
    ("cpython", (3, 8), 3413, "asked CPython 3.8.18"),
    ("cpython", (3, 9), 3425, "asked CPython 3.9.18"),
    ("cpython", (3, 10), 3439, "asked CPython 3.10.13"),
    ("cpython", (3, 11), 3495, "asked CPython 3.11.7"),
    ("cpython", (3, 12), 3531, "asked CPython 3.12.1"),
    ("cpython", (3, 13), 3571, "asked CPython 3.13.0"),
    ("cpython", (3, 14), 3627, "asked CPython 3.14.10"),
    ("cpython", (3, 15), 3666, "asked CPython 3.15.2"),
    ("pypy", (2, 7), 62218, "asked PyPy 7.3.3 (Python 2.7.18)"),
    ("pypy", (3, 2), 48, "PyPy3 2.x pycs (issue 12)"),
    ("pypy", (3, 3), 64, "PyPy3.3 5.x (FACTS.md 1.6)"),
    ("pypy", (3, 5), 112, "pycode.py in PyPy's py3.5 branch"),
    ("pypy", (3, 6), 192, "PyPy3.6 pycs (issue 12); the later of its two numbers"),
    ("pypy", (3, 7), 240, "asked PyPy 7.3.5 (Python 3.7.10)"),
    ("pypy", (3, 8), 256, "PyPy3.8 7.3.10-7.3.11; UNCONFIRMED"),
    ("pypy", (3, 9), 336, "asked PyPy 7.3.11 (Python 3.9.16)"),
    ("pypy", (3, 10), 384, "pycode.py in PyPy's py3.10 branch; Gentoo pypy310-pp73-384"),
    ("pypy", (3, 11), 432, "asked PyPy 8.0.1 (Python 3.11.17)"),
    ("pypy", (3, 12), 448, "Gentoo's dev-lang/pypy-3.12.8.0.0"),
]
# Magics final releases wrote besides those: 3.5.0-3.5.2's 3350 (FACTS.md 1.2).  (PyPy's
# released numbers are marked in _PYPY.)
_ALSO_RELEASED = [3350]


def release_source(version: VersionLike) -> str:
    """Where the default magic of ``version`` (:func:`format_for_version`) comes from."""
    v = as_version(version)
    for implementation, (major, minor), _number, source in _RELEASES:
        if (implementation, major, minor) == (v.implementation, v.major, v.minor):
            return source
    raise ValueError(f"no pyc format is known for {v}")


def _word(number: int) -> bytes:
    """The 4 magic bytes for a magic number (a 32-bit word below 1.3)."""
    if number > 0xFFFF:
        return number.to_bytes(4, "little")
    return number.to_bytes(2, "little") + _CRLF


_BY_MAGIC: Dict[bytes, PycFormat] = {}
_BY_VERSION: Dict[Tuple[str, int, int], PycFormat] = {}


def _add(fmt: PycFormat) -> None:
    _BY_MAGIC[fmt.magic] = fmt


def _build_table() -> None:
    released = {_word(n) for impl, _v, n, _s in _RELEASES if impl == "cpython"} | {_word(n) for n in _ALSO_RELEASED}
    for number, label, ver, layout in _OLD:
        fmt = PycFormat(_word(number), PythonVersion(*ver), label, 8, _marshal_version(ver), layout, _max_depth(ver))
        _add(attrs.evolve(fmt, released=fmt.magic in released))
    for number, label in _PY2:
        ver = (2, int(label[2]))
        fmt = PycFormat(_word(number), PythonVersion(*ver), label, 8, _marshal_version(ver), CodeLayout.V2_3, _max_depth(ver))
        _add(attrs.evolve(fmt, released=fmt.magic in released))
    # -U (1.6-2.7) writes MAGIC + 1 (FACTS.md 1.4); the list skips those numbers on purpose.
    for fmt in list(_BY_MAGIC.values()):
        plus_one = _word(fmt.magic_number + 1)
        if (1, 6) <= fmt.version < (3, 0) and plus_one not in _BY_MAGIC:
            _add(attrs.evolve(fmt, magic=plus_one, label=fmt.label + " -U"))
    for first, last, ver3, layout3, header in _PY3_RANGES:
        for number in range(first, last + 1):
            _add(
                PycFormat(
                    _word(number),
                    PythonVersion(*ver3),
                    _PY3_LABELS.get(number, f"{ver3[0]}.{ver3[1]} dev"),
                    header,
                    _py3_marshal(number),
                    layout3,
                    _max_depth(ver3),
                    released=_word(number) in released,
                    first_release=_FIRST_WRITTEN.get(number, ""),
                )
            )
    # 3.1's source defines 3150 but writes 3151; accept the define too.
    _add(attrs.evolve(_BY_MAGIC[_word(3151)], magic=_word(3150), label="3.1 (define)", released=False, first_release=""))
    for number, pver, header, marshal, playout, was_released, first_written, _source in _PYPY:
        version = PythonVersion(pver[0], pver[1], "pypy")
        _add(PycFormat(_word(number), version, f"PyPy {pver[0]}.{pver[1]}", header, marshal, playout, _max_depth(pver), was_released, first_written))
    for impl, (major, minor), number, _source in _RELEASES:
        fmt = _BY_MAGIC[_word(number)]
        if (fmt.version.major, fmt.version.minor) != (major, minor):
            fmt = attrs.evolve(fmt, version=PythonVersion(major, minor, impl))
        _BY_VERSION[(impl, major, minor)] = fmt


_build_table()


def known_formats() -> List[PycFormat]:
    """Every row of the magic table, ordered by implementation, version, then magic.

    Includes pre-release magics, the 2.x ``-U`` variants and any magic added with
    :func:`register_magic`.
    """
    return sorted(
        _BY_MAGIC.values(),
        key=lambda f: (f.version.implementation, f.version.major, f.version.minor, f.magic_number),
    )


def format_for_magic(magic: bytes, *, offset: int = 0) -> PycFormat:
    """The table row for 4 magic bytes.

    Raises :class:`UnknownMagicError` (with ``offset`` as its offset) if there is none.
    """
    fmt = _BY_MAGIC.get(bytes(magic))
    if fmt is None:
        raise UnknownMagicError(bytes(magic), offset=offset)
    return fmt


def format_for_version(version: VersionLike) -> PycFormat:
    """The format the final releases of ``version`` write (for CPython 3.14, magic 3627;
    for 3.15, 3666): :func:`release_source` says where each one comes from.

    ``(3, 12)`` means CPython 3.12; pass ``PythonVersion(3, 9, "pypy")`` for PyPy.  Raises
    ``ValueError`` for a version pycfile knows no pyc format of, and ``TypeError`` for
    something that is not a version.
    """
    v = as_version(version)
    fmt = _BY_VERSION.get((v.implementation, v.major, v.minor))
    if fmt is None:
        known = ", ".join(f"{i} {a}.{b}" for i, a, b in sorted(_BY_VERSION))
        raise ValueError(f"no pyc format is known for {v}; known: {known}")
    return fmt


def register_magic(
    magic: Union[int, bytes],
    *,
    like: Union[VersionLike, PycFormat],
    version: Optional[VersionLike] = None,
    label: Optional[str] = None,
    replace: bool = False,
) -> PycFormat:
    """Teach pycfile a magic number of your own.

    ``magic`` is the 16-bit number (CR LF is added) or the 4 raw bytes.  The new format
    copies its header, marshal and code layout from ``like`` (a version or a format);
    ``version`` and ``label`` default to that format's.  An existing magic is only
    replaced when ``replace=True``.  No release is known to write it: the new format's
    ``released`` is false and its ``first_release`` empty.
    """
    raw = magic if isinstance(magic, bytes) else _word(magic)
    if len(raw) != 4:
        raise ValueError(f"a magic is 4 bytes, got {len(raw)}")
    base = like if isinstance(like, PycFormat) else format_for_version(like)
    if raw in _BY_MAGIC and not replace:
        raise ValueError(f"magic {raw.hex(' ')} is already known as {_BY_MAGIC[raw].label}; pass replace=True")
    fmt = attrs.evolve(
        base,
        magic=raw,
        version=base.version if version is None else as_version(version),
        label=label or f"{base.label} (registered)",
        released=False,
        first_release="",
    )
    _add(fmt)
    return fmt
