# -*- coding: utf-8 -*-
"""Worker operations for the editing tests (Python 2.7-compatible, like worker.py).

- ``import_sourceless`` (``pyc`` hex, ``name``, ``attributes``, optional ``call``):
  writes the pyc as ``NAME.pyc`` alone in a fresh directory, imports it from there
  (a sourceless import: there is no ``NAME.py``), and returns ``{"values": {attribute:
  describe(value)}, "file": module.__file__, "raised": {...}}``; ``raised`` (when
  ``call`` names a function of the module) is the exception type, message and the file
  name of the innermost traceback frame.  The module is removed from ``sys.modules``
  and the directory from ``sys.path`` afterwards.
"""

import os
import shutil
import sys
import tempfile
import traceback

import worker


def op_import_sourceless(request):
    name = worker.native(request["name"])
    directory = tempfile.mkdtemp(prefix="pycfile-import-")
    sys.path.insert(0, directory)
    try:
        with open(os.path.join(directory, name + ".pyc"), "wb") as f:
            f.write(worker.from_hex(request["pyc"]))
        if os.path.exists(os.path.join(directory, name + ".py")):
            raise AssertionError("not a sourceless import")
        if sys.version_info >= (3, 3):
            import importlib

            importlib.invalidate_caches()
        sys.modules.pop(name, None)
        module = __import__(name)
        result = {"values": {}, "file": getattr(module, "__file__", None), "raised": None}
        for attribute in request.get("attributes", []):
            result["values"][attribute] = worker.describe(getattr(module, worker.native(attribute)))
        call = request.get("call")
        if call:
            try:
                getattr(module, worker.native(call))()
            except Exception as exc:
                frames = traceback.extract_tb(sys.exc_info()[2])
                result["raised"] = {
                    "type": type(exc).__name__,
                    "message": worker.message_of(exc),
                    "filename": frames[-1][0],
                    "text": "".join(traceback.format_exception(type(exc), exc, sys.exc_info()[2])),
                }
        return result
    finally:
        sys.modules.pop(name, None)
        if directory in sys.path:
            sys.path.remove(directory)
        shutil.rmtree(directory, ignore_errors=True)


OPS = {"import_sourceless": op_import_sourceless}
