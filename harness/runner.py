"""One scenario run: build the world, run the agent against it, judge the trace."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._seed import derive
from ._warm import Zygotes
from .agents import Agent, AgentEnv, coerce_agent, launch
from .checks.base import CheckContext, Outcome, Severity, Verdict
from .errors import ChaosError, ChecksFailed
from .goals import Goal, GoalResult
from .network import Network, RunToxics
from .scenario import Scenario
from .scoring import run_score
from .servers import ServerHost
from .toxiproxy.client import ToxiproxyClient
from .trace import Trace
from .world.catalog import Catalog, get_catalog
from .world.run import RunWorld
from .world.state import ToolState

if TYPE_CHECKING:
    from .load.data import LoadData
    from .load.run import LoadOptions
    from .record.recorder import RecordOptions

RESULTS_VERSION = 1
#: Trace events a load run keeps in results.json (besides those cited as evidence).
LOAD_TRACE = 300
#: The approval service's proxy (no upstream name can start with "_").
APPROVALS = "_approvals"
#: The proxy of the run's combined MCP endpoint (env.mcp_url).
MCP = "_mcp"


@dataclass
class RunResult:
    scenario: Scenario
    agent: str
    seed: int
    session_id: str
    trace: Trace
    tools: dict[str, ToolState]
    outcome: Outcome
    verdicts: list[Verdict]
    goal: GoalResult
    score: float
    load: LoadData | None = None
    #: Record mode: the cassette and the scenario that replays it.
    recorded: list[str] | None = None

    @property
    def passed(self) -> bool:
        """The job was done (the goal met) and every guardrail held."""
        return self.goal.met and all(v.passed for v in self.verdicts)

    @property
    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.passed]

    def explain(self) -> str:
        """The missed goal and the failed checks with their evidence, as a pytest failure
        shows them."""
        broke = f"broke {len(self.failed)} of {len(self.verdicts)} guardrail checks"
        if not self.goal.met:
            broke = f"missed the goal and {broke}" if self.failed else "missed the goal"
        lines = [f"agent {self.agent!r} {broke} in scenario {self.scenario.name!r} "
                 f"(score {self.score:g}/100, seed {self.seed}):"]
        events = {e.id: e for e in self.trace.events}
        if not self.goal.met:
            lines.append(f"  ✗ goal {self.scenario.goal.describe()}: {self.goal.message}")
            for eid in self.goal.evidence[:3]:
                if eid in events:
                    lines.append(f"      {eid}: {summarize(events[eid].kind, events[eid].data)}")
        for v in self.failed:
            lines.append(f"  ✗ {v.check} [{v.severity.value}]: {v.message}")
            for eid in v.evidence[:3]:
                if eid in events:
                    lines.append(f"      {eid}: {summarize(events[eid].kind, events[eid].data)}")
        hit = [e for e in self.trace.of("fault") if e.data.get("action") in ("on", "hit")]
        if hit:
            lines.append(f"  faults injected ({len(hit)}): " + "; ".join(
                f"{summarize(e.kind, e.data)} [{e.id}]" for e in hit[:4])
                + (" …" if len(hit) > 4 else ""))
        for e in [e for e in self.trace.of("llm") if e.data.get("unserved")][:3]:
            lines.append(f"  {summarize(e.kind, e.data)} [{e.id}]")
        if self.trace.dropped:
            lines.append(f"  the trace kept its first {len(self.trace.events)} events; "
                         f"{self.trace.dropped} more were only counted")
        if self.outcome.status != "completed":
            lines.append(f"  agent outcome: {self.outcome.status}"
                         + (f" ({self.outcome.error})" if self.outcome.error else ""))
        return "\n".join(lines)

    def assert_resilient(self) -> None:
        """Raise ``ChecksFailed`` (an AssertionError) if the goal was missed or any check
        failed."""
        if not self.passed:
            raise ChecksFailed(self.explain())

    def to_json(self) -> dict[str, Any]:
        """The results.json entry. Everything but the ``timing`` key is deterministic (but
        under load, where the figures depend on the machine: the verdicts are)."""
        if self.load is not None:
            return self._load_json()
        return {
            "scenario": self.scenario.name,
            "category": self.scenario.category.value,
            "description": self.scenario.description,
            "source": self.scenario.source,
            "agent": self.agent,
            "seed": self.seed,
            "session": self.session_id,
            "passed": self.passed,
            "score": self.score,
            "goal": {"goal": self.scenario.goal.to_json(),
                     "describe": self.scenario.goal.describe(), **self.goal.to_json()},
            "faults": [f.describe() for f in self.scenario.faults],
            "outcome": self.outcome.to_json(),
            "verdicts": [v.to_json() for v in self.verdicts],
            "trace": self.trace.to_json(),
            "trace_dropped": self.trace.dropped,
            "state": {name: s.snapshot() for name, s in sorted(self.tools.items())},
            "timing": {"duration": round(self.outcome.duration, 3),
                       "events": self.trace.timing(), "start": self.outcome.start,
                       **({"cold": self.outcome.cold} if self.outcome.cold else {})},
            **({"recorded": self.recorded} if self.recorded else {}),
        }

    def _load_json(self) -> dict[str, Any]:
        """A load run's entry: the trace is thousands of events, so it keeps the first
        ``LOAD_TRACE`` and every event cited as evidence."""
        if self.load is None:
            raise TypeError("not a load run")
        cited = {i for v in self.verdicts for i in v.evidence} | set(self.goal.evidence)
        kept = [e for n, e in enumerate(self.trace.events) if n < LOAD_TRACE or e.id in cited]
        sampled = Trace(events=kept, t0=self.trace.t0, dropped=self.trace.dropped)
        entry = RunResult(self.scenario, self.agent, self.seed, self.session_id, sampled,
                          self.tools, self.outcome, self.verdicts, self.goal,
                          self.score).to_json()
        output = self.outcome.output or ""
        entry["outcome"]["output"] = output[:2000] + ("…" if len(output) > 2000 else "")
        entry["trace_sampled"] = {"kept": len(kept), "of": len(self.trace.events)}
        entry["load"] = self.load.to_json()
        return entry


def summarize(kind: str, data: dict[str, Any]) -> str:
    """One line describing a trace event."""
    if kind == "llm" and data.get("unserved"):
        return (f"the agent called {data.get('method')} {data.get('path')}, which the mock LLM "
                f"does not serve → HTTP 404")
    if kind == "llm":
        reply = data.get("reply") or {}
        calls = ", ".join(f"{c['name']}({c['arguments']})" for c in reply.get("tool_calls", []))
        said = calls or repr((reply.get("content") or "")[:80])
        status = data.get("status")
        if status != 200:
            said = f"HTTP {status} {(data.get('error') or {}).get('code') or ''}".strip()
        api = data.get("api")
        via = f" via {api}" if api and api != "chat" else ""
        return f"LLM call #{data.get('n')}{via} ({data.get('behaviour')}) → {said}"
    if kind == "tool":
        args = data.get("arguments")
        shown = data.get("raw") if args is None else args
        return f"{data.get('tool')}.{data.get('operation')}({shown}) → HTTP {data.get('status')}"
    if kind == "fault":
        when = f"call {data['call']}, " if data.get("call") else ""
        verb = {"on": "switched on", "off": "switched off", "hit": "hit"}.get(
            str(data.get("action")), str(data.get("action")))
        return f"fault {data.get('type')} {verb} on {data.get('target')} ({when}step " \
               f"{data.get('step')})"
    if kind == "approval":
        return f"approval for {data.get('tool')}: {'granted' if data.get('approved') else 'denied'}"
    return f"{kind}: {data}"


class Runner:
    """Runs scenarios against agents on one ``ServerHost``."""

    def __init__(self, host: ServerHost, seed: int = 0, catalog: Catalog | None = None,
                 toxiproxy_url: str | None = None, load_options: LoadOptions | None = None,
                 record: RecordOptions | None = None, warm: bool = True) -> None:
        from .load.run import LoadOptions

        #: Python agents fork from a fork server that has their imports done (warm starts).
        self.zygotes = Zygotes() if warm else None
        #: Record mode: model requests go to a real endpoint and are saved as cassettes.
        self.record = record
        self.load_options = load_options or LoadOptions()
        self.host = host
        self.seed = seed
        self.catalog = catalog or get_catalog()
        self.toxiproxy_url = toxiproxy_url
        self._network: Network | None = None
        self._lock = threading.Lock()  # runs in parallel (--chaos-parallel, chaos.arun)
        #: Set when the session ends: runs under way stop their agents, no new run starts.
        self.stopping = threading.Event()
        self._ids = itertools.count(1)
        self._calm: dict[tuple[str, str, int], RunResult] = {}

    @property
    def network(self) -> Network:
        """The proxies in front of the world: on the embedded Toxiproxy-compatible server, or
        on the real one at ``toxiproxy_url``."""
        with self._lock:
            if self._network is None:
                url = self.toxiproxy_url or self.host.toxiproxy_url()
                network = Network(ToxiproxyClient(url))
                if self.toxiproxy_url:  # a server this process does not own may hold leftovers
                    network.sweep()
                self._network = network
            return self._network

    @property
    def swept(self) -> list[str]:
        """Proxies that dead sessions had left on the external Toxiproxy, removed."""
        return self._network.swept if self._network is not None else []

    def interrupt(self) -> None:
        """Stop the runs under way (their agents are ended as at a time limit) and refuse
        new ones: the session is ending."""
        self.stopping.set()

    def close(self) -> None:
        self.stopping.set()
        try:
            if self._network is not None:
                self._network.close_all()
        finally:
            if self.zygotes is not None:
                self.zygotes.close()

    def reseeded(self, seed: int) -> Runner:
        """The same runner (servers, proxies, fork servers) with another session seed."""
        _ = self.network  # made now, so that both share it
        other = copy.copy(self)
        other.seed = seed
        other._calm = {}
        return other

    def steady(self, scenario: Scenario, agent: Agent | str | Callable[..., Any],
               trial: int = 0) -> RunResult:
        """The steady state (Chaos Toolkit's term): the same run with no fault injected. A
        load run's is kept: a check of the faulted run compares against it."""
        agent = coerce_agent(agent)
        key = (scenario.name, agent.name, trial)
        calm = self._calm.get(key)
        if calm is None:
            calm = self.run(dataclasses.replace(scenario, faults=[]), agent, trial)
            if scenario.load is not None:
                self._calm[key] = calm
        return calm

    def run(self, scenario: Scenario, agent: Agent | str | Callable[..., Any],
            trial: int = 0, cancel: threading.Event | None = None) -> RunResult:
        """Run ``scenario`` against ``agent`` and judge it. When ``cancel`` is set (or the
        runner is stopping) the agent is stopped as at its time limit."""
        agent = coerce_agent(agent)
        if self.stopping.is_set():
            raise ChaosError("the session is ending: no new scenario run starts")
        baseline = None
        if scenario.load is not None and scenario.faults and \
                any(c.key == "retry_amplification" for c in scenario.checks):
            calm = self.steady(scenario, agent, trial)
            baseline = calls_per_request(calm)
        self.host.start()
        seed = derive(self.seed, scenario.seed, scenario.name, trial) % 2**31
        if self.record is not None and scenario.load is not None:
            raise ChaosError(f"{scenario.name}: a load scenario cannot be recorded (one "
                             f"session of one agent is); run it without --chaos-record")
        network = self.network
        session = f"{scenario.name}.{agent.name}.{trial}"
        with self._lock:
            while session in self.host.runs:  # the same run twice at once (threads, arun)
                session += f".{next(self._ids)}"
            world = RunWorld(scenario, session, seed, self.catalog)
            if self.record is not None:
                from .record.recorder import Recorder

                world.recorder = Recorder(self.record)
            self.host.register(world)
        try:
            local = f"{self.host.host}"
            listens = network.open(session, {
                "llm": f"{local}:{self.host.llm_port}",
                **{t: f"{local}:{self.host.tools_port}" for t in scenario.tools},
                # The human in the loop too: every service the agent reaches is behind a proxy.
                APPROVALS: f"{local}:{self.host.tools_port}",
                # All the run's tool APIs as one MCP server (each API's own is behind its proxy).
                MCP: f"{local}:{self.host.tools_port}",
                **scenario.upstreams,
            })
            env = AgentEnv(
                llm_base_url=f"http://{listens['llm']}/s/{session}/v1",
                api_key="sk-agent-chaos",
                model="chaos-model",
                tool_urls={t: f"http://{listens[t]}/s/{session}/{t}" for t in scenario.tools},
                approval_url=f"http://{listens[APPROVALS]}/s/{session}/_approvals",
                session_id=session, seed=seed, timeout=scenario.timeout, scenario=scenario.name,
                upstreams={u: listens[u] for u in scenario.upstreams},
                mcp_url=f"http://{listens[MCP]}/s/{session}/mcp",
                mcp_urls={t: f"http://{listens[t]}/s/{session}/{t}/mcp" for t in scenario.tools},
            )
            world.faults.control = RunToxics(network, session, mirror=set(scenario.tools),
                                             to=MCP)
            self.host.call(world.faults.start())
            load = None
            if scenario.load is not None:
                from .load.run import run_load

                outcome, load = run_load(self, scenario, agent, world, env, self.load_options)
                load.baseline_calls_per_request = baseline
            else:
                outcome = launch(agent, env, scenario.task, scenario.timeout, scenario.memory,
                                 zygotes=self.zygotes, cancel=_Either(self.stopping, cancel))
            ended = world.trace.now()
        finally:
            try:
                self.host.call(world.faults.close())
            finally:
                network.close(session)
                self.host.unregister(world)
        ctx = CheckContext(world.trace, world.tools, outcome, self.catalog, scenario.timeout,
                           ended, load=load)
        verdicts = [_evaluate(check, ctx) for check in scenario.checks]
        if load is not None:
            from .load.run import judge_goal, judge_steps

            goal = judge_goal(scenario, ctx, load)
            judge_steps(scenario, ctx, load, _evaluate)
        else:
            goal = _judge(scenario.goal, ctx)
        recorded = None
        if world.recorder is not None:
            recorded = [str(p) for p in world.recorder.write(scenario, agent.name)]
        return RunResult(scenario, agent.name, seed, session, world.trace, world.tools, outcome,
                         verdicts, goal, run_score(verdicts, goal.met), load, recorded)


class _Either:
    """Set when either event is."""

    def __init__(self, first: threading.Event, second: threading.Event | None) -> None:
        self.events = [first] if second is None else [first, second]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def calls_per_request(result: RunResult) -> float | None:
    """Downstream calls (model and tools) per user request of a load run."""
    if result.load is None or not result.load.requests:
        return None
    calls = sum(1 for e in result.trace.events if e.kind in ("llm", "tool"))
    return (calls + result.trace.dropped) / len(result.load.requests)


def _judge(goal: Goal, ctx: CheckContext) -> GoalResult:
    try:
        return goal.evaluate(ctx)
    except Exception as exc:  # a broken goal is a missed one, with the reason
        return GoalResult(False, f"the goal itself failed: {type(exc).__name__}: {exc}")


def _evaluate(check: Any, ctx: CheckContext) -> Verdict:
    try:
        verdict: Verdict = check.evaluate(ctx)
        return verdict
    except Exception as exc:  # a broken check must not hide the others
        return Verdict(check.key, False, Severity(check.severity),
                       f"the check itself failed: {type(exc).__name__}: {exc}")
