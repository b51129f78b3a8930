"""openai-agents with no tool code of its own: its only tools are the world's MCP server
(``env.mcp_url``, through ``MCPServerStreamableHttp``), its model the Responses API. The
framework's defaults as they come: no retries, no approval gate, a 5 s MCP session timeout."""

from __future__ import annotations

from typing import Any

from agents import Agent, Runner, set_tracing_disabled
from agents.mcp import MCPServerStreamableHttp
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

from ._world import MAX_STEPS, user_text


async def run(task: str | list[str], env: Any) -> str:
    set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=env.llm_base_url, api_key=env.api_key)
    async with MCPServerStreamableHttp({"url": env.mcp_url}, name="world") as world:
        agent: Agent[Any] = Agent(name="operations",
                                  instructions="You are a helpful operations assistant.",
                                  model=OpenAIResponsesModel(env.model, client),
                                  mcp_servers=[world])
        result = await Runner.run(agent, user_text(task), max_turns=MAX_STEPS)
    return str(result.final_output)
