"""Anthropic's Messages API through the official ``anthropic`` SDK (the optional
extra ``toon-tools[anthropic]``; the SDK is imported only when a call is made).

Prompt caching: the system messages and the part of the last user message that
every call of a step shares (``Request.cacheable_prefix``, the prompt before its
first per-item value) are sent as text blocks marked ``cache_control:
{"type": "ephemeral"}``, so a fan-out step pays the full input price for that
prefix once and the cache-read price for the rest. The API caches only prefixes
past a minimum length (about 1024 tokens; 2048 for Haiku); shorter ones are
billed in full, without an error. The reply reports both kinds of cached tokens
(:attr:`Reply.cached_tokens` read, :attr:`Reply.cache_write_tokens` written), and
``prompt_tokens`` counts all the input tokens, cached or not.

A cache entry is readable only once the call that writes it has answered, so the
items of a fan-out sent at once would all miss and all pay the write price (1.25x
input). The first call with a given cacheable prefix long enough to be cached
therefore goes alone; calls with the same prefix wait for its answer (not
counted in their timeout, ended at once by a stop), then read the cache.

Parameters: ``max_tokens`` is required by the API (4096 when the step gives
none); ``temperature``, ``top_p``, ``top_k``, ``stop_sequences`` (or OpenAI's
``stop``), ``thinking`` and ``metadata`` are passed through as they are (as
``extra_body``: recent SDKs no longer list the sampling parameters, and some
models refuse them; the API's message then says so). The rest are ignored, so a
pipeline written for another provider runs unchanged: llama.cpp's ``grammar``
(the Messages API has none; the reply is read leniently instead), ``seed``,
penalties, ``offline_*``. OpenAI's ``response_format`` (``--structured
json-schema``) becomes the Messages API's structured output,
``output_config.format``, its schema passed through the SDK's
``transform_schema`` (which moves what the API does not enforce, such as a
``minItems`` above 1, into the description); an SDK too old to have it predates
structured outputs, and the schema is left out.

Retries are ours (:func:`providers.with_retries`): the SDK's own are off. 429,
408/409/425, every 5xx and 529 "overloaded" are retried, honouring
``retry-after-ms``/``Retry-After``; other 4xx fail at once with the API's
message. Each worker thread keeps one client, so one kept-alive connection: a
stop or a timeout shuts that connection's socket down from the runner's thread
(httpcore's ``trace`` extension tells us the socket when it connects), which ends
the blocking call at once. Closing the client would not: a thread blocked in
``recv`` does not wake when another thread closes the socket.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .providers import (
    RETRY_STATUS,
    CallCancelled,
    CallControl,
    HTTPProvider,
    ProviderError,
    ProviderSetupError,
    Reply,
    Request,
    Retry,
)

if TYPE_CHECKING:
    import anthropic

DEFAULT_ANTHROPIC_URL: Final = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS: Final = 4096
#: Messages API parameters taken from a step's ``params`` as they are.
PASSED_PARAMS: Final = ("temperature", "top_p", "top_k", "stop_sequences", "thinking", "metadata")
#: The httpcore trace events that hand over a new connection's stream.
_CONNECTED: Final = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})
_CACHE: Final = {"type": "ephemeral"}
#: Characters in a cacheable prefix before its calls wait for the first one: the
#: API's smallest cacheable prefix, 1024 tokens, at about four characters a token.
#: Below it nothing is cached, and waiting would only cost time.
WARM_UP_CHARS: Final = 4096
NEEDS_EXTRA: Final = "the anthropic provider needs the extra: pip install 'toon-tools[anthropic]'"


def messages_body(request: Request,
                  transform_schema: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                  ) -> dict[str, Any]:
    """The JSON body of the Messages API call for ``request``: system messages become
    a cached system block, the last user message's shared prefix a cached block of
    its own. ``transform_schema`` (the SDK's) turns on structured output."""
    system = [m["content"] for m in request.messages if m["role"] == "system"]
    turns: list[dict[str, Any]] = [{"role": m["role"], "content": m["content"]}
                                   for m in request.messages if m["role"] != "system"]
    prefix = getattr(request, "cacheable_prefix", 0)
    last_user = max((i for i, t in enumerate(turns) if t["role"] == "user"), default=None)
    if prefix > 0 and last_user is not None:
        turns[last_user]["content"] = _split(turns[last_user]["content"], prefix)
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": int(request.params.get("max_tokens", DEFAULT_MAX_TOKENS)),
        "messages": turns,
    }
    if system:
        # One breakpoint, on the last block: the cache covers everything before it
        # (the API allows four per request).
        blocks: list[dict[str, Any]] = [{"type": "text", "text": s} for s in system]
        blocks[-1]["cache_control"] = _CACHE
        body["system"] = blocks
    for name in PASSED_PARAMS:
        if name in request.params:
            body[name] = request.params[name]
    stop = request.params.get("stop")
    if stop is not None and "stop_sequences" not in body:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    schema = _json_schema(request.response_format)
    if schema is not None and transform_schema is not None:
        body["output_config"] = {"format": {"type": "json_schema",
                                            "schema": transform_schema(schema)}}
    return body


