"""The real-pyc corpus: each interpreter's own stdlib and the suite's sample modules,
compiled by that interpreter in every mode.

Modes: optimize 0, 1 and 2 with timestamp pycs, and (3.7+) checked-hash and
unchecked-hash pycs at optimize 0.  Every mode covers the whole stdlib (minus
``site-packages``/``dist-packages``) and the sample modules: ``tests/samples/py2/*.py``
for 2.x; ``tests/samples/py3/*.py`` and every ``tests/samples/py3N/*.py`` with 3.N at
most the interpreter's version for 3.x.  (The hash modes cover the whole stdlib too:
compiling it takes 2-12 s per interpreter and mode with two workers, measured on a
2-core machine, far below what a sliced stdlib would save.)

Results are cached in ``$PYCFILE_CORPUS_DIR`` (default ``~/.cache/pycfile-corpus``) under
``<impl>-<major>.<minor>-<hash>/<mode>/``, where the hash covers the interpreter (path and
version), the worker and the sample sources; ``manifest.json`` is written last and the
directory renamed into place, so a directory that exists is complete, and concurrent runs
never see half a corpus.

``PYCFILE_CORPUS=quick`` takes a deterministic tenth of the stdlib (every 10th source in
sorted order; all samples, all modes): from the full corpus when that is cached, else
compiled into ``<mode>-quick/``.
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
from typing import Any, Dict, List, Sequence, Tuple

from interpreters import Interpreter
from oracle import WORKER, CompileResult, Oracle, OracleError, worker_optimize_flag

__all__ = ["SAMPLES", "CorpusPart", "Mode", "corpus", "corpus_part", "modes", "quick"]

SAMPLES = Path(__file__).with_name("samples")
EXCLUDED_DIRS = frozenset(["site-packages", "dist-packages", "__pycache__"])
QUICK_STEP = 10
BATCH = 100  # files per compile request
PARALLEL = 2  # worker processes per build, at most

FLAG_HASH_BASED, FLAG_CHECK_SOURCE = 1, 2


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


def quick() -> bool:
    """Whether ``PYCFILE_CORPUS=quick`` asks for the small corpus."""
    return os.environ.get("PYCFILE_CORPUS", "").strip().lower() == "quick"


@dataclass(frozen=True)
class CorpusPart:
    """The pycs of one interpreter in one mode."""

    interpreter: Interpreter
    mode: Mode
    root: Path
    manifest: Dict[str, Any]

    @property
    def stdlib(self) -> List[Path]:
        return [self.root / "stdlib" / _pyc_name(rel) for rel in self.manifest["stdlib"]]

    @property
    def samples(self) -> List[Path]:
        return [self.root / "samples" / _pyc_name(rel) for rel in self.manifest["samples"]]

    @property
    def files(self) -> List[Path]:
        return self.stdlib + self.samples

    @property
    def magic(self) -> bytes:
        """The interpreter's magic number (from its importlib)."""
        return bytes.fromhex(self.manifest["magic"])

    def source(self, pyc: Path) -> Path:
        """The .py a pyc of this part was compiled from."""
        rel = pyc.relative_to(self.root)
        base = Path(self.manifest["stdlib_dir"]) if rel.parts[0] == "stdlib" else SAMPLES
        return base.joinpath(*rel.parts[1:]).with_suffix(".py")


def corpus(interpreter: Interpreter) -> List[Path]:
    """Every pyc of an interpreter's corpus, all modes."""
    return [path for mode in modes(interpreter.major, interpreter.minor) for path in corpus_part(interpreter, mode).files]


@functools.lru_cache(maxsize=None)
def corpus_part(interpreter: Interpreter, mode: Mode) -> CorpusPart:
    """The pycs of one mode, compiled now or found in the cache."""
    home = _cache_home(interpreter)
    full = home / mode.name
    if (full / "manifest.json").is_file():
        part = CorpusPart(interpreter, mode, full, _read_manifest(full))
        return _quick_view(part) if quick() else part
    target = home / (mode.name + "-quick") if quick() else full
    if not (target / "manifest.json").is_file():
        _build(interpreter, mode, target, every=QUICK_STEP if quick() else 1)
    return CorpusPart(interpreter, mode, target, _read_manifest(target))


def _pyc_name(rel: str) -> str:
    return rel[: -len(".py")] + ".pyc"


def _sample_sources(interpreter: Interpreter) -> List[str]:
    """The sample modules for an interpreter, relative to SAMPLES (``py3/classes.py``)."""
    found = []
    for directory in SAMPLES.glob("py[0-9]*"):
        digits = directory.name[2:]
        since = (int(digits[0]), int(digits[1:] or 0))
        if since[0] == interpreter.major and since <= (interpreter.major, interpreter.minor):
            found += [p.relative_to(SAMPLES).as_posix() for p in directory.glob("*.py")]
    return sorted(found)


