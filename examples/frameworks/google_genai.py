"""google-genai's generate_content with function declarations (Gemini)."""

from __future__ import annotations

from typing import Any

from google import genai
from google.genai import types

from ._world import MAX_STEPS, user_text, world_tools


def run(task: str | list[str], env: Any) -> str:
    return _run(task, env, stream=False)


def run_streamed(task: str | list[str], env: Any) -> str:
    """The same agent on ``generate_content_stream``."""
    return _run(task, env, stream=True)


def _reply(client: genai.Client, model: str, contents: list[Any],
           config: types.GenerateContentConfig, stream: bool) -> tuple[str, list[Any], Any]:
    """(text, function calls, the model's content) of one turn."""
    if not stream:
        reply = client.models.generate_content(model=model, contents=contents, config=config)
        content = reply.candidates[0].content if reply.candidates else None
        return reply.text or "", list(reply.function_calls or []), content
    text, calls, parts = "", [], []
    for chunk in client.models.generate_content_stream(model=model, contents=contents,
                                                       config=config):
        text += chunk.text or ""
        calls += list(chunk.function_calls or [])
        if chunk.candidates and chunk.candidates[0].content:
            parts += chunk.candidates[0].content.parts or []
    return text, calls, types.Content(role="model", parts=parts)


def _run(task: str | list[str], env: Any, stream: bool) -> str:
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
        text, calls, said = _reply(client, env.model, contents, config, stream)
        if not calls:
            return text
        contents.append(said or types.Content(role="model", parts=[]))
        contents.append(types.Content(role="user", parts=[
            types.Part.from_function_response(
                name=c.name or "", response={"result": tools[c.name].call(dict(c.args or {}))
                                             if c.name in tools else f"unknown tool {c.name}"})
            for c in calls]))
    return "I stopped after too many steps."
