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


def test_emphasis_goes_but_links_images_and_code_stay() -> None:
    assert md_to_data("A *very* `fine` [link](http://x) day") == "A very `fine` [link](http://x) day"
    assert md_to_data('See [the *docs*](https://e.org/a?b=1 "Title \\"q\\"") and <https://e.org>.') \
        == 'See [the docs](https://e.org/a?b=1 "Title \\"q\\"") and <https://e.org>.'
    assert md_to_data("![a *logo*](img/logo.png) `` a`b `` and `` `x` ``") == \
        "![a logo](img/logo.png) ``a`b`` and `` `x` ``"
    assert md_to_data("# Use `toon fmt`\n\n- [x] read [spec](SPEC.md)\n") == \
        {"Use `toon fmt`": [{"done": True, "text": "read [spec](SPEC.md)"}]}


def test_links_and_code_survive_a_second_conversion() -> None:
    text = "Run `toon check` as in [the guide](docs/guide.md)."
    assert md_to_data(md_to_data(text)) == text


def test_bad_front_matter_is_an_error() -> None:
    with pytest.raises(MarkdownError, match="front matter: ") as info:
        md_to_data('---\ntitle: "unterminated\n---\n# x\n')
    assert info.value.line == 2


@pytest.mark.parametrize("body", ['"', '"":', "- **\"k**: 1"])
def test_a_twin_header_over_a_body_that_is_no_twin(body: str) -> None:
    from toon_tools.convert.twin_render import to_markdown

    header = to_markdown({}, "x.toon", b"").split("\n", 1)[0]
    with pytest.raises(MarkdownError, match="a twin's values are TOON tokens") as info:
        md_to_data(f"{header}\n\n{body}\n")
    assert info.value.line == 3


def test_empty_document() -> None:
    assert md_to_data("") == {}
