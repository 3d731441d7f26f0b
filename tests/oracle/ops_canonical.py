# -*- coding: utf-8 -*-
"""Worker operations for the canonical writer (tests/test_oracle_values.py).

- ``canonical_redump`` (``values``: value trees): for each, the hex of
  ``marshal.dumps(marshal.loads(marshal.dumps(value)))`` -- the interpreter's own
  canonical bytes for a fresh value -- or ``"!" + error type + ": " + message``.
  Trees may also hold ``{"t": "frozendict", "items": [[k, v], ...]}`` (3.15+).
- ``canonical_special`` (``name``, ``size``): the same for values a tree cannot
  describe: ``self_list`` (a list that contains itself), ``deep_list`` (``size`` lists,
  each the only item of the one outside it, the innermost empty), ``shared_list`` (a
  list holding one list twice).

The expression is written out in full in each case, so the objects hold exactly the
references the expression gives them (CPython flags by reference count).  Python
2.7-compatible, like worker.py.
"""

import marshal

import worker


def build(tree):
    """``worker.build``, and frozendicts (3.15+) at any depth."""
    t = tree["t"]
    if t == "frozendict":
        return frozendict((build(k), build(v)) for k, v in tree["items"])  # noqa: F821
    if t in ("tuple", "list", "set", "frozenset"):
        kind = {"tuple": tuple, "list": list, "set": set, "frozenset": frozenset}[t]
        return kind(build(x) for x in tree["items"])
    if t == "dict":
        return dict((build(k), build(v)) for k, v in tree["items"])
    if t == "slice":
        return slice(build(tree["start"]), build(tree["stop"]), build(tree["step"]))
    return worker.build(tree)


def failure(exc):
    return "!" + type(exc).__name__ + ": " + worker.message_of(exc)


def op_canonical_redump(request):
    out = []
    for tree in request["values"]:
        try:
            value = build(tree)
            data = marshal.dumps(value)
            del value
            out.append(worker.to_hex(marshal.dumps(marshal.loads(data))))
        except Exception as exc:
            out.append(failure(exc))
    return out


def special(name, size):
    if name == "self_list":
        value = []
        value.append(value)
        return value
    if name == "shared_list":
        inner = [1]
        value = [inner, inner]
        del inner
        return value
    if name == "deep_list":
        value = []
        for _ in range(size - 1):
            value = [value]
        return value
    raise ValueError("no special value %r" % (name,))


def op_canonical_special(request):
    try:
        data = marshal.dumps(special(request["name"], request.get("size", 0)))
        return worker.to_hex(marshal.dumps(marshal.loads(data)))
    except Exception as exc:
        return failure(exc)


OPS = {"canonical_redump": op_canonical_redump, "canonical_special": op_canonical_special}
