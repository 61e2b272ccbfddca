"""Token tests run offline: any attempt to open a network connection fails."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OSError("network access is disabled in the token tests")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    # Subprocesses: point every proxy at a closed port, so requests fail fast.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    yield


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache for the test, for in-process counters and `toon` subprocesses."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOON_CACHE_DIR", str(folder))
    return folder
