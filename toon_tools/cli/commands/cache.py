"""``toon cache info|clear|prune``: every kind of cache in toon-tools' cache
folder (``[tool.toon] cache-dir``): token counts in ``tokens/``, model replies in
``llm/``. Vocabularies (``vocab/``) are not a cache of answers and stay.

Each kind is handled on its own: one that cannot be read is a warning, the
others are still handled, and the command exits 2 at the end.

With a shared cache (``cache-url``), ``info`` shows it too, and ``clear
--shared`` empties our keys in it (``toon:v1:...``, never another
application's); its URL is always shown with the password redacted. Prune does
not reach it: ``cache-ttl`` expires its values.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from .._output import ERROR, OK, describe, escape, warning

if TYPE_CHECKING:
    from ...cache_upkeep import CacheInfo, Removed
    from ...remote_cache import SharedCache

T = TypeVar("T")

#: --kind value -> its label.
KINDS: Final = {"tokens": "token counts", "replies": "model replies"}

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION: Final = re.compile(r"([0-9]+)([smhdw])")


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """An integer and a unit, ``90m``, ``14d``, ``2w``: seconds."""
    m = _DURATION.fullmatch(value)
    if m is None:
        raise click.BadParameter(f"{value!r} is not a duration: an integer and one of "
                                 "s, m, h, d, w (90m, 14d, 2w)", ctx, param)
    return int(m[1]) * _UNITS[m[2]]


def _kinds(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """``--kind`` may be repeated or given a comma-separated list, like ruff's
    rule selections; none given means every kind."""
    chosen: set[str] = set()
    for value in values:
        for part in value.split(","):
            if part.strip() not in KINDS:
                raise click.BadParameter(
                    f"{part!r} is not a kind of cache: {', '.join(KINDS)}", ctx, param)
            chosen.add(part.strip())
    return [k for k in KINDS if k in chosen or not chosen]


_kind_option = click.option(
    "--kind", "kinds", multiple=True, callback=_kinds, metavar="tokens|replies",
    help="Only this kind of cache (repeat it, or separate kinds with commas). "
         "Default: every kind.")


def _cache_dir() -> Path:
    """The cache folder the config names; a bad config is main()'s one-line exit 2."""
    from ...config import load_config

    return load_config().cache_dir()


def _shared() -> SharedCache | None:
    """The shared level the settings name, or None."""
    from ...config import load_config
    from ...remote_cache import SharedCache

    cfg = load_config()
    url = cfg.cache_url()
    return SharedCache(url, int(cfg["cache-ttl"])) if url else None


