"""TOON <-> Markdown converters (the twin and the markdown-it-py reader)."""

from __future__ import annotations

from ..codec import decode, encode
from .registry import ConversionError, Converter, register


@register
class ToonToMarkdown(Converter):
    source, target = "toon", "md"
    description = "TOON to its Markdown twin (converts back exactly)"
    suffixes, output_suffix = (".toon",), ".md"
    default = True  # a .toon file's usual conversion is its twin

    def convert(self, data: bytes, name: str) -> str:
        from .twin_render import to_markdown

        return to_markdown(decode(data), name.rsplit("/", 1)[-1], data).rstrip("\n")


@register
class MarkdownToToon(Converter):
    source, target = "md", "toon"
    description = "Markdown (headings, tables, lists, tasks, code, front matter) to TOON"
    suffixes, output_suffix = (".md", ".markdown"), ".toon"

    def convert(self, data: bytes, name: str) -> str:
        from .markdown import MarkdownError, md_to_data

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            column = len(data[data.rfind(b"\n", 0, e.start) + 1:e.start].decode("utf-8", "replace"))
            raise ConversionError(f"invalid UTF-8: byte 0x{data[e.start]:02x} ({e.reason})",
                                  path=name, line=line, column=column + 1) from None
        try:
            return encode(md_to_data(text))
        except MarkdownError as e:
            raise ConversionError(e.message, path=name, line=e.line, column=e.column) from None
