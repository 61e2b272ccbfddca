"""A batch of conversions: which files are sources, where each output goes, and
when an output that exists may be replaced. ``toon convert`` is this module plus
printing.

Nothing the user wrote is ever replaced: an output that exists is written only
when it already holds what we would write (a no-op), when it is a Markdown twin
naming this very source, or with ``force``; a directory, a symbolic link or any
other file that is not a regular one is never replaced, even with ``force``.

In folders and globs, generated twins are not sources (their ``.toon`` file is
the truth), and neither is a file that another source of the run writes: it is
that source's output, so a re-run finds its own outputs and changes nothing.
Files named on the command line are sources as given.

Nothing here prints or exits. Planning problems (an unknown format, two sources
for one output) raise :class:`~toon_tools.errors.ToolError` before any file is
touched; a problem with one file becomes that file's :class:`Outcome`, and the
other files are still converted.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final, NamedTuple

from ..errors import Finding, ToolError, exit_code_of
from ..files import atomic_write, walk_folder
from .registry import (BYTES, PATH, converters, default_target, format_of, input_kind, lookup,
                       output_suffix, source_formats)

#: Why an existing output is not replaced.
NOT_OURS: Final = "exists and was not written by toon-tools; use --force to replace it"
#: How many bytes of a file are read to find a twin header.
_HEAD: Final = 8192
#: When two files of a folder convert to each other (``b.md`` and ``b.toon``),
#: the one converted to this format is the source: TOON is what we make.
_PREFERRED_TARGET: Final = "toon"


@dataclass
class Job:
    """One conversion: ``source`` (a path, or ``-`` for stdin) to ``output`` (a
    path, or ``-`` for stdout)."""

    source: str
    source_format: str
    target_format: str
    output: str
    force: bool = False  # replace an output that is not provably ours
    data: bytes | None = None  # stdin's bytes, read once by the caller

    @property
    def name(self) -> str:
        """What messages call the source."""
        return "<stdin>" if self.source == "-" else self.source


@dataclass
class Outcome:
    """What became of one job. ``error`` is None on success; else it is what to
    report (naming ``job.name`` when it names no file of its own; its exit code
    is :attr:`status`), and nothing was written."""

    job: Job
    error: ToolError | OSError | None = None
    source_bytes: int = 0  # the size of a bytes input; 0 for a path input
    text: str | None = None  # the converted text, when it goes to stdout
    written: bool = False  # False with no error: the output already held the result

    @property
    def status(self) -> int:
        return 0 if self.error is None else exit_code_of(self.error)


# -- which files --------------------------------------------------------------

class Found(NamedTuple):
    """What :func:`find_sources` found."""

    paths: list[str]  # the candidate sources, in order
    expanded: bool  # whether a folder or glob was given: outputs go beside sources
    walked: set[str]  # the paths found in folders and globs (not named)


def find_sources(items: Sequence[str], source_format: str | None,
                 excluded: Callable[[str], bool], force_exclude: bool = False) -> Found:
    """``items`` expanded: folders are walked and globs matched (keeping regular
    files, or links to one, with a format, dropping what ``excluded`` names and
    generated twins), explicit files kept (excluded only with
    ``force_exclude``), ``-`` (stdin) and the paths a path-input format reads
    (a repository) as given. A glob that matches nothing raises ToolError."""
    path_input = source_format is not None and input_kind(source_format) == PATH

    def wanted(p: str) -> bool:
        # isfile first: a FIFO would block the read of a twin header.
        return (os.path.isfile(p) and bool(source_format or format_of(p))
                and not excluded(p) and not is_generated(p))

    found: list[str] = []
    walked: set[str] = set()
    expanded = False
    for item in items:
        if item == "-" or path_input:
            found.append(item)
        elif os.path.isdir(item):
            expanded = True
            walked.update(new := [p for p in walk_folder(item) if wanted(p)])
            found.extend(new)
        elif not os.path.lexists(item) and glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise ToolError("no files match", path=item)
            expanded = True
            walked.update(new := [p for p in matches if wanted(p)])
            found.extend(new)
        elif not (force_exclude and excluded(item)):
            found.append(item)
    return Found(found, expanded, walked)


def is_generated(path: str) -> bool:
    """Whether ``path`` starts with a twin header: made by toon-tools from a
    ``.toon`` file, which is the source to convert instead."""
    from .twin_render import MARKER_PREFIX, read_marker

    try:
        with open(path, "rb") as fh:
            first = fh.readline(_HEAD)
    except OSError:
        return False  # reported when it is read
    if not first.startswith(MARKER_PREFIX.encode()):
        return False
    return read_marker(first.decode("utf-8", "replace")) is not None


# -- where outputs go -----------------------------------------------------------

def plan(sources: Sequence[str], source_format: str | None = None,
         target_format: str | None = None, output: str | None = None,
         out_dir: str | None = None, force: bool = False, beside: bool = False,
         walked: Collection[str] = ()) -> list[Job]:
    """One job per source, but none for a ``walked`` source (found in a folder or
    glob) that is the output of another source (see :func:`drop_outputs`).
    Outputs go to ``output``, into ``out_dir``, beside their sources (several
    sources, or ``beside``: found in folders or globs), or to stdout (one source
    named on the command line). Raises ToolError for what no file may be
    converted with: an unknown format, an output that is a source, two sources
    for one output."""
    if output and len(sources) > 1:
        raise ToolError("-o names one output file; use --out-dir for several sources")
    if output and target_format is None and output != "-":
        target_format = format_of(output)
    table = converters()
    jobs = []
    for src in sources:
        fmt = source_format or (None if src == "-" else format_of(src))
        if fmt is None or fmt not in source_formats():
            raise ToolError(f"unknown format; say --from ({', '.join(source_formats())})",
                            path=src)
        target = target_format or default_target(fmt)
        if target is None:
            raise ToolError(f"{fmt} converts to several formats; say --to", path=src)
        if output:
            dest = output
        elif out_dir or (beside or len(sources) > 1) and src != "-":
            cls = table.get((fmt, target))
            stem = cls.output_stem(src) if cls is not None else Path(src).stem
            folder = Path(out_dir) if out_dir else Path(src).parent
            dest = str(folder / (stem + output_suffix(target)))
        else:
            dest = "-"
        jobs.append(Job(src, fmt, target, dest, force))
    jobs = drop_outputs(jobs, walked)
    for job in jobs:
        if job.output != "-" and os.path.abspath(job.output) == os.path.abspath(job.source):
            raise ToolError("the output would overwrite the source", path=job.source)
    check_outputs(jobs, force)
    return jobs


def drop_outputs(jobs: Sequence[Job], walked: Collection[str]) -> list[Job]:
    """``jobs`` without those whose source was found in a folder or glob
    (``walked``) and is what another source of the run writes: that file is
    an output of the run, not a source (``a.toon`` beside ``a.json``).

    A source counts only while it is one itself: a file written only by
    dropped files stays a source. Files that write each other (``b.md`` and
    ``b.toon``) are settled by the conversion to TOON: ``b.md`` is the source,
    ``b.toon`` its output (a generated twin is no source in the first place).
    """
    key = os.path.abspath
    found = {key(p) for p in walked}
    writers: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):
        if job.output != "-":
            writers.setdefault(key(job.output), []).append(i)

    def written_by(i: int) -> list[int]:
        job = jobs[i]
        if job.source == "-" or key(job.source) not in found:
            return []  # named on the command line: a source as given
        return [w for w in writers.get(key(job.source), []) if w != i]

    is_source: dict[int, bool] = {}
    undecided = list(range(len(jobs)))
    while undecided:
        before = len(undecided) + 1
        while len(undecided) < before:
            before, still = len(undecided), []
            for i in undecided:
                by = [is_source.get(w) for w in written_by(i)]
                if True in by:
                    is_source[i] = False
                elif None in by:
                    still.append(i)
                else:  # nothing writes it, or only files that are outputs
                    is_source[i] = True
            undecided = still
        if undecided:  # only files that write each other are left
            pick = next((i for i in undecided if jobs[i].target_format == _PREFERRED_TARGET),
                        undecided[0])
            is_source[pick] = True
            undecided.remove(pick)
    return [job for i, job in enumerate(jobs) if is_source[i]]


def check_outputs(jobs: Sequence[Job], force: bool) -> None:
    """Two sources never write one file, and with ``force`` no output replaces
    another source of the same run (the order of the two would decide)."""
    writer: dict[str, str] = {}
    for job in jobs:
        if job.output == "-":
            continue
        key = os.path.abspath(job.output)
        if key in writer:
            raise ToolError(f"{writer[key]} and {job.source} would both be written to "
                            f"{job.output}; use --out-dir, or convert them separately")
        writer[key] = job.source
    if force:
        for job in jobs:
            if job.source != "-" and os.path.abspath(job.source) in writer:
                raise ToolError(f"{job.source} is a source and also the output of "
                                f"{writer[os.path.abspath(job.source)]}; "
                                "convert them separately")


# -- running --------------------------------------------------------------------

def run(jobs_to_run: Sequence[Job], *, jobs: int | None = None, stdin: bytes | None = None,
        out_dir: str | None = None) -> Iterator[Outcome]:
    """The outcomes of ``jobs_to_run``, in order, as they come (in a process pool
    when the batch is big enough: the CONVERT workload of
    :mod:`toon_tools.parallel`).

    ``jobs`` is the number of worker processes (None: ``TOON_TOOLS_JOBS``, else
    the CPU count; 1: this process); a converter that spreads its own work (PDF
    pages) gets the same number. ``stdin`` is the input of the jobs whose source
    is ``-`` (required when there are any; they run in this process). ``out_dir`` is created first; OSError
    names it if it cannot be.
    """
    from ..parallel import CONVERT, imap_in_order

    if out_dir and jobs_to_run:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            raise OSError(e.errno, e.strerror, out_dir) from None
    workers = jobs
    if reads_stdin(jobs_to_run):
        if stdin is None:
            raise ValueError("a job reads stdin: pass its bytes as stdin=")
        for j in jobs_to_run:
            if j.source == "-":
                j.data = stdin
        workers = 1  # the caller read stdin; its job stays in this process
    return imap_in_order(partial(run_job, jobs=jobs), jobs_to_run, CONVERT, jobs=workers)


def reads_stdin(jobs_to_run: Sequence[Job]) -> bool:
    """Whether :func:`run` needs ``stdin`` for these jobs."""
    return any(j.source == "-" for j in jobs_to_run)


def run_job(job: Job, *, jobs: int | None = None) -> Outcome:
    """Convert one input (in a pool worker or in this process) and write its
    output unless that would replace something not ours. Never raises for bad
    input or I/O: the error is the outcome's. ``jobs`` is passed to the
    converter (see :class:`~toon_tools.convert.registry.Converter`)."""
    try:
        converter = lookup(job.source_format, job.target_format, jobs=jobs)
        if converter.input != BYTES:
            data = os.fsencode(job.source)
        elif job.data is not None:
            data = job.data
        else:
            with open(job.source, "rb") as fh:
                data = fh.read()
        text = converter.convert(data, job.name)
    except (ToolError, OSError) as e:
        return Outcome(job, e)
    except MemoryError:
        return Outcome(job, ToolError("out of memory", path=job.name))
    size = len(data) if converter.input == BYTES else 0
    out = text + "\n" if text else ""
    if job.output == "-":
        return Outcome(job, source_bytes=size, text=out)
    payload = out.encode("utf-8", "surrogateescape")
    try:
        verdict = may_write(job, payload, text)
        if verdict:
            atomic_write(job.output, payload)
    except Finding as e:
        return Outcome(job, e)
    except OSError as e:  # name the output, not a temporary file beside it
        return Outcome(job, OSError(e.errno, e.strerror, job.output))
    return Outcome(job, source_bytes=size, written=verdict)


def may_write(job: Job, payload: bytes, text: str) -> bool:
    """True to write ``payload`` to ``job.output``; False when the output already
    holds it (nothing to do). Raises a :class:`Finding` (:data:`NOT_OURS`) when
    the output exists and is not provably ours: without ``force``, only a twin
    whose header names this source is replaced. Something that is not a
    regular file (a directory, a symbolic link, even a dangling one, a FIFO) is
    never ours: it is left as it is, even with ``force``."""
    from ..files import not_a_regular_file

    try:
        kind = not_a_regular_file(job.output)
        if kind is not None:
            raise Finding(f"exists and is {kind}; toon-tools leaves it as it is",
                          path=job.output)
        with open(job.output, "rb") as fh:
            current = fh.read(max(len(payload) + 1, _HEAD))
    except FileNotFoundError:
        return True
    if current == payload:
        return False
    if job.force or twin_of_source(current, text, job):
        return True
    raise Finding(NOT_OURS, path=job.output)


def twin_of_source(current: bytes, text: str, job: Job) -> bool:
    """Whether ``current`` is a twin of ``job.source``: its header names the same
    source as the twin we are writing (``text``), or a path that leads from the
    output's folder to the source (as ``toon twins`` writes it)."""
    from .twin_render import named_source, read_marker

    ours = read_marker(text.split("\n", 1)[0])
    head = current.split(b"\n", 1)[0]
    theirs = read_marker(head.decode("utf-8", "surrogateescape"))
    if ours is None or theirs is None:
        return False
    if theirs[0] == ours[0]:
        return True
    named = named_source(Path(job.output), head)
    if job.source == "-" or named is None:
        return False
    try:
        return os.path.samefile(named, job.source)
    except OSError:
        return False
