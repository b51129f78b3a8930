"""The gateway between Locust and the agent service: every user request passes through it, so
the harness sees what was asked and answered without touching the agent.

``{gateway}/g/{session}/{path}`` is forwarded to ``{agent service}/{path}`` unchanged (method,
body, content type). Each request is recorded: its ticket (the first in its body), when it
started and ended on the run's clock, the status, the answer (``load.answer`` of the JSON
reply). A request the agent does not answer within the scenario's ``timeout`` gets 504; one it
cannot take (refused, dropped) gets 502.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..trace import MAX_TEXT
from .spec import TICKET

if TYPE_CHECKING:
    import aiohttp

    from ..servers import ServerHost
    from ..trace import Trace
    from .service import RequestShape

#: User requests recorded per load run; more are only counted.
MAX_REQUESTS = 200_000


@dataclass
class UserRequest:
    ticket: str | None
    start: float
    end: float | None = None
    status: int = 0
    answer: str | None = None
    error: str | None = None
    #: When the first byte of the agent's answer arrived, and in how many pieces it came
    #: (more than one: the agent streams its answer).
    first_byte: float | None = None
    chunks: int = 0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float | None:
        return None if self.end is None else self.end - self.start

    @property
    def ttfb(self) -> float | None:
        return None if self.first_byte is None else self.first_byte - self.start

    def to_json(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "status": self.status, "answer": self.answer,
                "error": self.error}


@dataclass
class LoadState:
    """What the gateway needs of a load run, and what it records."""

    trace: Trace
    shape: RequestShape
    timeout: float
    agent_url: str | None = None
    requests: list[UserRequest] = field(default_factory=list)
    dropped: int = 0
    session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def gateway_app(host: ServerHost) -> web.Application:
    import aiohttp

    app = web.Application(client_max_size=16 * 2**20)

    async def forward(request: web.Request) -> web.Response:
        run = host.runs.get(request.match_info["session"])
        load = run.load if run is not None else None
        if load is None or load.agent_url is None:
            return web.json_response({"error": "no load run with this session"}, status=404)
        body = await request.read()
        found = TICKET.search(body[:65536].decode("utf-8", "replace"))
        record = UserRequest(found[0] if found else None, load.trace.now())
        if len(load.requests) < MAX_REQUESTS:
            load.requests.append(record)
        else:
            load.dropped += 1
        if load.session is None:
            load.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, force_close=False))
        url = f"{load.agent_url}/{request.match_info['tail']}"
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        try:
            async with load.session.request(
                    request.method, url, data=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=load.timeout)) as reply:
                pieces = []
                async for chunk in reply.content.iter_any():
                    if record.first_byte is None:
                        record.first_byte = load.trace.now()
                    record.chunks += 1
                    pieces.append(chunk)
                text = b"".join(pieces)
                status = reply.status
                kind = reply.headers.get("Content-Type", "application/json")
        except TimeoutError:
            record.end, record.status = load.trace.now(), 504
            record.error = f"no answer within the {load.timeout:g} s time limit"
            return web.json_response({"error": record.error}, status=504)
        except (aiohttp.ClientError, OSError) as exc:
            record.end, record.status = load.trace.now(), 502
            record.error = f"the agent service did not answer: {type(exc).__name__}: {exc}"
            return web.json_response({"error": record.error}, status=502)
        record.end, record.status = load.trace.now(), status
        decoded = text.decode("utf-8", "replace")
        if 200 <= status < 300:
            answer = load.shape.read(decoded)
            record.answer = None if answer is None else answer[:MAX_TEXT]
        else:
            record.error = f"HTTP {status}: {decoded[:300]}"
        return web.Response(status=status, body=text, headers={"Content-Type": kind})

    app.router.add_route("*", "/g/{session}/{tail:.*}", forward)
    return app
