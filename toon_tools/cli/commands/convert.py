"""``toon convert SRC... [-o OUT | --out-dir DIR]``: between the formats of the
converter registry (:mod:`toon_tools.convert.registry`), by suffix or
--from/--to; many files in a process pool.

Nothing the user wrote is ever replaced: an output that exists is written only
when it already holds what we would write (a no-op), when it is a Markdown twin
naming this very source, or with ``--force``. In folder mode, generated twins
are not sources (their ``.toon`` file is the truth).
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ...files import atomic_write, walk_folder
from .._files import file_options
from .._output import ERROR, FINDINGS, OK, describe, error, escape, fail, position

#: Why an existing output is not replaced.
NOT_OURS = "exists and was not written by toon-tools; use --force to replace it"


class RegistryChoice(click.Choice):
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


@dataclass
class Job:
    source: str  # path, or "-" for stdin
    source_format: str
    target_format: str
    output: str  # path, or "-" for stdout
    force: bool = False  # replace an output that is not provably ours
    data: bytes | None = None  # stdin's bytes, read once by the parent


@dataclass
class Outcome:
    job: Job
    status: int
    message: str = ""  # an error (escaped, one line), or what was done
    source_bytes: int = 0
    text: str | None = None  # the converted text, when it goes to stdout
    written: bool = False


def run_job(job: Job) -> Outcome:
    """Convert one input (in a worker or in-process). Never raises for bad input:
    every error becomes the outcome's one-line message and exit status."""
    from ...convert.registry import BYTES, lookup
    from ...errors import ToolError

    name = "<stdin>" if job.source == "-" else job.source
    try:
        converter = lookup(job.source_format, job.target_format)
        if converter.input != BYTES:
            data = os.fsencode(job.source)
        elif job.data is not None:
            data = job.data
        else:
            with open(job.source, "rb") as fh:
                data = fh.read()
        text = converter.convert(data, name)
    except ToolError as e:
        return Outcome(job, e.exit_code, describe(e, name))
    except (OSError, MemoryError) as e:
        return Outcome(job, ERROR, describe(e, name) if isinstance(e, OSError)
                       else position(name, None, None, "out of memory"))
    size = len(data) if converter.input == BYTES else 0
    out = text + "\n" if text else ""
    if job.output == "-":
        return Outcome(job, OK, source_bytes=size, text=out)
    payload = out.encode("utf-8", "surrogateescape")
    try:
        verdict = _may_write(job, payload, text)
        if verdict is None:
            atomic_write(job.output, payload)
    except OSError as e:  # name the output, not a temporary file beside it
        return Outcome(job, ERROR, describe(OSError(e.errno, e.strerror, job.output)))
    if verdict == "unchanged":
        return Outcome(job, OK, escape(f"{job.source} -> {job.output}"), size)
    if verdict is not None:
        return Outcome(job, FINDINGS, verdict)
    return Outcome(job, OK, escape(f"{job.source} -> {job.output}"), size, written=True)


def _may_write(job: Job, payload: bytes, text: str) -> str | None:
    """None to write; "unchanged" when the output already holds ``payload``; else
    the one-line refusal. Only what is provably ours is replaced without --force:
    a twin whose header names this source."""
    try:
        with open(job.output, "rb") as fh:
            current = fh.read(max(len(payload) + 1, 8192))
    except FileNotFoundError:
        return None
    if current == payload:
        return "unchanged"
    if job.force or _twin_of_source(current, text, job):
        return None
    return position(job.output, None, None, NOT_OURS)


def _twin_of_source(current: bytes, text: str, job: Job) -> bool:
    """Whether ``current`` is a twin of ``job.source``: its header names the same
    source as the twin we are writing (``text``), or a path that leads from the
    output's folder to the source (as ``toon twins`` writes it)."""
    from ...convert.twin_render import read_marker

    ours = read_marker(text.split("\n", 1)[0])
    theirs = read_marker(current.split(b"\n", 1)[0].decode("utf-8", "replace"))
    if ours is None or theirs is None:
        return False
    if theirs[0] == ours[0]:
        return True
    if job.source == "-":
        return False
    named = os.path.join(os.path.dirname(os.path.abspath(job.output)), theirs[0])
    try:
        return os.path.samefile(named, job.source)
    except OSError:
        return False


def _is_generated(path: str) -> bool:
    """Whether ``path`` starts with a twin header: made by toon-tools from a
    ``.toon`` file, which is the source to convert instead."""
    from ...convert.twin_render import MARKER_PREFIX, read_marker

    try:
        with open(path, "rb") as fh:
            first = fh.readline(8192)
    except OSError:
        return False  # reported when it is read
    if not first.startswith(MARKER_PREFIX.encode()):
        return False
    return read_marker(first.decode("utf-8", "replace")) is not None


def _sources(items: tuple[str, ...], source_format: str | None, cfg: Any,
             force_exclude: bool) -> tuple[list[str], bool]:
    """(SRC... expanded, whether any folder or glob was expanded): folders
    walked and globs matched (``[tool.toon] exclude`` applies, and generated
    twins are left out), explicit files kept (excluded only with
    --force-exclude); a path input (a repository) as given."""
    from ...convert.registry import PATH, format_of, input_kind

    path_input = source_format is not None and input_kind(source_format) == PATH

    def wanted(p: str) -> bool:
        return bool(source_format or format_of(p)) and not cfg.excluded(p) \
            and not _is_generated(p)

    found: list[str] = []
    expanded = False
    for item in items:
        if item == "-" or path_input:
            found.append(item)
        elif os.path.isdir(item):
            expanded = True
            found.extend(p for p in walk_folder(item) if wanted(p))
        elif not os.path.lexists(item) and glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                fail(f"{item}: no files match")
            expanded = True
            found.extend(p for p in matches if wanted(p))
        elif not (force_exclude and cfg.excluded(item)):
            found.append(item)
    return found, expanded


