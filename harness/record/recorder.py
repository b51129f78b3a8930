"""Record mode (``--chaos-record URL``): the mock LLM forwards the agent's model requests to a
real endpoint and sends back what it answers, streams as they come, while the tool APIs stay
mocked. Every exchange is kept whole and written as a vcrpy cassette (vcrpy's own serializer;
no credential is ever in it), with a scenario beside it that replays the cassette.

The upstream URL is the endpoint's root: a request to ``/s/{session}/v1/chat/completions``
goes to ``URL/v1/chat/completions`` (``https://api.openai.com``,
``https://api.anthropic.com``, ``https://generativelanguage.googleapis.com``). The key comes
from the environment variable the user names, sent the way the API wants it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from ..llm.apis.base import Api
    from ..scenario import Scenario
    from ..world.run import RunWorld

#: Request headers passed on (never credentials, cookies or the agent's own identity).
_PASSED = ("content-type", "accept", "anthropic-version", "anthropic-beta", "openai-beta")


@dataclass(frozen=True)
class RecordOptions:
    url: str
    directory: Path
    key_env: str | None = None


@dataclass
class Recorded:
    method: str
    uri: str
    body: bytes
    headers: dict[str, str]
    status: int
    reason: str
    response_headers: dict[str, str]
    answer: bytes


@dataclass
class Recorder:
    options: RecordOptions
    exchanges: list[Recorded] = field(default_factory=list)

    def _key_headers(self, api: str) -> dict[str, str]:
        key = os.environ.get(self.options.key_env) if self.options.key_env else None
        if not key:
            return {}
        if api == "anthropic":
            return {"x-api-key": key}
        if api == "gemini":
            return {"x-goog-api-key": key}
        return {"Authorization": f"Bearer {key}"}

    async def forward(self, api: Api, request: web.Request, run: RunWorld) -> web.StreamResponse:
        """Send the agent's request on, stream the answer back, keep both, trace it."""
        import aiohttp
        from aiohttp import web

        start = run.trace.now()
        path = request.path.split(f"/s/{run.session_id}", 1)[-1]
        uri = self.options.url.rstrip("/") + path + \
            (f"?{request.query_string}" if request.query_string else "")
        body = await request.read()
        headers = {str(k): str(v) for k, v in request.headers.items() if k.lower() in _PASSED}
        data: dict[str, Any] = {"n": run.count_llm_call(), "api": api.name, "recorded": True,
                                "upstream": uri.split("?", 1)[0]}
        chunks: list[bytes] = []
        timeout = aiohttp.ClientTimeout(total=run.scenario.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.request(request.method, uri, data=body,
                                    headers={**headers, **self._key_headers(api.name)}) as up:
                answer = web.StreamResponse(status=up.status, reason=up.reason)
                kept = {str(k): str(v) for k, v in up.headers.items()
                        if k.lower() in ("content-type", "retry-after")
                        or k.lower().startswith(("x-ratelimit", "anthropic-ratelimit"))}
                answer.headers.update(kept)
                await answer.prepare(request)
                async for chunk in up.content.iter_any():
                    chunks.append(chunk)
                    await answer.write(chunk)
                await answer.write_eof()
                status, reason = up.status, up.reason or ""
        except (aiohttp.ClientError, TimeoutError) as exc:
            data.update(status=502, error=f"{type(exc).__name__}: {exc}")
            event = run.trace.add("llm", data, start)
            event.end = run.trace.now()
            return web.json_response({"error": {"message": f"the recorded endpoint did not "
                                                           f"answer: {exc}",
                                                "type": "upstream_error"}}, status=502)
        data["status"] = status
        event = run.trace.add("llm", data, start)
        event.end = run.trace.now()
        self.exchanges.append(Recorded(request.method, uri, body, headers, status, reason,
                                       kept, b"".join(chunks)))
        return answer

    def write(self, scenario: Scenario, agent: str) -> list[Path]:
        """The cassette and the scenario that replays it, under the record directory."""
        from vcr.request import Request
        from vcr.serialize import serialize
        from vcr.serializers import yamlserializer

        directory = self.options.directory
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"{scenario.name}.{agent}"
        cassette = directory / f"{stem}.yaml"
        requests = [Request(e.method, e.uri, e.body, e.headers) for e in self.exchanges]
        responses = [{"status": {"code": e.status, "message": e.reason},
                      "headers": {k: [v] for k, v in e.response_headers.items()},
                      "body": {"string": e.answer}} for e in self.exchanges]
        cassette.write_text(serialize({"requests": requests, "responses": responses},
                                      yamlserializer), encoding="utf-8")
        replay = directory / f"{stem}.scenario.yaml"
        replay.write_text(_replay_doc(scenario, agent, cassette.name), encoding="utf-8")
        return [cassette, replay]


def _replay_doc(scenario: Scenario, agent: str, cassette: str) -> str:
    """The scenario as written, its script replaced by the recording."""
    from .._yaml import load_yaml
    from ..world.openapi import to_yaml

    doc: dict[str, Any] = {}
    source = Path(scenario.source or "")
    if scenario.source and source.is_file():
        loaded, _ = load_yaml(source.read_text(encoding="utf-8"), str(source))
        doc = dict(loaded) if isinstance(loaded, dict) else {}
    if not doc:  # a scenario built in Python: what the Scenario object still says
        doc = {"version": 1, "category": scenario.category.value, "timeout": scenario.timeout,
               "task": scenario.task, "tools": list(scenario.tools),
               "goal": {"answer_given": {}}, "expect": [{"terminates": {}}]}
    doc["name"] = f"{scenario.name}-{agent}-replay"
    doc["description"] = (f"Replays what the model answered {agent} in {scenario.name}, "
                          f"recorded in {cassette}.")
    doc["llm"] = [{"replay": {"cassette": cassette}}]
    return f"# Recorded by: pytest --chaos --chaos-record\n{to_yaml(json.loads(json.dumps(doc)))}"
