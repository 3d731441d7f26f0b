"""Mutated real pycs: pycfile either reads them or raises a PycError, quickly.

For every version available -- each committed fixture set (tests/fixtures/<impl>-<v>/)
and each folder of ../shared/samples/ -- 200 deterministic mutated copies of its
pycs (seeded ``random.Random``): bit flips, byte changes, truncations, inserted and
deleted bytes, and 4-byte length fields overwritten with huge or negative values.  Each
must either load, and then write back (``dumps`` may only raise a PycError, and if it
writes, it writes the bytes read), or raise a PycError subclass -- never anything
else -- and no single case may take more than 2 seconds.

A failure message names the set, the case number and the mutations, so a case can be
rebuilt with ``mutate(random.Random(f"{set}:{case}"), files)``.
"""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pycfile
import shared_samples

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"

CASES_PER_VERSION = 200
MAX_SECONDS = 2.0

#: Type codes followed by a 4-byte count or index (FLAG_REF bit cleared).
_SIZED = frozenset(b"s(<>[aAutlRriI")


def _version_sets() -> List[Any]:
    sets = []
    for d in sorted(FIXTURES.iterdir()):
        if d.is_dir() and d.name != "broken":
            files = sorted(d.glob("*.pyc"))
            if files:
                sets.append(pytest.param(f"fixtures/{d.name}", files, id=f"fixtures/{d.name}"))
    for d in shared_samples.folders():
        files = sorted(d.glob("*.pyc"))
        sets.append(pytest.param(f"samples/{d.name}", files, id=f"samples/{d.name}", marks=pytest.mark.shared_samples))
    return sets


VERSION_SETS = _version_sets()


