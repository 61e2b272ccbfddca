"""The one family of errors that toon-tools raises for bad input and bad
surroundings, and the exit code each one means.

The core never prints and never exits: it raises one of these. The CLI turns
them into one line and an exit code in one place (``toon_tools.cli.main``), and
commands that go through many files report each one the same way and go on.

The contract, the same on every route (CLI, pre-commit hook, standalone hook):

- 1, :class:`Finding`: the input is not what it should be (an invalid document,
  a file that would change, a stale or conflicting twin, a budget exceeded, a
  failed pipeline step);
- 2, :class:`ToolError` itself: usage, configuration, I/O or environment (a
  missing file, not a git repository, a bad ``[tool.toon]``, a bad pipeline file).

A traceback or "internal error" means a bug in toon-tools, never bad input.
"""

from __future__ import annotations

from typing import ClassVar

FINDINGS = 1
ERROR = 2


class ToolError(Exception):
    """An error to report as one line, ``path:line:col: message``, with exit 2.

    ``path``, ``line`` and ``column`` (1-based) locate the problem when known.
    Subclasses keep their own constructor signatures; they only need to set
    these attributes (class defaults are None).
    """

    exit_code: ClassVar[int] = ERROR
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path, self.line, self.column = path, line, column

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Errors cross process-pool boundaries; keep keyword attributes on the way.
        return (_rebuild, (type(self), self.args, self.__dict__))


class Finding(ToolError):
    """The input breaks a rule: reported, the run goes on, and it exits 1."""

    exit_code: ClassVar[int] = FINDINGS


def _rebuild(cls: type[ToolError], args: tuple[object, ...],
             state: dict[str, object]) -> ToolError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


def exit_code_of(error: BaseException) -> int:
    """The exit code an error stands for: its own for toon-tools errors, 1 for a
    TOON decode error, 2 for I/O errors."""
    return getattr(error, "exit_code", ERROR)
