"""The deterministic campaign: mutated real pycs of every version through every public
function, counting what escapes (no atheris needed).

Input ``i`` of a version is ``hostile.mutate(seed, Random(f"{version}:{i}"))`` for a seed
chosen by the same generator, so any input can be made again from its version and index
(``--replay VERSION:INDEX``).  Every input goes through the readers and the round trip
(:func:`drive.drive_bytes` with ``full=False``); one in ``--full-every`` accepted inputs
also goes through every function that takes a model and the functions that take paths,
and one in ``--cli-every`` through every command of the command line.

Each version runs in a worker process under a watchdog: an input that takes longer than
``--timeout`` seconds is a hang (the worker reports the function it was in and goes on);
a worker that dies (a crash, or a hang in C) is reported at the input it was on and
restarted after it.  The result is one JSON document (``--out``) and a table on stdout.

    nice -n 10 python fuzz/campaign.py --inputs 100000 --out fuzz/campaign.json
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = Path(os.environ.get("PYCFILE_SAMPLES_DIR", ROOT.parent / "shared" / "samples"))


def version_folders() -> Dict[str, List[Path]]:
    """Version name -> the folders holding its real pycs (tests/fixtures and
    ../shared/samples name them differently: ``cpython-3.12`` and ``3.12``)."""
    found: Dict[str, List[Path]] = {}
    for top in (FIXTURES, SAMPLES):
        if not top.is_dir():
            continue
        for folder in sorted(p for p in top.iterdir() if p.is_dir()):
            name = folder.name.replace("cpython-", "").replace("pypy-", "pypy")
            found.setdefault(name, []).append(folder)
    return found


def seeds_of(folders: List[Path]) -> List[bytes]:
    return [p.read_bytes() for folder in folders for p in sorted(folder.rglob("*.py[co]"))]


class Hang(BaseException):
    """Raised by the watchdog alarm inside an input that took too long."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def make_input(version: str, index: int, seeds: List[bytes], types: List[List[int]]) -> bytes:
    import hostile

    rng = random.Random(f"{version}:{index}")
    k = rng.randrange(len(seeds))
    seed = seeds[k]
    header = 16 if len(seed) >= 16 and seed[2:4] == b"\r\n" and int.from_bytes(seed[:2], "little") >= 3392 else 8
    return hostile.mutate(seed, rng, header, types[k])


def worker(version: str, start: int, stop: int, full_every: int, cli_every: int, timeout: float) -> None:
    """Run inputs ``start``..``stop`` of ``version``; one JSON line per finding and a
    progress line every 1,000 inputs, then a summary line."""
    import drive
    import hostile
    import pycfile

    folders = version_folders()[version]
    seeds = seeds_of(folders)
    types = [hostile.type_positions(s) for s in seeds]
    signal.signal(signal.SIGALRM, _alarm)
    accepted = full = cli = 0
    escapes: Counter[Tuple[str, str]] = Counter()
    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="pycfile-campaign-") as tmp:
        for index in range(start, stop):
            if index % 1000 == 0:
                print(json.dumps({"at": index}), file=out, flush=True)
            data = make_input(version, index, seeds, types)
            found: List[Any] = []
            signal.setitimer(signal.ITIMER_REAL, timeout)
            faulthandler.dump_traceback_later(timeout * 4, exit=True)  # a hang in C
            api = "loads"
            try:
                api = "readers"
                found, ok = drive.drive_pyc_bytes(data, full=False)
                if ok:
                    accepted += 1
                    if accepted % full_every == 0:
                        full += 1
                        api = "model functions"
                        found += drive.drive_bytes(data, full=True, tmp=tmp)
                if index % cli_every == 0:
                    cli += 1
                    api = "cli"
                    found += drive.drive_cli(data, tmp)
            except Hang:
                found.append(drive.Escape(_where(sys.exc_info()[2]) or api, "hang", f"over {timeout} s"))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                faulthandler.cancel_dump_traceback_later()
            for escape in found:
                key = (escape.api, escape.kind)
                escapes[key] += 1
                if escapes[key] <= 3:
                    print(json.dumps({"escape": escape._asdict(), "version": version, "index": index}), file=out, flush=True)
    summary = {
        "done": stop - start,
        "accepted": accepted,
        "full": full,
        "cli": cli,
        "escapes": [[api, kind, n] for (api, kind), n in sorted(escapes.items())],
    }
    print(json.dumps({"summary": summary}), file=out, flush=True)


def _where(tb: Any) -> Optional[str]:
    """The public function a hang happened in: the innermost pycfile frame outside
    the private helpers' names, as ``module.function``."""
    frames = traceback.extract_tb(tb)
    for frame in reversed(frames):
        if "/pycfile/" in frame.filename:
            return f"{Path(frame.filename).stem}.{frame.name}"
    return None


