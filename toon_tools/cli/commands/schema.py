"""``toon schema infer|skeleton``: start a contract from the data a team already
has, and show what a schema asks for as TOON (issue 13, item 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .._completion import any_path, toon_paths
from .._files import find_files
from .._output import ERROR, OK, describe, error, fail, write_output

if TYPE_CHECKING:
    from ...schema.infer import Shape


@click.group()
def schema() -> None:
    """Infer a JSON Schema from TOON files, or print a schema's TOON skeleton.

    \b
    toon schema infer data/users/ -o schemas/user.json
    toon schema skeleton schemas/user.json

    Check files against a schema with 'toon check --schema SCHEMA FILES...'.
    """


def summarise(path: str, indent_size: int = 2) -> tuple[int, Shape | str]:
    """(OK, the file's shape) or (status, a one-line report) for one file: a
    ``.json`` file is read as JSON, anything else as TOON."""
    from ...codec import decode
    from ...convert.json_toon import read_json
    from ...errors import ToolError
    from ...schema.infer import Shape

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return ERROR, describe(e, path)
    try:
        value = read_json(data, path) if path.lower().endswith(".json") else \
            decode(data, indent_size=indent_size)
    except ToolError as e:  # ToonDecodeError, read_json's ConversionError: positioned
        return e.exit_code, describe(e, path)
    shape = Shape()
    shape.add(value)
    return OK, shape


@schema.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...",
                shell_complete=toon_paths())
@click.option("--output", "-o", default="-", metavar="OUT",
              help="Write the schema here instead of stdout (replaced atomically).")
@click.option("--title", default=None, help="The schema's title.")
@click.option("--closed", is_flag=True,
              help="Refuse keys never seen: additionalProperties: false on every object.")
@click.option("--indent-size", "-i", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Spaces per indentation level the TOON files use.")
def infer(files: tuple[str, ...], output: str, title: str | None, closed: bool,
          indent_size: int) -> int:
    """Write a draft 2020-12 JSON Schema that every given file satisfies.

    Folders are searched for *.toon files as 'toon check' searches them
    ([tool.toon] exclude applies); a file named on the command line that ends
    in .json is read as JSON, any other as TOON.

    \b
    The schema gives, at each place in the data:
      type      every JSON type seen (1 and 1.5 make a number; null joins
                the union)
      required  the keys present in every object seen there
      items     the shape of every item of every array seen there, merged
      enum      a closed set of short strings: at most 8 distinct values,
                each seen 3 times on average, none over 32 characters or
                with a line break

    Nothing else is guessed (no formats, lengths or ranges). Output is stable:
    properties keep the order in which keys were first seen, everything else
    is sorted. Check files against it with 'toon check --schema'.

    Exit codes: 0 written; 1 a file is not valid TOON or JSON (each bad file
    prints path:line:col: message; every file is still read, and no schema is
    written); 2 usage or I/O error.
    """
    import json

    from ...parallel import CHECK, map_in_order
    from ...schema.infer import Shape, document_schema

    paths, volume = find_files(files, force_exclude=False)
    if not paths:
        fail("no .toon files to infer a schema from")
    from functools import partial

    whole = Shape()
    worst = OK
    bad = 0
    for status, result in map_in_order(partial(summarise, indent_size=indent_size), paths,
                                       CHECK, total_bytes=volume):
        if isinstance(result, str):
            click.echo(result, err=True)  # already escaped and positioned
            bad += 1
            worst = max(worst, status)
        else:
            whole.merge(result)
    if worst != OK:
        error(f"no schema written: {bad} of {len(paths)} file{'s' * (len(paths) != 1)} "
              f"could not be read")
        return worst
    text = json.dumps(document_schema(whole, title=title, closed=closed), indent=2,
                      ensure_ascii=False) + "\n"
    write_output(output, text)
    return OK


@schema.command()
@click.argument("schema_file", metavar="SCHEMA", shell_complete=any_path)
def skeleton(schema_file: str) -> int:
    """Print the TOON skeleton a JSON Schema describes.

    SCHEMA is a JSON file, or a TOON file (*.toon). Each field shows a
    placeholder (<text>, <integer>, a|b for an enum), with its description as
    # comment lines above it, which TOON decoders skip; arrays of flat objects
    show as a tabular header. It is what a pipeline step's prompt shows the
    model for the same schema.

    Exit codes: 0 printed; 2 the schema cannot be read or is not a valid schema.
    """
    from pathlib import Path

    from ...schema.bundle import bundle
    from ...schema.skeleton import render_skeleton
    from ...schema.validate import Schema

    loaded = Schema.load(schema_file)  # a SchemaError is main()'s one line, exit 2
    contents = bundle(loaded.schema, Path(schema_file))  # sibling files' fields shown too
    if contents is False:
        fail(f"{schema_file}: the schema is 'false': no value satisfies it, so there is "
             "no skeleton")
    click.echo(render_skeleton({} if contents is True else contents))
    return OK

