"""Every git call toon-tools makes goes through :func:`git`: one runner, one
timeout, one error type. The operations here each take one git process for any
number of files; paths are passed NUL-separated, so any file name works."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ..errors import ToolError

#: No git call here should take long; one that hangs (a credential prompt, a
#: lock) must not hang a commit forever.
TIMEOUT: Final = 300.0


class GitError(ToolError):
    """git is missing, the folder is not a repository, or a git command failed (exit 2)."""


def git(repo: str | os.PathLike[str], *args: str, input: bytes | None = None,
        timeout: float = TIMEOUT) -> bytes:
    """Run ``git -C repo ARGS`` and return its stdout; GitError on any failure,
    with git's own last line of complaint."""
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish within {timeout:.0f} s") from None
    except OSError as e:
        raise GitError(f"git could not run in {repo}: {e.strerror or e}") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(msg[-1] if msg else f"git {args[0]} failed")
    return proc.stdout


def toplevel(start: Path) -> Path:
    """The work tree's top folder (GitError outside a repository)."""
    out = git(start, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape")
    return Path(out.rstrip("\n"))


def hooks_dir(repo: Path) -> Path:
    """Where git looks for hooks (``core.hooksPath`` honoured), absolute."""
    out = git(repo, "rev-parse", "--git-path", "hooks").decode("utf-8", "surrogateescape")
    path = Path(out.rstrip("\n"))
    return path if path.is_absolute() else Path(os.path.normpath(repo / path))


def literal(paths: Sequence[str]) -> list[str]:
    """Pathspecs that match exactly these paths: ``*``, ``?``, ``[`` and a
    leading ``:`` in a file name are not patterns."""
    return [f":(literal){p}" for p in paths]


def index_entries(repo: Path, paths: Sequence[str]) -> dict[str, str]:
    """path -> blob id of those ``paths`` that are in the index (stage 0)."""
    if not paths:
        return {}
    wanted = set(paths)
    entries: dict[str, str] = {}
    for entry in _paths(git(repo, "ls-files", "-s", "-z", "--", *literal(paths))):
        meta, _, path = entry.partition("\t")
        if path in wanted:  # a pathspec also matches files below a folder of that name
            entries[path] = meta.split(" ")[1]
    return entries


def head_tree(repo: Path) -> str | None:
    """The tree id of HEAD, or None before the first commit."""
    try:
        return git(repo, "rev-parse", "-q", "--verify", "HEAD^{tree}").decode().strip()
    except GitError:
        return None


def index_tree(repo: Path) -> str:
    """The tree id the index would commit (``git write-tree``, as ``git commit`` does)."""
    return git(repo, "write-tree").decode().strip()


def merging(repo: Path) -> bool:
    """Whether a merge is being concluded (its commit may keep HEAD's tree)."""
    try:
        git(repo, "rev-parse", "-q", "--verify", "MERGE_HEAD")
    except GitError:
        return False
    return True


def known_files(repo: Path, pattern: str) -> list[str]:
    """Paths (relative to ``repo``) of files git knows that match ``pattern``:
    tracked, or untracked and not ignored."""
    out = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", pattern)
    return sorted(set(_paths(out)))


def _paths(out: bytes) -> list[str]:
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def staged_changes(repo: Path) -> tuple[list[str], list[str]]:
    """(added/copied/modified/renamed paths, deleted paths) in the index."""
    # --no-renames: a renamed source is its old path deleted plus its new path added.
    present = _paths(git(repo, "diff", "--cached", "--name-only", "-z", "--no-renames",
                         "--diff-filter=ACM"))
    deleted = _paths(git(repo, "diff", "--cached", "--name-only", "-z", "--no-renames",
                         "--diff-filter=D"))
    return present, deleted


def index_blobs(repo: Path, paths: Sequence[str], missing_ok: bool = False) -> dict[str, bytes]:
    """Staged content of ``paths``, in one ``git cat-file --batch``. A path not in
    the index is a GitError, or left out of the result with ``missing_ok``."""
    if not paths:
        return {}
    request = "".join(f":{p}\n" for p in paths).encode("utf-8", "surrogateescape")
    if any("\n" in p for p in paths):
        # cat-file reads one object name per line; ask for those by blob id instead.
        blob_of = index_entries(repo, paths)
        missing = [p for p in paths if p not in blob_of]
        if missing and not missing_ok:
            raise GitError(f"{missing[0]} is not in the index")
        paths = [p for p in paths if p in blob_of]
        request = "".join(f"{blob_of[p]}\n" for p in paths).encode()
    out = git(repo, "cat-file", "--batch", input=request)
    blobs: dict[str, bytes] = {}
    pos = 0
    for path in paths:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split(b" ")
        if header[-1] == b"missing":
            if not missing_ok:
                raise GitError(f"{path} is not in the index")
            pos = header_end + 1
            continue
        size = int(header[2])
        start = header_end + 1
        blobs[path] = out[start:start + size]
        pos = start + size + 1
    return blobs


def stage_blobs(repo: Path, contents: dict[str, bytes], remove: Sequence[str] = ()) -> None:
    """Put ``contents`` into the index (and drop ``remove``) without touching the
    work tree: hash-object for all blobs at once, then one update-index."""
    entries = []
    if contents:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for i, data in enumerate(contents.values()):
                f = os.path.join(tmp, str(i))
                with open(f, "wb") as fh:
                    fh.write(data)
                files.append(f)
            ids = git(repo, "hash-object", "-w", "--stdin-paths", "--no-filters",
                      input="".join(f + "\n" for f in files).encode()).decode().split()
        for path, sha in zip(contents, ids):
            entries.append(f"100644 {sha}\t{path}")
    for path in remove:
        entries.append(f"0 {'0' * 40}\t{path}")
    if entries:
        info = "\0".join(entries) + "\0"
        git(repo, "update-index", "-z", "--add", "--remove", "--index-info",
            input=info.encode("utf-8", "surrogateescape"))
