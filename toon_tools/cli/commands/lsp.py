"""``toon lsp``: the TOON language server over stdio (:mod:`toon_tools.lsp.server`)."""

from __future__ import annotations

import click

from ...errors import ToolError


@click.command()
@click.option("--log-file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the server's debug log to this file (stdout carries the protocol).")
@click.option("--stdio", is_flag=True, hidden=True,
              help="Accepted and ignored: stdio is the only transport (editors pass it).")
def lsp(log_file: str | None, stdio: bool) -> int:
    """Run the TOON language server over stdio (for editors).

    Diagnostics (strict decoding, schemas, Markdown twins on save), formatting,
    hover, outline, folding and code actions; see the README for editor set-ups.
    """
    try:
        import pygls  # noqa: F401 - only to say what is missing
        import lsprotocol  # noqa: F401
    except ImportError:
        raise ToolError("the language server needs pygls: pip install 'toon-tools[lsp]'") from None
    from ...lsp.server import start

    # 0 after the client's shutdown request, 1 when it exits or goes without one
    return start(log_file)
