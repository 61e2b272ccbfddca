"""``--watch`` for ``toon check`` and ``toon twins`` (issue 14): run once, then
again on every save (watchfiles). STUB: the watch-mode engineer replaces this."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def watch_option(command: Callable[..., int]) -> Callable[..., int]:
    """Add ``--watch`` to a command that takes FILES... and returns an exit code."""

    @functools.wraps(command)
    def run(*args: Any, watch: bool, **kwargs: Any) -> int:
        return command(*args, **kwargs)

    return click.option("--watch", is_flag=True,
                         help="Keep running: check again on every save.")(run)
