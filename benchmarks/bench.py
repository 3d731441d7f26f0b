"""Benchmark pycfile as users run it, against C marshal and the pure-Python peers.

The garbage collector is on (as in every program); a "GC off" column is an extra.  Each
reader runs on the same files in the same process, one after the other, in two ways:

- **stream**: each file is loaded and its result dropped (a scanner, a linter);
- **keep all**: every result is kept until the end (an indexer, an auditor, a diff tool):
  pycfile keeps its models, C ``marshal`` its code objects, the peers their objects.

``dumps`` writes every kept model (C ``marshal.dumps`` every kept code object).  pycfile
runs twice: with its C accelerator (when built) and in pure Python (the accelerator
switched off around the run: the same functions ``PYCFILE_PURE=1`` leaves).  Every run
gives each job a time and a ratio to a reference measured in that same run -- C
``marshal`` for pycs of the host's version, pycnite for the other versions (C
``marshal`` cannot read them) -- and the tables show the medians of ``--repeat`` runs.

Corpora: by default the host interpreter's own standard library, compiled by it into a
cache directory (``--cache``).  ``--full`` adds every interpreter's standard library from
the test suite's corpus cache (``$PYCFILE_CORPUS_DIR`` or ``~/.cache/pycfile-corpus``;
``PYCFILE_CORPUS=full python -m pytest tests/test_real_pycs.py`` builds it), read
cross-version by pycfile, pycnite (3.8-3.14) and xdis.  ``--corpus DIR`` adds any
directory of pycs of one version.  A peer that cannot read some files of a corpus leaves
them out for every reader of that corpus (the script says how many); a peer that cannot
read most of them sits that corpus out.

Memory: the ``tracemalloc`` peak while ``pycfile.loads`` builds one model (the input
allocated before tracing starts), divided by the file size, for the largest host pycs and
for generated pycs of 1x, 10x and 100x a ~0.5 MB base (the 100x one is ~50 MB).

Times are the process's CPU time (``time.process_time``; ``--wall`` for wall-clock),
which is fairer than wall time on a shared machine; ratios from one run are fairer still.
"""

from __future__ import annotations

import argparse
import gc
import glob
import importlib.util
import json
import marshal
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
if importlib.util.find_spec("pycfile") is None:  # running from a checkout
    sys.path.insert(0, os.path.dirname(HERE))

import pycfile  # noqa: E402
from pycfile import _accel as accel  # noqa: E402

CLOCK = time.process_time

_COMPILE = r"""
import os, py_compile, sys
src, dst = sys.argv[1], sys.argv[2]
n = 0
for root, dirs, files in os.walk(src):
    dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
    for name in sorted(files):
        if not name.endswith(".py"):
            continue
        path = os.path.join(root, name)
        out = os.path.join(dst, os.path.relpath(path, src)) + "c"
        if os.path.exists(out):
            n += 1
            continue
        try:
            py_compile.compile(path, cfile=out, dfile=path, doraise=True)
            n += 1
        except Exception:
            pass
print(n)
"""


def build_corpus(cache: str, python: str = sys.executable) -> str:
    """Compile ``python``'s stdlib (no tests, no site-packages) into the cache; return the dir."""
    tag = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"], check=True, capture_output=True, text=True
    ).stdout.strip()
    src = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], check=True, capture_output=True, text=True
    ).stdout.strip()
    dst = os.path.join(cache, tag)
    done = os.path.join(dst, ".complete")
    if not os.path.exists(done):
        os.makedirs(dst, exist_ok=True)
        print(f"compiling {src} with {python} into {dst} ...", file=sys.stderr)
        subprocess.run([python, "-c", _COMPILE, src, dst], check=True, capture_output=True)
        open(done, "w").close()
    return dst


def pyc_paths(top: str) -> List[str]:
    paths = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        paths.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".pyc"))
    return paths


