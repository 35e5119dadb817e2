"""Builds orderly._native with cffi, then generates orderly/_tables.py from it.

The enums of the machines are rendered by calling the compiled extension
(the C library's own tables), so they can never be copied by hand.
"""
import importlib.machinery
import importlib.util
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class BuildWithTables(build_ext):
    """build_ext, then orderly/_tables.py rendered by the built extension."""

    def run(self):
        super().run()
        native_path = self.get_ext_fullpath("orderly._native")
        native = _load("orderly._native", native_path)
        gen = _load("_orderly_gen_build", os.path.join(HERE, "orderly", "_gen.py"))
        text = gen.render(native.ffi, native.lib)
        targets = [os.path.join(os.path.dirname(native_path), "_tables.py")]
        if self.inplace:
            targets.append(os.path.join(HERE, "orderly", "_tables.py"))
        for target in set(targets):
            with open(target, "w") as f:
                f.write(text)


setup(cffi_modules=["orderly_build.py:ffibuilder"], cmdclass={"build_ext": BuildWithTables})
