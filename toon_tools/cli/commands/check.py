"""``toon check FILES...``: validate TOON files strictly, reporting every bad one."""

from __future__ import annotations

import os

import click

from ...codec import ToonDecodeError, decode
from ...files import expand_paths
from .._output import ERROR, FINDINGS, OK, diagnostic, os_error_message


def check_file(path: str, indent_size: int = 2) -> tuple[int, str]:
    """(status, report) for one file; status is OK, FINDINGS or ERROR."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return ERROR, f"toon: error: {os_error_message(path, e)}"
    try:
        decode(data, indent_size=indent_size)
    except ToonDecodeError as e:
        source = data.decode("utf-8", errors="replace")
        return FINDINGS, diagnostic(path, e.line, e.column, e.msg, source)
    return OK, ""


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--quiet", "-q", is_flag=True, help="Print only the problems.")
def check(files: tuple[str, ...], indent_size: int, quiet: bool) -> None:
    """Validate TOON files (strict mode, spec v4.0).

    Directories are searched for *.toon files. Every file is checked even when
    an earlier one is bad; problems print as path:line:col: message.
    """
    from functools import partial

    from ...parallel import map_in_order, worth_a_pool

    paths = list(expand_paths(files))
    worst = OK
    bad = checked = 0
    # Validating is ~30 ms per MB: a pool pays only for several MB.
    volume = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
    work = partial(check_file, indent_size=indent_size)
    for status, report in map_in_order(work, paths, pool=worth_a_pool(0, volume)):
        checked += 1
        if status == ERROR:
            click.echo(report, err=True)
        elif status == FINDINGS:
            click.echo(report)
            bad += 1
        worst = max(worst, status)
    if not quiet:
        if bad:
            click.echo(f"Found problems in {bad} of {checked} file{'s' * (checked != 1)}.", err=True)
        elif worst == OK:
            click.echo(f"All good: {checked} file{'s' * (checked != 1)} checked.", err=True)
    raise SystemExit(worst)
