"""One registry of converters. A format pair is one small class in its own module;
adding a format means adding a module and naming it in ``MODULES``.

Converters take the source's bytes and name and return the target's text. They
raise ``ConversionError`` (or ``ToonDecodeError``) for bad input and never print.
"""

from __future__ import annotations

import importlib
from typing import ClassVar, Final


from ..errors import Finding


class ConversionError(Finding, ValueError):
    """The input cannot be converted (exit 1); the message says why, in one line,
    and ``path``/``line``/``column`` say where when known."""


class Converter:
    source: ClassVar[str]
    target: ClassVar[str]
    description: ClassVar[str]

    def convert(self, data: bytes, name: str) -> str:
        raise NotImplementedError


#: Modules that define converters; imported only when the registry is first used,
#: and none of them imports a heavy dependency at module level.
MODULES: Final = (
    "toon_tools.convert.json_toon",
    "toon_tools.convert.markdown_converters",
    "toon_tools.convert.pdf",
    "toon_tools.convert.checkpoint",
)

#: File suffix -> format name.
SUFFIXES: Final = {
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".toon": "toon",
    ".md": "md", ".markdown": "md", ".pdf": "pdf",
}
#: Format name -> the suffix its output files get.
OUTPUT_SUFFIX: Final = {"json": ".json", "jsonl": ".jsonl", "toon": ".toon", "md": ".md"}

_REGISTRY: dict[tuple[str, str], type[Converter]] = {}
_loaded = False


def register(cls: type[Converter]) -> type[Converter]:
    _REGISTRY[(cls.source, cls.target)] = cls
    return cls


def converters() -> dict[tuple[str, str], type[Converter]]:
    global _loaded
    if not _loaded:
        for module in MODULES:
            importlib.import_module(module)
        _loaded = True
    return dict(_REGISTRY)


def lookup(source: str, target: str) -> Converter:
    found = converters().get((source, target))
    if found is None:
        pairs = ", ".join(f"{s}->{t}" for s, t in sorted(converters()))
        raise ConversionError(f"no converter from {source} to {target} (available: {pairs})")
    return found()


def format_of(name: str) -> str | None:
    lower = name.lower()
    for suffix, fmt in SUFFIXES.items():
        if lower.endswith(suffix):
            return fmt
    return None
