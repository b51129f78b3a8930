"""The mock LLM's other wire protocols, driven by the real SDKs: the Responses API through the
openai SDK, Anthropic Messages through the anthropic SDK; and requests it does not serve."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import anthropic
import openai
import pytest

from harness.servers import ServerHost

STOCK = {"name": "get_stock", "arguments": {"sku": "COAT-01", "warehouse": "BER"}}
SCRIPT = [{"tool_call": STOCK}, {"text": "Berlin has 14 coats."}]
SCHEMA = {"type": "object", "properties": {"sku": {"type": "string"},
                                           "warehouse": {"type": "string"}},
          "required": ["sku", "warehouse"]}


@pytest.fixture
def session(host: ServerHost, register: Any) -> Any:
    """``session(llm)``: a run's world for that script; gives (session id, its trace)."""

    def make(llm: Any, **extra: Any) -> tuple[str, Any]:
        sid = register({"name": "apis", "llm": llm, **extra})
        return sid, host.runs[sid].trace

    return make


def llm_events(trace: Any) -> list[dict[str, Any]]:
    return [e.data for e in trace.events if e.kind == "llm"]


# --- the Responses API ----------------------------------------------------------------------

def responses_client(host: ServerHost, sid: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=host.llm_base_url(sid), api_key="k", max_retries=0)


RESPONSES_TOOL = {"type": "function", "name": "get_stock", "description": "stock",
                  "parameters": SCHEMA}


def test_responses_tool_round_trip_with_previous_response_id(host: ServerHost,
                                                             session: Any) -> None:
    sid, trace = session(SCRIPT)
    client = responses_client(host, sid)
    first = client.responses.create(model="m", input="How many coats in Berlin?",
                                    instructions="Be brief.", tools=[RESPONSES_TOOL])
    assert first.status == "completed" and first.id.startswith("resp_")
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_stock"
    assert json.loads(call.arguments) == STOCK["arguments"] and call.call_id.startswith("call_")
    assert first.usage is not None and first.usage.total_tokens > 0
    # Only the new item: the mock keeps the history of the previous response.
    second = client.responses.create(
        model="m", previous_response_id=first.id, tools=[RESPONSES_TOOL],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "14"}])
    assert second.output_text == "Berlin has 14 coats."
    events = llm_events(trace)
    assert [e["api"] for e in events] == ["responses", "responses"]
    # system, user, the assistant's call, the tool's output
    assert events[1]["message_count"] == 4
    assert events[1]["input"] == [{"role": "tool", "tool_call_id": call.call_id,
                                   "content": "14"}]


def test_responses_streamed_events_in_order(host: ServerHost, session: Any) -> None:
    sid, _ = session(SCRIPT)
    client = responses_client(host, sid)
    kinds = []
    with client.responses.stream(model="m", input="Coats?", tools=[RESPONSES_TOOL]) as stream:
        for event in stream:
            kinds.append(event.type)
        final = stream.get_final_response()
    assert kinds[:3] == ["response.created", "response.in_progress",
                         "response.output_item.added"]
    assert "response.function_call_arguments.delta" in kinds
    assert kinds[-3:] == ["response.function_call_arguments.done", "response.output_item.done",
                          "response.completed"]
    assert final.output[0].type == "function_call"
    with client.responses.stream(model="m", input="And?", tools=[RESPONSES_TOOL]) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
    assert text == "Berlin has 14 coats."


def test_responses_cut_at_max_output_tokens_is_incomplete(host: ServerHost,
                                                          session: Any) -> None:
    sid, _ = session([{"text": "A long answer " * 20}])
    reply = responses_client(host, sid).responses.create(model="m", input="Talk.",
                                                         max_output_tokens=5)
    assert reply.status == "incomplete"
    assert reply.incomplete_details is not None
    assert reply.incomplete_details.reason == "max_output_tokens"
    assert len(reply.output_text) == 20


def test_responses_unknown_previous_response_is_a_400(host: ServerHost, session: Any) -> None:
    sid, _ = session(SCRIPT)
    with pytest.raises(openai.BadRequestError) as info:
        responses_client(host, sid).responses.create(model="m", input="x",
                                                     previous_response_id="resp_nope")
    assert info.value.body["param"] == "previous_response_id"  # type: ignore[index]


# --- Anthropic Messages ---------------------------------------------------------------------

ANTHROPIC_TOOL = {"name": "get_stock", "description": "stock", "input_schema": SCHEMA}


def anthropic_client(host: ServerHost, sid: str) -> anthropic.Anthropic:
    base = host.llm_base_url(sid).removesuffix("/v1")
    return anthropic.Anthropic(base_url=base, api_key="k", max_retries=0)


