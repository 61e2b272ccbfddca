"""Hand-written Markdown -> TOON data (markdown-it-py)."""

from __future__ import annotations

import pytest

from toon_tools.convert.markdown import MarkdownError, md_to_data

PLAN = """\
---
title: Sprint 12
owner: ada
points: 21
---
# Goals

Ship the twins.

## Tasks

- [ ] write tests
- [x] write code

## Budget

| item | cost | approved |
|---|---|---|
| tokens | 120 | true |
| gpus | "5" | false |

## Owners

- **api**: ada
- **worker**: bob

## Snippet

```python
print("hi")
```

## Notes

- first
- 2
- null
"""


def test_a_plan_document() -> None:
    assert md_to_data(PLAN) == {
        "metadata": {"title": "Sprint 12", "owner": "ada", "points": 21},
        "Goals": {
            "text": "Ship the twins.",
            "Tasks": [{"done": False, "text": "write tests"}, {"done": True, "text": "write code"}],
            "Budget": [{"item": "tokens", "cost": 120, "approved": True},
                       {"item": "gpus", "cost": "5", "approved": False}],
            "Owners": {"api": "ada", "worker": "bob"},
            "Snippet": {"lang": "python", "code": 'print("hi")'},
            "Notes": ["first", 2, None],
        },
    }


def test_keyed_table_and_mixed_sections() -> None:
    md = "# Services\n\n| | port |\n|---|---|\n| api | 80 |\n| db | 5432 |\n\n# Intro\n\nOne.\n\nTwo.\n"
    assert md_to_data(md) == {"Services": {"api": {"port": 80}, "db": {"port": 5432}},
                              "Intro": ["One.", "Two."]}


def test_duplicate_headings_keep_both() -> None:
    assert md_to_data("# A\n\nx\n\n# A\n\ny\n") == {"A": "x", "A (2)": "y"}


def test_inline_markup_becomes_text() -> None:
    assert md_to_data("A *very* `fine` [link](http://x) day") == "A very fine link day"


def test_bad_front_matter_is_an_error() -> None:
    with pytest.raises(MarkdownError, match="front matter line"):
        md_to_data('---\ntitle: "unterminated\n---\n# x\n')


def test_empty_document() -> None:
    assert md_to_data("") == {}
