"""Threads and small stacks (issue 13): many threads reading, writing, comparing,
printing and diffing deep and ordinary pycs at once see no exception but PycError, and
nothing changes the process-wide recursion limit or thread stack size, even for a
moment; a thread with a 64 KiB stack reads deep input without crashing the interpreter.

The small-stack checks run in a child process each (with the accelerator, and with
``PYCFILE_PURE=1``), so a crash there fails the test instead of ending the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, List, Set, Tuple

import pytest

import pycfile

from fuzz_harness import FUZZ, load_module
from small_stacks import stack_kib

hostile = load_module("hostile")

ROOT = Path(__file__).resolve().parents[1]
ORDINARY = (ROOT / "tests" / "fixtures" / "cpython-3.12" / "functions.opt0.pyc").read_bytes()
DEEP = hostile.deep_pyc(1900)  # legal: CPython's limit is 2,000 levels


def _work(data: bytes, rounds: int, errors: List[BaseException]) -> None:
    other = pycfile.loads(data)
    for _ in range(rounds):
        try:
            pyc = pycfile.loads(data)
            assert pycfile.dumps(pyc) == data
            assert pyc == other and not pyc != other
            assert repr(pyc).startswith("PycFile(")
            assert pycfile.diff(pyc, other) == []
            pycfile.to_python(getattr(pyc.code, "co_consts"))
            assert pycfile.marshal.dumps(pycfile.marshal.loads(data[16:], version=pyc.format), version=pyc.format) == data[16:]
        except pycfile.PycError:
            pass
        except BaseException as e:  # noqa: BLE001 - what the test looks for
            errors.append(e)


def _run_threads(jobs: List[Tuple[bytes, int]]) -> Tuple[List[BaseException], Set[Tuple[int, int]]]:
    """Run the jobs on threads of their own while a monitor samples the process-wide
    recursion limit and thread stack size; the errors and every pair sampled."""
    errors: List[BaseException] = []
    seen: Set[Tuple[int, int]] = set()
    done = threading.Event()

    def monitor() -> None:
        while not done.is_set():
            seen.add((sys.getrecursionlimit(), threading.stack_size()))
            time.sleep(0.0002)

    watcher = threading.Thread(target=monitor)
    watcher.start()
    threads = [threading.Thread(target=_work, args=(data, rounds, errors)) for data, rounds in jobs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        done.set()
        watcher.join()
    seen.add((sys.getrecursionlimit(), threading.stack_size()))
    return errors, seen


def test_eight_threads_on_ordinary_pycs() -> None:
    before = (sys.getrecursionlimit(), threading.stack_size())
    errors, seen = _run_threads([(ORDINARY, 40)] * 8)
    assert errors == []
    assert seen == {before}


def test_eight_threads_on_deep_and_ordinary_pycs() -> None:
    before = (sys.getrecursionlimit(), threading.stack_size())
    errors, seen = _run_threads([(DEEP, 6), (ORDINARY, 40)] * 4)
    assert errors == []
    assert seen == {before}, f"process-wide state changed while threads ran: {sorted(seen)}"


_SMALL_STACK = r"""
import sys, threading
sys.path.insert(0, sys.argv[1])
import hostile, pycfile

results = []

def step(name, call):
    try:
        call()
        results.append(name + " ok")
    except pycfile.PycError as e:
        results.append(name + " " + type(e).__name__)
    except BaseException as e:
        results.append(name + " ESCAPED " + repr(e)[:200])

def work():
    stream = b")\x01" * 399 + b"N"
    value = []
    step("marshal.loads", lambda: value.append(pycfile.marshal.loads(stream, version=(3, 12))))
    if value:
        step("==", lambda: value[0] == pycfile.marshal.loads(stream, version=(3, 12)) or 1 / 0)
        step("repr", lambda: repr(value[0]))
        step("marshal.dumps", lambda: pycfile.marshal.dumps(value[0], version=(3, 12)) == stream or 1 / 0)
    data = hostile.deep_pyc(1900)
    pyc = []
    step("loads", lambda: pyc.append(pycfile.loads(data)))
    if pyc:
        step("dumps", lambda: pycfile.dumps(pyc[0]) == data or 1 / 0)
        step("deep ==", lambda: pyc[0] == pycfile.loads(data) or 1 / 0)
        step("deep repr", lambda: repr(pyc[0]))
        step("diff", lambda: pycfile.diff(pyc[0], pyc[0]) == [] or 1 / 0)

before = (sys.getrecursionlimit(), threading.stack_size())
old = threading.stack_size()
threading.stack_size(int(sys.argv[2]) * 1024)
try:
    thread = threading.Thread(target=work)
    thread.start()
finally:
    threading.stack_size(old)
thread.join()
print("\n".join(results))
print("state", "same" if (sys.getrecursionlimit(), threading.stack_size()) == before else "changed")
"""


def _small_stack(pure: bool) -> str:
    env = dict(os.environ)
    env.pop("PYCFILE_PURE", None)
    if pure:
        env["PYCFILE_PURE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _SMALL_STACK, str(FUZZ), str(stack_kib(2000, (64, 512, 1024)))],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"the child died ({proc.returncode}): {proc.stderr[-2000:]}"
    assert "ESCAPED" not in proc.stdout, proc.stdout
    return proc.stdout


_EXPECTED = """marshal.loads ok
== ok
repr ok
marshal.dumps ok
loads ok
dumps ok
deep == ok
deep repr ok
diff ok
state same
"""


@pytest.mark.skipif(not pycfile.ACCELERATED, reason="the accelerator is not built (PYCFILE_PURE=1 or no compiler)")
def test_a_64k_stack_thread_with_the_accelerator() -> None:
    assert _small_stack(pure=False) == _EXPECTED


def test_a_64k_stack_thread_in_pure_python() -> None:
    assert _small_stack(pure=True) == _EXPECTED
