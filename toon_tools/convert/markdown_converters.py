"""TOON <-> Markdown converters (the twin and the markdown-it-py reader)."""

from __future__ import annotations

from ..codec import decode, encode
from .registry import ConversionError, Converter, register


@register
class ToonToMarkdown(Converter):
    source, target = "toon", "md"
    description = "TOON to its Markdown twin (converts back exactly)"

    def convert(self, data: bytes, name: str) -> str:
        from .twin_render import to_markdown

        return to_markdown(decode(data), name.rsplit("/", 1)[-1], data).rstrip("\n")


@register
class MarkdownToToon(Converter):
    source, target = "md", "toon"
    description = "Markdown (headings, tables, lists, tasks, code, front matter) to TOON"

    def convert(self, data: bytes, name: str) -> str:
        from .markdown import MarkdownError, md_to_data

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConversionError(f"{name}: invalid UTF-8 at byte {e.start}") from None
        try:
            return encode(md_to_data(text))
        except MarkdownError as e:
            raise ConversionError(f"{name}: {e}") from None
