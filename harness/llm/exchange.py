"""One request to the mock model, whatever its API: parse it into the neutral request, apply
the run's faults, play the script's turn, count tokens, trace it, and render the reply or
error in the API's shape, plain or streamed."""

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
from .apis.base import Api, Meta, Refused
from .honour import honour
from .quota import Decision
from .tokens import count_prompt, count_text
from .turns import ApiError, Completion, Hang, ToolCall, TurnContext, openai_error

if TYPE_CHECKING:
    from ..world.run import RunWorld

DEFAULT_MODEL = "chaos-model"


def send_error(api: Api, error: ApiError) -> web.Response:
    shaped = api.error(error)
    return web.json_response(shaped.body, status=shaped.status, headers=shaped.headers)


def completion_tokens(reply: Completion) -> int:
    total = count_text(reply.content or "")
    for call in reply.tool_calls:
        total += count_text(call.name) + count_text(call.arguments)
    return total


def truncate(reply: Completion, max_tokens: Any) -> Completion:
    """Honour the request's output token limit like a real model: cut and say so."""
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
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


def over_quota(decision: Decision) -> ApiError:
    """OpenAI's 429 for a request over the model's quota (each API reshapes it)."""
    which = decision.which or "requests"
    limit, remaining, _ = decision.state[which]
    unit = "requests per min (RPM)" if which == "requests" else "tokens per min (TPM)"
    return openai_error(
        429, f"Rate limit reached for {unit}: Limit {limit}, Used {limit - remaining}. Please "
             f"try again in {decision.retry_after}s.", which, "rate_limit_exceeded",
        headers={"retry-after": str(decision.retry_after)})


def _last_assistant(messages: list[Any]) -> int:
    return max((i for i, m in enumerate(messages)
                if isinstance(m, dict) and m.get("role") == "assistant"), default=-1)


