"""``toon lsp`` as a command: its help, and what it says without pygls."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import run_toon


def test_help_names_the_command() -> None:
    result = run_toon("lsp", "--help")
    assert result.code == 0
    assert "Run the TOON language server over stdio (for editors)." in result.out
    assert "--log-file" in result.out


def test_without_pygls_one_line_names_the_extra(tmp_path: Path) -> None:
    # a pygls that cannot be imported, ahead of the installed one
    (tmp_path / "pygls").mkdir()
    (tmp_path / "pygls" / "__init__.py").write_text("raise ImportError('no pygls here')\n")
    result = run_toon("lsp", env={"PYTHONPATH": str(tmp_path)})
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "pip install 'toon-tools[lsp]'" in result.err