def _duration_text(seconds: int) -> str:
    for unit, n in (("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds and seconds % n == 0:
            return f"{seconds // n}{unit}"
    return f"{seconds}s"


class _Outcome:
    """Runs each kind's step, reporting a kind's trouble as a warning and
    remembering it for the exit code."""

    def __init__(self) -> None:
        self.failed = False

    def run(self, kind: str, cache_dir: Path, step: Callable[[Any], T],
            absent: T) -> T | None:
        """``step`` on the kind's cache, ``absent`` when there is none on disk;
        None when the kind could not be handled (already reported)."""
        from ...errors import ToolError

        if kind == "tokens":
            from ...tokens.cache import TokenCache

            tokens = TokenCache(cache_dir / _folder(kind))
            try:
                result = step(tokens)
            finally:
                tokens.close()
            for problem in tokens.problems:
                warning(problem)
            if tokens.disabled:
                self.failed = True
                return None
            return result

        from ...pipeline.cache import DiskReplyCache

        try:
            replies = DiskReplyCache.existing_in(cache_dir)
            if replies is None:
                return absent
            try:
                return step(replies)
            finally:
                replies.close()
        except ToolError as e:
            warning(f"{KINDS[kind]}: {describe(e)}")
            self.failed = True
            return None

    def code(self) -> int:
        return ERROR if self.failed else OK


def size(n: int) -> str:
    """Bytes in binary units, one decimal: ``0 B``, ``12.3 KiB``, ``64.0 MiB``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def _limit(kind: str) -> int:
    if kind == "tokens":
        from ...tokens.cache import SIZE_LIMIT
    else:
        from ...pipeline.cache import SIZE_LIMIT
    return int(SIZE_LIMIT)


def _folder(kind: str) -> str:
    """The kind's folder in the cache folder, as its cache class names it."""
    if kind == "tokens":
        from ...tokens.cache import FOLDER
    else:
        from ...pipeline.cache import FOLDER
    return str(FOLDER)


@click.group()
def cache() -> None:
    """Inspect, empty or prune the caches of token counts and model replies."""


@cache.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
def info(as_json: bool) -> int:
    """Where the caches are; entries, size on disk and limit per kind.

    A kind that was never used shows no entries (its folder is not created).
    """
    from ...cache_upkeep import empty_info

    cache_dir = _cache_dir()
    outcome = _Outcome()
    found: dict[str, CacheInfo | None] = {}
    for kind in KINDS:
        absent = empty_info(cache_dir / _folder(kind), _limit(kind))
        found[kind] = outcome.run(kind, cache_dir, lambda c: c.info(), absent)
    level = _shared()
    shared = level.info() if level is not None else None
    if level is not None:
        level.close()
    if as_json:
        import json

        click.echo(json.dumps({"directory": str(cache_dir), "kinds": {
            kind: None if i is None else {k: i[k] for k in ("directory", "entries", "bytes",
                                                            "size_limit")}
            for kind, i in found.items()},
            "shared": None if shared is None or level is None else {
                **shared, "ttl": level.ttl}}, indent=2))
        return outcome.code()

    head = ("kind", "entries", "size", "limit", "folder")
    rows = [head]
    for kind, i in found.items():
        label, folder = KINDS[kind], _folder(kind)
        if i is None:
            rows.append((label, "-", "-", size(_limit(kind)), folder))
        else:
            rows.append((label, f"{i['entries']:,}", size(i["bytes"]), size(i["size_limit"]),
                         folder))
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    click.echo(f"cache folder: {escape(str(cache_dir))}")
    for r in rows:
        click.echo(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  "
                   f"{r[3]:>{widths[3]}}  {r[4]}")
    if shared is None or level is None:
        pass  # no shared cache configured: the table says it all ("shared": null in JSON)
    elif not shared["reachable"]:
        click.echo(f"shared cache: {escape(shared['url'])}: not reachable")
        warning(escape(shared["problem"] or "shared cache not reachable"))
        outcome.failed = True
    else:
        ttl = _duration_text(level.ttl) if level.ttl else "none"
        limit = size(shared["maxmemory"]) if shared["maxmemory"] else "no limit"
        more = "at least " if shared["bounded"] else ""
        click.echo(f"shared cache: {escape(shared['url'])}: {more}{shared['keys']:,} "
                   f"entr{'y' if shared['keys'] == 1 else 'ies'}, {size(shared['bytes'])} "
                   f"(expiry {ttl}); server memory {size(shared['used_memory'] or 0)} "
                   f"of {limit}")
    return outcome.code()


@cache.command()
@_kind_option
@click.option("--shared", is_flag=True,
              help="Also remove these kinds from the shared cache (cache-url): only "
                   "toon-tools' keys, for everyone who shares it.")
def clear(kinds: list[str], shared: bool) -> int:
    """Remove every cached entry, of every kind unless --kind says which.

    Entries are removed through the cache itself, so a pipeline run or a hook
    using it meanwhile is safe. Vocabularies stay. The shared cache is left
    alone unless --shared is given.
    """
    cache_dir = _cache_dir()
    outcome = _Outcome()
    for kind in kinds:
        removed = outcome.run(kind, cache_dir, lambda c: int(c.clear()), 0)
        if removed is not None:
            click.echo(f"{KINDS[kind]}: removed {removed:,} "
                       f"entr{'y' if removed == 1 else 'ies'}")
    if shared:
        from ...remote_cache import REPLIES, TOKENS

        level = _shared()
        if level is None:
            warning("no shared cache to clear: set cache-url or TOON_CACHE_URL")
            return ERROR
        prefixes = [TOKENS if kind == "tokens" else REPLIES for kind in kinds]
        removed = level.clear(prefixes)
        level.close()
        if level.problem is not None:
            warning(escape(level.problem.replace("; going on with the local cache only", "")))
            return ERROR
        click.echo(f"shared cache {escape(level.shown)}: removed {removed:,} "
                   f"entr{'y' if removed == 1 else 'ies'}")
    return outcome.code()


@cache.command()
@click.option("--older-than", "older_than", callback=_duration, required=True,
              metavar="DURATION", help="Remove entries stored longer ago than this: "
              "an integer and s, m, h, d or w (90m, 14d, 2w).")
@_kind_option
def prune(older_than: int, kinds: list[str]) -> int:
    """Remove the entries stored longer ago than --older-than.

    The age counts from when an entry was stored, not from when it was last
    read. Safe while a pipeline run or a hook uses the cache.
    """
    from ...cache_upkeep import Removed

    cache_dir = _cache_dir()
    cutoff = time.time() - older_than
    outcome = _Outcome()
    for kind in kinds:
        removed: Removed | None = outcome.run(kind, cache_dir, lambda c: c.prune(cutoff),
                                              Removed(0, 0))
        if removed is not None:
            click.echo(f"{KINDS[kind]}: removed {removed.entries:,} "
                       f"entr{'y' if removed.entries == 1 else 'ies'}, "
                       f"{size(removed.bytes)} freed")
    return outcome.code()
