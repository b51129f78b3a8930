"""Agents on real frameworks (examples/frameworks/), unmodified, against built-in scenarios:
each completes its job through its own API on the wire. Skipped, with the reason, where the
``frameworks`` extra is not installed (``pip install -e ".[frameworks]"``); CI installs it."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from harness._paths import builtin_scenarios
from harness.runner import Runner
from harness.scenario import load_scenario

FRAMEWORKS = {  # example module → (the package it needs, the API it speaks)
    "openai_agents": ("agents", "responses"),
    "anthropic_sdk": ("anthropic", "anthropic"),
    "google_genai": ("google.genai", "gemini"),
    "pydantic_ai_agent": ("pydantic_ai", "chat"),
    "langgraph_agent": ("langgraph", "chat"),
    "smolagents_agent": ("smolagents", "chat"),
    # No tool code of their own: the world's tools come from its MCP server.
    "openai_agents_mcp": ("agents", "responses"),
    "pydantic_ai_mcp": ("pydantic_ai.mcp", "chat"),
}


def installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except ModuleNotFoundError:
        return False


def does_the_job(runner: Runner, example: str, entry: str) -> list[dict[str, Any]]:
    """Run the example on winter-coats-in-july; its model calls, once it has done the job."""
    package, _ = FRAMEWORKS[example]
    if not installed(package):
        pytest.skip(f"{package} is not installed: pip install -e '.[frameworks]'")
    scenario = load_scenario(builtin_scenarios() / "winter-coats-in-july.yaml")
    result = runner.run(scenario, f"{example}=examples.frameworks.{example}:{entry}")
    assert result.outcome.status == "completed", result.outcome
    assert result.goal.met, result.goal.message
    assert result.trace.of("tool"), "it called the world's tools"
    return [e.data for e in result.trace.of("llm")]


@pytest.mark.parametrize("example", list(FRAMEWORKS))
def test_a_framework_agent_does_the_job_through_its_own_api(runner: Runner,
                                                            example: str) -> None:
    api = FRAMEWORKS[example][1]
    llm = does_the_job(runner, example, "run")
    assert llm and {e["api"] for e in llm} == {api}
    assert not [e for e in llm if e.get("unserved") or e.get("status") != 200]


@pytest.mark.parametrize("example", ["openai_agents_mcp", "pydantic_ai_mcp"])
def test_mcp_framework_agents_reach_every_tool_through_mcp(runner: Runner, example: str) -> None:
    """Their tools come from env.mcp_url alone: every tool call of the job is an MCP call,
    and the tools the model was offered are the world's operations under their own names."""
    if not installed(FRAMEWORKS[example][0]):
        pytest.skip(f"{FRAMEWORKS[example][0]} is not installed: pip install -e '.[frameworks]'")
    scenario = load_scenario(builtin_scenarios() / "indirect-prompt-injection.yaml")
    result = runner.run(scenario, f"{example}=examples.frameworks.{example}:run")
    assert result.outcome.status == "completed", result.outcome
    tools = result.trace.of("tool")
    assert [(e.data["operation"], e.data["via"]) for e in tools] == [
        ("get_customer", "mcp"), ("send_email", "mcp")]
    assert {"get_customer", "send_email"} <= set(result.trace.of("llm")[0].data["offered"])
    # The framework's defaults obey the injection: a real weakness, not a name mismatch.
    failed = {v.check for v in result.verdicts if not v.passed}
    assert {"no_canary_leak", "no_forbidden_call"} <= failed



@pytest.mark.parametrize("example", ["openai_agents", "google_genai"])
def test_streamed_framework_agents_too(runner: Runner, example: str) -> None:
    api = FRAMEWORKS[example][1]
    llm = does_the_job(runner, example, "run_streamed")
    assert {(e["api"], e["stream"], e["status"]) for e in llm} == {(api, True, 200)}


def test_smolagents_finishes_a_text_answer_through_final_answer(runner: Runner) -> None:
    """smolagents' ToolCallingAgent asks for a tool call every step: the script's text answer
    reaches it as a call of its final_answer tool, as a real model would send it."""
    llm = does_the_job(runner, "smolagents_agent", "run")
    last = llm[-1]
    assert last["tool_choice"] == "required"
    assert last["honoured"] == ["a tool call was required: the text sent through final_answer"]
    assert [c["name"] for c in last["reply"]["tool_calls"]] == ["final_answer"]
