"""The tool APIs' HTTP handlers (aiohttp): every run's stateful mock services, and the human in
the loop who answers approval requests.

The protocol any agent can speak:
- ``GET  {tool_url}/tools``         → ``{"tools": [OpenAI function definitions + annotations]}``
- ``POST {tool_url}/tools/{name}``  with the arguments as a JSON object
                                    → 200 ``{"result": ...}`` or 4xx ``{"error": "..."}``;
                                    an ``Idempotency-Key`` header on a write makes a repeat
                                    with the same key answer the first result, not run again
- ``POST {approval_url}``           with ``{"tool": name, "arguments": {...}, "reason": "..."}``
                                    → ``{"approved": bool, "id": ..., "reason": ...}``
- ``{tool_url}/mcp``, ``/s/{session}/mcp``: the same tools over MCP (``world/mcp.py``)

A call is carried out by ``tool_call`` whatever the transport, so REST and MCP calls are the
same trace events, under the same capacity, faults and state.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._json import BadJSON, loads_strict
from ..faults.base import Answer, HttpFault
from ..faults.runtime import worst_effect
from ..trace import clip

if TYPE_CHECKING:
    from ..servers import ServerHost
    from .capacity import Refusal
    from .catalog import Operation
    from .run import RunWorld
    from .state import ToolState


def tools_app(host: ServerHost) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    def find(request: web.Request) -> RunWorld:
        run = host.runs.get(request.match_info["session"])
        if run is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "unknown session (the run has "
                                                             "ended)"}),
                                   content_type="application/json")
        return run

    async def listing(request: web.Request) -> web.Response:
        run = find(request)
        state = run.tools.get(request.match_info["tool"])
        if state is None:
            return web.json_response({"error": "no such tool API in this scenario"}, status=404)
        return web.json_response({"name": state.api.name, "description": state.api.description,
                                  "tools": state.listed_tools()})

    async def call(request: web.Request) -> web.StreamResponse:
        run = find(request)
        payload = await request.read()
        async with tool_call(run, request.match_info["tool"], request.match_info["operation"],
                             payload, request.headers.get("Idempotency-Key"), "http") as done:
            if done.capacity is not None:
                return web.Response(status=done.status, body=done.capacity.payload(),
                                    content_type="application/json",
                                    headers=done.capacity.headers)
            answer = Answer(done.status or 504, [json.dumps(done.body).encode()],
                            headers=done.headers)
            if done.fault is not None:
                return await done.fault.respond(request, answer, run.closed)
            return answer.response()

    async def approve(request: web.Request) -> web.Response:
        run = find(request)
        start = run.trace.now()
        try:
            body = loads_strict(await request.read())
        except BadJSON:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("tool"), str):
            return web.json_response({"error": "send {\"tool\": name, \"arguments\": {...}, "
                                               "\"reason\": text}"}, status=400)
        approved = run.scenario.approvals == "approve"
        event = run.trace.add("approval", {
            "tool": body["tool"], "arguments": clip(body.get("arguments")),
            "reason": clip(body.get("reason")), "approved": approved,
        }, start)
        event.end = run.trace.now()
        verdict = "approved" if approved else "denied by the reviewer"
        return web.json_response({"id": event.id, "approved": approved, "reason": verdict})

    from .mcp import McpWorld

    mcp = McpWorld(host)

    async def close_mcp(app: web.Application) -> None:
        await mcp.close()

    app.on_cleanup.append(close_mcp)
    for path in ("/s/{session}/mcp", "/s/{session}/{tool}/mcp"):
        app.router.add_route("*", path, mcp.handle)
    app.router.add_get("/s/{session}/{tool}/tools", listing)
    app.router.add_post("/s/{session}/_approvals", approve)
    app.router.add_post("/s/{session}/{tool}/tools/{operation}", call)
    return app


@dataclass
class Done:
    """What a tool call came to, before it is sent in the transport's form (HTTP or MCP)."""

    status: int  # 0: no answer at all (a hang)
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: The HTTP fault that spoils the answer (``respond``), if any; for a fault that does
    #: not commit, ``status``/``body`` are its refusal.
    fault: HttpFault | None = None
    capacity: Refusal | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the trace event's data


