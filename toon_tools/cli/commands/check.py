"""``toon check FILES...``: validate TOON files strictly, reporting every bad one."""

from __future__ import annotations

import click

from .._files import file_options, find_files
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, warning


def check_file(path: str, indent_size: int = 2) -> tuple[int, str]:
    """(status, report) for one file; status is OK, FINDINGS or ERROR."""
    from ...codec import ToonDecodeError, decode

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return ERROR, describe(e, path)
    try:
        decode(data, indent_size=indent_size)
    except ToonDecodeError as e:
        source = data.decode("utf-8", errors="replace")
        return FINDINGS, diagnostic(path, e.line, e.column, e.msg, source)
    return OK, ""


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Spaces per indentation level the files must use.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the problems.")
@file_options
def check(files: tuple[str, ...], indent_size: int, quiet: bool, force_exclude: bool) -> int:
    """Validate TOON files (strict mode, spec v4.0).

    Folders are searched for *.toon files. Every file is checked even when an
    earlier one is bad; problems print as path:line:col: message.
    """
    from functools import partial

    from ...parallel import CHECK, map_in_order

    paths, volume = find_files(files, force_exclude)
    worst = OK
    bad = 0
    work = partial(check_file, indent_size=indent_size)
    for status, report in map_in_order(work, paths, CHECK, total_bytes=volume):
        if status == ERROR:
            error(report)
        elif status == FINDINGS:
            click.echo(report)
            bad += 1
        worst = max(worst, status)
    checked = len(paths)
    if not paths:
        warning("no .toon files to check")
    elif not quiet:
        if bad:
            click.echo(f"Found problems in {bad} of {checked} file{'s' * (checked != 1)}.", err=True)
        elif worst == OK:
            click.echo(f"All good: {checked} file{'s' * (checked != 1)} checked.", err=True)
    return worst
