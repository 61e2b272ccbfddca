"""``toon fmt FILES... [--check] [--diff]``: canonical formatting that keeps the
data, each array's delimiter and every comment (``toon_tools.codec.format_text``)."""

from __future__ import annotations

import re

import click

from .._files import file_options, find_files
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, escape

#: what happened to a file
UNCHANGED, CHANGED, INVALID, FAILED = "unchanged", "changed", "invalid", "failed"
#: --delimiter choices
DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|"}
#: Regions of the diff that difflib may match line by line: past this many line
#: pairs its quadratic matcher would cost more than formatting the file.
_DIFFLIB_PAIRS = 40_000
#: What escape() would change (tab and the line feeds that split lines aside).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")


def format_file(path: str, indent_size: int, delimiter: str | None, mode: str) -> tuple[str, str]:
    """Format one file; returns (outcome, report). ``mode`` is "write", "check"
    (compare only) or "diff" (the report is a unified diff)."""
    from ...codec import ToonDecodeError, format_text
    from ...files import atomic_write

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return FAILED, describe(e, path)
    try:
        formatted = format_text(data, indent_size=indent_size, delimiter=delimiter)
    except ToonDecodeError as e:
        source = data.decode("utf-8", errors="replace")
        return INVALID, diagnostic(path, e.line, e.column, e.msg, source)
    new = formatted.encode("utf-8")
    if new == data:
        return UNCHANGED, ""
    if mode == "write":
        try:
            atomic_write(path, formatted)
        except OSError as e:
            return FAILED, describe(e, path)
        return CHANGED, ""
    if mode == "diff":
        original = data.decode("utf-8")  # format_text has checked it
        return CHANGED, unified_diff(original, formatted, path)
    return CHANGED, ""


# ---------------------------------------------------------------- the diff


