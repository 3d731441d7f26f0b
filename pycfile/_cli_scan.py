"""``pycfile scan PATH...``: a report on every pyc under the paths (pycfile/_scan.py).

Exit status 0 when every file is ok, 1 when any is not (2 for bad usage, as every
command).  ``--json`` prints one report per line, in the walk's order; without it, a
summary table: counts per version, then the files that are not ok.  A progress bar goes
to stderr when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO

from ._commands import CommandError, _out, register
from ._scan import Report, scan_paths

__all__: List[str] = []

_SHOWN = 50  # files not ok listed in the table (all of them with --json)


def _natural(text: str) -> List[Any]:
    """A sort key reading the numbers in ``text`` as numbers (3.9 before 3.10)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


class _Summary:
    """Counts per version, and the files that are not ok."""

    def __init__(self) -> None:
        self.rows: Dict[str, List[int]] = {}
        self.failures: List[Report] = []
        self.failed = 0

    def add(self, report: Report) -> None:
        row = self.rows.setdefault(report["version"] or "(unreadable)", [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += not report["ok"]
        row[2] += report["source"] is not None
        row[3] += bool(report["stale"])
        row[4] += report["unused_refs"] or 0
        if not report["ok"]:
            self.failed += 1
            if len(self.failures) < _SHOWN:
                self.failures.append(report)

    def lines(self, headers_only: bool) -> List[str]:
        header = ["version", "files", "not ok", "with source", "stale", "unused FLAG_REFs"]
        body = [[name] + [str(n) for n in counts] for name, counts in sorted(self.rows.items(), key=lambda r: _natural(r[0]))]
        totals = [sum(counts[i] for counts in self.rows.values()) for i in range(5)]
        body.append(["all"] + [str(n) for n in totals])
        if headers_only:  # not looked at: the fields need the whole file or the source
            body = [row[:3] + ["-", "-", "-"] for row in body]
        widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
        out = [
            "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in [header] + body
        ]
        if self.failed:
            out.append(f"not ok ({self.failed}):")
            out.extend(f"  {r['path']}: {_describe(r['error'])}" for r in self.failures)
            if self.failed > len(self.failures):
                out.append(f"  ... and {self.failed - len(self.failures)} more (--json lists every report)")
        return out


def _describe(error: Optional[Dict[str, Any]]) -> str:
    if error is None:
        return "not ok"
    where = [f"offset {error['offset']}"] if error["offset"] is not None else []
    where += [f"in {error['path']}"] if error["path"] else []
    return f"{error['type']}: {error['message']}" + (f" ({', '.join(where)})" if where else "")


def _progress_bar(stream: TextIO) -> Callable[[int, int], None]:
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.1:
            return
        last[0] = now
        width = 30
        filled = width * done // total if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
        if done >= total:
            stream.write("\r" + " " * (width + 2 * len(str(total)) + 10) + "\r")
        stream.flush()

    return show


def _scan(args: argparse.Namespace) -> int:
    jobs = args.jobs if args.jobs != 0 else (os.cpu_count() or 1)
    if jobs < 0:
        raise CommandError(f"--jobs must be 0 (one per CPU) or more, not {args.jobs}")
    progress = _progress_bar(sys.stderr) if sys.stderr.isatty() else None
    out = _out(args)
    summary = _Summary()
    for report in scan_paths(args.paths, jobs=jobs, headers_only=args.headers_only, progress=progress):
        summary.add(report)
        if args.json:
            out.write(json.dumps(report) + "\n")
    if not args.json:
        out.write("\n".join(summary.lines(args.headers_only)) + "\n")
    return 1 if summary.failed else 0


def _scan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="pycs, directories (walked), .whl/.zip/.egg archives")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1; 0: one per CPU)")
    parser.add_argument("--json", action="store_true", help="one JSON report per line, in a stable order")
    parser.add_argument(
        "--headers-only",
        action="store_true",
        help="read only each file's header (as fast as pycfile.scan_headers): no round trip, refs, paths or staleness",
    )


register("scan", "report on every pyc under the paths, archives included (exit 1 if any is not ok)", _scan_arguments, _scan)
