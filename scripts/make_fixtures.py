#!/usr/bin/env python3
"""Regenerate ``tests/fixtures/<impl>-<major>.<minor>/`` with real interpreters.

For every interpreter found (pyenv's ``/root/.pyenv/versions/*/bin/python``,
``python3.14`` and ``python3.15`` on PATH, ``/usr/bin/pypy3``, and any given with
``--python``), each sample module of
``tests/samples/`` that its syntax allows is compiled *by that interpreter* with its own
``py_compile``:

* every module at optimize level 0 (a timestamp pyc);
* the small ``optimize`` module also at optimize levels 1 and 2 (its docstrings,
  asserts and ``__debug__`` blocks go away; 2.x gets these levels by running the
  interpreter with ``-O`` / ``-OO``) and, in 3.7+, as a checked and as an unchecked
  hash-based pyc (PEP 552).

The sources are copied to a temporary directory with a fixed mtime, and the pycs name
``tests/samples/<dir>/<module>.py`` as their file name, so the output does not depend on
the checkout.  Next to the pycs, ``MANIFEST.json`` records what the *interpreter itself*
said about each pyc after writing it: its magic, the header fields it parsed, and for
every code object (depth first, in ``co_consts`` order) the names, counts, flags, the
length and SHA-256 of the bytecode and line tables, and an encoding of every constant
(plus the interpreter's own ``repr`` of number and bytes constants), as its own
``marshal.loads`` returned them.  Nothing here imports pycfile: the tests compare pycfile's reading against these facts.

Usage: ``python scripts/make_fixtures.py [--python PATH ...] [--only cpython-3.12 ...]``
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
FIXTURES = ROOT / "tests" / "fixtures"

#: The mtime every copied source gets (so headers are reproducible).
FIXED_MTIME = 1700000000

DEFAULT_INTERPRETERS = (
    sorted(glob.glob("/root/.pyenv/versions/*/bin/python"))
    + [found for found in (shutil.which(f"python3.{minor}") for minor in (14, 15)) if found]
    + ["/usr/bin/pypy3"]
)

#: The (small) sample module compiled in every mode; the others only at -O0.
MODES_MODULE = "optimize"

#: Sample directories and the versions whose syntax they fit.
SAMPLE_DIRS: List[Tuple[str, Tuple[int, int], Tuple[int, int]]] = [
    # (directory, first version, last version)
    ("py2", (2, 7), (2, 7)),
    ("py3", (3, 6), (99, 0)),
    ("py38", (3, 8), (99, 0)),
    ("py310", (3, 10), (99, 0)),
    ("py311", (3, 11), (99, 0)),
    ("py314", (3, 14), (99, 0)),
]

# Runs inside the target interpreter: must stay valid Python 2.7 and 3.6.
HELPER = r'''
import binascii, hashlib, json, marshal, os, py_compile, struct, sys

PY3 = sys.version_info[0] >= 3
if PY3:
    import importlib.util
    MAGIC = importlib.util.MAGIC_NUMBER
    TEXT, BYTES, INTS = str, bytes, (int,)
else:
    import imp
    MAGIC = imp.get_magic()
    TEXT, BYTES, INTS = unicode, str, (int, long)
CODE = type(compile("", "", "exec"))


def hexs(b):
    return binascii.hexlify(b).decode("ascii")


def digest(b):
    return "%d:%s" % (len(b), hashlib.sha256(b).hexdigest()[:16])


def fbits(x):
    return hexs(struct.pack("<d", x))


def name(s):
    # Identifier-like strings: 2.x str (bytes) or 3.x str.
    if isinstance(s, BYTES) and not PY3:
        return s.decode("latin-1")
    return s


def scalar_repr(x):
    # The interpreter's own repr of a number or bytes constant (strings are stored
    # as they are, containers and code are described structurally).
    if isinstance(x, (tuple, frozenset, slice, CODE, TEXT)) or x is None or x is Ellipsis:
        return None
    if not PY3 and isinstance(x, str):
        return None
    return repr(x)


def enc(x, codes):
    if x is None:
        return ["None"]
    if x is Ellipsis:
        return ["Ellipsis"]
    t = type(x)
    if t is bool:
        return ["bool", x]
    if t in INTS:
        return ["int", str(x)]
    if t is float:
        return ["float", fbits(x)]
    if t is complex:
        return ["complex", fbits(x.real), fbits(x.imag)]
    if t is BYTES:
        return ["bytes", hexs(x)]
    if t is TEXT:
        return ["str", x]
    if t is tuple:
        return ["tuple", [enc(i, codes) for i in x]]
    if t is frozenset:
        return ["frozenset", sorted(json.dumps(enc(i, codes), sort_keys=True) for i in x)]
    if t is slice:
        return ["slice", enc(x.start, codes), enc(x.stop, codes), enc(x.step, codes)]
    if t is CODE:
        return ["code", code_facts(x, codes)]
    return ["other", t.__name__, repr(x)]


def code_facts(co, codes):
    index = len(codes)
    facts = {}
    codes.append(facts)
    for attr in ("co_name", "co_qualname", "co_filename"):
        if hasattr(co, attr):
            facts[attr] = name(getattr(co, attr))
    for attr in ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals",
                 "co_stacksize", "co_flags", "co_firstlineno"):
        if hasattr(co, attr):
            facts[attr] = getattr(co, attr)
    for attr in ("co_names", "co_varnames", "co_freevars", "co_cellvars"):
        facts[attr] = [name(n) for n in getattr(co, attr)]
    facts["co_code"] = digest(co.co_code)
    if sys.version_info >= (3, 10):
        facts["co_linetable"] = digest(co.co_linetable)
    else:
        facts["co_lnotab"] = digest(co.co_lnotab)
    if hasattr(co, "co_exceptiontable"):
        facts["co_exceptiontable"] = digest(co.co_exceptiontable)
    facts["consts"] = [enc(c, codes) for c in co.co_consts]
    facts["const_reprs"] = [scalar_repr(c) for c in co.co_consts]
    return index


def parse_header(data):
    if sys.version_info < (3, 3):
        mtime, = struct.unpack("<I", data[4:8])
        return 8, {"mtime": mtime}
    if sys.version_info < (3, 7):
        mtime, size = struct.unpack("<II", data[4:12])
        return 12, {"mtime": mtime, "source_size": size}
    flags, = struct.unpack("<I", data[4:8])
    if flags & 1:
        return 16, {"flags": flags, "source_hash": hexs(data[8:16])}
    mtime, size = struct.unpack("<II", data[8:16])
    return 16, {"flags": flags, "mtime": mtime, "source_size": size}


def main():
    jobs = json.loads(sys.stdin.read())
    results = []
    for job in jobs:
        if job["optimize"] != sys.flags.optimize and not PY3:
            raise SystemExit("2.x optimize level comes from -O flags")
        if PY3:
            kwargs = {"doraise": True, "optimize": job["optimize"]}
            if job["mode"] is not None:
                kwargs["invalidation_mode"] = getattr(py_compile.PycInvalidationMode, job["mode"])
            py_compile.compile(job["source"], job["cfile"], job["dfile"], **kwargs)
        else:
            py_compile.compile(job["source"], job["cfile"], job["dfile"], True)
        with open(job["cfile"], "rb") as f:
            data = f.read()
        with open(job["source"], "rb") as f:
            source = f.read()
        if data[:4] != MAGIC:
            raise SystemExit("pyc magic differs from the interpreter's")
        size, header = parse_header(data)
        if header.get("flags", 0) & 1:
            header["expected_source_hash"] = hexs(importlib.util.source_hash(source))
        codes = []
        code_facts(marshal.loads(data[size:]), codes)
        results.append({
            "file": os.path.basename(job["cfile"]),
            "module": job["module"],
            "sample": job["dfile"],
            "optimize": job["optimize"],
            "invalidation_mode": job["mode"],
            "size": len(data),
            "header_size": size,
            "header": header,
            "source_size": len(source),
            "code_objects": codes,
        })
    info = {
        "implementation": sys.implementation.name if PY3 else "cpython",
        "version": list(sys.version_info[:3]),
        "sys_version": sys.version,
        "magic": hexs(MAGIC),
        "magic_number": struct.unpack("<H", MAGIC[:2])[0],
        "files": results,
    }
    sys.stdout.write(json.dumps(info))


main()
'''


def render(manifest: Dict[str, Any]) -> str:
    """The manifest as JSON with one line per code object (short, diff-friendly)."""
    top = {k: v for k, v in manifest.items() if k != "files"}
    lines = ["{"]
    for key in sorted(top):
        lines.append(f" {json.dumps(key)}: {json.dumps(top[key], sort_keys=True)},")
    lines.append(' "files": [')
    for i, entry in enumerate(manifest["files"]):
        lines.append("  {")
        for key in sorted(k for k in entry if k != "code_objects"):
            lines.append(f"   {json.dumps(key)}: {json.dumps(entry[key], sort_keys=True)},")
        lines.append('   "code_objects": [')
        codes = entry["code_objects"]
        for j, code in enumerate(codes):
            lines.append("    " + json.dumps(code, sort_keys=True) + ("," if j + 1 < len(codes) else ""))
        lines.append("   ]")
        lines.append("  }" + ("," if i + 1 < len(manifest["files"]) else ""))
    lines.append(" ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == manifest
    return text


def probe(python: str) -> Optional[Tuple[str, int, int]]:
    """(implementation, major, minor) of an interpreter, or None if it does not run."""
    code = (
        "import sys, platform; "
        "print('%s %d %d' % (platform.python_implementation().lower(), sys.version_info[0], sys.version_info[1]))"
    )
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    impl, major, minor = out.split()
    return impl, int(major), int(minor)


def jobs_for(version: Tuple[int, int], workdir: Path, outdir: Path) -> List[Dict[str, Any]]:
    """The compile jobs for one interpreter: (module, optimize, invalidation mode)."""
    jobs = []
    for dirname, first, last in SAMPLE_DIRS:
        if not first <= version <= last:
            continue
        for src in sorted((SAMPLES / dirname).glob("*.py")):
            module = src.stem
            copy = workdir / dirname / src.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, copy)
            os.utime(copy, (FIXED_MTIME, FIXED_MTIME))
            modes: List[Tuple[int, Optional[str]]] = [(0, "TIMESTAMP" if version >= (3, 7) else None)]
            if module == MODES_MODULE:
                modes += [(1, modes[0][1]), (2, modes[0][1])]
                if version >= (3, 7):
                    modes += [(0, "CHECKED_HASH"), (0, "UNCHECKED_HASH")]
            for optimize, mode in modes:
                suffix = f"opt{optimize}"
                if mode and mode != "TIMESTAMP":
                    suffix += "." + mode.lower().replace("_", "-")
                jobs.append(
                    {
                        "module": f"{dirname}/{module}",
                        "source": str(copy),
                        "cfile": str(outdir / f"{module}.{suffix}.pyc"),
                        "dfile": f"tests/samples/{dirname}/{src.name}",
                        "optimize": optimize,
                        "mode": mode,
                    }
                )
    return jobs


def run_helper(python: str, flags: List[str], jobs: List[Dict[str, Any]], helper: Path) -> Dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LC_ALL": "C.UTF-8",
    }
    proc = subprocess.run(
        [python, "-s", *flags, str(helper)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} {flags} failed:\n{proc.stderr}")
    result: Dict[str, Any] = json.loads(proc.stdout)
    return result


def make(python: str, only: Optional[List[str]]) -> Optional[Path]:
    found = probe(python)
    if found is None:
        print(f"skip {python}: does not run", file=sys.stderr)
        return None
    impl, major, minor = found
    name = f"{impl}-{major}.{minor}"
    if only and name not in only:
        return None
    outdir = FIXTURES / name
    with tempfile.TemporaryDirectory(prefix="pycfile-fixtures-") as tmp:
        tmpdir = Path(tmp)
        stage = tmpdir / "out"
        stage.mkdir()
        helper = tmpdir / "helper.py"
        helper.write_text(HELPER)
        jobs = jobs_for((major, minor), tmpdir / "src", stage)
        if not jobs:
            print(f"skip {python}: no sample modules for {name}", file=sys.stderr)
            return None
        if major == 2:
            # 2.x py_compile takes the optimize level from the interpreter's -O flags.
            runs = [(["-O"] * level, [j for j in jobs if j["optimize"] == level]) for level in (0, 1, 2)]
        else:
            runs = [([], jobs)]
        manifest: Optional[Dict[str, Any]] = None
        for flags, group in runs:
            if not group:
                continue
            result = run_helper(python, flags, group, helper)
            if manifest is None:
                manifest = result
            else:
                manifest["files"].extend(result["files"])
        assert manifest is not None
        manifest["files"].sort(key=lambda f: f["file"])
        manifest = {
            "generated_by": "scripts/make_fixtures.py (facts from the interpreter's own marshal.loads)",
            "interpreter": python,
            "fixed_mtime": FIXED_MTIME,
            **manifest,
        }
        (stage / "MANIFEST.json").write_text(render(manifest))
        if outdir.exists():
            shutil.rmtree(outdir)
        shutil.copytree(stage, outdir)
    total = sum(p.stat().st_size for p in outdir.glob("*.pyc"))
    print(f"{name}: {len(list(outdir.glob('*.pyc')))} pycs, {total} bytes ({python})")
    return outdir


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="an interpreter to use (repeatable)")
    parser.add_argument("--only", action="append", help="only this fixture dir, e.g. cpython-3.12")
    args = parser.parse_args(argv)
    interpreters = args.python or DEFAULT_INTERPRETERS
    done = set()
    for python in interpreters:
        if not os.path.exists(python):
            print(f"skip {python}: not found", file=sys.stderr)
            continue
        out = make(python, args.only)
        if out is not None:
            if out.name in done:
                print(f"warning: {out.name} made twice; the last interpreter wins", file=sys.stderr)
            done.add(out.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
