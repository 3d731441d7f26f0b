"""How pycfile's read time grows with the input: the "linear in size" half of the
bad-bytes property, measured (tests never assert speed).

For each committed fixture set, the biggest pyc is repeated inside a tuple of N copies
(a well-formed stream N times as big), and N mutated copies of it are read; the script
prints microseconds per kilobyte for each N.  Flat columns mean linear time::

    python fuzz/timing.py
"""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import pycfile

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def _time(data: bytes, version: pycfile.PycFormat) -> float:
    start = time.perf_counter()
    try:
        pycfile.marshal.loads(data, version=version)
    except pycfile.PycError:
        pass
    return time.perf_counter() - start


def main() -> None:
    rng = random.Random(0)
    print(f"{'set':<16}" + "".join(f"{'x' + str(n):>10}" for n in (1, 4, 16, 64)) + "   (us per KiB)")
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "broken"):
        biggest = max(folder.glob("*.pyc"), key=lambda p: p.stat().st_size)
        pyc = pycfile.loads(biggest.read_bytes())
        body = biggest.read_bytes()[pyc.header.size :]
        row = []
        for n in (1, 4, 16, 64):
            stream = b"(" + struct.pack("<i", n) + body * n  # '(' is in every version
            mutated = bytearray(stream)
            for _ in range(n):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            best = min(_time(bytes(stream), pyc.format) + _time(bytes(mutated), pyc.format) for _ in range(3))
            row.append(best * 1e6 / (2 * len(stream) / 1024))
        print(f"{folder.name:<16}" + "".join(f"{x:>10.1f}" for x in row))


if __name__ == "__main__":
    main()
