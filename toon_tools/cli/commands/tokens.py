"""``toon tokens``: exact token counts per file and in total, budgets, --compare."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from .._completion import any_path
from .._diagnostics import Diagnostic, formats_option, whole_file
from .._files import file_options
from .._output import ERROR, FINDINGS, OK, describe, error, escape, fail, position, warning

if TYPE_CHECKING:
    from ...config import Config
    from ...tokens import FileCount, TokenCounter
    from ...tokens.budget import Overrun
    from ...tokens.compare import Comparison


@click.command()
@click.argument("paths", nargs=-1, metavar="[PATHS...|-]", shell_complete=any_path)
@click.option("--encoding", "-e", default=None,
              help="tiktoken encoding [default: o200k_base, or tokens.encoding in config].")
@click.option("--model", "-m", default=None, help="Use the encoding tiktoken maps this model to.")
@click.option("--budget", type=click.IntRange(0), default=None, metavar="N",
              help="Exit 1 if the total exceeds N tokens [default: tokens.budget in config].")
@click.option("--per-file-budget", type=click.IntRange(0), default=None, metavar="N",
              help="Exit 1 if any one file exceeds N tokens "
                   "[default: tokens.per-file-budget in config].")
@click.option("--compare", is_flag=True,
              help="For JSON and TOON inputs: tokens as pretty JSON, compact JSON and TOON.")
@click.option("--json", "as_json", is_flag=True,
              help="The counts as one JSON document (a report, not findings: budgets "
                   "overrun are in it too). Not with a machine --format: one document "
                   "on stdout (usage error).")
@click.option("--no-cache", is_flag=True, help="Count everything afresh; read and write no cache.")
@click.option("--max-file-size", type=click.IntRange(1), default=None, metavar="MIB",
              help="Refuse files larger than this many MiB [default: 256].")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None, metavar="N",
              help="Worker processes for uncached files; 1 counts in this process "
                   "[default: TOON_TOOLS_JOBS, else the CPU count].")
@formats_option("For tokens the findings are the budgets overrun: a file over "
                 "--per-file-budget, at its line 1; the total over --budget, at the "
                 "largest file's line 1. With json, github or sarif the counts table goes "
                 "to stderr.")
@file_options
def tokens(paths: tuple[str, ...], encoding: str | None, model: str | None, budget: int | None,
           per_file_budget: int | None, compare: bool, as_json: bool, no_cache: bool,
           max_file_size: int | None, jobs: int | None, output_format: str,
           force_exclude: bool) -> int:
    """Count tokens exactly (tiktoken, offline) in files, folders or stdin.

    Folders are searched recursively; inside a git repository .gitignore is
    honoured, and [tool.toon] exclude applies (to named files too with
    --force-exclude). Binary and non-UTF-8 files found in folders are skipped
    (named, they are errors). Counts are
    cached by content hash, so unchanged files cost nothing the second time.
    """
    from ...config import load_config
    from ...tokens import DEFAULT_MAX_FILE_SIZE, TokenCounter, encoding_for_model
    from ...tokens.budget import over_budget
    from .._diagnostics import FORMATS

    printer = FORMATS[output_format]
    if as_json and printer is not None:
        raise click.UsageError(f"--json prints the counts on stdout; --format {output_format} "
                               "cannot print its document there too (use one of them)")
    cfg = load_config()
    name = encoding_for_model(model) if model else (encoding or cfg["tokens.encoding"])
    counter = TokenCounter(
        name, cache_dir=cfg.cache_dir(), cache=not no_cache,
        max_file_size=max_file_size * 1024 * 1024 if max_file_size else DEFAULT_MAX_FILE_SIZE,
        jobs=jobs)
    if budget is None:
        budget = cfg["tokens.budget"]
    if per_file_budget is None:
        per_file_budget = cfg["tokens.per-file-budget"]
    if not paths:
        if sys.stdin.isatty():
            fail("no input: give files or folders, or pipe text into 'toon tokens -'")
        paths = ("-",)

    files, explicit = _inputs(paths, cfg, force_exclude)
    results = _count(counter, files, explicit)
    for problem in counter.cache.problems if counter.cache is not None else ():
        warning(problem)

    status = OK
    counted = [r for r in results if r.tokens is not None]
    skipped = [r for r in results if r.skipped]
    errors = [r for r in results if r.error is not None]
    for r in errors:
        error(position(r.path, None, None, r.error or ""))
        status = max(status, ERROR if r.io_error else FINDINGS)
    over = over_budget({r.path: r.tokens or 0 for r in counted}, budget, per_file_budget)
    comparisons = _compare(counter, counted) if compare else None

    if as_json:
        _print_json(counter.encoding_name, counted, skipped, errors, budget, per_file_budget,
                    [str(o) for o in over], (comparisons or []) if compare else None)
    else:
        # A machine format's document is alone on stdout: the tables go to stderr.
        _table(counted, skipped, counter.encoding_name, err=printer is not None)
        if compare:
            _compare_table(comparisons, err=printer is not None)
    if printer is not None:
        printer(budget_findings(over, {r.path: r.tokens or 0 for r in counted}))
    else:
        for overrun in over:
            click.echo(f"over budget: {escape(str(overrun))}", err=True)
    if over:
        status = max(status, FINDINGS)
    return status


def budget_findings(over: list[Overrun], counts: dict[str, int]) -> list[Diagnostic]:
    """Budgets overrun as findings, for --format. A file over its budget is
    placed at its line 1; the total, which has no file of its own, at the
    largest file's (the first of the largest): GitHub annotations and SARIF
    results need a file, and that one is where cutting pays most."""
    found = []
    for o in over:
        over_by = o.tokens - o.limit
        if o.path is not None:
            found.append(whole_file(o.path, f"{o.tokens:,} tokens, {over_by:,} over the "
                                    f"per-file budget of {o.limit:,}", "file-budget"))
        elif counts:
            largest = max(counts, key=lambda p: counts[p])
            found.append(whole_file(largest, f"the files total {o.tokens:,} tokens, "
                                    f"{over_by:,} over the budget of {o.limit:,} (this file, "
                                    f"the largest, has {counts[largest]:,})", "total-budget"))
    return found


def _inputs(paths: tuple[str, ...], cfg: Config, force_exclude: bool) -> tuple[list[str], set[str]]:
    """(every file to count, in order and once each; those named explicitly).

    Folders are walked as git would list them (see ``files.walk_folder``), which
    is why this is not ``_files.find_files`` (a ``.toon``-only walk); the exclude
    rules are the same: files found in folders, and named files with
    ``--force-exclude``."""
    from ...files import walk_folder

    files: dict[str, str] = {}  # normalized path -> the path as first given or found
    explicit: set[str] = set()

    def add(path: str) -> None:
        files.setdefault(os.path.normpath(path) if path != "-" else path, path)

    for p in paths:
        if p == "-":
            add(p)
        elif os.path.isdir(p):
            for f in walk_folder(p):
                if not cfg.excluded(f):
                    add(f)
        elif not (force_exclude and cfg.excluded(p)):
            add(p)  # a missing file is reported when it is counted
            explicit.add(p)
    return list(files.values()), explicit


def _count(counter: TokenCounter, files: list[str], explicit: set[str]) -> list[FileCount]:
    """One result per input, in input order; stdin ("-") is read and counted here."""
    counted = iter(counter.count_files([f for f in files if f != "-"],
                                       explicit=frozenset(explicit)))
    return [next(counted) if f != "-" else counter.count_input(sys.stdin.buffer.read())
            for f in files]


def _print_json(encoding: str, counted: list[FileCount], skipped: list[FileCount],
                errors: list[FileCount], budget: int | None, per_file_budget: int | None,
                over: list[str], comparisons: list[Comparison] | None) -> None:
    doc: dict[str, Any] = {
        "encoding": encoding,
        "files": [{"path": r.path, "bytes": r.size, "tokens": r.tokens, "cached": r.cached}
                  for r in counted],
        "total": {"files": len(counted), "bytes": sum(r.size for r in counted),
                  "tokens": sum(r.tokens or 0 for r in counted)},
        "skipped": [r.path for r in skipped],
        "errors": [{"path": r.path, "error": r.error} for r in errors],
        "budget": {"total": budget, "per_file": per_file_budget, "over": over},
    }
    if comparisons is not None:
        doc["compare"] = [c.as_dict() for c in comparisons]
    # ensure_ascii=False keeps names readable; an undecodable name (a surrogate
    # escape) is written as its \\udcXX escape rather than failing.
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False)
               .encode("utf-8", "backslashreplace").decode("utf-8"))


@contextlib.contextmanager
def _to_stderr() -> Iterator[None]:
    """click.echo() to stdout goes to stderr meanwhile."""
    saved = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = saved


def _bold(text: str) -> str:
    """``text`` in bold, unless NO_COLOR is set and non-empty (https://no-color.org);
    only called on a terminal."""
    return text if os.environ.get("NO_COLOR") else click.style(text, bold=True)


def _table(rows: list[FileCount], skipped: list[FileCount], encoding: str,
           err: bool = False) -> None:
    if err:  # a machine --format owns stdout: the same table, plain, on stderr
        with _to_stderr():
            _table(rows, skipped, encoding)
        return
    total_bytes = sum(r.size for r in rows)
    total_tokens = sum(r.tokens or 0 for r in rows)
    names = [escape(r.path) for r in rows]
    if not sys.stdout.isatty():
        for shown, r in zip(names, rows):
            click.echo(f"{shown}\t{r.size}\t{r.tokens}")
        click.echo(f"total\t{total_bytes}\t{total_tokens}")
        return
    width = max([len("path")] + [len(n) for n in names])
    nb = max(len("bytes"), len(f"{total_bytes:,}"))
    nt = max(len("tokens"), len(f"{total_tokens:,}"))
    click.echo(_bold(f"{'path':<{width}}  {'bytes':>{nb}}  {'tokens':>{nt}}"))
    for shown, r in zip(names, rows):
        click.echo(f"{shown:<{width}}  {r.size:>{nb},}  {r.tokens or 0:>{nt},}")
    label = f"total ({len(rows)} file{'s' * (len(rows) != 1)}, {encoding})"
    click.echo(_bold(f"{label:<{width}}  {total_bytes:>{nb},}  {total_tokens:>{nt},}"))
    if skipped:
        click.echo(f"({len(skipped)} file{'s' * (len(skipped) != 1)} skipped: binary or not UTF-8)",
                   err=True)


def _compare(counter: TokenCounter, rows: list[FileCount]) -> list[Comparison] | None:
    """The comparisons of the JSON and TOON files among ``rows``; a file that
    cannot be compared gets a warning saying why. None if no row is JSON or TOON."""
    from ...tokens.compare import NotComparable, compare

    out = []
    tried = False
    for r in rows:
        if r.path == "-":
            continue
        try:
            with open(r.path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue  # it was just counted; a file that vanished since has no comparison
        try:
            found = compare(counter, r.path, data)
        except NotComparable as e:
            tried = True
            warning(describe(e))
            continue
        if found is not None:
            tried = True
            out.append(found)
    return out if tried else None


def _compare_table(rows: list[Comparison] | None, err: bool = False) -> None:
    """The comparison table; None: no JSON or TOON file was given."""
    from ...tokens.compare import FORMS

    if err:
        with _to_stderr():
            _compare_table(rows)
        return

    if rows is None:
        click.echo("(--compare: no JSON or TOON files to compare)", err=True)
        return
    if not rows:
        return  # each file's warning said why
    labels = dict(zip(FORMS, ("JSON pretty", "JSON compact", "TOON ,", "TOON tab", "TOON |")))
    names = [escape(r.path) for r in rows]
    width = max([len("path")] + [len(n) for n in names])
    click.echo()
    head = f"{'path':<{width}}" + "".join(f"  {labels[k]:>12}" for k in FORMS)
    click.echo(head + f"  {'saved vs pretty':>15}  {'saved vs compact':>16}")
    for shown, r in zip(names, rows):
        line = f"{shown:<{width}}" + "".join(f"  {r.tokens[k]:>12,}" for k in FORMS)
        click.echo(line + f"  {r.saving('json_pretty'):>14.1f}%  "
                   f"{r.saving('json_compact'):>15.1f}%")
