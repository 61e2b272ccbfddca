"""A Chat Completions server on loopback with latency and scripted faults."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from toon_tools import encode

FIELDS = re.compile(r"with the fields: (.+)\.\Z", re.S)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default of 5 drops bursts of new connections
    daemon_threads = True


class FakeLLM:
    """Faults are taken one per request from ``faults``: "429", "500", "401",
    "hang", "malformed", "invalid" (not TOON); then normal replies."""

    def __init__(self, latency: float = 0.0, items: int = 5) -> None:
        self.latency = latency
        self.items = items
        self.faults: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reply_for(self, body: dict[str, Any]) -> str:
        last = body["messages"][-1]["content"]
        m = FIELDS.search(last)
        fields = [f.strip() for f in m.group(1).split(",")] if m else ["text"]
        digest = hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:6]
        value: dict[str, Any] = {}
        for f in fields:
            if f.endswith("[]"):
                value[f[:-2]] = [f"{f[:-2]} {i} {digest}" for i in range(self.items)]
            else:
                value[f] = f"{f} {digest}"
        return encode(value)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with fake.lock:
                    fake.requests.append({"body": body, "auth": self.headers.get("Authorization")})
                    fault = fake.faults.pop(0) if fake.faults else None
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    time.sleep(fake.latency)
                    if fault == "hang":
                        time.sleep(3)
                        return
                    if fault in ("429", "500", "401"):
                        payload = b'{"error": {"message": "scripted fault"}}'
                        self.send_response(int(fault))
                        if fault == "429":
                            self.send_header("Retry-After", "0.05")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                    content = "this is : not [valid toon" if fault == "invalid" else fake.reply_for(body)
                    data = {"choices": [{"message": {"role": "assistant", "content": content}}],
                            "usage": {"prompt_tokens": 11, "completion_tokens": 7}}
                    payload = b"{not json" if fault == "malformed" else json.dumps(data).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

        return Handler
