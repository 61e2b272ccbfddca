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

# A line of the skeleton a prompt ends with: `title: <text>`, `tags[3]: <text>,...`.
SKELETON_LINE = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+|N)\])?: <text>", re.M)
# A salvage's follow-up: "rows 5-10 of 10".
ROWS_ASKED = re.compile(r"rows (\d+)-(\d+) of (\d+)")


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default of 5 drops bursts of new connections
    daemon_threads = True


class FakeLLM:
    """Faults are taken one per request from ``faults``: "429", "500", "401",
    "hang", "malformed" (not JSON), "invalid" (not TOON), "length" (cut off, with
    finish_reason "length"), and replies a user would accept: "fenced" (a fenced
    block with text around it), "json" (a JSON object), "commas" (a list as one
    comma-separated text), "miscount" (a list header one too many), "contract"
    (``contract_fault`` applied: a reply that decodes but breaks its contract);
    then normal replies. With ``contract`` set (a JSON Schema), normal replies are
    values of that schema (``OutputShape.example``) in every structured mode.

    Tables cut short (a salvage's story): with ``numbered_rows``, the rows of a
    contract's tables are numbered (``title 3,pov 3``); "cut:K" ends the reply in
    the middle of the K-th row of its table (finish_reason "length"), "cutstop:K"
    the same with finish_reason "stop", "overcut:K" like "cut:K" with a header
    that declares ten times the rows; a prompt that asks for "rows A-B of N" is
    answered with those rows alone, under "echo" with row A-1 only, under
    "restart" with rows 1-N (a model that starts the table over).
    ``usage_by_length`` reports tokens as characters / 4 and cuts a reply at
    max_tokens * 4 characters, as a real limit would."""

    def __init__(self, latency: float = 0.0, items: int = 5, http10: bool = False) -> None:
        self.latency = latency
        self.items = items
        #: Reply tokens reported per call; a request's max_tokens caps them, with
        #: finish_reason "length", as a real server's limit does.
        self.completion_tokens = 7
        self.http10 = http10
        self.faults: list[str] = []
        self.contract: dict[str, Any] | None = None
        self.contract_fault: Any = None  # value -> a value that breaks the contract
        self.numbered_rows = False
        self.usage_by_length = False
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

    def value_for(self, body: dict[str, Any]) -> Any:
        """A value of the shape the request asks for: its JSON schema, or the
        skeleton its prompt ends with; plain text when it declares none."""
        digest = hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:6]
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
        if self.contract is not None and (schema or "Reply with only" in
                                          body["messages"][-1]["content"]):
            from toon_tools.pipeline.shape import OutputShape

            value = OutputShape.from_schema(self.contract).example(digest, self.items)
            if self.numbered_rows:
                value = {k: _numbered(v, 1) for k, v in value.items()}
            asked = ROWS_ASKED.search(body["messages"][-1]["content"])
            if asked is not None:  # a salvage: the rows asked for, alone
                first, last = int(asked.group(1)), int(asked.group(2))
                key, rows = next((k, v) for k, v in value.items() if _is_table(v))
                rows = _numbered([rows[0]] * (last - first + 1), first)
                value = {key: rows}
            return value
        if schema:
            fields = [(name, p["type"] == "array", p.get("maxItems"))
                      for name, p in schema["properties"].items()]
        else:
            last = body["messages"][-1]["content"]
            fields = [(m.group(1), m.group(2) is not None,
                       int(m.group(2)) if m.group(2) and m.group(2).isdigit() else None)
                      for m in SKELETON_LINE.finditer(last)]
        if not fields:
            return f"A plain reply {digest}."
        value: dict[str, Any] = {}
        for name, is_list, count in fields:
            if is_list:
                value[name] = [f"{name} {i} {digest}" for i in range(count or self.items)]
            else:
                value[name] = f"{name} {digest}"
        return value

    def reply_for(self, body: dict[str, Any], fault: str | None) -> tuple[str, str]:
        """The reply's content and finish_reason, shaped by a scripted ``fault``."""
        value = self.value_for(body)
        if isinstance(value, str):
            return value, "stop"
        text = json.dumps(value) if body.get("response_format") else encode(value)
        first_list = next((k for k, v in value.items() if isinstance(v, list)), None)
        if fault == "contract" and self.contract_fault is not None:
            bad = self.contract_fault(value)
            return (json.dumps(bad) if body.get("response_format") else encode(bad)), "stop"
        if fault == "invalid":
            return "parts: \"not valid toon", "stop"
        if fault == "length":
            return text[: len(text) // 2], "length"
        if fault and fault.startswith(("cut:", "cutstop:", "overcut:")):
            lines = text.split("\n")
            header = next(i for i, x in enumerate(lines) if "]{" in x)
            if fault.startswith("overcut:"):  # the header claims ten times the rows
                n = len(next(v for v in value.values() if _is_table(v)))
                lines[header] = lines[header].replace(f"[{n}]", f"[{10 * n}]", 1)
            row = header + int(fault.partition(":")[2])
            cut = "\n".join(lines[:row] + [lines[row][: len(lines[row]) // 2]])
            return cut, "stop" if fault.startswith("cutstop:") else "length"
        if fault == "restart":
            asked = ROWS_ASKED.search(body["messages"][-1]["content"])
            assert asked is not None, "restart answers a salvage"
            key, rows = next((k, v) for k, v in value.items() if _is_table(v))
            return encode({key: _numbered(rows[:1] * int(asked.group(3)), 1)}), "stop"
        if fault == "echo":
            asked = ROWS_ASKED.search(body["messages"][-1]["content"])
            assert asked is not None, "echo answers a salvage"
            key, rows = next((k, v) for k, v in value.items() if _is_table(v))
            return encode({key: _numbered(rows[:1], int(asked.group(1)) - 1)}), "stop"
        if fault == "fenced":
            return f"Sure! Here it is:\n```toon\n{encode(value)}\n```\nHope that helps.", "stop"
        if fault == "json":
            return "```json\n" + json.dumps(value, indent=2) + "\n```", "stop"
        if fault == "commas" and first_list:
            return encode({**value, first_list: ", ".join(value[first_list])}), "stop"
        if fault == "miscount" and first_list:
            n = len(value[first_list])
            return text.replace(f"{first_list}[{n}]", f"{first_list}[{n + 1}]", 1), "stop"
        return text, "stop"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0" if fake.http10 else "HTTP/1.1"

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
                    content, finish = fake.reply_for(body, fault)
                    completion, prompt = fake.completion_tokens, 11
                    limit = body.get("max_tokens", body.get("max_completion_tokens"))
                    if fake.usage_by_length:
                        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
                        completion = -(-len(content) // 4)
                        if isinstance(limit, int) and completion > limit:
                            content = content[: limit * 4]
                    if isinstance(limit, int) and completion > limit:
                        completion, finish = limit, "length"
                    data = {"choices": [{"message": {"role": "assistant", "content": content},
                                         "finish_reason": finish}],
                            "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}
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


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, dict) for x in value)


def _numbered(value: Any, first: int) -> Any:
    """A table's rows with each text cell numbered from ``first``: ``title 3``."""
    if not _is_table(value):
        return value
    return [{c: f"{c} {i}" if isinstance(x, str) else x for c, x in row.items()}
            for i, row in enumerate(value, first)]
