"""The real-pyc corpus: each interpreter's own stdlib and the suite's sample modules,
compiled by that interpreter in every mode.

Modes: optimize 0, 1 and 2 with timestamp pycs, and (3.7+) checked-hash and
unchecked-hash pycs at optimize 0.  Every mode covers the whole stdlib (minus
``site-packages``/``dist-packages``) and the sample modules: ``tests/samples/py2/*.py``
for 2.x; ``tests/samples/py3/*.py`` and every ``tests/samples/py3N/*.py`` with 3.N at
most the interpreter's version for 3.x.  (The hash modes cover the whole stdlib too:
compiling it takes 2-13 s per interpreter and mode with two workers, measured on a
2-core machine, far below what a sliced stdlib would save.)

Results are cached in ``$PYCFILE_CORPUS_DIR`` (default ``~/.cache/pycfile-corpus``)::

    <impl>-<major>.<minor>-<hash of the interpreter and worker.py>/<mode>/
        stdlib/                    the whole stdlib
        stdlib-quick/              the quick selection, when no full stdlib/ is cached
        samples-<hash of samples>/ the sample modules

so editing a sample recompiles the samples only.  Each of those directories is built
under a temporary name and renamed into place once its ``manifest.json`` is written: a
directory that exists is complete, and concurrent runs never see half of one.

``PYCFILE_CORPUS`` picks the size: ``quick`` (the default) takes a deterministic tenth
of the stdlib (every 10th source in sorted order; all samples, all modes): from the full
stdlib when that is cached, else compiled into ``stdlib-quick/``.  ``full`` takes all of
it.  Tests that check every pyc of the corpus against an interpreter may take a stride
over the quick one too (see each test); with ``full`` they take every pyc.

``PYCFILE_CORPUS_SHARD=k/n`` (with either size) takes every n-th source of the FULL
stdlib from the k-th on instead, and the corpus-wide checks take every pyc of that shard,
as with ``full``: ``.ci/run`` gives each of its n hosts another shard, so one CI run
checks every pyc of every interpreter's stdlib, each on one host.  (The hypothesis
example counts follow ``PYCFILE_CORPUS`` only.)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from interpreters import Interpreter
from oracle import WORKER, CompileResult, Oracle, OracleError, worker_optimize_flag

__all__ = [
    "CORPUS_VARIABLE",
    "SAMPLES",
    "SHARD_VARIABLE",
    "checked",
    "CorpusPart",
    "Mode",
    "corpus",
    "corpus_part",
    "corpus_size",
    "every_pyc",
    "modes",
    "quick",
    "shard",
]

CORPUS_VARIABLE = "PYCFILE_CORPUS"
SHARD_VARIABLE = "PYCFILE_CORPUS_SHARD"

SAMPLES = Path(__file__).with_name("samples")
EXCLUDED_DIRS = frozenset(["site-packages", "dist-packages", "__pycache__"])
QUICK_STEP = 10
BATCH = 100  # files per compile request
PARALLEL = 2  # worker processes per build, at most

FLAG_HASH_BASED, FLAG_CHECK_SOURCE = 1, 2

Manifest = Dict[str, Any]


@dataclass(frozen=True)
class Mode:
    """How the pycs are compiled."""

    optimize: int
    invalidation: str = "timestamp"  # or "checked-hash" / "unchecked-hash"

    @property
    def name(self) -> str:
        return f"opt{self.optimize}-{self.invalidation}"

    @property
    def flags(self) -> int:
        """The PEP 552 flags word these pycs must have (3.7+)."""
        return {"timestamp": 0, "checked-hash": FLAG_HASH_BASED | FLAG_CHECK_SOURCE, "unchecked-hash": FLAG_HASH_BASED}[
            self.invalidation
        ]

    def __str__(self) -> str:
        return self.name


TIMESTAMP_MODES = [Mode(0), Mode(1), Mode(2)]
HASH_MODES = [Mode(0, "checked-hash"), Mode(0, "unchecked-hash")]


def modes(major: int, minor: int) -> List[Mode]:
    """The modes a Python version's corpus has."""
    return TIMESTAMP_MODES + (HASH_MODES if (major, minor) >= (3, 7) else [])


def corpus_size() -> str:
    """``quick`` (the default) or ``full``, as ``PYCFILE_CORPUS`` says; any other value
    is a usage error."""
    size = os.environ.get(CORPUS_VARIABLE, "").strip().lower() or "quick"
    if size not in ("quick", "full"):
        raise pytest.UsageError(f"{CORPUS_VARIABLE}={os.environ[CORPUS_VARIABLE]!r}: expected quick (the default) or full")
    return size


def quick() -> bool:
    """Whether the run uses the quick corpus (the default; ``PYCFILE_CORPUS=full`` is the
    whole stdlib)."""
    return corpus_size() == "quick"


