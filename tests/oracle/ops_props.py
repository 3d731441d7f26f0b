# -*- coding: utf-8 -*-
"""Worker operations for the property tests (tests/test_properties.py).

- ``props_load`` (``data`` hex, ``marshal_version``): ``marshal.loads(data)`` described,
  and the hex of ``marshal.dumps`` of a second, fresh ``marshal.loads(data)`` at
  ``marshal_version``, with a second reference to it held in a list while it is written
  (CPython 3.x sets FLAG_REF by reference count, so the root is flagged).  ``{"error": ...}``
  with the exception's type and message when loading fails.
- ``props_dumps_all`` (``value`` tree, ``versions``): the hex of ``marshal.dumps`` of
  the value at each marshal version given, or ``"!" + error type + ": " + message`` where
  it fails (a slice below version 5, a frozendict below 6: "unmarshallable object").
  Trees may hold frozendicts (3.15+, built as ``ops_canonical.build`` builds them).

Python 2.7-compatible, like worker.py.
"""

import marshal

import ops_canonical
import worker


def message(exc):
    """The exception's message; PyPy 3.9 raises UnicodeEncodeErrors that cannot be
    printed (their str() raises IndexError)."""
    try:
        return worker.message_of(exc)
    except Exception:
        return "<unprintable %s>" % type(exc).__name__


def op_props_load(request):
    data = worker.from_hex(request["data"])
    try:
        tree = worker.describe(marshal.loads(data))
    except Exception as exc:
        return {"error": type(exc).__name__, "message": message(exc)}
    try:
        value = marshal.loads(data)
        # A second, strong reference to the root while it is written, on every version
        # (a local alone is not one in 3.14+, which may pass it borrowed).
        held = [value]
        redump = worker.to_hex(marshal.dumps(held[0], request["marshal_version"]))
    except Exception as exc:
        redump = "!" + type(exc).__name__ + ": " + message(exc)
    return {"tree": tree, "redump": redump}


def op_props_dumps_all(request):
    value = ops_canonical.build(request["value"])
    out = []
    for version in request["versions"]:
        try:
            out.append(worker.to_hex(marshal.dumps(value, version)))
        except Exception as exc:
            out.append("!" + type(exc).__name__ + ": " + message(exc))
    return out


OPS = {"props_load": op_props_load, "props_dumps_all": op_props_dumps_all}
