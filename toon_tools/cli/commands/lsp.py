"""``toon lsp``: the TOON language server over stdio (STUB until issue 14's server lands)."""

from __future__ import annotations

import click


@click.command()
def lsp() -> int:
    """Run the TOON language server over stdio (for editors)."""
    raise click.UsageError("not yet")
