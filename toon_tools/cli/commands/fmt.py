"""``toon fmt FILES... [--check] [--diff]``: canonical formatting, comments kept."""

from __future__ import annotations

import difflib

import click

from ...codec import ToonDecodeError, format_text
from ...files import atomic_write
from .._files import file_options, find_files
from .._output import ERROR, FINDINGS, OK, diagnostic, os_error_message
from .codec import DELIMITERS

#: what happened to a file
UNCHANGED, CHANGED, INVALID, FAILED = "unchanged", "changed", "invalid", "failed"


def format_file(path: str, indent_size: int, delimiter: str | None, write: bool) -> tuple[str, str]:
    """Format one file; returns (outcome, report). Writes only when ``write``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return FAILED, f"toon: error: {os_error_message(path, e)}"
    try:
        original = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return INVALID, f"{path}: invalid UTF-8 at byte {e.start}"
    try:
        formatted = format_text(original, indent_size=indent_size, delimiter=delimiter)
    except ToonDecodeError as e:
        return INVALID, diagnostic(path, e.line, e.column, e.msg, original)
    if formatted == original:
        return UNCHANGED, ""
    if write:
        try:
            atomic_write(path, formatted)
        except OSError as e:
            return FAILED, f"toon: error: {os_error_message(path, e)}"
        return CHANGED, ""
    diff = "".join(difflib.unified_diff(
        original.splitlines(keepends=True), formatted.splitlines(keepends=True),
        fromfile=f"{path}\t(original)", tofile=f"{path}\t(formatted)"))
    return CHANGED, diff


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if any file would be reformatted.")
@click.option("--diff", is_flag=True, help="Change nothing; print a unified diff of the changes.")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--delimiter", "-d", type=click.Choice(["comma", "tab", "pipe"]), default=None,
              help="Delimiter to use [default: the one the file's first header declares].")
@click.option("--exit-non-zero-on-fix", is_flag=True,
              help="Exit 1 when files were reformatted (for hooks).")
@file_options
def fmt(files: tuple[str, ...], check_only: bool, diff: bool, indent_size: int,
        delimiter: str | None, exit_non_zero_on_fix: bool, force_exclude: bool) -> None:
    """Rewrite TOON files in canonical form, keeping full-line comments.

    Files end with one newline. Invalid files are reported (path:line:col) and
    left alone.
    """
    delim = DELIMITERS[delimiter] if delimiter else None
    write = not (check_only or diff)
    from functools import partial

    from ...parallel import FORMAT, map_in_order

    counts = {UNCHANGED: 0, CHANGED: 0, INVALID: 0, FAILED: 0}
    paths, volume = find_files(files, force_exclude)
    work = partial(format_file, indent_size=indent_size, delimiter=delim, write=write)
    outcomes = map_in_order(work, paths, FORMAT, total_bytes=volume)
    for path, (outcome, report) in zip(paths, outcomes):
        counts[outcome] += 1
        if outcome == FAILED:
            click.echo(report, err=True)
        elif outcome == INVALID:
            click.echo(report)
        elif outcome == CHANGED:
            if diff:
                click.echo(report, nl=False)
            elif check_only:
                click.echo(f"Would reformat: {path}")
            else:
                click.echo(f"Reformatted: {path}", err=True)
    changed = counts[CHANGED]
    verb = "reformatted" if write else "would be reformatted"
    click.echo(f"{changed} file{'s' * (changed != 1)} {verb}, "
               f"{counts[UNCHANGED]} unchanged"
               + (f", {counts[INVALID]} invalid" if counts[INVALID] else ""), err=True)
    if counts[FAILED]:
        raise SystemExit(ERROR)
    if counts[INVALID] or (changed and (not write or exit_non_zero_on_fix)):
        raise SystemExit(FINDINGS)
    raise SystemExit(OK)