def test_anthropic_tool_round_trip(host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    client = anthropic_client(host, sid)
    messages: list[Any] = [{"role": "user", "content": "How many coats in Berlin?"}]
    first = client.messages.create(model="claude", max_tokens=1024, system="Be brief.",
                                   tools=[ANTHROPIC_TOOL], messages=messages)  # type: ignore
    assert first.stop_reason == "tool_use" and first.id.startswith("msg_")
    (use,) = first.content
    assert use.type == "tool_use" and use.input == STOCK["arguments"]
    assert use.id.startswith("toolu_")
    messages += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                               "content": "14"}]}]
    second = client.messages.create(model="claude", max_tokens=1024, tools=[ANTHROPIC_TOOL],
                                    messages=messages)  # type: ignore[arg-type]
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text" and second.content[0].text == "Berlin has 14 coats."
    events = llm_events(trace)
    assert [e["api"] for e in events] == ["anthropic", "anthropic"]
    assert events[1]["input"] == [{"role": "tool", "tool_call_id": use.id, "content": "14"}]


def test_anthropic_beta_tool_runner(host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    ran = []

    @anthropic.beta_tool
    def get_stock(sku: str, warehouse: str) -> str:
        """Current stock of one product in one warehouse."""
        ran.append((sku, warehouse))
        return "14"

    runner = anthropic_client(host, sid).beta.messages.tool_runner(
        model="claude", max_tokens=1024, tools=[get_stock],
        messages=[{"role": "user", "content": "Coats in Berlin?"}])
    last = None
    for message in runner:
        last = message
    assert ran == [("COAT-01", "BER")]
    assert last is not None and last.content[0].type == "text"
    assert last.content[0].text == "Berlin has 14 coats."
    assert [e["api"] for e in llm_events(trace)] == ["anthropic", "anthropic"]


def test_anthropic_stream(host: ServerHost, session: Any) -> None:
    sid, _ = session(SCRIPT)
    client = anthropic_client(host, sid)
    with client.messages.stream(model="claude", max_tokens=1024, tools=[ANTHROPIC_TOOL],
                                messages=[{"role": "user", "content": "Coats?"}]) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert message.stop_reason == "tool_use"
    assert message.content[0].type == "tool_use"
    assert message.content[0].input == STOCK["arguments"]


def test_anthropic_errors_have_its_shape(host: ServerHost, session: Any) -> None:
    sid, _ = session([{"error": {"status": 429, "retry_after": 2}}])
    with pytest.raises(anthropic.RateLimitError) as info:
        anthropic_client(host, sid).messages.create(
            model="claude", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert info.value.body == {"type": "error", "error": {
        "type": "rate_limit_error", "message": "Rate limit reached for requests. Please try "
                                               "again."}}
    assert info.value.response.headers["retry-after"] == "2"


def test_anthropic_requires_max_tokens(host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    status, body = post(host.llm_base_url(sid) + "/messages",
                        {"model": "claude", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 400
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]
    assert llm_events(trace)[0]["status"] == 400


# --- what the mock does not serve -----------------------------------------------------------

def post(url: str, body: Any) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def test_an_unserved_endpoint_is_traced_and_named(host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    status, body = post(host.llm_base_url(sid) + "/audio/speech", {"input": "hi"})
    assert status == 404
    message = body["error"]["message"]
    assert message.startswith("POST /v1/audio/speech is not served by the agent-chaos mock "
                              "LLM; it serves: POST /v1/chat/completions, POST /v1/responses")
    (event,) = llm_events(trace)
    assert event == {"api": None, "unserved": True, "method": "POST",
                     "path": "/v1/audio/speech", "status": 404}


# --- Gemini ---------------------------------------------------------------------------------

GEMINI_TOOLS = [{"functionDeclarations": [{"name": "get_stock", "description": "stock",
                                           "parametersJsonSchema": SCHEMA}]}]


def gemini_url(host: ServerHost, sid: str, method: str = "generateContent") -> str:
    return host.llm_base_url(sid).removesuffix("/v1") + f"/v1beta/models/gemini-x:{method}"


def test_gemini_tool_round_trip(host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    contents: list[Any] = [{"role": "user", "parts": [{"text": "Coats in Berlin?"}]}]
    status, first = post(gemini_url(host, sid), {
        "contents": contents, "tools": GEMINI_TOOLS,
        "systemInstruction": {"parts": [{"text": "Be brief."}]}})
    assert status == 200
    (candidate,) = first["candidates"]
    assert candidate["finishReason"] == "STOP"
    assert candidate["content"] == {"role": "model", "parts": [{"functionCall": {
        "name": "get_stock", "args": STOCK["arguments"]}}]}
    assert first["usageMetadata"]["totalTokenCount"] > 0 and first["modelVersion"] == "gemini-x"
    contents += [candidate["content"], {"role": "user", "parts": [{"functionResponse": {
        "name": "get_stock", "response": {"stock": 14}}}]}]
    status, second = post(gemini_url(host, sid), {"contents": contents, "tools": GEMINI_TOOLS})
    assert second["candidates"][0]["content"]["parts"] == [{"text": "Berlin has 14 coats."}]
    events = llm_events(trace)
    assert [e["api"] for e in events] == ["gemini", "gemini"]
    assert events[1]["input"] == [{"role": "tool", "tool_call_id": "get_stock",
                                   "content": '{"stock": 14}'}]


def test_gemini_stream_and_errors(host: ServerHost, session: Any) -> None:
    sid, _ = session([{"text": "Berlin has 14 coats."}, {"error": 429}])
    url = gemini_url(host, sid, "streamGenerateContent") + "?alt=sse"
    req = urllib.request.Request(url, data=json.dumps({"contents": [
        {"role": "user", "parts": [{"text": "Coats?"}]}]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read().decode()
    chunks = [json.loads(line.removeprefix("data: ")) for line in raw.split("\n\n") if line]
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == "Berlin has 14 coats."
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "usageMetadata" in chunks[-1] and "usageMetadata" not in chunks[0]
    status, body = post(gemini_url(host, sid), {"contents": [{"parts": [{"text": "again"}]}]})
    assert status == 429
    assert body["error"]["status"] == "RESOURCE_EXHAUSTED" and body["error"]["code"] == 429


# --- embeddings -----------------------------------------------------------------------------

def test_embeddings_are_deterministic_and_texts_sharing_words_are_near(
        host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    client = responses_client(host, sid)
    texts = ["winter coats in Berlin", "Berlin winter coats stock", "a satirical article"]
    one = client.embeddings.create(model="e", input=texts)  # base64 on the wire, as the SDK asks
    two = client.embeddings.create(model="e", input=texts, encoding_format="float",
                                   dimensions=64)
    a, b, c = (d.embedding for d in one.data)
    assert len(a) == 1536 and len(two.data[0].embedding) == 64

    def dot(x: list[float], y: list[float]) -> float:
        return sum(p * q for p, q in zip(x, y, strict=True))

    assert dot(a, a) == pytest.approx(1.0, abs=1e-4)
    assert dot(a, b) > 0.5 > abs(dot(a, c))
    assert client.embeddings.create(model="e", input=texts).data[0].embedding == a
    assert [e["api"] for e in llm_events(trace)] == ["embeddings"] * 3
    assert trace.events[0].data["turn"] is None  # the script is not used


# --- what the agent asked for ---------------------------------------------------------------

CHAT_TOOL = {"type": "function", "function": {"name": "get_stock", "parameters": SCHEMA}}
FINAL_ANSWER = {"type": "function", "function": {
    "name": "final_answer", "description": "Provides a final answer to the given problem.",
    "parameters": {"type": "object", "properties": {"answer": {"type": "string"}},
                   "required": ["answer"]}}}


def chat_reply(host: ServerHost, sid: str, **body: Any) -> dict[str, Any]:
    status, reply = post(host.llm_base_url(sid) + "/chat/completions", {
        "model": "m", "messages": [{"role": "user", "content": "Coats?"}], **body})
    assert status == 200, reply
    message: dict[str, Any] = reply["choices"][0]["message"]
    return {**message, "finish_reason": reply["choices"][0]["finish_reason"]}


def test_no_tools_offered_gets_the_call_as_react_text(host: ServerHost, session: Any) -> None:
    sid, trace = session(SCRIPT)
    reply = chat_reply(host, sid)
    assert "tool_calls" not in reply and reply["finish_reason"] == "stop"
    assert reply["content"] == ('Action: get_stock\nAction Input: {"sku": "COAT-01", '
                                '"warehouse": "BER"}')
    assert llm_events(trace)[0]["honoured"] == ["no tools offered: the call written as "
                                                "ReAct text"]


def test_a_hallucinated_tool_is_called_even_when_not_offered(host: ServerHost,
                                                            session: Any) -> None:
    sid, _ = session([{"hallucinated_tool": {"name": "delete_all"}}])
    reply = chat_reply(host, sid, tools=[CHAT_TOOL])
    assert reply["tool_calls"][0]["function"]["name"] == "delete_all"


def test_a_tool_not_offered_is_not_called(host: ServerHost, session: Any) -> None:
    sid, _ = session(SCRIPT)
    reply = chat_reply(host, sid, tools=[FINAL_ANSWER])
    assert "tool_calls" not in reply
    assert reply["content"] == "I would use get_stock, but no such tool is available to me."


def test_a_required_call_answers_through_the_answer_tool(host: ServerHost,
                                                         session: Any) -> None:
    """smolagents' ToolCallingAgent asks tool_choice 'required' and offers final_answer."""
    sid, trace = session([{"text": "Berlin has 14 coats."}])
    reply = chat_reply(host, sid, tools=[CHAT_TOOL, FINAL_ANSWER], tool_choice="required")
    (call,) = reply["tool_calls"]
    assert call["function"]["name"] == "final_answer"
    assert json.loads(call["function"]["arguments"]) == {"answer": "Berlin has 14 coats."}
    assert reply["content"] is None and reply["finish_reason"] == "tool_calls"
    assert llm_events(trace)[0]["tool_choice"] == "required"


def test_text_is_cut_at_a_stop_sequence(host: ServerHost, session: Any) -> None:
    sid, _ = session([{"text": "Thought: look it up\nObservation: 14"}])
    reply = chat_reply(host, sid, stop=["\nObservation:"])
    assert reply["content"] == "Thought: look it up"


def test_an_unserved_call_shows_in_results_and_in_the_report(runner: Any,
                                                             tmp_path: Any) -> None:
    from harness._pytest.report import build_results
    from harness.report import write_html

    from .conftest import scenario_from

    scenario = scenario_from({"name": "speech", "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    result = runner.run(scenario, "speaker=tests.agents.useless:calls_unserved")
    assert result.outcome.output == "speech failed with HTTP 404"
    assert "the agent called POST /v1/audio/speech, which the mock LLM does not serve" in \
        result.explain()
    doc = build_results([result.to_json()], seed=0)
    (event,) = [e for e in doc["runs"][0]["trace"] if e.get("unserved")]
    assert (event["method"], event["path"], event["status"]) == ("POST", "/v1/audio/speech", 404)
    page = write_html(tmp_path / "index.html", doc).read_text()
    assert "which the mock LLM does not serve" in page and "/v1/audio/speech" in page


# --- quotas ---------------------------------------------------------------------------------

@pytest.mark.parametrize("api", ["chat", "anthropic"])
def test_a_quota_is_paced_by_its_headers_or_answered_with_429s(runner: Any, api: str) -> None:
    from .conftest import scenario_from

    scenario = scenario_from({
        "name": "quota", "timeout": 60,
        "task": json.dumps({"requests": 64, "api": api}),
        "llm": {"turns": [{"repeat": {"text": "ok"}}],
                "quota": {"requests_per_minute": 60}},
        "expect": [{"terminates": {}}]})
    paced = runner.run(scenario, "paced=tests.agents.pacing:paces")
    hurried = runner.run(scenario, "hurried=tests.agents.pacing:hurries")
    seen = json.loads(paced.outcome.output)
    assert seen["limited"] == 0
    prefix = "x-ratelimit-" if api == "chat" else "anthropic-ratelimit-requests-"
    assert {k for k in seen["headers"] if k.startswith(prefix)} == (
        {f"{prefix}{w}-requests" for w in ("limit", "remaining", "reset")} if api == "chat"
        else {f"{prefix}{w}" for w in ("limit", "remaining", "reset")})
    rushed = json.loads(hurried.outcome.output)
    assert rushed["limited"] >= 3
    refused = [e.data for e in hurried.trace.of("llm") if e.data["status"] == 429]
    assert len(refused) == rushed["limited"]
    assert all(e["behaviour"] == "quota" and e["quota"] == "requests" and e["retry_after"] >= 1
               for e in refused)
    assert not [e for e in paced.trace.of("llm") if e.data["status"] == 429]


def test_parallel_calls_come_one_at_a_time_when_the_agent_says_so(host: ServerHost,
                                                                   session: Any) -> None:
    two = [{"name": "get_stock", "arguments": STOCK["arguments"]},
           {"name": "get_stock", "arguments": {"sku": "COAT-01", "warehouse": "HAM"}}]
    sid, trace = session([{"repeat": {"parallel_calls": two}}])
    assert len(chat_reply(host, sid, tools=[CHAT_TOOL])["tool_calls"]) == 2
    assert len(chat_reply(host, sid, tools=[CHAT_TOOL],
                          parallel_tool_calls=False)["tool_calls"]) == 1
    one = anthropic_client(host, sid).messages.create(
        model="claude", max_tokens=100, tools=[ANTHROPIC_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "Coats?"}])
    assert [b.type for b in one.content] == ["tool_use"]
    notes = [e["honoured"] for e in llm_events(trace) if "honoured" in e]
    assert notes == [["parallel_tool_calls false: the first call only"]] * 2