@contextlib.asynccontextmanager
async def tool_call(run: RunWorld, tool: str, operation: str, payload: bytes,
                    key: str | None, via: str) -> AsyncIterator[Done]:
    """Carry out one tool call for any transport: capacity, faults, the API's state, the
    trace event (``via``: ``http`` or ``mcp``). The event ends when the caller has sent the
    answer (leaves the ``with``)."""
    start = run.trace.now()
    refused = run.capacity.enter(tool)
    raw = payload.decode("utf-8", errors="replace")
    data: dict[str, Any] = {"tool": tool, "operation": operation}
    if via != "http":
        data["via"] = via
    problem = "the request body must be a JSON object of arguments"
    try:
        args = loads_strict(payload) if raw.strip() else {}
    except BadJSON as exc:
        args, problem = None, f"{problem}: {exc}"
    if run.conversations is not None:
        data["conversation"] = run.conversations.attribute(operation, args)
    state = run.tools.get(tool)
    op = state.api.operations.get(operation) if state else None
    if refused is not None:  # over the API's capacity: refused before anything else
        data.update(arguments=clip(args if isinstance(args, dict) else raw),
                    listed=bool(op and not op.hidden), status=refused.status,
                    response=refused.body, capacity=refused.which)
        if "Retry-After" in refused.headers:
            data["retry_after"] = float(refused.headers["Retry-After"])
        event = run.trace.add("tool", data, start)
        try:
            yield Done(refused.status, refused.body, dict(refused.headers), capacity=refused,
                       data=data)
        finally:
            event.end = run.trace.now()
            if run.conversations is not None:
                run.conversations.settled(operation, args, data)
        return
    try:
        hits = await run.faults.on_call(tool, operation)
        event = run.trace.add("tool", data, start)
        try:
            if hits:
                data.update(faults=[h.event for h in hits], effect=worst_effect(hits))
            yield _carry_out(run, state, op, operation, data, args, raw, problem, key, event.id,
                             next((h.fault for h in hits if isinstance(h.fault, HttpFault)),
                                  None))
        finally:
            event.end = run.trace.now()
    finally:
        run.capacity.leave(tool)
        if run.conversations is not None:
            run.conversations.settled(operation, args, data)


def _carry_out(run: RunWorld, state: ToolState | None, op: Operation | None, operation: str,
               data: dict[str, Any], args: Any, raw: str, problem: str, key: str | None,
               event_id: str, http: HttpFault | None) -> Done:
    tool = data["tool"]
    if key is not None:
        data["idempotency_key"] = key
    if http is not None and not http.commits:
        refusal = http.refusal(llm=False)
        data.update(arguments=clip(args if isinstance(args, dict) else raw),
                    listed=bool(op and not op.hidden))
        if refusal is None:
            data.update(status=0, hang=True)
            return Done(0, None, fault=http, data=data)
        body = json.loads(refusal.body)
        data.update(status=refusal.status, response=body)
        if refusal.retry_after is not None:
            data["retry_after"] = refusal.retry_after
        return Done(refusal.status, body, refusal.headers, fault=http, data=data)
    replayed = False
    if not isinstance(args, dict):
        data.update(arguments=None, raw=clip(raw))
        status, body = 400, {"error": problem}
    elif state is None:
        data.update(arguments=args)
        status, body = 404, {"error": f"no tool API {tool!r} in this world"}
    else:
        data.update(arguments=clip(args))
        status, body, replayed = state.call(operation, args, event_id, key)
        if replayed:
            data["replayed"] = True
    data.update(status=status, response=clip(body), listed=bool(op and not op.hidden))
    if run.conversations is not None and 200 <= status < 300 and \
            data.get("effect") not in ("lost", "corrupt"):
        run.conversations.succeeded(operation, args, data)
    return Done(status, body, fault=http, data=data)