def mutate(rng: random.Random, files: List[Path]) -> Tuple[Path, bytes, List[str]]:
    """One mutated copy of one of ``files``: (base file, bytes, what was done)."""
    base = rng.choice(files)
    data = bytearray(base.read_bytes())
    done: List[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.choice(("bitflip", "byte", "truncate", "insert", "delete", "length", "length"))
        n = len(data)
        if n == 0:
            break
        if kind == "bitflip":
            pos, bit = rng.randrange(n), rng.randrange(8)
            data[pos] ^= 1 << bit
            done.append(f"bitflip@{pos}.{bit}")
        elif kind == "byte":
            pos, value = rng.randrange(n), rng.randrange(256)
            data[pos] = value
            done.append(f"byte@{pos}={value:#04x}")
        elif kind == "truncate":
            pos = rng.randrange(n)
            del data[pos:]
            done.append(f"truncate@{pos}")
        elif kind == "insert":
            pos = rng.randrange(n + 1)
            extra = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
            data[pos:pos] = extra
            done.append(f"insert@{pos}={extra.hex()}")
        elif kind == "delete":
            pos = rng.randrange(n)
            count = rng.randrange(1, 5)
            del data[pos : pos + count]
            done.append(f"delete@{pos}+{count}")
        else:
            # A type code that takes a 4-byte count: overwrite that count.
            candidates = [i for i in range(n - 4) if data[i] & 0x7F in _SIZED]
            pos = rng.choice(candidates) if candidates else rng.randrange(max(n - 4, 1))
            value = rng.choice(
                (0x7FFFFFFF, -1, -2, -0x80000000, 0x10000000, 0xFFFF, n, n + 1, rng.randrange(-(2**31), 2**31))
            )
            data[pos + 1 : pos + 5] = struct.pack("<i", value)
            done.append(f"length@{pos}={value}")
    return base, bytes(data), done


def check_one(data: bytes) -> str:
    """'' if pycfile handled ``data`` correctly, else what went wrong."""
    try:
        pyc = pycfile.loads(data)
    except pycfile.PycError:
        return ""
    except Exception as e:  # noqa: BLE001 - anything else is the bug we look for
        return f"loads raised {type(e).__name__}: {e}"[:300]
    try:
        out = pycfile.dumps(pyc)
    except pycfile.PycError:
        return ""
    except Exception as e:  # noqa: BLE001
        return f"dumps raised {type(e).__name__}: {e}"[:300]
    if out != data:
        at = next((i for i, (a, b) in enumerate(zip(out, data)) if a != b), min(len(out), len(data)))
        return f"loaded, but dumps differs from the input at byte {at} ({len(out)} vs {len(data)} bytes)"
    return ""


@pytest.mark.shared_samples
def test_samples_present() -> None:
    """The sample folders are part of the mutated sets (skipped, or failed under
    PYCFILE_STRICT=1, without them)."""
    assert any(str(p.values[0]).startswith("samples/") for p in VERSION_SETS)


@pytest.mark.parametrize("name, files", VERSION_SETS)
def test_mutated_pycs(name: str, files: List[Path]) -> None:
    failures = []
    slow = []
    outcomes = {"loaded": 0, "error": 0}
    for case in range(CASES_PER_VERSION):
        rng = random.Random(f"{name}:{case}")
        base, data, done = mutate(rng, files)
        start = time.perf_counter()
        problem = check_one(data)
        elapsed = time.perf_counter() - start
        where = f"{name} case {case} ({base.name}: {', '.join(done)})"
        if problem:
            failures.append(f"{where}: {problem}")
        if elapsed > MAX_SECONDS:
            slow.append(f"{where}: {elapsed:.2f}s")
        try:
            pycfile.loads(data)
            outcomes["loaded"] += 1
        except Exception:  # noqa: BLE001 - counted only
            outcomes["error"] += 1
    assert not failures, f"{len(failures)} of {CASES_PER_VERSION} cases failed:\n" + "\n".join(failures[:15])
    assert not slow, "too slow:\n" + "\n".join(slow[:15])
    # The mutations reach past the header: some copies still load, most do not.
    assert outcomes["error"] > 0


# ---- hypothesis: bare marshal streams --------------------------------------------

VERSIONS = [
    (1, 0),
    (1, 5),
    (2, 2),
    (2, 7),
    (3, 0),
    (3, 4),
    (3, 8),
    (3, 11),
    (3, 12),
    (3, 14),
    (3, 15),
    pycfile.PythonVersion(3, 10, "pypy"),
    pycfile.PythonVersion(3, 11, "pypy"),
]

# Pieces of plausible marshal streams: type codes (with and without FLAG_REF), small
# counts and indices, and a few random bytes.
_TOKENS = st.one_of(
    st.sampled_from([bytes([c]) for c in b"0NTFS.ifgxyIlsutRrzZaA()[]{}<>c:}"]),
    st.sampled_from([bytes([c | 0x80]) for c in b"ilgysutzZaA()[{<>c:rRNTF.S"]),
    st.sampled_from([b"\x00\x00\x00\x00", b"\x01\x00\x00\x00", b"\x02\x00\x00\x00", b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\x01", b"\x03", b"\x00"]),
    st.sampled_from([b"r\x00\x00\x00\x00", b"r\x01\x00\x00\x00", b"\xf2\x00\x00\x00\x00", b"R\x00\x00\x00\x00"]),
    st.binary(max_size=4),
)


_P32 = struct.Struct("<i").pack


def _sized(parts: Tuple[bytes, bytes]) -> bytes:
    return parts[0] + _P32(len(parts[1])) + parts[1]


def _long(parts: Tuple[bytes, List[int], bool]) -> bytes:
    code, digits, negative = parts
    n = -len(digits) if negative else len(digits)
    return code + _P32(n) + b"".join(struct.pack("<H", d) for d in digits)


# Well-formed-looking values (any version's codes; a version lacking one rejects it).
_LEAVES = st.one_of(
    st.sampled_from([b"N", b"T", b"F", b".", b"S", b"\xce"]),
    st.tuples(st.sampled_from([b"i", b"\xe9"]), st.integers(-(2**31), 2**31 - 1).map(_P32)).map(b"".join),
    st.tuples(st.sampled_from([b"s", b"\xf3", b"u", b"t", b"\xf4", b"a", b"A"]), st.binary(max_size=8)).map(_sized),
    st.tuples(st.sampled_from([b"z", b"Z", b"\xfa"]), st.binary(max_size=8)).map(lambda t: t[0] + bytes([len(t[1])]) + t[1]),
    st.tuples(st.sampled_from([b"r", b"\xf2", b"R"]), st.integers(0, 3).map(_P32)).map(b"".join),
    st.tuples(st.sampled_from([b"g", b"\xe7"]), st.binary(min_size=8, max_size=8)).map(b"".join),
    st.tuples(st.sampled_from([b"l", b"\xec"]), st.lists(st.integers(0, 0x7FFF), max_size=3), st.booleans()).map(_long),
)


@st.composite
def _values(draw: Any, depth: int = 0) -> bytes:
    """One marshal value: a leaf, or a container of up to 4 values, 4 levels deep."""
    if depth >= 4 or draw(st.integers(0, 2)) == 0:
        leaf: bytes = draw(_LEAVES)
        return leaf
    items: List[bytes] = [draw(_values(depth + 1)) for _ in range(draw(st.integers(0, 4)))]
    kind: bytes = draw(st.sampled_from([b"(", b"\xa8", b"[", b"\xdb", b"<", b">", b"\xbe", b")", b"\xa9", b"{", b"\xfb"]))
    if kind in (b")", b"\xa9"):
        return kind + bytes([len(items)]) + b"".join(items)
    if kind in (b"{", b"\xfb"):
        values: List[bytes] = [draw(_values(depth + 1)) for _ in items]
        return kind + b"".join(k + v for k, v in zip(items, values)) + b"0"
    return kind + _P32(len(items)) + b"".join(items)


_VALUES = _values()


def _check_stream(data: bytes, version: Any) -> None:
    try:
        value = pycfile.marshal.loads(data, version=version)
    except pycfile.PycError:
        return
    try:
        out = pycfile.marshal.dumps(value, version=version)
    except pycfile.PycError:
        return
    assert out == data


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), version=st.sampled_from(VERSIONS))
def test_marshal_random_bytes(data: bytes, version: Any) -> None:
    _check_stream(data, version)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(_TOKENS, max_size=60).map(b"".join), version=st.sampled_from(VERSIONS))
def test_marshal_plausible_streams(data: bytes, version: Any) -> None:
    _check_stream(data, version)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=_VALUES, version=st.sampled_from(VERSIONS))
def test_marshal_structured_streams(data: bytes, version: Any) -> None:
    """Streams built from real type codes: most load, and must write back unchanged."""
    _check_stream(data, version)
