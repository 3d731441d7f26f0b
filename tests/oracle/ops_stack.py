# -*- coding: utf-8 -*-
"""Worker operation about stack effects (Python-2.7-compatible, like worker.py).

- ``stack_effects`` (``args``: the arguments to try): what this interpreter's
  ``dis.stack_effect`` says for every opcode of its ``opcode.opmap`` below 256:
  ``{"jump_param": bool, "effects": {opname: {"plain": [...], "jump": [...],
  "nojump": [...]}}}``, each list holding the effect for each argument of ``args`` in
  order (``null`` where the interpreter refuses that argument, or dies on it).  An opcode without an
  argument gets one-element lists (called with no argument).  ``jump``/``nojump`` exist
  where ``dis.stack_effect`` has the ``jump`` parameter (3.8+).  2.7, which has no
  ``dis.stack_effect``, gives ``{"jump_param": false, "effects": null}``.
"""

import platform

# Arguments an interpreter dies on (an RPython assertion, not an exception): PyPy 3.9's
# CALL_FUNCTION_EX takes only 0 and 1.
_ONLY = {("PyPy", "CALL_FUNCTION_EX"): [0, 1]}


def _effect(function, op, arg, **kwargs):
    if arg == "skip":
        return None
    try:
        if arg is None:
            return function(op, **kwargs)
        return function(op, arg, **kwargs)
    except (ValueError, TypeError):
        return None


def op_stack_effects(request):
    import dis
    import opcode

    function = getattr(dis, "stack_effect", None)
    if function is None:
        return {"jump_param": False, "effects": None}
    try:
        function(opcode.opmap["NOP"], jump=True)
        jump_param = True
    except TypeError:
        jump_param = False
    have_arg = getattr(opcode, "hasarg", None)
    effects = {}
    for name, op in sorted(opcode.opmap.items()):
        if op >= 256:
            continue
        takes = op in have_arg if have_arg is not None else op >= opcode.HAVE_ARGUMENT
        args = request["args"] if takes else [None]
        only = _ONLY.get((platform.python_implementation(), name))
        if only is not None:
            args = [a if a in only else "skip" for a in args]
        entry = {"plain": [_effect(function, op, a) for a in args]}
        if jump_param:
            entry["jump"] = [_effect(function, op, a, jump=True) for a in args]
            entry["nojump"] = [_effect(function, op, a, jump=False) for a in args]
        effects[name] = entry
    return {"jump_param": jump_param, "effects": effects}


OPS = {"stack_effects": op_stack_effects}
