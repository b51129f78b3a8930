"""One load run: one shared world, the agent as a service, real Locust sending it tasks; then
the checks over everything, the goal per user request, and the steps of a ramp with their
knee."""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agents import Agent, AgentEnv
from ..checks.base import CheckContext, Outcome
from ..goals import GoalResult
from ..trace import Trace
from .conversations import Conversations
from .data import LoadData, Step, UserRequest, percentile
from .locust_run import LocustResult, run_locust
from .service import AgentService, RequestShape, ServiceFailed
from .spec import render_tasks

if TYPE_CHECKING:
    from ..runner import Runner
    from ..scenario import Scenario
    from ..world.run import RunWorld

#: Answers kept in the run's outcome, which checks that read "the agent's answer" read.
MAX_JOINED = 1_000_000


@dataclass(frozen=True)
class LoadOptions:
    """How Locust is run: ``workers`` to wait for (distributed; 0 = none) and the master's
    bind address."""

    workers: int = 0
    master: tuple[str, int] = ("127.0.0.1", 5557)


def tasks_for(scenario: Scenario, world: RunWorld) -> list[Any]:
    load = scenario.load
    if load is None or not isinstance(scenario.task, str):
        raise TypeError("not a load scenario")
    records: list[dict[str, Any]] = []
    key = None
    if load.records is not None:
        tool, resource = load.records.split(".")
        records = world.tools[tool].records[resource]
        key = world.tools[tool].api.resources[resource].key
    return render_tasks(scenario.task, records, key, world.seed, load.task_count())


def run_load(runner: Runner, scenario: Scenario, agent: Agent, world: RunWorld,
             env: AgentEnv, options: LoadOptions) -> tuple[Outcome, LoadData]:
    """Drive the load (the world is registered, its proxies are open, its faults started)."""
    load = scenario.load
    if load is None:
        raise TypeError("not a load scenario")
    tasks = tasks_for(scenario, world)
    world.conversations = Conversations(tasks, scenario.script, world.seed)
    shape = RequestShape(load.path, load.body, load.answer)
    user_file = None
    if load.locustfile is not None:
        base = Path(scenario.source).parent if scenario.source else Path.cwd()
        user_file = (base / load.locustfile).resolve()
    started = time.monotonic()
    status, error = "completed", None
    log = ""
    with tempfile.TemporaryDirectory(prefix="agent-chaos-load-") as tmp:
        service = AgentService(agent, env, scenario.memory)
        try:
            with service:
                begin = world.trace.now()
                locust = run_locust(load, tasks, service.url, scenario.timeout, Path(tmp),
                                    world.trace.now, user_file=user_file,
                                    workers=options.workers, master=options.master)
                end = world.trace.now()
                died = service.died()
                if died is not None:
                    status = "memory" if service.memory_stopped() else "crashed"
                    error = died
                log = service.log()
        except ServiceFailed as exc:
            status, error = "crashed", str(exc)
            begin = end = world.trace.now()
            locust = LocustResult([], error="not started: the agent service did not start")
            log = service.log()
    requests = [user_request(r, shape) for r in locust.requests]
    requests.sort(key=lambda r: r.start)
    if len(requests) >= len(tasks) and locust.error is None:
        locust.error = (f"the users sent all {len(tasks)} tasks rendered for the run and then "
                        f"waited: the figures understate what the agent could take")
    if locust.error and status == "completed":
        error = locust.error
    answers = [r.answer for r in requests if r.answer]
    joined = "\n".join(answers)[:MAX_JOINED]
    ok = sum(1 for r in requests if r.ok)
    summary = f"{ok} of {len(requests)} user requests answered"
    outcome = Outcome(status, joined if status == "completed" else None,
                      error or (None if status == "completed" else summary), None,
                      time.monotonic() - started, log)
    data = LoadData(load, {t.ticket: t for t in tasks}, requests,
                    dict(world.conversations.live), locust, begin, end)
    return outcome, data


def user_request(record: dict[str, Any], shape: RequestShape) -> UserRequest:
    """A request as a Locust user recorded it, its answer read the way the scenario says."""
    def number(key: str) -> float | None:
        value = record.get(key)
        return float(value) if isinstance(value, int | float) else None

    status = record.get("status")
    request = UserRequest(
        record.get("ticket") if isinstance(record.get("ticket"), str) else None,
        number("start") or 0.0, number("end"), status if isinstance(status, int) else 0,
        error=str(record["error"]) if record.get("error") is not None else None,
        first_byte=number("first_byte"),
        chunks=record["chunks"] if isinstance(record.get("chunks"), int) else 0)
    text = record.get("text")
    if request.ok and isinstance(text, str):
        request.answer = shape.read(text)
    return request


