"""``toon check [--schema SCHEMA] FILES...``: validate TOON files strictly, and
against their JSON Schema, reporting every bad one.

Which schema applies to a file (toon_tools.schema.mapping): ``--schema``, else
the file's ``# schema: path`` first line, else ``[tool.toon.schemas]``. A
``.json`` file named on the command line is taken for a schema: the TOON files
that use it are checked (that is how a changed schema re-checks its users on
the pre-commit framework's route).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import click

from .._diagnostics import Diagnostic, formats_option
from .._completion import toon_paths
from .._files import file_options, find_files
from .._stdin import STDIN, read_stdin, reads_stdin, stdin_option
from .._watch import watch_option
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, escape, warning

if TYPE_CHECKING:
    from ...codec import ToonDecodeError
    from ...config import Config


@dataclass
class FileResult:
    """What checking one file gave: its status (OK, FINDINGS or ERROR), its
    findings, the text report (diagnostics with carets), and the one-line error
    that kept it from being checked (``schema_error``: the schema's fault)."""

    status: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    report: str = ""
    error: str = ""
    schema_error: bool = False


def decode_diagnostic(path: str, e: ToonDecodeError) -> Diagnostic:
    """A strict decode error as a finding; an array cut short of its declared
    ``[N]`` (spec §14.1) says how many are declared, found and missing."""
    declared: int | None = getattr(e, "declared", None)
    found: int | None = getattr(e, "found", None)
    message, code, extra = e.msg, "decode", {}
    if declared is not None:
        code = "count"
        extra = {"declared": declared, "found": found}
        if found is not None and found < declared:
            missing = declared - found
            message += f" ({missing} missing: the file may be cut short)"
    return Diagnostic(path, e.line, e.column, e.line, e.column + 1, message, code, extra=extra)


def check_file(item: tuple[str, str | None], indent_size: int = 2,
               cfg: Config | None = None) -> FileResult:
    """Check one file: ``item`` is (path, the --schema given or None). Without
    --schema, ``cfg`` decides the file's schema (first line, then the table)."""
    path, forced = item
    try:
        with open(path, "rb") as fh:
            if forced is None and os.fstat(fh.fileno()).st_size > STREAM_CHECK_BYTES:
                from ...schema.mapping import FIRST_LINE_BYTES, schema_of

                head = fh.read(FIRST_LINE_BYTES)
                if cfg is None or schema_of(path, head, cfg) is None:
                    fh.seek(0)
                    return _check_stream(path, fh, indent_size)
                fh.seek(0)
            data = fh.read()
    except OSError as e:
        return FileResult(ERROR, error=describe(e, path))
    return check_data(path, data, forced, indent_size, cfg)


#: Above this size a file without a schema is validated as it is read (the
#: decoder's event stream, memory bounded by the nesting depth and one line)
#: instead of decoded whole. Both take the same time from 10 KB to 8 MB
#: (measured); below it the whole-document decode, which every other command
#: uses, keeps checking the everyday small files, in a few MB at most.
STREAM_CHECK_BYTES = 1024 * 1024


def _check_stream(path: str, fh: BinaryIO, indent_size: int) -> FileResult:
    """The decode-only check of a large file, read incrementally: the same
    result as :func:`check_data`'s (the same Diagnostic, the same report)."""
    from collections import deque

    from ...codec import ToonDecodeError
    from ...codec._stream import iter_events, lines_of

    try:
        deque(iter_events(lines_of(fh), indent_size=indent_size, whole_values=True), maxlen=0)
    except ToonDecodeError as e:
        found = decode_diagnostic(path, e)
        return FileResult(FINDINGS, [found], _report_at(found, _line_of(path, found.line)))
    return FileResult(OK)


def _report_at(found: Diagnostic, line_text: str | None) -> str:
    """``found.text(source)`` given only the text of its line."""
    head = found.text(None)
    if line_text is None:
        return head
    shown = diagnostic(found.path, 1, found.column, found.full_message, line_text)
    return head + shown[shown.index("\n"):] if "\n" in shown else head


def _line_of(path: str, number: int) -> str | None:
    """Line ``number`` (1-based) of a file as ``data.decode("utf-8", errors="replace")
    .split("\n")`` has it, read without holding the file; None past the end."""
    try:
        with open(path, "rb") as fh:
            count, raw = 0, b""
            for count, raw in enumerate(fh, 1):
                if count == number:
                    return raw.removesuffix(b"\n").decode("utf-8", errors="replace")
    except OSError:
        return None
    # split("\n") gives one more (empty) line after a final newline
    return "" if number == count + 1 and (count == 0 or raw.endswith(b"\n")) else None


def check_data(path: str, data: bytes, forced: str | None, indent_size: int = 2,
               cfg: Config | None = None) -> FileResult:
    """Check one document, ``data``, named ``path`` (a file, or the name given to
    stdin): its schema is ``forced`` (--schema), else what ``cfg`` maps ``path``
    and its first line to."""
    from ...codec import ToonDecodeError, decode

    schema_path: str | None = forced
    if schema_path is None and cfg is not None:
        from ...schema.mapping import schema_of

        found = schema_of(path, data, cfg)
        schema_path = None if found is None else os.path.relpath(found)
    try:
        if schema_path is None:
            decode(data, indent_size=indent_size)
            return FileResult(OK)
        from ...schema.validate import SchemaError, load_shared

        try:
            schema = load_shared(schema_path)
        except SchemaError as e:
            return FileResult(ERROR, error=describe(e, schema_path), schema_error=True)
        try:
            violations = schema.check_text(data, indent_size=indent_size)
        except SchemaError as e:  # a $ref found broken only when used
            return FileResult(ERROR, error=describe(e, schema_path), schema_error=True)
    except ToonDecodeError as e:
        found_diag = decode_diagnostic(path, e)
        source = data.decode("utf-8", errors="replace")
        return FileResult(FINDINGS, [found_diag], found_diag.text(source))
    if not violations:
        return FileResult(OK)
    source = data.decode("utf-8", errors="replace")
    diagnostics = [Diagnostic(path, v.line, v.column, v.end_line, v.end_column, v.message,
                              "schema", rule=v.rule, extra={"pointer": v.pointer})
                   for v in violations]
    return FileResult(FINDINGS, diagnostics, "\n".join(d.text(source) for d in diagnostics))


def _with_schema_users(paths: list[str], named: list[str], cfg: Config,
                       quiet: bool, deleted: list[str] | None = None) -> list[str]:
    """``paths`` (the TOON files to check) and the TOON files of the project that
    a change to the files ``named`` on the command line may break
    (:func:`~toon_tools.schema.mapping.rechecked`, as the standalone hook decides
    it). ``.json`` and configuration files are never checked as TOON: they leave
    the list. Users are looked for only inside a configured project (a
    ``[tool.toon]`` table or ``.toon.toml``: its folder bounds the walk):
    ``toon check one.toon`` and a staged package.json walk nothing."""
    from ...schema.mapping import SCHEMA_SCAN_BYTES, is_config_name, read_head, rechecked

    toon = [p for p in paths if not p.endswith(".json") and not is_config_name(p)]
    named_json = [p for p in named if p.endswith(".json")]
    if cfg.file is None:
        if not quiet:
            for p in named_json:
                warning(f"{p}: not in a project with a [tool.toon] table or .toon.toml: "
                        "the TOON files that use it as a schema are not looked for")
        return toon
    # A named configuration file re-checks every file its table maps only when the
    # table differs from HEAD's (the standalone hook's rule): a version bump in
    # pyproject.toml re-checks nothing. Outside git, or before a first commit: it does.
    config_named = any(is_config_name(p) and os.path.exists(p)
                       and os.path.samefile(p, cfg.file) for p in named)
    if config_named:
        from pathlib import Path

        from ...hooks.config_view import schemas_changed

        config_named = schemas_changed(Path.cwd(), cfg)
    changed = []
    for p in named:
        if p.endswith((".json", ".toon")) and not is_config_name(p):
            try:
                with open(p, "rb") as fh:  # a longer file may be a schema, unread
                    changed.append((p, fh.read(SCHEMA_SCAN_BYTES + 1)))
            except OSError:
                pass  # reported when it is checked (a .toon) or not at all (a .json)

    def candidates() -> list[tuple[str, bytes]]:
        from ...files import walk_folder

        return [(rel, read_head(rel)) for rel in
                (os.path.relpath(p) for p in walk_folder(str(cfg.root))
                 if p.endswith(".toon") and not cfg.excluded(p))]

    found = rechecked(changed, deleted or (), config_named, cfg, candidates) or []
    seen = {os.path.normpath(os.path.abspath(p)) for p in toon}
    for p in found:
        key = os.path.normpath(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            toon.append(p)
    if not found and not quiet:
        for p in named_json:
            warning(f"{p}: no TOON file uses it as a schema; nothing to check for it")
    return toon


def _deleted_in_index() -> list[str]:
    """The files the git index deletes (relative to the working folder), or none
    outside a git work tree."""
    from pathlib import Path

    from ...hooks.git import GitError, staged_changes, toplevel

    try:
        root = toplevel(Path.cwd())
        _, deleted = staged_changes(root)
    except GitError:
        return []
    return [os.path.relpath(root / d) for d in deleted]


@click.command()
@click.argument("files", nargs=-1, metavar="[FILES]...", shell_complete=toon_paths())
@click.option("--schema", "-s", "schema", metavar="SCHEMA",
              type=click.Path(dir_okay=False, path_type=str),
              help="Validate every file against this JSON Schema (a .json or .toon file; "
                   "draft 2020-12 unless its $schema says draft 7). Without it, a file's "
                   "'# schema: path' first line or [tool.toon.schemas] names its schema.")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Spaces per indentation level the files must use.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the problems.")
@click.option("--git-deleted", is_flag=True,
              help="Also take the files the git index deletes for changed schemas: the "
                   "TOON files that used a deleted schema are checked, and fail. For the "
                   "pre-commit hook, which names only files that exist; FILES may then be "
                   "empty.")
@formats_option("For check the findings are decode errors, arrays cut short and schema "
                 "violations.")
@stdin_option
@file_options
@watch_option
def check(files: tuple[str, ...], schema: str | None, indent_size: int, quiet: bool,
          git_deleted: bool, output_format: str, stdin_filename: str | None,
          force_exclude: bool) -> int:
    """Validate TOON files (strict mode, spec v4.0).

    Folders are searched for *.toon files. Every file is checked even when an
    earlier one is bad; problems print as path:line:col: message. With a schema
    (--schema, a '# schema: path' first line, or [tool.toon.schemas]) each
    violation prints as path:line:col: message [schema path]. A .json file
    given as FILE is taken for a schema: the TOON files that use it are checked
    (so is pyproject.toml: the files its [tool.toon.schemas] maps). 'toon check -'
    checks stdin (--stdin-filename names it).
    Exit 1 on any problem; 2 on an unreadable file or an unusable schema.
    """
    from functools import partial

    from ...config import load_config
    from ...parallel import CHECK, map_in_order
    from .._diagnostics import FORMATS

    stdin = reads_stdin(files, stdin_filename)
    if not files and not git_deleted and not stdin:
        raise click.UsageError("Missing argument 'FILES...'.")
    printer = FORMATS[output_format]
    if stdin:
        return _check_stdin(stdin_filename, schema, indent_size, quiet, printer,
                            force_exclude)
    paths, volume = find_files(files, force_exclude)
    cfg = load_config()
    if schema is not None:
        from ...schema.validate import SchemaError, load_shared

        try:
            load_shared(schema)  # exit 2 before any file is read
        except SchemaError as e:
            error(describe(e, schema))
            if printer is not None:
                printer([])  # a consumer of --format json always gets its document
            return ERROR
        paths = [p for p in paths if not p.endswith(".json")]
    else:
        # Files named one by one (the hooks name every staged file) may be schemas,
        # or the configuration whose table maps files to schemas.
        named = [p for p in paths if p in files and os.path.isfile(p)]
        paths = _with_schema_users(paths, named, cfg, quiet,
                                   _deleted_in_index() if git_deleted else None)
    worst = OK
    bad = 0
    collected: list[Diagnostic] = []
    schema_errors: set[str] = set()
    work = partial(check_file, indent_size=indent_size, cfg=None if schema is not None else cfg)
    results = map_in_order(work, [(p, schema) for p in paths], CHECK, total_bytes=volume)
    for path, result in zip(paths, results):
        if result.status == ERROR:
            if not result.schema_error:
                error(result.error)
            elif result.error not in schema_errors:
                # An unusable schema is told once, naming the first file it stops.
                schema_errors.add(result.error)
                error(f"{result.error} (the schema of {path})"
                      if schema is None else result.error)
        elif result.status == FINDINGS:
            bad += 1
            if printer is None:
                click.echo(result.report)
            else:
                collected.extend(result.diagnostics)
        worst = max(worst, result.status)
    if printer is not None:
        printer(collected)
    checked = len(paths)
    if not paths:
        if files or not quiet:  # the hook's run on a commit without TOON files is silent
            warning("no .toon files to check")
    elif not quiet:
        plural = "s" * (checked != 1)
        if bad:
            click.echo(f"Found problems in {bad} of {checked} file{plural}.", err=True)
        elif worst == OK:
            click.echo(f"All good: {checked} file{plural} checked.", err=True)
    return worst



def _check_stdin(stdin_filename: str | None, schema: str | None, indent_size: int, quiet: bool,
                 printer: Callable[[Sequence[Diagnostic]], None] | None,
                 force_exclude: bool) -> int:
    """``toon check -``: the document on stdin, named ``stdin_filename`` (else
    ``-``) in messages, for ``exclude`` (with --force-exclude: an excluded name
    is not checked) and for its schema."""
    from ...config import load_config

    cfg = load_config()
    data = read_stdin()
    name = stdin_filename or STDIN
    if stdin_filename is not None and force_exclude and cfg.excluded(stdin_filename):
        if printer is not None:
            printer([])
        return OK
    result = check_data(name, data, schema, indent_size, None if schema is not None else cfg)
    if result.status == ERROR:
        error(result.error)
    elif result.status == FINDINGS and printer is None:
        click.echo(result.report)
    if printer is not None:
        printer(result.diagnostics)
    if not quiet:
        if result.status == FINDINGS:
            click.echo(f"Found problems in {escape(name)}.", err=True)
        elif result.status == OK:
            click.echo(f"All good: {escape(name)} checked.", err=True)
    return result.status
