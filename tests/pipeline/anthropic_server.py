"""A Messages API server on loopback (``POST /v1/messages``), with prompt caching
emulated and scripted faults: the Anthropic twin of ``server.py``."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from toon_tools import encode

# A line of the skeleton a step's prompt ends with: `title: <text>`, `tags[3]: <text>,...`.
SKELETON_LINE = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+|N)\])?: <text>", re.M)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def _text(content: str | list[dict[str, Any]]) -> str:
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
MAX_ITEMS = re.compile(r"maxItems: (\d+)")


def shaped_reply(body: dict[str, Any], items: int = 3) -> str:
    """A reply of the shape the request asks for: JSON for a structured-output
    schema, else TOON for the skeleton the last message ends with, else text."""
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    if schema:
        # transform_schema moves a count the API does not enforce into the description.
        fields = [(name, p["type"] == "array",
                   int(m.group(1)) if (m := MAX_ITEMS.search(p.get("description", ""))) else None)
                  for name, p in schema["properties"].items()]
    else:
        last = _text(body["messages"][-1]["content"])
        fields = [(m.group(1), m.group(2) is not None,
                   int(m.group(2)) if m.group(2) and m.group(2).isdigit() else None)
                  for m in SKELETON_LINE.finditer(last)]
    if not fields:
        return "A plain reply."
    value = {name: [f"{name} {i}" for i in range(count or items)] if is_list else f"{name} text"
             for name, is_list, count in fields}
    return json.dumps(value) if schema else encode(value)


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text block of a request in the order the API caches them: system first,
    then each message's."""
    system = body.get("system") or []
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    for m in body["messages"]:
        c = m["content"]
        blocks += [{"type": "text", "text": c}] if isinstance(c, str) else c
    return blocks


class FakeClaude:
    """Replies come from ``reply(body)`` (by default, of the shape asked for).
    Faults are taken one per request from ``faults``: "429" (Retry-After: 0.05),
    "529" (overloaded), "500", "401", "400", "hang" (answers nothing for ``hang``
    seconds), "malformed" (not JSON), "max_tokens" (a reply cut off); then normal
    replies.

    Prompt caching works like the API's: the text up to the last block marked
    ``cache_control`` is written to the cache (cache_creation) by a call that
    misses it and can be read (cache_read) once that call has answered, not
    before; a token is four characters. Each answer takes ``latency`` seconds.
    """

    def __init__(self, reply: Callable[[dict[str, Any]], str] | None = None,
                 hang: float = 30.0, latency: float = 0.0) -> None:
        self.reply = reply or shaped_reply
        self.hang = hang
        self.latency = latency
        self.faults: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.cache: set[str] = set()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def usage(self, body: dict[str, Any]) -> tuple[dict[str, int], str | None]:
        """The usage of a call as it arrives, and the prefix it writes (if any)."""
        blocks = _blocks(body)
        marked = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        texts = [b.get("text", "") for b in blocks]
        prefix = body["model"] + "".join(texts[:marked[-1] + 1]) if marked else ""
        rest = sum(len(t) for t in texts) - len(prefix) + len(body["model"]) * bool(prefix)
        read = written = 0
        with self.lock:
            hit = prefix in self.cache
        if hit:
            read = (len(prefix) - len(body["model"])) // 4
        elif prefix:
            written = (len(prefix) - len(body["model"])) // 4
        return ({"input_tokens": rest // 4, "output_tokens": 7,
                 "cache_read_input_tokens": read, "cache_creation_input_tokens": written},
                prefix if written else None)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _error(self, status: int, kind: str, message: str,
                       headers: dict[str, str] | None = None) -> None:
                payload = {"type": "error", "error": {"type": kind, "message": message}}
                self._send(status, json.dumps(payload).encode(), headers)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with fake.lock:
                    fake.requests.append({"path": self.path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                    fault = fake.faults.pop(0) if fake.faults else None
                if self.path != "/v1/messages":
                    self._error(404, "not_found_error", f"no route {self.path}")
                    return
                if fault == "hang":
                    time.sleep(fake.hang)
                    return
                if fault == "429":
                    self._error(429, "rate_limit_error", "Number of requests has exceeded "
                                "your rate limit", {"Retry-After": "0.05"})
                    return
                if fault == "529":
                    self._error(529, "overloaded_error", "Overloaded")
                    return
                if fault == "500":
                    self._error(500, "api_error", "Internal server error")
                    return
                if fault == "401":
                    self._error(401, "authentication_error", "invalid x-api-key")
                    return
                if fault == "400":
                    self._error(400, "invalid_request_error",
                                "max_tokens: Field required\n(see the docs)")
                    return
                if fault == "malformed":
                    self._send(200, b"{not json")
                    return
                usage, writes = fake.usage(body)
                time.sleep(fake.latency)
                text = fake.reply(body)
                data = {
                    "id": "msg_01", "type": "message", "role": "assistant", "model": body["model"],
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "max_tokens" if fault == "max_tokens" else "end_turn",
                    "stop_sequence": None, "usage": usage,
                }
                self._send(200, json.dumps(data).encode())
                if writes is not None:
                    with fake.lock:
                        fake.cache.add(writes)

        return Handler
