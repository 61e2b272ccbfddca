"""Git checkpoints: a TOON snapshot of a repository for an agent's context.

Branch, HEAD, upstream and ahead/behind, staged, modified and untracked files,
submodules with their recorded commit and dirty state, recent commits, and the
open tasks of Markdown task lists. git is asked a constant number of times
(status, log, ls-files, config), never once per submodule or file: status
--porcelain=v2 already reports each submodule's state, ls-files -s its recorded
commit, and .gitmodules its URL. Every call goes through
:func:`toon_tools.hooks.git.git`: a folder that is no repository, or a missing
git, is a ``GitError`` (exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from ..codec import encode
from ..hooks.git import GitError, git
from .registry import PATH, Converter, register

DEFAULT_TASK_FILES: Final = ("TASKLIST.md", "TODO.md")
RECENT_COMMITS: Final = 10
_XY: Final = {".": "", "M": "modified", "T": "type changed", "A": "added", "D": "deleted",
              "R": "renamed", "C": "copied", "U": "unmerged"}


def _git(repo: Path, *args: str) -> str:
    return git(repo, *args).decode("utf-8", "surrogateescape")


def _status(repo: Path) -> dict[str, Any]:
    out = _git(repo, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all")
    info: dict[str, Any] = {"staged": [], "modified": [], "untracked": [], "submodule_state": {}}
    records = out.split("\0")
    i = 0
    while i < len(records):
        rec = records[i]
        i += 1
        if not rec:
            continue
        if rec.startswith("# branch.oid "):
            info["head"] = rec.split(" ", 2)[2]
        elif rec.startswith("# branch.head "):
            info["branch"] = rec.split(" ", 2)[2]
        elif rec.startswith("# branch.upstream "):
            info["upstream"] = rec.split(" ", 2)[2]
        elif rec.startswith("# branch.ab "):
            ahead, behind = rec.split(" ")[2:4]
            info["ahead"], info["behind"] = int(ahead), -int(behind)
        elif rec[0] in "12u":
            fields = rec.split(" ")
            xy, sub = fields[1], fields[2]
            n = {"1": 8, "2": 9, "u": 10}[rec[0]]
            path = " ".join(fields[n:])
            if rec[0] == "2":
                i += 1  # the original path of a rename follows as its own record
            if xy[0] not in ".":
                info["staged"].append({"path": path, "status": _XY.get(xy[0], xy[0])})
            if xy[1] not in ".":
                info["modified"].append({"path": path, "status": _XY.get(xy[1], xy[1])})
            if sub.startswith("S"):
                states = [w for flag, w in zip(sub[1:], ("new commits", "modified content",
                                                         "untracked content")) if flag != "."]
                info["submodule_state"][path] = ", ".join(states) or "clean"
        elif rec.startswith("? "):
            info["untracked"].append(rec[2:])
    return info


def _submodules(repo: Path, states: dict[str, str]) -> list[dict[str, Any]]:
    gitlinks = {}
    for line in _git(repo, "ls-files", "-s", "-z").split("\0"):
        if line.startswith("160000 "):
            meta, _, path = line.partition("\t")
            gitlinks[path] = meta.split(" ")[1]
    if not gitlinks:
        return []
    urls: dict[str, str] = {}
    if (repo / ".gitmodules").is_file():
        cfg = _git(repo, "config", "-z", "--file", ".gitmodules", "--get-regexp",
                   r"^submodule\..*\.(path|url)$")
        paths: dict[str, str] = {}
        raw: dict[str, str] = {}
        for entry in cfg.split("\0"):
            if "\n" in entry:
                key, value = entry.split("\n", 1)
                name, _, field = key[len("submodule."):].rpartition(".")
                (paths if field == "path" else raw)[name] = value
        urls = {paths[n]: raw.get(n, "") for n in paths}
    return [{"path": p, "commit": sha, "url": urls.get(p, ""),
             "state": states.get(p, "clean")} for p, sha in sorted(gitlinks.items())]


def _commits(repo: Path, n: int) -> list[dict[str, str]]:
    try:
        out = _git(repo, "log", f"-n{n}", "-z", "--format=%H%x1f%an%x1f%aI%x1f%s")
    except GitError:
        return []  # no commits yet
    commits = []
    for rec in out.split("\0"):
        if rec.strip():
            sha, author, date, subject = rec.strip("\n").split("\x1f", 3)
            commits.append({"sha": sha[:12], "author": author, "date": date, "subject": subject})
    return commits


def open_tasks(repo: Path, files: tuple[str, ...]) -> list[dict[str, Any]]:
    """Unchecked ``- [ ]`` items of the task files, with file and line."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    tasks = []
    for name in files:
        path = repo / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        tokens = md.parse(text)
        for i, tok in enumerate(tokens):
            if tok.type == "list_item_open" and i + 2 < len(tokens):
                inline = tokens[i + 2]
                if inline.type == "inline" and inline.content.startswith("[ ] "):
                    line = (tok.map[0] + 1) if tok.map else 0
                    tasks.append({"file": name, "line": line,
                                  "text": inline.content[4:].split("\n")[0].strip()})
    return tasks


def checkpoint(repo: str | os.PathLike[str], task_files: tuple[str, ...] = DEFAULT_TASK_FILES,
               commits: int = RECENT_COMMITS) -> dict[str, Any]:
    try:
        root = Path(_git(Path(repo), "rev-parse", "--show-toplevel").strip())
    except GitError as e:  # name the folder: git's message does not
        raise GitError(e.message, path=os.fspath(repo)) from None
    status = _status(root)
    snap: dict[str, Any] = {"repository": root.name, "path": str(root),
                            "branch": status.get("branch", "(unknown)"),
                            "head": status.get("head", "(initial)")}
    if "upstream" in status:
        snap["upstream"] = status["upstream"]
        snap["ahead"] = status.get("ahead", 0)
        snap["behind"] = status.get("behind", 0)
    snap["staged"] = status["staged"]
    snap["modified"] = status["modified"]
    snap["untracked"] = status["untracked"]
    snap["submodules"] = _submodules(root, status["submodule_state"])
    snap["commits"] = _commits(root, commits)
    snap["tasks"] = open_tasks(root, task_files)
    return snap


@register
class CheckpointToToon(Converter):
    source, target = "checkpoint", "toon"
    description = "git repository (path) to a TOON checkpoint for agent context"
    output_suffix = ".toon"
    input = PATH  # the repository's path: git reads it, not the converter

    def convert(self, data: bytes, name: str) -> str:
        return encode(checkpoint(os.fsdecode(data)))

    @classmethod
    def output_stem(cls, source: str) -> str:
        return "checkpoint"