def judge_goal(scenario: Scenario, ctx: CheckContext, data: LoadData) -> GoalResult:
    """The goal per user request; met when the share that met it reaches ``goal_share``."""
    by_conv: dict[str, list[Any]] = {}
    for e in ctx.trace.events:
        conv = e.data.get("conversation")
        if conv is not None:
            by_conv.setdefault(str(conv), []).append(e)
    failing: list[str] = []
    for request in data.requests:
        if request.ticket is None or request.ticket not in data.tasks:
            continue
        if request.ok:
            outcome = Outcome("completed", request.answer or "")
        elif request.status == 504:
            outcome = Outcome("timeout", None, request.error)
        else:
            outcome = Outcome("crashed", None, request.error)
        trace = Trace(events=by_conv.get(request.ticket, []), t0=ctx.trace.t0)
        one = CheckContext(trace, ctx.tools, outcome, ctx.catalog, ctx.timeout, ctx.ended)
        try:
            met = scenario.goal.evaluate(one).met
        except Exception:  # a broken goal is a missed one
            met = False
        data.goal_met[request.ticket] = met
        if not met:
            failing.append(request.ticket)
    total = len(data.goal_met)
    met_count = total - len(failing)
    share = met_count / total if total else 0.0
    needed = data.doc.goal_share
    message = (f"{met_count} of {total} user requests met the goal ({share:.0%}; needed "
               f"{needed:.0%})" if total else "no user request was answered")
    if failing:
        message += f"; missed by {', '.join(failing[:5])}" + (" …" if len(failing) > 5 else "")
    return GoalResult(bool(total) and share >= needed, message)


def judge_steps(scenario: Scenario, ctx: CheckContext, data: LoadData,
                evaluate: Any) -> None:
    """Per step of the ramp (or the whole run): figures, breaches, and the knee."""
    load = data.doc
    if load.ramp is not None:
        users = load.ramp.steps()
        every = load.ramp.every
    else:
        users, every = [load.users], data.ended - data.started
    cores = min(data.locust.processes, os.cpu_count() or 1)
    for i, n in enumerate(users):
        start = data.started + i * every
        end = data.ended if i == len(users) - 1 else start + every
        requests = data.window(start, end)
        step = Step(i + 1, n, start, end, len(requests),
                    sum(1 for r in requests if not r.ok),
                    len(requests) / (end - start) if end > start else 0.0,
                    percentile(data.latencies(requests), 0.95))
        judged = [data.goal_met[r.ticket] for r in requests if r.ticket in data.goal_met]
        step.goal_share = sum(judged) / len(judged) if judged else None
        if load.ramp is not None and requests:
            window = Trace(events=[e for e in ctx.trace.events if start <= e.start < end],
                           t0=ctx.trace.t0)
            sub = LoadData(load, data.tasks, requests, data.conversations, data.locust,
                           start, end, goal_met={r.ticket: data.goal_met[r.ticket]
                                                    for r in requests
                                                    if r.ticket in data.goal_met},
                           baseline_calls_per_request=data.baseline_calls_per_request,
                           whole=False)
            windowed = CheckContext(window, ctx.tools, ctx.outcome, ctx.catalog, ctx.timeout,
                                    end, load=sub)
            step.breaches = [v.check for v in (evaluate(c, windowed) for c in scenario.checks)
                             if not v.passed]
        elif load.ramp is None:
            step.breaches = []
        if step.goal_share is not None and step.goal_share < load.goal_share:
            step.breaches.append("goal")
        samples = [c for t, c in data.locust.cpu if start <= t < end]
        if samples and not _remote(data):
            step.generator_cpu = round(sum(samples) / len(samples), 3)
            step.generator_limited = step.generator_cpu >= 0.85 * cores
        data.steps.append(step)
    data.knee = knee(data.steps, data.locust.processes, bool(load.ramp))
    seconds = max(1, math.ceil(data.ended - data.started))
    for tool in scenario.tools:
        counts = [0] * seconds
        for e in ctx.trace.of("tool"):
            if e.data.get("tool") == tool and data.started <= e.start < data.ended:
                counts[min(seconds - 1, int(e.start - data.started))] += 1
        limit = scenario.capacity.get(tool)
        data.tool_rates[tool] = {"per_second": counts,
                                 "limit": limit.rps if limit is not None else None}


def _remote(data: LoadData) -> bool:
    return "--master" in data.locust.command


def knee(steps: list[Step], processes: int, ramp: bool) -> dict[str, Any] | None:
    """The first step where a check or the goal broke, unless the load generator was
    saturated first (then the figures measure Locust, not the agent)."""
    if not ramp or not steps:
        return None
    held: Step | None = None
    for step in steps:
        if step.generator_limited:
            return {"verdict": "generator_limited", "users": step.users,
                    "rps": round(step.rps, 1),
                    "message": (f"generator-limited at {step.rps:.0f} rps ({step.users} users): "
                                f"Locust used {step.generator_cpu:.2f} of its {processes} "
                                f"core(s); add load.processes or Locust workers "
                                f"(--chaos-load-workers) to go further")}
        if step.breaches:
            what = _breach_text(step)
            before = (f"holds to {held.users} user{'s' if held.users != 1 else ''}; "
                      if held else "")
            return {"verdict": "knee", "users": step.users, "rps": round(step.rps, 1),
                    "held_to": held.users if held else None, "breaches": step.breaches,
                    "message": f"{before}breaks at {step.users} users: {what}"}
        held = step
    return {"verdict": "held", "users": steps[-1].users, "rps": round(steps[-1].rps, 1),
            "message": f"held to the top step ({steps[-1].users} users, "
                       f"{steps[-1].rps:.1f} rps)"}


def _breach_text(step: Step) -> str:
    parts = []
    for b in step.breaches:
        if b == "goal" and step.goal_share is not None:
            parts.append(f"goal met by {step.goal_share:.0%}")
        elif b == "error_budget":
            parts.append(f"error rate {step.failure_rate:.0%}")
        elif b == "latency_slo" and step.p95 is not None:
            parts.append(f"p95 {step.p95:.2f} s")
        else:
            parts.append(b)
    return ", ".join(parts)
