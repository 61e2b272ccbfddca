"""Start-up stays light: help and check never import heavy dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("tiktoken", "fitz", "pymupdf", "markdown_it", "diskcache", "concurrent.futures.process")

PROBE = """
import json, sys
from toon_tools.cli.main import cli
try:
    cli.main(args=sys.argv[1:], prog_name="toon")
except SystemExit:
    pass
sys.stderr.write("\\nHEAVY=" + json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


@pytest.mark.parametrize("args", [["--help"], ["check", "{file}"], ["fmt", "--check", "{file}"],
                                  ["encode", "--help"]])
def test_no_heavy_imports(tmp_path: Path, args: list[str]) -> None:
    f = tmp_path / "x.toon"
    f.write_text("a: 1\n")
    argv = [a.format(file=f) for a in args]
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
                          capture_output=True, text=True, timeout=60)
    loaded = json.loads(proc.stderr.rsplit("HEAVY=", 1)[1])
    assert loaded == []


def test_help_lists_commands_without_importing_any() -> None:
    probe = ("import sys\nfrom toon_tools.cli.main import cli\n"
             "try:\n    cli.main(args=['--help'], prog_name='toon')\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('\\nLOADED=' + ','.join(sorted(m for m in sys.modules if "
             "m.startswith(('toon_tools.cli.commands', 'toon_tools.codec', 'toon_tools.config')))))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.rsplit("LOADED=", 1)[1] == ""
    assert "  check " in proc.stdout and "  pipeline " in proc.stdout


def test_the_help_table_matches_each_commands_own_help() -> None:
    import click

    from toon_tools.cli.main import COMMANDS, cli

    ctx = click.Context(cli)
    for name, (_, short) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None
        first = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        assert first == short, f"toon {name}: its docstring's first line changed: {first!r}"