def _lines(text: str) -> list[str]:
    """Lines with their terminators, split on LF only (``str.splitlines`` would
    also split on U+2028, U+0085 and friends, which TOON strings hold as data)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def matching_blocks(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """``difflib.SequenceMatcher.get_matching_blocks()`` in near-linear time.

    Common prefix and suffix first; in between, lines that occur exactly once on
    each side anchor the match (patience diff: the longest increasing run of such
    pairs, O(n log n)), each anchor grown over equal neighbours; difflib matches
    only what is left between anchors when that is small. A formatter changes
    most lines in place, which this finds; it never goes quadratic.
    """
    import bisect
    import difflib

    blocks: list[tuple[int, int, int]] = []
    n, m = len(a), len(b)
    head = 0
    while head < n and head < m and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and tail < m - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    if head:
        blocks.append((0, 0, head))

    def region(i0: int, i1: int, j0: int, j1: int) -> None:
        if i0 >= i1 or j0 >= j1:
            return
        if (i1 - i0) * (j1 - j0) <= _DIFFLIB_PAIRS:
            matcher = difflib.SequenceMatcher(None, a[i0:i1], b[j0:j1], autojunk=False)
            blocks.extend((i0 + i, j0 + j, size)
                          for i, j, size in matcher.get_matching_blocks() if size)
            return
        count_a: dict[str, int] = {}
        for line in a[i0:i1]:
            count_a[line] = count_a.get(line, 0) + 1
        where_b: dict[str, int] = {}
        count_b: dict[str, int] = {}
        for j in range(j0, j1):
            line = b[j]
            count_b[line] = count_b.get(line, 0) + 1
            where_b[line] = j
        pairs = [(i, where_b[a[i]]) for i in range(i0, i1)
                 if count_a[a[i]] == 1 and count_b.get(a[i]) == 1]
        # longest increasing subsequence of the b-indexes (patience sorting)
        tops: list[int] = []
        top_at: list[int] = []
        back: list[int] = []
        for k, (_, j) in enumerate(pairs):
            pos = bisect.bisect_left(tops, j)
            if pos == len(tops):
                tops.append(j)
                top_at.append(k)
            else:
                tops[pos] = j
                top_at[pos] = k
            back.append(top_at[pos - 1] if pos else -1)
        chain: list[tuple[int, int]] = []
        k = top_at[-1] if top_at else -1
        while k >= 0:
            chain.append(pairs[k])
            k = back[k]
        chain.reverse()
        if not chain:
            return  # nothing in common worth finding: one replaced block
        ci, cj = i0, j0
        for i, j in chain:
            if i < ci or j < cj:
                continue  # swallowed by the previous anchor's growth
            start_i, start_j = i, j
            while start_i > ci and start_j > cj and a[start_i - 1] == b[start_j - 1]:
                start_i -= 1
                start_j -= 1
            end_i, end_j = i + 1, j + 1
            while end_i < i1 and end_j < j1 and a[end_i] == b[end_j]:
                end_i += 1
                end_j += 1
            region(ci, start_i, cj, start_j)
            blocks.append((start_i, start_j, end_i - start_i))
            ci, cj = end_i, end_j
        region(ci, i1, cj, j1)

    region(head, n - tail, head, m - tail)
    if tail:
        blocks.append((n - tail, m - tail, tail))
    blocks.append((n, m, 0))
    return blocks


def unified_diff(original: str, formatted: str, path: str, context: int = 3) -> str:
    """``diff -u`` of the two texts, as ``difflib.unified_diff`` writes it, in
    near-linear time. Lines are shown escaped (a terminal never receives a
    control character from a file)."""
    import difflib

    a, b = _lines(original), _lines(formatted)
    plain = _UNSAFE.search(original) is None and _UNSAFE.search(formatted) is None

    class Matcher(difflib.SequenceMatcher):  # type: ignore[type-arg]
        def get_matching_blocks(self) -> list[difflib.Match]:
            return [difflib.Match(*blk) for blk in matching_blocks(a, b)]

    matcher = Matcher(None, a, b)

    def show(line: str) -> str:
        if line.endswith("\n"):
            return line if plain else escape(line[:-1]) + "\n"
        return (line if plain else escape(line)) + "\n\\ No newline at end of file\n"

    def span(start: int, stop: int) -> str:
        length = stop - start
        first = start + 1 if length else start
        return str(first) if length == 1 else f"{first},{length}"

    name = escape(path)
    out: list[str] = []
    for group in matcher.get_grouped_opcodes(context):
        if not out:
            out = [f"--- {name}\t(original)\n", f"+++ {name}\t(formatted)\n"]
        out.append(f"@@ -{span(group[0][1], group[-1][2])} "
                   f"+{span(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + show(line) for line in a[i1:i2])
                continue
            out.extend("-" + show(line) for line in a[i1:i2])
            out.extend("+" + show(line) for line in b[j1:j2])
    return "".join(out)


# ---------------------------------------------------------------- the command


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if any file would be reformatted.")
@click.option("--diff", is_flag=True,
              help="Change nothing; print a unified diff of the changes and exit 1 if any.")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Spaces per indentation level, in the files and in the result.")
@click.option("--delimiter", "-d", type=click.Choice(list(DELIMITERS)), default=None,
              help="Rewrite every array with this delimiter [default: each array keeps "
                   "its own].")
@click.option("--exit-non-zero-on-fix", is_flag=True,
              help="Exit 1 when files were reformatted (for hooks).")
@click.option("--skip-invalid", is_flag=True,
              help="Leave invalid files alone without reporting them; for hook setups "
                   "where toon-check reports them.")
@file_options
def fmt(files: tuple[str, ...], check_only: bool, diff: bool, indent_size: int,
        delimiter: str | None, exit_non_zero_on_fix: bool, skip_invalid: bool,
        force_exclude: bool) -> int:
    """Rewrite TOON files in canonical form, keeping full-line comments.

    The data, each array's delimiter and every comment stay: a comment keeps
    the line it precedes. Files end with one newline. Invalid files are reported (path:line:col) and
    left alone; so is a file where a comment would have to move (a comment
    between the fields of a list item that becomes a table row).

    Exit codes: 0 all formatted; 1 an invalid file, a file that would be
    reformatted (--check, --diff) or was (--exit-non-zero-on-fix); 2 an I/O error.
    """
    from functools import partial

    from ...parallel import FORMAT, map_in_order

    mode = "diff" if diff else "check" if check_only else "write"
    counts = {UNCHANGED: 0, CHANGED: 0, INVALID: 0, FAILED: 0}
    paths, volume = find_files(files, force_exclude)
    work = partial(format_file, indent_size=indent_size,
                   delimiter=DELIMITERS[delimiter] if delimiter else None, mode=mode)
    for path, (outcome, report) in zip(paths, map_in_order(work, paths, FORMAT,
                                                            total_bytes=volume)):
        counts[outcome] += 1
        if outcome == FAILED:
            error(report)
        elif outcome == INVALID:
            if not skip_invalid:
                click.echo(report)
        elif outcome == CHANGED:
            if mode == "diff":
                click.echo(report, nl=False)
            elif mode == "check":
                click.echo(f"Would reformat: {escape(path)}")
            else:
                click.echo(f"Reformatted: {escape(path)}", err=True)
    changed = counts[CHANGED]
    verb = "reformatted" if mode == "write" else "would be reformatted"
    invalid = counts[INVALID]
    click.echo(f"{changed} file{'s' * (changed != 1)} {verb}, {counts[UNCHANGED]} unchanged"
               + (f", {invalid} invalid" if invalid and not skip_invalid else ""), err=True)
    if counts[FAILED]:
        return ERROR
    if (invalid and not skip_invalid) or (changed and (mode != "write" or exit_non_zero_on_fix)):
        return FINDINGS
    return OK
