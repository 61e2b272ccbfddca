"""JSON-model equality (spec §2): what "decodes to the same value" means.

Python's ``==`` is too loose (``True == 1``) and too strict about nothing: it ignores
key order. This compares types, values and key order, without recursion.
"""

from __future__ import annotations

from typing import Any


def json_equal(a: Any, b: Any, *, ordered_keys: bool = True) -> bool:
    """``ordered_keys=False`` compares objects as key sets: tabular forms reorder
    keys to the header's field order (§2), so a round trip needs it."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if isinstance(x, bool) or isinstance(y, bool):
            if type(x) is not type(y) or x != y:
                return False
        elif x is None or y is None:
            if x is not y:
                return False
        elif isinstance(x, (int, float)):
            if not isinstance(y, (int, float)) or not _same_number(x, y):
                return False
        elif isinstance(x, str):
            if not isinstance(y, str) or x != y:
                return False
        elif isinstance(x, dict):
            if not isinstance(y, dict) or (list(x) != list(y) if ordered_keys else x.keys() != y.keys()):
                return False
            pending.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y):
                return False
            pending.extend(zip(x, y))
        else:
            raise TypeError(f"not a JSON-model value: {type(x).__name__}")
    return True


def _same_number(x: int | float, y: int | float) -> bool:
    """Equal by value; an int and a float are equal when the int rounds to the float.

    §2 emits integral floats as integers ("1e17" as 100000000000000000), which the
    decoder returns as exact ints; beyond 2**53 the int is the float's shortest
    decimal form, so it rounds back to the same float.
    """
    if type(x) is type(y):
        return x == y
    try:
        return float(x) == float(y)
    except OverflowError:
        return False
