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


def equals_aware_shells() -> None:
    """Replace click's bash, zsh and fish completion classes with ones that
    complete an option's value typed after ``=`` (``toon check --format=g``),
    which click 8.5 gets wrong in each (pallets/click#2847): bash splits the word
    at ``=`` (COMP_WORDBREAKS), so click took ``g`` for a FILES argument; zsh and
    fish pass ``--format=g`` whole and click answered the bare ``github``, which
    zsh put in place of the whole word (``toon check github``) and fish dropped.
    Registered by main.py when ``_TOON_COMPLETE`` is set (completion only)."""
    from click.shell_completion import (
        BashComplete, FishComplete, ZshComplete, add_completion_class)

    class Bash(BashComplete):
        def get_completion_args(self) -> tuple[list[str], str]:
            args, incomplete = super().get_completion_args()
            if incomplete == "=" and args and args[-1].startswith("--"):
                return args, ""  # `--format=<TAB>`: words '--format', '='
            if len(args) >= 2 and args[-1] == "=" and args[-2].startswith("--"):
                return args[:-1], incomplete  # `--format=g<TAB>`: '--format', '=', 'g'
            # (bash replaces only what follows the '=': the bare value is right)
            return args, incomplete

    class Zsh(ZshComplete):
        def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
            return _with_option(super().get_completions(args, incomplete), incomplete)

    class Fish(FishComplete):
        def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
            return _with_option(super().get_completions(args, incomplete), incomplete)

    for cls in (Bash, Zsh, Fish):
        add_completion_class(cls, cls.name)


def _with_option(items: list[CompletionItem], incomplete: str) -> list[CompletionItem]:
    """``items`` completing ``--name=value``: each plain value as ``--name=value``,
    the word the shell replaces (file and folder items are the shell's own)."""
    name, eq, _ = incomplete.partition("=")
    if eq and name.startswith("--"):
        for item in items:
            if item.type == "plain":
                item.value = f"{name}={item.value}"
    return items
