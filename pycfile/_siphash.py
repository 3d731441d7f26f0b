"""Pure-Python SipHash, and the source hash of hash-based pycs (PEP 552).

CPython's ``importlib.util.source_hash`` is ``SipHash(k0=magic word, k1=0, source)``
as 8 little-endian bytes: SipHash-2-4 in 3.7-3.10 and PyPy, SipHash-1-3 from CPython
3.11 on (FACTS.md section 2).
"""

from __future__ import annotations

import struct
from typing import Union

from ._versions import PycFormat, VersionLike, format_for_version

__all__ = ["siphash", "source_hash"]

_MASK = 0xFFFFFFFFFFFFFFFF


def siphash(key0: int, key1: int, data: bytes, c_rounds: int = 2, d_rounds: int = 4) -> int:
    """SipHash-c-d of ``data`` with the 128-bit key ``(key0, key1)``, as an int."""
    v0 = key0 ^ 0x736F6D6570736575
    v1 = key1 ^ 0x646F72616E646F6D
    v2 = key0 ^ 0x6C7967656E657261
    v3 = key1 ^ 0x7465646279746573
    n = len(data)
    whole = n - n % 8
    words = list(struct.unpack_from(f"<{whole // 8}Q", data)) if whole else []
    tail = data[whole:] + bytes(7 - n % 8)
    words.append(int.from_bytes(tail, "little") | ((n & 0xFF) << 56))

    def rounds(count: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(count):
            v0 = (v0 + v1) & _MASK
            v1 = ((v1 << 13) | (v1 >> 51)) & _MASK
            v1 ^= v0
            v0 = ((v0 << 32) | (v0 >> 32)) & _MASK
            v2 = (v2 + v3) & _MASK
            v3 = ((v3 << 16) | (v3 >> 48)) & _MASK
            v3 ^= v2
            v0 = (v0 + v3) & _MASK
            v3 = ((v3 << 21) | (v3 >> 43)) & _MASK
            v3 ^= v0
            v2 = (v2 + v1) & _MASK
            v1 = ((v1 << 17) | (v1 >> 47)) & _MASK
            v1 ^= v2
            v2 = ((v2 << 32) | (v2 >> 32)) & _MASK

    for m in words:
        v3 ^= m
        rounds(c_rounds)
        v0 ^= m
    v2 ^= 0xFF
    rounds(d_rounds)
    return v0 ^ v1 ^ v2 ^ v3


def source_hash(source: bytes, version: Union[VersionLike, PycFormat]) -> bytes:
    """The 8-byte source hash that ``version`` stores in a hash-based pyc of ``source``.

    Equal to ``importlib.util.source_hash(source)`` run under that interpreter.
    ``version`` may be a version or a :class:`~pycfile.PycFormat` (whose magic is the key).
    """
    fmt = version if isinstance(version, PycFormat) else format_for_version(version)
    v = fmt.version
    if v < (3, 7) or (v.implementation == "pypy" and v < (3, 0)):
        raise ValueError(f"{v} has no hash-based pycs (PEP 552 came in 3.7)")
    key = int.from_bytes(fmt.magic, "little")
    c, d = (1, 3) if v.implementation == "cpython" and v >= (3, 11) else (2, 4)
    return siphash(key, 0, bytes(source), c, d).to_bytes(8, "little")
