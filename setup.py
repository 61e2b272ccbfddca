"""Build hook: compile the codec's hot modules with mypyc, as tomli does.

The same typed Python is the fallback: with TOON_TOOLS_PURE_PYTHON=1, or where
mypyc cannot build (no C compiler), the package installs as plain Python.
Everything else about the package lives in pyproject.toml.
"""

import os
import sys

from setuptools import setup

COMPILED = [
    "toon_tools/codec/_scalars.py",
    "toon_tools/codec/_syntax.py",
    "toon_tools/codec/_decoder.py",
    "toon_tools/codec/_encoder.py",
    "toon_tools/codec/_stream.py",
]


def ext_modules():
    if os.environ.get("TOON_TOOLS_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify

        # Type errors elsewhere in the package (where the isolated build lacks
        # optional dependencies' types) must not stop the codec from compiling.
        return mypycify(["--follow-imports=silent", *COMPILED], opt_level="3", debug_level="0")
    except BaseException as e:  # mypyc exits on failure; fall back, loudly
        print(f"toon-tools: mypyc build unavailable ({e!r}); installing the "
              "pure-Python codec, which is about 2x slower", file=sys.stderr)
        return []


setup(ext_modules=ext_modules())
