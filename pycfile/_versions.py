"""Python versions and the magic-number table.

Everything the reader and writer need to know about a pyc's format is looked up here,
once, from the magic number: the Python version, the header layout, the marshal
version, the code-object layout and the nesting limit.  The facts come from
``shared/FACTS.md`` (sections 1-4), which cites CPython's sources for each value.
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

    Each member is named for the first release that used it.
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


@attrs.frozen
class PycFormat:
    """One row of the magic-number table: how a pyc with this magic is laid out."""

    #: The 4 magic bytes at the start of the file.
    magic: bytes
    #: The Python version that writes this magic.
    version: PythonVersion
    #: The label in CPython's magic list, e.g. ``"3.12b1"`` or ``"2.7 -U"``.
    label: str
    #: Header size in bytes: 8 (<= 3.2), 12 (3.3-3.6), 16 (3.7+, PEP 552).
    header_size: int
    #: The marshal format version that this Python writes pycs with (0-6).
    marshal_version: int
    #: The code-object layout; ``None`` for unreleased layouts nobody reconstructed.
    code_layout: Optional[CodeLayout]
    #: ``MAX_MARSHAL_STACK_DEPTH`` of this version's reader (POSIX value).
    max_depth: int

    @property
    def magic_number(self) -> int:
        """The magic as a number: the 16-bit value (1.3+) or the 32-bit word (1.0-1.2)."""
        word = int.from_bytes(self.magic, "little")
        return word & 0xFFFF if self.magic[2:] == b"\r\n" else word


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
# The table.  Magic numbers and labels: FACTS.md 1.2-1.4 and 1.6.

_CRLF = b"\r\n"


def _max_depth(version: Tuple[int, int]) -> int:
    # FACTS.md 3.6: 2.5+ readers stop at 2000; earlier readers had no check, and their
    # writers stopped at 5000, which is the deepest any real pyc of theirs can be.
    return 2000 if version >= (2, 5) else 5000


def _marshal_version(version: Tuple[int, int]) -> int:
    # FACTS.md 3.1: what each release writes pycs with.
    if version <= (2, 3):
        return 0
    if version == (2, 4):
        return 1
    if version < (3, 4):
        return 2
    if version < (3, 14):
        return 4
    if version == (3, 14):
        return 5
    return 6


# 1.x-2.2: (magic word or number, label, version, layout, header uses CR LF)
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
# minor version (FACTS.md 1.2, 1.3, 4.1).
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
]
# The numbers CPython's list actually has, within those ranges, and their labels.
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
    ("3.5.3", [3351]),
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
    ("3.15 dev", [3657]),
]:
    for _n in _numbers:
        _PY3_LABELS[_n] = _labels
# 3.14 moved slices into constants at 3608 (marshal 5); 3.15 frozendict (marshal 6)
# came in mid-cycle at a number nobody here could confirm, so 3.15 reads it throughout.
_PY3_MARSHAL_FIX = {n: 4 for n in range(3600, 3608)}

# PyPy: (magic, version, layout, header size).  FACTS.md 1.6.
_PYPY: List[Tuple[int, Tuple[int, int], CodeLayout, int]] = [
    (62218, (2, 7), CodeLayout.V2_3, 8),
    (336, (3, 9), CodeLayout.V3_8, 16),
    (384, (3, 10), CodeLayout.V3_8, 16),
    (416, (3, 11), CodeLayout.V3_8, 16),
    (432, (3, 11), CodeLayout.V3_8, 16),
]

# The magic each release writes (used when a caller passes version= or makes a pyc).
_RELEASE_MAGIC: Dict[Tuple[str, int, int], int] = {
    ("cpython", 1, 0): 0x00999902,
    ("cpython", 1, 1): 0x00999903,
    ("cpython", 1, 2): 0x00999903,
    ("cpython", 1, 3): 11913,
    ("cpython", 1, 4): 5892,
    ("cpython", 1, 5): 20121,
    ("cpython", 1, 6): 50428,
    ("cpython", 2, 0): 50823,
    ("cpython", 2, 1): 60202,
    ("cpython", 2, 2): 60717,
    ("cpython", 2, 3): 62011,
    ("cpython", 2, 4): 62061,
    ("cpython", 2, 5): 62131,
    ("cpython", 2, 6): 62161,
    ("cpython", 2, 7): 62211,
    ("cpython", 3, 0): 3131,
    ("cpython", 3, 1): 3151,
    ("cpython", 3, 2): 3180,
    ("cpython", 3, 3): 3230,
    ("cpython", 3, 4): 3310,
    ("cpython", 3, 5): 3351,
    ("cpython", 3, 6): 3379,
    ("cpython", 3, 7): 3394,
    ("cpython", 3, 8): 3413,
    ("cpython", 3, 9): 3425,
    ("cpython", 3, 10): 3439,
    ("cpython", 3, 11): 3495,
    ("cpython", 3, 12): 3531,
    ("cpython", 3, 13): 3571,
    ("cpython", 3, 14): 3627,
    ("cpython", 3, 15): 3657,
    ("pypy", 2, 7): 62218,
    ("pypy", 3, 9): 336,
    ("pypy", 3, 10): 384,
    ("pypy", 3, 11): 416,
}


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
    for number, label, ver, layout in _OLD:
        _add(PycFormat(_word(number), PythonVersion(*ver), label, 8, _marshal_version(ver), layout, _max_depth(ver)))
    for number, label in _PY2:
        ver = (2, int(label[2]))
        _add(PycFormat(_word(number), PythonVersion(*ver), label, 8, _marshal_version(ver), CodeLayout.V2_3, _max_depth(ver)))
    # -U (1.6-2.7) writes MAGIC + 1 (FACTS.md 1.4); the list skips those numbers on purpose.
    for fmt in list(_BY_MAGIC.values()):
        plus_one = _word(fmt.magic_number + 1)
        if (1, 6) <= fmt.version < (3, 0) and plus_one not in _BY_MAGIC:
            _add(attrs.evolve(fmt, magic=plus_one, label=fmt.label + " -U"))
    for first, last, ver3, layout3, header in _PY3_RANGES:
        for number in range(first, last + 1):
            label = _PY3_LABELS.get(number, f"{ver3[0]}.{ver3[1]} dev")
            marshal = _PY3_MARSHAL_FIX.get(number, _marshal_version(ver3))
            _add(PycFormat(_word(number), PythonVersion(*ver3), label, header, marshal, layout3, _max_depth(ver3)))
    # 3.1's source defines 3150 but writes 3151; accept the define too.
    _add(attrs.evolve(_BY_MAGIC[_word(3151)], magic=_word(3150), label="3.1 (define)"))
    for number, pver, playout, header in _PYPY:
        marshal = 2 if pver[0] == 2 else 4
        _add(PycFormat(_word(number), PythonVersion(pver[0], pver[1], "pypy"), f"PyPy {pver[0]}.{pver[1]}", header, marshal, playout, _max_depth(pver)))
    for (impl, major, minor), number in _RELEASE_MAGIC.items():
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
    """The format the final release of ``version`` writes.

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
    replaced when ``replace=True``.
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
    )
    _add(fmt)
    return fmt
