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
    script = completer(cli, {}, "toon", "_TOON_COMPLETE").source()
    for old, new in _FIXES.get(shell, ()):
        script = script.replace(old, new)
    click.echo(script, nl=False)
    return 0


#: Where click's scripts lose a completion (click 8.5), as (text, replacement);
#: a script that no longer has the text is printed as click makes it.
_FIXES: dict[str, tuple[tuple[str, str], ...]] = {
    # fish split "type,value<TAB>help" at every comma: 'a,b/x.toon' completed
    # as 'a', and a help line was cut at its first comma. The type has none.
    "fish": (('string split "," $completion', 'string split -m 1 "," $completion'),),
}