def run_version(version: str, inputs: int, args: argparse.Namespace) -> Dict[str, Any]:
    """The inputs of one version in worker processes, restarted after a death."""
    start = 0
    totals: Dict[str, Any] = {"version": version, "inputs": inputs, "accepted": 0, "full": 0, "cli": 0}
    escapes: Counter[Tuple[str, str]] = Counter()
    examples: List[Dict[str, Any]] = []
    began = time.time()
    while start < inputs:
        command = [sys.executable, __file__, "--worker", version, str(start), str(inputs),
                   str(args.full_every), str(args.cli_every), str(args.timeout)]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        at = start
        finished = False
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if "at" in record:
                at = record["at"]
            elif "escape" in record:
                if len(examples) < 200:
                    examples.append(record)
            elif "summary" in record:
                s = record["summary"]
                for key in ("accepted", "full", "cli"):
                    totals[key] += s[key]
                for api, kind, n in s["escapes"]:
                    escapes[(api, kind)] += n
                finished = True
        code = proc.wait()
        if finished and code == 0:
            break
        # The worker died: find the input it died on by running each of the last
        # thousand alone would be slow; the progress mark gives the block, and the
        # block is rerun one input per process only in --replay.  Count the death and
        # go on after the block.
        escapes[("worker", f"died ({code})")] += 1
        examples.append({"escape": {"api": "worker", "kind": f"died ({code})", "message": f"in inputs {at}..{at + 999}"},
                         "version": version, "index": at})
        start = at + 1000
    totals["seconds"] = round(time.time() - began, 1)
    totals["escapes"] = [[api, kind, n] for (api, kind), n in sorted(escapes.items())]
    totals["examples"] = examples
    return totals


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000, help="mutated inputs per version")
    parser.add_argument("--versions", nargs="*", help="only these versions (folder names: 3.12, 2.7, pypy3.10...)")
    parser.add_argument("--full-every", type=int, default=100, help="every Nth accepted input also goes through every model function")
    parser.add_argument("--cli-every", type=int, default=2000, help="every Nth input also goes through every CLI command")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds after which an input is a hang")
    parser.add_argument("--jobs", type=int, default=1, help="versions run at once")
    parser.add_argument("--out", help="write the results here as JSON")
    parser.add_argument("--replay", help="VERSION:INDEX: make that input again, print it as hex and drive it")
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        version, start, stop, full_every, cli_every, timeout = args.worker
        worker(version, int(start), int(stop), int(full_every), int(cli_every), float(timeout))
        return 0
    if args.replay:
        return replay(args.replay)
    folders = version_folders()
    versions = args.versions or sorted(folders)
    results: List[Dict[str, Any]] = []
    began = time.time()
    for result in _map(versions, args):
        results.append(result)
        bad = sum(n for _, _, n in result["escapes"])
        print(f"{result['version']:>10}: {result['inputs']} inputs, {result['accepted']} accepted, "
              f"{result['full']} through every model function, {result['cli']} through the CLI, "
              f"{bad} escapes, {result['seconds']} s", flush=True)
        for api, kind, n in result["escapes"]:
            print(f"{'':>12}{n} x {kind} in {api}", flush=True)
    document = {
        "command": " ".join([sys.executable] + sys.argv),
        "seconds": round(time.time() - began, 1),
        "inputs": sum(r["inputs"] for r in results),
        "escapes": sum(n for r in results for _, _, n in r["escapes"]),
        "versions": results,
    }
    print(f"total: {document['inputs']} inputs over {len(results)} versions, {document['escapes']} escapes, "
          f"{document['seconds']} s")
    if args.out:
        Path(args.out).write_text(json.dumps(document, indent=1) + "\n")
    return 1 if document["escapes"] else 0


def _map(versions: List[str], args: argparse.Namespace) -> Iterator[Dict[str, Any]]:
    if args.jobs <= 1:
        for version in versions:
            yield run_version(version, args.inputs, args)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(args.jobs) as pool:
        yield from pool.map(lambda v: run_version(v, args.inputs, args), versions)


def replay(spec: str) -> int:
    import drive
    import hostile

    version, index = spec.rsplit(":", 1)
    seeds = seeds_of(version_folders()[version])
    data = make_input(version, int(index), seeds, [hostile.type_positions(s) for s in seeds])
    print(data.hex())
    found = drive.drive_bytes(data, full=True)
    with tempfile.TemporaryDirectory() as tmp:
        found += drive.drive_cli(data, tmp)
    for escape in found:
        print(escape)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
