"""``--watch`` for ``toon check`` and ``toon twins`` (issue 14): run the command
once as usual, then again, in this process, on the ``.toon`` files each save
changes, until Ctrl-C (or SIGTERM); then exit 0.

What a save re-runs is what the command would find if it walked the watched
folders (:func:`toon_tools.files.expand_paths`): ``.toon`` files outside linked, hidden
and SKIP_DIRS folders that ``[tool.toon] exclude`` does not cover, and the
files named on the command line. Editors' side files (vim's ``4913``, swap
files, ``~`` backups, temporary names renamed over the target) are never
``.toon`` files, so only the renamed-to target counts. For ``twins``, a changed
twin counts as ``toon twins twin.md`` would take it (it stands for its source)
unless it is current: the twins a run writes are current, so they never start
another run. A deleted source re-runs ``twins`` so its orphaned twin goes.

Events come from watchfiles (notify: inotify, FSEvents...). Its debounce is
1.6 s by default; here a run starts once the files have been quiet for
``STEP_MS`` (25 ms), or ``DEBOUNCE_MS`` (100 ms) after the first change of a continuous
burst: well within the 200 ms the issue asks for. Folders are watched
recursively and named files through their folder (an atomic save replaces the
file's inode, which a watch on the file itself would lose). A watched folder
that is deleted, or deleted and made again (``git checkout``, ``rm -rf out &&
mkdir out``), is noticed by its identity (device, inode), checked every
``POLL_S``: the watch is re-armed, and a folder that comes back is run whole.
"""

from __future__ import annotations

import functools
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..config import Config

#: watchfiles groups changes until none came for STEP_MS, at most DEBOUNCE_MS.
STEP_MS = 25
DEBOUNCE_MS = 100
#: How often the watched folders' identities are checked (and the most the
#: watcher threads wait before they look at their stop event).
POLL_S = 0.2
#: watchfiles.Change.deleted (not imported: watchfiles loads only with --watch).
DELETED = 3
INSTALL_HINT = "--watch needs watchfiles: pip install 'toon-tools[watch]'"
#: Changed files named in a run's header before "and N more".
_NAMED = 5


def watch_option(command: Callable[..., int]) -> Callable[..., int]:
    """Add ``--watch`` to a command that takes FILES... and returns an exit code."""

    @functools.wraps(command)
    def run(*args: Any, watch: bool, **kwargs: Any) -> int:
        if not watch:
            return command(*args, **kwargs)
        return watch_command(command, kwargs)

    return click.option("--watch", is_flag=True,
                        help="Keep running: run again on the .toon files each save "
                             "changes, until Ctrl-C (then exit 0). With --format json or "
                             "sarif each run prints its document on one line (JSON Lines); "
                             "github prints each run's commands. Not with stdin.")(run)


def _import_watchfiles() -> ModuleType:
    from ..errors import ToolError

    try:
        import watchfiles
    except ImportError:
        raise ToolError(INSTALL_HINT) from None
    return watchfiles


#: A watched folder's device and inode, and whether the root is a folder; None
#: when nothing can be watched for it.
_Identity = tuple[int, int, bool] | None


@dataclass
class _Root:
    """One watched FILE or folder, as the user named it."""

    given: str
    path: str  # absolute

    def is_dir(self) -> bool:
        return os.path.isdir(self.path)

    def watched(self) -> tuple[str, bool] | None:
        """(what to watch, recursively?): a folder itself; a file (or what is not
        there yet) through its folder; None if that folder is missing too."""
        if self.is_dir():
            return self.path, True
        parent = os.path.dirname(self.path)
        return (parent, False) if os.path.isdir(parent) else None

    def identity(self) -> _Identity:
        """What must not change under a live watch: the watched folder's device
        and inode, and whether the root itself is a folder."""
        target = self.watched()
        if target is None:
            return None
        try:
            st = os.stat(target[0])
        except OSError:
            return None
        return st.st_dev, st.st_ino, self.is_dir()

    def shown(self, path: str) -> str:
        """``path`` (absolute, below this root) as the command would name it."""
        return path if os.path.isabs(self.given) else os.path.relpath(path)


