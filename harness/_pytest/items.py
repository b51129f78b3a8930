"""Collection: a scenario file becomes one item per configured agent."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .._json import dumps_safe
from ..errors import ChaosError, ChecksFailed
from .session import RESULT_PROPERTY, ChaosSession

if TYPE_CHECKING:
    from ..agents import Agent
    from ..runner import RunResult
    from ..scenario import Scenario

SKIP_REASON = "chaos scenarios run only with --chaos (e.g. pytest --chaos scenarios/)"


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from ..scenario import load_scenario

        session = ChaosSession.get(self.config)
        try:
            session.load_extensions()
            scenario = load_scenario(self.path, session.catalog,
                                     allow_remote=session.allow_remote)
        except ChaosError as exc:  # ScenarioError, or an extension that does not load
            # An item, not a collection error: the rest of the suite still runs.
            yield ScenarioErrorItem.from_parent(self, name=self.path.stem, error=exc)
            return
        if not session.agents:
            reason = session.agent_error or (
                "no agents under test: set chaos_agents in your pytest config or pass "
                "--chaos-agent NAME=module:attr")
            yield ScenarioErrorItem.from_parent(self, name=scenario.name,
                                                error=ChaosError(reason))
            return
        for agent in session.agents:
            yield ScenarioItem.from_parent(self, name=f"{scenario.name}[{agent.name}]",
                                           scenario=scenario, agent=agent)


def deviation(steady: dict[str, Any], passed: bool) -> str:
    """Chaos Toolkit's verdicts: the guardrails held under the faults; the run deviated from
    a steady state that held without them; or the steady state itself was not met."""
    if not steady["passed"]:
        return "steady state not met"
    return "held" if passed else "deviated"


class _ChaosItem(pytest.Item):
    def setup(self) -> None:
        if not ChaosSession.get(self.config).enabled:
            pytest.skip(SKIP_REASON)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ChecksFailed | ChaosError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class ScenarioErrorItem(_ChaosItem):
    """Stands for a scenario that cannot run (invalid file, no agents): fails with the reason."""

    def __init__(self, *, error: ChaosError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"invalid scenario {self.path.name}"


class ScenarioItem(_ChaosItem):
    def __init__(self, *, scenario: Scenario, agent: Agent, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.agent = agent
        self.add_marker(pytest.mark.chaos)

    def runtest(self) -> None:
        session = ChaosSession.get(self.config)
        examples = self.config.getoption("chaos_explore")
        if examples:
            self._explore(session, examples)
            return
        numbers = self.trials()
        trials = len(numbers)
        results, steady = session.runs(self)
        entries = []
        for trial, result in zip(numbers, results, strict=True):
            entry = result.to_json()
            # Paths relative to the rootdir: results.json and the report travel between
            # machines.
            entry.update(nodeid=self.nodeid, trial=trial, trials=trials,
                         source=os.path.relpath(self.path, self.config.rootpath),
                         reproduce=self.reproduce(trial, self.config.rootpath))
            if steady is not None:
                judged = {k: v for k, v in steady.items() if k != "duration"}
                entry["steady_state"] = {**judged, "verdict": deviation(steady, result.passed)}
                if trial == numbers[0]:  # the steady run's time, counted once
                    entry["timing"]["steady_state"] = round(steady["duration"], 3)
            entries.append(entry)
        # Made safe here: the entries travel as JSON (to the controller under xdist), and an
        # agent's hostile values must not lose the run.
        setattr(self, RESULT_PROPERTY, dumps_safe(entries))
        failed = [r for r in results if not r.passed]
        score = round(sum(r.score for r in results) / trials, 1)
        # For JUnit XML (--junitxml): the figures CI dashboards read.
        self.user_properties += [
            ("chaos_score", score), ("chaos_passed", not failed),
            ("chaos_seed", results[0].seed),
            ("chaos_goal_met", all(r.goal.met for r in results)),
            ("chaos_failed_checks", ",".join(sorted({v.check for r in failed
                                                     for v in r.failed}))),
        ]
        if trials > 1:
            self.user_properties.append(("chaos_trials_passed", f"{trials - len(failed)}/"
                                                                f"{trials}"))
        if failed:
            first = failed[0]
            trial = numbers[results.index(first)]
            head = "" if trials == 1 else (f"{trials - len(failed)} of {trials} trials passed; "
                                           f"the first to fail, trial {trial}:\n")
            raise ChecksFailed(f"{head}{first.explain()}\n  reproduce: {self.reproduce(trial)}")

    def trials(self) -> range:
        """The trial numbers this item runs."""
        session = ChaosSession.get(self.config)
        if session.trial is not None:
            return range(session.trial, session.trial + 1)
        return range(session.repeat or self.scenario.repeat)

    def execute(self) -> tuple[list[RunResult], dict[str, Any] | None]:
        """Run the trials, and the steady state when the scenario injects faults; on the main
        thread or, with ``--chaos-parallel``, ahead of it on a worker."""
        session = ChaosSession.get(self.config)
        results = [session.runner.run(self.scenario, self.agent, trial)
                   for trial in self.trials()]
        steady = None
        if self.scenario.faults and session.steady_state:
            # The steady state (Chaos Toolkit's term): the same run with no fault injected.
            calm = session.runner.steady(self.scenario, self.agent)
            steady = {"passed": calm.passed, "score": calm.score, "goal_met": calm.goal.met,
                      "failed_checks": [v.check for v in calm.failed],
                      "duration": calm.outcome.duration}
        return results, steady

    def _explore(self, session: ChaosSession, examples: int) -> None:
        """``--chaos-explore N``: search fault schedules; fail with the smallest that breaks
        the agent, written as a regression scenario beside results.json."""
        from .._yaml import load_yaml
        from ..explore import describe, explore, regression_doc
        from ..world.openapi import to_yaml

        if self.scenario.load is not None:
            pytest.skip("explore searches single runs; this is a load scenario")
        raw, _ = load_yaml(self.path.read_text(encoding="utf-8"), str(self.path))
        found = explore(session.runner, self.scenario, raw, self.agent, examples, session.seed,
                        self.config.rootpath / ".hypothesis" / "agent-chaos")
        if found.faults is None:
            return
        out = session.results_path().parent / "explored" / \
            f"{self.scenario.name}.{self.agent.name}.yaml"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_yaml(regression_doc(raw, found, self.agent)), encoding="utf-8")
        raise ChecksFailed(
            f"explore: {found.failures} of {found.examples} fault schedules broke agent "
            f"{self.agent.name!r} in scenario {self.scenario.name!r}; the smallest: "
            f"{describe(found.faults)}\n  " + "\n  ".join(found.messages) +
            f"\n  regression scenario: {out}\n  reproduce: pytest --chaos {out} "
            f"--chaos-agent {self.agent.spec} --chaos-seed {session.seed}")

    def reproduce(self, trial: int, base: Path | None = None) -> str:
        """A command that gives this run again, typed in ``base`` (default: the directory
        pytest was invoked from): its seed, its agent (when it came from the command line),
        its trial."""
        session = ChaosSession.get(self.config)
        where = os.path.relpath(self.path, base or session.invocation_dir)
        words = ["pytest", "--chaos", f"--chaos-seed={session.seed}"]
        if session.agents_from_cli:
            words.append(f"--chaos-agent={self.agent.spec}")
        if trial:
            words.append(f"--chaos-trial={trial}")
        words.append(f"{where}::{self.name}")
        return shlex.join(words)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        line = (self.scenario.line or 1) - 1
        return self.path, line, f"{self.scenario.name} [{self.agent.name}]"
