"""The shape of a step's reply, from its output declaration, and everything built
from it: the TOON skeleton a prompt ends with, OpenAI's JSON Schema
``response_format`` and llama.cpp's GBNF grammar (issue 12, items 1 and 2).

A declaration (``output: required[...]``) lists fields, each one of:

- ``name``: one text;
- ``name[]``: a list of texts, any count (1 or more);
- ``name[N]``: a list of exactly N texts, N from 1 to 1000.

``name`` is a TOON key that needs no quoting (§7.3) and no dot, so it reads the
same in TOON, JSON and a template path. ``name[]`` is our notation only: TOON has
no ``[]`` header (§6), so the skeleton never shows it to a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

_ENTRY: Final = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(|[1-9][0-9]{0,3})\])?\Z")
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9_-]")

#: The largest fixed count a declaration may ask for.
MAX_COUNT: Final = 1000
#: Fixed counts up to this many show every ``<text>`` in the skeleton.
_SPELLED_OUT: Final = 5
#: A list of any count admits 1 to this many items under a grammar: each count
#: is its own alternative, so the header can never miscount its items.
GRAMMAR_MAX_ITEMS: Final = 32
#: Longest text and list item a grammar admits, in characters: a model that
#: never closes its quote still stops. Below 2000: llama.cpp refuses a
#: repetition of exactly 2000 in many releases (ggml-org/llama.cpp#27087), and
#: its server then ignores the grammar with no error in the reply.
GRAMMAR_MAX_TEXT: Final = 1999
GRAMMAR_MAX_ITEM: Final = 300

#: What the skeleton shows in place of each text; a reply that copies it back is rejected.
PLACEHOLDER: Final = "<text>"
_EXPECTED: Final = "expected name, name[] or name[N] (N from 1 to 1000)"
_QUOTING: Final = 'Double-quote texts holding , : or " (" as \\").'


@dataclass(frozen=True)
class FieldShape:
    """One declared field: a text, or a list of texts of ``count`` items (None: any, 1 or more)."""

    name: str
    is_list: bool
    count: int | None

    def header(self) -> str:
        """The field's TOON key as a model writes it: ``tags[3]``, ``tags[N]`` or ``title``."""
        if not self.is_list:
            return self.name
        return f"{self.name}[{'N' if self.count is None else self.count}]"


