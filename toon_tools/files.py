"""File plumbing shared by every command: safe writes and finding files.

Nothing here prints; callers turn OSError into messages.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: Folders never searched when a directory is given on the command line.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__",
                       ".tox", ".mypy_cache", ".pytest_cache"})


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace ``path`` with ``data`` all at once: write a temporary file beside it,
    then rename, so a crash or a full disk never leaves a half-written file.

    An existing file keeps its permission bits; a read-only one is refused
    (``PermissionError``) rather than silently replaced.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, binary=True) as fh:
        fh.write(payload)


@contextmanager
def atomic_writer(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file (UTF-8 text, or bytes) that replaces ``path`` when the block ends
    without an exception, by :func:`atomic_write`'s rules, for output written a
    piece at a time; on an exception ``path`` is untouched and the temporary file
    gone. An ``OSError`` from making, finishing or renaming the file names
    ``path``, never the temporary file beside it."""
    import tempfile

    target = Path(path)
    try:
        mode = _replaceable_mode(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                   dir=target.parent or ".")
    except OSError as e:
        raise _naming(e, path) from None
    fh: IO[Any] = (open(fd, "wb") if binary  # noqa: SIM115
                   else open(fd, "w", encoding="utf-8", newline=""))
    try:
        yield fh  # the block's own errors pass as they are: it knows what it was doing
        try:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as e:
            raise _naming(e, path) from None
    except BaseException:
        try:
            fh.close()
        except OSError:
            pass
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _replaceable_mode(target: Path) -> int | None:
    """The permission bits an existing ``target`` keeps when replaced (None: there
    is no file yet); ``PermissionError`` for a read-only one."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    # Mode bits as well as access(): root may write anything, but a file
    # marked read-only was marked so on purpose.
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise PermissionError(13, "Permission denied (file is read-only)", str(target))
    return st.st_mode & 0o7777


def _naming(e: OSError, path: str | os.PathLike[str]) -> OSError:
    """``e`` about ``path`` (the file the user named), not a temporary file."""
    if e.filename == os.fspath(path):
        return e
    return type(e)(e.errno, e.strerror, os.fspath(path))


def not_a_regular_file(path: str | os.PathLike[str]) -> str | None:
    """What is at ``path`` if it is not a regular file: "a symbolic link" (dangling
    or not: a link is never followed), "a folder" or "a special file"; None for a
    regular file or nothing at all. Nothing but a regular file is ever replaced by
    toon-tools. OSError if ``path`` cannot be looked at."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return None
    return ("a symbolic link" if stat.S_ISLNK(mode) else
            "a folder" if stat.S_ISDIR(mode) else "a special file")


def write_temp(path: str | os.PathLike[str], data: str | bytes) -> str:
    """First half of an atomic write, for batches: the data in a temporary file
    beside ``path``, not yet durable. :func:`commit_temps` finishes the batch."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    global _temp_serial
    _temp_serial += 1
    # pid + counter is unique per process; O_EXCL refuses anything left behind.
    tmp = str(target.with_name(f".{target.name}.{os.getpid()}.{_temp_serial}.tmp"))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            pass
        else:
            os.chmod(tmp, mode)  # an existing file keeps its permission bits
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


_temp_serial = 0


def commit_temps(pairs: list[tuple[str, str]]) -> None:
    """Second half: make every temporary file durable with one sync (instead of
    one fsync per file), then rename each over its target."""
    if not pairs:
        return
    if hasattr(os, "sync"):
        os.sync()
    else:  # pragma: no cover - platforms without sync(2)
        for tmp, _ in pairs:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
    for tmp, target in pairs:
        os.replace(tmp, target)


def expand_paths(paths: Iterable[str], suffixes: tuple[str, ...] = (".toon",), *,
                 excluded: Callable[[str], bool] | None = None,
                 force_exclude: bool = False) -> Iterator[str]:
    """Files as given, and files with ``suffixes`` found below any directory given.

    Explicit files are yielded whatever their suffix (the user asked for them);
    directory walks are sorted so output order is stable. ``excluded`` (usually
    ``Config.excluded``) drops files found in folders, and explicit files too
    with ``force_exclude``: the hook routes' convention (ruff's
    ``--force-exclude``), because pre-commit names every file explicitly.
    """
    for p in paths:
        if os.path.isdir(p):
            found = (f for f in _walk_tree(p) if f.endswith(suffixes))
            yield from (f for f in found if excluded is None or not excluded(f))
        elif not (force_exclude and excluded is not None and excluded(p)):
            yield p


def walk_folder(folder: str) -> list[str]:
    """Every file below ``folder``, sorted. Inside a git work tree this is what
    git would track (tracked plus untracked files not ignored by .gitignore);
    elsewhere, everything but SKIP_DIRS and hidden folders."""
    listed = _git_files(folder)
    return listed if listed is not None else list(_walk_tree(folder))


def _walk_tree(folder: str) -> Iterator[str]:
    """Files below ``folder`` in sorted order, skipping SKIP_DIRS and hidden folders."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        yield from (os.path.join(root, name) for name in sorted(files))


def _git_files(folder: str) -> list[str] | None:
    from .hooks.git import GitError, git

    try:
        out = git(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except GitError:
        return None  # not a git work tree (or no git): walk instead
    names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    paths = (os.path.join(folder, n) for n in sorted(set(names)))
    return [p for p in paths if os.path.isfile(p)]  # tracked but deleted files drop out