def _json_schema(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema of OpenAI's ``{"type": "json_schema", "json_schema": {"schema": ...}}``."""
    if not response_format or response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema")
    return schema if isinstance(schema, dict) else None


def _split(text: str, prefix: int) -> str | list[dict[str, Any]]:
    """``text`` as a cached block of its first ``prefix`` characters and a plain block
    of the rest. The API refuses a text block that is empty or blank, so a blank
    side joins the other one (all cached if only the tail is blank)."""
    head, tail = text[:prefix], text[prefix:]
    if not head.strip():
        return text
    if not tail.strip():
        return [{"type": "text", "text": text, "cache_control": _CACHE}]
    return [{"type": "text", "text": head, "cache_control": _CACHE},
            {"type": "text", "text": tail}]


def cached_prefix(body: dict[str, Any]) -> str:
    """The text the cache breakpoints of ``body`` cover: the model, the system
    blocks and each message up to the last block marked ``cache_control``."""
    parts = [body["model"]]
    marked = ""
    for block in body.get("system", []):
        parts.append(block["text"])
        if "cache_control" in block:
            marked = "\x00".join(parts)
    for turn in body["messages"]:
        content = turn["content"]
        for block in [{"text": content}] if isinstance(content, str) else content:
            parts.append(block["text"])
            if "cache_control" in block:
                marked = "\x00".join(parts)
    return marked


class WarmUp:
    """Calls that share a cacheable prefix wait for the first of them to answer,
    so that they read the cache it wrote instead of each writing it again."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gates: dict[str, threading.Event] = {}

    def enter(self, prefix: str, control: CallControl) -> threading.Event | None:
        """The gate to open when this call answers (it is the first), or None once
        the first has answered (after waiting for it). CallCancelled on a stop."""
        if len(prefix) < WARM_UP_CHARS:
            return None
        key = hashlib.sha256(prefix.encode("utf-8", "surrogatepass")).hexdigest()
        with self.lock:
            gate = self.gates.get(key)
            if gate is None:
                gate = self.gates[key] = threading.Event()
                return gate
        while not gate.wait(0.05):
            if control.stopped.is_set():
                raise CallCancelled()
        return None


def reply_from(message: Any) -> Reply:
    """A Reply from the SDK's ``Message``: its text blocks joined (thinking and tool
    blocks left out), every input token counted, cached ones apart."""
    usage = message.usage
    read = int(getattr(usage, "cache_read_input_tokens", None) or 0)
    written = int(getattr(usage, "cache_creation_input_tokens", None) or 0)
    text = "".join(block.text for block in message.content
                   if getattr(block, "type", None) == "text")
    stop = message.stop_reason
    finish = ("length" if stop == "max_tokens" else
              "stop" if stop in ("end_turn", "stop_sequence") else stop)
    return Reply(text, int(usage.input_tokens or 0) + read + written,
                 int(usage.output_tokens or 0), finish_reason=finish,
                 cached_tokens=read, cache_write_tokens=written)


class _Line:
    """The socket of the one connection a worker thread's client holds, kept so that
    another thread can shut it down: ``abort()`` ends the call blocked on it, and a
    connection that opens after an abort is shut down as soon as it connects."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.aborted = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event not in _CONNECTED:
            return
        sock = info["return_value"].get_extra_info("socket")
        with self.lock:
            self.sock = sock
            aborted = self.aborted
        if aborted:
            _shutdown(sock)

    def on_request(self, request: Any) -> None:
        """httpx's request hook: have httpcore report connections to :meth:`trace`."""
        request.extensions["trace"] = self.trace

    def arm(self) -> None:
        with self.lock:
            self.aborted = False

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            sock = self.sock
        if sock is not None:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class AnthropicProvider(HTTPProvider):
    """Claude models through the Messages API (or any server that speaks it)."""

    name = "anthropic"

    def __init__(self, base_url: str, api_key: str | None, *, max_retries: int = 5,
                 backoff: float = 0.5, max_backoff: float = 30.0,
                 api_key_env: str = "ANTHROPIC_API_KEY") -> None:
        url = base_url.rstrip("/")
        # The SDK adds /v1/messages; a base_url written the OpenAI way ends in /v1.
        if url.endswith("/v1"):
            url = url[:-3]
        super().__init__(url, api_key, api_key_env=api_key_env, max_retries=max_retries,
                         backoff=backoff, max_backoff=max_backoff)
        self.warm_up = WarmUp()

    def check(self) -> None:
        """The SDK is installed, a key is set (except on loopback), and something
        answers at base_url: fails here, before any step runs."""
        try:
            import anthropic  # noqa: F401
        except ImportError:
            raise ProviderSetupError(NEEDS_EXTRA) from None
        super().check()

    def _client(self) -> tuple[anthropic.Anthropic, _Line]:
        """This thread's client and the line it holds (made on first use)."""
        held: tuple[anthropic.Anthropic, _Line] | None = getattr(self._local, "client", None)
        if held is None:
            try:
                import anthropic
            except ImportError:
                raise ProviderSetupError(NEEDS_EXTRA) from None
            line = _Line()
            client = anthropic.Anthropic(
                # An explicit key, even an empty one, keeps the SDK from looking
                # for one in the environment or in its profile files.
                api_key=self.api_key or "", base_url=self.base_url, max_retries=0,
                http_client=anthropic.DefaultHttpxClient(event_hooks={"request": [line.on_request]}))
            held = (client, line)
            self._local.client = held
        return held

    def _drop(self) -> None:
        held = getattr(self._local, "client", None)
        if held is not None:
            self._local.client = None
            held[0].close()

    def complete(self, request: Request, control: CallControl) -> Reply:
        try:
            import anthropic
        except ImportError:
            raise ProviderSetupError(NEEDS_EXTRA) from None
        body = messages_body(request, getattr(anthropic, "transform_schema", None))
        gate = self.warm_up.enter(cached_prefix(body), control)
        # The SDK's own arguments are the ones every version has; the rest goes
        # into the body as it is.
        named = {k: body.pop(k) for k in ("model", "max_tokens", "messages", "system") if k in body}
        timeout = anthropic.Timeout(request.timeout, connect=min(5.0, request.timeout))
        headers: dict[str, Any] | None = None
        if not self.api_key:
            # A local server: send no key at all. Omitted per request, which is
            # where every SDK version looks for it.
            omit: Any = getattr(anthropic, "Omit", None)
            if omit is None:  # exported in later versions; the same class before
                from anthropic._types import Omit as omit
            headers = {"X-Api-Key": omit(), "Authorization": omit()}

        def send() -> Reply:
            client, line = self._client()
            create: Callable[..., Any] = client.messages.create
            line.arm()
            try:
                with control.attempt(line.abort, request.timeout):
                    message = create(**named, extra_body=body or None, extra_headers=headers,
                                     timeout=timeout)
            except anthropic.APIStatusError as e:
                raise self._status_error(e) from None
            except anthropic.APIConnectionError as e:  # APITimeoutError too
                self._drop()
                if control.timed_out or isinstance(e, anthropic.APITimeoutError):
                    raise Retry(f"no answer within {request.timeout:g} s") from None
                raise Retry(f"connection failed ({e.__cause__ or e})") from None
            except (anthropic.APIResponseValidationError, ValueError):
                raise Retry("malformed JSON in the response") from None
            if gate is not None:  # the cache is written: the others may go
                gate.set()
            try:
                return reply_from(message)
            except (AttributeError, TypeError, ValueError):
                raise Retry("malformed JSON in the response") from None

        try:
            return self.retrying(send, control)
        finally:
            if gate is not None:  # failed or stopped: the others go on their own
                gate.set()

    def _status_error(self, e: anthropic.APIStatusError) -> Exception:
        """A Retry for what waiting may fix (429, 5xx, 529 overloaded, ...), else a
        ProviderError with the API's own message on one line."""
        status = e.status_code
        if status in RETRY_STATUS or status >= 500:
            return Retry(f"HTTP {status}{_kind(e.body)}", _retry_after(e.response.headers))
        detail = " ".join(_message(e.body, e.response.text).split())[:200]
        return ProviderError(f"{self.base_url}: HTTP {status}: {detail}")

