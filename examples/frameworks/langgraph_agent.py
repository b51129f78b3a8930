"""langgraph's prebuilt ReAct agent on langchain-openai (Chat Completions, streaming)."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent

from ._world import MAX_STEPS, WorldTool, user_text, world_tools


def _tool(tool: WorldTool) -> StructuredTool:
    def call(**arguments: Any) -> str:
        return tool.call(arguments)

    return StructuredTool.from_function(func=call, name=tool.name,
                                        description=tool.description or tool.name,
                                        args_schema=tool.parameters)


def run(task: str | list[str], env: Any) -> str:
    model = ChatOpenAI(model=env.model, base_url=env.llm_base_url, api_key=env.api_key,
                       streaming=True)
    agent = create_react_agent(model, [_tool(t) for t in world_tools(env.tool_urls)],
                               prompt="You are a helpful operations assistant.")
    state = agent.invoke({"messages": [("user", user_text(task))]},
                         {"recursion_limit": 2 * MAX_STEPS + 1})
    return str(state["messages"][-1].content)
