"""``toon tokens``: exact token counts per file and in total, budgets, --compare."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ...config import ConfigError, load_config
from ...files import walk_folder
from .._output import ERROR, FINDINGS, OK, fail


def _config() -> Any:
    try:
        return load_config()
    except ConfigError as e:
        fail(str(e))


def _expand(paths: tuple[str, ...]) -> tuple[list[str], set[str], list[str]]:
    """(files, explicitly named files, missing paths)."""
    files: list[str] = []
    explicit: set[str] = set()
    missing: list[str] = []
    for p in paths:
        if p == "-":
            files.append(p)
        elif os.path.isdir(p):
            files.extend(walk_folder(p))
        elif os.path.lexists(p):
            files.append(p)
            explicit.add(p)
        else:
            missing.append(p)
    return files, explicit, missing


@click.command()
@click.argument("paths", nargs=-1, metavar="[PATHS...|-]")
@click.option("--encoding", "-e", default=None,
              help="tiktoken encoding [default: o200k_base, or tokens.encoding in config].")
@click.option("--model", "-m", default=None, help="Use the encoding tiktoken maps this model to.")
@click.option("--budget", type=click.IntRange(0), default=None,
              help="Exit 1 if the total exceeds N tokens.", metavar="N")
@click.option("--per-file-budget", type=click.IntRange(0), default=None,
              help="Exit 1 if any one file exceeds N tokens.", metavar="N")
@click.option("--compare", is_flag=True,
              help="For JSON and TOON inputs: tokens as pretty JSON, compact JSON and TOON.")
@click.option("--json", "as_json", is_flag=True, help="One machine-readable JSON document.")
@click.option("--no-cache", is_flag=True, help="Count everything afresh; read and write no cache.")
@click.option("--max-file-size", type=click.IntRange(1), default=None, metavar="MIB",
              help="Refuse files larger than this many MiB [default: 256].")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes for uncached files [default: CPU count].")
def tokens(paths: tuple[str, ...], encoding: str | None, model: str | None, budget: int | None,
           per_file_budget: int | None, compare: bool, as_json: bool, no_cache: bool,
           max_file_size: int | None, jobs: int | None) -> None:
    """Count tokens exactly (tiktoken, offline) in files, folders or stdin.

    Folders are searched recursively; inside a git repository .gitignore is
    honoured. Binary files found in folders are skipped. Counts are cached by
    content hash, so unchanged files cost nothing the second time.
    """
    from ...tokens import DEFAULT_MAX_FILE_SIZE, TokenCounter, VocabularyError, encoding_for_model

    cfg = _config()
    try:
        name = encoding_for_model(model) if model else (encoding or cfg["tokens.encoding"])
        counter = TokenCounter(
            name, cache_dir=cfg.cache_dir(), cache=not no_cache,
            max_file_size=max_file_size * 1024 * 1024 if max_file_size else DEFAULT_MAX_FILE_SIZE,
            jobs=jobs)
    except VocabularyError as e:
        fail(str(e))
    budget = budget if budget is not None else cfg["tokens.budget"]
    per_file_budget = per_file_budget if per_file_budget is not None else cfg["tokens.per-file-budget"]

    if not paths:
        if sys.stdin.isatty():
            fail("no input: give files or folders, or pipe text into 'toon tokens -'")
        paths = ("-",)
    files, explicit, missing = _expand(paths)
    status = OK
    for p in missing:
        click.echo(f"toon: error: {p}: No such file or directory", err=True)
        status = ERROR

    try:
        rows = _count(counter, files, explicit)
    except VocabularyError as e:
        fail(str(e))
    if counter.cache is not None:
        for problem in counter.cache.problems:
            click.echo(f"toon: warning: {problem}", err=True)

    counted = [r for r in rows if r["tokens"] is not None]
    skipped = [r for r in rows if r["binary"] and r["error"] is None]
    errors = [r for r in rows if r["error"] is not None]
    for r in errors:
        click.echo(f"toon: error: {r['path']}: {r['error']}", err=True)
        status = max(status, ERROR if r["io"] else FINDINGS)
    total_tokens = sum(r["tokens"] for r in counted)
    total_bytes = sum(r["bytes"] for r in counted)

    over: list[str] = []
    if per_file_budget is not None:
        for r in counted:
            if r["tokens"] > per_file_budget:
                over.append(f"{r['path']}: {r['tokens']:,} tokens, {r['tokens'] - per_file_budget:,} "
                            f"over the per-file budget of {per_file_budget:,}")
    if budget is not None and total_tokens > budget:
        over.append(f"total: {total_tokens:,} tokens, {total_tokens - budget:,} over the budget "
                    f"of {budget:,}")
    comparison = _compare(counter, counted) if compare else None

    if as_json:
        doc: dict[str, Any] = {
            "encoding": counter.encoding_name,
            "files": [{k: r[k] for k in ("path", "bytes", "tokens", "cached")} for r in counted],
            "total": {"files": len(counted), "bytes": total_bytes, "tokens": total_tokens},
            "skipped": [r["path"] for r in skipped],
            "errors": [{"path": r["path"], "error": r["error"]} for r in errors] +
                      [{"path": p, "error": "No such file or directory"} for p in missing],
            "budget": {"total": budget, "per_file": per_file_budget, "over": over},
        }
        if comparison is not None:
            doc["compare"] = comparison
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _table(counted, total_bytes, total_tokens, skipped, counter.encoding_name)
        if comparison is not None:
            _compare_table(comparison)
    for line in over:
        click.echo(f"over budget: {line}", err=True)
    if over:
        status = max(status, FINDINGS)
    raise SystemExit(status)


def _count(counter: Any, files: list[str], explicit: set[str]) -> list[dict[str, Any]]:
    """One row per input, in input order; stdin ("-") is read and counted here."""
    from ...tokens import InputError

    counted = iter(counter.count_files([f for f in files if f != "-"],
                                       explicit=frozenset(explicit)))
    rows: list[dict[str, Any]] = []
    for f in files:
        if f != "-":
            fc = next(counted)
            rows.append({"path": fc.path, "bytes": fc.size, "tokens": fc.tokens,
                         "cached": fc.cached, "error": fc.error, "io": fc.io_error,
                         "binary": fc.binary})
            continue
        data = sys.stdin.buffer.read()
        row: dict[str, Any] = {"path": "-", "bytes": len(data), "tokens": None, "cached": False,
                               "error": None, "io": False, "binary": False}
        if b"\0" in data:
            row["error"] = "binary input (contains NUL bytes), not counted"
        else:
            try:
                row["tokens"] = counter.count_bytes(data)
            except InputError as e:
                row["error"] = str(e)
        rows.append(row)
    return rows


def _table(rows: list[dict[str, Any]], total_bytes: int, total_tokens: int,
           skipped: list[dict[str, Any]], encoding: str) -> None:
    plain = not sys.stdout.isatty()
    if plain:
        for r in rows:
            click.echo(f"{r['path']}\t{r['bytes']}\t{r['tokens']}")
        click.echo(f"total\t{total_bytes}\t{total_tokens}")
        return
    width = max([len("path")] + [len(r["path"]) for r in rows])
    nb = max(len("bytes"), len(f"{total_bytes:,}"))
    nt = max(len("tokens"), len(f"{total_tokens:,}"))
    click.echo(click.style(f"{'path':<{width}}  {'bytes':>{nb}}  {'tokens':>{nt}}", bold=True))
    for r in rows:
        click.echo(f"{r['path']:<{width}}  {r['bytes']:>{nb},}  {r['tokens']:>{nt},}")
    label = f"total ({len(rows)} file{'s' * (len(rows) != 1)}, {encoding})"
    click.echo(click.style(f"{label:<{width}}  {total_bytes:>{nb},}  {total_tokens:>{nt},}", bold=True))
    if skipped:
        click.echo(f"({len(skipped)} binary file{'s' * (len(skipped) != 1)} skipped)", err=True)


def _compare(counter: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tokens of the same data as pretty JSON, compact JSON and TOON per delimiter."""
    from ... import codec

    out = []
    for r in rows:
        path = r["path"]
        try:
            data = Path(path).read_bytes() if path != "-" else None
        except OSError:
            continue
        if data is None:
            continue
        value: Any
        try:
            if path.endswith(".json"):
                value = json.loads(data)
            elif path.endswith(".toon"):
                value = codec.decode(data)
            else:
                continue
        except (ValueError, RecursionError):
            continue
        forms = {
            "json_pretty": json.dumps(value, indent=2, ensure_ascii=False),
            "json_compact": json.dumps(value, separators=(",", ":"), ensure_ascii=False),
            "toon_comma": codec.encode(value),
            "toon_tab": codec.encode(value, delimiter="\t"),
            "toon_pipe": codec.encode(value, delimiter="|"),
        }
        counts = dict(zip(forms, counter.count_many(list(forms.values()))))
        best = min(counts["toon_comma"], counts["toon_tab"], counts["toon_pipe"])
        out.append({"path": path, **counts,
                    "saving_vs_pretty": _saving(best, counts["json_pretty"]),
                    "saving_vs_compact": _saving(best, counts["json_compact"])})
    return out


def _saving(toon: int, json_tokens: int) -> float:
    return round(100.0 * (json_tokens - toon) / json_tokens, 1) if json_tokens else 0.0


def _compare_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("(--compare: no JSON or TOON files to compare)", err=True)
        return
    cols = [("json_pretty", "JSON pretty"), ("json_compact", "JSON compact"),
            ("toon_comma", "TOON ,"), ("toon_tab", "TOON tab"), ("toon_pipe", "TOON |")]
    width = max([len("path")] + [len(r["path"]) for r in rows])
    click.echo()
    head = f"{'path':<{width}}" + "".join(f"  {label:>12}" for _, label in cols)
    click.echo(head + f"  {'saved vs pretty':>15}  {'saved vs compact':>16}")
    for r in rows:
        line = f"{r['path']:<{width}}" + "".join(f"  {r[k]:>12,}" for k, _ in cols)
        click.echo(line + f"  {r['saving_vs_pretty']:>14.1f}%  {r['saving_vs_compact']:>15.1f}%")
