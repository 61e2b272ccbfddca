"""The standalone pre-commit hook (``toon hooks run``), for teams without the
pre-commit framework, and its installer (``toon hooks install``).

The hook works on the index, not the work tree: it reads the staged ``.toon``
files in one ``git cat-file --batch``, validates them, formats them, renders
their Markdown twins and stages the results in one ``update-index``. Unstaged
edits are never touched: a file's work-tree copy is formatted only when it is
identical to the staged one, and a work-tree twin follows its work-tree source.
The configuration too is read as the index holds it (hooks/config_view.py), as
the framework's route reads it once pre-commit has stashed unstaged changes.

Nothing is written or staged while any file has a problem (an invalid document,
a file we did not write in a twin's place). The verdicts are those of the
framework route (``toon check``, ``toon fmt``, ``toon twins``, ``toon tokens``
with ``--force-exclude``): ``exclude`` always applies, and budgets are counted
on the same bytes by the same counter and evaluator.

Nothing here prints: :func:`run` returns a :class:`HookReport` that the CLI
prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FINDINGS, Finding, ToolError

if TYPE_CHECKING:
    from ..config import Config
    from ..tokens.budget import Overrun  # importing tokens costs ~35 ms: only with a budget

#: The line that marks a hook as ours (`toon hooks install` replaces only those).
MARK = "# toon-tools: pre-commit hook"
BACKUP = "pre-commit.before-toon"


def hook_script() -> str:
    """The hook `toon hooks install` writes (the package resource ``pre-commit.sh``)."""
    from importlib.resources import files

    return (files(__package__) / "pre-commit.sh").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Problem:
    """Why the commit is stopped: ``error`` has the path, position and exit code;
    ``source`` is the file's text when a caret can point into it."""

    error: ToolError
    source: str | None = None


@dataclass(frozen=True)
class Formatted:
    path: str
    #: The work-tree copy was formatted too (False: it holds unstaged edits,
    #: which are left alone; only the index was formatted).
    worktree: bool


