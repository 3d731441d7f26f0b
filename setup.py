"""Build configuration beyond pyproject.toml: the optional C accelerator.

``pycfile._speedups`` is built on CPython when a C compiler is there; a failed build is
not an error (``optional=True``) and pycfile then runs in pure Python, its reference.
"""

import platform

from setuptools import Extension, setup

ext_modules = []
if platform.python_implementation() == "CPython":
    ext_modules.append(Extension("pycfile._speedups", ["pycfile/_speedups.c"], optional=True))

setup(ext_modules=ext_modules)
