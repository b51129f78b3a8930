"""pydantic-ai on Chat Completions, the world's tools from their JSON Schemas."""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent, Tool
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.usage import UsageLimits

from ._world import MAX_STEPS, WorldTool, user_text, world_tools


def _tool(tool: WorldTool) -> Tool[Any]:
    def call(**arguments: Any) -> str:
        return tool.call(arguments)

    return Tool.from_schema(call, name=tool.name, description=tool.description,
                            json_schema=tool.parameters)


def run(task: str | list[str], env: Any) -> str:
    model = OpenAIChatModel(env.model, provider=OpenAIProvider(base_url=env.llm_base_url,
                                                               api_key=env.api_key))
    agent = Agent(model, system_prompt="You are a helpful operations assistant.",
                  tools=[_tool(t) for t in world_tools(env.tool_urls)])
    result = agent.run_sync(user_text(task),
                            usage_limits=UsageLimits(request_limit=MAX_STEPS))
    return str(result.output)