class _Watchers:
    """One watchfiles thread per kind of watch (recursive folders; folders of
    named files), feeding one queue. A thread puts ``ARMED`` once its watch is
    live, then each set of changes, or the exception that ended it."""

    ARMED = "armed"

    def __init__(self, watchfiles: ModuleType, roots: list[_Root]) -> None:
        self.queue: queue.Queue[object] = queue.Queue()
        self.stop = threading.Event()
        groups: dict[bool, set[str]] = {}
        for root in roots:
            target = root.watched()
            if target is not None:
                groups.setdefault(target[1], set()).add(target[0])
        #: The folders watched: the deletion of one ends this watch.
        self.folders = set().union(*groups.values())
        self.threads = [threading.Thread(target=self._work, daemon=True,
                                         args=(watchfiles, sorted(paths), recursive))
                        for recursive, paths in groups.items()]
        for t in self.threads:
            t.start()
        for _ in self.threads:  # wait until every watch is live
            item = self.queue.get()
            if item != self.ARMED:
                self.queue.put(item)

    def _work(self, watchfiles: ModuleType, paths: list[str], recursive: bool) -> None:
        armed = False
        try:
            for changes in watchfiles.watch(
                    *paths, watch_filter=None, debounce=DEBOUNCE_MS, step=STEP_MS,
                    stop_event=self.stop, rust_timeout=int(POLL_S * 1000),
                    yield_on_timeout=True, raise_interrupt=False, recursive=recursive):
                if not armed:
                    armed = True
                    self.queue.put(self.ARMED)
                if changes:
                    self.queue.put(changes)
        except Exception as e:  # noqa: BLE001 - a folder gone before arming, a rust error
            if not armed:
                self.queue.put(self.ARMED)
            self.queue.put(e)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=2)


class _Session:
    """Runs the command on what changed; knows which files count."""

    def __init__(self, command: Callable[..., int], kwargs: dict[str, Any],
                 roots: list[_Root]) -> None:
        self.command = command
        self.kwargs = kwargs
        self.roots = roots
        self.twins = command.__name__ == "twins"
        self.force_exclude = bool(kwargs.get("force_exclude"))

    # -- running ----------------------------------------------------------------

    def run(self, files: Iterable[str], header: str, first: bool = False) -> int:
        """One run, after a header on stderr. Later runs survive every error the
        command reports (exit 1 or 2): the next save may fix it."""
        from ..errors import ToolError
        from ._output import ERROR, describe, error

        click.echo(f"[{time.strftime('%H:%M:%S')}] {header}", err=True)
        args = dict(self.kwargs, files=tuple(files))
        if not first:
            # A re-run is about the saved files: not every file git knows, not
            # the files the index deletes.
            for flag in ("every", "git_deleted"):
                if flag in args:
                    args[flag] = False
        try:
            return self.command(**args)
        except click.ClickException as e:
            if first:
                raise  # a usage error: fixed only by running another command
            e.show()
            return e.exit_code
        except (ToolError, OSError) as e:
            error(describe(e))
            return getattr(e, "exit_code", ERROR)

    # -- which changes count ----------------------------------------------------

    def select(self, changes: Iterable[tuple[int, str]]) -> tuple[list[str], list[str]]:
        """(changed files to run on, deleted ones), as the command names them."""
        from ..config import ConfigError, load_config
        from ._output import describe, error

        try:
            cfg = load_config()
        except ConfigError as e:
            error(describe(e))
            return [], []
        changed: dict[str, None] = {}
        deleted: dict[str, None] = {}
        for _, path in sorted(changes, key=lambda c: c[1]):
            shown = self._shown_if_counts(path, cfg)
            if shown is None:
                continue
            if os.path.isfile(path):
                if not self.twins or path.endswith(".toon") or not self._current_twin(shown, cfg):
                    changed[shown] = None
            elif not os.path.lexists(path) and path.endswith(".toon"):
                deleted[shown] = None
        return list(changed), list(deleted)

    def _shown_if_counts(self, path: str, cfg: Config) -> str | None:
        from ..files import SKIP_DIRS

        for root in self.roots:
            if path == root.path:
                if self.force_exclude and cfg.excluded(path):
                    return None
                return root.given
            if not path.startswith(root.path.rstrip(os.sep) + os.sep):
                continue  # (below it: the root is a folder, or was until deleted)
            folders = os.path.relpath(path, root.path).split(os.sep)[:-1]
            if any(f in SKIP_DIRS or f.startswith(".") for f in folders):
                return None
            if any(os.path.islink(os.path.join(root.path, *folders[:i + 1]))
                   for i in range(len(folders))):
                return None  # the walk does not follow a linked folder; notify does
            suffixes = (".toon", cfg["twins.suffix"]) if self.twins else (".toon",)
            if not path.endswith(suffixes) or cfg.excluded(path):
                return None
            return root.shown(path)
        return None

    @staticmethod
    def _current_twin(path: str, cfg: Config) -> bool:
        """A twin that is what its source makes (written by the last run, or not
        changed at all), or no twin: nothing to do. ``toon twins twin.md``
        regenerates a hand-edited twin from its source; so does a save."""
        from ..hooks.twins import examine, plan

        pairs = plan([path], cfg)
        return not pairs or all(examine(pair).state == "current" for pair in pairs)


