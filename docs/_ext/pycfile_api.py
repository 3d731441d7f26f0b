"""The ``pycfile-api`` directive: API reference entries for names in ``pycfile.__all__``.

``{pycfile-api}`` with one name per line documents those names (classes with their
members, functions, modules, constants); with ``:optional:``, a listed name that is not
in ``__all__`` is documented if ``pycfile.<name>`` imports as a submodule and skipped
silently otherwise (for features other branches are still building); with the ``:rest:`` flag it documents every
name of ``pycfile.__all__`` that no earlier ``pycfile-api`` directive of the same page
has documented, so a name added to ``__all__`` appears in the reference without editing it.

A constant or type alias is documented from the ``#:`` comment or docstring at its
definition in whichever ``pycfile`` submodule defines it; a public name with no
documentation at all is a build warning (an error under ``-W``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from typing import Any, Dict, List, Optional, Set

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

_ENV_KEY = "pycfile_api_documented"


def _attribute_docs() -> Dict[str, List[str]]:
    """Module-level ``#:`` comments and docstrings of every pycfile submodule."""
    import pycfile

    docs: Dict[str, List[str]] = {}
    modules = ["pycfile"] + [
        "pycfile." + info.name for info in pkgutil.iter_modules(pycfile.__path__)
    ]
    for name in modules:
        try:
            analyzer = ModuleAnalyzer.for_module(name)
            attr_docs = analyzer.find_attr_docs()
        except Exception:  # a module that needs an optional dependency
            continue
        for (scope, attr), lines in attr_docs.items():
            if scope == "" and any(line.strip() for line in lines):
                docs.setdefault(attr, list(lines))
    return docs


# Documentation for names defined in modules this branch does not edit (pycfile/_code.py
# is being rewritten elsewhere).  Once _code.py carries these as ``#:`` comments, the
# comments win and these lines can go.
_FALLBACK_DOCS: Dict[str, List[str]] = {
    "AnyCode": ["The union of the concrete code classes (:class:`Code10` ... :class:`Code311`)."],
    "CO_FAST_HIDDEN": ["``co_localspluskinds`` bit: a name hidden from ``locals()`` (3.12+ comprehensions)."],
    "CO_FAST_LOCAL": ["``co_localspluskinds`` bit: a local variable (counted by ``co_nlocals``)."],
    "CO_FAST_CELL": ["``co_localspluskinds`` bit: a cell variable (a local captured by an inner function)."],
    "CO_FAST_FREE": ["``co_localspluskinds`` bit: a free variable (captured from an outer function)."],
}


def _entry(name: str, obj: Any, attr_docs: Dict[str, List[str]]) -> Optional[List[str]]:
    """reStructuredText documenting ``pycfile.<name>``, or None if it has no docs."""
    qualified = "pycfile." + name
    if isinstance(obj, types.ModuleType):
        return [f".. automodule:: {qualified}", "   :members:", ""]
    if inspect.isclass(obj):
        lines = [f".. autoclass:: {qualified}", "   :members:", "   :show-inheritance:"]
        if issubclass(obj, BaseException):
            lines.append("   :exclude-members: with_traceback, add_note")
        elif obj.__mro__[1:2] and obj.__mro__[1] is not object:
            # e.g. Code311: show what it gets from its (private) bases, such as co_varnames
            lines.append("   :inherited-members: object")
        return lines + [""]
    if inspect.isfunction(obj):
        return [f".. autofunction:: {qualified}", ""]
    doc = attr_docs.get(name) or _FALLBACK_DOCS.get(name)
    if not doc:
        return None
    if isinstance(obj, (int, str, bytes, float)):
        head = [f".. py:data:: {name}", "   :module: pycfile", f"   :type: {type(obj).__name__}", f"   :value: {obj!r}"]
    else:
        head = [f".. py:data:: {name}", "   :module: pycfile", f"   :value: {_alias_text(obj)}"]
    return head + [""] + ["   " + line for line in doc] + [""]


def _alias_text(obj: Any) -> str:
    """A short rendering of a type alias such as ``Union[Int, Str, ...]``."""
    args = getattr(obj, "__args__", None)
    if not args:
        return repr(obj)
    names: List[str] = []
    for arg in args:
        forward = getattr(arg, "__forward_arg__", None)
        names.append(str(forward or getattr(arg, "__name__", repr(arg))))
    return "Union[" + ", ".join(names) + "]"


class PycfileApi(SphinxDirective):
    has_content = True
    option_spec = {"rest": directives.flag, "optional": directives.flag}

    def run(self) -> List[nodes.Node]:
        import pycfile

        per_doc: Dict[str, Set[str]] = getattr(self.env, _ENV_KEY, {})
        setattr(self.env, _ENV_KEY, per_doc)
        documented = per_doc.setdefault(self.env.docname, set())
        if "rest" in self.options:
            names = [n for n in pycfile.__all__ if n not in documented]
        else:
            names = [line.strip() for line in self.content if line.strip()]
        attr_docs = _attribute_docs()
        rst: List[str] = []
        for name in names:
            if name not in pycfile.__all__:
                if "optional" not in self.options:
                    logger.warning("pycfile-api: %r is not in pycfile.__all__", name, location=self.get_location())
                    continue
                # A feature that may not be in this checkout, or a submodule that needs an
                # optional dependency and so is not re-exported: document it if it imports.
                try:
                    importlib.import_module("pycfile." + name)
                except ImportError:
                    continue
                documented.add(name)
                rst.extend([f".. automodule:: pycfile.{name}", "   :members:", ""])
                continue
            entry = _entry(name, getattr(pycfile, name), attr_docs)
            if entry is None:
                logger.warning(
                    "pycfile-api: pycfile.%s has no documentation (add a #: comment or docstring "
                    "where it is defined)",
                    name,
                    location=self.get_location(),
                )
                continue
            documented.add(name)
            rst.extend(entry)
        if not rst:
            return []
        # The page is MyST Markdown, whose parser handles the nested content: hand the
        # reStructuredText to an eval-rst block.
        fence = "`" * 10
        lines = [fence + "{eval-rst}", ".. py:currentmodule:: pycfile", ""] + rst + [fence]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="pycfile-api"), self.content_offset, node)
        return list(node.children)


def _public_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: List[Any]) -> None:
    """Leave private helper classes (``_LocalsPlus``) out of "Bases:" lines."""
    bases[:] = [b for b in bases if not getattr(b, "__name__", "").startswith("_")]


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, _ENV_KEY, {}).pop(docname, None)


def setup(app: Sphinx) -> Dict[str, Any]:
    app.add_directive("pycfile-api", PycfileApi)
    app.connect("env-purge-doc", _purge)
    app.connect("autodoc-process-bases", _public_bases)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