@dataclass
class HookReport:
    """What one run of the hook found and did; paths are relative to the
    repository's top folder."""

    formatted: list[Formatted] = field(default_factory=list)
    staged_twins: list[str] = field(default_factory=list)
    #: Work-tree twins written (each follows its work-tree source).
    written_twins: list[str] = field(default_factory=list)
    removed_orphans: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    overruns: list[Overrun] = field(default_factory=list)
    #: The staged changes were formatting only: after formatting, the index is
    #: HEAD again and the commit would be empty.
    emptied: bool = False

    @property
    def exit_code(self) -> int:
        codes = [p.error.exit_code for p in self.problems]
        if self.overruns or self.emptied:
            codes.append(FINDINGS)
        return max(codes, default=0)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _rel(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` as git names it, or None if outside."""
    rel = os.path.relpath(path, root)
    return None if rel == os.pardir or rel.startswith(os.pardir + os.sep) else Path(rel).as_posix()


def run(start: Path, *, only_twins: bool = False) -> HookReport:
    """Run the hook in the repository that holds ``start``: validate, format,
    twin and budget the staged ``.toon`` files (only twin them with
    ``only_twins``, for ``toon twins --add``). GitError or ConfigError (exit 2)
    if the repository or its configuration cannot be read."""
    from .config_view import staged_config
    from .git import head_tree, index_tree, merging, stage_blobs, staged_changes, toplevel

    root = toplevel(start)
    # The configuration as the commit holds it, as on the framework's route (where
    # pre-commit stashes unstaged changes): an unstaged edit to the table is not
    # what is being committed.
    cfg = staged_config(root)
    present, deleted = staged_changes(root)
    report = HookReport()
    staged = _Staged.read(root, cfg, present)
    worktree_twins = _verdicts(staged, report)
    if not only_twins:
        _schema_verdicts(staged, cfg, present, deleted, report)
    if report.problems:
        return report  # nothing written, nothing staged
    stage = {} if only_twins else _format(staged, report)
    formatted_any = bool(stage)
    stage.update(_twins(staged, worktree_twins, report))
    _remove_orphans(root, cfg, deleted, report)
    stage_blobs(root, stage, remove=report.removed_orphans)
    if formatted_any:
        head = head_tree(root)
        if head is not None and index_tree(root) == head and not merging(root):
            report.emptied = True
    if not only_twins:
        # The staged .toon files themselves, as the framework's toon-tokens sees them
        # (its files: \.toon$), not the sources that staged twins stand for.
        report.overruns = _budgets(cfg, {p: staged.blobs[p] for p in staged.changed})
    return report


@dataclass
class _Staged:
    """The staged sources the hook works on, their twins, and what the index holds."""

    root: Path
    changed: list[str]  # the staged, not excluded .toon files, relative to root
    sources: list[str]  # those and the sources that staged twins stand for
    twins: dict[str, Path]  # source -> its twin, absolute
    twin_rels: dict[str, str | None]  # source -> its twin as git names it (None: outside)
    blobs: dict[str, bytes]  # source -> staged content (formatted, once formatted)
    index: dict[str, bytes]  # the index content of the sources and of the twins in it

    @classmethod
    def read(cls, root: Path, cfg: Config, present: list[str]) -> _Staged:
        from .git import index_blobs
        from .twins import source_of, twin_path

        def excluded(rel: str) -> bool:
            return cfg.excluded(root / rel)

        suffix: str = cfg["twins.suffix"]
        sources = [p for p in present if p.endswith(".toon") and not excluded(p)]
        # A staged (perhaps hand-edited) twin stands for its source, if that is staged.
        standing: list[str] = []
        for p in present:
            if p.endswith(suffix) and not p.endswith(".toon") and not excluded(p):
                named = source_of(root / p)
                rel = _rel(named, root) if named is not None else None
                if rel is not None and rel not in sources and rel not in standing \
                        and not excluded(rel):
                    standing.append(rel)
        twins = {p: twin_path(root / p, cfg) for p in [*sources, *standing]}
        twin_rels = {p: _rel(t, root) for p, t in twins.items()}
        # One cat-file for the sources, the sources staged twins stand for, and the
        # twins already in the index (a hand-written one there is not ours either).
        index = index_blobs(root, list(dict.fromkeys(
            [*sources, *standing, *(t for t in twin_rels.values() if t)])), missing_ok=True)
        changed = list(sources)
        sources += [p for p in standing if p in index]
        return cls(root, changed, sources, twins, twin_rels, {p: index[p] for p in sources},
                   index)


def _verdicts(staged: _Staged, report: HookReport) -> dict[str, bytes | None]:
    """Add every invalid source and every file we may not replace to
    ``report.problems``; return the work-tree twins' bytes (None: no file)."""
    from ..codec import ToonDecodeError, decode
    from .twins import conflict, not_regular

    for p in staged.sources:
        try:
            decode(staged.blobs[p])
        except ToonDecodeError as e:
            report.problems.append(Problem(
                Finding(e.message, path=p, line=e.line, column=e.column),
                staged.blobs[p].decode("utf-8", "replace")))
    worktree_twins: dict[str, bytes | None] = {}
    for p in staged.sources:
        twin_rel = staged.twin_rels[p]
        if twin_rel is None:
            report.problems.append(Problem(ToolError(
                f"its twin {staged.twins[p]} would be outside the repository", path=p)))
            continue
        try:
            # A link (dangling or not), a folder, a FIFO: not ours, and not followed.
            occupied = not_regular(p, str(staged.root / twin_rel))
            if occupied is not None:
                report.problems.append(Problem(Finding(occupied.message, path=twin_rel)))
                continue
            current: bytes | None = (staged.root / twin_rel).read_bytes()
        except FileNotFoundError:
            current = None
        except OSError as e:
            report.problems.append(Problem(ToolError(e.strerror or str(e), path=twin_rel)))
            continue
        worktree_twins[p] = current
        found = conflict(p, twin_rel, _head(current) if current is not None else None)
        in_index = staged.index.get(twin_rel)
        if found is None and in_index is not None and in_index != current:
            found = conflict(p, twin_rel, _head(in_index))
        if found is not None:
            report.problems.append(Problem(found))
    return worktree_twins


class _IndexReader:
    """Bytes of files as this commit holds them: the index for a tracked file, the
    work tree otherwise (as the framework route sees them, with unstaged changes
    stashed). What schemas and their ``$ref`` siblings are read from. A file the
    commit deletes is gone, even if ``git rm --cached`` left it in the work tree."""

    def __init__(self, root: Path, deleted: Iterable[str] = ()) -> None:
        self.root = root
        self.deleted = frozenset(deleted)
        self._cache: dict[str, bytes] = {}

    def many(self, rels: list[str]) -> dict[str, bytes]:
        from .git import index_blobs

        wanted = [r for r in rels if r not in self._cache and r not in self.deleted]
        self._cache.update(index_blobs(self.root, wanted, missing_ok=True))
        for r in wanted:
            if r not in self._cache:
                data = _read(self.root / r)
                if data is not None:
                    self._cache[r] = data
        return {r: self._cache[r] for r in rels if r in self._cache}

    def __call__(self, path: Path) -> bytes:
        rel = _rel(Path(os.path.abspath(path)), self.root)
        if rel is None:
            return path.read_bytes()
        found = self.many([rel]).get(rel)
        if found is None:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return found


def _schema_verdicts(staged: _Staged, cfg: Config, present: list[str], deleted: list[str],
                     report: HookReport) -> None:
    """Validate the staged sources against their schemas ('# schema:' first line,
    else [tool.toon.schemas]), and every other file this commit may break, as
    ``toon check`` does when the framework names the staged files: the users of
    a staged file that can be a schema (or that a schema reaches by $ref), of a
    deleted one, and of a schema the table names that the commit does not hold;
    every file the table maps when the staged configuration's table differs
    from HEAD's. Users are
    looked for only in a configured project, as on the framework's route.
    Schemas are read as the commit holds them."""
    from ..codec import ToonDecodeError
    from ..schema.mapping import rechecked, schema_of
    from ..schema.validate import Schema, SchemaError
    from .config_view import schemas_changed
    from .git import known_files

    root = staged.root
    read = _IndexReader(root, deleted)
    contents = {p: staged.blobs[p] for p in staged.sources}
    if cfg.file is not None:
        config_rel = _rel(Path(os.path.abspath(cfg.file)), root)
        possible = [p for p in present if p.endswith((".json", ".toon"))
                    and not cfg.excluded(root / p)]
        data = read.many(possible)

        def candidates() -> list[tuple[str, bytes]]:
            known = [p for p in known_files(root, "*.toon")
                     if p not in contents and not cfg.excluded(root / p)]
            heads = read.many(known)
            return [(str(root / p), heads[p]) for p in known if p in heads]

        # A staged configuration re-checks the files its table maps only when the
        # table is not HEAD's (a version bump in pyproject.toml re-checks nothing).
        config_changed = config_rel in present and schemas_changed(root, cfg)
        brought = rechecked([(root / p, data[p]) for p in possible if p in data],
                            [root / p for p in deleted], config_changed, cfg,
                            candidates, read) or []
        rels = [r for r in (_rel(Path(b), root) for b in brought) if r is not None]
        contents.update(read.many(rels))
    loaded: dict[Path, Schema | None] = {}
    for p, data_ in contents.items():
        schema_path = schema_of(str(root / p), data_, cfg)
        if schema_path is None:
            continue
        if schema_path not in loaded:
            try:
                loaded[schema_path] = Schema.load(schema_path, read=read)
            except SchemaError as e:
                loaded[schema_path] = None
                told = _relative_error(e, root)
                told.message = f"{told.message} (the schema of {p})"  # once, for its first user
                report.problems.append(Problem(told))
        schema = loaded[schema_path]
        if schema is None:
            continue
        source = data_.decode("utf-8", "replace")
        try:
            violations = schema.check_text(data_)
        except ToonDecodeError as e:
            if p not in staged.sources:  # a staged one is reported by _verdicts
                report.problems.append(Problem(
                    Finding(e.msg, path=p, line=e.line, column=e.column), source))
            continue
        except SchemaError as e:
            report.problems.append(Problem(_relative_error(e, root)))
            loaded[schema_path] = None
            continue
        for v in violations:
            report.problems.append(Problem(
                Finding(f"{v.message} [{v.rule}]", path=p, line=v.line, column=v.column),
                source))


def _relative_error(e: ToolError, root: Path) -> ToolError:
    """``e`` naming its file relative to the repository, as git names it."""
    if e.path is not None:
        rel = _rel(Path(os.path.abspath(e.path)), root)
        if rel is not None:
            e.path = rel
    return e


def _format(staged: _Staged, report: HookReport) -> dict[str, bytes]:
    """Format the staged sources: the index always, the work tree when it holds
    no unstaged edits. Returns what to stage."""
    from ..codec import format_text
    from ..files import atomic_write

    stage: dict[str, bytes] = {}
    for p in staged.sources:
        try:
            text = staged.blobs[p].decode("utf-8")
        except UnicodeDecodeError:
            continue
        formatted = format_text(text)
        if formatted == text:
            continue
        in_sync = _read(staged.root / p) == staged.blobs[p]
        stage[p] = staged.blobs[p] = formatted.encode()
        if in_sync:
            atomic_write(staged.root / p, formatted)
        report.formatted.append(Formatted(p, worktree=in_sync))
    return stage


def _twins(staged: _Staged, worktree_twins: dict[str, bytes | None],
           report: HookReport) -> dict[str, bytes]:
    """The twin of each staged source, to stage; the work-tree twin follows the
    work-tree source (the twin of what you are editing). Returns what to stage."""
    from ..files import atomic_write
    from .twins import render

    stage: dict[str, bytes] = {}
    for p in staged.sources:
        twin_rel = staged.twin_rels[p]
        assert twin_rel is not None  # _verdicts reported it otherwise
        source, twin = staged.root / p, staged.twins[p]
        staged_twin = render(source, twin, staged.blobs[p])
        stage[twin_rel] = staged_twin.encode()
        wt_text: str | None = staged_twin
        worktree = _read(source)
        if worktree is not None and worktree != staged.blobs[p]:
            try:
                wt_text = render(source, twin, worktree)
            except Finding:
                wt_text = None  # an invalid work-tree version: its twin is left as it is
        if wt_text is not None and worktree_twins.get(p) != wt_text.encode():
            twin.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(twin, wt_text)
            report.written_twins.append(twin_rel)
        report.staged_twins.append(twin_rel)
    return stage


def _remove_orphans(root: Path, cfg: Config, deleted: list[str], report: HookReport) -> None:
    """Remove the twins of sources deleted in this commit, from the work tree
    (and, by the caller, the index): only files that carry the twin header."""
    from ..convert.twin_render import named_source
    from .twins import is_regular, twin_path

    for p in deleted:
        if not p.endswith(".toon"):
            continue
        twin_rel = _rel(twin_path(root / p, cfg), root)
        if twin_rel is None or cfg.excluded(root / twin_rel):
            continue
        twin = root / twin_rel
        if not is_regular(twin):  # a link is someone's, wherever it points
            continue
        try:
            head = _head(twin.read_bytes())
        except OSError:
            continue
        named = named_source(twin, head)
        if named is not None and not named.exists():
            os.unlink(twin)
            report.removed_orphans.append(twin_rel)


def _head(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0]


def _budgets(cfg: Config, contents: dict[str, bytes]) -> list[Overrun]:
    """Budgets of ``[tool.toon.tokens]`` over the staged files, counted on the
    bytes that will be committed, as ``toon tokens`` counts files."""
    from ..tokens.budget import over_budget

    budget, per_file = cfg["tokens.budget"], cfg["tokens.per-file-budget"]
    if budget is None and per_file is None:
        return []
    from ..tokens import TokenCounter

    counter = TokenCounter(cfg["tokens.encoding"], cache_dir=cfg.cache_dir())
    counts = dict(zip(contents, counter.count_many([b.decode("utf-8") for b in contents.values()])))
    return over_budget(counts, budget, per_file)


# -------------------------------------------------------------------- install


@dataclass(frozen=True)
class Installed:
    hook: Path
    #: Where the hook it replaced was kept (``--force``), if there was one.
    backup: Path | None = None


def install(start: Path, *, force: bool = False) -> Installed:
    """Write the hook into the repository holding ``start`` (``core.hooksPath``
    honoured). A hook we did not write is replaced only with ``force``, and kept
    under a name no earlier backup holds (it is not run any more: the new hook
    does not chain to it); ToolError otherwise."""
    from ..files import atomic_write
    from .git import hooks_dir

    hook = hooks_dir(start) / "pre-commit"
    backup = None
    try:
        existing: str | None = hook.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        existing = None
    if existing is not None and MARK not in existing:
        if not force:
            raise ToolError("exists and was not written by toon-tools; with --force it is "
                            f"replaced, and kept as {_free(hook).name} (it will no longer run)",
                            path=str(hook))
        backup = _keep(hook)
        hook.unlink()
    hook.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(hook, hook_script())
    hook.chmod(hook.stat().st_mode | 0o111)
    return Installed(hook, backup)


def _free(hook: Path) -> Path:
    """The first of ``pre-commit.before-toon``, ``.before-toon.1``, ... not taken."""
    n = 0
    while True:
        backup = hook.with_name(BACKUP if n == 0 else f"{BACKUP}.{n}")
        if not os.path.lexists(backup):
            return backup
        n += 1


def _keep(hook: Path) -> Path:
    """Copy ``hook`` (bytes and mode) to ``pre-commit.before-toon``, or
    ``.before-toon.1``, ``.2``...: the first name that is free. An earlier
    backup is never replaced (O_EXCL)."""
    import shutil

    data = hook.read_bytes()
    n = 0
    while True:
        backup = hook.with_name(BACKUP if n == 0 else f"{BACKUP}.{n}")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        except FileExistsError:
            n += 1
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        shutil.copymode(hook, backup)
        return backup
