"""``toon cache info`` and ``toon cache clear``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .._output import escape, warning

if TYPE_CHECKING:
    from ...tokens.cache import TokenCache


def _cache() -> TokenCache:
    """The count cache the config names; a bad config is main()'s one-line exit 2."""
    from ...config import load_config
    from ...tokens.cache import TokenCache

    return TokenCache(load_config().cache_dir() / "tokens")


@click.group()
def cache() -> None:
    """Inspect or empty the token-count cache."""


@cache.command()
def info() -> int:
    """Where the cache is, how many counts it holds, its size and limit."""
    c = _cache()
    i = c.info()
    for problem in c.problems:
        warning(problem)
    click.echo(f"directory: {escape(i['directory'])}\nentries: {i['entries']}\n"
               f"size: {i['bytes'] / 1e6:.1f} MB of {i['size_limit'] / 1e6:.0f} MB allowed")
    return 0


@cache.command()
def clear() -> int:
    """Remove every cached count (vocabularies stay)."""
    c = _cache()
    removed = c.clear()
    for problem in c.problems:
        warning(problem)
    click.echo(f"removed {removed} cached count{'s' * (removed != 1)} from "
               f"{escape(str(c.directory))}")
    return 0
