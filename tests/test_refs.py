"""Reproducible output, checked in the real interpreters: ``strip_refs`` output loads to
the same value and is stable; ``normalize`` gives identical bytes for equal models
however they were flagged or shared."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Tuple

import pytest

import pycfile
from pycfile._refs import unique_values

from interpreters import REQUIRED
from oracle import Oracle, OracleFor, Tree
import shared_samples

pytestmark = pytest.mark.interpreters

_COMPILED: Dict[str, Tuple[bytes, Tree]] = {}


def _real_module(oracle: Oracle) -> Tuple[bytes, Tree]:
    """The interpreter's pyc of its own ``argparse.py`` and the tree of its code."""
    key = oracle.interpreter.key
    if key not in _COMPILED:
        source = (Path(oracle.info()["stdlib"]) / "argparse.py").read_bytes()
        data = oracle.compile_source(source, "argparse.py")
        size = pycfile.loads(data).format.header_size
        _COMPILED[key] = (data, oracle.loads(data[size:]))
    return _COMPILED[key]


def _tree(oracle: Oracle, pyc: pycfile.PycFile) -> Tree:
    return oracle.loads(pycfile.dumps(pyc)[pyc.format.header_size :])


def _flagged(pyc: pycfile.PycFile) -> int:
    return sum(1 for v in unique_values(pyc.code) if v.flag_ref)


@pytest.mark.parametrize("key", REQUIRED)
def test_strip_refs_loads_equal_and_is_stable(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    original, tree = _real_module(oracle)
    pyc = pycfile.loads(original)
    stripped = pycfile.strip_refs(pyc)
    data = pycfile.dumps(stripped)
    assert pycfile.dumps(pyc) == original, "the input model was changed"
    assert _tree(oracle, stripped) == tree
    assert data == pycfile.dumps(pycfile.strip_refs(pycfile.loads(original)))  # every run
    assert pycfile.dumps(pycfile.strip_refs(pycfile.loads(data))) == data  # nothing left to strip
    if pyc.version < (3, 4):
        assert data == original  # no FLAG_REF before marshal version 3
    else:
        # CPython and PyPy leave many flags nothing references (FACTS.md 3.5); a flag
        # is a bit of the type byte, so the size stays.
        assert _flagged(stripped) < _flagged(pyc) and data != original and len(data) == len(original)


def _scramble(pyc: pycfile.PycFile, seed: int) -> pycfile.PycFile:
    """An equal model flagged and shared differently: random FLAG_REFs (3.4+), and some
    shared strings split into copies."""
    rng = random.Random(seed)
    copy = pycfile.loads(pycfile.dumps(pyc))
    refs = copy.version >= (3, 4)
    for value in unique_values(copy.code):
        if refs and not isinstance(value, pycfile.Singleton):
            value.flag_ref = rng.random() < 0.5
        if isinstance(value, pycfile.Code):
            for name in ("co_names", "co_varnames"):
                names = getattr(value, name, None)
                if isinstance(names, pycfile.TupleValue):
                    names.items = [
                        type(n)(n.value, n.code, n.flag_ref) if isinstance(n, (pycfile.Str, pycfile.Bytes)) and rng.random() < 0.5 else n
                        for n in names.items
                    ]
    return copy


@pytest.mark.parametrize("key", REQUIRED)
def test_normalize_gives_identical_bytes_for_equal_models(key: str, oracle_for: OracleFor) -> None:
    oracle = oracle_for(key)
    original, tree = _real_module(oracle)
    pyc = pycfile.loads(original)
    one, two = _scramble(pyc, 1), _scramble(pyc, 2)
    assert one == pyc or one.version >= (3, 4)  # equal models (attrs compares flags too)
    assert len({original, pycfile.dumps(one), pycfile.dumps(two)}) == 3, "the scrambles changed no byte"
    canonical = pycfile.dumps(pycfile.normalize(pyc))
    assert pycfile.dumps(pycfile.normalize(one)) == canonical
    assert pycfile.dumps(pycfile.normalize(two)) == canonical
    assert pycfile.dumps(pycfile.normalize(pycfile.loads(canonical))) == canonical
    assert _tree(oracle, pycfile.loads(canonical)) == tree
    assert pycfile.dumps(pyc) == original, "the input model was changed"


def test_strip_refs_is_the_same_in_two_processes(oracle_for: OracleFor, tmp_path: Path) -> None:
    """Two host processes (different hash seeds) strip to the same bytes."""
    original, _ = _real_module(oracle_for("cpython-3.12"))
    src = tmp_path / "in.pyc"
    src.write_bytes(original)
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}.pyc"
        script = "import pycfile, sys; pycfile.dump(pycfile.strip_refs(pycfile.load(sys.argv[1])), sys.argv[2])"
        subprocess.run([sys.executable, "-c", script, str(src), str(out)], check=True, env={"PYTHONHASHSEED": seed})
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == pycfile.dumps(pycfile.strip_refs(pycfile.loads(original)))


@pytest.mark.parametrize("folder", shared_samples.params(shared_samples.folders(), lambda p: p.name))
def test_edits_keep_the_meaning_of_sample_pycs(folder: Path) -> None:
    """The shared sample pycs (1.0-3.5 and PyPy 3.10, which no interpreter here runs, and more): stripping,
    normalising and renaming change no value (by the semantic diff), the output reads
    back, and normalising is idempotent."""
    files = sorted(folder.glob("*.pyc"))
    assert files
    for path in files:
        pyc = pycfile.load(path)
        for edited in (pycfile.strip_refs(pyc), pycfile.normalize(pyc)):
            data = pycfile.dumps(edited)
            assert pycfile.diff(pyc, pycfile.loads(data)) == [], path
        canonical = pycfile.dumps(pycfile.normalize(pyc))
        assert pycfile.dumps(pycfile.normalize(pycfile.loads(canonical))) == canonical, path
        if isinstance(pyc.code, pycfile.Code) and hasattr(pyc.code, "co_filename"):
            renamed = pycfile.loads(pycfile.dumps(pycfile.replace_filename(pyc, "/renamed.py")))
            kinds = {(d.kind, d.path.rsplit(".", 1)[-1]) for d in pycfile.diff(pyc, renamed)}
            assert kinds <= {("field", "co_filename")}, path
