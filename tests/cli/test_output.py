"""How errors are reported: one line, escaped, with the exit code the error means."""

from __future__ import annotations

import pickle

import pytest

from toon_tools.cli._output import describe, diagnostic, escape
from toon_tools.codec import ToonDecodeError
from toon_tools.errors import Finding, ToolError, exit_code_of


@pytest.mark.parametrize("raw, shown", [
    ("plain text", "plain text"),
    ("tab\tkept", "tab\tkept"),
    ("new\nline", "new\\nline"),
    ("\x1b[2Jclear", "\\x1b[2Jclear"),
    ("nul\x00bell\x07", "nul\\x00bell\\x07"),
    ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
    ("line\u2028sep", "line\\u2028sep"),
    ("caf\u00e9 \u6f22", "caf\u00e9 \u6f22"),
    ("bad\udcff byte", "bad\\xff byte"),            # os.fsdecode of an undecodable name
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
])
def test_escape_shows_control_characters_and_keeps_text(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert escape(escape(raw)) == escape(raw)  # escaping twice changes nothing more
    escape(raw).encode("utf-8")  # always printable as UTF-8


def test_describe_uses_the_errors_own_position_or_the_given_path() -> None:
    assert describe(ToolError("bad", path="p.toon", line=3, column=4)) == "p.toon:3:4: bad"
    assert describe(ToonDecodeError("no colon", 2, 5), "a\nb.toon") == "a\\nb.toon:2:5: no colon"
    assert describe(FileNotFoundError(2, "No such file or directory", "x\x1b.toon")) == \
        "x\\x1b.toon: No such file or directory"
    assert describe(IsADirectoryError(21, "Is a directory", "d")) == "d: is a directory"


def test_diagnostic_escapes_the_quoted_line_and_keeps_the_caret_under_the_column() -> None:
    text = "a: 1\n\x1b[31mkey 1\n"
    out = diagnostic("f.toon", 2, 7, "missing colon", text)
    head, line, caret = out.split("\n")
    assert head == "f.toon:2:7: missing colon"
    assert line == "  \\x1b[31mkey 1"
    assert caret.index("^") == line.index("e")  # column 7 is the "e" of "key"


def test_exit_codes_and_pickling_across_pools() -> None:
    assert exit_code_of(ToolError("x")) == 2
    assert exit_code_of(Finding("x")) == 1
    assert exit_code_of(ToonDecodeError("x", 1, 1)) == 1
    assert exit_code_of(OSError("x")) == 2
    for err in (ToolError("m", path="p", line=1, column=2), Finding("f", path="q"),
                ToonDecodeError("d", 3, 4)):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert (back.path, back.line, back.column, back.message) == \
            (err.path, err.line, err.column, err.message)
