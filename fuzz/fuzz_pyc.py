"""atheris fuzz harnesses for pycfile: any input is accepted or raises a PycError
subclass (or a documented TypeError/ValueError), never anything else, never a hang.

Modes (``--mode=NAME``, default ``loads``):

* ``loads`` -- the bytes as a whole pyc and as a bare marshal stream of one version:
  they load and write back byte for byte, or raise PycError (:func:`check`).
* ``apis`` -- the bytes as a pyc through every public function (``drive.drive_bytes``):
  the readers, and on what loads, ``==``, ``repr``, ``diff``, ``normalize``,
  ``strip_refs``, ``to_python``/``from_python``, the edits, the stamps, ``disassemble``,
  the line and exception tables, and the functions that take paths.
* ``models`` -- the bytes build a hostile model (``hostile.model_from_bytes``: deep,
  shared, cyclic, wrong types in fields) given to every function that takes a model.
* ``cli`` -- the bytes as a file given to every ``pycfile`` command, in-process.

An escape is written as a JSON line to ``$PYCFILE_FUZZ_ESCAPES`` (default
``fuzz/escapes.jsonl``) and the run goes on, so one known escape does not hide the next;
with ``PYCFILE_FUZZ_STRICT=1`` it raises instead (atheris then stops and saves the
input).  A slow input is reported by libFuzzer's ``-timeout``.  Run::

    pip install atheris
    python fuzz/fuzz_pyc.py --mode=apis fuzz/corpus -max_total_time=600 -timeout=20

(``fuzz/corpus`` is made from tests/fixtures and ../shared/samples on first run;
``fuzz/run_campaign.sh`` runs every mode.)  Without atheris, :func:`check` and
:func:`TestOneInput` still import (the test suite calls them).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

try:
    import atheris  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - the harness's check runs without it
    atheris = None

if atheris is not None:
    with atheris.instrument_imports():
        import pycfile
        import pycfile.marshal
        import drive
        import hostile
else:
    import pycfile
    import pycfile.marshal
    import drive
    import hostile

_VERSIONS = [f for f in pycfile.known_formats() if f.code_layout is not None][::7]
_MODE = "loads"
_TMP: List[str] = []


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


def _report(found: List["drive.Escape"], data: bytes) -> None:
    if not found:
        return
    if os.environ.get("PYCFILE_FUZZ_STRICT") == "1":
        raise AssertionError(f"escaped: {found}")
    path = os.environ.get("PYCFILE_FUZZ_ESCAPES", str(HERE / "escapes.jsonl"))
    with open(path, "a") as f:
        for escape in found:
            f.write(json.dumps({"mode": _MODE, **escape._asdict(), "input": data[:4096].hex()}) + "\n")


def _tmp() -> str:
    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="pycfile-atheris-"))
    return _TMP[0]


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris's name
    """One fuzz input, as the mode says (``loads`` by default)."""
    if _MODE == "apis":
        _report(drive.drive_bytes(data, full=True, tmp=_tmp()), data)
        return
    if _MODE == "models":
        _report(drive.drive_model(hostile.model_from_bytes(data)), data)
        return
    if _MODE == "cli":
        _report(drive.drive_cli(data, _tmp()), data)
        return
    check(data, pycfile.loads, pycfile.dumps)
    if data:
        fmt = _VERSIONS[data[0] % len(_VERSIONS)]
        check(data[1:], lambda d: pycfile.marshal.loads(d, version=fmt), lambda m: pycfile.marshal.dumps(m, version=fmt))


#: Programs for hostile.model_from_bytes: a tuple, a list that contains itself, a
#: 4,095-deep nesting, a DAG of 40 flagged levels (unflagged, the writer would write
#: 2**40 copies: see fuzz/README.md), a code object with wrong types.
_MODEL_SEEDS = [b"\x04\x00", b"\x05\x00\x09", b"\x03\x00\x0a\xff\xff", b"\x01\x00" + b"\x08\x84\x02" * 40, b"\x0b\x00\x04\x01\x0c"]


def _seed_corpus(target: Path) -> None:
    if target.exists():
        return
    target.mkdir(parents=True)
    if _MODE == "models":
        for i, seed in enumerate(_MODEL_SEEDS):
            (target / f"model-{i}").write_bytes(seed)
        return
    samples = Path(os.environ.get("PYCFILE_SAMPLES_DIR", HERE.parent.parent / "shared" / "samples"))
    for top in (HERE.parent / "tests" / "fixtures", samples):
        for path in sorted(top.glob("*/*.pyc")):
            if path.stat().st_size <= 64 * 1024:
                shutil.copy(path, target / f"{path.parent.name}-{path.name}")


def main() -> None:
    global _MODE
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris")
    argv = [sys.argv[0]]
    for arg in sys.argv[1:]:
        if arg.startswith("--mode="):
            _MODE = arg.split("=", 1)[1]
        else:
            argv.append(arg)
    if _MODE not in ("loads", "apis", "models", "cli"):
        sys.exit(f"unknown mode {_MODE!r}: loads, apis, models or cli")
    corpus = [a for a in argv[1:] if not a.startswith("-")]
    if corpus:
        _seed_corpus(Path(corpus[0]))
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
