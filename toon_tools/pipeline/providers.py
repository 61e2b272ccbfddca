"""Model providers: OpenAI-compatible Chat Completions over HTTP, and an offline
provider with deterministic replies for dry runs and tests.

The HTTP client is the standard library's, run in a thread pool sized to the
run's concurrency, with one kept-alive connection per thread (connection reuse),
timeouts, and retries with exponential backoff and full jitter on 429, 5xx,
timeouts and dropped connections, honouring ``Retry-After``. Other 4xx answers
are errors at once: retrying cannot fix a bad key or a bad request.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from ..codec import encode
from ..errors import Finding, ToolError

RETRY_STATUS: Final = {408, 409, 425, 429, 500, 502, 503, 504}
DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"


class ProviderError(Finding):
    """A call failed for good (4xx, or retries exhausted); the message says why.
    The step, and so the run, fails (exit 1)."""


class ProviderSetupError(ToolError):
    """The provider cannot be used at all: unknown, a bad base_url, no API key,
    nothing listening (exit 2, an environment error); raised before any call."""


@dataclass
class Reply:
    content: str
    prompt_tokens: int
    completion_tokens: int


class Provider(Protocol):
    """What the runner needs of a model provider."""

    @property
    def name(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    def check(self) -> None:
        """Raise ProviderSetupError if no call can succeed (before the run starts)."""

    def complete(self, model: str, messages: list[dict[str, str]], params: dict[str, Any],
                 required: list[str]) -> Reply:
        """One chat completion; blocking (the runner calls it in a thread pool)."""


def open_provider(kind: str, base_url: str | None, api_key_env: str,
                  environ: Mapping[str, str]) -> Provider:
    """The provider a pipeline names (or the command line overrides), its key read
    from ``environ[api_key_env]``. Makes no connection: see ``check()``."""
    if kind == "offline":
        return OfflineProvider()
    if kind != "openai":
        raise ProviderSetupError(f"unknown provider {kind!r} (offline or openai)")
    return OpenAIProvider(base_url or DEFAULT_BASE_URL, environ.get(api_key_env) or None,
                          api_key_env=api_key_env)


class OfflineProvider:
    """Deterministic, well-formed TOON replies derived from the request.

    Required fields named ``name[]`` get arrays of ``items`` entries (default 5,
    or the step's ``params.offline_items``), the rest a short string.
    """

    name = "offline"
    base_url = "offline:"

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls = 0

    def check(self) -> None:
        pass

    def complete(self, model: str, messages: list[dict[str, str]], params: dict[str, Any],
                 required: list[str]) -> Reply:
        self.calls += 1
        if self.latency:
            time.sleep(self.latency)
        digest = hashlib.sha256(json.dumps([model, messages, params], sort_keys=True)
                                .encode()).hexdigest()[:8]
        items = int(params.get("offline_items", 5))
        reply: dict[str, Any] = {}
        for f in required or ["text"]:
            if f.endswith("[]"):
                reply[f[:-2]] = [f"{f[:-2]} {i + 1} ({digest})" for i in range(items)]
            else:
                reply[f] = f"{f} ({digest})"
        content = encode(reply)
        prompt = sum(len(m["content"]) for m in messages) // 4
        return Reply(content, prompt, len(content) // 4)


class OpenAIProvider:
    name = "openai"

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 120.0,
                 max_retries: int = 5, backoff: float = 0.5, max_backoff: float = 30.0,
                 api_key_env: str = "OPENAI_API_KEY") -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.api_key_env = api_key_env
        try:
            parts = urllib.parse.urlsplit(self.base_url)
            port = parts.port
        except ValueError:  # a port that is not a number
            parts, port = None, None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderSetupError(f"base_url {base_url!r} is not an http(s) URL")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = port
        self._path = (parts.path or "") + "/chat/completions"
        self._local = threading.local()
        self.retries = 0

    def check(self) -> None:
        """A key is needed except on loopback; something must answer at base_url.
        Fails here, before any step runs, rather than on every call after retries."""
        local = self._host in ("localhost", "::1") or self._host.startswith("127.")
        if not self.api_key and not local:
            raise ProviderSetupError(f"no API key: set {self.api_key_env} "
                                     "(the pipeline names that variable)")
        port = self._port or (443 if self._scheme == "https" else 80)
        try:
            socket.create_connection((self._host, port), timeout=5).close()
        except OSError as e:
            raise ProviderSetupError(f"cannot reach {self.base_url} ({e.strerror or e})") from None

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def complete(self, model: str, messages: list[dict[str, str]], params: dict[str, Any],
                 required: list[str]) -> Reply:
        # bytes, so http.client sends headers and body in one segment: two small
        # writes meet Nagle's algorithm and delayed ACKs and stall 40 ms.
        body = json.dumps({"model": model, "messages": messages,
                           **{k: v for k, v in params.items() if not k.startswith("offline_")}}
                          ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                conn = self._connection()
                conn.request("POST", self._path, body=body, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    self._drop()
                if status == 200:
                    try:
                        data = json.loads(raw)
                        content = data["choices"][0]["message"]["content"]
                        usage = data.get("usage") or {}
                        return Reply(content, int(usage.get("prompt_tokens", 0)),
                                     int(usage.get("completion_tokens", 0)))
                    except (ValueError, KeyError, IndexError, TypeError):
                        last = "malformed JSON in the response"
                elif status in RETRY_STATUS:
                    last = f"HTTP {status}"
                    header = resp.getheader("Retry-After")
                    if header:
                        try:
                            retry_after = float(header)
                        except ValueError:
                            retry_after = None
                else:
                    detail = raw.decode("utf-8", "replace")[:200].strip()
                    raise ProviderError(f"{self.base_url}: HTTP {status}: {detail}")
            except (socket.timeout, TimeoutError):
                self._drop()
                last = f"no answer within {self.timeout:g} s"
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self._drop()
                last = f"connection failed ({e})"
            if attempt == self.max_retries:
                break
            self.retries += 1
            delay = min(self.max_backoff, self.backoff * 2 ** attempt)
            time.sleep(retry_after if retry_after is not None else random.uniform(0, delay))
        raise ProviderError(f"{self.base_url}: gave up after {self.max_retries + 1} attempts: {last}")
