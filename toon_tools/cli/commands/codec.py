"""``toon encode`` (JSON -> TOON) and ``toon decode`` (TOON -> JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from .._completion import any_path
from .._output import FINDINGS, describe, fail, os_error_message, read_bytes, write_output

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
@click.option("--no-stream", is_flag=True, hidden=True,
              help="Decode the whole document, then write it (the benchmarks' baseline).")
def decode(file: str, output: str, indent_size: int, no_strict: bool, json_indent: int,
           no_stream: bool) -> int:
    """Convert TOON to JSON.

    The input is read and the JSON written as they go (memory stays small
    whatever the size of the document), except with --no-strict, whose
    last-write-wins for repeated keys needs the whole document. A document
    that turns out invalid after part of its JSON went to stdout leaves that
    part there, ended by a newline, and the error on stderr (exit 1); with -o
    OUT, OUT is not created or replaced.

    Exit codes: 0 done; 1 the input is not a valid TOON document (positioned
    path:line:col); 2 an I/O error.
    """
    name = _source_name(file)
    if no_strict or no_stream:
        return _decode_whole(file, name, output, indent_size, not no_strict, json_indent)
    return _decode_stream(file, name, output, indent_size, json_indent)


def _decode_whole(file: str, name: str, output: str, indent_size: int, strict: bool,
                  json_indent: int) -> int:
    import json

    from ...codec import ToonDecodeError, decode as toon_decode

    data = read_bytes(file)
    try:
        value = toon_decode(data, indent_size=indent_size, strict=strict)
    except ToonDecodeError as e:
        fail(describe(e, name), FINDINGS)
    text = json.dumps(value, ensure_ascii=False, indent=json_indent or None,
                      separators=None if json_indent else (",", ":"))
    _write(output, text)
    return 0


def _decode_stream(file: str, name: str, output: str, indent_size: int,
                   json_indent: int) -> int:
    """Lines in, JSON out, in bounded memory: the same bytes as :func:`_decode_whole`."""
    import sys

    from ...codec._stream import iter_events, lines_of

    try:
        source = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    except OSError as e:
        fail(os_error_message(file, e))
    try:
        events = iter_events(lines_of(source), indent_size=indent_size, whole_values=True)
        if output == "-":
            _to_stdout(events, json_indent, name)
        else:
            _to_file(events, json_indent, name, output)
    except BrokenPipeError:
        raise
    except OSError as e:  # reading: write errors have become CliErrors already
        fail(os_error_message(file, e))
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return 0


def _to_stdout(events: Iterator[tuple[int, Any]], json_indent: int, name: str) -> None:
    import sys

    from ...codec import ToonDecodeError
    from .._json_stream import write_json

    def out(text: str, flush: bool = False) -> None:
        try:
            sys.stdout.write(text)
            if flush:
                sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader went away: main's policy (exit 0)
        except OSError as e:  # a full disk behind `>`: not the input's fault
            fail(describe(e))

    wrote = False

    def write(text: str) -> None:
        nonlocal wrote
        wrote = True
        out(text)

    try:
        write_json(events, write, json_indent)
    except ToonDecodeError as e:
        if wrote:  # what a reader already has stays; end its line for the terminal
            out("\n", flush=True)
        fail(describe(e, name), FINDINGS)
    out("\n", flush=True)


def _to_file(events: Iterator[tuple[int, Any]], json_indent: int, name: str,
             output: str) -> None:
    from ...codec import ToonDecodeError
    from ...files import atomic_writer
    from .._json_stream import write_json

    try:
        with atomic_writer(output) as fh:  # OUT is replaced only once all is written

            def write(text: str) -> None:
                try:
                    fh.write(text)
                except OSError as e:  # name the output: a read error names the input
                    fail(describe(OSError(e.errno, e.strerror, output)))

            write_json(events, write, json_indent)
            write("\n")
    except ToonDecodeError as e:
        fail(describe(e, name), FINDINGS)
    except OSError as e:  # making, finishing or renaming OUT; the error names it
        fail(describe(e))
