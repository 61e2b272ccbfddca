"""A unified diff in near-linear time, for ``toon fmt --diff``.

``difflib``'s matcher is quadratic in the lines that differ: on a formatter's
output, where most lines change in place, a 1 MB file took seconds. This finds
the same kind of matching blocks with a patience diff and leaves only small
regions to difflib (scripts/bench_fmt.py measures it against formatting).
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Regions of the diff that difflib may match line by line: past this many line
#: pairs its quadratic matcher would cost more than formatting the file.
_DIFFLIB_PAIRS = 40_000
#: Characters a display escaper would change (tab and line feeds aside).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")

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


def unified_diff(original: str, formatted: str, from_name: str, to_name: str,
                 context: int = 3, show: Callable[[str], str] | None = None) -> str:
    """``diff -u`` of the two texts, as ``difflib.unified_diff`` writes it, in
    near-linear time. ``show`` (the CLI passes its escaper) turns each line's
    text into what is printed, so a terminal never receives a control character
    from a file; it is called only when some line holds one."""
    import difflib

    a, b = _lines(original), _lines(formatted)
    plain = show is None or (_UNSAFE.search(original) is None
                             and _UNSAFE.search(formatted) is None)
    shown: Callable[[str], str] = (lambda text: text) if plain or show is None else show

    class Matcher(difflib.SequenceMatcher):  # type: ignore[type-arg]
        def get_matching_blocks(self) -> list[difflib.Match]:
            return [difflib.Match(*blk) for blk in matching_blocks(a, b)]

    matcher = Matcher(None, a, b)

    def render(line: str) -> str:
        if line.endswith("\n"):
            return shown(line[:-1]) + "\n"
        return shown(line) + "\n\\ No newline at end of file\n"

    def span(start: int, stop: int) -> str:
        length = stop - start
        first = start + 1 if length else start
        return str(first) if length == 1 else f"{first},{length}"

    out: list[str] = []
    for group in matcher.get_grouped_opcodes(context):
        if not out:
            out = [f"--- {from_name}\n", f"+++ {to_name}\n"]
        out.append(f"@@ -{span(group[0][1], group[-1][2])} "
                   f"+{span(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + render(line) for line in a[i1:i2])
                continue
            out.extend("-" + render(line) for line in a[i1:i2])
            out.extend("+" + render(line) for line in b[j1:j2])
    return "".join(out)
