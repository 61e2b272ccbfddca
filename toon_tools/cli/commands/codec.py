"""``toon encode`` (JSON -> TOON) and ``toon decode`` (TOON -> JSON)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ...codec import ToonDecodeError, decode as toon_decode, encode as toon_encode
from ...files import atomic_write
from .._output import FINDINGS, diagnostic, fail, os_error_message, read_bytes

DELIMITERS = {",": ",", "comma": ",", "\t": "\t", "tab": "\t", "|": "|", "pipe": "|"}

delimiter_option = click.option(
    "--delimiter", "-d", default="comma", show_default=True,
    type=click.Choice(["comma", "tab", "pipe", ",", "\t", "|"]),
    help="Delimiter for arrays and tables.")
indent_option = click.option(
    "--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
    help="Spaces per indentation level.")
output_option = click.option(
    "--output", "-o", default="-", metavar="OUT",
    help="Write here instead of stdout (replaced atomically).")


def _write(output: str, text: str) -> None:
    data = text + "\n" if text else ""
    if output == "-":
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    try:
        atomic_write(output, data)
    except OSError as e:
        fail(os_error_message(output, e))


def _source_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


@click.command()
@click.argument("file", default="-", metavar="[FILE|-]")
@output_option
@delimiter_option
@indent_option
def encode(file: str, output: str, delimiter: str, indent_size: int) -> None:
    """Convert JSON to TOON."""
    data = read_bytes(file)
    name = _source_name(file)
    try:
        value: Any = json.loads(data)
    except json.JSONDecodeError as e:
        fail(f"{name}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}", FINDINGS)
    except UnicodeDecodeError as e:
        fail(f"{name}: invalid JSON: not UTF-8 text ({e.reason})", FINDINGS)
    except RecursionError:
        fail(f"{name}: invalid JSON: nested too deeply", FINDINGS)
    try:
        text = toon_encode(value, delimiter=DELIMITERS[delimiter], indent_size=indent_size)
    except ValueError as e:
        fail(f"{name}: {e}", FINDINGS)
    _write(output, text)


@click.command()
@click.argument("file", default="-", metavar="[FILE|-]")
@output_option
@indent_option
@click.option("--no-strict", is_flag=True, help="Lenient decoding (§14 checks off).")
@click.option("--json-indent", default=2, show_default=True, type=click.IntRange(0, 16),
              help="Indentation of the JSON output; 0 for one line.")
def decode(file: str, output: str, indent_size: int, no_strict: bool, json_indent: int) -> None:
    """Convert TOON to JSON."""
    data = read_bytes(file)
    name = _source_name(file)
    try:
        value = toon_decode(data, indent_size=indent_size, strict=not no_strict)
    except ToonDecodeError as e:
        fail(diagnostic(name, e.line, e.column, e.msg, None), FINDINGS)
    text = json.dumps(value, ensure_ascii=False, indent=json_indent or None,
                      separators=None if json_indent else (",", ":"))
    _write(output, text)
