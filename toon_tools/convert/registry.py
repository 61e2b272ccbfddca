"""One closed registry of converters. A format pair is one small class in its own
module; adding a format means adding a module and naming it in ``MODULES``:
``toon convert`` takes its ``--from``/``--to`` choices, its help and its suffix
table from here, with no case of its own for any format.
"""

from __future__ import annotations

import importlib
from typing import ClassVar, Final, Literal

from ..errors import Finding, ToolError

#: Input kinds: a converter reads the bytes of a file (or stdin), or it takes a
#: path and reads what it needs itself (a checkpoint reads a git repository).
BYTES: Final = "bytes"
PATH: Final = "path"
InputKind = Literal["bytes", "path"]


class ConversionError(Finding, ValueError):
    """The input cannot be converted (exit 1); the message says why, in one line,
    and ``path``/``line``/``column`` say where when known."""


class Converter:
    """The extension point: one conversion from a ``source`` format to a ``target``.

    A subclass declares, as class attributes:

    - ``source``, ``target``: format names (the ``--from``/``--to`` choices);
    - ``description``: one line for ``toon convert --list`` and ``--help``;
    - ``suffixes``: file suffixes (lower case, with the dot) that mark a file as
      ``source``; empty when a source is never recognised by its name;
    - ``output_suffix``: the suffix of the files it writes (every converter to
      one target agrees on it);
    - ``input``: :data:`BYTES` or :data:`PATH` (see :meth:`convert`);
    - ``default``: True for the one conversion a ``source`` file gets when no
      ``--to`` is given (needed only when a format converts to several targets).

    and implements :meth:`convert`. Converters are instantiated per input, maybe
    in a pool worker, and must not import heavy dependencies at module level.

    An instance carries the caller's options:

    - ``jobs``: the worker processes a converter may spread its own work over
      (PDF pages), passed as ``jobs=`` to :mod:`toon_tools.parallel`: None means
      ``TOON_TOOLS_JOBS``, else the CPU count; 1 means this process. Inside a
      pool worker :mod:`toon_tools.parallel` makes it 1 whatever is passed, so
      pools never nest. ``toon convert --jobs N`` arrives here.
    """

    source: ClassVar[str]
    target: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()
    output_suffix: ClassVar[str]
    input: ClassVar[InputKind] = BYTES
    default: ClassVar[bool] = False

    def __init__(self, *, jobs: int | None = None) -> None:
        self.jobs = jobs

    def convert(self, data: bytes, name: str) -> str:
        """The whole output text, without a trailing newline (the caller adds one).

        ``data`` is the input's content (``input = BYTES``) or its path as
        ``os.fsencode`` gives it (``input = PATH``); ``name`` is what messages call it (the path, or
        ``<stdin>``). Bad input raises :class:`ConversionError` (exit 1) or
        ``ToonDecodeError``, with ``path``/``line``/``column`` where known; I/O
        problems raise OSError. A converter never prints and never exits, and it
        spreads work over processes only through :mod:`toon_tools.parallel`.
        """
        raise NotImplementedError

    @classmethod
    def output_stem(cls, source: str) -> str:
        """The name (without suffix) of the file written for ``source`` when the
        output goes beside it or into ``--out-dir``."""
        from pathlib import Path

        return Path(source).stem


#: Modules that define converters; imported only when the registry is first used,
#: and none of them imports a heavy dependency at module level.
MODULES: Final = (
    "toon_tools.convert.json_toon",
    "toon_tools.convert.markdown_converters",
    "toon_tools.convert.pdf",
    "toon_tools.convert.checkpoint",
)

_REGISTRY: dict[tuple[str, str], type[Converter]] = {}
_loaded = False


def register(cls: type[Converter]) -> type[Converter]:
    _REGISTRY[(cls.source, cls.target)] = cls
    return cls


def converters() -> dict[tuple[str, str], type[Converter]]:
    """Every registered conversion, by (source, target); checked for consistency
    once, when first loaded."""
    global _loaded
    if not _loaded:
        for module in MODULES:
            importlib.import_module(module)
        _check(_REGISTRY)
        _loaded = True
    return dict(_REGISTRY)


def _check(registry: dict[tuple[str, str], type[Converter]]) -> None:
    """The declarations must agree, or the CLI's tables would be ambiguous: a
    wiring bug, reported as such (TypeError), never as a user error."""
    out: dict[str, str] = {}
    kind: dict[str, str] = {}
    defaults: dict[str, list[str]] = {}
    for (source, target), cls in sorted(registry.items()):
        if out.setdefault(target, cls.output_suffix) != cls.output_suffix:
            raise TypeError(f"converters to {target} disagree on the output suffix")
        if kind.setdefault(source, cls.input) != cls.input:
            raise TypeError(f"converters from {source} disagree on the input kind")
        if cls.default:
            defaults.setdefault(source, []).append(target)
    for source in kind:
        targets = [t for s, t in registry if s == source]
        if len(targets) > 1 and len(defaults.get(source, [])) != 1:
            raise TypeError(f"{source} converts to {targets}: mark exactly one default")


def lookup(source: str, target: str, *, jobs: int | None = None) -> Converter:
    """A converter for the pair, with the options of :class:`Converter` (``jobs``);
    ToolError (exit 2, a usage error) if there is none."""
    found = converters().get((source, target))
    if found is None:
        pairs = ", ".join(f"{s}->{t}" for s, t in sorted(converters()))
        raise ToolError(f"no converter from {source} to {target} (available: {pairs})")
    return found(jobs=jobs)


def source_formats() -> list[str]:
    return sorted({s for s, _ in converters()})


def target_formats() -> list[str]:
    return sorted({t for _, t in converters()})


def input_kind(source: str) -> InputKind:
    for (s, _), cls in converters().items():
        if s == source:
            return cls.input
    return BYTES


def default_target(source: str) -> str | None:
    """What a ``source`` file becomes when ``--to`` is not given."""
    targets = [(t, cls) for (s, t), cls in converters().items() if s == source]
    if len(targets) == 1:
        return targets[0][0]
    return next((t for t, cls in targets if cls.default), None)


def output_suffix(target: str) -> str:
    for (_, t), cls in converters().items():
        if t == target:
            return cls.output_suffix
    raise ToolError(f"no converter writes {target}")


def suffix_table() -> dict[str, str]:
    """File suffix -> format: the suffixes converters read, and those they write."""
    table: dict[str, str] = {}
    for (source, target), cls in sorted(converters().items()):
        for suffix in cls.suffixes:
            table.setdefault(suffix, source)
        table.setdefault(cls.output_suffix, target)
    return table


def format_of(name: str) -> str | None:
    """The format a file name says (its longest known suffix), or None."""
    lower = name.lower()
    table = suffix_table()
    best = max((s for s in table if lower.endswith(s)), key=len, default="")
    return table[best] if best else None
