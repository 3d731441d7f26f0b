"""Run the doc examples (```pycon blocks in README.md and docs/) as doctests.

Each Markdown file is one doctest.  It runs in a fresh temporary directory, so an
example can write ``example.py`` and compile it without leaving anything behind.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _doc_examples_in_a_temporary_directory(request: pytest.FixtureRequest) -> None:
    if getattr(request.node, "dtest", None) is not None:  # a doctest item
        tmp_path = request.getfixturevalue("tmp_path")
        request.getfixturevalue("monkeypatch").chdir(tmp_path)
