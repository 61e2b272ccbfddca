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


def _exchange(*messages: dict[str, object], close: bool = False) -> int:
    """Send raw JSON-RPC messages to a real ``toon lsp``; its exit code."""
    import json
    import subprocess
    import sys

    def frame(message: dict[str, object]) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    data = b"".join(frame(m) for m in messages)
    proc = subprocess.run([sys.executable, "-m", "toon_tools", "lsp"],
                          input=data, capture_output=True, timeout=60, check=False)
    assert b"Traceback" not in proc.stderr
    return proc.returncode


INIT = {"id": 1, "method": "initialize",
        "params": {"processId": None, "rootUri": None, "capabilities": {}}}


def test_exit_codes_follow_the_shutdown_handshake() -> None:
    # LSP: exit after shutdown is 0, exit without shutdown is 1 (an editor
    # reports the server crashed); a client that vanishes is no clean end either
    shutdown, exit_ = {"id": 2, "method": "shutdown"}, {"method": "exit"}
    assert _exchange(INIT, {"method": "initialized", "params": {}}, shutdown, exit_) == 0
    assert _exchange(INIT, {"method": "initialized", "params": {}}, exit_) == 1
    assert _exchange(INIT, {"method": "initialized", "params": {}}) == 1
