"""The configuration as a commit sees it, for both hook routes.

The pre-commit framework stashes unstaged changes before its hooks run, so its
``toon check`` reads the configuration file as the index holds it. The
standalone hook reads it the same way (:func:`staged_config`), or the two routes
would judge one commit by two different ``[tool.toon.schemas]`` tables.

A staged configuration file re-checks every file its table maps only when the
table differs from HEAD's (:func:`schemas_changed`): a version bump in
pyproject.toml re-checks nothing, on either route.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config, Reader

#: Reads some files (paths relative to the repository) from git: path -> bytes.
_Fetch = Callable[[Path, list[str]], dict[str, bytes]]

#: The names :func:`~toon_tools.config.find_config_file` looks for in a folder.
_NAMES = (".toon.toml", "pyproject.toml")


def _disk(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None  # load_config then looks further up, as for a missing file


def _reader(root: Path, fetch: _Fetch, fallback_to_disk: bool) -> Reader:
    """A :data:`~toon_tools.config.Reader` that reads files inside ``root``
    through ``fetch`` (both config names of a folder in one git process), and
    the disk outside it (a config file above the repository is nobody's commit).
    Inside, a file ``fetch`` lacks is read from the disk with
    ``fallback_to_disk`` (an untracked file, which the framework's stash leaves
    in place), else it is missing."""
    top = Path(os.path.realpath(root))
    cache: dict[str, bytes | None] = {}

    def read(path: Path) -> bytes | None:
        rel = os.path.relpath(os.path.realpath(path.parent), top)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return _disk(path)
        rel = path.name if rel == os.curdir else f"{Path(rel).as_posix()}/{path.name}"
        if rel not in cache:
            folder = rel.rpartition("/")[0]
            names = [f"{folder}/{n}" if folder else n for n in _NAMES]
            if rel not in names:
                names.append(rel)
            found = fetch(top, names)
            for n in names:
                cache[n] = found.get(n)
        data = cache[rel]
        if data is None and fallback_to_disk:
            return _disk(path)
        return data

    return read


def _index(root: Path, rels: list[str]) -> dict[str, bytes]:
    from .git import index_blobs

    return index_blobs(root, rels, missing_ok=True)


def _head(root: Path, rels: list[str]) -> dict[str, bytes]:
    """HEAD's blobs of ``rels`` (one ``cat-file --batch``); a path HEAD lacks, or
    holds as a folder, is left out. Config names hold no newline."""
    from .git import git

    out = git(root, "cat-file", "--batch",
              input="".join(f"HEAD:{r}\n" for r in rels).encode("utf-8", "surrogateescape"))
    blobs: dict[str, bytes] = {}
    pos = 0
    for rel in rels:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "missing", "ambiguous"
            continue
        size = int(header[2])
        if header[1] == b"blob":
            blobs[rel] = out[pos:pos + size]
        pos += size + 1
    return blobs


def staged_config(root: Path) -> Config:
    """The configuration of the repository ``root`` as the index holds it (an
    untracked config file from the work tree): what the framework's route reads
    once pre-commit has stashed the unstaged changes. ConfigError (exit 2) if it
    is invalid."""
    from ..config import load_config

    return load_config(root, read=_reader(root, _index, fallback_to_disk=True))


def schemas_changed(start: Path, cfg: Config) -> bool:
    """Whether ``cfg``'s ``[tool.toon.schemas]`` table (its patterns in their
    order, since the last match wins, and the folder they are relative to)
    differs from the one HEAD's configuration gives, found from ``start`` the
    same way. True outside a git repository, before the first commit, and when
    HEAD's configuration cannot be read: then every mapped file is re-checked."""
    from ..config import ConfigError, load_config
    from .git import GitError, head_tree, toplevel

    try:
        root = toplevel(start)
        if head_tree(root) is None:
            return True
        committed = load_config(start, env={},
                                read=_reader(root, _head, fallback_to_disk=False))
    except (GitError, ConfigError):
        return True
    now, then = list(cfg["schemas"].items()), list(committed["schemas"].items())
    if not now and not then:
        return False
    return now != then or os.path.realpath(cfg.root) != os.path.realpath(committed.root)
