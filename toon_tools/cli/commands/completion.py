"""``toon completion bash|zsh|fish`` (STUB until issue 14's completion lands)."""

from __future__ import annotations

import click


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the shell completion script for bash, zsh or fish."""
    raise click.UsageError("not yet")
