"""Entry point: a click group that imports a subcommand's module only when that
subcommand runs (click's "lazy group" recipe), so ``toon --help`` and commit
hooks start fast and never load tiktoken, PyMuPDF or markdown-it-py."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .. import SPEC_VERSION, __version__

#: command name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "encode": "toon_tools.cli.commands.codec:encode",
    "decode": "toon_tools.cli.commands.codec:decode",
    "check": "toon_tools.cli.commands.check:check",
    "fmt": "toon_tools.cli.commands.fmt:fmt",
    "tokens": "toon_tools.cli.commands.tokens:tokens",
    "cache": "toon_tools.cli.commands.cache:cache",
    "convert": "toon_tools.cli.commands.convert:convert",
    "checkpoint": "toon_tools.cli.commands.checkpoint:checkpoint",
    "twins": "toon_tools.cli.commands.twins:twins",
    "hooks": "toon_tools.cli.commands.hooks:hooks",
    "config": "toon_tools.cli.commands.config:config",
    "pipeline": "toon_tools.cli.commands.pipeline:pipeline",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, _, attr = COMMANDS[name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="toon",
                      message=f"%(prog)s %(version)s (TOON spec {SPEC_VERSION})")
def cli() -> None:
    """Tools for TOON, Token-Oriented Object Notation.

    Exit codes: 0 ok, 1 findings (invalid or unformatted files, over budget),
    2 usage or I/O error.
    """


def main(argv: list[str] | None = None) -> Any:
    """Console script. Unexpected errors print one line, not a traceback
    (set TOON_DEBUG=1 to see it)."""
    try:
        return cli.main(args=argv, prog_name="toon", standalone_mode=True)
    except KeyboardInterrupt:
        sys.stderr.write("toon: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (`toon decode big.toon | head`): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as e:  # noqa: BLE001 - last resort, see docstring
        if os.environ.get("TOON_DEBUG"):
            raise
        sys.stderr.write(f"toon: internal error: {type(e).__name__}: {e} "
                         "(set TOON_DEBUG=1 for a traceback)\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
