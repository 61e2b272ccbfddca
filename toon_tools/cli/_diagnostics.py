"""Findings as data, and the output formats they print in (``--format``).

A command collects :class:`Diagnostic` values; a format turns them into text.
``text`` prints each one as it comes (``path:line:col: message [rule]`` and a
caret line); the machine formats print one document on stdout at the end, and
everything meant for a person (summaries, warnings, one-line errors) goes to
stderr, so stdout parses (issue 14):

- ``json``: a list of objects with ``path, line, column, end_line, end_column,
  severity, code, message``, plus a finding's own keys (``rule`` and ``pointer``
  for a schema violation, ``declared`` and ``found`` for an array cut short);
- ``github``: one GitHub Actions workflow command per finding,
  ``::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message``,
  escaped as the runner unescapes them (actions/toolkit ``command.ts``);
- ``sarif``: a SARIF 2.1.0 log with one run, for code scanning
  (``github/codeql-action/upload-sarif``); its tool is the command (``toon
  check``, ``toon twins``...), so the logs of several commands upload side by side.

github and sarif name files from the top of the git work tree (where GitHub
looks them up) when run from a subfolder; json and text as the user named them.

Exit codes never depend on the format. Errors that stop a file from being
checked at all (unreadable file, unusable schema) are not findings: they stay
one-line ``toon: error:`` messages on stderr in every format, and exit 2; the
machine formats still print their (possibly empty) document.

Positions are 1-based and columns count code points (SARIF ``columnKind``
``unicodeCodePoints``); ``end_column`` is one past the last character, so a
finding about a whole file (a token budget) is the empty range at 1:1.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import click

from ._output import diagnostic

F = TypeVar("F", bound=Callable[..., Any])

#: What each finding code means: SARIF ``rules[].shortDescription``.
RULES: dict[str, str] = {
    "decode": "The file is not a valid TOON document (strict decoding, spec v4.0).",
    "count": "An array has a different number of items than its declared [N] (spec §14.1).",
    "schema": "The document violates its JSON Schema.",
    "format": "The file is not in canonical form: toon fmt would reformat it.",
    "twin-missing": "The TOON file has no Markdown twin: toon twins would create it.",
    "twin-stale": "The Markdown twin is out of date with its TOON source.",
    "twin-orphaned": "The Markdown twin's source is gone: toon twins would remove it.",
    "twin-conflict": "A file that is not this source's twin stands where its twin goes.",
    "file-budget": "The file has more tokens than the per-file budget.",
    "total-budget": "The files together have more tokens than the budget.",
}
#: Our severities -> GitHub workflow commands and SARIF levels.
_GITHUB_LEVEL = {"error": "error", "warning": "warning"}
_SARIF_LEVEL = {"error": "error", "warning": "warning"}

#: The OASIS schema's own id (errata 01, the one GitHub links to).
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
INFORMATION_URI = "https://pypi.org/project/toon-tools/"
#: GitHub code scanning rejects a whole log with more results in a run than this
#: (and shows the 5,000 most severe).
SARIF_MAX_RESULTS = 25_000
_SEVERITY_RANK = {"error": 0, "warning": 1}


@dataclass(frozen=True)
class Diagnostic:
    """One finding in one file; positions are 1-based, ``end_column`` one past
    the last character. ``rule`` (a schema path) is shown in brackets.
    ``severity`` is "error", "warning" or "info"."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    code: str
    severity: str = "error"
    rule: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": posix(self.path), "line": self.line, "column": self.column,
            "end_line": self.end_line, "end_column": self.end_column,
            "severity": self.severity, "code": self.code, "message": self.message}
        if self.rule is not None:
            out["rule"] = self.rule
        out.update(self.extra)
        return out

    def text(self, source: str | None) -> str:
        """``path:line:col: message [rule]`` and, with ``source``, the line and a caret."""
        return diagnostic(self.path, self.line, self.column, self.full_message, source)

    @property
    def full_message(self) -> str:
        return f"{self.message} [{self.rule}]" if self.rule else self.message


def whole_file(path: str, message: str, code: str) -> Diagnostic:
    """A finding about a whole file (line 1, the empty range at column 1)."""
    return Diagnostic(path, 1, 1, 1, 1, message, code)


def posix(path: str) -> str:
    """``path`` with the platform's separators as ``/`` (a no-op on POSIX, where
    a backslash is part of a name)."""
    if os.sep != "/":
        path = path.replace(os.sep, "/")
    if os.altsep and os.altsep != "/":
        path = path.replace(os.altsep, "/")
    return path


