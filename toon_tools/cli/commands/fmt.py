"""``toon fmt FILES... [--check] [--diff]``: canonical formatting that keeps the
data, each array's delimiter and every comment (``toon_tools.codec.format_text``)."""

from __future__ import annotations

import click

from .._files import file_options, find_files
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, escape

#: what happened to a file
UNCHANGED, CHANGED, INVALID, FAILED = "unchanged", "changed", "invalid", "failed"
#: --delimiter choices
DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|"}


def format_file(path: str, indent_size: int, delimiter: str | None, mode: str) -> tuple[str, str]:
    """Format one file; returns (outcome, report). ``mode`` is "write", "check"
    (compare only) or "diff" (the report is a unified diff)."""
    from ...codec import ToonDecodeError, format_text
    from ...files import atomic_write

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return FAILED, describe(e, path)
    try:
        formatted = format_text(data, indent_size=indent_size, delimiter=delimiter)
    except ToonDecodeError as e:
        source = data.decode("utf-8", errors="replace")
        return INVALID, diagnostic(path, e.line, e.column, e.msg, source)
    new = formatted.encode("utf-8")
    if new == data:
        return UNCHANGED, ""
    if mode == "write":
        try:
            atomic_write(path, formatted)
        except OSError as e:
            return FAILED, describe(e, path)
        return CHANGED, ""
    if mode == "diff":
        from ...textdiff import unified_diff

        original = data.decode("utf-8")  # format_text has checked it
        name = escape(path)
        return CHANGED, unified_diff(original, formatted, f"{name}\t(original)",
                                     f"{name}\t(formatted)", show=escape)
    return CHANGED, ""


# ---------------------------------------------------------------- the command


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if any file would be reformatted.")
@click.option("--diff", is_flag=True,
              help="Change nothing; print a unified diff of the changes and exit 1 if any.")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Spaces per indentation level, in the files and in the result.")
@click.option("--delimiter", "-d", type=click.Choice(list(DELIMITERS)), default=None,
              help="Rewrite every array with this delimiter [default: each array keeps "
                   "its own].")
@click.option("--exit-non-zero-on-fix", is_flag=True,
              help="Exit 1 when files were reformatted (for hooks).")
@click.option("--skip-invalid", is_flag=True,
              help="Leave invalid files alone without reporting them; for hook setups "
                   "where toon-check reports them.")
@file_options
def fmt(files: tuple[str, ...], check_only: bool, diff: bool, indent_size: int,
        delimiter: str | None, exit_non_zero_on_fix: bool, skip_invalid: bool,
        force_exclude: bool) -> int:
    """Rewrite TOON files in canonical form, keeping full-line comments.

    The data, each array's delimiter and every comment stay: a comment keeps
    the line it precedes. Files end with one newline. Invalid files are reported (path:line:col) and
    left alone; so is a file where a comment would have to move (a comment
    between the fields of a list item that becomes a table row).

    Exit codes: 0 all formatted; 1 an invalid file, a file that would be
    reformatted (--check, --diff) or was (--exit-non-zero-on-fix); 2 an I/O error.
    """
    from functools import partial

    from ...parallel import FORMAT, map_in_order

    mode = "diff" if diff else "check" if check_only else "write"
    counts = {UNCHANGED: 0, CHANGED: 0, INVALID: 0, FAILED: 0}
    paths, volume = find_files(files, force_exclude)
    work = partial(format_file, indent_size=indent_size,
                   delimiter=DELIMITERS[delimiter] if delimiter else None, mode=mode)
    for path, (outcome, report) in zip(paths, map_in_order(work, paths, FORMAT,
                                                            total_bytes=volume)):
        counts[outcome] += 1
        if outcome == FAILED:
            error(report)
        elif outcome == INVALID:
            if not skip_invalid:
                click.echo(report)
        elif outcome == CHANGED:
            if mode == "diff":
                click.echo(report, nl=False)
            elif mode == "check":
                click.echo(f"Would reformat: {escape(path)}")
            else:
                click.echo(f"Reformatted: {escape(path)}", err=True)
    changed = counts[CHANGED]
    verb = "reformatted" if mode == "write" else "would be reformatted"
    invalid = counts[INVALID]
    click.echo(f"{changed} file{'s' * (changed != 1)} {verb}, {counts[UNCHANGED]} unchanged"
               + (f", {invalid} invalid" if invalid and not skip_invalid else ""), err=True)
    if counts[FAILED]:
        return ERROR
    if (invalid and not skip_invalid) or (changed and (mode != "write" or exit_non_zero_on_fix)):
        return FINDINGS
    return OK
