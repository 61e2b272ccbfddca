"""OpenAI's Batch API and Anthropic's Message Batches on loopback, with scripted
job states and per-call faults; Chat Completions too (for direct calls), answered
as ``server.FakeLLM`` answers them."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.pipeline.anthropic_server import shaped_reply
from tests.pipeline.server import FakeLLM


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


class FakeBatches:
    """Jobs end after ``polls`` retrievals that say in progress (0: at the first),
    with the next of ``outcomes`` ("completed", "expired", "failed", "cancelled";
    then "completed"); each line of a job takes the next of ``faults``: None (a
    reply), "invalid" (not TOON), "error" (a per-call error), "skip" (no result,
    as in an expired job). ``jobs`` keeps every job's lines (custom_id, body) in
    the order they came, ``direct`` every direct Chat Completions body."""

    def __init__(self, polls: int = 0) -> None:
        self.llm = FakeLLM()  # its reply logic (its own listener stays idle)
        self.polls = polls
        self.outcomes: list[str] = []
        self.faults: list[str | None] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.files: dict[str, str] = {}
        self.uploads: list[str] = []  # purposes of /v1/files uploads
        self.direct: list[dict[str, Any]] = []
        self.retrievals = 0
        #: Set while an upload to /v1/files is held for ``upload_delay`` seconds.
        self.uploading = threading.Event()
        self.upload_delay = 0.0
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:  # OpenAI's base_url
        return self.root + "/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.llm.close()

    def lines(self) -> list[tuple[str, dict[str, Any]]]:
        """Every line of every job, in order."""
        return [line for job in self.jobs.values() for line in job["lines"]]

    # -------------------------------------------------------------- jobs

    def _create(self, kind: str, lines: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        with self.lock:
            n = len(self.jobs) + 1
            job = {"id": f"{'batch' if kind == 'openai' else 'msgbatch'}_{n:04d}", "kind": kind,
                   "lines": lines, "polls": self.polls,
                   "outcome": self.outcomes.pop(0) if self.outcomes else "completed",
                   "faults": [self.faults.pop(0) if self.faults else None for _ in lines],
                   "results": None}
            self.jobs[job["id"]] = job
        return job

    def _advance(self, job: dict[str, Any]) -> bool:
        """One retrieval: whether the job has ended (its results made once)."""
        with self.lock:
            self.retrievals += 1
            if job["polls"] > 0:
                job["polls"] -= 1
                return False
            if job["results"] is None:
                job["results"] = [self._result(job, i) for i in range(len(job["lines"]))]
            return True

    def _result(self, job: dict[str, Any], i: int) -> tuple[str, Any]:
        """("reply", (text, finish)) | ("error", message) | ("none", None)."""
        fault = job["faults"][i]
        if job["outcome"] in ("failed", "cancelled") or fault == "skip":
            return ("none", None)
        if job["outcome"] == "expired" and i >= len(job["lines"]) // 2:
            return ("none", None)  # the first half answered before the window closed
        if fault == "error":
            return ("error", "scripted per-call error")
        body = job["lines"][i][1]
        if job["kind"] == "anthropic":
            text = "parts: \"not valid toon" if fault == "invalid" else shaped_reply(body)
            return ("reply", (text, "end_turn"))
        return ("reply", self.llm.reply_for(body, fault))

    def _openai_files(self, job: dict[str, Any]) -> dict[str, Any]:
        out, err = [], []
        for (cid, _), (what, data) in zip(job["lines"], job["results"]):
            if what == "reply":
                content, finish = data
                out.append({"id": "r", "custom_id": cid, "error": None, "response": {
                    "status_code": 200, "body": {
                        "choices": [{"message": {"role": "assistant", "content": content},
                                     "finish_reason": finish}],
                        "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}}})
            elif what == "error":
                err.append({"id": "r", "custom_id": cid, "error": None, "response": {
                    "status_code": 500, "body": {"error": {"message": data}}}})
            elif job["outcome"] == "expired":
                err.append({"id": "r", "custom_id": cid, "response": None, "error": {
                    "code": "batch_expired", "message": "This request could not be executed "
                    "before the completion window expired."}})
        ids = {}
        for name, rows in (("output", out), ("error", err)):
            if rows:
                fid = f"file-{job['id']}-{name}"
                self.files[fid] = "".join(json.dumps(r) + "\n" for r in rows)
                ids[f"{name}_file_id"] = fid
        return ids

    def _openai_info(self, job: dict[str, Any], ended: bool) -> dict[str, Any]:
        total = len(job["lines"])
        if not ended:
            return {"id": job["id"], "object": "batch", "status": "in_progress",
                    "request_counts": {"total": total, "completed": total // 2, "failed": 0}}
        done = sum(1 for what, _ in job["results"] if what == "reply")
        return {"id": job["id"], "object": "batch", "status": job["outcome"],
                "request_counts": {"total": total, "completed": done, "failed": total - done},
                "output_file_id": None, "error_file_id": None, **self._openai_files(job)}

    def _anthropic_info(self, job: dict[str, Any], ended: bool) -> dict[str, Any]:
        total = len(job["lines"])
        counts = {"processing": total, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if ended:
            counts["processing"] = 0
            for what, _ in job["results"]:
                counts["succeeded" if what == "reply" else "errored" if what == "error"
                       else "expired"] += 1
        return {"id": job["id"], "type": "message_batch",
                "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts,
                "results_url": f"{self.root}/v1/messages/batches/{job['id']}/results"
                if ended else None}

    def _anthropic_results(self, job: dict[str, Any]) -> str:
        rows = []
        for (cid, body), (what, data) in zip(job["lines"], job["results"]):
            if what == "reply":
                text, stop = data
                result: dict[str, Any] = {"type": "succeeded", "message": {
                    "id": "msg", "type": "message", "role": "assistant", "model": body["model"],
                    "content": [{"type": "text", "text": text}], "stop_reason": stop,
                    "usage": {"input_tokens": 1000, "output_tokens": 100,
                              "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}}
            elif what == "error":
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "api_error", "message": data}}}
            else:
                result = {"type": "expired"}
            rows.append({"custom_id": cid, "result": result})
        return "".join(json.dumps(r) + "\n" for r in rows)

    # -------------------------------------------------------------- HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _send(self, status: int, payload: Any, raw: bool = False) -> None:
                data = payload.encode() if raw else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/jsonl" if raw
                                 else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def do_POST(self) -> None:  # noqa: N802
                raw = self._body()
                if self.path == "/v1/chat/completions":
                    body = json.loads(raw)
                    with fake.lock:
                        fake.direct.append(body)
                    content, finish = fake.llm.reply_for(body, None)
                    self._send(200, {"choices": [{"message": {"role": "assistant",
                                                              "content": content},
                                                  "finish_reason": finish}],
                                     "usage": {"prompt_tokens": 1000, "completion_tokens": 100}})
                elif self.path == "/v1/files":
                    if fake.upload_delay:
                        fake.uploading.set()
                        time.sleep(fake.upload_delay)
                    boundary = self.headers["Content-Type"].split("boundary=")[1]
                    parts = raw.decode().split("--" + boundary)
                    fields = {}
                    for part in parts:
                        head, _, content = part.partition("\r\n\r\n")
                        if 'name="' in head:
                            name = head.split('name="')[1].split('"')[0]
                            fields[name] = content[:-2] if content.endswith("\r\n") else content
                    with fake.lock:
                        fid = f"file-in-{len(fake.files) + 1}"
                        fake.files[fid] = fields["file"]
                        fake.uploads.append(fields["purpose"])
                    self._send(200, {"id": fid, "object": "file", "purpose": fields["purpose"]})
                elif self.path == "/v1/batches":
                    req = json.loads(raw)
                    assert req["endpoint"] == "/v1/chat/completions", req
                    assert req["completion_window"] == "24h", req
                    rows = [json.loads(x) for x in fake.files[req["input_file_id"]].splitlines()]
                    for r in rows:
                        assert r["method"] == "POST" and r["url"] == "/v1/chat/completions", r
                    job = fake._create("openai", [(r["custom_id"], r["body"]) for r in rows])
                    self._send(200, {"id": job["id"], "object": "batch", "status": "validating"})
                elif self.path == "/v1/messages/batches":
                    req = json.loads(raw)
                    job = fake._create("anthropic", [(r["custom_id"], r["params"])
                                                     for r in req["requests"]])
                    self._send(200, fake._anthropic_info(job, False))
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                if path.startswith("/v1/files/") and path.endswith("/content"):
                    fid = path.split("/")[3]
                    if fid in fake.files:
                        self._send(200, fake.files[fid], raw=True)
                        return
                elif path.startswith("/v1/batches/"):
                    job = fake.jobs.get(path.split("/")[3])
                    if job is not None:
                        self._send(200, fake._openai_info(job, fake._advance(job)))
                        return
                elif path.startswith("/v1/messages/batches/"):
                    job = fake.jobs.get(path.split("/")[4])
                    if job is not None and path.endswith("/results"):
                        self._send(200, fake._anthropic_results(job), raw=True)
                        return
                    if job is not None:
                        self._send(200, fake._anthropic_info(job, fake._advance(job)))
                        return
                self._send(404, {"error": {"message": f"no route {path}"}})

        return Handler
