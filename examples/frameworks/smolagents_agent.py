"""smolagents' ToolCallingAgent on Chat Completions: it asks for a tool call every step
(``tool_choice: required``) and finishes through its ``final_answer`` tool."""

from __future__ import annotations

from typing import Any

from smolagents import OpenAIServerModel, Tool, ToolCallingAgent

from ._world import MAX_STEPS, WorldTool, user_text, world_tools

_TYPES = {"string", "integer", "number", "boolean", "array", "object"}


def _tool(world: WorldTool) -> Tool:
    props = world.parameters.get("properties") or {}
    required = set(world.parameters.get("required") or [])
    inputs = {}
    for name, spec in props.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        entry: dict[str, Any] = {"type": kind if kind in _TYPES else "any",
                                 "description": str(spec.get("description") or name)}
        if name not in required:
            entry["nullable"] = True
        inputs[name] = entry

    class WorldOperation(Tool):  # smolagents builds a tool from class attributes
        skip_forward_signature_validation = True

        def forward(self, **arguments: Any) -> str:
            return world.call({k: v for k, v in arguments.items() if v is not None})

    WorldOperation.name = world.name
    WorldOperation.description = world.description or world.name
    WorldOperation.inputs = inputs
    WorldOperation.output_type = "string"
    return WorldOperation()


def run(task: str | list[str], env: Any) -> str:
    model = OpenAIServerModel(model_id=env.model, api_base=env.llm_base_url,
                              api_key=env.api_key)
    agent = ToolCallingAgent(tools=[_tool(t) for t in world_tools(env.tool_urls)], model=model,
                             max_steps=MAX_STEPS, verbosity_level=0)
    return str(agent.run(user_text(task)))
