"""Benchmark pycfile against C marshal and the pure-Python peers (pycnite, xdis).

Run from a checkout (``python benchmarks/bench.py``) or with pycfile installed.  The
corpus is the host interpreter's own standard library, compiled by that interpreter
into a cache directory (``--cache``), so every figure is for real pycs of the host
version, which C ``marshal`` of the host can read too.  Each run times every reader on
the same bodies, in the same process, one after the other; the table shows the median
of ``--repeat`` runs as a time and as a ratio to C marshal measured in the same run.

Memory: ``tracemalloc`` peak while loading (the input bytes excluded), divided by the
file size, for the largest pycs of the corpus and for generated pycs of 1x, 10x and
100x a ~0.5 MB base (the 100x one is ~50 MB).

Speed is shared-machine sensitive: ratios from one run are fairer than absolute times.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import marshal
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
if importlib.util.find_spec("pycfile") is None:  # running from a checkout
    sys.path.insert(0, os.path.dirname(HERE))

import pycfile  # noqa: E402
from pycfile import _accel as accel  # noqa: E402

HEADER = 16  # the host is 3.7+
# CPU time of this process: on a shared machine it is fairer than wall time (the header
# scan's system calls count too).  --wall switches to time.perf_counter.
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
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    src = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
        check=True,
        capture_output=True,
        text=True,
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


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # the same for every reader; a model is mostly acyclic
    try:
        t = CLOCK()
        fn()
        return CLOCK() - t
    finally:
        if was:
            gc.enable()


def peers() -> Dict[str, Tuple[Callable[[List[bytes]], Callable[[], Any]], Callable[[bytes], Any]]]:
    """The installed pure-Python peers: name -> (pycs -> timed callable, pyc -> one load)."""
    found: Dict[str, Tuple[Callable[[List[bytes]], Callable[[], Any]], Callable[[bytes], Any]]] = {}
    try:
        from pycnite import marshal as pycnite_marshal  # type: ignore[import-not-found]

        version = sys.version_info[:2]

        def pycnite_run(datas: List[bytes]) -> Callable[[], Any]:
            def run() -> None:
                for d in datas:
                    pycnite_marshal.loads(d[HEADER:], version)

            return run

        found["pycnite.marshal.loads"] = (pycnite_run, lambda d: pycnite_marshal.loads(d[HEADER:], version))
    except ImportError:
        pass
    try:
        from xdis.magics import magic2int  # type: ignore[import-not-found]
        from xdis.unmarshal import load_code  # type: ignore[import-not-found]

        def xdis_run(datas: List[bytes]) -> Callable[[], Any]:
            magic = magic2int(datas[0][:4])

            def run() -> None:
                for d in datas:
                    # a fresh code_objects dict: xdis's default keeps every code object alive
                    load_code(d[HEADER:], magic, code_objects={})

            return run

        found["xdis load_code"] = (xdis_run, lambda d: load_code(d[HEADER:], magic2int(d[:4]), code_objects={}))
    except ImportError:
        pass
    return found


def speed(paths: List[str], top: str, repeat: int, with_peers: bool) -> List[Tuple[str, float, float]]:
    datas = [open(p, "rb").read() for p in paths]
    found = peers() if with_peers else {}
    for name, (_, one) in found.items():  # the same files for every reader
        keep = []
        for p, d in zip(paths, datas):
            try:
                one(d)
                keep.append((p, d))
            except Exception as e:
                print(f"left out (fails in {name}: {e!r}): {p}", file=sys.stderr)
        paths = [p for p, _ in keep]
        datas = [d for _, d in keep]
    if paths != pyc_paths(top):  # the header scan walks a tree: give it exactly these files
        top = _subset_tree(paths, top)
    bodies = [d[HEADER:] for d in datas]
    codes = [marshal.loads(b) for b in bodies]
    models = [pycfile.loads(d) for d in datas]
    total = sum(map(len, datas))
    for m, d in zip(models, datas):  # the dump benchmark is only honest if it is exact
        assert pycfile.dumps(m) == d

    loads, dumps = pycfile.loads, pycfile.dumps
    m_loads, m_dumps = marshal.loads, marshal.dumps

    def c_load() -> None:
        for b in bodies:
            m_loads(b)

    def c_dump() -> None:
        for c in codes:
            m_dumps(c)

    def p_load() -> None:
        for d in datas:
            loads(d)

    def p_dump() -> None:
        for m in models:
            dumps(m)

    def pure(fn: Callable[[], None]) -> Callable[[], None]:
        """``fn`` on the pure-Python reader and writer (the accelerator switched off)."""

        def run() -> None:
            was, accel.ENABLED = accel.ENABLED, False
            try:
                fn()
            finally:
                accel.ENABLED = was

        return run

    def p_load_walk() -> None:  # the model is fully built: touching it costs nothing more
        for d in datas:
            for code in loads(d).code.walk():  # type: ignore[union-attr]
                code.co_consts  # noqa: B018

    def scan() -> None:
        for _ in pycfile.scan_headers(top):
            pass

    def header_files() -> None:
        read = pycfile.read_header
        for p in paths:
            read(p)

    jobs: Dict[str, Callable[[], Any]] = {"C marshal.loads": c_load}
    if accel.ENABLED:
        jobs["pycfile.loads (C accelerator)"] = p_load
        jobs["pycfile.loads + walk (C accelerator)"] = p_load_walk
    jobs["pycfile.loads (pure Python)"] = pure(p_load)
    jobs["pycfile.loads + walk (pure Python)"] = pure(p_load_walk)
    jobs["C marshal.dumps"] = c_dump
    if accel.ENABLED:
        jobs["pycfile.dumps (C accelerator)"] = p_dump
    jobs["pycfile.dumps (pure Python)"] = pure(p_dump)
    jobs.update({
        "pycfile.scan_headers (tree)": scan,
        "pycfile.read_header (each)": header_files,
    })
    for name, (make, _) in found.items():
        jobs[name] = make(datas)
    scan()  # warm the directory cache
    times: Dict[str, List[float]] = {k: [] for k in jobs}
    ratios: Dict[str, List[float]] = {k: [] for k in jobs}
    for r in range(repeat):
        run = {k: timed(fn) for k, fn in jobs.items()}
        for k, t in run.items():
            times[k].append(t)
            base = run["C marshal.dumps"] if "dump" in k else run["C marshal.loads"]
            ratios[k].append(t / base)
        print(f"  run {r + 1}/{repeat} done", file=sys.stderr)
    print(f"\ncorpus: {len(paths)} pycs, {total / 1e6:.1f} MB, {top}")
    rows = []
    for k in jobs:
        t = statistics.median(times[k])
        if "header" in k:
            rows.append((k, t, len(paths) / t))
        else:
            rows.append((k, t, statistics.median(ratios[k])))
    return rows


def generated_pyc(scale: int, base: Sequence[Any]) -> bytes:
    """A pyc whose module code holds ``scale`` fresh copies of the ``base`` code objects."""
    copies = []
    for _ in range(scale):
        copies.extend(marshal.loads(marshal.dumps(c)) for c in base)
    module = compile("pass", "<generated>", "exec").replace(co_consts=tuple(copies))
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(module)


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


def memory(paths: List[str], largest: int) -> List[Tuple[Any, ...]]:
    sized = sorted(paths, key=os.path.getsize, reverse=True)[:largest]
    rows = []
    for p in sized:
        with open(p, "rb") as f:
            data = f.read()
        rows.append((os.path.basename(p), len(data) / 1e6) + peaks(data))
    # The base: the largest pycs' code objects, about 0.5 MB (100x is about 50 MB).
    base, size = [], 0
    for p in sorted(paths, key=os.path.getsize, reverse=True):
        if size >= 500_000:
            break
        data = open(p, "rb").read()
        if len(data) <= 500_000 - size + 100_000:
            base.append(marshal.loads(data[HEADER:]))
            size += len(data) - HEADER
    for scale in (1, 10, 100):
        data = generated_pyc(scale, base)
        rows.append((f"generated {scale}x", len(data) / 1e6) + peaks(data))
        del data
    return rows


def main(argv: Optional[Sequence[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "pycfile-bench"), help="corpus cache dir")
    ap.add_argument("--corpus", help="a directory of host-version pycs to use instead of the stdlib")
    ap.add_argument("--repeat", type=int, default=5, help="runs (the median is shown)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N pycs (0: all)")
    ap.add_argument("--no-peers", action="store_true", help="skip pycnite and xdis")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory table")
    ap.add_argument("--largest", type=int, default=5, help="memory: how many of the largest pycs")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    args = ap.parse_args(argv)
    if args.wall:
        global CLOCK
        CLOCK = time.perf_counter

    top = args.corpus or build_corpus(args.cache)
    paths = pyc_paths(top)
    if args.limit:
        paths = paths[: args.limit]
    try:
        load = os.getloadavg()
        load_text = f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs"
    except OSError:
        load_text = "load average unknown"
    clock = "wall time" if args.wall else "process CPU time"
    speedups = "C accelerator built" if accel.ENABLED else "no C accelerator (pure Python only)"
    print(f"python {sys.version.split()[0]} ({sys.implementation.name}), pycfile {pycfile.__version__}, {speedups}; {clock}; {load_text}")
    rows = speed(paths, top, args.repeat, not args.no_peers)
    print(f"\n| reader / writer | median time (s) | ratio to C marshal (median of {args.repeat}) |")
    print("|---|---:|---:|")
    for name, t, ratio in rows:
        if "header" in name:
            print(f"| {name} | {t:.3f} | {ratio:,.0f} files/s |")
        else:
            print(f"| {name} | {t:.3f} | {ratio:.1f}x |")
    if not args.no_memory:
        kinds = (["C accelerator"] if accel.ENABLED else []) + ["pure Python"]
        print("\n| pyc | size (MB) | " + " | ".join(f"peak of pycfile.loads / size ({k})" for k in kinds) + " |")
        print("|---|---:|" + "---:|" * len(kinds))
        for name, size, *ratios in memory(paths, args.largest):
            print(f"| {name} | {size:.2f} | " + " | ".join(f"{r:.1f}x" for r in ratios) + " |")


def _subset_tree(paths: List[str], top: str) -> str:
    """A tree of hard links (or copies) holding exactly ``paths`` (all under ``top``)."""
    import hashlib
    import shutil

    key = hashlib.sha1("\0".join(paths).encode()).hexdigest()[:12]
    dst = os.path.join(tempfile.gettempdir(), "pycfile-bench", "subset-" + key)
    if not os.path.isdir(dst):
        for p in paths:
            out = os.path.join(dst, os.path.relpath(p, top))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            try:
                os.link(p, out)
            except OSError:
                shutil.copyfile(p, out)
    return dst


if __name__ == "__main__":
    main()
