"""pytest-agent-chaos: chaos and fault-injection testing for LLM agents.

The public API. Names are imported on first use, so loading the pytest plugin stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Agent",
    "AgentConfigError",
    "AgentEnv",
    "ChaosError",
    "Check",
    "CheckContext",
    "ChecksFailed",
    "Outcome",
    "RunResult",
    "Runner",
    "Scenario",
    "ScenarioError",
    "ServerHost",
    "Severity",
    "Turn",
    "TurnContext",
    "Verdict",
    "load_scenario",
    "parse_scenario",
]

_WHERE = {
    "Agent": "agents",
    "AgentEnv": "agents",
    "AgentConfigError": "errors",
    "ChaosError": "errors",
    "ChecksFailed": "errors",
    "ScenarioError": "errors",
    "Check": "checks.base",
    "CheckContext": "checks.base",
    "Outcome": "checks.base",
    "Severity": "checks.base",
    "Verdict": "checks.base",
    "RunResult": "runner",
    "Runner": "runner",
    "Scenario": "scenario",
    "load_scenario": "scenario",
    "parse_scenario": "scenario",
    "ServerHost": "servers",
    "Turn": "llm.turns",
    "TurnContext": "llm.turns",
}

if TYPE_CHECKING:
    from .agents import Agent, AgentEnv
    from .checks.base import Check, CheckContext, Outcome, Severity, Verdict
    from .errors import AgentConfigError, ChaosError, ChecksFailed, ScenarioError
    from .llm.turns import Turn, TurnContext
    from .runner import Runner, RunResult
    from .scenario import Scenario, load_scenario, parse_scenario
    from .servers import ServerHost


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
