"""Compile the full test corpus of every required interpreter into the cache, once.

``.ci/run`` runs this before the hosts' test runs, which then only read the cache
(``$PYCFILE_CORPUS_DIR``; see ``tests/corpus.py``) and can run side by side.  Run it from
a venv that has the test extra installed::

    python scripts/build_corpus.py

A missing interpreter is an error here (the strict mode of the tests).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    os.environ["PYCFILE_CORPUS"] = "full"
    os.environ.pop("PYCFILE_CORPUS_SHARD", None)
    from corpus import corpus_part, modes
    from interpreters import REQUIRED
    from pycfile._discovery import find, missing_required

    missing = missing_required()
    if missing:
        print(f"build_corpus: no interpreter for {', '.join(missing)}", file=sys.stderr)
        return 1
    started = time.monotonic()
    for key in REQUIRED:
        interpreter = find(key)
        assert interpreter is not None
        t = time.monotonic()
        count = sum(len(corpus_part(interpreter, mode).files) for mode in modes(interpreter.major, interpreter.minor))
        print(f"build_corpus: {key}: {count} pycs ({time.monotonic() - t:.0f} s)", flush=True)
    print(f"build_corpus: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
