"""The near-linear unified diff behind ``toon fmt --diff``: always a correct
patch, in difflib's format."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toon_tools import textdiff
from toon_tools.textdiff import unified_diff


def test_lines_are_shown_through_the_callers_escaper_only_when_needed() -> None:
    seen: list[str] = []

    def show(text: str) -> str:
        seen.append(text)
        return text.replace("\x1b", "<ESC>")

    assert unified_diff("a\n", "b\n", "x", "y", show=show) == "--- x\n+++ y\n@@ -1 +1 @@\n-a\n+b\n"
    assert seen == []
    out = unified_diff("\x1b[2J\n", "b", "x", "y", show=show)
    assert out == "--- x\n+++ y\n@@ -1 +1 @@\n-<ESC>[2J\n+b\n\\ No newline at end of file\n"


def _apply(diff: str, original: list[str]) -> list[str]:
    """Apply a unified diff (as ``patch`` would) to check that it is right."""
    out: list[str] = []
    at = 0
    for line in diff.split("\n")[2:]:
        if line.startswith("@@"):
            start = int(line.split()[1][1:].split(",")[0])
            length = line.split()[1][1:].split(",")
            begin = start - 1 if len(length) == 1 or int(length[1]) else start
            out.extend(original[at:begin])
            at = begin
        elif line.startswith(" ") or line.startswith("-"):
            assert original[at] == line[1:]
            at += 1
            if line[0] == " ":
                out.append(line[1:])
        elif line.startswith("+"):
            out.append(line[1:])
    return out + original[at:]


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=30),
       st.lists(st.sampled_from(["a", "b", "c", "x", "y"]), max_size=30))
def test_unified_diff_is_a_correct_patch_in_difflib_format(a: list[str], b: list[str]) -> None:
    import difflib

    old, new = "".join(x + "\n" for x in a), "".join(x + "\n" for x in b)
    ours = unified_diff(old, new, "f\t(original)", "f\t(formatted)")
    assert _apply(ours, a) == b
    theirs = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                          "f\t(original)", "f\t(formatted)"))
    assert ours.split("\n")[:2] == theirs.split("\n")[:2]
    assert (ours == "") == (a == b)


@given(st.lists(st.integers(0, 400), max_size=600), st.data())
def test_large_diffs_take_the_linear_path_and_stay_correct(base: list[int],
                                                            data: st.DataObject) -> None:
    a = [f"line {n}" for n in base]
    b = list(a)
    for _ in range(data.draw(st.integers(0, 40))):
        if b and data.draw(st.booleans()):
            del b[data.draw(st.integers(0, len(b) - 1))]
        else:
            b.insert(data.draw(st.integers(0, len(b))), f"new {data.draw(st.integers(0, 9))}")
    old, new = "".join(x + "\n" for x in a), "".join(x + "\n" for x in b)
    saved = textdiff._DIFFLIB_PAIRS
    textdiff._DIFFLIB_PAIRS = 16  # force the anchor path on small inputs
    try:
        diff = unified_diff(old, new, "a", "b")
    finally:
        textdiff._DIFFLIB_PAIRS = saved
    assert _apply(diff, a) == b
    assert (diff == "") == (a == b)