def _plan(sources: list[str], source_format: str | None, target_format: str | None,
          output: str | None, out_dir: str | None, force: bool,
          beside: bool = False) -> list[Job]:
    """One job per source. Outputs go to ``output``, into ``out_dir``, beside
    their sources (several sources, or ``beside``: found in folders or globs),
    or to stdout (one source named on the command line)."""
    from ...convert.registry import (converters, default_target, format_of, output_suffix,
                                     source_formats)

    if output and len(sources) > 1:
        fail("-o names one output file; use --out-dir for several sources")
    if output and target_format is None and output != "-":
        target_format = format_of(output)
    table = converters()
    jobs = []
    for src in sources:
        fmt = source_format or (None if src == "-" else format_of(src))
        if fmt is None or fmt not in source_formats():
            fail(f"{src}: unknown format; say --from ({', '.join(source_formats())})")
        target = target_format or default_target(fmt)
        if target is None:
            fail(f"{src}: {fmt} converts to several formats; say --to")
        if output:
            dest = output
        elif out_dir or (beside or len(sources) > 1) and src != "-":
            cls = table.get((fmt, target))
            stem = cls.output_stem(src) if cls is not None else Path(src).stem
            folder = Path(out_dir) if out_dir else Path(src).parent
            dest = str(folder / (stem + output_suffix(target)))
        else:
            dest = "-"
        if dest != "-" and os.path.abspath(dest) == os.path.abspath(src):
            fail(f"{src}: the output would overwrite the source")
        jobs.append(Job(src, fmt, target, dest, force))
    _check_outputs(jobs, force)
    return jobs


def _check_outputs(jobs: list[Job], force: bool) -> None:
    """Two sources never write one file, and with --force no output replaces
    another source of the same run (the order of the two would decide)."""
    writer: dict[str, str] = {}
    for job in jobs:
        if job.output == "-":
            continue
        key = os.path.abspath(job.output)
        if key in writer:
            fail(f"{writer[key]} and {job.source} would both be written to {job.output}; "
                 "use --out-dir, or convert them separately")
        writer[key] = job.source
    if force:
        for job in jobs:
            if job.source != "-" and os.path.abspath(job.source) in writer:
                fail(f"{job.source} is a source and also the output of "
                     f"{writer[os.path.abspath(job.source)]}; convert them separately")


@click.command(cls=ConvertCommand)
@click.argument("sources", nargs=-1, metavar="SRC...")
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
    """Convert between JSON, JSON Lines, TOON, Markdown, PDF and git checkpoints.

    The formats, their suffixes and the --from/--to choices are those of the
    converters listed below.
    Folders and globs are expanded ([tool.toon] exclude applies; generated
    Markdown twins are not sources). One source goes to stdout unless -o is
    given; several go beside their sources, or into --out-dir. Outputs are
    replaced atomically, and only when they are twins of their source, already
    hold the result, or --force is given.
    """
    from ...config import load_config
    from ...convert.registry import converters

    if list_only:
        for (src, dst), cls in sorted(converters().items()):
            click.echo(f"{src:>10} -> {dst:<5} {cls.description}")
        return OK
    cfg = load_config()  # a bad [tool.toon] stops here: exit 2, before any file
    if not sources:
        if sys.stdin.isatty():
            fail("no input: give files, folders or globs, or '-' for stdin with --from")
        sources = ("-",)
    found, expanded = _sources(sources, source_format, cfg, force_exclude)
    plan = _plan(found, source_format, target_format, output, out_dir, force, beside=expanded)
    if out_dir and plan:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            fail(describe(OSError(e.errno, e.strerror, out_dir)))
    if jobs is not None:
        # --jobs is TOON_TOOLS_JOBS for this run: a converter's own pool (PDF
        # pages) follows it too.
        from ...parallel import JOBS_ENV

        os.environ[JOBS_ENV] = str(jobs)
    outcomes = _run(plan, jobs)
    status = OK
    for o in outcomes:
        if o.status != OK:
            error(o.message)
        elif o.text is not None:
            sys.stdout.write(o.text)
        elif len(plan) > 1 or o.job.output != "-":
            click.echo(f"{'wrote' if o.written else 'unchanged'} {o.message}", err=True)
        status = max(status, o.status)
    if stats:
        _print_stats([o for o in outcomes if o.status == OK], cfg)
    return status


def _run(plan: list[Job], jobs: int | None) -> list[Outcome]:
    from ...parallel import CONVERT, imap_in_order

    stdin = [j for j in plan if j.source == "-"]
    if stdin:
        data = sys.stdin.buffer.read()
        for j in stdin:
            j.data = data
        jobs = 1  # stdin is read here; its one job stays here
    show = sys.stderr.isatty() and len(plan) > 1
    return _progress(imap_in_order(run_job, plan, CONVERT, jobs=jobs), len(plan), show)


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
