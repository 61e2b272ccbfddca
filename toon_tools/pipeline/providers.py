"""Model providers: OpenAI-compatible Chat Completions over HTTP, Anthropic's
Messages API (``anthropic_provider``, an optional extra), and an offline provider
with deterministic replies for dry runs and tests.

Every provider answers one :class:`Request` with one :class:`Reply` through
:func:`with_retries`, the one retry policy: exponential backoff with full jitter
on 429, 5xx, timeouts and dropped connections, honouring ``Retry-After``, and an
event for every retry. Other 4xx answers are errors at once: retrying cannot fix
a bad key or a bad request.

A :class:`CallControl` links one call to the runner. Its deadline counts from
when the request is sent (never from when it was queued), and the runner can
stop it: no retry starts after a stop, and a call in flight is aborted by
closing its connection, so a stopped run never sends a call twice and never
leaves a thread behind that is still waiting on the network.

The OpenAI client is the standard library's, run in the runner's thread pool,
with one kept-alive connection per thread.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from ..codec import encode
from ..errors import Finding, ToolError
from .spec import DEFAULT_TIMEOUT, PROVIDERS

if TYPE_CHECKING:
    from .shape import OutputShape

RETRY_STATUS: Final = {408, 409, 425, 429, 500, 502, 503, 504}
DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
#: Seconds a new connection may take; a stop cannot abort a connect in progress.
CONNECT_TIMEOUT: Final = 10.0


class ProviderError(Finding):
    """A call failed for good (4xx, or retries exhausted); the message says why.
    The step, and so the run, fails (exit 1)."""


class ProviderSetupError(ToolError):
    """The provider cannot be used at all: unknown, a bad base_url, no API key,
    nothing listening, an extra not installed (exit 2, an environment error);
    raised before any call."""


class CallCancelled(Exception):
    """The runner stopped this call (a failure elsewhere, a budget stop, Ctrl-C or
    SIGTERM) before an answer came back. Not a finding: the run's own reason is."""


@dataclass(frozen=True)
class Request:
    """One call: what to send and how long to wait for the whole answer."""

    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, ...
    #: OpenAI structured outputs (``{"type": "json_schema", ...}``), or None.
    response_format: dict[str, Any] | None = None
    #: A GBNF grammar (llama.cpp's ``grammar`` field), or None.
    grammar: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    #: Characters at the start of the last user message that every call of the
    #: step shares (the prompt before its first per-item value): a provider with
    #: prompt caching marks them cacheable.
    cacheable_prefix: int = 0
    #: The declared output (the offline provider answers in its shape).
    shape: OutputShape | None = None


@dataclass
class Reply:
    content: str
    prompt_tokens: int
    completion_tokens: int
    #: "stop", "length" (cut off at max_tokens), ... or None when not reported.
    finish_reason: str | None = None
    #: Prompt tokens read from the provider's prompt cache (billed lower).
    cached_tokens: int = 0
    #: Prompt tokens written to the provider's prompt cache (Anthropic bills them higher).
    cache_write_tokens: int = 0


