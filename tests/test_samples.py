"""Real pycs of versions no interpreter here can make (../shared/samples/<version>/ beside the repository).

They are read from that folder at test time, never copied into the repository.  When
the folder is missing the tests skip -- or fail, under ``PYCFILE_STRICT=1`` (CI); see
tests/shared_samples.py.  ``PYCFILE_SAMPLES_DIR`` points the tests at another copy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

import pycfile
from pycfile import Bytes, Code, Str
import shared_samples
from shared_samples import SHARED_SAMPLES

SAMPLES = SHARED_SAMPLES
FILES: List[Path] = shared_samples.files()
FOLDER = re.compile(r"^(pypy)?(\d+)\.(\d+)(?:-(\d+)\.(\d+))?$")


def _folder_versions(name: str) -> Tuple[str, List[Tuple[int, int]]]:
    """The implementation and the (major, minor) versions a folder name stands for:
    ``3.12``, ``1.1-1.2``, ``pypy3.10``."""
    m = FOLDER.match(name)
    assert m, f"unexpected sample folder name {name!r}"
    impl = "pypy" if m.group(1) else "cpython"
    first = (int(m.group(2)), int(m.group(3)))
    if m.group(4) is None:
        return impl, [first]
    last = (int(m.group(4)), int(m.group(5)))
    assert first[0] == last[0]
    return impl, [(first[0], minor) for minor in range(first[1], last[1] + 1)]


def _text(v: Any) -> str:
    if isinstance(v, Str):
        return v.value
    assert isinstance(v, Bytes), f"expected a string, got {type(v).__name__}"
    return v.value.decode("latin-1")


def _expected_code_class(version: Any) -> type:
    """The code layout class each release line uses (real releases only)."""
    table = [
        ((1, 3), pycfile.Code10),
        ((1, 5), pycfile.Code13),
        ((2, 1), pycfile.Code15),
        ((2, 3), pycfile.Code21),
        ((3, 0), pycfile.Code23),
        ((3, 8), pycfile.Code30),
        ((3, 10), pycfile.Code38),
        ((3, 11), pycfile.Code310),
    ]
    if version.implementation == "pypy":
        return pycfile.Code38 if version >= (3, 0) else pycfile.Code23
    for below, cls in table:
        if version < below:
            return cls
    return pycfile.Code311


@pytest.mark.shared_samples
def test_samples_cover_every_folder() -> None:
    folders = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
    assert folders == sorted({p.parent.name for p in FILES})
    for name in folders:
        _folder_versions(name)  # every folder name parses


def _ids(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


@pytest.mark.parametrize("path", shared_samples.params(FILES, _ids))
def test_sample_round_trips(path: Path) -> None:
    data = path.read_bytes()
    pyc = pycfile.load(path)
    assert pycfile.dumps(pyc) == data
    assert pycfile.dumps(pycfile.loads(data)) == data
    assert pyc.trailer == b""


@pytest.mark.parametrize("path", shared_samples.params(FILES, _ids))
def test_sample_version_matches_folder(path: Path) -> None:
    pyc = pycfile.load(path)
    impl, versions = _folder_versions(path.parent.name)
    assert pyc.version.implementation == impl
    assert (pyc.version.major, pyc.version.minor) in versions
    assert pyc.header.magic == path.read_bytes()[:4]
    # Decompyle++ names its files <name>.<version>.pyc.
    m = re.search(r"\.(\d+)\.(\d+)\.pyc$", path.name)
    if m and impl == "cpython":
        assert (int(m.group(1)), int(m.group(2))) in versions


@pytest.mark.parametrize("path", shared_samples.params(FILES, _ids))
def test_sample_header_fields(path: Path) -> None:
    pyc = pycfile.load(path)
    h = pyc.header
    v = pyc.version
    assert h.size == (8 if v < (3, 3) else 12 if v < (3, 7) else 16)
    if v >= (3, 7):
        assert h.flags is not None and h.flags in (0, 1, 3)
    else:
        assert h.flags is None
    if h.hash_based:
        assert h.source_hash is not None and len(h.source_hash) == 8
        assert h.mtime is None
    else:
        assert h.mtime is not None
    if v >= (3, 3) and not h.hash_based:
        assert h.source_size is not None
    if v < (3, 3):
        assert h.source_size is None


@pytest.mark.parametrize("path", shared_samples.params(FILES, _ids))
def test_sample_module_code(path: Path) -> None:
    pyc = pycfile.load(path)
    v = pyc.version
    code = pyc.code
    assert isinstance(code, Code)
    cls = _expected_code_class(v)
    assert type(code) is cls
    string_type = Str if v >= (3, 0) else Bytes
    module: Any = code
    assert isinstance(module.co_filename, string_type)
    assert isinstance(module.co_name, string_type)
    assert _text(module.co_filename).endswith(".py")
    # Before 2.5 the module's code object is named '?'.
    assert _text(module.co_name) == ("<module>" if v >= (2, 5) else "?")
    names: Optional[List[str]] = None
    count = 0
    for co in code.walk():
        count += 1
        c: Any = co
        assert type(co) is cls
        assert isinstance(c.co_name, string_type) and _text(c.co_name)
        assert c.co_filename == module.co_filename
        assert isinstance(c.co_code, Bytes)
        # CPython 1.0 marshals co_consts and co_names as lists.
        sequence = (pycfile.TupleValue, pycfile.ListValue) if v < (1, 1) else pycfile.TupleValue
        assert isinstance(c.co_consts, sequence)
        assert isinstance(c.co_names, sequence)
        names = [_text(n) for n in c.co_names.items]
        assert all(isinstance(n, str) for n in names)
        if v >= (1, 3):
            assert c.co_argcount >= 0
        if v >= (1, 5):
            assert c.co_stacksize >= 0
            assert c.co_firstlineno >= 0
    assert count >= 1
