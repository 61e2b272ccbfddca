"""``toon encode`` (JSON -> TOON) and ``toon decode`` (TOON -> JSON)."""

from __future__ import annotations

from typing import Any

import click

from .._completion import any_path
from .._output import FINDINGS, describe, fail, read_bytes, write_output

DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|"}
_SYMBOLS = {symbol: name for name, symbol in DELIMITERS.items()}


class DelimiterChoice(click.Choice):  # type: ignore[type-arg]
    """comma, tab or pipe; the characters themselves (',', '|', a tab) are
    accepted too but not shown, since help cannot print a tab legibly."""

    def __init__(self) -> None:
        super().__init__(list(DELIMITERS))

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        return super().convert(_SYMBOLS.get(value, value), param, ctx)


delimiter_option = click.option(
    "--delimiter", "-d", default="comma", show_default=True, type=DelimiterChoice(),
    help="Delimiter for arrays and tables (',', '|' or a tab also work).")
indent_option = click.option(
    "--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
    help="Spaces per indentation level.")
output_option = click.option(
    "--output", "-o", default="-", metavar="OUT",
    help="Write here instead of stdout (replaced atomically).")


def _write(output: str, text: str) -> None:
    write_output(output, text + "\n" if text else "")


def _source_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


@click.command()
@click.argument("file", default="-", metavar="[FILE|-]", shell_complete=any_path)
@output_option
@delimiter_option
@indent_option
def encode(file: str, output: str, delimiter: str, indent_size: int) -> int:
    """Convert JSON to TOON.

    Exit codes: 0 done; 1 the input is not JSON that TOON can hold (invalid
    JSON or UTF-8, a lone surrogate, an integer over Python's digit limit,
    nesting too deep); 2 an I/O error.
    """
    from ...codec import encode as toon_encode
    from ...convert.json_toon import read_json

    data = read_bytes(file)
    name = _source_name(file)
    value = read_json(data, name)  # a positioned Finding for anything TOON cannot hold
    try:
        text = toon_encode(value, delimiter=DELIMITERS[delimiter], indent_size=indent_size)
    except ValueError as e:  # nesting deeper than the encoder's max_depth
        fail(describe(e, name), FINDINGS)
    _write(output, text)
    return 0


@click.command()
@click.argument("file", default="-", metavar="[FILE|-]", shell_complete=any_path)
@output_option
@indent_option
@click.option("--no-strict", is_flag=True, help="Lenient decoding (§14 checks off).")
@click.option("--json-indent", default=2, show_default=True, type=click.IntRange(0, 16),
              help="Indentation of the JSON output; 0 for one line.")
def decode(file: str, output: str, indent_size: int, no_strict: bool, json_indent: int) -> int:
    """Convert TOON to JSON.

    Exit codes: 0 done; 1 the input is not a valid TOON document (positioned
    path:line:col); 2 an I/O error.
    """
    import json

    from ...codec import ToonDecodeError, decode as toon_decode

    data = read_bytes(file)
    name = _source_name(file)
    try:
        value = toon_decode(data, indent_size=indent_size, strict=not no_strict)
    except ToonDecodeError as e:
        fail(describe(e, name), FINDINGS)
    text = json.dumps(value, ensure_ascii=False, indent=json_indent or None,
                      separators=None if json_indent else (",", ":"))
    _write(output, text)
    return 0