def _names(paths: list[str]) -> str:
    from ._output import escape

    shown = ", ".join(escape(p) for p in paths[:_NAMED])
    return shown + (f" and {len(paths) - _NAMED} more" if len(paths) > _NAMED else "")


def _default_root() -> str:
    """Where ``toon twins`` works without FILES: the git work tree, else here."""
    from pathlib import Path

    from ..hooks.git import GitError, toplevel

    try:
        return os.path.relpath(toplevel(Path.cwd()))
    except GitError:
        return "."


def watch_command(command: Callable[..., int], kwargs: dict[str, Any]) -> int:
    """Run ``command`` once, then again on every save, until Ctrl-C or SIGTERM:
    exit 0 then, whatever the runs found (each run's findings are printed; watch
    mode is for a terminal beside the editor, not for CI)."""
    if kwargs.get("stage"):
        raise click.UsageError("--watch cannot be used with --add.")
    if "-" in (kwargs.get("files") or ()) or kwargs.get("stdin_filename") is not None:
        # stdin is read once: there is no save to wait for.
        raise click.UsageError("--watch cannot be used with stdin ('-' or --stdin-filename).")
    watchfiles = _import_watchfiles()
    given = list(kwargs.get("files") or ()) or [_default_root()]
    roots = [_Root(g, os.path.abspath(g)) for g in dict.fromkeys(given)]
    session = _Session(command, kwargs, roots)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    from ._diagnostics import ONE_LINE

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    one_line = ONE_LINE.set(True)  # --format json|sarif: a document per run, one a line
    watchers: _Watchers | None = None
    try:
        session.run(kwargs.get("files") or (), "first run", first=True)
        where = _names([r.given for r in roots])
        before: list[_Identity] | None = None
        gone: set[str] = set()
        while True:
            identities = [r.identity() for r in roots]
            watchers = _Watchers(watchfiles, roots)
            click.echo(f"[{time.strftime('%H:%M:%S')}] watching {where} for changes "
                       "(Ctrl-C to stop)", err=True)
            if before is not None:
                # A folder that came back is run whole once watched again: what
                # was written in it meanwhile is in it.
                came_back = [r.given for r, old, new in zip(roots, before, identities)
                             if new is not None and new[2] and (new != old or r.path in gone)]
                if came_back:
                    session.run(came_back, f"made again: {_names(came_back)}")
            gone = _watch(session, watchers, identities)
            watchers.close()
            watchers = None
            before = identities
    except KeyboardInterrupt:
        click.echo(f"[{time.strftime('%H:%M:%S')}] stopped watching", err=True)
    finally:
        if watchers is not None:
            watchers.close()
        signal.signal(signal.SIGTERM, previous)
        ONE_LINE.reset(one_line)
    return 0


def _watch(session: _Session, watchers: _Watchers, identities: list[_Identity]) -> set[str]:
    """Run on each batch of changes until a watched folder is deleted or changes
    identity (or a watch fails): then return the watched folders deleted (a
    folder made again at once may get the same inode: only the event tells),
    and the caller re-arms."""
    while True:
        try:
            item = watchers.queue.get(timeout=POLL_S)
        except queue.Empty:
            item = None
        changes: set[tuple[int, str]] = set()
        broken = isinstance(item, BaseException)
        while isinstance(item, set):
            changes |= item  # everything queued while the last run ran: one run
            try:
                item = watchers.queue.get_nowait()
            except queue.Empty:
                item = None
            broken = broken or isinstance(item, BaseException)
        if changes:
            changed, deleted = session.select(changes)
            parts = [f"changed: {_names(changed)}"] * bool(changed) + \
                    [f"deleted: {_names(deleted)}"] * bool(deleted)
            if changed or (deleted and session.twins):
                session.run(changed, "; ".join(parts))
            elif deleted:
                click.echo(f"[{time.strftime('%H:%M:%S')}] {parts[0]} (nothing to check)",
                           err=True)
        gone = {path for change, path in changes if change == DELETED and path in watchers.folders}
        if gone or [r.identity() for r in session.roots] != identities:
            return gone
        if broken:
            time.sleep(POLL_S)  # a watch that failed: try again, not in a tight loop
            return gone