def _error(body: object) -> dict[str, Any]:
    """The ``error`` object of an API error body (``{"type": "error", "error": {...}}``)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error
    return {}


def _kind(body: object) -> str:
    kind = _error(body).get("type")
    return f" {kind}" if isinstance(kind, str) else ""


def _message(body: object, text: str) -> str:
    error = _error(body)
    message = error.get("message")
    if isinstance(message, str) and message:
        kind = error.get("type")
        return f"{message} ({kind})" if isinstance(kind, str) else message
    return text or "(no message)"


def _retry_after(headers: Any) -> float | None:
    """The wait the server asks for: ``retry-after-ms`` (Anthropic's), then
    ``Retry-After`` in seconds (an HTTP date is ignored: backoff decides)."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                wait = float(value) / scale
            except ValueError:
                continue
            if wait >= 0:
                return wait
    return None


def reply_from_json(message: dict[str, Any]) -> Reply:
    """A Reply from a Messages API ``message`` as JSON (a Message Batches result),
    read as :func:`reply_from` reads the SDK's object."""
    from types import SimpleNamespace

    usage = SimpleNamespace(**{k: message["usage"].get(k) for k in (
        "input_tokens", "output_tokens", "cache_read_input_tokens",
        "cache_creation_input_tokens")})
    blocks = [SimpleNamespace(type=b.get("type"), text=b.get("text", ""))
              for b in message["content"]]
    return reply_from(SimpleNamespace(usage=usage, content=blocks,
                                      stop_reason=message.get("stop_reason")))


class AnthropicBatches:
    """The Message Batches API (``/v1/messages/batches``) at the provider's
    base_url: each request's ``params`` is the body the direct call sends
    (structured output included when the SDK is installed to shape its schema)."""

    def __init__(self, provider: AnthropicProvider) -> None:
        self.provider = provider
        self.base = provider.base_url + "/v1/messages/batches"

    def _http(self, method: str, url: str, data: bytes | None = None) -> bytes:
        from .batch import ANTHROPIC_VERSION, http

        headers = {"anthropic-version": ANTHROPIC_VERSION, "Content-Type": "application/json"}
        if self.provider.api_key:
            headers["x-api-key"] = self.provider.api_key
        p = self.provider
        return http(method, url, headers, data, where=url, max_retries=p.max_retries,
                    backoff=p.backoff, max_backoff=p.max_backoff)

    def _info(self, batch_id: str) -> dict[str, Any]:
        import json

        try:
            data = json.loads(self._http("GET", f"{self.base}/{batch_id}"))
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ProviderError(f"{self.base}/{batch_id}: malformed JSON in the response")
        return data

    def body(self, request: Request) -> dict[str, Any]:
        try:
            import anthropic
            transform = getattr(anthropic, "transform_schema", None)
        except ImportError:
            transform = None
        return messages_body(request, transform)

    def submit(self, lines: list[tuple[str, dict[str, Any]]]) -> str:
        import json

        payload = {"requests": [{"custom_id": cid, "params": body} for cid, body in lines]}
        raw = self._http("POST", self.base, json.dumps(payload).encode())
        try:
            created = json.loads(raw)
        except ValueError:
            created = None
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise ProviderError(f"{self.base}: no batch id in the response")
        return str(created["id"])

    def poll(self, batch_id: str) -> Any:
        from .batch import Progress

        info = self._info(batch_id)
        counts = info.get("request_counts") or {}
        total = sum(int(v or 0) for v in counts.values())
        status = str(info.get("processing_status"))
        return Progress(status, total - int(counts.get("processing") or 0), total,
                        status == "ended")

    def collect(self, batch_id: str, folder: Any) -> Any:
        from ..files import atomic_write
        from .batch import Outcome, jsonl

        info = self._info(batch_id)
        url = info.get("results_url") or f"{self.base}/{batch_id}/results"
        text = self._http("GET", str(url)).decode("utf-8", "replace")
        atomic_write(folder / f"{batch_id}.results.jsonl", text)
        outcome = Outcome()
        for line in jsonl(text):
            cid, result = line.get("custom_id"), line.get("result") or {}
            if not isinstance(cid, str):
                continue
            kind = result.get("type")
            if kind == "succeeded":
                try:
                    outcome.replies[cid] = reply_from_json(result["message"])
                    continue
                except (KeyError, TypeError, AttributeError, ValueError):
                    outcome.errors[cid] = "malformed reply in the results"
                    continue
            error = _error(result.get("error"))
            outcome.errors[cid] = (str(error.get("message") or kind) if error
                                   else str(kind or "no result"))
        return outcome
