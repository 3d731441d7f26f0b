"""Running a recursive reader or writer on input nested deeper than the caller's stack.

The reader and writer recurse once per nesting level.  Real pycs nest a few dozen
levels, so they run on the caller's stack with a shallow limit; input that nests deeper
(up to the version's marshal limit of 2000 or 5000) is read again on a thread with a
large stack and a raised recursion limit.  Either way, nesting never ends in a
RecursionError or a crash of the interpreter.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, List, TypeVar

__all__ = ["SHALLOW_DEPTH", "TooDeepForThisStack", "call_with_deep_stack"]

T = TypeVar("T")

#: Nesting levels handled on the caller's own stack.
SHALLOW_DEPTH = 100

_STACK_BYTES = 256 * 1024 * 1024
_RECURSION_LIMIT = 40_000


class TooDeepForThisStack(Exception):
    """Internal: the input nests deeper than :data:`SHALLOW_DEPTH`; rerun deep."""


def call_with_deep_stack(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a thread with a large stack and a high recursion limit."""
    results: List[T] = []
    errors: List[BaseException] = []

    def target() -> None:
        try:
            results.append(fn(*args))
        except BaseException as e:  # handed to the caller's thread below
            errors.append(e)

    old_size = threading.stack_size()
    old_limit = sys.getrecursionlimit()
    try:
        threading.stack_size(_STACK_BYTES)
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        thread = threading.Thread(target=target, name="pycfile-deep", daemon=True)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if errors:
        raise errors[0]
    return results[0]
