"""openai-agents with its default model: the Responses API."""

from __future__ import annotations

import json
from typing import Any

from agents import Agent, FunctionTool, RunContextWrapper, Runner, set_tracing_disabled
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

from ._world import MAX_STEPS, WorldTool, user_text, world_tools


def _tool(tool: WorldTool) -> FunctionTool:
    async def invoke(ctx: RunContextWrapper[Any], arguments: str) -> str:
        return tool.call(json.loads(arguments or "{}"))

    return FunctionTool(name=tool.name, description=tool.description,
                        params_json_schema=tool.parameters, on_invoke_tool=invoke,
                        strict_json_schema=False)


def _agent(env: Any) -> Agent[Any]:
    set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=env.llm_base_url, api_key=env.api_key)
    return Agent(name="operations", instructions="You are a helpful operations assistant.",
                 model=OpenAIResponsesModel(env.model, client),
                 tools=[_tool(t) for t in world_tools(env.tool_urls)])


async def run(task: str | list[str], env: Any) -> str:
    result = await Runner.run(_agent(env), user_text(task), max_turns=MAX_STEPS)
    return str(result.final_output)


async def run_streamed(task: str | list[str], env: Any) -> str:
    """The same agent, streamed (``Runner.run_streamed``), as chat front ends run it."""
    result = Runner.run_streamed(_agent(env), user_text(task), max_turns=MAX_STEPS)
    async for _ in result.stream_events():
        pass
    return str(result.final_output)