def _cache_home(interpreter: Interpreter) -> Path:
    root = Path(os.environ.get("PYCFILE_CORPUS_DIR") or Path.home() / ".cache" / "pycfile-corpus")
    digest = hashlib.sha256()
    for part in (interpreter.path, interpreter.full_version, interpreter.implementation):
        digest.update(part.encode() + b"\0")
    digest.update(WORKER.read_bytes())
    for rel in _sample_sources(interpreter):
        digest.update(rel.encode() + b"\0" + (SAMPLES / rel).read_bytes())
    return root / f"{interpreter.key}-{digest.hexdigest()[:16]}"


def _read_manifest(directory: Path) -> Dict[str, Any]:
    manifest: Dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    return manifest


def _quick_view(part: CorpusPart) -> CorpusPart:
    """A full part narrowed to the quick selection (the same files a quick build makes)."""
    chosen = set(part.manifest["sources"][::QUICK_STEP])
    manifest = dict(part.manifest, stdlib=[rel for rel in part.manifest["stdlib"] if rel in chosen])
    return CorpusPart(part.interpreter, part.mode, part.root, manifest)


def _stdlib_sources(stdlib: Path) -> List[str]:
    found: List[str] = []
    for directory, subdirs, files in os.walk(stdlib):
        subdirs[:] = sorted(d for d in subdirs if d not in EXCLUDED_DIRS)
        found.extend(Path(directory, f).relative_to(stdlib).as_posix() for f in files if f.endswith(".py"))
    return sorted(found)


def _build(interpreter: Interpreter, mode: Mode, target: Path, every: int) -> None:
    flag = worker_optimize_flag(interpreter, mode.optimize)
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    workers = [Oracle.start(interpreter, optimize_flag=flag) for _ in range(PARALLEL)]
    try:
        info = workers[0].info()
        stdlib = Path(info["stdlib"])
        sources = _stdlib_sources(stdlib)
        selected = sources[::every]
        # One list of (source root, output root, files) per worker; worker 0 also
        # compiles the samples.
        plans: List[List[Tuple[str, Path, Path, List[str]]]] = [
            [("stdlib", stdlib, work / "stdlib", selected[i::PARALLEL])] for i in range(PARALLEL)
        ]
        plans[0].append(("samples", SAMPLES, work / "samples", _sample_sources(interpreter)))

        def run(index: int) -> List[Tuple[str, CompileResult]]:
            return [
                (label, _compile(workers, index, interpreter, mode, src, dst, files)) for label, src, dst, files in plans[index]
            ]

        with ThreadPoolExecutor(PARALLEL) as pool:
            results = [item for items in pool.map(run, range(PARALLEL)) for item in items]
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
        "stdlib_dir": str(stdlib),
        "sources": sources,
        "selection_step": every,
        "stdlib": sorted(rel for label, result in results if label == "stdlib" for rel in result.compiled),
        "samples": sorted(rel for label, result in results if label == "samples" for rel in result.compiled),
        "skipped": sorted(f"{label}/{rel}: {why}" for label, result in results for rel, why in result.skipped),
        "compile_seconds": round(time.monotonic() - started, 1),
        "bytes": sum(p.stat().st_size for p in work.rglob("*.pyc")),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
    try:
        os.rename(work, target)
    except OSError:  # another run finished the same part first; keep theirs
        shutil.rmtree(work, ignore_errors=True)
        if not (target / "manifest.json").is_file():
            raise


def _compile(
    workers: List[Oracle], index: int, interpreter: Interpreter, mode: Mode, src: Path, dst: Path, files: Sequence[str]
) -> CompileResult:
    """Compile ``files`` in batches; a file that kills the worker is skipped (and the
    worker restarted) rather than losing the whole corpus."""
    compiled: List[str] = []
    skipped: List[Tuple[str, str]] = []
    pending = [list(files[i : i + BATCH]) for i in range(0, len(files), BATCH)]
    while pending:
        batch = pending.pop(0)
        try:
            result = workers[index].compile_tree(src, dst, optimize=mode.optimize, invalidation=mode.invalidation, files=batch)
        except OracleError as exc:
            workers[index].close()
            workers[index] = Oracle.start(interpreter, optimize_flag=workers[index].optimize_flag)
            if len(batch) == 1:
                skipped.append((batch[0], f"the worker died: {exc}"))
            else:
                pending[:0] = [[rel] for rel in batch]
            continue
        compiled.extend(result.compiled)
        skipped.extend(result.skipped)
    return CompileResult(compiled, skipped)
