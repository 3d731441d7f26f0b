"""pycfile's C accelerator against C marshal with the garbage collector ON, in one process.

    python benchmarks/gc_ab.py [--repeat 7] [--limit 0] [--cache DIR] [--gc-off]

The corpus is the host interpreter's standard library (no site-packages), compiled by
that interpreter into a cache directory.  Every job runs on the same files, in the same
process, one after the other (in reverse order every other round), and each round gives
each job a ratio to C ``marshal`` measured in that round:

- stream: each file loaded and dropped (``pycfile.loads`` of the pyc against
  ``marshal.loads`` of its body);
- keep all: every result kept until the round ends (an indexer, auditor or diff tool);
- dumps: ``pycfile.dumps`` of the models against ``marshal.dumps`` of the code objects.

The collector is on, as users run it (``--gc-off`` adds the same jobs with it off).
"leaves tracked" is the accelerator with a plan that keeps every object it makes tracked
by the collector (what it did before it left leaves untracked): the A/B of that change.
Times are CPU time (``time.process_time``); the table shows medians of ``--repeat``
rounds.  Memory: the ``tracemalloc`` peak of ``pycfile.loads`` over the file size, for
the largest pycs.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import marshal
import os
import py_compile
import statistics
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
if importlib.util.find_spec("pycfile") is None:  # running from a checkout
    sys.path.insert(0, os.path.dirname(HERE))

import pycfile  # noqa: E402
from pycfile import _accel  # noqa: E402

HEADER = 16  # hosts are 3.7+


def corpus(cache: str) -> List[str]:
    """The host's stdlib compiled into ``cache`` (made on first use); the pyc paths."""
    src = sysconfig.get_paths()["stdlib"]
    if not os.path.isdir(cache):
        for root, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    out = os.path.join(cache, os.path.relpath(path, src)) + "c"
                    with contextlib.suppress(Exception), open(os.devnull, "w") as null:
                        with contextlib.redirect_stderr(null):
                            py_compile.compile(path, cfile=out, dfile=path, doraise=True)
    return sorted(os.path.join(r, n) for r, _, fs in os.walk(cache) for n in fs if n.endswith(".pyc"))


@contextlib.contextmanager
def leaves_tracked(fmt: pycfile.PycFormat) -> Iterator[None]:
    """The accelerator with a plan that leaves every object it makes tracked."""
    kept = _accel.make_plan(fmt, _accel._speedups, untrack=False)
    was = _accel._PLANS.get(id(fmt))
    _accel._PLANS[id(fmt)] = (fmt, kept)
    try:
        yield
    finally:
        if was is None:
            del _accel._PLANS[id(fmt)]
        else:
            _accel._PLANS[id(fmt)] = was


def timed(fn: Callable[[], Any], collector: bool) -> float:
    """CPU seconds of ``fn()``; what it returns is dropped after the clock stops."""
    gc.collect()
    if not collector:
        gc.disable()
    try:
        start = time.process_time()
        result = fn()
        took = time.process_time() - start
    finally:
        gc.enable()
    del result
    gc.collect()
    return took


def jobs(datas: List[bytes], fmt: pycfile.PycFormat) -> Dict[str, Tuple[str, Callable[[], Any]]]:
    """Job name -> (its C marshal baseline's name, the job)."""
    bodies = [d[HEADER:] for d in datas]
    codes = [marshal.loads(b) for b in bodies]
    models = [pycfile.loads(d) for d in datas]
    for model, data in zip(models, datas):  # a dump benchmark is only honest if it is exact
        assert pycfile.dumps(model) == data
    loads, dumps, m_loads, m_dumps = pycfile.loads, pycfile.dumps, marshal.loads, marshal.dumps

    def tracked(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with leaves_tracked(fmt):
                return fn()

        return run

    def stream_c() -> None:
        for b in bodies:
            m_loads(b)

    def stream_p() -> None:
        for d in datas:
            loads(d)

    return {
        "C marshal.loads, stream": ("C marshal.loads, stream", stream_c),
        "pycfile.loads, stream": ("C marshal.loads, stream", stream_p),
        "pycfile.loads, stream, leaves tracked": ("C marshal.loads, stream", tracked(stream_p)),
        "C marshal.loads, keep all": ("C marshal.loads, keep all", lambda: [m_loads(b) for b in bodies]),
        "pycfile.loads, keep all": ("C marshal.loads, keep all", lambda: [loads(d) for d in datas]),
        "pycfile.loads, keep all, leaves tracked": (
            "C marshal.loads, keep all",
            tracked(lambda: [loads(d) for d in datas]),
        ),
        "C marshal.dumps": ("C marshal.dumps", lambda: [m_dumps(c) for c in codes]),
        "pycfile.dumps": ("C marshal.dumps", lambda: [dumps(m) for m in models]),
    }


def peak_ratio(data: bytes) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        model = pycfile.loads(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del model
    return peak / len(data)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (the table shows medians)")
    parser.add_argument("--limit", type=int, default=0, help="use every k-th pyc so that about this many remain")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "pycfile-gc-ab", sys.implementation.cache_tag))
    parser.add_argument("--gc-off", action="store_true", help="also run every job with the collector off")
    args = parser.parse_args(argv)
    if not _accel.ENABLED:
        sys.exit("the C accelerator is not in use (not built, or PYCFILE_PURE is set)")
    paths = corpus(args.cache)
    if args.limit:
        paths = paths[:: max(1, len(paths) // args.limit)][: args.limit]
    datas = []
    for path in paths:
        with open(path, "rb") as f:
            datas.append(f.read())
    fmt = pycfile.loads(datas[0]).header.format
    work = jobs(datas, fmt)
    modes = [True, False] if args.gc_off else [True]
    times: Dict[Tuple[str, bool], List[float]] = {(k, m): [] for k in work for m in modes}
    ratios: Dict[Tuple[str, bool], List[float]] = {(k, m): [] for k in work for m in modes}
    for r in range(args.repeat):
        order = list(work) if r % 2 == 0 else list(reversed(work))  # no job always runs first
        for collector in modes:
            run = {k: timed(work[k][1], collector) for k in order}
            for k, (base, _) in work.items():
                times[k, collector].append(run[k])
                ratios[k, collector].append(run[k] / run[base])
        print(f"  round {r + 1}/{args.repeat}", file=sys.stderr)
    size = sum(map(len, datas))
    print(f"\nPython {sys.version.split()[0]}, {len(datas)} stdlib pycs, {size / 1e6:.1f} MB, {args.repeat} rounds")
    head = "| job | GC on: time (s) | GC on: ratio |" + (" GC off: time (s) | GC off: ratio |" if args.gc_off else "")
    print(head)
    print("|---|---:|---:|" + ("---:|---:|" if args.gc_off else ""))
    for k in work:
        cells = [f"{statistics.median(times[k, m]):.3f} | {statistics.median(ratios[k, m]):.2f}x" for m in modes]
        print(f"| {k} | " + " | ".join(cells) + " |")
    largest = sorted(datas, key=len)[-3:]
    print("\npeak of pycfile.loads / file size: " + ", ".join(f"{len(d) / 1e6:.2f} MB: {peak_ratio(d):.1f}x" for d in largest))


if __name__ == "__main__":
    main()
