"""CHANGELOG.md keeps the Keep a Changelog structure that every change adds lines to."""

from __future__ import annotations

import re
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"

# The section kinds Keep a Changelog 1.1.0 defines.
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_changelog_structure() -> None:
    lines = CHANGELOG.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Changelog"
    releases = [line for line in lines if line.startswith("## ")]
    assert releases and releases[0] == "## [Unreleased]", releases[:1]
    for heading in releases[1:]:
        assert re.fullmatch(r"## \[\d+\.\d+\.\d+[^\]]*\] - \d{4}-\d{2}-\d{2}", heading), heading
    kinds = [line[4:] for line in lines if line.startswith("### ")]
    assert kinds, "no ### Added/Changed/... sections"
    assert set(kinds) <= KINDS, set(kinds) - KINDS
    # Every entry is a bullet under a section kind, and every release heading has a link.
    section = None
    for line in lines:
        if line.startswith("## "):
            section = None
        elif line.startswith("### "):
            section = line
        elif line.startswith("- "):
            assert section is not None, f"entry outside a ### section: {line}"
    for heading in releases:
        name = heading[3:].split("]")[0] + "]"
        assert any(line.startswith(name + ": ") for line in lines), f"no link for {name}"
