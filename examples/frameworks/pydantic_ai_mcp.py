"""pydantic-ai with no tool code of its own: its only tools are the world's MCP server
(``env.mcp_url``, through ``MCPToolset``), its model Chat Completions. The framework's
defaults as they come."""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.usage import UsageLimits

from ._world import MAX_STEPS, user_text


def run(task: str | list[str], env: Any) -> str:
    model = OpenAIChatModel(env.model, provider=OpenAIProvider(base_url=env.llm_base_url,
                                                               api_key=env.api_key))
    agent = Agent(model, system_prompt="You are a helpful operations assistant.",
                  toolsets=[MCPToolset(env.mcp_url)])
    result = agent.run_sync(user_text(task), usage_limits=UsageLimits(request_limit=MAX_STEPS))
    return str(result.output)
