"""How commands that take FILES... find them, the same way in every command:
folders are searched, ``[tool.toon] exclude`` drops what it names, and with
``--force-exclude`` (what the hooks pass) it drops files named explicitly too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def file_options(command: F) -> F:
    """The ``--force-exclude`` option, for commands that take FILES..."""
    return click.option(
        "--force-exclude", is_flag=True,
        help="Apply [tool.toon] exclude to files named on the command line too "
             "(the hooks pass this, as pre-commit names every file).")(command)


def find_files(items: tuple[str, ...] | list[str], force_exclude: bool,
               suffixes: tuple[str, ...] = (".toon",)) -> tuple[list[str], int]:
    """(files, their total size in bytes) for FILES...; a configuration error
    stops the command (exit 2) before any file is touched."""
    from ..config import load_config
    from ..files import expand_paths

    cfg = load_config()
    paths = list(expand_paths(items, suffixes, excluded=cfg.excluded,
                              force_exclude=force_exclude))
    volume = 0
    for p in paths:
        try:
            volume += os.path.getsize(p)
        except OSError:
            pass  # reported when the file is read
    return paths, volume
