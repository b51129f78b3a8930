"""The plugin's per-session state (kept in ``config.stash``): seed, agents, servers, results."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import AgentConfigError

if TYPE_CHECKING:
    from ..agents import Agent
    from ..runner import Runner
    from ..servers import ServerHost

_KEY = pytest.StashKey["ChaosSession"]()
_CACHE_KEY = "agent_chaos/seed"
RESULT_PROPERTY = "agent_chaos_result"


class ChaosSession:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.enabled: bool = config.getoption("chaos")
        self.seed = self._resolve_seed()
        self.agents, self.agent_error = self._resolve_agents()
        self.worker = hasattr(config, "workerinput")
        self.results: list[dict[str, Any]] = []
        self._host: ServerHost | None = None
        self._runner: Runner | None = None
        self._given = [Path(a.split("::")[0]).resolve() for a in config.args]

    # --- lifecycle -----------------------------------------------------------------------

    @classmethod
    def install(cls, config: pytest.Config) -> None:
        """Create the session and register it as a plugin (its report hooks see only this
        config's reports, also inside pytester's nested runs)."""
        session = config.stash[_KEY] = cls(config)
        config.pluginmanager.register(session, "agent-chaos-session")

    @classmethod
    def get(cls, config: pytest.Config) -> ChaosSession:
        return config.stash[_KEY]

    @classmethod
    def uninstall(cls, config: pytest.Config) -> None:
        session = config.stash.get(_KEY, None)
        if session is not None:
            session.close()
            config.pluginmanager.unregister(session)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._host is not None:
            self._host.close()
            self._host = None

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            from ..runner import Runner
            from ..servers import ServerHost

            self._host = ServerHost()
            self._runner = Runner(self._host, self.seed,
                                  toxiproxy_url=self.config.getoption("toxiproxy_url"))
        return self._runner

    # --- configuration -------------------------------------------------------------------

    def _resolve_seed(self) -> int:
        worker = getattr(self.config, "workerinput", None)
        if worker is not None and "agent_chaos_seed" in worker:
            return int(worker["agent_chaos_seed"])
        from .options import seed_type

        value = self.config.getoption("chaos_seed")
        if value is None:
            value = seed_type(str(self.config.getini("chaos_seed")))
        cache = getattr(self.config, "cache", None)
        if value == "last":
            value = cache.get(_CACHE_KEY, None) if cache is not None else None
            if value is None:
                raise pytest.UsageError("--chaos-seed=last: no previous chaos run recorded a "
                                        "seed yet; pass an integer or 'random'")
        elif value == "random":
            value = random.SystemRandom().randrange(2**31)
        if cache is not None:
            cache.set(_CACHE_KEY, value)
        return int(value)

    def _resolve_agents(self) -> tuple[list[Agent], str | None]:
        from ..agents import Agent

        specs = self.config.getoption("chaos_agent") or self.config.getini("chaos_agents")
        agents: list[Agent] = []
        try:
            for spec in specs:
                agent = Agent.parse(spec)
                if any(a.name == agent.name for a in agents):
                    raise AgentConfigError(f"agent name {agent.name!r} is given twice")
                agents.append(agent)
        except AgentConfigError as exc:
            if self.enabled:
                raise pytest.UsageError(str(exc)) from None
            return [], str(exc)
        return agents, None

    def header(self) -> list[str]:
        names = ", ".join(a.name for a in self.agents) or "none configured"
        state = "on" if self.enabled else "off (add --chaos to run scenarios)"
        return [f"agent-chaos: {state}; seed {self.seed} (reproduce with --chaos-seed="
                f"{self.seed}); agents: {names}"]

    # --- collection ----------------------------------------------------------------------

    def scenario_paths(self) -> list[Path]:
        return [Path(p).resolve() for p in self.config.getini("chaos_paths")]

    def collect_file(self, path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        if path.suffix not in (".yaml", ".yml"):
            return None
        resolved = path.resolve()
        under = any(resolved.is_relative_to(p) for p in self.scenario_paths())
        if not under and resolved not in self._given:
            return None
        from .items import ScenarioFile

        return ScenarioFile.from_parent(parent, path=path)

    # --- results -------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":  # teardown reports carry the same user_properties
            return
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                self.results.append(json.loads(str(value)))

    def results_path(self) -> Path:
        given = self.config.getoption("chaos_results")
        if given:
            return Path(given)
        return Path(self.config.rootpath) / "reports" / "results.json"

    def report_path(self) -> Path:
        given = self.config.getoption("chaos_report")
        if given:
            return Path(given)
        return Path(self.config.rootpath) / "reports" / "index.html"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminal = terminalreporter
        if self.worker or not self.results:
            return
        from .report import summarize, write_results

        path = write_results(self.results_path(), self.results, self.seed)
        from ..report import write_html

        html = write_html(self.report_path(), json.loads(path.read_text(encoding="utf-8")))
        summarize(terminal, self.results, self.seed, path, self.config)
        terminal.write_line(f"report: {html}")

