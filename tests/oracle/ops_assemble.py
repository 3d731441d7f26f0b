# -*- coding: utf-8 -*-
"""Worker operation for the assembling tests (Python-2.7-compatible, like worker.py).

- ``run_calls`` (``pyc`` hex, ``name``, ``calls``: expressions): writes the pyc as
  ``NAME.pyc`` alone in a fresh directory, imports it from there (sourceless), and
  evaluates each expression in the module's namespace.  Returns one entry per
  expression: ``{"value": describe(result)}``, or ``{"raised": TYPE, "message": TEXT,
  "frames": [[function name, line], ...]}`` (the traceback's frames below the
  expression, innermost last).  The module is removed from ``sys.modules`` and the
  directory from ``sys.path`` afterwards.
"""

import os
import shutil
import sys
import tempfile
import traceback

import worker


def _frames(tb):
    out = []
    for filename, line, function, _text in traceback.extract_tb(tb)[1:]:
        out.append([function, line])
    return out


def op_run_calls(request):
    name = worker.native(request["name"])
    directory = tempfile.mkdtemp(prefix="pycfile-assemble-")
    sys.path.insert(0, directory)
    try:
        with open(os.path.join(directory, name + ".pyc"), "wb") as f:
            f.write(worker.from_hex(request["pyc"]))
        if sys.version_info >= (3, 3):
            import importlib

            importlib.invalidate_caches()
        sys.modules.pop(name, None)
        module = __import__(name)
        results = []
        for expression in request["calls"]:
            try:
                value = eval(worker.native(expression), module.__dict__)
            except Exception as exc:
                results.append({
                    "raised": type(exc).__name__,
                    "message": worker.message_of(exc),
                    "frames": _frames(sys.exc_info()[2]),
                })
            else:
                results.append({"value": worker.describe(value)})
        return results
    finally:
        sys.modules.pop(name, None)
        if directory in sys.path:
            sys.path.remove(directory)
        shutil.rmtree(directory, ignore_errors=True)


OPS = {"run_calls": op_run_calls}
