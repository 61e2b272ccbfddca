"""The Anthropic provider against a Messages API server on loopback, through the
real SDK and real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.anthropic_server import FakeClaude
from toon_tools.pipeline.anthropic_provider import NEEDS_EXTRA, AnthropicProvider, messages_body
from toon_tools.pipeline.providers import (
    CallCancelled,
    CallControl,
    ProviderError,
    ProviderSetupError,
    Request,
    open_provider,
)

pytest.importorskip("anthropic")

SYSTEM = "You write catalogue entries. " * 8
SHARED = "Describe the item below in TOON.\n\nItem: "


@pytest.fixture
def server() -> Iterator[FakeClaude]:
    s = FakeClaude(reply=lambda body: "title: A reply")
    yield s
    s.close()


def _provider(server: FakeClaude, key: str | None = "sk-ant-test", **kw: Any) -> AnthropicProvider:
    kw.setdefault("backoff", 0.01)
    return AnthropicProvider(server.url, key, **kw)


def _request(item: str = "a red kettle", **kw: Any) -> Request:
    user = SHARED + item
    kw.setdefault("timeout", 10.0)
    return Request("claude-test-1", [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": user}],
                   cacheable_prefix=len(SHARED), **kw)


def test_request_carries_key_version_model_and_cache_marks(server: FakeClaude) -> None:
    reply = _provider(server).complete(_request(params={"temperature": 0.2}), CallControl())
    assert reply.content == "title: A reply"
    (sent,) = server.requests
    assert sent["path"] == "/v1/messages"
    headers, body = sent["headers"], sent["body"]
    # The SDK sends the key as x-api-key (0.x) or as a bearer token (2.x).
    assert headers.get("x-api-key") == "sk-ant-test" or \
        headers.get("authorization") == "Bearer sk-ant-test"
    assert headers["anthropic-version"]
    assert body["model"] == "claude-test-1"
    assert body["max_tokens"] == 4096
    assert body["temperature"] == 0.2
    assert body["system"] == [{"type": "text", "text": SYSTEM,
                               "cache_control": {"type": "ephemeral"}}]
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": SHARED, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "a red kettle"}]}]


def test_cached_input_tokens_come_back_in_the_reply(server: FakeClaude) -> None:
    provider = _provider(server)
    first = provider.complete(_request("a red kettle"), CallControl())
    second = provider.complete(_request("a blue teapot"), CallControl())
    shared = (len(SYSTEM) + len(SHARED)) // 4
    assert (first.cached_tokens, first.cache_write_tokens) == (0, shared)
    assert (second.cached_tokens, second.cache_write_tokens) == (shared, 0)
    # prompt_tokens counts every input token, cached or not.
    assert second.prompt_tokens == shared + len("a blue teapot") // 4
    assert first.prompt_tokens == shared + len("a red kettle") // 4
    assert second.completion_tokens == 7
    assert second.finish_reason == "stop"


def test_params_are_mapped_and_other_providers_fields_left_out() -> None:
    request = Request("m", [{"role": "user", "content": "hi"}],
                      params={"max_tokens": 50, "top_k": 5, "stop": "END", "seed": 1,
                              "offline_items": 3},
                      response_format={"type": "json_schema"}, grammar="root ::= \"x\"")
    assert messages_body(request) == {
        "model": "m", "max_tokens": 50, "top_k": 5, "stop_sequences": ["END"],
        "messages": [{"role": "user", "content": "hi"}]}


def _needs_structured_outputs() -> None:
    import anthropic

    if not hasattr(anthropic, "transform_schema"):
        pytest.skip("this SDK predates structured outputs")


SCHEMA = {"type": "object", "additionalProperties": False, "required": ["title", "tags"],
          "properties": {"title": {"type": "string"},
                         "tags": {"type": "array", "items": {"type": "string"},
                                  "minItems": 3, "maxItems": 3}}}


def test_json_schema_mode_becomes_structured_output(server: FakeClaude) -> None:
    _needs_structured_outputs()
    server.reply = lambda body: '{"title": "T", "tags": ["a", "b", "c"]}'
    request = _request(response_format={"type": "json_schema", "json_schema": {
        "name": "entry", "schema": SCHEMA, "strict": True}}, grammar="root ::= x",
        params={"temperature": 0.0})
    reply = _provider(server).complete(request, CallControl())
    assert reply.content == '{"title": "T", "tags": ["a", "b", "c"]}'
    body = server.requests[0]["body"]
    assert "response_format" not in body and "grammar" not in body
    fmt = body["output_config"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["schema"]["required"] == ["title", "tags"]
    assert fmt["schema"]["additionalProperties"] is False
    # What the API does not enforce is said in the description instead.
    assert "minItems" not in fmt["schema"]["properties"]["tags"]
    assert "maxItems: 3" in fmt["schema"]["properties"]["tags"]["description"]
    assert body["temperature"] == 0.0


def test_shared_prefix_never_makes_a_blank_block() -> None:
    def body(text: str, prefix: int) -> Any:
        request = Request("m", [{"role": "user", "content": text}], cacheable_prefix=prefix)
        return messages_body(request)["messages"][0]["content"]

    assert body("all shared", 99) == [{"type": "text", "text": "all shared",
                                       "cache_control": {"type": "ephemeral"}}]
    assert body("shared\n\n", 6) == [{"type": "text", "text": "shared\n\n",
                                      "cache_control": {"type": "ephemeral"}}]
    assert body("  item", 2) == "  item"
    assert body("no prefix", 0) == "no prefix"


def test_only_the_last_user_message_is_split() -> None:
    request = Request("m", [{"role": "user", "content": "first ask"},
                            {"role": "assistant", "content": "bad reply"},
                            {"role": "user", "content": "fix it: the error"}],
                      cacheable_prefix=8)
    turns = messages_body(request)["messages"]
    assert turns[0]["content"] == "first ask"
    assert turns[1] == {"role": "assistant", "content": "bad reply"}
    assert turns[2]["content"][0] == {"type": "text", "text": "fix it: ",
                                      "cache_control": {"type": "ephemeral"}}


def test_rate_limit_with_retry_after_is_retried_and_counted(server: FakeClaude) -> None:
    server.faults = ["429", "429"]
    provider = _provider(server, backoff=5.0)  # a backoff wait would be seconds
    waits: list[tuple[int, str, float]] = []
    reply = provider.complete(_request(), CallControl(
        on_retry=lambda a, r, w: waits.append((a, r, w))))
    assert reply.content == "title: A reply"
    assert provider.retries == 2
    assert len(server.requests) == 3
    assert waits == [(1, "HTTP 429 rate_limit_error", 0.05), (2, "HTTP 429 rate_limit_error", 0.05)]


def test_overloaded_and_server_errors_are_retried(server: FakeClaude) -> None:
    server.faults = ["529", "500", "malformed"]
    provider = _provider(server)
    reasons: list[str] = []
    reply = provider.complete(_request(), CallControl(on_retry=lambda a, r, w: reasons.append(r)))
    assert reply.content == "title: A reply"
    assert reasons == ["HTTP 529 overloaded_error", "HTTP 500 api_error",
                       "malformed JSON in the response"]
    assert provider.retries == 3


def test_retries_run_out(server: FakeClaude) -> None:
    server.faults = ["529"] * 3
    with pytest.raises(ProviderError, match=r"gave up after 3 attempts: HTTP 529"):
        _provider(server, max_retries=2).complete(_request(), CallControl())


def test_bad_key_fails_at_once_with_the_api_message(server: FakeClaude) -> None:
    server.faults = ["401"]
    provider = _provider(server)
    with pytest.raises(ProviderError) as e:
        provider.complete(_request(), CallControl())
    assert str(e.value) == (f"{server.url}: HTTP 401: invalid x-api-key (authentication_error)")
    assert len(server.requests) == 1
    assert provider.retries == 0


def test_a_bad_request_message_is_one_line(server: FakeClaude) -> None:
    server.faults = ["400"]
    with pytest.raises(ProviderError) as e:
        _provider(server).complete(_request(), CallControl())
    assert str(e.value).endswith(
        "HTTP 400: max_tokens: Field required (see the docs) (invalid_request_error)")


def test_a_hung_server_times_out_per_request_and_is_retried(server: FakeClaude) -> None:
    server.faults = ["hang"]
    provider = _provider(server)
    reasons: list[str] = []
    reply = provider.complete(_request(timeout=0.5),
                              CallControl(on_retry=lambda a, r, w: reasons.append(r)))
    assert reply.content == "title: A reply"
    assert reasons == ["no answer within 0.5 s"]
    assert len(server.requests) == 2


def test_stop_ends_a_hung_call_and_raises_cancelled(server: FakeClaude) -> None:
    server.faults = ["hang"]
    provider = _provider(server)
    control = CallControl()
    outcome: list[BaseException | str] = []

    def call() -> None:
        try:
            provider.complete(_request(timeout=60.0), control)
            outcome.append("answered")
        except BaseException as e:  # noqa: BLE001 - the test reports whatever ended it
            outcome.append(e)

    worker = threading.Thread(target=call)
    worker.start()
    while not server.requests:  # the request is on the server, which holds it
        threading.Event().wait(0.01)
    control.stop()
    worker.join(timeout=30)  # the hang is 30 s; the request timeout 60 s
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], CallCancelled)
    assert len(server.requests) == 1  # never sent again


def test_stop_before_the_call_sends_nothing(server: FakeClaude) -> None:
    control = CallControl()
    control.stop()
    with pytest.raises(CallCancelled):
        _provider(server).complete(_request(), control)
    assert server.requests == []


def test_max_tokens_stop_is_length(server: FakeClaude) -> None:
    server.faults = ["max_tokens"]
    reply = _provider(server).complete(_request(params={"max_tokens": 10}), CallControl())
    assert reply.finish_reason == "length"
    assert server.requests[0]["body"]["max_tokens"] == 10


def test_a_local_server_needs_no_key(server: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither our variable nor the SDK's own default is read behind our back.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-the-environment")
    provider = open_provider("anthropic", server.url + "/v1", "MY_KEY", {})
    provider.check()
    provider.complete(_request(), CallControl())
    headers = server.requests[0]["headers"]
    assert "x-api-key" not in headers and "authorization" not in headers
    assert server.requests[0]["path"] == "/v1/messages"  # a trailing /v1 is not doubled


def test_open_provider_reads_the_named_variable(server: FakeClaude) -> None:
    provider = open_provider("anthropic", server.url, "MY_KEY", {"MY_KEY": "sk-mine"})
    provider.complete(_request(), CallControl())
    headers = server.requests[0]["headers"]
    assert "sk-mine" in (headers.get("x-api-key"), headers.get("authorization", "")[7:])


def test_check_needs_a_key_for_a_remote_host() -> None:
    provider = open_provider("anthropic", None, None, {})
    assert provider.base_url == "https://api.anthropic.com"
    with pytest.raises(ProviderSetupError, match="no API key: set ANTHROPIC_API_KEY"):
        provider.check()


def test_check_fails_when_nothing_answers() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ProviderSetupError, match="cannot reach"):
        AnthropicProvider(f"http://127.0.0.1:{port}", None).check()


def test_check_names_the_extra_when_the_sdk_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "anthropic", None)  # import raises ImportError
    with pytest.raises(ProviderSetupError) as e:
        AnthropicProvider("http://127.0.0.1:9", None).check()
    assert str(e.value) == NEEDS_EXTRA
    assert e.value.exit_code == 2


def test_a_bad_base_url_is_refused() -> None:
    with pytest.raises(ProviderSetupError, match="not an http"):
        AnthropicProvider("ftp://example.com", "k")


def test_the_module_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = ("import sys, toon_tools.pipeline.anthropic_provider, toon_tools.pipeline.providers as p;"
            "p.open_provider('anthropic', None, None, {});"
            "print('anthropic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


PIPELINE = """\
name: guide
provider: anthropic
base_url: {url}
model: claude-haiku-4-5
structured: {structured}
inputs[1]: topic
steps[3]:
  - id: outline
    system: "You are a careful technical writer."
    prompt: "List the parts of {{{{ inputs.topic }}}}"
    output:
      required[1]: "parts[4]"
  - id: parts
    needs[1]: outline
    foreach: outline.parts
    prompt: "Write a short paragraph about the part named below, for the guide.\\n\\nPart: {{{{ item }}}}"
    output:
      required[1]: text
  - id: summary
    needs[1]: parts
    prompt: "Summarise {{{{ parts }}}}"
    output:
      required[1]: summary
