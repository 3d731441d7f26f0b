"""Run the doc examples (```pycon blocks in README.md and docs/) as doctests.

Each Markdown file is one doctest.  It runs in a fresh temporary directory, so an
example can write ``example.py`` and compile it without leaving anything behind.

An example block that uses a public name from a feature still being built on another
branch (``pycfile.replace_constants``, ``pycfile.strategies``) is skipped, block by
block, while ``pycfile`` lacks that name; once the feature is merged it runs.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import pycfile

# A name used in the docs -> whether this checkout of pycfile has it.
_PENDING_FEATURES: Dict[str, bool] = {
    "replace_constants": hasattr(pycfile, "replace_constants"),
    "strategies": importlib.util.find_spec("pycfile.strategies") is not None,
}

_FENCE = re.compile(r"^\s*(```+|~~~+)")


def _blocks(text: str) -> List[Tuple[int, int, str]]:
    """(first line, last line, body) of each fenced block, 0-based line numbers."""
    blocks = []
    lines = text.splitlines()
    start = None
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            if start is None:
                start = number
            else:
                blocks.append((start, number, "\n".join(lines[start + 1 : number])))
                start = None
    return blocks


def _skip_pending(item: pytest.Item) -> None:
    missing = [name for name, present in _PENDING_FEATURES.items() if not present]
    dtest = getattr(item, "dtest", None)
    if not missing or dtest is None or not str(item.path).endswith(".md"):
        return
    text = Path(item.path).read_text(encoding="utf-8")
    for first, last, body in _blocks(text):
        if any(re.search(r"\b%s\b" % name, body) for name in missing):
            for example in dtest.examples:
                if example.lineno is not None and first <= example.lineno <= last:
                    example.options[doctest.SKIP] = True


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        _skip_pending(item)


@pytest.fixture(autouse=True)
def _doc_examples_in_a_temporary_directory(request: pytest.FixtureRequest) -> None:
    if getattr(request.node, "dtest", None) is not None:  # a doctest item
        tmp_path = request.getfixturevalue("tmp_path")
        request.getfixturevalue("monkeypatch").chdir(tmp_path)
