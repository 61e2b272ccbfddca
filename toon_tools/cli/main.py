"""Entry point: a click group that imports a subcommand's module only when that
subcommand runs (click's "lazy group" recipe), so ``toon --help`` and commit
hooks start fast and never load tiktoken, PyMuPDF or markdown-it-py."""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from .. import SPEC_VERSION, __version__
from ..errors import ERROR

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

#: command name -> ("module:attribute" of its click command, its one-line help).
#: The help is repeated here so that ``toon --help`` lists the commands without
#: importing any of them; tests/cli/test_startup.py keeps both in step.
COMMANDS: dict[str, tuple[str, str]] = {
    "encode": ("toon_tools.cli.commands.codec:encode", "Convert JSON to TOON."),
    "decode": ("toon_tools.cli.commands.codec:decode", "Convert TOON to JSON."),
    "check": ("toon_tools.cli.commands.check:check", "Validate TOON files (strict mode, spec v4.0)."),
    "fmt": ("toon_tools.cli.commands.fmt:fmt",
            "Rewrite TOON files in canonical form, keeping full-line comments."),
    "tokens": ("toon_tools.cli.commands.tokens:tokens",
               "Count tokens exactly (tiktoken, offline) in files, folders or stdin."),
    "cache": ("toon_tools.cli.commands.cache:cache",
              "Inspect, empty or prune the caches of token counts and model replies."),
    "convert": ("toon_tools.cli.commands.convert:convert",
                "Convert files to and from TOON."),
    "checkpoint": ("toon_tools.cli.commands.checkpoint:checkpoint",
                   "Snapshot branch, upstream, changes, submodules, commits and open tasks."),
    "twins": ("toon_tools.cli.commands.twins:twins",
              "Regenerate the Markdown twins of .toon files, and remove orphaned twins."),
    "hooks": ("toon_tools.cli.commands.hooks:hooks",
              "Install or run the standalone git pre-commit hook."),
    "config": ("toon_tools.cli.commands.config:config",
               "Print the resolved settings and where each came from."),
    "pipeline": ("toon_tools.cli.commands.pipeline:pipeline",
                 "Run multi-step LLM pipelines whose artifacts are TOON."),
    "schema": ("toon_tools.cli.commands.schema:schema",
               "Infer a JSON Schema from TOON files, or print a schema's TOON skeleton."),
    "lsp": ("toon_tools.cli.commands.lsp:lsp", "Run the TOON language server over stdio (for editors)."),
    "completion": ("toon_tools.cli.commands.completion:completion",
                   "Print the shell completion script for bash, zsh or fish."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, _, attr = COMMANDS[name][0].partition(":")
            command = getattr(importlib.import_module(module), attr)
            if not isinstance(command, click.Command):  # a wiring bug, not user input
                raise TypeError(f"{COMMANDS[name][0]} is not a click command")
            return command
        return super().get_command(ctx, name)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        # click's own version imports every matching command for its help line.
        from ._completion import complete_commands

        return (complete_commands(COMMANDS, ctx, incomplete)
                + click.Command.shell_complete(self, ctx, incomplete))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own version imports every command to ask for its help line.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="toon",
                      message=f"%(prog)s %(version)s (TOON spec {SPEC_VERSION})")
def cli() -> None:
    """Tools for TOON, Token-Oriented Object Notation.

    Exit codes, the same for every command and hook: 0 ok; 1 findings (an invalid
    or unformatted file, a stale or conflicting twin, over budget, a failed
    pipeline step); 2 usage, configuration, I/O or environment error.
    """
    from ..parallel import worker_count

    worker_count()  # a bad TOON_TOOLS_JOBS is an error in every command, pool or not


def main(argv: list[str] | None = None) -> NoReturn:
    """Console script, and the one place where errors become exit codes.

    Commands return an exit code (or raise SystemExit with one). Errors that
    toon-tools raises carry their own code (:mod:`toon_tools.errors`: 1 for
    findings, 2 for usage, configuration, I/O and environment) and print as one
    line; so do click's usage errors and OSError. Anything else is a bug and
    prints ``internal error`` (set TOON_DEBUG=1 for the traceback).
    """
    from ..errors import ToolError
    from ._output import describe, error

    if "_TOON_COMPLETE" in os.environ:  # shell completion: `--format=<TAB>` as the shells mean it
        from ._completion import equals_aware_shells

        equals_aware_shells()
    try:
        code = cli.main(args=argv, prog_name="toon", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except click.exceptions.Exit as e:
        code = e.exit_code
    except (click.Abort, KeyboardInterrupt):
        sys.stderr.write("toon: interrupted\n")
        code = 130
    except BrokenPipeError:
        # The reader went away (`toon decode big.toon | head`): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except (ToolError, OSError) as e:
        error(describe(e))
        code = getattr(e, "exit_code", ERROR)
    except Exception as e:  # noqa: BLE001 - last resort, see docstring
        if os.environ.get("TOON_DEBUG"):
            raise
        error(f"internal error: {type(e).__name__}: {e} (a bug in toon-tools; "
              "set TOON_DEBUG=1 for a traceback)")
        code = ERROR
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