def cached_corpora() -> List[Tuple[str, str]]:
    """Every interpreter's stdlib in the test suite's corpus cache: (name, directory)."""
    root = os.environ.get("PYCFILE_CORPUS_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "pycfile-corpus")
    newest: Dict[str, str] = {}
    for d in glob.glob(os.path.join(root, "*", "opt0-timestamp", "stdlib")):
        name = os.path.basename(os.path.dirname(os.path.dirname(d))).rsplit("-", 1)[0]  # cpython-3.12
        if name not in newest or os.path.getmtime(d) > os.path.getmtime(newest[name]):
            newest[name] = d

    def order(name: str) -> Tuple[str, Tuple[int, ...]]:
        impl, version = name.split("-")
        return impl != "cpython", tuple(int(p) for p in version.split("."))

    return [(name, newest[name]) for name in sorted(newest, key=order)]


# ---- the readers ------------------------------------------------------------------------


class Corpus:
    """The pycs of one version, and the readers that read every one of them."""

    def __init__(self, name: str, paths: List[str], with_peers: bool, most_left_out: float) -> None:
        self.name = name
        self.datas = [open(p, "rb").read() for p in paths]
        first = pycfile.loads(self.datas[0])
        self.offset = first.header.size
        self.version = (first.version.major, first.version.minor)
        self.host = self.datas[0][:4] == importlib.util.MAGIC_NUMBER
        self.readers: Dict[str, Callable[[bytes], Any]] = {}  # on the body (the header skipped)
        self.notes: List[str] = []
        if self.host:
            self.readers["C marshal"] = marshal.loads
        if with_peers:
            self.readers.update(peers(self.version, self.datas[0][:4]))
        keep = [True] * len(self.datas)
        for name, read in list(self.readers.items()):
            fails = [i for i, d in enumerate(self.datas) if not _reads(read, d[self.offset :])]
            if len(fails) > len(self.datas) * most_left_out:
                del self.readers[name]
                self.notes.append(f"{name} cannot read {len(fails)} of the {len(self.datas)} files: not run")
            elif fails:
                self.notes.append(f"{name} cannot read {len(fails)} files: left out for every reader")
                for i in fails:
                    keep[i] = False
        self.paths = [p for p, k in zip(paths, keep) if k]
        self.datas = [d for d, k in zip(self.datas, keep) if k]
        self.bodies = [d[self.offset :] for d in self.datas]
        self.size = sum(map(len, self.datas))


def _reads(read: Callable[[bytes], Any], body: bytes) -> bool:
    try:
        read(body)
        return True
    except Exception:
        return False


def peers(version: Tuple[int, int], magic: bytes) -> Dict[str, Callable[[bytes], Any]]:
    """The installed pure-Python peers that know ``version``: name -> body -> object."""
    found: Dict[str, Callable[[bytes], Any]] = {}
    try:
        from pycnite import marshal as pycnite_marshal  # type: ignore[import-not-found]

        found["pycnite"] = lambda body: pycnite_marshal.loads(body, version)
    except ImportError:
        pass
    try:
        from xdis.magics import magic2int  # type: ignore[import-not-found]
        from xdis.unmarshal import load_code  # type: ignore[import-not-found]

        number = magic2int(magic)
        # a fresh code_objects dict: xdis's default keeps every code object alive
        found["xdis"] = lambda body: load_code(body, number, code_objects={})
    except ImportError:
        pass
    except Exception:  # xdis does not know the magic number
        pass
    return found


def pure(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` on the pure-Python reader and writer (the accelerator switched off)."""

    def run() -> Any:
        was, accel.ENABLED = accel.ENABLED, False
        try:
            return fn()
        finally:
            accel.ENABLED = was

    return run


def timed(fn: Callable[[], Any], gc_on: bool) -> float:
    """The time ``fn`` takes; whatever it returns is dropped after the clock stops."""
    gc.collect()
    was = gc.isenabled()
    if not gc_on:
        gc.disable()
    try:
        t = CLOCK()
        kept = fn()
        t = CLOCK() - t
    finally:
        if was:
            gc.enable()
    del kept
    return t


# ---- one corpus ---------------------------------------------------------------------------

# A job: (row name, scenario, callable) where scenario is "stream", "keep all" or "dumps".
Job = Tuple[str, str, Callable[[], Any]]


def load_jobs(c: Corpus) -> List[Job]:
    datas, bodies = c.datas, c.bodies
    loads = pycfile.loads

    def stream(read: Callable[[bytes], Any], inputs: List[bytes]) -> Callable[[], None]:
        def run() -> None:
            for x in inputs:
                read(x)

        return run

    def keep(read: Callable[[bytes], Any], inputs: List[bytes]) -> Callable[[], List[Any]]:
        return lambda: [read(x) for x in inputs]

    jobs: List[Job] = []
    rows: List[Tuple[str, Callable[[bytes], Any], List[bytes], bool]] = []
    if "C marshal" in c.readers:
        rows.append(("C marshal.loads", marshal.loads, bodies, False))
    if accel.ENABLED:
        rows.append(("pycfile.loads (C accelerator)", loads, datas, False))
    rows.append(("pycfile.loads (pure Python)", loads, datas, True))
    for name, read in c.readers.items():
        if name != "C marshal":
            rows.append((name, read, bodies, False))
    for name, read, inputs, is_pure in rows:
        s, k = stream(read, inputs), keep(read, inputs)
        jobs.append((name, "stream", pure(s) if is_pure else s))
        jobs.append((name, "keep all", pure(k) if is_pure else k))
    return jobs


def dump_jobs(c: Corpus, models: List[Any], codes: Optional[List[Any]]) -> List[Job]:
    dumps, m_dumps = pycfile.dumps, marshal.dumps

    def run_c() -> None:
        for code in codes or ():
            m_dumps(code)

    def run_p() -> None:
        for m in models:
            dumps(m)

    jobs: List[Job] = []
    if codes is not None:
        jobs.append(("C marshal.dumps", "dumps", run_c))
    if accel.ENABLED:
        jobs.append(("pycfile.dumps (C accelerator)", "dumps", run_p))
    jobs.append(("pycfile.dumps (pure Python)", "dumps", pure(run_p)))
    return jobs


Results = Dict[Tuple[str, str, bool], List[float]]  # (row, scenario, gc on) -> per-run times


def measure(c: Corpus, repeat: int, gc_modes: Sequence[bool]) -> Tuple[Results, Results]:
    """Times and ratios (to the corpus's reference, in the same run) of every job."""
    reference = "C marshal" if "C marshal" in c.readers else ("pycnite" if "pycnite" in c.readers else None)
    times: Results = {}
    ratios: Results = {}
    for r in range(repeat):
        for gc_on in gc_modes:
            run: Dict[Tuple[str, str], float] = {}
            for name, scenario, fn in load_jobs(c):
                run[name, scenario] = timed(fn, gc_on)
            # dumps: the models (and code objects) to write are alive, as in a program that writes them
            models = [pycfile.loads(d) for d in c.datas]
            if r == 0:
                for m, d in zip(models, c.datas):  # the dump benchmark is only honest if it is exact
                    assert pycfile.dumps(m) == d
            codes = [marshal.loads(b) for b in c.bodies] if c.host else None
            for name, scenario, fn in dump_jobs(c, models, codes):
                run[name, scenario] = timed(fn, gc_on)
            del models, codes
            for (name, scenario), t in run.items():
                times.setdefault((name, scenario, gc_on), []).append(t)
                if scenario == "dumps":
                    base = run.get(("C marshal.dumps", "dumps"))
                else:
                    base = run.get((reference + (".loads" if reference == "C marshal" else ""), scenario)) if reference else None
                if base:
                    ratios.setdefault((name, scenario, gc_on), []).append(t / base)
        print(f"  {c.name}: run {r + 1}/{repeat} done", file=sys.stderr)
    return times, ratios


def med(values: Optional[List[float]]) -> Optional[float]:
    return statistics.median(values) if values else None


def fmt_time(t: Optional[float]) -> str:
    return "" if t is None else f"{t:.3f}"


def fmt_ratio(x: Optional[float]) -> str:
    return "" if x is None else f"{x:.1f}x"


def host_table(c: Corpus, times: Results, ratios: Results, gc_modes: Sequence[bool], repeat: int) -> List[str]:
    base = "C marshal" if c.host else "pycnite"
    lines = [
        f"| reader / writer | stream (s) | stream / {base} | keep all (s) | keep all / {base} |"
        + (f" GC off: stream / {base} | GC off: keep all / {base} |" if False in gc_modes else ""),
        "|---|---:|---:|---:|---:|" + ("---:|---:|" if False in gc_modes else ""),
    ]
    names = list(dict.fromkeys(name for name, _, _ in times))
    for name in names:
        if any(s == "dumps" for n, s, _ in times if n == name):
            cells = [fmt_time(med(times.get((name, "dumps", True)))), fmt_ratio(med(ratios.get((name, "dumps", True)))), "", ""]
            off = [fmt_ratio(med(ratios.get((name, "dumps", False)))), ""]
        else:
            cells = []
            for scenario in ("stream", "keep all"):
                cells += [fmt_time(med(times.get((name, scenario, True)))), fmt_ratio(med(ratios.get((name, scenario, True))))]
            off = [fmt_ratio(med(ratios.get((name, s, False)))) for s in ("stream", "keep all")]
        lines.append(f"| {name} | " + " | ".join(cells + (off if False in gc_modes else [])) + " |")
    return lines


CROSS_COLUMNS = [
    ("pycfile.loads (C accelerator)", "stream", "C accel stream"),
    ("pycfile.loads (C accelerator)", "keep all", "C accel keep all"),
    ("pycfile.loads (pure Python)", "stream", "pure stream"),
    ("pycfile.loads (pure Python)", "keep all", "pure keep all"),
    ("pycnite", "stream", "pycnite stream"),
    ("pycnite", "keep all", "pycnite keep all"),
    ("xdis", "keep all", "xdis keep all"),
    ("pycfile.dumps (C accelerator)", "dumps", "C accel dumps"),
    ("pycfile.dumps (pure Python)", "dumps", "pure dumps"),
]


def cross_table(rows: List[Tuple[Corpus, Results, Results]]) -> List[str]:
    cols = [col for col in CROSS_COLUMNS if any((col[0], col[1], True) in t for _, t, _ in rows)]
    lines = [
        "| corpus | files | MB | " + " | ".join(label + " (s)" for _, _, label in cols)
        + " | pycnite / C accel, keep all | pycnite / pure, keep all |",
        "|---|---:|---:|" + "---:|" * len(cols) + "---:|---:|",
    ]
    for c, times, ratios in rows:
        cells = [fmt_time(med(times.get((n, s, True)))) for n, s, _ in cols]
        speedups = []
        p = times.get(("pycnite", "keep all", True))
        for row in ("pycfile.loads (C accelerator)", "pycfile.loads (pure Python)"):
            a = times.get((row, "keep all", True))
            speedups.append(f"{statistics.median(x / y for x, y in zip(p, a)):.1f}x" if p and a else "")
        lines.append(f"| {c.name} | {len(c.datas)} | {c.size / 1e6:.1f} | " + " | ".join(cells + speedups) + " |")
    return lines


# ---- headers and memory -------------------------------------------------------------------


def header_rows(paths: List[str], top: str, repeat: int) -> List[Tuple[str, float]]:
    def scan() -> None:
        for _ in pycfile.scan_headers(top):
            pass

    def each() -> None:
        read = pycfile.read_header
        for p in paths:
            read(p)

    scan()  # warm the directory cache
    rows = []
    for name, fn in (("pycfile.scan_headers (tree)", scan), ("pycfile.read_header (each)", each)):
        t = statistics.median(timed(fn, True) for _ in range(repeat))
        rows.append((name, len(paths) / t))
    return rows


def generated_pyc(scale: int, base: Sequence[Any]) -> bytes:
    """A pyc whose module code holds ``scale`` fresh copies of the ``base`` code objects."""
    copies = []
    for _ in range(scale):
        copies.extend(marshal.loads(marshal.dumps(c)) for c in base)
    module = compile("pass", "<generated>", "exec").replace(co_consts=tuple(copies))
    return importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(module)


def peak_ratio(data: bytes, use_accelerator: bool) -> float:
    gc.collect()
    was, accel.ENABLED = accel.ENABLED, accel.ENABLED and use_accelerator
    tracemalloc.start()
    try:
        model = pycfile.loads(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        accel.ENABLED = was
    del model
    return peak / len(data)


def peaks(data: bytes) -> Tuple[float, ...]:
    """Peak / size with the accelerator (if built), then in pure Python."""
    return ((peak_ratio(data, True),) if accel.ENABLED else ()) + (peak_ratio(data, False),)


def memory(paths: List[str], largest: int, header: int) -> List[Tuple[Any, ...]]:
    sized = sorted(paths, key=os.path.getsize, reverse=True)
    rows: List[Tuple[Any, ...]] = []
    for p in sized[:largest]:
        with open(p, "rb") as f:
            data = f.read()
        rows.append((os.path.basename(p), len(data) / 1e6) + peaks(data))
    # The base: the largest pycs' code objects, about 0.5 MB (100x is about 50 MB).
    base, size = [], 0
    for p in sized:
        if size >= 500_000:
            break
        data = open(p, "rb").read()
        if len(data) <= 500_000 - size + 100_000:
            base.append(marshal.loads(data[header:]))
            size += len(data) - header
    for scale in (1, 10, 100):
        data = generated_pyc(scale, base)
        rows.append((f"generated {scale}x", len(data) / 1e6) + peaks(data))
        del data
    return rows


def _subset_tree(paths: List[str], top: str) -> str:
    """A tree of hard links to exactly ``paths`` (for the header scan)."""
    dst = tempfile.mkdtemp(prefix="pycfile-bench-subset-")
    for p in paths:
        out = os.path.join(dst, os.path.relpath(p, top))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        try:
            os.link(p, out)
        except OSError:
            shutil.copyfile(p, out)
    return dst


# ---- main -----------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "pycfile-bench"), help="host corpus cache dir")
    ap.add_argument("--host-corpus", help="a directory of host-version pycs to use instead of the host's stdlib")
    ap.add_argument("--full", action="store_true", help="add every interpreter's stdlib from the test corpus cache")
    ap.add_argument("--corpus", action="append", default=[], help="add a directory of pycs of one version (repeatable)")
    ap.add_argument("--repeat", type=int, default=5, help="runs (the median is shown)")
    ap.add_argument("--step", type=int, default=1, help="use every STEP-th pyc of each corpus")
    ap.add_argument("--no-gc-off", action="store_true", help="skip the GC-off column")
    ap.add_argument("--no-peers", action="store_true", help="skip pycnite and xdis")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory table")
    ap.add_argument("--largest", type=int, default=5, help="memory: how many of the largest pycs")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    ap.add_argument("--json", help="also write every median to this file")
    args = ap.parse_args(argv)
    if args.wall:
        global CLOCK
        CLOCK = time.perf_counter
    gc_modes = (True,) if args.no_gc_off else (True, False)

    try:
        load = os.getloadavg()
        load_text = f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs"
    except OSError:
        load_text = "load average unknown"
    clock = "wall time" if args.wall else "process CPU time"
    speedups = "C accelerator built" if accel.ENABLED else "no C accelerator (pure Python only)"
    versions = []
    for module in ("pycnite", "xdis"):
        try:
            from importlib.metadata import version

            versions.append(f"{module} {version(module)}")
        except Exception:
            pass
    print(
        f"python {sys.version.split()[0]} ({sys.implementation.name}), pycfile {pycfile.__version__}, {speedups}; "
        f"{', '.join(versions) or 'no peers'}; {clock}; GC thresholds {gc.get_threshold()}; {load_text} at start"
    )

    host_top = args.host_corpus or build_corpus(args.cache)
    host_paths = pyc_paths(host_top)[:: args.step]
    dirs: List[Tuple[str, str]] = [(f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]} (host)", host_top)]
    if args.full:
        found = cached_corpora()
        if not found:
            print("no corpus cache: run PYCFILE_CORPUS=full python -m pytest tests/test_real_pycs.py first", file=sys.stderr)
        dirs += found
    dirs += [(os.path.basename(os.path.normpath(d)), d) for d in args.corpus]

    results: List[Tuple[Corpus, Results, Results]] = []
    out_json: Dict[str, Any] = {}
    for i, (name, top) in enumerate(dirs):
        paths = host_paths if i == 0 else pyc_paths(top)[:: args.step]
        if not paths:
            continue
        # A peer may leave out a tenth of the host's files (C marshal reads them all), and
        # half of another version's.
        c = Corpus(name, paths, not args.no_peers, 0.1 if i == 0 else 0.5)
        for note in c.notes:
            print(f"  {name}: {note}", file=sys.stderr)
        times, ratios = measure(c, args.repeat, gc_modes)
        results.append((c, times, ratios))
        out_json[name] = {
            "files": len(c.datas),
            "bytes": c.size,
            "notes": c.notes,
            "times": {f"{n} | {s} | GC {'on' if g else 'off'}": med(v) for (n, s, g), v in times.items()},
            "ratios": {f"{n} | {s} | GC {'on' if g else 'off'}": med(v) for (n, s, g), v in ratios.items()},
        }
        if i == 0:
            print(f"\n## {name}: {len(c.datas)} pycs, {c.size / 1e6:.1f} MB, {host_top} (median of {args.repeat} runs)\n")
            for line in host_table(c, times, ratios, gc_modes, args.repeat):
                print(line)
            if c.notes:
                print("\n" + "; ".join(c.notes))

    if len(results) > 1:
        print(f"\n## Every corpus, GC on: median times of {args.repeat} runs\n")
        for line in cross_table(results):
            print(line)
        for c, times, ratios in results[1:]:
            if c.notes:
                print(f"\n{c.name}: " + "; ".join(c.notes))
        total = sum(c.size for c, _, _ in results)
        print(f"\nall corpora: {sum(len(c.datas) for c, _, _ in results)} pycs, {total / 1e6:.1f} MB")

    host = results[0][0]
    top = host_top if host.paths == pyc_paths(host_top) else _subset_tree(host.paths, host_top)
    print("\n| headers | files/s |\n|---|---:|")
    for name, rate in header_rows(host.paths, top, args.repeat):
        print(f"| {name} | {rate:,.0f} |")

    if not args.no_memory:
        cols = (["C accelerator"] if accel.ENABLED else []) + ["pure Python"]
        print("\n| pyc | size (MB) | " + " | ".join(f"peak of pycfile.loads / size ({c})" for c in cols) + " |")
        print("|---|---:|" + "---:|" * len(cols))
        for row in memory(host.paths, args.largest, host.offset):
            print(f"| {row[0]} | {row[1]:.2f} | " + " | ".join(f"{x:.1f}x" for x in row[2:]) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out_json, f, indent=1)


if __name__ == "__main__":
    main()
