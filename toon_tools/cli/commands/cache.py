"""``toon cache info`` and ``toon cache clear``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ...config import ConfigError, load_config
from .._output import fail

if TYPE_CHECKING:
    from ...tokens.cache import TokenCache


def _cache() -> TokenCache:
    from ...tokens.cache import TokenCache

    try:
        return TokenCache(load_config().cache_dir() / "tokens")
    except ConfigError as e:
        fail(str(e))


@click.group()
def cache() -> None:
    """Inspect or empty the token-count cache."""


@cache.command()
def info() -> None:
    """Where the cache is, how many counts it holds, its size and limit."""
    c = _cache()
    i = c.info()
    for problem in c.problems:
        click.echo(f"toon: warning: {problem}", err=True)
    click.echo(f"directory: {i['directory']}\nentries: {i['entries']}\n"
               f"size: {i['bytes'] / 1e6:.1f} MB of {i['size_limit'] / 1e6:.0f} MB allowed")


@cache.command()
def clear() -> None:
    """Remove every cached count (vocabularies stay)."""
    c = _cache()
    removed = c.clear()
    click.echo(f"removed {removed} cached count{'s' * (removed != 1)} from {c.directory}")