#: Print each json/sarif document on one line: ``--watch`` prints a document per
#: run, and a stream of one-line documents (JSON Lines) is what a reader can split.
ONE_LINE: ContextVar[bool] = ContextVar("ONE_LINE", default=False)

#: The command whose findings are rendered ("check", "fmt"...; set by
#: :func:`formats_option`): it names the SARIF tool. Code scanning keeps one
#: analysis per tool and category and refuses an upload with two runs of the same
#: tool and category, while upload-sarif gives every run of a job the same default
#: category: ``toon check`` and ``toon twins --check`` uploaded side by side must
#: be two tools. (automationDetails would also separate them, but upload-sarif
#: only fills it where a run has none: the workflow's ``category:`` would be lost.)
COMMAND: ContextVar[str | None] = ContextVar("COMMAND", default=None)


def repository_paths() -> tuple[str, Callable[[str], str]]:
    """(the folder GitHub looks relative paths up from, and what turns a finding's
    path into one relative to it). Annotations and code scanning resolve a path
    from the top of the repository, while findings name files from the working
    folder: run from a subfolder of a git work tree, they are re-based on its
    top (a path that leaves it stays absolute). Outside git, or at the top,
    paths stay as named but for `./` steps; stdin's ``-`` always does."""
    from pathlib import Path

    from ..hooks.git import GitError, toplevel

    cwd = os.getcwd()
    try:
        root = str(toplevel(Path(cwd)))
    except GitError:
        return cwd, _plain
    prefix = os.path.relpath(cwd, root)
    if prefix == os.curdir or prefix.split(os.sep)[0] == os.pardir:
        return (root if prefix == os.curdir else cwd), _plain

    def rebase(path: str) -> str:
        if path == "-" or os.path.isabs(path):
            return posix(path)
        joined = os.path.normpath(os.path.join(prefix, path))
        if joined.split(os.sep)[0] == os.pardir:
            return posix(os.path.normpath(os.path.join(cwd, path)))
        return posix(joined)

    return root, rebase


def _plain(path: str) -> str:
    """``path`` without ``./`` and ``x/..`` steps: ``toon check .`` finds
    ``./sub/a.toon``, which GitHub lists as ``sub/a.toon``."""
    return posix(path if path == "-" else os.path.normpath(path))


def _dumps(doc: object) -> str:
    import json  # only for the machine formats: `toon check` starts without it

    # ensure_ascii=False keeps names readable; an undecodable name (a surrogate
    # escape) is written as its \udcXX JSON escape, which reads back the same.
    return (json.dumps(doc, indent=None if ONE_LINE.get() else 2, ensure_ascii=False)
            .encode("utf-8", "backslashreplace").decode("utf-8"))


# ------------------------------------------------------------------- json


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return _dumps([d.as_dict() for d in diagnostics])


# ----------------------------------------------------------------- github


def github_data(text: str) -> str:
    """A workflow command's message, escaped as the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``, which end it."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def _printable(text: str) -> str:
    """``text`` encodable as UTF-8: an undecodable byte in a name (a surrogate
    escape) as its ``\\udcXX`` spelling."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """One ``::error …::message`` line per finding (severity error, warning,
    anything else notice); empty for none."""
    lines = []
    rebase = repository_paths()[1] if diagnostics else posix
    for d in diagnostics:
        props = (("file", rebase(d.path)), ("line", str(d.line)), ("col", str(d.column)),
                 ("endLine", str(d.end_line)), ("endColumn", str(d.end_column)),
                 ("title", f"toon {d.code}"))
        shown = ",".join(f"{k}={github_property(_printable(v))}" for k, v in props)
        level = _GITHUB_LEVEL.get(d.severity, "notice")
        lines.append(f"::{level} {shown}::{github_data(_printable(d.full_message))}")
    return "\n".join(lines)


# ------------------------------------------------------------------ sarif


def artifact_location(path: str) -> dict[str, str]:
    """SARIF ``artifactLocation``: a relative path as a percent-encoded relative
    URI against ``%SRCROOT%`` (see :func:`repository_paths`); an absolute one as a file URI."""
    from urllib.parse import quote

    if os.path.isabs(path):
        from pathlib import Path

        return {"uri": Path(path).as_uri()}
    # The bytes of the name, so an undecodable one keeps them; ':' is encoded,
    # so a first segment never reads as a scheme.
    return {"uri": quote(os.fsencode(posix(path)), safe="/"), "uriBaseId": "%SRCROOT%"}


def sarif_log(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run of toon-tools, a rule per code found."""
    from pathlib import Path

    from .. import __version__

    index: dict[str, int] = {}
    rules: list[dict[str, Any]] = []
    results = []
    root, rebase = repository_paths()
    kept = _within_limit(diagnostics)
    for d in kept:
        if d.code not in index:
            index[d.code] = len(rules)
            rules.append({"id": d.code,
                          "shortDescription": {"text": RULES.get(d.code, d.code)},
                          "helpUri": INFORMATION_URI})
        region = {"startLine": d.line, "startColumn": d.column,
                  "endLine": d.end_line, "endColumn": d.end_column}
        result: dict[str, Any] = {
            "ruleId": d.code, "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL.get(d.severity, "note"),
            "message": {"text": d.full_message},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(rebase(d.path)),
                                                "region": region}}]}
        bag = dict(d.extra)
        if d.rule is not None:
            bag["rule"] = d.rule
        if bag:
            result["properties"] = bag
        results.append(result)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool_name(), "version": __version__,
                            "semanticVersion": __version__,
                            "informationUri": INFORMATION_URI, "rules": rules}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if len(kept) < len(diagnostics):
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": [
            {"level": "warning", "message": {"text": _left_out(len(diagnostics))}}]}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _within_limit(diagnostics: Sequence[Diagnostic]) -> Sequence[Diagnostic]:
    """At most :data:`SARIF_MAX_RESULTS` findings, the most severe first chosen,
    in their order."""
    if len(diagnostics) <= SARIF_MAX_RESULTS:
        return diagnostics
    ranked = sorted(range(len(diagnostics)),
                    key=lambda i: _SEVERITY_RANK.get(diagnostics[i].severity, 2))
    return [diagnostics[i] for i in sorted(ranked[:SARIF_MAX_RESULTS])]


