"""Benchmarks of load runs, side by side in one run (Locust always in a subprocess):

    python benchmarks/bench_load.py [--seconds 10] [--users 20]

1. The mock LLM's requests/s under Locust against a bare aiohttp handler returning the same
   body, plain JSON and SSE (target: the mock >= 0.8x the bare handler).
2. A load run of the harness (its users record every task for the checks) against plain
   Locust to the same agent service (target >= 0.9x).
3. The largest load this machine sustains: a ramp against an agent that answers at once,
   until a check breaks or Locust itself saturates (then it says "generator-limited").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.agents import Agent, AgentEnv  # noqa: E402
from harness.load.locust_run import run_locust  # noqa: E402
from harness.load.service import AgentService  # noqa: E402
from harness.load.spec import LoadDoc, LoadTask  # noqa: E402
from harness.runner import Runner  # noqa: E402
from harness.scenario import parse_scenario  # noqa: E402
from harness.servers import ServerHost  # noqa: E402
from harness.world.run import RunWorld  # noqa: E402

TRIVIAL = "trivial=benchmarks.trivial_agent:run"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "Say hi."}]}


def scenario(extra: dict[str, Any]) -> Any:
    doc = {"version": 1, "name": "bench", "category": "load", "timeout": 10, "task": "hi",
           "tools": [], "llm": {"turns": [{"text": "hi"}], "after_script": {"text": "hi"}},
           "goal": {"answer_given": {}}, "expect": [{"terminates": {}}], **extra}
    return parse_scenario(doc)


PLAIN = """\
import json, os
from locust import FastHttpUser, constant, task

BODY, PATH = os.environ["BENCH_BODY"], os.environ["BENCH_PATH"]


class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def post(self):
        self.client.post(PATH, data=BODY, headers={"Content-Type": "application/json"})
"""


def locust(url: str, path: str, body: Any, users: int, seconds: float) -> dict[str, Any]:
    """Plain Locust (one process, FastHttpUser, no wait, no recording) POSTing ``body`` to
    ``url + path``."""
    import os

    load = LoadDoc(users=users, duration=seconds, wait=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.py"
        plain.write_text(PLAIN)
        os.environ.update(BENCH_BODY=json.dumps(body), BENCH_PATH=path)
        result = run_locust(load, [LoadTask("T-00001", "x", {}, None)], url, 10.0, Path(tmp),
                            time.monotonic, user_file=plain)
    return result.stats


class Bare:
    """A bare aiohttp app answering ``body`` (JSON or SSE) on its own loop and thread, as the
    harness hosts its servers."""

    def __init__(self, body: bytes, sse: bool) -> None:
        self.body, self.sse = body, sse
        self.port = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._main, args=(ready,), daemon=True).start()
        ready.wait()

    def _main(self, ready: threading.Event) -> None:
        from aiohttp import web

        from harness.servers import app_runner, bound_port

        async def handle(request: web.Request) -> web.StreamResponse:
            await request.read()
            if not self.sse:
                return web.Response(body=self.body, content_type="application/json")
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for line in self.body.split(b"\n\n"):
                if line:
                    await response.write(line + b"\n\n")
            await response.write_eof()
            return response

        async def start() -> None:
            app = web.Application()
            app.router.add_post("/{tail:.*}", handle)
            runner = app_runner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = bound_port(site)

        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(start())
        ready.set()
        self.loop.run_forever()


def sample(url: str, body: dict[str, Any]) -> bytes:
    import urllib.request

    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as reply:
        data: bytes = reply.read()
        return data


def mock_llm(host: ServerHost, users: int, seconds: float) -> list[tuple[str, float, float]]:
    host.start()
    out = []
    for stream in (False, True):
        body = {**CHAT, "stream": stream}
        world = RunWorld(scenario({}), f"bench-{stream}-{time.monotonic_ns()}", 1,
                         Runner(host).catalog)
        host.register(world)
        try:
            base = f"http://127.0.0.1:{host.llm_port}/s/{world.session_id}"
            reference = sample(base + "/v1/chat/completions", body)
            mock = locust(base, "/v1/chat/completions", body, users, seconds)
        finally:
            host.unregister(world)
        bare = Bare(reference, stream)
        plain = locust(f"http://127.0.0.1:{bare.port}", "/v1/chat/completions", body, users,
                       seconds)
        out.append(("SSE" if stream else "JSON", mock["rps"], plain["rps"]))
    return out


def harness_vs_plain(host: ServerHost, users: int, seconds: float) -> tuple[float, float]:
    runner = Runner(host, seed=0)
    try:
        result = runner.run(scenario({"load": {"users": users, "duration": seconds,
                                               "wait": 0}}), Agent.parse(TRIVIAL))
    finally:
        runner.close()
    through = result.load.locust.stats["rps"] if result.load else 0.0
    env = AgentEnv("http://127.0.0.1:9/v1", "k", "m", {}, "http://127.0.0.1:9", "bench", 0, 10)
    with AgentService(Agent.parse(TRIVIAL), env, 2**31) as service:
        direct = locust(service.url, "/run", {"task": "Ticket T-00001: hi"}, users, seconds)
    return through, direct["rps"]


def largest(host: ServerHost, seconds_per_step: float) -> dict[str, Any]:
    runner = Runner(host, seed=0)
    try:
        result = runner.run(scenario({
            "load": {"ramp": {"from": 10, "to": 70, "step": 20, "every": seconds_per_step},
                     "wait": 0},
            "expect": [{"error_budget": 0.01}, {"latency_slo": {"p95": 1.0}}]}),
            Agent.parse(TRIVIAL))
    finally:
        runner.close()
    if result.load is None:
        raise SystemExit("no load ran")
    return {"knee": result.load.knee,
            "steps": [(s.users, round(s.rps), s.p95, s.generator_cpu) for s in result.load.steps]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    host = ServerHost()
    try:
        print(f"Locust: 1 process, FastHttpUser, {args.users} users, no wait, "
              f"{args.seconds:g} s each")
        for kind, mock, bare in mock_llm(host, args.users, args.seconds):
            print(f"mock LLM {kind:<4} {mock:8.0f} rps   bare aiohttp {bare:8.0f} rps   "
                  f"ratio {mock / bare:.2f} (target >= 0.8)")
        through, direct = harness_vs_plain(host, args.users, args.seconds)
        print(f"harness load run {through:8.0f} rps   plain Locust {direct:8.0f} "
              f"rps   ratio {through / direct:.2f} (target >= 0.9)")
        found = largest(host, args.seconds / 2)
        print("largest load (ramp 10..70 users, an agent that answers at once):")
        for users, rps, p95, cpu in found["steps"]:
            print(f"  {users:>4} users  {rps:>6} rps  p95 {p95 if p95 is None else round(p95, 3)}"
                  f" s  Locust CPU {cpu}")
        print(f"  {found['knee']['message'] if found['knee'] else '-'}")
    finally:
        host.close()


if __name__ == "__main__":
    main()
