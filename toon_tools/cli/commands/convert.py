"""``toon convert SRC... [-o OUT | --out-dir DIR]``: between JSON, JSONL, TOON,
Markdown and PDF, by suffix or --from/--to; many files in a process pool."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import click

from ...files import atomic_write, walk_folder
from .._output import ERROR, OK, describe, fail

FORMATS = ["json", "jsonl", "toon", "md", "pdf", "checkpoint"]
POOL_FROM = 8  # fewer files convert faster in-process than a pool can start


@dataclass
class Job:
    source: str  # path, or "-" for stdin
    source_format: str
    target_format: str
    output: str  # path, or "-" for stdout


@dataclass
class Outcome:
    job: Job
    status: int
    message: str = ""
    source_bytes: int = 0
    text: str | None = None  # the converted text, when it goes to stdout


def run_job(job: Job, data: bytes | None = None) -> Outcome:
    """Convert one input (in a worker or in-process). Never raises for bad input."""
    from ...convert.registry import lookup
    from ...errors import ToolError

    try:
        if data is None:
            if job.source_format == "checkpoint":
                data = job.source.encode()
            else:
                with open(job.source, "rb") as fh:
                    data = fh.read()
        name = "<stdin>" if job.source == "-" else job.source
        text = lookup(job.source_format, job.target_format).convert(data, name)
    except ToolError as e:
        return Outcome(job, e.exit_code, describe(e, job.source))
    except (OSError, MemoryError) as e:
        return Outcome(job, ERROR, f"{job.source}: {getattr(e, 'strerror', None) or e}")
    out = text + "\n" if text else ""
    if job.output == "-":
        return Outcome(job, OK, source_bytes=len(data), text=out)
    try:
        atomic_write(job.output, out)
    except OSError as e:
        return Outcome(job, ERROR, f"{job.output}: {e.strerror or e}")
    return Outcome(job, OK, f"{job.source} -> {job.output}", len(data))


def _sources(items: tuple[str, ...], source_format: str | None) -> list[str]:
    from ...convert.registry import SUFFIXES

    found: list[str] = []
    for item in items:
        if item == "-" or source_format == "checkpoint":
            found.append(item)
        elif os.path.isdir(item):
            found.extend(p for p in walk_folder(item) if source_format or
                         any(p.lower().endswith(s) for s in SUFFIXES))
        elif not os.path.lexists(item) and glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                fail(f"{item}: no files match")
            found.extend(matches)
        else:
            found.append(item)
    return found


def _plan(sources: list[str], source_format: str | None, target_format: str | None,
          output: str | None, out_dir: str | None) -> list[Job]:
    from ...convert.registry import OUTPUT_SUFFIX, format_of

    if output and len(sources) > 1:
        fail("-o names one output file; use --out-dir for several sources")
    if output and target_format is None and output != "-":
        target_format = format_of(output)
    jobs = []
    for src in sources:
        fmt = source_format or (None if src == "-" else format_of(src))
        if fmt is None:
            fail(f"{src}: unknown format; say --from ({', '.join(FORMATS)})")
        target = target_format or ("md" if fmt == "toon" else "toon")
        if target not in OUTPUT_SUFFIX:
            fail(f"cannot convert to {target}")
        if output:
            dest = output
        elif out_dir:
            base = "checkpoint" if fmt == "checkpoint" else Path(src).stem
            dest = str(Path(out_dir) / (base + OUTPUT_SUFFIX[target]))
        elif len(sources) == 1 or src == "-":
            dest = "-"
        else:
            dest = str(Path(src).with_suffix(OUTPUT_SUFFIX[target]))  # beside the source
        if dest != "-" and os.path.abspath(dest) == os.path.abspath(src):
            fail(f"{src}: the output would overwrite the source")
        jobs.append(Job(src, fmt, target, dest))
    return jobs


@click.command()
@click.argument("sources", nargs=-1, metavar="SRC...")
@click.option("--from", "source_format", type=click.Choice(FORMATS), default=None,
              help="Source format [default: from the file suffix].")
@click.option("--to", "target_format", type=click.Choice(["json", "jsonl", "toon", "md"]),
              default=None, help="Target format [default: toon; for .toon sources md, the twin].")
@click.option("--output", "-o", default=None, metavar="OUT", help="Output file ('-' for stdout).")
@click.option("--out-dir", default=None, metavar="DIR",
              help="Folder for the outputs of many sources [default: beside each source].")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes [default: CPU count].")
@click.option("--stats", is_flag=True, help="Print tokens of source and result, and the saving.")
@click.option("--list", "list_only", is_flag=True, help="List the registered converters.")
def convert(sources: tuple[str, ...], source_format: str | None, target_format: str | None,
            output: str | None, out_dir: str | None, jobs: int | None, stats: bool,
            list_only: bool) -> None:
    """Convert between JSON, JSON Lines, TOON, Markdown, PDF and git checkpoints.

    Folders and globs are expanded. One source goes to stdout unless -o is
    given; several go beside their sources, or into --out-dir. Outputs are
    replaced atomically.
    """
    from ...convert.registry import converters

    if list_only:
        for (src, dst), cls in sorted(converters().items()):
            click.echo(f"{src:>10} -> {dst:<5} {cls.description}")
        raise SystemExit(OK)
    if not sources:
        if sys.stdin.isatty():
            fail("no input: give files, folders or globs, or '-' for stdin with --from")
        sources = ("-",)
    if out_dir:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            fail(f"{out_dir}: {e.strerror}")
    plan = _plan(_sources(sources, source_format), source_format, target_format, output, out_dir)
    outcomes = _run(plan, jobs)
    status = OK
    for o in outcomes:
        if o.status != OK:
            click.echo(f"toon: error: {o.message}", err=True)
        elif o.text is not None:
            sys.stdout.write(o.text)
        elif len(plan) > 1 or o.job.output != "-":
            click.echo(f"wrote {o.message}", err=True)
        status = max(status, o.status)
    if stats:
        _print_stats([o for o in outcomes if o.status == OK])
    raise SystemExit(status)


def _run(plan: list[Job], jobs: int | None) -> list[Outcome]:
    stdin = [j for j in plan if j.source == "-"]
    data = sys.stdin.buffer.read() if stdin else None
    workers = min(jobs or os.cpu_count() or 1, len(plan))
    show = sys.stderr.isatty() and len(plan) > 1
    if len(plan) >= POOL_FROM and workers > 1 and not stdin:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(run_job, plan, chunksize=max(1, len(plan) // (workers * 8)))
            return _progress(results, len(plan), show)
    return _progress((run_job(j, data if j.source == "-" else None) for j in plan), len(plan), show)


def _progress(results: Iterable[Outcome], total: int, show: bool) -> list[Outcome]:
    if not show:
        return list(results)
    out: list[Outcome] = []
    with click.progressbar(results, length=total, label="converting", file=sys.stderr) as bar:
        for r in bar:
            out.append(r)
    return out


def _print_stats(outcomes: list[Outcome]) -> None:
    from ...config import load_config
    from ...tokens import TokenCounter

    cfg = load_config()
    counter = TokenCounter(cfg["tokens.encoding"], cache_dir=cfg.cache_dir())
    for o in outcomes:
        if o.job.source_format in ("pdf", "checkpoint") or o.job.source == "-":
            src_tokens = None
        else:
            src_tokens = counter.count_bytes(Path(o.job.source).read_bytes())
        result = o.text if o.text is not None else Path(o.job.output).read_text(encoding="utf-8")
        dst_tokens = counter.count(result)
        if src_tokens:
            saving = 100.0 * (src_tokens - dst_tokens) / src_tokens
            click.echo(f"{o.job.source}: {src_tokens:,} -> {dst_tokens:,} tokens "
                       f"({saving:+.1f}% saved)", err=True)
        else:
            click.echo(f"{o.job.source}: result {dst_tokens:,} tokens", err=True)
