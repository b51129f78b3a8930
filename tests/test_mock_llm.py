"""The mock LLM on the wire: the exact shapes real SDKs require (ARCHITECTURE.md)."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from harness.runner import Runner
from harness.servers import ServerHost

TOOLS = [{"type": "function", "function": {
    "name": "get_stock", "description": "d",
    "parameters": {"type": "object", "properties": {"sku": {"type": "string"}},
                   "required": ["sku"]}}}]


@pytest.fixture
def world(host: ServerHost, register: Any) -> Any:
    """Register a run for a scenario script and give back its base URL."""

    def make(llm: Any, **extra: Any) -> str:
        return host.llm_base_url(register({"name": "wire", "llm": llm, **extra}))

    return make


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def chat(url: str, **body: Any) -> tuple[int, dict[str, str], bytes]:
    return post(url, {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body})


def sse(raw: bytes) -> list[Any]:
    events = [line.removeprefix("data: ") for line in raw.decode().split("\n\n") if line]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_non_streaming_tool_call_shape(world: Any) -> None:
    url = world([{"tool_call": {"name": "get_stock", "arguments": {"sku": "A-01"}}}])
    status, _, raw = chat(url, tools=TOOLS)
    body = json.loads(raw)
    assert status == 200
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "m" and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {"sku": "A-01"}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_streaming_tool_call_deltas(world: Any) -> None:
    url = world([{"tool_call": {"name": "get_stock", "arguments": {"sku": "A-01"}}}])
    status, headers, raw = chat(url, tools=TOOLS, stream=True,
                                stream_options={"include_usage": True})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    chunks = sse(raw)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    with_choices = [c for c in chunks if c["choices"]]
    assert all(c["choices"][0]["index"] == 0 for c in with_choices)
    deltas = [d for c in with_choices for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert all("index" in d for d in deltas)
    named = [d for d in deltas if "name" in d.get("function", {})]
    assert len(named) == 1 and named[0]["id"] and named[0]["type"] == "function"
    assert sum("id" in d for d in deltas) == 1
    args = "".join(d["function"].get("arguments", "") for d in deltas)
    assert json.loads(args) == {"sku": "A-01"}
    assert with_choices[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_streaming_without_usage_has_no_usage_chunk(world: Any) -> None:
    _status, _, raw = chat(world([{"text": "hello there"}]), stream=True)
    chunks = sse(raw)
    assert all(c["choices"] for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == \
        "hello there"


def test_session_routing_keeps_runs_apart(world: Any) -> None:
    a, b = world([{"text": "I am A"}]), world([{"text": "I am B"}])
    assert json.loads(chat(b)[2])["choices"][0]["message"]["content"] == "I am B"
    assert json.loads(chat(a)[2])["choices"][0]["message"]["content"] == "I am A"


def test_unknown_session_is_404_in_openai_shape(host: ServerHost) -> None:
    status, _, raw = chat(host.llm_base_url("no-such-session"))
    assert status == 404 and "error" in json.loads(raw)


def test_rate_limit_error_shape_and_retry_after(world: Any) -> None:
    url = world([{"error": {"status": 429, "retry_after": 2, "times": 2}}, {"text": "ok"}])
    for _ in range(2):
        status, headers, raw = chat(url)
        assert status == 429 and headers["retry-after"] == "2"
        assert json.loads(raw)["error"]["code"] == "rate_limit_exceeded"
    assert chat(url)[0] == 200


def test_context_window_error_shape(world: Any) -> None:
    url = world({"context_window": 10, "turns": [{"text": "ok"}]})
    status, _, raw = post(url, {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]})
    error = json.loads(raw)["error"]
    assert status == 400 and error["code"] == "context_length_exceeded"
    assert error["type"] == "invalid_request_error" and error["param"] == "messages"


def test_truncated_text_is_cut_mid_word(world: Any) -> None:
    url = world([{"truncated": {"content": "Ordered forty winter coats for Munich", "keep": 0.5}}])
    choice = json.loads(chat(url)[2])["choices"][0]
    assert choice["finish_reason"] == "length"
    cut = choice["message"]["content"]
    assert "Ordered forty winter coats for Munich".startswith(cut) and cut[-1].isalpha()
    assert cut.split()[-1] not in ["Ordered", "forty", "winter", "coats", "for", "Munich"]


def test_max_tokens_truncates_like_a_real_model(world: Any) -> None:
    url = world([{"text": "word " * 100}])
    choice = json.loads(chat(url, max_tokens=5)[2])["choices"][0]
    assert choice["finish_reason"] == "length" and len(choice["message"]["content"]) == 20


def test_slow_output_delays_first_token_and_each_token(world: Any) -> None:
    url = world([{"text": {"content": "abcdefgh" * 2, "first_token_delay": 0.3}},
                 {"text": {"content": "abcdefgh" * 2, "token_delay": 0.1}}])
    start = time.monotonic()
    chat(url)
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    chat(url, stream=True)
    assert time.monotonic() - start >= 0.4  # four token deltas of 0.1 s


def test_after_script_default_answer(world: Any) -> None:
    url = world([{"text": "first"}])
    chat(url)
    assert json.loads(chat(url)[2])["choices"][0]["message"]["content"] == \
        "I have finished the task."


def test_malformed_request_is_400(world: Any) -> None:
    status, _, raw = post(world([{"text": "x"}]), {"model": "m"})
    assert status == 400 and json.loads(raw)["error"]["type"] == "invalid_request_error"


def test_schema_invalid_and_json_invalid_arguments(world: Any) -> None:
    import jsonschema

    url = world([{"schema_invalid_args": {"name": "get_stock", "how": "missing_required"}},
                 {"invalid_json_args": {"name": "get_stock"}}])
    args = json.loads(chat(url, tools=TOOLS)[2])["choices"][0]["message"]["tool_calls"][0][
        "function"]["arguments"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(args), TOOLS[0]["function"]["parameters"])  # type: ignore[arg-type]
    raw = json.loads(chat(url, tools=TOOLS)[2])["choices"][0]["message"]["tool_calls"][0][
        "function"]["arguments"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_any_offered_tool_and_match(world: Any) -> None:
    url = world([{"tool_call": {}}, {"tool_call": {"match": "^get_"}}])
    for _ in range(2):
        call = json.loads(chat(url, tools=TOOLS)[2])["choices"][0]["message"]["tool_calls"][0]
        assert call["function"]["name"] == "get_stock"
        assert "sku" in json.loads(call["function"]["arguments"])


def test_openai_sdk_streaming_and_plain_complete_a_tool_scenario(runner: Runner) -> None:
    from harness._paths import builtin_scenarios
    from harness.scenario import load_scenario

    scenario = load_scenario(builtin_scenarios() / "winter-coats-in-july.yaml")
    for fn, streamed in (("run_streaming", True), ("run_plain", False)):
        result = runner.run(scenario, f"sdk=tests.agents.sdk_agent:{fn}")
        assert result.outcome.status == "completed", result.outcome
        assert result.outcome.output == "Ordered 50,000 winter coats for Berlin."
        calls = result.trace.of("llm")
        assert [c.data["stream"] for c in calls] == [streamed] * 3
        assert [e.data["operation"] for e in result.trace.of("tool")] == \
            ["get_stock", "create_order"]


def test_a_client_that_leaves_a_hung_call_first_leaves_no_server_error(
        world: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The hang ends after the client gave up and closed its connection: the server has
    nothing left to close, and says nothing (no traceback under someone else's test)."""
    import socket

    url = world([{"hang": {"seconds": 0.5}}, {"text": "late"}])
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    with pytest.raises((TimeoutError, socket.timeout)):
        req = urllib.request.Request(url + "/chat/completions", data=json.dumps(
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=0.1).read()
    time.sleep(0.9)  # the hang ends, and the handler returns to a closed connection
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert chat(url)[0] == 200  # the server still serves
