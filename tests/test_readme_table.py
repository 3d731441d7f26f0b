"""README.md agrees with the code: its table of supported versions with the magic table,
and its test command with the one CI runs.

Every magic number pycfile knows must fall in exactly one row of the README's table (a
2.x ``-U`` variant, magic + 1, in the row of its base magic), and that row must name the
format's header size, marshal version and code class; a magic whose code layout nobody
reconstructed must be in no row but in the README's list of those ("Code layouts nobody
reconstructed: ...").  Every number the table and that list name must be a known magic.
The docs' own table (docs/formats/index.md) is computed from ``known_formats()`` in a
doctest, so only the README's hand-written one needs this.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Set, Tuple

import attrs

import pycfile

README = Path(__file__).resolve().parent.parent / "README.md"


@attrs.define
class Row:
    text: str
    # (implementation, first, last) magic-number ranges; a single number is first == last
    magics: List[Tuple[str, int, int]]
    headers: Set[int]
    marshals: Set[int]
    code_class: str


def _numbers(cell: str) -> List[Tuple[str, int, int]]:
    ranges = []
    implementation = "cpython"
    for piece in re.split(r"[;,]", re.sub(r"\(.*?\)", "", cell)):
        piece = piece.strip()
        if piece.startswith("PyPy"):
            implementation = "pypy"
            piece = piece[len("PyPy") :].strip()
        found = re.findall(r"0x[0-9a-f]+|\d+", piece)
        if not found:
            continue
        values = [int(x, 0) for x in found]
        ranges.append((implementation, values[0], values[-1]))
    return ranges


UNKNOWN_LAYOUTS = "Code layouts nobody reconstructed:"


def _section() -> str:
    return README.read_text(encoding="utf-8").split("## Supported versions", 1)[1].split("\n## ", 1)[0]


def _unknown_layouts() -> List[Tuple[str, int, int]]:
    """The magics the README lists as having no known code layout."""
    line = next((line for line in _section().splitlines() if line.startswith(UNKNOWN_LAYOUTS)), None)
    assert line is not None, f"no line starting {UNKNOWN_LAYOUTS!r} under 'Supported versions'"
    return _numbers(line[len(UNKNOWN_LAYOUTS) :].split(" pycfile reads", 1)[0])


def _rows() -> List[Row]:
    text = _section()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    table = lines[start + 2 : end]  # the first table after the heading, without its head
    rows = []
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        _versions, magics, header, marshal, layout = cells
        headers = {int(x) for x in re.findall(r"\b(8|12|16)\b", re.sub(r"\(.*?\)", "", header))}
        marshals = {int(x) for x in re.findall(r"(?<![\d.])(\d)(?![\d.])", re.sub(r"\(.*?\)", "", marshal))}
        code_class = re.search(r"`(Code\w+)`", layout)
        assert code_class, line
        rows.append(Row(line, _numbers(magics), headers, marshals, code_class.group(1)))
    return rows


def _rows_for(fmt: pycfile.PycFormat, rows: List[Row]) -> List[Row]:
    number = fmt.magic_number
    if fmt.label.endswith(" -U"):
        number -= 1
    implementation = fmt.version.implementation
    return [
        row
        for row in rows
        if any(impl == implementation and first <= number <= last for impl, first, last in row.magics)
    ]


def test_readme_table_has_rows() -> None:
    assert len(_rows()) >= 9


def _problem(fmt: pycfile.PycFormat, rows: List[Row]) -> Optional[str]:
    """What the README gets wrong about ``fmt``, or None."""
    matching = _rows_for(fmt, rows)
    name = f"{fmt.version} magic {fmt.magic_number} ({fmt.label})"
    if fmt.code_layout is None:
        listed = any(
            impl == fmt.version.implementation and first <= fmt.magic_number <= last for impl, first, last in _unknown_layouts()
        )
        if matching or not listed:
            return f"{name}: should be named only in the list of unknown layouts"
        return None
    if len(matching) != 1:
        return f"{name}: in {len(matching)} rows"
    row = matching[0]
    code_class = pycfile.code_class(fmt.code_layout).__name__
    if fmt.header_size not in row.headers:
        return f"{name}: header {fmt.header_size}, row says {sorted(row.headers)}"
    if fmt.marshal_version not in row.marshals:
        return f"{name}: marshal {fmt.marshal_version}, row says {sorted(row.marshals)}"
    if code_class != row.code_class:
        return f"{name}: {code_class}, row says {row.code_class}"
    return None


def test_every_known_magic_is_in_one_readme_row() -> None:
    rows = _rows()
    formats = pycfile.known_formats()
    assert len(formats) > 600
    problems = [p for p in (_problem(fmt, rows) for fmt in formats) if p is not None]
    assert not problems, "\n".join(problems)


def test_every_readme_magic_is_known() -> None:
    known = {(f.version.implementation, f.magic_number) for f in pycfile.known_formats()}
    for row in _rows():
        for implementation, first, last in row.magics:
            assert (implementation, first) in known, (row.text, first)
            assert (implementation, last) in known, (row.text, last)
    unknown = {(f.version.implementation, f.magic_number) for f in pycfile.known_formats() if f.code_layout is None}
    for implementation, first, last in _unknown_layouts():
        assert (implementation, first) in unknown and (implementation, last) in unknown, (implementation, first, last)


def test_readme_test_command_is_the_one_ci_runs() -> None:
    text = README.read_text(encoding="utf-8").split("## Run the tests", 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", text, re.S)
    assert block, "no ```sh block under 'Run the tests'"
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"^TEST_COMMAND='(.*)'$", ci, re.M)
    assert command, "no TEST_COMMAND in .ci/run"
    assert block.group(1) == command.group(1) == 'python -m pip install -q -e ".[test]" && python -m pytest'
