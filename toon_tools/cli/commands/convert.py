"""``toon convert SRC... [-o OUT | --out-dir DIR]``: the options, one batch of
:mod:`toon_tools.convert.batch` (which files, where outputs go, when an output
may be replaced, the pool), and what it prints. Formats come from the converter
registry (:mod:`toon_tools.convert.registry`); nothing here names one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._completion import any_path
from .._files import file_options
from .._output import ERROR, OK, describe, error, escape, warning

if TYPE_CHECKING:
    from ...convert.batch import Outcome


class RegistryChoice(click.Choice[str]):
    """The formats of the converter registry, read only when the choices are
    first needed (parsing ``--from``/``--to``, or ``convert --help``)."""

    def __init__(self, side: str) -> None:
        self.side = side
        super().__init__([], case_sensitive=True)

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        from ...convert import registry

        return registry.source_formats() if self.side == "source" else registry.target_formats()

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        pass  # set by click.Choice.__init__; the registry is the only source


class ConvertCommand(click.Command):
    """``--help`` ends with the registry's converters and the suffixes they read."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ...convert.registry import converters, default_target

        rows = []
        for (src, dst), cls in sorted(converters().items()):
            reads = ", ".join(cls.suffixes) or f"a {cls.input}"
            mark = " (the default)" if default_target(src) == dst and \
                sum(s == src for s, _ in converters()) > 1 else ""
            rows.append((f"{src} -> {dst}", f"{cls.description}{mark}; reads {reads}, "
                                            f"writes {cls.output_suffix}"))
        with formatter.section("Converters"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


@click.command(cls=ConvertCommand)
@click.argument("sources", nargs=-1, metavar="SRC...", shell_complete=any_path)
@click.option("--from", "source_format", type=RegistryChoice("source"), default=None,
              help="Source format [default: from the file suffix].")
@click.option("--to", "target_format", type=RegistryChoice("target"), default=None,
              help="Target format [default: from the -o suffix, else the source's default "
                   "conversion, below].")
@click.option("--output", "-o", default=None, metavar="OUT", help="Output file ('-' for stdout).")
@click.option("--out-dir", default=None, metavar="DIR",
              help="Folder for the outputs of many sources [default: beside each source].")
@click.option("--force", is_flag=True,
              help="Replace output files that toon-tools did not write.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes, 1 to work in this process [default: TOON_TOOLS_JOBS, "
                   "else the CPU count].")
@click.option("--stats", is_flag=True, help="Print tokens of source and result, and the saving.")
@click.option("--list", "list_only", is_flag=True, help="List the registered converters.")
@file_options
def convert(sources: tuple[str, ...], source_format: str | None, target_format: str | None,
            output: str | None, out_dir: str | None, force: bool, jobs: int | None,
            stats: bool, list_only: bool, force_exclude: bool) -> int:
    """Convert files to and from TOON.

    The formats, their suffixes and the --from/--to choices are those of the
    converters listed below.
    Folders and globs are expanded ([tool.toon] exclude applies; generated
    Markdown twins are not sources, nor is a file that another source writes,
    so a re-run changes nothing). One source goes to stdout unless -o is
    given; several go beside their sources, or into --out-dir. Outputs are
    replaced atomically, and only when they are twins of their source, already
    hold the result, or --force is given.
    """
    from ...config import load_config
    from ...convert import batch
    from ...convert.registry import converters

    if list_only:
        for (src, dst), cls in sorted(converters().items()):
            click.echo(f"{src:>10} -> {dst:<5} {cls.description}")
        return OK
    cfg = load_config()  # a bad [tool.toon] stops here: exit 2, before any file
    if not sources:
        if sys.stdin.isatty():
            error("no input: give files, folders or globs, or '-' for stdin with --from")
            return ERROR
        sources = ("-",)
    found = batch.find_sources(sources, source_format, cfg.excluded, force_exclude)
    if not found.paths:
        warning("no files to convert")
        return OK
    plan = batch.plan(found.paths, source_format, target_format, output, out_dir, force,
                      beside=found.expanded, walked=found.walked)
    stdin = sys.stdin.buffer.read() if batch.reads_stdin(plan) else None
    results = batch.run(plan, jobs=jobs, stdin=stdin, out_dir=out_dir)
    outcomes = _progress(results, len(plan), sys.stderr.isatty() and len(plan) > 1)
    status = OK
    for o in outcomes:
        if o.error is not None:
            error(describe(o.error, o.job.name))
        elif o.text is not None:
            sys.stdout.write(o.text)
        elif len(plan) > 1 or o.job.output != "-":
            click.echo(escape(f"{'wrote' if o.written else 'unchanged'} "
                              f"{o.job.source} -> {o.job.output}"), err=True)
        status = max(status, o.status)
    if stats:
        _print_stats([o for o in outcomes if o.error is None], cfg)
    return status


def _progress(results: Iterable[Outcome], total: int, show: bool) -> list[Outcome]:
    if not show:
        return list(results)
    out: list[Outcome] = []
    with click.progressbar(results, length=total, label="converting", file=sys.stderr) as bar:
        for r in bar:
            out.append(r)
    return out


def _print_stats(outcomes: list[Outcome], cfg: Any) -> None:
    """Tokens before and after, for sources that are text (not a PDF's bytes or
    a repository path)."""
    from ...tokens import TokenCounter

    counter = TokenCounter(cfg["tokens.encoding"], cache_dir=cfg.cache_dir())
    for o in outcomes:
        src_tokens = None
        if o.source_bytes and o.job.source != "-":
            try:
                src_tokens = counter.count(Path(o.job.source).read_bytes().decode("utf-8"))
            except (OSError, UnicodeDecodeError):
                pass
        result = o.text if o.text is not None else Path(o.job.output).read_text(encoding="utf-8")
        dst_tokens = counter.count(result)
        if src_tokens:
            saving = 100.0 * (src_tokens - dst_tokens) / src_tokens
            click.echo(escape(f"{o.job.source}: {src_tokens:,} -> {dst_tokens:,} tokens "
                              f"({saving:+.1f}% saved)"), err=True)
        else:
            click.echo(escape(f"{o.job.source}: result {dst_tokens:,} tokens"), err=True)