@dataclass(frozen=True)
class OutputShape:
    """The fields a reply must hold, in declared order."""

    fields: tuple[FieldShape, ...]

    @classmethod
    def parse(cls, declared: Sequence[str]) -> OutputShape:
        """Read a declaration; ValueError (one line) on a bad entry or a duplicate name."""
        if not declared:
            raise ValueError("declare at least one field (name, name[] or name[N])")
        fields: list[FieldShape] = []
        seen: set[str] = set()
        for entry in declared:
            m = _ENTRY.match(entry)
            count = int(m.group(2)) if m and m.group(2) else None
            if m is None or (count is not None and count > MAX_COUNT):
                raise ValueError(f"bad output field {_quoted(entry)}: {_EXPECTED}")
            name = m.group(1)
            if name in seen:
                raise ValueError(f"output field '{name}' is declared twice")
            seen.add(name)
            fields.append(FieldShape(name, m.group(2) is not None, count))
        return cls(tuple(fields))

    # ------------------------------------------------------------ the prompt

    def skeleton(self, *, quoting: bool = True) -> str:
        """The text a prompt ends with: the TOON expected, one line per field,
        and only the notes this shape needs (what N is, quoting per §7.2)."""
        lines = ["Reply with only this TOON, each <text> replaced:"]
        notes: list[str] = []
        any_count = [f.name for f in self.fields if f.is_list and f.count is None]
        for f in self.fields:
            if not f.is_list:
                lines.append(f"{f.name}: {PLACEHOLDER}")
            elif f.count is not None and f.count <= _SPELLED_OUT:
                lines.append(f"{f.header()}: " + ",".join([PLACEHOLDER] * f.count))
            else:
                lines.append(f"{f.header()}: {PLACEHOLDER},{PLACEHOLDER},...")
                if f.count is not None:
                    notes.append(f"Write exactly {f.count} texts in {f.name}.")
        if len(any_count) == 1:
            notes.insert(0, f"N is the number of {any_count[0]} written.")
        elif any_count:
            notes.insert(0, "Each N is the number of texts written after it.")
        return "\n".join(lines + notes + ([_QUOTING] if quoting else []))

    def json_skeleton(self) -> str:
        """What a json-schema request's prompt ends with (the schema itself goes in
        ``response_format``). The placeholders stand bare, not as JSON strings,
        so that a model held to the schema cannot copy them back as its answer."""
        parts = []
        for f in self.fields:
            value = (f"[{', '.join([PLACEHOLDER] * (f.count or 2))}{'' if f.count else ', ...'}]"
                     if f.is_list else PLACEHOLDER)
            parts.append(f'"{f.name}": {value}')
        return ("Reply with only this JSON object, each <text> a JSON string:\n{"
                + ", ".join(parts) + "}")

    # ------------------------------------------------------------ structured output

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema for OpenAI structured outputs in strict mode: every field
        required, nothing else allowed."""
        properties: dict[str, Any] = {}
        for f in self.fields:
            if not f.is_list:
                properties[f.name] = {"type": "string"}
                continue
            schema: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
            if f.count is None:
                schema["minItems"] = 1
            else:
                schema["minItems"] = schema["maxItems"] = f.count
            properties[f.name] = schema
        return {
            "type": "object",
            "properties": properties,
            "required": [f.name for f in self.fields],
            "additionalProperties": False,
        }

    def response_format(self, name: str) -> dict[str, Any]:
        """OpenAI's ``response_format`` for this shape; ``name`` is made safe
        (``[A-Za-z0-9_-]``, at most 64 characters, as the API requires)."""
        safe = _UNSAFE_NAME.sub("_", name)[:64] or "output"
        return {"type": "json_schema",
                "json_schema": {"name": safe, "schema": self.json_schema(), "strict": True}}

    def gbnf(self, *, max_text: int = GRAMMAR_MAX_TEXT, max_item: int = GRAMMAR_MAX_ITEM) -> str:
        """A GBNF grammar (llama.cpp's ``grammar`` request field) admitting exactly
        TOON of this shape: the fields in declared order, one per line, no
        leading whitespace and no trailing newline.

        Every text is a quoted string (§7.2) with only the escapes of §7.1 that a
        text needs and no raw control character, so any admitted reply decodes.
        A text holds 1 to ``max_text`` characters and a list item 1 to
        ``max_item`` (both below 2000), so that a model that never closes its
        quote, as small models do, still ends its reply. A list header's count is
        part of the alternative that writes its items, so it always matches them
        (§6, §14.1).
        """
        for bound in (max_text, max_item):
            if not 1 <= bound < 2000:
                raise ValueError(f"a grammar's text bound is from 1 to 1999, got {bound}")
        rules = ["root ::= " + ' "\\n" '.join(f"f{i}" for i in range(len(self.fields)))]
        for i, f in enumerate(self.fields):
            if not f.is_list:
                rules.append(f'f{i} ::= "{f.name}: " text')
            elif f.count is not None:
                rules.append(f'f{i} ::= "{f.name}[" {_items(f.count)}')
            else:
                alts = " | ".join(_items(k) for k in range(1, GRAMMAR_MAX_ITEMS + 1))
                rules.append(f'f{i} ::= "{f.name}[" ( {alts} )')
        rules += [
            f'text ::= "\\"" char{{1,{max_text}}} "\\""',
            f'item ::= "\\"" char{{1,{max_item}}} "\\""',
            'char ::= [^"\\\\\\x00-\\x1F] | "\\\\" ["\\\\nrt]',
        ]
        return "\n".join(rules)


def text_gbnf(max_chars: int = GRAMMAR_MAX_TEXT) -> str:
    """The grammar of a step that declares no shape: any text of 1 to
    ``max_chars`` characters (newlines and tabs allowed, no other control
    character), so that under ``toon-grammar`` a model that never stops on its
    own, as base models do, still ends its reply."""
    if not 1 <= max_chars < 2000:
        raise ValueError(f"a grammar's text bound is from 1 to 1999, got {max_chars}")
    return f"root ::= [^\\x00-\\x08\\x0B-\\x1F]{{1,{max_chars}}}"


def _items(count: int) -> str:
    """``3]: item ("," item){2}``: a header's count and then exactly that many items."""
    rest = f' ("," item){{{count - 1}}}' if count > 1 else ""
    return f'"{count}]: " item{rest}'


def _quoted(entry: str) -> str:
    """An entry shown in a one-line message: quoted, control characters escaped."""
    return repr(entry[:40] + ("..." if len(entry) > 40 else ""))


#: The shape a step that declares none is asked in under json-schema: one text.
TEXT_SHAPE: Final = OutputShape((FieldShape("text", False, None),))
