"""Smoke test of an installed pycfile (run by scripts/smoke_wheel.sh in a fresh venv).

Checks that the installed package, not a source tree, is imported; that it reads the
host's own compiled standard library and writes every pyc back byte for byte; that
``py.typed`` is shipped; that the C accelerator is built and used; and that the installed metadata matches the package.
"""

from __future__ import annotations

import glob
import importlib.metadata
import importlib.util
import os
import pathlib
import py_compile
import sys
import sysconfig
import tempfile

import pycfile


def main() -> None:
    package_dir = pathlib.Path(pycfile.__file__).resolve().parent
    site = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
    assert site in package_dir.parents, f"pycfile imported from {package_dir}, not from {site}"
    assert (package_dir / "py.typed").is_file(), "py.typed is not installed"
    # On CPython with a compiler the C accelerator is built and in use (PYCFILE_PURE opts out).
    from pycfile import _accel

    if sys.implementation.name == "cpython" and not os.environ.get("PYCFILE_PURE"):
        assert _accel.ENABLED, "pycfile._speedups is not installed or not loadable"

    # The host's own compiled stdlib: every pyc in the stdlib's top-level __pycache__.
    stdlib = pathlib.Path(sysconfig.get_paths()["stdlib"])
    tag = sys.implementation.cache_tag
    paths = sorted(glob.glob(str(stdlib / "__pycache__" / f"*.{tag}.pyc")))
    if not paths:  # a Python installed without its pycs: make one the way import would
        target = os.path.join(tempfile.mkdtemp(), "os.pyc")
        compiled = py_compile.compile(os.__file__, cfile=target, doraise=True)
        assert compiled is not None
        paths = [compiled]
    for path in paths:
        data = pathlib.Path(path).read_bytes()
        pyc = pycfile.loads(data)
        assert pyc.version == sys.version_info[:2], (path, pyc.version)
        assert pycfile.dumps(pyc) == data, f"{path} was not written back identical"
    os_pyc = importlib.util.cache_from_source(os.__file__)
    if os.path.exists(os_pyc):
        module = pycfile.load(os_pyc).code
        assert isinstance(module, pycfile.Code), type(module)
        names = [pycfile.to_python(getattr(code, "co_name")) for code in module.walk()]
        assert names[0] == "<module>" and "_exists" in names, names[:5]

    meta = importlib.metadata.metadata("pycfile")
    assert meta["Version"] == pycfile.__version__, (meta["Version"], pycfile.__version__)
    assert meta["Requires-Python"] == ">=3.10", meta["Requires-Python"]
    assert meta["License-Expression"] == "MIT", meta["License-Expression"]
    classifiers = set(meta.get_all("Classifier") or [])
    for minor in range(10, 16):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers, minor
    assert "Typing :: Typed" in classifiers
    urls = meta.get_all("Project-URL") or []
    assert any(url.startswith("Source, ") for url in urls), urls
    print(f"smoke test passed: pycfile {pycfile.__version__} from {package_dir}, "
          f"{len(paths)} stdlib pycs of {sys.implementation.name} {sys.version_info[0]}.{sys.version_info[1]} "
          "read and written back identical")


if __name__ == "__main__":
    main()
