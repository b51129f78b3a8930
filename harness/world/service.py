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
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._json import BadJSON, loads_strict
from ..faults.base import Answer, HttpFault
from ..faults.runtime import worst_effect
from ..trace import clip

if TYPE_CHECKING:
    from ..servers import ServerHost
    from .run import RunWorld


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
        tool = request.match_info["tool"]
        operation = request.match_info["operation"]
        start = run.trace.now()
        payload = await request.read()
        refused = run.capacity.enter(tool)
        raw = payload.decode("utf-8", errors="replace")
        data: dict[str, Any] = {"tool": tool, "operation": operation}
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
            event.end = run.trace.now()
            if run.conversations is not None:
                run.conversations.settled(operation, args, data)
            return web.Response(status=refused.status, body=refused.payload(),
                                content_type="application/json", headers=refused.headers)
        try:
            return await _serve(run, tool, operation, request, data, args, raw, problem, start)
        finally:
            run.capacity.leave(tool)
            if run.conversations is not None:
                run.conversations.settled(operation, args, data)

    async def _serve(run: RunWorld, tool: str, operation: str, request: web.Request,
                     data: dict[str, Any], args: Any, raw: str, problem: str,
                     start: float) -> web.StreamResponse:
        hits = await run.faults.on_call(tool, operation)
        state = run.tools.get(tool)
        op = state.api.operations.get(operation) if state else None
        event = run.trace.add("tool", data, start)
        if hits:
            data.update(faults=[h.event for h in hits], effect=worst_effect(hits))
        http = next((h.fault for h in hits if isinstance(h.fault, HttpFault)), None)
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            data["idempotency_key"] = key
        try:
            if http is not None and not http.commits:
                refusal = http.refusal(llm=False)
                data.update(arguments=clip(args if isinstance(args, dict) else raw),
                            listed=bool(op and not op.hidden))
                if refusal is None:
                    data.update(status=0, hang=True)
                else:
                    data.update(status=refusal.status, response=json.loads(refusal.body))
                    if refusal.retry_after is not None:
                        data["retry_after"] = refusal.retry_after
                return await http.respond(request, refusal or Answer(504, []), run.closed)
            if not isinstance(args, dict):
                data.update(arguments=None, raw=clip(raw))
                status, body = 400, {"error": problem}
            elif state is None:
                data.update(arguments=args)
                status, body = 404, {"error": f"no tool API {tool!r} in this world"}
            else:
                data.update(arguments=clip(args))
                status, body, replayed = state.call(operation, args, event.id, key)
                if replayed:
                    data["replayed"] = True
            data.update(status=status, response=clip(body), listed=bool(op and not op.hidden))
            if run.conversations is not None and 200 <= status < 300 and \
                    data.get("effect") not in ("lost", "corrupt"):
                run.conversations.succeeded(operation, args, data)
            answer = Answer(status, [json.dumps(body).encode()])
            if http is not None:
                return await http.respond(request, answer, run.closed)
            return answer.response()
        finally:
            event.end = run.trace.now()

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

    app.router.add_get("/s/{session}/{tool}/tools", listing)
    app.router.add_post("/s/{session}/_approvals", approve)
    app.router.add_post("/s/{session}/{tool}/tools/{operation}", call)
    return app
