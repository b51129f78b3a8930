"""The mock LLM's HTTP handlers (aiohttp). One app serves every run; the session in the path
picks the run's world and script."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._json import BadJSON, loads_strict
from .._seed import token
from ..faults.base import Answer, HttpFault
from ..faults.runtime import worst_effect
from ..servers import drop_connection, wait_closed
from ..trace import clip
from .behaviours.context_overflow import context_length_error
from .tokens import count_prompt, count_text
from .turns import ApiError, Completion, Hang, ToolCall, TurnContext, openai_error
from .wire import completion_body, stream_chunks

if TYPE_CHECKING:
    from ..servers import ServerHost
    from ..world.run import RunWorld

DEFAULT_MODEL = "chaos-model"


def llm_app(host: ServerHost) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    def find_run(request: web.Request) -> RunWorld | None:
        return host.runs.get(request.match_info["session"])

    async def models(request: web.Request) -> web.Response:
        if find_run(request) is None:
            return _error(openai_error(404, "unknown session", "invalid_request_error", None))
        return web.json_response({"object": "list", "data": [
            {"id": DEFAULT_MODEL, "object": "model", "created": 0, "owned_by": "agent-chaos"}]})

    async def chat(request: web.Request) -> web.StreamResponse:
        run = find_run(request)
        if run is None:
            return _error(openai_error(404, "unknown session (the run has ended)",
                                       "invalid_request_error", None))
        return await _chat(request, run)

    app.router.add_post("/s/{session}/v1/chat/completions", chat)
    app.router.add_get("/s/{session}/v1/models", models)
    return app


def _last_assistant(messages: list[Any]) -> int:
    return max((i for i, m in enumerate(messages)
                if isinstance(m, dict) and m.get("role") == "assistant"), default=-1)


ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def shape_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """What the real API refuses with a 400 before it reads a request: (param, message)."""
    messages = body["messages"]
    if not messages:
        return "messages", "[] is too short - 'messages'"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"messages[{i}]", (f"Invalid value for 'messages[{i}]': each message is an "
                                      f"object with a 'role' of {', '.join(ROLES)}.")
    tools = body.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(
            isinstance(t, dict) and isinstance(t.get("function"), dict)
            and isinstance(t["function"].get("name"), str) for t in tools)):
        return "tools", ("Invalid 'tools': expected an array of {\"type\": \"function\", "
                         "\"function\": {\"name\": ...}} objects.")
    kinds = {"model": str, "stream": bool, "stream_options": dict, "tool_choice": str | dict,
             "stop": str | list, "max_tokens": int, "max_completion_tokens": int}
    for key, kind in kinds.items():
        value = body.get(key)
        if value is not None and (not isinstance(value, kind) or
                                  (kind is int and isinstance(value, bool))):
            return key, f"Invalid type for '{key}'."
    return None


def _error(reply: ApiError) -> web.Response:
    return web.json_response(reply.body, status=reply.status, headers=reply.headers)


def _truncate(reply: Completion, max_tokens: Any) -> Completion:
    """Honour the request's ``max_tokens``/``max_completion_tokens`` like a real model."""
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        return reply
    limit = max_tokens * 4
    content = reply.content
    if content is not None and count_text(content) > max_tokens:
        return Completion(content=content[:limit], finish_reason="length")
    if reply.tool_calls and sum(count_text(c.arguments) for c in reply.tool_calls) > max_tokens:
        first = reply.tool_calls[0]
        return Completion(tool_calls=[ToolCall(first.name, first.arguments[:limit])],
                          finish_reason="length")
    return reply