"""


@pytest.mark.parametrize("structured", ["off", "json-schema"])
def test_a_pipeline_runs_through_the_messages_api(tmp_path: Path, structured: str) -> None:
    import diskcache

    from toon_tools.pipeline.runner import Runner
    from toon_tools.pipeline.spec import load_pipeline

    if structured == "json-schema":
        _needs_structured_outputs()
    server = FakeClaude()
    try:
        f = tmp_path / "p.toon"
        f.write_text(PIPELINE.format(url=server.url, structured=structured))
        pipeline = load_pipeline(f)
        provider = open_provider(pipeline.provider, pipeline.base_url, pipeline.api_key_env, {})
        provider.check()
        runner = Runner(pipeline, {"topic": "tides"}, provider, cache=diskcache.Cache(
            str(tmp_path / "llm")), run_dir=tmp_path / "run", jobs=1)
        state = runner.run()
    finally:
        server.close()
    assert state.status == "done", state.error
    assert len(server.requests) == 1 + 4 + 1
    bodies = [r["body"] for r in server.requests]
    assert bodies[0]["system"][0]["cache_control"] == {"type": "ephemeral"}
    shared = "Write a short paragraph about the part named below, for the guide.\n\nPart: "
    for body in bodies[1:5]:
        head = body["messages"][-1]["content"][0]
        assert head == {"type": "text", "text": shared, "cache_control": {"type": "ephemeral"}}
        assert ("output_config" in body) == (structured == "json-schema")
    parts = state.steps["parts"]
    # One call writes the shared prefix to the cache, the three after it read it.
    assert parts.cached_tokens == 3 * (len(shared) // 4)
    assert parts.cost_usd is not None and parts.cost_usd > 0
    assert (tmp_path / "run" / "parts.toon").read_text().startswith("[4]")


def test_a_fan_out_waits_for_the_first_call_to_write_the_cache() -> None:
    # The API can read a cache entry only once the call writing it has answered:
    # sent together, every item would miss and pay the write price.
    long_system = "Background for every item. " * 200  # past the smallest cacheable prefix
    server = FakeClaude(reply=lambda body: "text: x", latency=0.3)
    provider = AnthropicProvider(server.url, "k")
    replies: list[Any] = []

    def call(item: str) -> None:
        request = Request("claude-test-1", [{"role": "system", "content": long_system},
                                            {"role": "user", "content": SHARED + item}],
                          cacheable_prefix=len(SHARED))
        replies.append(provider.complete(request, CallControl()))

    try:
        workers = [threading.Thread(target=call, args=(f"item {i}",)) for i in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=30)
    finally:
        server.close()
    assert len(replies) == 4
    assert sorted(r.cache_write_tokens > 0 for r in replies) == [False, False, False, True]
    assert sum(r.cached_tokens > 0 for r in replies) == 3


def test_a_short_prefix_does_not_hold_calls_back(server: FakeClaude) -> None:
    server.latency = 0.3
    provider = _provider(server)
    done: list[float] = []
    workers = [threading.Thread(target=lambda: done.append(
        provider.complete(_request(), CallControl()).cache_write_tokens)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    # Below the smallest cacheable prefix the API caches nothing: no one waits,
    # so all three arrive before any answers (and in the fake, all three write).
    assert done == [done[0]] * 3 and done[0] > 0


def test_a_stop_ends_a_call_waiting_for_the_warm_up() -> None:
    server = FakeClaude(hang=30.0)
    server.faults = ["hang"]
    provider = AnthropicProvider(server.url, "k", backoff=0.01)
    long_system = "Background for every item. " * 200
    request = Request("claude-test-1", [{"role": "system", "content": long_system},
                                        {"role": "user", "content": SHARED + "x"}],
                      cacheable_prefix=len(SHARED), timeout=60.0)
    first, second = CallControl(), CallControl()
    outcomes: list[BaseException | str] = []

    def call(control: CallControl) -> None:
        try:
            provider.complete(request, control)
            outcomes.append("answered")
        except BaseException as e:  # noqa: BLE001
            outcomes.append(e)

    try:
        a = threading.Thread(target=call, args=(first,))
        a.start()
        while not server.requests:
            threading.Event().wait(0.01)
        b = threading.Thread(target=call, args=(second,))
        b.start()
        threading.Event().wait(0.2)
        assert b.is_alive()  # held back by the warm-up, not sent
        second.stop()
        b.join(timeout=30)
        assert not b.is_alive()
        first.stop()
        a.join(timeout=30)
    finally:
        server.close()
    assert len(outcomes) == 2 and all(isinstance(o, CallCancelled) for o in outcomes)
    assert len(server.requests) == 1
