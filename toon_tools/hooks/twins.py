"""Markdown twins of ``.toon`` files: where they live, whether they are current,
and which are orphans. No printing here; the CLI reports.

A twin's first line names its source relative to the twin's folder (see
:mod:`toon_tools.convert.twin_render`), so a twin whose source is gone is recognisable
from the twin alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..codec import ToonDecodeError, decode
from ..config import Config
from ..convert.twin_render import read_marker, to_markdown
from ..files import write_temp


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
    """The twin's text for ``data``, the content of ``source``."""
    return to_markdown(decode(data), marker_name(source, twin), data)


def source_of(twin: Path) -> Path | None:
    """The source a generated twin names, or None if ``twin`` is no twin."""
    try:
        with open(twin, "rb") as fh:
            first = fh.readline(4096).decode("utf-8", "replace")
    except OSError:
        return None
    found = read_marker(first)
    if found is None:
        return None
    return Path(os.path.normpath(twin.parent / found[0]))


@dataclass
class TwinResult:
    source: str
    twin: str
    # "current", "missing", "stale"; after writing "created", "updated";
    # errors: "invalid", "unreadable", "unwritable"
    state: str
    text: str | None = None  # the twin as it should be
    error: str | None = None
    temp: str | None = None  # written, waiting for files.commit_temps()


def examine(item: tuple[str, str], write: bool = False) -> TwinResult:
    """Compare one source's twin with what it should be; with ``write``, write it
    to a temporary file beside the twin (in pool workers, in parallel); the
    caller commits all of them with :func:`files.commit_temps`."""
    source, twin = item
    try:
        data = Path(source).read_bytes()
    except OSError as e:
        return TwinResult(source, twin, "unreadable", error=f"{source}: {e.strerror or e}")
    try:
        text = render(Path(source), Path(twin), data)
    except ToonDecodeError as e:
        return TwinResult(source, twin, "invalid", error=f"{source}:{e.line}:{e.column}: {e.msg}")
    try:
        current: str | None = Path(twin).read_text(encoding="utf-8")
        state = "current" if current == text else "stale"
    except FileNotFoundError:
        state = "missing"
    except (OSError, UnicodeDecodeError):
        state = "stale"
    if write and state != "current":
        try:
            Path(twin).parent.mkdir(parents=True, exist_ok=True)
            temp = write_temp(twin, text)
        except OSError as e:
            return TwinResult(source, twin, "unwritable", error=f"{twin}: {e.strerror or e}")
        return TwinResult(source, twin, "created" if state == "missing" else "updated", temp=temp)
    return TwinResult(source, twin, state, text)


def find_orphans(candidates: list[str]) -> list[str]:
    """Generated twins among ``candidates`` whose source no longer exists."""
    orphans = []
    for path in candidates:
        source = source_of(Path(path))
        if source is not None and not source.exists():
            orphans.append(path)
    return orphans


def plan(paths: list[str], cfg: Config) -> list[tuple[str, str]]:
    """(source, twin) for the sources among ``paths``; a twin given directly (for
    instance a hand-edited one) stands for its source."""
    pairs: dict[str, str] = {}
    for p in paths:
        if p.endswith(".toon"):
            source: Any = Path(p)
        else:
            source = source_of(Path(p))
            if source is None or not source.exists():
                continue
        src = os.path.relpath(source) if not os.path.isabs(p) else str(source)
        if cfg.excluded(src):
            continue
        pairs.setdefault(src, os.path.relpath(twin_path(Path(src), cfg))
                         if not os.path.isabs(src) else str(twin_path(Path(src), cfg)))
    return sorted(pairs.items())
