"""google-genai's generate_content with function declarations (Gemini)."""

from __future__ import annotations

from typing import Any

from google import genai
from google.genai import types

from ._world import MAX_STEPS, user_text, world_tools


def run(task: str | list[str], env: Any) -> str:
    client = genai.Client(api_key=env.api_key,
                          http_options=types.HttpOptions(base_url=env.gemini_base_url))
    tools = {t.name: t for t in world_tools(env.tool_urls)}
    config = types.GenerateContentConfig(
        system_instruction="You are a helpful operations assistant.",
        tools=[types.Tool(function_declarations=[
            types.FunctionDeclaration(name=t.name, description=t.description,
                                      parameters_json_schema=t.parameters)
            for t in tools.values()])])
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=user_text(task))])]
    for _ in range(MAX_STEPS):
        reply = client.models.generate_content(model=env.model, contents=contents,
                                               config=config)
        calls = reply.function_calls or []
        if not calls:
            return reply.text or ""
        contents.append(reply.candidates[0].content if reply.candidates else
                        types.Content(role="model", parts=[]))
        contents.append(types.Content(role="user", parts=[
            types.Part.from_function_response(
                name=c.name or "", response={"result": tools[c.name].call(dict(c.args or {}))
                                             if c.name in tools else f"unknown tool {c.name}"})
            for c in calls]))
    return "I stopped after too many steps."
