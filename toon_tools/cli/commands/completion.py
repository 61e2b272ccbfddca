"""``toon completion bash|zsh|fish``: print click's completion script for the
``toon`` program. The script calls ``toon`` back with ``_TOON_COMPLETE`` set;
the lazy command group resolves only the command being completed."""

from __future__ import annotations

import click


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the shell completion script for bash, zsh or fish.

    \b
    bash: eval "$(toon completion bash)" in ~/.bashrc, or save it as
          ~/.local/share/bash-completion/completions/toon
    zsh:  eval "$(toon completion zsh)" in ~/.zshrc after compinit, or save it
          as _toon in a folder on $fpath
    fish: toon completion fish > ~/.config/fish/completions/toon.fish
    """
    from click.shell_completion import get_completion_class

    from ..main import cli

    completer = get_completion_class(shell)
    assert completer is not None  # click knows all three
    click.echo(completer(cli, {}, "toon", "_TOON_COMPLETE").source(), nl=False)
    return 0
