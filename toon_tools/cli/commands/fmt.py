"""``toon fmt FILES... [--check] [--diff]``: canonical formatting that keeps the
data, each array's delimiter and every comment (``toon_tools.codec.format_text``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from .._diagnostics import Diagnostic, formats_option
from .._completion import toon_paths
from .._files import file_options, find_files
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, escape
from .._stdin import STDIN, read_stdin, reads_stdin, stdin_option
from .check import decode_diagnostic

#: what happened to a file
UNCHANGED, CHANGED, INVALID, FAILED = "unchanged", "changed", "invalid", "failed"
#: --delimiter choices
DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|"}


@dataclass(frozen=True)
class Formatted:
    """What formatting one document gave: its outcome, the text report (a
    diagnostic with a caret, a diff, or an error), the finding for --format, and
    the formatted text (kept for stdin only)."""

    outcome: str
    report: str = ""
    finding: Diagnostic | None = None
    text: str | None = None


def first_change(original: str, formatted: str) -> tuple[int, int]:
    """(the first line of ``original`` that formatting changes, its length in
    code points): where ``fmt --check`` places its finding."""
    # Lines with their ends (only \n ends a TOON line, §12): a line that loses
    # only its end (blank lines dropped at the end) differs too.
    old, new = _lines(original), _lines(formatted)
    i = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    if i and i == len(old) - 1 and not old[i]:
        i -= 1  # lines only added after the last one: the last line changes
    return i + 1, len(old[i].rstrip("\r\n"))


def _lines(text: str) -> list[str]:
    """``text``'s lines, each with its ``\n``; the last one (after the last
    ``\n``) without, and empty if the text ends with one."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def format_data(path: str, data: bytes, indent_size: int, delimiter: str | None,
                mode: str, keep: bool = False) -> Formatted:
    """Format one document (``path`` names it in messages); writes nothing.
    ``mode`` is "write", "check" or "diff" (the report is a unified diff);
    ``keep``: return the formatted text too."""
    from ...codec import ToonDecodeError, format_text

    try:
        formatted = format_text(data, indent_size=indent_size, delimiter=delimiter)
    except ToonDecodeError as e:
        source = data.decode("utf-8", errors="replace")
        return Formatted(INVALID, diagnostic(path, e.line, e.column, e.msg, source),
                         decode_diagnostic(path, e))
    if formatted.encode("utf-8") == data:
        return Formatted(UNCHANGED, text=formatted if keep else None)
    original = data.decode("utf-8")  # format_text has checked it
    line, width = first_change(original, formatted)
    finding = Diagnostic(path, line, 1, line, width + 1, "would reformat", "format")
    report = ""
    if mode == "diff":
        from ...textdiff import unified_diff

        name = escape(path)
        report = unified_diff(original, formatted, f"{name}\t(original)",
                              f"{name}\t(formatted)", show=escape)
    return Formatted(CHANGED, report, finding, formatted if keep else None)


def format_file(path: str, indent_size: int, delimiter: str | None, mode: str) -> Formatted:
    """Format one file; in "write" mode a changed file is rewritten."""
    from ...files import atomic_write

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return Formatted(FAILED, describe(e, path))
    done = format_data(path, data, indent_size, delimiter, mode, keep=mode == "write")
    if done.outcome == CHANGED and mode == "write":
        try:
            atomic_write(path, done.text or "")
        except OSError as e:
            return Formatted(FAILED, describe(e, path))
        return Formatted(CHANGED, finding=done.finding)
    return done


# ---------------------------------------------------------------- the command


@click.command()
@click.argument("files", nargs=-1, metavar="FILES...|-", shell_complete=toon_paths())
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
@formats_option("For fmt the findings are invalid files and, with --check, the "
                          "files that would be reformatted (at the first line that changes). "
                          "Not with --diff, nor with 'fmt -' without --check: their own "
                          "output is on stdout (usage error).")
