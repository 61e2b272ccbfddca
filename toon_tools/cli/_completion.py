"""Shell completion helpers (issue 14 part 3): what ``toon <TAB>`` and ``toon
check <TAB>`` offer, without importing more commands than completion needs.

Both are meant to be wired by the command table and the commands' FILES
arguments (``shell_complete=``); click's protocol (``_TOON_COMPLETE``) and its
bash, zsh and fish scripts do the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem


def complete_commands(commands: dict[str, tuple[str, str]], ctx: click.Context,
                      incomplete: str) -> list[CompletionItem]:
    """The command names that start with ``incomplete``, with their one-line
    help from the static table (click's own Group.shell_complete imports every
    matching command to ask for its help; ``toon <TAB>`` would import them all)."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(name, help=help_line)
            for name, (_, help_line) in sorted(commands.items()) if name.startswith(incomplete)]


def toon_paths(suffixes: tuple[str, ...] = (".toon",)
               ) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    """A ``shell_complete=`` for FILES arguments: folders and files with
    ``suffixes`` (hidden ones only when asked for with a leading dot). When the
    only match is a folder its entries are offered instead, so the shell
    completes ``da<TAB>`` to ``data/`` and goes on rather than adding a space."""

    def complete(ctx: click.Context, param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        prefix = incomplete
        for _ in range(16):  # a chain of single folders, not forever (a link loop)
            found = _entries(prefix, suffixes)
            if len(found) == 1 and found[0].endswith("/") and found[0] != prefix:
                prefix = found[0]
                continue
            return [CompletionItem(_for_shell(p)) for p in found]
        return [CompletionItem(_for_shell(prefix))]

    return complete


def any_path(ctx: click.Context, param: click.Parameter,
             incomplete: str) -> list[CompletionItem]:
    """A ``shell_complete=`` for arguments that take any file (``toon tokens``):
    the shell's own file completion (click's type "file"); a plain argument
    otherwise completes to nothing at all."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


def _for_shell(path: str) -> str:
    """``path`` as the shell needs it. bash puts click's plain values on the
    command line as they are (its script sets no ``-o filenames``), so a space or
    a quote must come escaped; and click's script reads each value with ``read``
    (no ``-r``), which takes one level of backslashes away: so they are doubled.
    zsh's ``compadd`` and fish quote for themselves; but zsh quotes a leading
    ``~`` too, which then no longer means the home folder: there the home
    folder is spelled out."""
    shell = os.environ.get("_TOON_COMPLETE")
    if shell == "zsh_complete" and path.startswith("~"):
        return os.path.expanduser(path)
    if shell != "bash_complete":
        return path
    import re

    return re.sub(r"([^\w@%+=:,./~-])", r"\\\\\1", path)


def _entries(prefix: str, suffixes: tuple[str, ...]) -> list[str]:
    folder, _, start = prefix.rpartition("/")
    base = folder + "/" if folder or prefix.startswith("/") else ""
    where = os.path.expanduser(folder) if folder else ("/" if prefix.startswith("/") else ".")
    try:
        names = sorted(os.listdir(where))
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(start) or (name.startswith(".") and not start.startswith(".")):
            continue
        if os.path.isdir(os.path.join(where, name)):
            found.append(f"{base}{name}/")
        elif name.endswith(suffixes):
            found.append(base + name)
    return found
