"""Batch jobs: a wave's uncached calls sent as one job to the provider's batch
service, collected by a later run (``toon pipeline run --batch``).

- OpenAI: the Batch API. The calls are uploaded as JSONL to ``/v1/files``
  (purpose ``batch``; one line per call: ``custom_id``, ``method``, ``url``
  ``/v1/chat/completions`` and ``body``, exactly the body the direct call would
  send), then ``/v1/batches`` starts the job (``completion_window`` 24h); a
  finished job's output and error files are downloaded from
  ``/v1/files/<id>/content``.
- Anthropic: the Message Batches API (``/v1/messages/batches``; the results
  are a JSONL stream at the batch's ``results_url``), with the body the direct
  call would send as each request's ``params``.

Both bill a batch at half the list price (``prices.BATCH_DISCOUNT``).

A job is a :class:`BatchRecord` in the run's ``state.json`` (its id and, per
``custom_id``, the cache key, step, item, sample and try of the call it
holds). The ``custom_id`` is derived from the body sent (:func:`request_id`),
so a call is found again by what it sends, and equal calls share one line.
What a finished job returned is kept in the run folder (``batches/<id>.*.jsonl``)
and read back by every later run of that folder, so a reply that was paid for
is never asked again: an accepted one goes to the reply cache when it is
collected; a rejected one is read again by the run that re-asks it.

This module only speaks HTTP; deciding what goes into a job, reading replies
and the money is the runner's.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from ..files import atomic_write
from .providers import (
    RETRY_STATUS,
    CallControl,
    OpenAIProvider,
    Provider,
    ProviderError,
    ProviderSetupError,
    Reply,
    Request,
    Retry,
    reply_from_completion,
    with_retries,
)

#: How many jobs a call may go in: the first, and one re-submission after an
#: expired, failed or cancelled job or a per-call error.
MAX_SUBMISSIONS: Final = 2
#: Seconds an HTTP request of the batch lifecycle may take.
HTTP_TIMEOUT: Final = 120.0
OPENAI_ENDPOINT: Final = "/v1/chat/completions"
ANTHROPIC_VERSION: Final = "2023-06-01"


def request_id(body: dict[str, Any], sample: int = 0) -> str:
    """A call's ``custom_id``: from the JSON it sends and its sample index (the
    samples of a step send the same body and must each get a reply of their
    own), in the characters and length both APIs accept (``[A-Za-z0-9_-]{1,64}``)."""
    what: Any = body if sample == 0 else [body, sample]
    canonical = json.dumps(what, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "toon-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Progress:
    """A job's state as the provider reports it."""

    status: str  # the provider's word: in_progress, completed, expired, ended, ...
    done: int
    total: int
    ended: bool  # no more results will come