@stdin_option
@file_options
def fmt(files: tuple[str, ...], check_only: bool, diff: bool, indent_size: int,
        delimiter: str | None, exit_non_zero_on_fix: bool, skip_invalid: bool,
        output_format: str, stdin_filename: str | None, force_exclude: bool) -> int:
    """Rewrite TOON files in canonical form, keeping full-line comments.

    The data, each array's delimiter and every comment stay: a comment keeps
    the line it precedes. Files end with one newline. Invalid files are reported (path:line:col) and
    left alone; so is a file where a comment would have to move (a comment
    between the fields of a list item that becomes a table row).

    'toon fmt -' formats stdin to stdout (an invalid document: the error on
    stderr, nothing on stdout); with --check or --diff it only reports.

    Exit codes: 0 all formatted; 1 an invalid file, a file that would be
    reformatted (--check, --diff) or was (--exit-non-zero-on-fix); 2 an I/O error.
    """
    from functools import partial

    from .._diagnostics import FORMATS
    from ...parallel import FORMAT, map_in_order

    mode = "diff" if diff else "check" if check_only else "write"
    stdin = reads_stdin(files, stdin_filename)
    if not files and not stdin:
        raise click.UsageError("Missing argument 'FILES...|-'.")
    printer = FORMATS[output_format]
    if printer is not None and mode == "diff":
        raise click.UsageError(f"--diff prints a diff on stdout; --format {output_format} "
                               "cannot print its document there too")
    if printer is not None and stdin and mode == "write":
        raise click.UsageError(f"'toon fmt -' prints the formatted document on stdout; "
                               f"--format {output_format} needs --check")
    delim = DELIMITERS[delimiter] if delimiter else None
    if stdin:
        name = stdin_filename or STDIN
        data = read_stdin()
        if stdin_filename is not None and force_exclude:
            from ...config import load_config

            if load_config().excluded(stdin_filename):
                if mode == "write":
                    sys.stdout.buffer.write(data)  # passed through
                elif printer is not None:
                    printer([])
                return OK
        done = format_data(name, data, indent_size, delim, mode, keep=mode == "write")
        if mode == "write":
            return _write_stdin(done, data, skip_invalid, exit_non_zero_on_fix)
        paths, results = [name], [done]
    else:
        paths, volume = find_files(files, force_exclude)
        work = partial(format_file, indent_size=indent_size, delimiter=delim, mode=mode)
        results = map_in_order(work, paths, FORMAT, total_bytes=volume)
    counts = {UNCHANGED: 0, CHANGED: 0, INVALID: 0, FAILED: 0}
    collected: list[Diagnostic] = []
    for path, done in zip(paths, results):
        counts[done.outcome] += 1
        if done.outcome == FAILED:
            error(done.report)
        elif done.outcome == INVALID:
            if skip_invalid:
                continue
            if printer is None:
                click.echo(done.report)
            elif done.finding is not None:
                collected.append(done.finding)
        elif done.outcome == CHANGED:
            if mode == "write":
                click.echo(f"Reformatted: {escape(path)}", err=True)
            elif printer is not None:
                if done.finding is not None:
                    collected.append(done.finding)
            elif mode == "diff":
                click.echo(done.report, nl=False)
            else:
                click.echo(f"Would reformat: {escape(path)}")
    if printer is not None:
        printer(collected)
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


def _write_stdin(done: Formatted, data: bytes, skip_invalid: bool,
                 exit_non_zero_on_fix: bool) -> int:
    """``toon fmt -``: the formatted document on stdout, quietly (as ruff does);
    an invalid one: its error on stderr and nothing on stdout, or with
    --skip-invalid the input passed through unchanged."""
    out = sys.stdout.buffer
    if done.outcome == INVALID:
        if skip_invalid:
            out.write(data)
            return OK
        click.echo(done.report, err=True)
        return FINDINGS
    out.write((done.text or "").encode("utf-8"))
    out.flush()
    return FINDINGS if done.outcome == CHANGED and exit_non_zero_on_fix else OK
