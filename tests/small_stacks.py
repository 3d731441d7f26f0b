"""The thread stack a small-stack test may use: the least of some sizes on which the
running interpreter itself survives freeing a nest shaped like a deep model (a slots
object holding a list holding the next one) made in plain Python.

CPython 3.13 frees nested objects recursively until its C recursion counter, not the
stack, says stop (the trashcan), so on a small thread stack it crashes freeing a nest of
a few hundred levels that it built itself; 3.12 and 3.14 do not.  A test of pycfile on a
small stack first asks the interpreter, in a child process, which size it can live with.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Sequence

import pytest

__all__ = ["stack_kib"]

_CONTROL = r"""
import sys, threading
class Node:
    __slots__ = ("items", "kind", "flag")
    def __init__(self, items):
        self.items, self.kind, self.flag = items, ")", False
def work():
    nest = None
    for _ in range(int(sys.argv[2])):
        nest = Node([nest])
    del nest
threading.stack_size(int(sys.argv[1]) * 1024)
thread = threading.Thread(target=work)
thread.start()
thread.join()
"""


def stack_kib(levels: int, sizes: Sequence[int]) -> int:
    """The first of ``sizes`` (KiB) on which this interpreter makes and frees a nest of
    ``levels`` levels on a thread; fails the test when none will do."""
    for kib in sizes:
        # (A size below the interpreter's least thread stack fails the child too.)
        control = subprocess.run([sys.executable, "-c", _CONTROL, str(kib), str(levels)], capture_output=True, timeout=300)
        if control.returncode == 0:
            return kib
    pytest.fail(f"this interpreter cannot free a nest of {levels} levels on a thread stack of {max(sizes)} KiB")