@dataclass
class Outcome:
    """What a finished job returned: replies and per-call errors, by custom_id."""

    replies: dict[str, Reply] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchRecord:
    """One job, as ``state.json`` keeps it."""

    id: str
    provider: str
    base_url: str
    submitted: float
    #: custom_id -> {"key", "step", "item", "sample", "attempt", "salvage"}
    calls: dict[str, dict[str, Any]]
    status: str = "submitted"
    collected: bool = False
    done: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRecord:
        return cls(id=str(data["id"]), provider=str(data["provider"]),
                   base_url=str(data["base_url"]), submitted=float(data["submitted"]),
                   calls=dict(data["calls"]), status=str(data.get("status", "submitted")),
                   collected=bool(data.get("collected", False)), done=int(data.get("done", 0)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BatchClient(Protocol):
    """A provider's batch service."""

    def body(self, request: Request) -> dict[str, Any]:
        """The JSON the direct call would send for ``request``."""

    def submit(self, lines: list[tuple[str, dict[str, Any]]]) -> str:
        """Start one job of ``(custom_id, body)`` lines; its id."""

    def poll(self, batch_id: str) -> Progress: ...

    def collect(self, batch_id: str, folder: Path) -> Outcome:
        """A finished job's replies and errors; the raw files are kept in ``folder``."""


def batch_client(provider: Provider) -> BatchClient:
    """The batch service of ``provider``; ProviderSetupError for one that has none."""
    if isinstance(provider, OpenAIProvider):
        return OpenAIBatches(provider)
    if provider.name == "anthropic":
        from .anthropic_provider import AnthropicBatches, AnthropicProvider

        assert isinstance(provider, AnthropicProvider)
        return AnthropicBatches(provider)
    raise ProviderSetupError(f"--batch: the {provider.name} provider has no batch service "
                             "(openai and anthropic have)")


# ---------------------------------------------------------------- HTTP


def http(method: str, url: str, headers: dict[str, str], data: bytes | None = None,
         *, where: str, max_retries: int = 5, backoff: float = 0.5,
         max_backoff: float = 30.0) -> bytes:
    """One request of the lifecycle under the one retry policy: its body, or
    ProviderError (a 4xx, or retries exhausted)."""

    def send() -> Reply:
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310
                return Reply(resp.read().decode("utf-8", "replace"), 0, 0)
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            if e.code in RETRY_STATUS or e.code >= 500:
                header = e.headers.get("Retry-After") if e.headers else None
                try:
                    after = float(header) if header else None
                except ValueError:
                    after = None
                raise Retry(f"HTTP {e.code}", after) from None
            detail = " ".join(raw.split())[:200]
            raise ProviderError(f"{where}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            raise Retry(f"connection failed ({getattr(e, 'reason', e)})") from None

    reply = with_retries(send, CallControl(), max_retries=max_retries, backoff=backoff,
                         max_backoff=max_backoff, where=where)
    return reply.content.encode()


def _json(raw: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProviderError(f"{where}: malformed JSON in the response") from None
    if not isinstance(data, dict):
        raise ProviderError(f"{where}: malformed JSON in the response")
    return data


def jsonl(text: str) -> Iterable[dict[str, Any]]:
    """The objects of a JSONL text; a line that is not one is skipped."""
    for line in text.splitlines():
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                yield value


class OpenAIBatches:
    """The OpenAI Batch API at the provider's base_url (``.../v1``)."""

    def __init__(self, provider: OpenAIProvider) -> None:
        self.provider = provider
        self.base = provider.base_url

    def _headers(self, content_type: str | None = "application/json") -> dict[str, str]:
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.provider.api_key:
            headers["Authorization"] = f"Bearer {self.provider.api_key}"
        return headers

    def _http(self, method: str, path: str, data: bytes | None = None,
              content_type: str | None = "application/json") -> bytes:
        p = self.provider
        return http(method, self.base + path, self._headers(content_type), data,
                    where=self.base + path, max_retries=p.max_retries, backoff=p.backoff,
                    max_backoff=p.max_backoff)

    def body(self, request: Request) -> dict[str, Any]:
        return self.provider.body(request)

    def submit(self, lines: list[tuple[str, dict[str, Any]]]) -> str:
        payload = "".join(json.dumps({"custom_id": cid, "method": "POST",
                                      "url": OPENAI_ENDPOINT, "body": body}) + "\n"
                          for cid, body in lines).encode()
        boundary = "toon-" + uuid.uuid4().hex
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                f"batch\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"toon-batch.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n"
                ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
        uploaded = _json(self._http("POST", "/files", form,
                                    f"multipart/form-data; boundary={boundary}"), "/files")
        job = {"input_file_id": uploaded.get("id"), "endpoint": OPENAI_ENDPOINT,
               "completion_window": "24h", "metadata": {"made_by": "toon-tools"}}
        created = _json(self._http("POST", "/batches", json.dumps(job).encode()), "/batches")
        if not isinstance(created.get("id"), str):
            raise ProviderError(f"{self.base}/batches: no batch id in the response")
        return str(created["id"])

    def _info(self, batch_id: str) -> dict[str, Any]:
        return _json(self._http("GET", f"/batches/{batch_id}"), f"/batches/{batch_id}")

    def poll(self, batch_id: str) -> Progress:
        info = self._info(batch_id)
        counts = info.get("request_counts") or {}
        status = str(info.get("status"))
        return Progress(status, int(counts.get("completed") or 0) + int(counts.get("failed") or 0),
                        int(counts.get("total") or 0),
                        status in ("completed", "failed", "expired", "cancelled"))

    def collect(self, batch_id: str, folder: Path) -> Outcome:
        info = self._info(batch_id)
        outcome = Outcome()
        for kind in ("output", "error"):
            file_id = info.get(f"{kind}_file_id")
            if not isinstance(file_id, str):
                continue
            text = self._http("GET", f"/files/{file_id}/content",
                              content_type=None).decode("utf-8", "replace")
            atomic_write(folder / f"{batch_id}.{kind}.jsonl", text)
            for line in jsonl(text):
                _openai_line(line, outcome)
        return outcome


def _openai_line(line: dict[str, Any], outcome: Outcome) -> None:
    cid = line.get("custom_id")
    if not isinstance(cid, str):
        return
    error = line.get("error")
    response = line.get("response") or {}
    status = response.get("status_code")
    if not error and status == 200:
        try:
            outcome.replies[cid] = reply_from_completion(response.get("body") or {})
            return
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            error = {"message": "malformed reply in the output file"}
    if isinstance(error, dict):
        outcome.errors[cid] = str(error.get("message") or error.get("code") or "failed")
    else:
        detail = ((response.get("body") or {}).get("error") or {}).get("message")
        outcome.errors[cid] = f"HTTP {status}" + (f": {detail}" if detail else "")


def describe(progress: Progress) -> str:
    return f"{progress.status}, {progress.done}/{progress.total} done"


def save_records(records: list[BatchRecord]) -> list[dict[str, Any]]:
    return [r.to_dict() for r in records]


def load_records(state_file: Path) -> list[BatchRecord]:
    """The jobs a run folder's ``state.json`` records (none if it has none)."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    raw = data.get("batches") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    records = []
    for item in raw:
        try:
            records.append(BatchRecord.from_dict(item))
        except (KeyError, TypeError, ValueError):
            continue
    return records


def new_record(client_name: str, base_url: str, batch_id: str,
               calls: dict[str, dict[str, Any]], clock: Callable[[], float] = time.time
               ) -> BatchRecord:
    return BatchRecord(batch_id, client_name, base_url, round(clock(), 3), calls)


def load_outcome(path: Path) -> Outcome:
    """A collected job's replies and errors as the run that collected it kept them
    (nothing when the file is gone: its calls are asked again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Outcome({k: Reply(**v) for k, v in data["replies"].items()},
                       {k: str(v) for k, v in data["errors"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Outcome()
