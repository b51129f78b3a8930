"""The plugin's per-session state (kept in ``config.stash``): seed, agents, servers, results."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import AgentConfigError

if TYPE_CHECKING:
    from ..agents import Agent
    from ..record.recorder import RecordOptions
    from ..runner import Runner
    from ..servers import ServerHost
    from ..world.catalog import Catalog
    from .items import ScenarioItem
    from .parallel import Parallel, Runs

_KEY = pytest.StashKey["ChaosSession"]()


def _interrupt(signum: int, frame: Any) -> None:
    _pass_to_workers(signum)
    if "harness._warm" in sys.modules:  # the fork servers end now, with their runs
        sys.modules["harness._warm"].end_all()
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _pass_to_workers(signum: int) -> None:
    """Ctrl-C reaches xdist's workers through the terminal; a SIGTERM from CI reaches pytest
    alone, whose workers would finish their running test first. Pass it on to them."""
    if "execnet" not in sys.modules:
        return
    from execnet.gateway_io import popen_bootstrapline

    from .._guard import children

    for pid in children(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if popen_bootstrapline.encode() in argv:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


_CACHE_KEY = "agent_chaos/seed"
RESULT_PROPERTY = "agent_chaos_result"


class ChaosSession:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.enabled: bool = config.getoption("chaos")
        self.seed = self._resolve_seed()
        self._agents: tuple[list[Agent], str | None] | None = None
        if self.enabled:  # a bad agent spec is a usage error at once (off: when collected)
            _ = self.agents
        self.worker = hasattr(config, "workerinput")
        self.results: list[dict[str, Any]] = []
        self._host: ServerHost | None = None
        self._runner: Runner | None = None
        self._parallel: Parallel | None = None
        self._runner_lock = threading.Lock()
        self._given = [Path(a.split("::")[0]).resolve() for a in config.args]
        baseline = config.getoption("chaos_baseline")
        if baseline and self.enabled and not self.worker:
            from .gates import load_baseline

            self.baseline: dict[str, Any] | None = load_baseline(baseline)
        else:
            self.baseline = None
        self.gates: Any = None
        self._extensions_loaded = False
        self.other_failures = 0  # failed tests that are not scenario runs
        self.repeat: int | None = config.getoption("chaos_repeat")
        self.trial: int | None = config.getoption("chaos_trial")
        self.allow_remote: bool = config.getoption("chaos_allow_remote")
        # A reproduce line names the agent only when the ini would not give it again.
        self.agents_from_cli = bool(config.getoption("chaos_agent"))
        # Where the user typed the command: reproduce lines are relative to it (also on xdist
        # workers, whatever their working directory).
        worker = getattr(config, "workerinput", {})
        self.invocation_dir = Path(worker.get("agent_chaos_invocation_dir")
                                   or config.invocation_params.dir)
        # Recording runs each scenario once per agent: every run costs real model calls.
        self.steady_state: bool = not (config.getoption("chaos_no_steady_state")
                                       or config.getoption("chaos_record"))
        master = config.getoption("chaos_load_master")
        if self.enabled and not self.allow_remote and master[0] not in ("localhost", "::1") \
                and not master[0].startswith("127."):
            raise pytest.UsageError(
                f"--chaos-load-master={master[0]}:{master[1]} is not a loopback address: to "
                f"let Locust workers on other machines connect, add --chaos-allow-remote")

    # --- lifecycle -----------------------------------------------------------------------

    @classmethod
    def install(cls, config: pytest.Config) -> None:
        """Create the session and register it as a plugin (its report hooks see only this
        config's reports, also inside pytester's nested runs)."""
        session = config.stash[_KEY] = cls(config)
        config.pluginmanager.register(session, "agent-chaos-session")
        session._catch_sigterm()

    @classmethod
    def get(cls, config: pytest.Config) -> ChaosSession:
        return config.stash[_KEY]

    @classmethod
    def uninstall(cls, config: pytest.Config) -> None:
        session = config.stash.get(_KEY, None)
        if session is not None:
            try:
                session.close()
            finally:
                config.pluginmanager.unregister(session)
                session._release_sigterm()

    def _catch_sigterm(self) -> None:
        """CI cancels a job with SIGTERM: treat it like Ctrl-C, so that pytest unwinds and
        every agent, proxy and server of the session is stopped. Only when the signal is
        still at its default (a user's own handler wins) and only in the main thread."""
        self._sigterm: Any = None
        if not self.enabled or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._sigterm = signal.signal(signal.SIGTERM, _interrupt)
            if self.worker:
                self._orphan_watch = threading.Event()
                threading.Thread(target=self._watch_controller, args=(self._orphan_watch,),
                                 name="agent-chaos-orphan-watch", daemon=True).start()

    @staticmethod
    def _watch_controller(stop: threading.Event) -> None:
        """On an xdist worker: when the controlling pytest dies (SIGKILL), stop as on SIGTERM
        at once, instead of running on until execnet notices."""
        parent = os.getppid()
        while not stop.wait(0.1):
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    def _release_sigterm(self) -> None:
        if self._sigterm is not None and signal.getsignal(signal.SIGTERM) is _interrupt:
            signal.signal(signal.SIGTERM, self._sigterm)
        self._sigterm = None
        watch = getattr(self, "_orphan_watch", None)
        if watch is not None:
            watch.set()

    def close(self) -> None:
        if self._parallel is not None:
            if self._runner is not None:
                self._runner.interrupt()  # the runs under way stop now
            self._parallel.close()
            self._parallel = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._host is not None:
            self._host.close()
            self._host = None

    def record(self) -> RecordOptions | None:
        """Record mode's settings (``--chaos-record``), or None."""
        url = self.config.getoption("chaos_record")
        if not url:
            return None
        from ..record.recorder import RecordOptions

        given = self.config.getoption("chaos_record_dir")
        directory = (Path(self.config.invocation_params.dir, given) if given
                     else self.config.rootpath / "cassettes")
        return RecordOptions(url, directory.resolve(),
                             self.config.getoption("chaos_record_key_env"))

    def load_extensions(self) -> None:
        """Import the user's checks, goals, behaviours and faults (entry points and the
        ``chaos_extensions`` modules) once; ``ChaosError`` if one cannot be loaded."""
        if not self._extensions_loaded:
            from ..extensions import load_extensions

            self._extensions_loaded = True
            load_extensions(self.config.getini("chaos_extensions"))

    def mock_dirs(self) -> tuple[Path, ...]:
        given = self.config.getoption("chaos_mocks")
        if given:
            return tuple(Path(self.config.invocation_params.dir, p).resolve() for p in given)
        return tuple(Path(p).resolve() for p in self.config.getini("chaos_mocks"))

    @property
    def catalog(self) -> Catalog:
        """The built-in tool APIs and payloads plus the user's (``ScenarioError`` for a
        mistake in one of the user's files: each scenario reports it, the rest of the suite
        runs)."""
        from ..world.catalog import get_catalog

        return get_catalog(self.mock_dirs())

    @property
    def runner(self) -> Runner:
        with self._runner_lock:  # runs in parallel ask for it at once
            return self._make_runner()

    def _make_runner(self) -> Runner:
        if self._runner is None:
            from ..load.run import LoadOptions
            from ..runner import Runner
            from ..servers import ServerHost

            self._host = ServerHost()
            self._runner = Runner(self._host, self.seed, self.catalog, record=self.record(),
                                  toxiproxy_url=self.config.getoption("toxiproxy_url"),
                                  warm=not self.config.getoption("chaos_cold_start"),
                                  load_options=LoadOptions(
                                      self.config.getoption("chaos_load_workers"),
                                      self.config.getoption("chaos_load_master")))
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

    @property
    def agents(self) -> list[Agent]:
        """The agents under test (parsed on first use: a session without --chaos that
        collects no scenario never imports them)."""
        if self._agents is None:
            self._agents = self._resolve_agents()
        return self._agents[0]

    @property
    def agent_error(self) -> str | None:
        """Why the agent specs are invalid, when ``--chaos`` is off (on, it is a usage
        error)."""
        _ = self.agents
        return self._agents[1] if self._agents is not None else None

    def _agent_specs(self) -> list[str]:
        return list(self.config.getoption("chaos_agent") or self.config.getini("chaos_agents"))

    def _resolve_agents(self) -> tuple[list[Agent], str | None]:
        from ..agents import Agent

        specs = self._agent_specs()
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
        if self._agents is not None:
            names = ", ".join(a.name for a in self.agents) or "none configured"
        else:  # --chaos off: the names as given, without parsing the specs
            names = ", ".join(s.partition("=")[0].strip() for s in self._agent_specs()) \
                or "none configured"
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

    # --- running -------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """With ``--chaos-parallel N``, start the scenario runs on N workers before pytest
        reports the first of them (not on an xdist worker: xdist hands it items one by one)."""
        workers = self.config.getoption("chaos_parallel")
        if not (self.enabled and workers and workers > 1) or self.worker \
                or self.config.getoption("collectonly") \
                or self.config.getoption("chaos_explore"):
            return
        from .items import ScenarioItem
        from .parallel import Parallel

        items = [i for i in session.items if isinstance(i, ScenarioItem)]
        if len(items) > 1:
            self._parallel = Parallel(workers)
            self._parallel.submit(items)

    def runs(self, item: ScenarioItem) -> Runs:
        """The item's trials and steady state: run ahead (``--chaos-parallel``) or now."""
        if self._parallel is not None:
            return self._parallel.runs(item)
        return item.execute()

    # --- results -------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        entry = getattr(item, RESULT_PROPERTY, None)
        if call.when == "call" and entry is not None:
            # A report attribute, not a user property: it reaches the controller under xdist
            # and stays out of JUnit XML (which gets the scores as properties instead).
            setattr(outcome.get_result(), RESULT_PROPERTY, entry)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = getattr(report, RESULT_PROPERTY, None)
        if report.when == "call" and entry is not None:
            self.results.extend(json.loads(entry))
        elif report.failed:
            self.other_failures += 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker or not self.results:
            return
        from ..scoring import agent_scores
        from .gates import evaluate

        min_score = self.config.getoption("chaos_min_score")
        if min_score is None and self.baseline is None:
            return
        self.gates = evaluate(agent_scores(self.results), self.results, min_score,
                              self.baseline, self.config.getoption("chaos_tolerance"))
        # With a gate, the gate decides for the scenario runs: their failed checks are still
        # reported, but only a failed gate (or any other failing test) fails the session.
        if self.gates.failures:
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif session.exitstatus == pytest.ExitCode.TESTS_FAILED and not self.other_failures:
            session.exitstatus = pytest.ExitCode.OK

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
        from ..report import write_html
        from .report import build_results, summarize, write_results

        doc = build_results(self.results, self.seed)
        path = write_results(self.results_path(), doc)
        html = write_html(self.report_path(), doc, self.config.getoption("chaos_min_score"))
        summarize(terminal, doc, path)
        terminal.write_line(f"report: {html}")
        cold: dict[str, str] = {}
        for run in doc.get("runs", []):
            reason = (run.get("timing") or {}).get("cold")
            if reason:
                cold.setdefault(run["agent"], reason)
        for agent, reason in cold.items():
            terminal.write_line(f"agent-chaos: agent {agent!r} starts cold (a new Python "
                                f"process for every run): {reason}")
        for run in doc.get("runs", []):
            for recorded in run.get("recorded") or []:
                terminal.write_line(f"recorded: {recorded}")
        swept = self._runner.swept if self._runner is not None else []
        if swept:
            terminal.write_line(f"agent-chaos: removed {len(swept)} proxies that a session "
                                f"which died had left on {self.config.getoption('toxiproxy_url')}"
                                f": {', '.join(swept[:5])}{' …' if len(swept) > 5 else ''}")
        gates = self.gates
        if gates is not None and (gates.failures or gates.notes or gates.diff):
            terminal.write_sep("-", "agent-chaos gates")
            for line in gates.failures:
                terminal.write_line(f"FAILED {line}", red=True, bold=True)
            for line in gates.notes:
                terminal.write_line(f"ok     {line}")
            if gates.diff:
                terminal.write_line("changed against the baseline (scenario [agent]: before → "
                                    "now):")
                for line in gates.diff:
                    terminal.write_line(f"  {line}")