@functools.lru_cache(maxsize=None)
def shard() -> Optional[Tuple[int, int]]:
    """``(k, n)`` from ``PYCFILE_CORPUS_SHARD=k/n``, or None; a malformed value is a usage
    error."""
    text = os.environ.get(SHARD_VARIABLE, "").strip()
    if not text:
        return None
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
        raise pytest.UsageError(f"{SHARD_VARIABLE}={text!r}: expected k/n with 0 <= k < n")
    return int(k), int(n)


def every_pyc() -> bool:
    """Whether the corpus-wide checks take every pyc of :func:`corpus_part`'s stdlib (the
    full corpus, or a CI shard of it) rather than a stride over the quick tenth."""
    return corpus_size() == "full" or shard() is not None


def checked(pycs: List[Path], quick_stride: int) -> List[Path]:
    """What a corpus-wide check takes of ``pycs``: all of them when :func:`every_pyc`,
    else every ``quick_stride``-th (the quick default run stays short)."""
    return pycs if every_pyc() else pycs[::quick_stride]


@dataclass(frozen=True)
class _Compiled:
    """One cached directory of pycs and its manifest."""

    directory: Path
    manifest: Manifest

    @property
    def pycs(self) -> List[Path]:
        return [self.directory / (rel[: -len(".py")] + ".pyc") for rel in self.manifest["compiled"]]


@dataclass(frozen=True)
class CorpusPart:
    """The pycs of one interpreter in one mode."""

    interpreter: Interpreter
    mode: Mode
    root: Path  # <cache home>/<mode>
    _stdlib: _Compiled
    _samples: _Compiled

    @property
    def stdlib(self) -> List[Path]:
        return self._stdlib.pycs

    @property
    def samples(self) -> List[Path]:
        return self._samples.pycs

    @property
    def files(self) -> List[Path]:
        return self.stdlib + self.samples

    @property
    def skipped(self) -> List[str]:
        """``stdlib/<rel>: <why>`` and ``samples/<rel>: <why>`` for sources that did not compile."""
        return [f"{label}/{rel}: {why}" for label, part in self._parts() for rel, why in part.manifest["skipped"]]

    @property
    def magic(self) -> bytes:
        """The interpreter's magic number (from its importlib)."""
        return bytes.fromhex(self._stdlib.manifest["magic"])

    def source(self, pyc: Path) -> Path:
        """The .py a pyc of this part was compiled from."""
        for _, part in self._parts():
            if part.directory in pyc.parents:
                return Path(part.manifest["source_root"], pyc.relative_to(part.directory)).with_suffix(".py")
        raise ValueError(f"{pyc} is not in {self.root}")

    def _parts(self) -> List[Tuple[str, _Compiled]]:
        return [("stdlib", self._stdlib), ("samples", self._samples)]


def corpus(interpreter: Interpreter) -> List[Path]:
    """Every pyc of an interpreter's corpus, all modes."""
    return [path for mode in modes(interpreter.major, interpreter.minor) for path in corpus_part(interpreter, mode).files]


@functools.lru_cache(maxsize=None)
def corpus_part(interpreter: Interpreter, mode: Mode) -> CorpusPart:
    """The pycs of one mode, compiled now or found in the cache."""
    root = _cache_home(interpreter) / mode.name
    full = root / "stdlib"
    selected = shard()
    if selected is not None:
        stdlib = _shard_view(_cached(interpreter, mode, full, "stdlib", 1), *selected)
    elif (full / "manifest.json").is_file():
        stdlib = _Compiled(full, _read_manifest(full))
        stdlib = _quick_view(stdlib) if quick() else stdlib
    elif quick():
        stdlib = _cached(interpreter, mode, root / "stdlib-quick", "stdlib", QUICK_STEP)
    else:
        stdlib = _cached(interpreter, mode, full, "stdlib", 1)
    samples = _cached(interpreter, mode, root / f"samples-{_samples_digest(interpreter)}", "samples", 1)
    return CorpusPart(interpreter, mode, root, stdlib, samples)


def _sample_sources(interpreter: Interpreter) -> List[str]:
    """The sample modules for an interpreter, relative to SAMPLES (``py3/classes.py``)."""
    found = []
    for directory in SAMPLES.glob("py[0-9]*"):
        digits = directory.name[2:]
        since = (int(digits[0]), int(digits[1:] or 0))
        if since[0] == interpreter.major and since <= (interpreter.major, interpreter.minor):
            found += [p.relative_to(SAMPLES).as_posix() for p in directory.glob("*.py")]
    return sorted(found)


