"""The line-level syntax shared by decode and the streaming decoder (_syntax.py).

Two places where the copies had drifted apart before they were merged: each
decoder must now give what the other gives.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from toon_tools.codec import ToonDecodeError, decode
from toon_tools.codec._stream import iter_events


def test_parse_int_reaches_plain_integer_cells_of_a_table() -> None:
    # The row fast path turned "5" into int(5) even with parse_int given.
    doc = "a[2]{x,y}:\n  5,1.5\n  07,-3"
    got = decode(doc, parse_int=Decimal, parse_float=Decimal)
    assert got == {"a": [{"x": Decimal(5), "y": Decimal("1.5")}, {"x": "07", "y": Decimal(-3)}]}
    assert all(type(row["x"]) is t for row, t in zip(got["a"], (Decimal, str)))


@pytest.mark.parametrize("doc", [
    'items[1]:\n  - [2]: a,"x\n',  # inline array on a hyphen line: the hyphen's offset counts
    'items[1]:\n  - k[2]: a,"x\n',  # the same, as the first field of a list-item object
    'k[2]: a,"x\n',
    'm[1:]{a,b}:\n  e: 1,"x\n',  # an entry row's cells
    't[1]{a,b}:\n  1,"x\n',  # a quoted tabular row
    't[1]{a,b}:\n  1,2,"x\n',
])
def test_cell_errors_stand_where_decode_puts_them(doc: str) -> None:
    with pytest.raises(ToonDecodeError) as whole:
        decode(doc)
    with pytest.raises(ToonDecodeError) as streamed:
        list(iter_events(doc))
    assert (streamed.value.msg, streamed.value.line, streamed.value.column) == (
        whole.value.msg, whole.value.line, whole.value.column)


@pytest.mark.parametrize("doc", ['a: 1\na: "x', "a: 1\na: 2", "a: 1\na:", "a:\n  b: 1\na: []"])
def test_a_duplicate_key_outranks_what_follows_it_on_its_line(doc: str) -> None:
    # decode stores the key and then sees the dict did not grow; an error in
    # the value itself must still be reported as the duplicate, at the key.
    for run in (lambda: decode(doc), lambda: list(iter_events(doc))):
        with pytest.raises(ToonDecodeError) as e:
            run()
        last = doc.count("\n") + 1
        assert (e.value.msg, e.value.line, e.value.column) == ("duplicate key 'a'", last, 1)
