"""``toon hooks install [--force]`` and ``toon hooks run`` (the standalone git hook,
for teams without the pre-commit framework)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import click

from .._output import ERROR, FINDINGS, OK, fail

MARK = "# toon-tools: pre-commit hook"
#: The hook `toon hooks install` writes; hooks/pre-commit in the repository is
#: the same file (a test keeps them equal).
HOOK_SCRIPT = f"""#!/bin/sh
{MARK} (written by `toon hooks install`; safe to delete)
# Checks, formats and mirrors the staged .toon files, from the index: unstaged
# edits are never touched. Needs the `toon` command of toon-tools on PATH.
if ! command -v toon >/dev/null 2>&1; then
    echo "toon-tools pre-commit hook: 'toon' is not on PATH (pip install toon-tools)" >&2
    exit 1
fi
exec toon hooks run
"""


@click.group()
def hooks() -> None:
    """Install or run the standalone git pre-commit hook."""


@hooks.command()
@click.option("--force", is_flag=True, help="Replace a pre-commit hook that toon did not write.")
def install(force: bool) -> None:
    """Write .git/hooks/pre-commit (respecting core.hooksPath)."""
    from ...hooks.git import GitError, git

    try:
        hooks_dir = Path(git(Path.cwd(), "rev-parse", "--git-path", "hooks").decode().strip())
    except GitError as e:
        fail(f"not in a git repository ({e})")
    hook = hooks_dir if hooks_dir.is_absolute() else Path.cwd() / hooks_dir
    hook = hook / "pre-commit"
    if hook.exists():
        existing = hook.read_text(encoding="utf-8", errors="replace")
        if MARK not in existing and not force:
            fail(f"{hook} exists and was not written by toon-tools; "
                 "use --force to replace it (it is kept as pre-commit.before-toon)")
        if MARK not in existing:
            os.replace(hook, hook.with_name("pre-commit.before-toon"))
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(HOOK_SCRIPT, encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    click.echo(f"installed {hook}")


@hooks.command()
def run() -> None:
    """What the standalone hook runs: check, format, twins and budgets of the
    staged .toon files, staging its changes itself."""
    raise SystemExit(run_standalone())


def run_standalone(only_twins: bool = False) -> int:
    from ...codec import ToonDecodeError, decode, format_text
    from ...config import ConfigError, load_config
    from ...files import atomic_write
    from ...hooks.git import GitError, index_blobs, stage_blobs, staged_changes, toplevel
    from ...hooks.twins import render, source_of, twin_path

    try:
        root = toplevel(Path.cwd())
        cfg = load_config(root)
        present, deleted = staged_changes(root)
    except (GitError, ConfigError) as e:
        click.echo(f"toon: error: {e}", err=True)
        return ERROR
    os.chdir(root)
    toons = [p for p in present if p.endswith(".toon") and not cfg.excluded(p)]
    for p in present:  # a staged (perhaps hand-edited) twin stands for its source
        if not p.endswith(".toon"):
            src = source_of(root / p)
            if src is not None and src.exists():
                rel = os.path.relpath(src, root)
                if rel not in toons and not cfg.excluded(rel):
                    toons.append(rel)
    try:
        blobs = index_blobs(root, toons)
    except GitError as e:
        click.echo(f"toon: error: {e}", err=True)
        return ERROR

    status = OK
    bad = set()
    for p in toons:
        try:
            decode(blobs[p])
        except ToonDecodeError as e:
            click.echo(f"{p}:{e.line}:{e.column}: {e.msg}")
            bad.add(p)
    if bad:
        return FINDINGS

    stage: dict[str, bytes] = {}
    for p in toons:
        if only_twins:
            break
        try:
            text = blobs[p].decode("utf-8")
        except UnicodeDecodeError:
            continue
        formatted = format_text(text)
        if formatted != text:
            stage[p] = formatted.encode()
            worktree = _read(root / p)
            if worktree == blobs[p]:  # no unstaged edits: format the work tree too
                atomic_write(root / p, formatted)
                click.echo(f"formatted {p}")
            else:
                click.echo(f"formatted {p} in the index; its unstaged edits are untouched")
            blobs[p] = stage[p]

    for p in toons:
        source = Path(p)
        twin = twin_path(source, cfg)
        staged_twin = render(source, twin, blobs[p])
        stage[str(twin)] = staged_twin.encode()
        worktree = _read(root / p)
        wt_text = staged_twin
        if worktree is not None and worktree != blobs[p]:
            try:
                wt_text = render(source, twin, worktree)  # the twin of what you are editing
            except ToonDecodeError:
                wt_text = None  # type: ignore[assignment]
        if wt_text is not None and _read(root / twin) != wt_text.encode():
            twin.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(root / twin, wt_text)
        click.echo(f"staged twin {twin}")

    orphans = []
    for p in deleted:
        if p.endswith(".toon"):
            twin = twin_path(Path(p), cfg)
            if (root / twin).exists() and source_of(root / twin) is not None:
                orphans.append(str(twin))
                os.unlink(root / twin)
                click.echo(f"removed orphaned twin {twin}")
    try:
        stage_blobs(root, stage, remove=orphans)
    except GitError as e:
        click.echo(f"toon: error: {e}", err=True)
        return ERROR

    if not only_twins and (cfg["tokens.budget"] is not None or cfg["tokens.per-file-budget"] is not None):
        status = max(status, _budgets(cfg, {p: blobs[p] for p in toons}))
    return status


def _budgets(cfg: object, contents: dict[str, bytes]) -> int:
    from ...tokens import TokenCounter

    budget = cfg["tokens.budget"]  # type: ignore[index]
    per_file = cfg["tokens.per-file-budget"]  # type: ignore[index]
    counter = TokenCounter(cfg["tokens.encoding"], cache_dir=cfg.cache_dir())  # type: ignore[index, attr-defined]
    counts = dict(zip(contents, counter.count_many([b.decode("utf-8") for b in contents.values()])))
    status = OK
    for path, n in counts.items():
        if per_file is not None and n > per_file:
            click.echo(f"over budget: {path}: {n:,} tokens, {n - per_file:,} over the per-file budget of {per_file:,}")
            status = FINDINGS
    total = sum(counts.values())
    if budget is not None and total > budget:
        click.echo(f"over budget: staged .toon files: {total:,} tokens, {total - budget:,} over the budget of {budget:,}")
        status = FINDINGS
    return status


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
