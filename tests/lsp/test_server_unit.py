"""What the end-to-end tests cannot provoke from outside: a bug inside a
handler. The wrapper every handler wears answers with the empty result instead
of an error response, and the server object goes on."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from toon_tools.lsp import server


def test_an_internal_error_is_answered_with_the_empty_result() -> None:
    ls = server.build()
    broken = types.DocumentFormattingParams(
        text_document=None,  # type: ignore[arg-type]  # what a bug would hand over
        options=types.FormattingOptions(tab_size=2, insert_spaces=True))
    assert asyncio.run(server.formatting(ls, broken)) == []
    hover = types.HoverParams(text_document=None, position=types.Position(0, 0))  # type: ignore[arg-type]
    assert asyncio.run(server.hover(ls, hover)) is None


def test_touches_and_whole_lines() -> None:
    from toon_tools.codec import Range

    lines = server.whole_lines(Range(3, 5, 5, 1))  # ends at the start of line 5
    assert (lines.line, lines.column, lines.end_line) == (3, 1, 4)
    assert server.touches(Range(4, 9, 4, 10), lines)
    assert not server.touches(Range(5, 1, 5, 2), lines)
    assert server.touches(Range(3, 1, 3, 1), lines)  # an insertion at its border
    assert server.touches(Range(4, 9, 5, 1), lines)  # the last line's line ending
    # an edit that ends where the range starts changes only what is before it
    assert not server.touches(Range(2, 1, 3, 1), lines)
    assert not server.touches(Range(2, 4, 3, 1), lines)