class Retry(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class CallControl:
    """The runner's handle on one call, shared with the thread that makes it.

    ``drain()`` lets the attempt in flight finish but starts no retry (the run is
    stopping and gives calls in flight a grace period). ``stop()`` (from any
    thread) ends the call: a wait between retries returns at once, and the
    attempt in flight is aborted through the function the provider registered
    with :meth:`attempt`. ``on_retry(attempt, reason, wait)`` is told of every
    retry before its wait.
    """

    def __init__(self, on_retry: Callable[[int, str, float], None] | None = None) -> None:
        self.stopped = threading.Event()
        self.draining = False
        self.on_retry = on_retry
        self.timed_out = False
        self._lock = threading.Lock()
        self._abort: Callable[[], None] | None = None

    def drain(self) -> None:
        self.draining = True

    def stop(self) -> None:
        with self._lock:
            self.stopped.set()
            abort = self._abort
        if abort is not None:
            abort()

    def attempt(self, abort: Callable[[], None], timeout: float) -> _Attempt:
        """A context for one attempt: ``abort`` runs on stop() or when ``timeout``
        seconds pass from now (the request is about to be sent)."""
        return _Attempt(self, abort, timeout)


class _Attempt:
    def __init__(self, control: CallControl, abort: Callable[[], None], timeout: float) -> None:
        self.control = control
        self.abort = abort
        self.timer = threading.Timer(timeout, self._expire)
        self.timer.daemon = True

    def _expire(self) -> None:
        self.control.timed_out = True
        self.abort()

    def __enter__(self) -> _Attempt:
        with self.control._lock:
            if self.control.stopped.is_set():
                raise CallCancelled()
            self.control._abort = self.abort
            self.control.timed_out = False
        self.timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.timer.cancel()
        with self.control._lock:
            self.control._abort = None
        # An answer read in full is kept even if a stop came just after it; a
        # failure during a stop is the stop's doing.
        if exc_type is not None and self.control.stopped.is_set():
            raise CallCancelled()


def with_retries(send: Callable[[], Reply], control: CallControl, *, max_retries: int,
                 backoff: float, max_backoff: float, where: str) -> Reply:
    """``send()`` until it returns a Reply, raises ProviderError, or has failed
    ``max_retries + 1`` times with :class:`Retry`. A stop ends it at once."""
    last = ""
    for attempt in range(max_retries + 1):
        if control.stopped.is_set():
            raise CallCancelled()
        try:
            return send()
        except Retry as e:
            last = e.reason
            if control.draining or control.stopped.is_set():
                raise CallCancelled() from None  # no retry starts once the run stops
            if attempt == max_retries:
                break
            wait = e.retry_after if e.retry_after is not None else \
                random.uniform(0, min(max_backoff, backoff * 2 ** attempt))
            if control.on_retry is not None:
                control.on_retry(attempt + 1, e.reason, round(wait, 3))
            if control.stopped.wait(wait):
                raise CallCancelled() from None
    raise ProviderError(f"{where}: gave up after {max_retries + 1} attempts: {last}")


class Provider(Protocol):
    """What the runner needs of a model provider."""

    @property
    def name(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    def check(self) -> None:
        """Raise ProviderSetupError if no call can succeed (before the run starts)."""

    def complete(self, request: Request, control: CallControl) -> Reply:
        """One completion; blocking (the runner calls it in a thread pool).
        Raises ProviderError, or CallCancelled once ``control`` is stopped."""


def open_provider(kind: str, base_url: str | None, api_key_env: str | None,
                  environ: Mapping[str, str]) -> Provider:
    """The provider a pipeline names (or the command line overrides), its key read
    from ``environ[api_key_env]`` (by default the provider's usual variable).
    Makes no connection: see ``check()``."""
    if kind == "offline":
        return OfflineProvider()
    if kind == "openai":
        env = api_key_env or "OPENAI_API_KEY"
        return OpenAIProvider(base_url or DEFAULT_BASE_URL, environ.get(env) or None,
                              api_key_env=env)
    if kind == "anthropic":
        from .anthropic_provider import DEFAULT_ANTHROPIC_URL, AnthropicProvider

        env = api_key_env or "ANTHROPIC_API_KEY"
        return AnthropicProvider(base_url or DEFAULT_ANTHROPIC_URL, environ.get(env) or None,
                                 api_key_env=env)
    raise ProviderSetupError(f"unknown provider {kind!r} ({', '.join(PROVIDERS)})")


def is_loopback(host: str) -> bool:
    """A local server (llama.cpp, vLLM, Ollama on this machine) needs no key."""
    return host in ("localhost", "::1") or host.startswith("127.")


def check_reachable(host: str, port: int, base_url: str) -> None:
    """Something answers at ``host:port``; ProviderSetupError otherwise."""
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as e:
        raise ProviderSetupError(f"cannot reach {base_url} ({e.strerror or e})") from None


class OfflineProvider:
    """Deterministic, well-formed TOON replies derived from the request.

    A declared list gets its count, or ``items`` entries for any count (default 5,
    or the step's ``params.offline_items``); a text gets a short string; a step
    with no declaration gets plain text.
    """

    name = "offline"
    base_url = "offline:"

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls = 0

    def check(self) -> None:
        pass

    def complete(self, request: Request, control: CallControl) -> Reply:
        self.calls += 1
        if self.latency and control.stopped.wait(self.latency):
            raise CallCancelled()
        digest = hashlib.sha256(json.dumps([request.model, request.messages, request.params],
                                           sort_keys=True).encode()).hexdigest()[:8]
        items = int(request.params.get("offline_items", 5))
        if request.shape is None:
            content = f"A reply ({digest})."
        else:
            # A value meeting the step's contract, whatever its types.
            reply = request.shape.example(digest, items)
            content = json.dumps(reply) if request.response_format else encode(reply)
        prompt = sum(len(m["content"]) for m in request.messages) // 4
        return Reply(content, prompt, len(content) // 4, finish_reason="stop")


class HTTPProvider:
    """What the providers that call over HTTP share: where they call, their key,
    the settings of the one retry policy and a count of retries."""

    def __init__(self, base_url: str, api_key: str | None, *, api_key_env: str,
                 max_retries: int = 5, backoff: float = 0.5, max_backoff: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_key_env = api_key_env
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.retries = 0
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
        self._url_path = parts.path or ""
        self._local = threading.local()  # per thread: a connection or a client

    def check(self) -> None:
        """A key is needed except on loopback; something must answer at base_url.
        Fails here, before any step runs, rather than on every call after retries."""
        if not self.api_key and not is_loopback(self._host):
            raise ProviderSetupError(f"no API key: set {self.api_key_env} "
                                     "(the pipeline names that variable)")
        check_reachable(self._host, self._port or (443 if self._scheme == "https" else 80),
                        self.base_url)

    def retrying(self, send: Callable[[], Reply], control: CallControl) -> Reply:
        """``send`` under the retry policy, every retry counted in ``retries``."""
        told = control.on_retry

        def on_retry(attempt: int, reason: str, wait: float) -> None:
            self.retries += 1
            if told is not None:
                told(attempt, reason, wait)

        control.on_retry = on_retry
        return with_retries(send, control, max_retries=self.max_retries, backoff=self.backoff,
                            max_backoff=self.max_backoff, where=self.base_url)


class OpenAIProvider(HTTPProvider):
    """Any OpenAI-compatible Chat Completions endpoint: OpenAI, llama.cpp's
    server, vLLM, Ollama's ``/v1``."""

    name = "openai"

    def __init__(self, base_url: str, api_key: str | None, *, max_retries: int = 5,
                 backoff: float = 0.5, max_backoff: float = 30.0,
                 api_key_env: str = "OPENAI_API_KEY") -> None:
        super().__init__(base_url, api_key, api_key_env=api_key_env, max_retries=max_retries,
                         backoff=backoff, max_backoff=max_backoff)
        self._path = self._url_path + "/chat/completions"

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """This thread's kept-alive connection; a new one when the server closed
        it (HTTP/1.0, ``Connection: close``). Connecting waits at most
        CONNECT_TIMEOUT: a stop cannot abort a connect in progress."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None or conn.sock is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=min(timeout, CONNECT_TIMEOUT))
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        conn.sock.settimeout(timeout)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.model, "messages": request.messages,
                                **{k: v for k, v in request.params.items()
                                   if not k.startswith("offline_")}}
        if request.response_format is not None:
            body["response_format"] = request.response_format
        if request.grammar is not None:
            body["grammar"] = request.grammar
        return body

    def complete(self, request: Request, control: CallControl) -> Reply:
        # bytes, so http.client sends headers and body in one segment: two small
        # writes meet Nagle's algorithm and delayed ACKs and stall 40 ms.
        body = json.dumps(self.body(request)).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"

        def send() -> Reply:
            holder: list[socket.socket] = []

            def abort() -> None:
                for sock in holder:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

            try:
                with control.attempt(abort, request.timeout):
                    conn = self._connection(request.timeout)
                    holder.append(conn.sock)
                    conn.request("POST", self._path, body=body, headers=headers)
                    resp = conn.getresponse()
                    raw = resp.read()
            except CallCancelled:
                self._drop()
                raise
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self._drop()
                if control.timed_out or isinstance(e, (socket.timeout, TimeoutError)):
                    raise Retry(f"no answer within {request.timeout:g} s") from None
                raise Retry(f"connection failed ({e})") from None
            if resp.will_close:
                self._drop()
            return self._reply(resp, raw)

        return self.retrying(send, control)

    def _reply(self, resp: http.client.HTTPResponse, raw: bytes) -> Reply:
        status = resp.status
        if status == 200:
            try:
                return reply_from_completion(json.loads(raw))
            except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                raise Retry("malformed JSON in the response") from None
        if status in RETRY_STATUS:
            header = resp.getheader("Retry-After")
            try:
                retry_after = float(header) if header else None
            except ValueError:
                retry_after = None
            raise Retry(f"HTTP {status}", retry_after)
        detail = raw.decode("utf-8", "replace")[:200].strip()
        raise ProviderError(f"{self.base_url}: HTTP {status}: {detail}")


def reply_from_completion(data: Any) -> Reply:
    """A Reply from a Chat Completions response body (a direct call's, or a line of
    a batch job's output file). ValueError, KeyError, IndexError, TypeError or
    AttributeError when it is not one."""
    choice = data["choices"][0]
    content = choice["message"]["content"]
    if not isinstance(content, str):
        raise TypeError
    usage = data.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    return Reply(content, int(usage.get("prompt_tokens") or 0),
                 int(usage.get("completion_tokens") or 0),
                 finish_reason=choice.get("finish_reason"),
                 cached_tokens=int(details.get("cached_tokens") or 0))