def _samples_digest(interpreter: Interpreter) -> str:
    digest = hashlib.sha256()
    for rel in _sample_sources(interpreter):
        digest.update(rel.encode() + b"\0" + (SAMPLES / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _cache_home(interpreter: Interpreter) -> Path:
    root = Path(os.environ.get("PYCFILE_CORPUS_DIR") or Path.home() / ".cache" / "pycfile-corpus")
    digest = hashlib.sha256()
    # The real path: a venv's python and the interpreter it links to share one cache.
    for part in (os.path.realpath(interpreter.path), interpreter.full_version, interpreter.implementation):
        digest.update(part.encode() + b"\0")
    digest.update(WORKER.read_bytes())
    return root / f"{interpreter.key}-{digest.hexdigest()[:16]}"


def _read_manifest(directory: Path) -> Manifest:
    manifest: Manifest = json.loads((directory / "manifest.json").read_text())
    return manifest


def _quick_view(full: _Compiled) -> _Compiled:
    """The full stdlib narrowed to the quick selection (the files a quick build makes)."""
    return _shard_view(full, 0, QUICK_STEP)


def _shard_view(full: _Compiled, k: int, n: int) -> _Compiled:
    """The full stdlib narrowed to every n-th source from the k-th on."""
    chosen = set(full.manifest["sources"][k::n])
    compiled = [r for r in full.manifest["compiled"] if r in chosen]
    skipped = [s for s in full.manifest["skipped"] if s[0] in chosen]
    return _Compiled(full.directory, dict(full.manifest, compiled=compiled, skipped=skipped))


def _stdlib_sources(stdlib: Path) -> List[str]:
    found: List[str] = []
    for directory, subdirs, files in os.walk(stdlib):
        subdirs[:] = sorted(d for d in subdirs if d not in EXCLUDED_DIRS)
        found.extend(Path(directory, f).relative_to(stdlib).as_posix() for f in files if f.endswith(".py"))
    return sorted(found)


def _cached(interpreter: Interpreter, mode: Mode, target: Path, what: str, every: int) -> _Compiled:
    """The pycs of ``what`` ("stdlib" or "samples") in ``target``, built if missing."""
    if not (target / "manifest.json").is_file():
        _build(interpreter, mode, target, what, every)
    return _Compiled(target, _read_manifest(target))


def _build(interpreter: Interpreter, mode: Mode, target: Path, what: str, every: int) -> None:
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    flag = worker_optimize_flag(interpreter, mode.optimize)
    workers = [Oracle.start(interpreter, optimize_flag=flag) for _ in range(1 if what == "samples" else PARALLEL)]
    try:
        info = workers[0].info()
        if what == "stdlib":
            source_root = Path(info["stdlib"])
            sources = _stdlib_sources(source_root)
        else:
            source_root, sources = SAMPLES, _sample_sources(interpreter)
        selected = sources[::every]

        def run(index: int) -> CompileResult:
            return _compile(workers, index, mode, source_root, work, selected[index :: len(workers)])

        with ThreadPoolExecutor(len(workers)) as pool:
            results = list(pool.map(run, range(len(workers))))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        for worker in workers:
            worker.close()
    manifest = {
        "interpreter": str(interpreter),
        "mode": mode.name,
        "magic": info["magic"],
        "source_root": str(source_root),
        "sources": sources,
        "selection_step": every,
        "compiled": sorted(rel for result in results for rel in result.compiled),
        "skipped": sorted(skip for result in results for skip in result.skipped),
        "compile_seconds": round(time.monotonic() - started, 1),
        "bytes": sum(p.stat().st_size for p in work.rglob("*.pyc")),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
    try:
        os.rename(work, target)
    except OSError:  # another run finished the same directory first; keep theirs
        shutil.rmtree(work, ignore_errors=True)
        if not (target / "manifest.json").is_file():
            raise


def _compile(workers: List[Oracle], index: int, mode: Mode, src: Path, dst: Path, files: Sequence[str]) -> CompileResult:
    """Compile ``files`` with ``workers[index]`` in batches; a file that kills the worker
    is skipped (and the worker restarted) rather than losing the whole build."""
    compiled: List[str] = []
    skipped: List[Tuple[str, str]] = []
    pending = [list(files[i : i + BATCH]) for i in range(0, len(files), BATCH)]
    while pending:
        batch = pending.pop(0)
        try:
            result = workers[index].compile_tree(src, dst, optimize=mode.optimize, invalidation=mode.invalidation, files=batch)
        except OracleError as exc:
            dead = workers[index]
            dead.close()
            workers[index] = Oracle.start(dead.interpreter, optimize_flag=dead.optimize_flag)
            if len(batch) == 1:
                skipped.append((batch[0], f"the worker died: {exc}"))
            else:
                pending[:0] = [[rel] for rel in batch]
            continue
        compiled.extend(result.compiled)
        skipped.extend(result.skipped)
    return CompileResult(compiled, skipped)
