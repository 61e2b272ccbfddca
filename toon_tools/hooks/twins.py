"""Markdown twins of ``.toon`` files: where they live, whether they are current,
whether a file in a twin's place is ours to replace, and which twins are
orphans. No printing here; the CLI reports.

A twin's first line names its source relative to the twin's folder (see
:mod:`toon_tools.convert.twin_render`), so a twin whose source is gone is
recognisable from the twin alone.

What toon-tools never does: replace or delete a file it did not write. A file
in a twin's place is replaced only if it is missing or its first line is a twin
header naming this source (or a source that no longer exists: the twin of a
renamed file); anything else is a conflict, reported, and left byte-identical.
What is not a regular file (a symbolic link, dangling or not, a folder, a FIFO)
is never ours: it is neither followed nor read. Orphan removal deletes only
regular files whose first line is the header.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath

from ..codec import decode
from ..config import Config
from ..convert.twin_render import named_source, to_markdown
from ..errors import Finding, ToolError
from ..files import commit_temps, expand_paths, not_a_regular_file, write_temp

#: A twin header is one line; a file name (PATH_MAX 4096 bytes) escaped in it
#: stays well below this.
_HEAD_BYTES = 64 * 1024


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return path.as_posix()


def twin_path(source: Path, cfg: Config) -> Path:
    """``name.toon`` -> ``name.md`` beside it, or the same relative path under the
    mirror folder (``twins.location = "mirror"``)."""
    suffix: str = cfg["twins.suffix"]
    if cfg["twins.location"] == "beside":
        return source.with_name(source.name[: -len(".toon")] + suffix
                                if source.name.endswith(".toon") else source.name + suffix)
    rel = PurePosixPath(_relative(source, cfg.root))
    name = rel.name[: -len(".toon")] if rel.name.endswith(".toon") else rel.name
    mirror: str = cfg["twins.dir"]
    return cfg.root / mirror / rel.parent / (name + suffix)


def marker_name(source: Path, twin: Path) -> str:
    return PurePosixPath(os.path.relpath(os.path.abspath(source),
                                         os.path.abspath(twin.parent))).as_posix()


def render(source: Path, twin: Path, data: bytes) -> str:
    """The twin's text for ``data``, the content of ``source``; ToonDecodeError
    (a :class:`Finding`) if ``data`` is not a valid document."""
    return to_markdown(decode(data), marker_name(source, twin), data)


def first_line(path: Path) -> bytes | None:
    """The first line of ``path`` (bounded), or None if there is no such file.
    OSError for anything else (a folder, no permission)."""
    try:
        with open(path, "rb") as fh:
            return fh.readline(_HEAD_BYTES)
    except FileNotFoundError:
        return None


def not_regular(source: str, twin: str) -> Finding | None:
    """Why what is at ``twin`` is not ours, if it is not a regular file (a link is
    not followed: a symbolic link, dangling or not, is someone's); None if it is a
    regular file or nothing is there. OSError if ``twin`` cannot be looked at."""
    what = not_a_regular_file(twin)
    if what is None:
        return None
    return Finding(f"is {what}, not a twin of {source}; rename it or set twins.suffix",
                   path=twin)


def is_regular(path: Path) -> bool:
    """``path`` is a regular file, not a link to one."""
    try:
        return os.path.lexists(path) and not_a_regular_file(path) is None
    except OSError:
        return False


def source_of(twin: Path) -> Path | None:
    """The source a generated twin names, or None if ``twin`` is no twin (what is
    not a regular file never is)."""
    if not is_regular(twin):
        return None
    try:
        head = first_line(twin)
    except OSError:
        return None
    return None if head is None else named_source(twin, head)


def _same_file(a: Path, b: Path) -> bool:
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def conflict(source: str, twin: str, head: bytes | None) -> Finding | None:
    """Why the file at ``twin`` (whose first line is ``head``, None if absent)
    must not be replaced by the twin of ``source``; None if it may be.

    It may be when it is missing, or it is a twin of ``source``, or a twin of a
    source that is gone (a renamed source takes its twin along). A hand-written
    file, or the twin of another existing source, is not ours to replace.
    """
    if head is None:
        return None
    named = named_source(Path(twin), head)
    if named is None:
        return Finding(f"exists and is not a twin of {source}; rename it or set twins.suffix",
                       path=twin)
    if _same_file(named, Path(source)) or not named.exists():
        return None
    other = os.path.relpath(named) if not os.path.isabs(source) else str(named)
    return Finding(f"is the twin of {other}, not of {source}; rename it or set twins.suffix",
                   path=twin)


@dataclass
class TwinResult:
    source: str
    twin: str
    # "current", "missing", "stale"; after writing "created", "updated";
    # problems: "invalid" (the source), "conflict" (a file we did not write is
    # in the twin's place), "unreadable", "unwritable"
    state: str
    text: str | None = None  # the twin as it should be
    problem: ToolError | None = None
    temp: str | None = None  # written, waiting for files.commit_temps()
    source_text: str | None = None  # an invalid source, for the caret under the position


def examine(item: tuple[str, str], write: bool = False) -> TwinResult:
    """Compare one source's twin with what it should be; with ``write``, write it
    to a temporary file beside the twin (in pool workers, in parallel); the
    caller commits all of them with :func:`files.commit_temps`."""
    source, twin = item
    try:
        data = Path(source).read_bytes()
    except OSError as e:
        return TwinResult(source, twin, "unreadable",
                          problem=ToolError(e.strerror or str(e), path=source))
    try:
        text = render(Path(source), Path(twin), data)
    except Finding as e:  # ToonDecodeError
        return TwinResult(source, twin, "invalid",
                          problem=Finding(e.message, path=source, line=e.line, column=e.column),
                          source_text=data.decode("utf-8", "replace"))
    existing: bytes | None
    try:
        found = not_regular(source, twin)
        if found is not None:
            return TwinResult(source, twin, "conflict", problem=found)
        existing = Path(twin).read_bytes()
    except FileNotFoundError:
        existing = None
    except OSError as e:
        return TwinResult(source, twin, "unreadable",
                          problem=ToolError(e.strerror or str(e), path=twin))
    head = None if existing is None else existing.split(b"\n", 1)[0]
    found = conflict(source, twin, head)
    if found is not None:
        return TwinResult(source, twin, "conflict", problem=found)
    if existing is None:
        state = "missing"
    else:
        state = "current" if existing == text.encode() else "stale"
    if write and state != "current":
        try:
            Path(twin).parent.mkdir(parents=True, exist_ok=True)
            temp = write_temp(twin, text)
        except OSError as e:
            return TwinResult(source, twin, "unwritable",
                              problem=ToolError(e.strerror or str(e), path=twin))
        return TwinResult(source, twin, "created" if state == "missing" else "updated", temp=temp)
    return TwinResult(source, twin, state, text)


def find_orphans(candidates: Sequence[str]) -> list[str]:
    """Generated twins among ``candidates`` whose source no longer exists (a file
    without the header is never one)."""
    orphans = []
    for path in candidates:
        source = source_of(Path(path))
        if source is not None and not source.exists():
            orphans.append(path)
    return orphans


def plan(paths: Sequence[str], cfg: Config, force_exclude: bool = False) -> list[tuple[str, str]]:
    """(source, twin) for the sources among ``paths``; a twin given directly (for
    instance a hand-edited one) stands for its source. ``exclude`` drops files
    named in ``paths`` only with ``force_exclude`` (the hooks' convention)."""
    pairs: dict[str, str] = {}
    for p in paths:
        if p.endswith(".toon"):
            source = Path(p)
        else:
            named = source_of(Path(p))
            if named is None or not named.exists():
                continue
            source = named
            if force_exclude and cfg.excluded(source):
                continue
        src = os.path.relpath(source) if not os.path.isabs(p) else str(source)
        pairs.setdefault(src, os.path.relpath(twin_path(Path(src), cfg))
                         if not os.path.isabs(src) else str(twin_path(Path(src), cfg)))
    return sorted(pairs.items())


def known(root: Path, suffix: str) -> list[str]:
    """Files with ``suffix`` that git knows below ``root`` (tracked, or untracked
    and not ignored), relative to the working folder; [] outside a repository."""
    from .git import GitError, known_files

    try:
        rels = known_files(root, f"*{suffix}")
    except GitError:
        return []
    return [os.path.relpath(root / p) for p in rels if (root / p).is_file()]


@dataclass
class TwinsRun:
    """What :func:`update` found and did."""

    results: list[TwinResult] = field(default_factory=list)
    #: Orphaned twins: removed, or (``check``) found.
    orphans: list[str] = field(default_factory=list)
    #: Orphans that could not be removed.
    problems: list[ToolError] = field(default_factory=list)


def update(files: Sequence[str], cfg: Config, *, root: Path, check: bool = False,
           every: bool = False, force_exclude: bool = False) -> TwinsRun:
    """Bring the twins of ``files`` (sources, twins standing for their source,
    folders searched for ``.toon`` files) up to date, and remove orphaned twins
    found anywhere git knows below ``root``. With ``check`` nothing is written.

    ``every`` adds every ``.toon`` file git knows. ``exclude`` drops what folder
    walks and ``every`` find, and files named in ``files`` with ``force_exclude``;
    orphans it covers are left alone. Raises ToolError if the twins, once
    rendered, cannot be put in place.
    """
    from ..parallel import TWINS, map_in_order

    paths = list(expand_paths(files, (".toon",), excluded=cfg.excluded,
                              force_exclude=force_exclude))
    if every:
        paths += [p for p in known(root, ".toon") if not cfg.excluded(p)]
    pairs = plan(paths, cfg, force_exclude=force_exclude)
    run = TwinsRun(map_in_order(partial(examine, write=not check), pairs, TWINS))
    temps = [(r.temp, r.twin) for r in run.results if r.temp is not None]
    try:
        commit_temps(temps)
    except OSError as e:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise ToolError(f"writing twins failed: {e.strerror or e}", path=e.filename) from None
    candidates = [p for p in known(root, cfg["twins.suffix"]) if not cfg.excluded(p)]
    for orphan in find_orphans(candidates):
        if not check:
            try:
                os.unlink(orphan)
            except OSError as e:
                run.problems.append(ToolError(e.strerror or str(e), path=orphan))
                continue
        run.orphans.append(orphan)
    return run