async def _chat(request: web.Request, run: RunWorld) -> web.StreamResponse:
    trace = run.trace
    start = trace.now()
    problem = "Request body must be JSON with a 'messages' array."
    try:
        body = loads_strict(await request.read())
    except BadJSON as exc:
        body, problem = None, f"{problem} It is not acceptable JSON: {exc}."
    param = "messages"
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        found = shape_problem(body)
        if found is not None:
            param, problem = found
            body = None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        refusal = openai_error(400, problem, "invalid_request_error", None, param=param)
        event = trace.add("llm", {"status": 400, "error": refusal.body["error"]}, start)
        event.end = trace.now()
        return _error(refusal)

    messages = body["messages"]
    tools = body.get("tools") if isinstance(body.get("tools"), list) else None
    prompt_tokens = count_prompt(messages, tools)
    stream = body.get("stream") is True
    model = str(body.get("model") or DEFAULT_MODEL)
    window = run.scenario.script.context_window
    ctx = TurnContext(request=body, rng=run.rng, secrets_of=run.secrets,
                      payloads=list(run.catalog.injections.values()),
                      hallucinations=run.catalog.hallucinations, prompt_tokens=prompt_tokens)
    n = run.count_llm_call()
    hits = await run.faults.on_llm_call(n)
    http = next((h.fault for h in hits if isinstance(h.fault, HttpFault)), None)
    data: dict[str, Any] = {
        "n": n,
        "stream": stream,
        "model": model,
        "offered": list(ctx.offered),
        "message_count": len(messages),
        # Only what is new to the model this turn: the whole history each time is quadratic.
        "input": clip(messages[_last_assistant(messages) + 1:]),
        "prompt_tokens": prompt_tokens,
    }
    retry_count = request.headers.get("x-stainless-retry-count")
    if retry_count is not None:
        data["retry_count"] = retry_count
    if hits:
        data.update(faults=[h.event for h in hits], effect=worst_effect(hits))

    first_delay = token_delay = 0.0
    refused = http.refusal(llm=True) if http is not None and not http.commits else None
    if http is not None and not http.commits:
        data.update(turn=None, behaviour=None)
        if refused is None:  # no answer at all
            data.update(status=0, hang=True)
            event = trace.add("llm", data, start)
            try:
                return await http.respond(request, Answer(504, []), run.closed)
            finally:
                event.end = trace.now()
        reply: Completion | ApiError | Hang = ApiError(refused.status, json.loads(refused.body),
                                                       refused.headers)
    elif window is not None and prompt_tokens > window:
        reply = context_length_error(prompt_tokens, window)
        data.update(turn=None, behaviour="context_window")
    else:
        turn, index = run.next_turn()
        data.update(turn=index, behaviour=turn.key)
        first_delay, token_delay = turn.delays()
        reply = turn.reply(ctx)
    if isinstance(reply, Completion):
        reply = _truncate(reply, body.get("max_completion_tokens", body.get("max_tokens")))

    event = trace.add("llm", data, start)
    try:
        if isinstance(reply, Hang):
            data.update(status=0, hang=True)
            await wait_closed(run.closed, reply.seconds)
            return drop_connection(request)
        if isinstance(reply, ApiError):
            data.update(status=reply.status, error=reply.body.get("error"))
            retry_after = {k.lower(): v for k, v in reply.headers.items()}.get("retry-after")
            if retry_after is not None:
                data["retry_after"] = float(retry_after)
            if first_delay:
                await asyncio.sleep(first_delay)
            return _error(reply)

        cid = "chatcmpl-" + token(run.seed, run.session_id, "completion", n)
        call_ids = ["call_" + token(run.seed, run.session_id, "call", n, i)
                    for i in range(len(reply.tool_calls))]
        body_out = completion_body(cid, model, reply, call_ids, prompt_tokens)
        data.update(
            status=200,
            reply={"content": reply.content, "finish_reason": reply.finish_reason,
                   "tool_calls": [{"id": i, "name": c.name, "arguments": c.arguments}
                                  for i, c in zip(call_ids, reply.tool_calls, strict=True)]},
            usage=body_out["usage"],
        )
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        if http is not None:  # the model answered; the answer is spoiled on the way
            if stream:
                answer = Answer(200, [f"data: {p}\n\n".encode() for p, _ in stream_chunks(
                    cid, model, reply, call_ids, prompt_tokens, include_usage)],
                    "text/event-stream")
            else:
                answer = Answer(200, [json.dumps(body_out).encode()])
            return await http.respond(request, answer, run.closed)
        if not stream:
            tokens = body_out["usage"]["completion_tokens"]
            delay = first_delay + token_delay * tokens
            if delay:
                await asyncio.sleep(delay)
            return web.json_response(body_out)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        if first_delay:
            await asyncio.sleep(first_delay)
        for payload, is_token in stream_chunks(cid, model, reply, call_ids, prompt_tokens,
                                               include_usage):
            if is_token and token_delay:
                await asyncio.sleep(token_delay)
            await response.write(f"data: {payload}\n\n".encode())
        await response.write_eof()
        return response
    finally:
        event.end = trace.now()