async def exchange(api: Api, request: web.Request, run: RunWorld) -> web.StreamResponse:
    trace = run.trace
    start = trace.now()
    try:
        raw = await request.read()
        body: Any = loads_strict(raw) if raw or request.method == "POST" else {}
        neutral = api.parse(body, request, run)
    except (BadJSON, Refused) as exc:
        message = (exc.message if isinstance(exc, Refused) else
                   f"The request body is not acceptable JSON: {exc}.")
        refusal = openai_error(400, message, "invalid_request_error", None,
                               param=exc.param if isinstance(exc, Refused) else None)
        event = trace.add("llm", {"api": api.name, "status": 400,
                                  "error": refusal.body["error"]}, start)
        event.end = trace.now()
        return send_error(api, refusal)

    messages = neutral["messages"]
    tools = neutral["tools"] or None
    prompt_tokens = count_prompt(messages, tools)
    stream = bool(neutral["stream"])
    model = str(neutral.get("model") or DEFAULT_MODEL)
    neutral["model"] = model
    window = run.scenario.script.context_window
    conv, mixed = (run.conversations.identify(messages) if run.conversations is not None
                   else (None, []))
    ctx = TurnContext(request=neutral, rng=conv.rng if conv else run.rng,
                      secrets_of=run.secrets,
                      payloads=list(run.catalog.injections.values()),
                      hallucinations=run.catalog.hallucinations, prompt_tokens=prompt_tokens,
                      operations={op: spec for state in run.tools.values()
                                  for op, spec in state.api.operations.items()})
    n = run.count_llm_call()
    hits = await run.faults.on_llm_call(n)
    http = next((h.fault for h in hits if isinstance(h.fault, HttpFault)), None)
    data: dict[str, Any] = {
        "n": n,
        "api": api.name,
        "stream": stream,
        "model": model,
        "offered": list(ctx.offered),
        "message_count": len(messages),
        # Only what is new to the model this turn: the whole history each time is quadratic.
        "input": clip(messages[_last_assistant(messages) + 1:]),
        "prompt_tokens": prompt_tokens,
    }
    if conv is not None:
        data["conversation"] = conv.ticket
        if mixed:
            data["mixed"] = mixed
    choice = neutral.get("tool_choice")
    if choice not in (None, "auto"):
        data["tool_choice"] = choice
    retry_count = request.headers.get("x-stainless-retry-count")
    if retry_count is not None:
        data["retry_count"] = retry_count
    if hits:
        data.update(faults=[h.event for h in hits], effect=worst_effect(hits))

    first_delay = token_delay = 0.0
    refused = http.refusal(llm=True) if http is not None and not http.commits else None
    decision = None
    if run.quota is not None and (http is None or http.commits):
        decision = run.quota.take(prompt_tokens)
    limits = api.rate_headers(decision.state) if decision is not None else {}
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
    elif decision is not None and not decision.allowed:
        reply = over_quota(decision)
        data.update(turn=None, behaviour="quota", quota=decision.which)
    elif not api.scripted:
        reply = Completion()
        data.update(turn=None, behaviour=None)
    elif window is not None and prompt_tokens > window:
        reply = api.context_error(prompt_tokens, window)
        data.update(turn=None, behaviour="context_window")
    else:
        turn, index = conv.cursor.next_turn() if conv is not None else run.next_turn()
        data.update(turn=index, behaviour=turn.key)
        first_delay, token_delay = turn.delays()
        reply = turn.reply(ctx)
        if conv is not None and isinstance(reply, Completion):
            reply = conv.fill(reply)
    if isinstance(reply, Completion):
        notes: list[str] = list(ctx.notes)
        reply = honour(reply, neutral, data.get("behaviour"), notes)
        if notes:
            data["honoured"] = notes
        reply = truncate(reply, neutral.get("max_tokens"))

    event = trace.add("llm", data, start)
    try:
        if isinstance(reply, Hang):
            data.update(status=0, hang=True)
            await wait_closed(run.closed, reply.seconds)
            return drop_connection(request)
        if isinstance(reply, ApiError):
            shaped = api.error(reply)
            shaped.headers.update(limits)
            data.update(status=shaped.status, error=reply.body.get("error"))
            retry_after = {k.lower(): v for k, v in shaped.headers.items()}.get("retry-after")
            if retry_after is not None:
                data["retry_after"] = float(retry_after)
            if first_delay:
                await asyncio.sleep(first_delay)
            return web.json_response(shaped.body, status=shaped.status, headers=shaped.headers)

        meta = Meta(
            rid=api.id_prefix + token(run.seed, run.session_id, "completion", n),
            call_ids=[api.call_prefix + token(run.seed, run.session_id, "call", n, i)
                      for i in range(len(reply.tool_calls))],
            model=model, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens(reply), neutral=neutral)
        body_out = api.render(reply, meta)
        api.remember(run, reply, meta)
        if conv is not None and run.conversations is not None:
            run.conversations.expect_calls(conv, [(c.name, c.arguments)
                                                  for c in reply.tool_calls])
            run.conversations.count_tokens(conv, prompt_tokens, meta.completion_tokens)
        data.update(
            status=200,
            reply={"content": reply.content, "finish_reason": reply.finish_reason,
                   "tool_calls": [{"id": i, "name": c.name, "arguments": c.arguments}
                                  for i, c in zip(meta.call_ids, reply.tool_calls, strict=True)]},
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": meta.completion_tokens,
                   "total_tokens": meta.total_tokens},
        )
        if http is not None:  # the model answered; the answer is spoiled on the way
            if stream:
                answer = Answer(200, [frame for frame, _ in api.events(reply, meta)],
                                "text/event-stream")
            else:
                answer = Answer(200, [json.dumps(body_out).encode()])
            return await http.respond(request, answer, run.closed)
        if not stream:
            delay = first_delay + token_delay * meta.completion_tokens
            if delay:
                await asyncio.sleep(delay)
            return web.json_response(body_out, headers=limits)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache", **limits})
        await response.prepare(request)
        if first_delay:
            await asyncio.sleep(first_delay)
        if not token_delay:  # nothing to pace: the events go out in one write
            await response.write(b"".join(frame for frame, _ in api.events(reply, meta)))
        else:
            for frame, is_token in api.events(reply, meta):
                if is_token:
                    await asyncio.sleep(token_delay)
                await response.write(frame)
        await response.write_eof()
        return response
    finally:
        event.end = trace.now()