def _left_out(total: int) -> str:
    return (f"{total - SARIF_MAX_RESULTS:,} more results left out: GitHub code scanning "
            f"accepts at most {SARIF_MAX_RESULTS:,} in a run (json lists them all)")


def tool_name() -> str:
    """The SARIF tool: ``toon check``, ``toon fmt``... (see :data:`COMMAND`);
    ``toon-tools`` outside a command."""
    command = COMMAND.get()
    return "toon-tools" if command is None else f"toon {command}"


def render_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    if len(diagnostics) > SARIF_MAX_RESULTS:
        from ._output import warning

        warning(_left_out(len(diagnostics)))
    return _dumps(sarif_log(diagnostics))


# ------------------------------------------------------------ the option


def _printer(render: Callable[[Sequence[Diagnostic]], str]
             ) -> Callable[[Sequence[Diagnostic]], None]:
    def echo(diagnostics: Sequence[Diagnostic]) -> None:
        text = render(diagnostics)
        if text:
            click.echo(text)

    return echo


#: Format name -> what renders the collected diagnostics as one document.
RENDERERS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}

#: Format name -> what prints the collected diagnostics on stdout at the end
#: (None: text, each file's report printed as it comes).
FORMATS: dict[str, Callable[[Sequence[Diagnostic]], None] | None] = {
    "text": None, **{name: _printer(render) for name, render in RENDERERS.items()}}

FORMAT_HELP = (
    "text: path:line:col: message with a caret, as found; json: one JSON list of "
    "{path, line, column, end_line, end_column, severity, code, message}; github: GitHub "
    "Actions ::error workflow commands (annotations); sarif: SARIF 2.1.0 for code "
    "scanning. Machine formats print only their document on stdout, at the end; "
    "summaries go to stderr. Exit codes are the same.")


def formats_option(extra_help: str = "") -> Callable[[F], F]:
    """``--format text|json|github|sarif`` (default text), as ``output_format``,
    with a sentence on what the findings are for this command."""
    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, output_format: str, **kwargs: Any) -> int:
            token = COMMAND.set(command.__name__)
            try:
                return _run(*args, output_format=output_format, **kwargs)
            finally:
                COMMAND.reset(token)

        def _run(*args: Any, output_format: str, **kwargs: Any) -> int:
            printer = FORMATS[output_format]
            if printer is None:
                return int(command(*args, output_format=output_format, **kwargs))
            from ..errors import ToolError
            from ._output import describe, error, exit_code_of

            try:
                return int(command(*args, output_format=output_format, **kwargs))
            except BrokenPipeError:
                raise
            except (ToolError, OSError) as e:
                # Stopped before any file (configuration, environment): one line,
                # as in text, and the document a consumer of stdout waits for.
                error(describe(e))
                printer([])
                return exit_code_of(e)

        return cast(F, click.option(
            "--format", "output_format", type=click.Choice(list(FORMATS)), default="text",
            show_default=True,
            help=FORMAT_HELP + (" " + extra_help if extra_help else ""))(run))

    return decorate


def format_option(command: F) -> F:
    """``--format text|json|github|sarif`` (default text)."""
    return formats_option()(command)
