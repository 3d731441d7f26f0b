"""An atheris fuzz harness for pycfile's bad-bytes property.

Any byte string either loads -- and then writes back byte for byte, or raises a
PycError -- or raises a PycError subclass; nothing else may escape.  Run it (atheris
needs CPython <= 3.11 and clang-built wheels)::

    pip install atheris
    python fuzz/fuzz_pyc.py fuzz/corpus -max_total_time=600 -timeout=5

(``fuzz/corpus`` is made from tests/fixtures on first run.)  ``-timeout`` turns a
super-linear input into a reported crash; ``python fuzz/timing.py`` measures how the
read time grows with the input size.  Without atheris, :func:`TestOneInput` is still
importable (tests/test_strategies.py calls it).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Callable

try:
    import atheris  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - the harness's check runs without it
    atheris = None

if atheris is not None:
    with atheris.instrument_imports():
        import pycfile
        import pycfile.marshal
else:
    import pycfile
    import pycfile.marshal

HERE = Path(__file__).resolve().parent
_VERSIONS = [f for f in pycfile.known_formats() if f.code_layout is not None][::7]


def check(data: bytes, load: Callable[[bytes], Any], dump: Callable[[Any], bytes]) -> None:
    """``load`` either fails with a PycError, or gives a model that ``dump`` writes back
    as ``data`` (or refuses with a PycError)."""
    try:
        model = load(data)
    except pycfile.PycError:
        return
    try:
        out = dump(model)
    except pycfile.PycError:
        return
    assert out == data, "loaded, but written back differently"


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris's name
    """One fuzz input: as a whole pyc, and as a bare marshal stream of one version."""
    check(data, pycfile.loads, pycfile.dumps)
    if data:
        fmt = _VERSIONS[data[0] % len(_VERSIONS)]
        check(data[1:], lambda d: pycfile.marshal.loads(d, version=fmt), lambda m: pycfile.marshal.dumps(m, version=fmt))


def _seed_corpus(target: Path) -> None:
    if target.exists():
        return
    target.mkdir(parents=True)
    for path in sorted((HERE.parent / "tests" / "fixtures").glob("*/*.pyc")):
        shutil.copy(path, target / f"{path.parent.name}-{path.name}")


def main() -> None:
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris")
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        _seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
