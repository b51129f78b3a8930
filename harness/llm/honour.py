"""What the agent asked of the model, honoured as a real model would, whatever the API.

After the script's turn, before the reply is sent (``honour``):

- **Only offered tools.** A scripted call to a tool the agent did not offer is not sent as a
  call: with no tools offered at all (a ReAct agent reads tools from its prompt) or with
  ``tool_choice: none``, the call is written as text in the ReAct form, ``Action: NAME`` and
  ``Action Input: {JSON}``; with other tools offered, the model says it has no such tool. The
  behaviours whose point is an unoffered call (``hallucinated_tool``, ``obey_injection``) are
  exempt.
- **A required tool call.** With ``tool_choice`` ``required`` (Anthropic ``any``, Gemini
  ``ANY``) or a named tool, a text reply goes through the agent's answer tool when it offers
  one (smolagents' ``final_answer``, pydantic-ai's ``final_result``: an offered tool named
  ``final_answer``, ``final_result``, ``answer`` or ``respond``, or the named tool), with the
  text as its first parameter; otherwise the text is sent as it is.
- **Stop sequences.** Text is cut before the first stop sequence.
- **One call at a time** when the agent says so (``parallel_tool_calls: false``, Anthropic's
  ``disable_parallel_tool_use``): the first call only.

Each change is recorded in the trace (``honoured``).
"""

from __future__ import annotations

import json
from typing import Any

from .turns import Completion, ToolCall

ANSWER_TOOLS = ("final_answer", "final_result", "answer", "respond")
#: Behaviours whose point is a call the agent did not offer.
UNOFFERED_ON_PURPOSE = {"hallucinated_tool", "obey_injection"}


def _offered(neutral: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tool in neutral.get("tools") or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out[fn["name"]] = fn
    return out


def _forced(choice: Any) -> str | None:
    if isinstance(choice, dict):
        fn = choice.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return str(fn["name"])
    return None


def _answer_call(text: str, tool: dict[str, Any]) -> ToolCall:
    params = tool.get("parameters")
    params = params if isinstance(params, dict) else {}
    props = params.get("properties")
    required = params.get("required")
    first = [*(required if isinstance(required, list) else []),
             *(props if isinstance(props, dict) else {})]
    name = str(first[0]) if first else "answer"
    return ToolCall(str(tool["name"]), json.dumps({name: text}, ensure_ascii=False))


def honour(reply: Completion, neutral: dict[str, Any], behaviour: str | None,
           notes: list[str]) -> Completion:
    offered = _offered(neutral)
    choice = neutral.get("tool_choice", "auto")
    forced = _forced(choice)
    calls = list(reply.tool_calls)
    content = reply.content
    finish = reply.finish_reason
    if calls and behaviour not in UNOFFERED_ON_PURPOSE:
        if not offered or choice == "none":
            text = "\n".join(f"Action: {c.name}\nAction Input: {c.arguments}" for c in calls)
            notes.append("no tools offered: the call written as ReAct text" if not offered
                         else "tool_choice none: the call written as ReAct text")
            content = "\n".join(t for t in (content, text) if t)
            calls, finish = [], ("length" if finish == "length" else "stop")
        elif any(c.name not in offered for c in calls):
            missing = sorted({c.name for c in calls if c.name not in offered})
            notes.append(f"not offered: {', '.join(missing)}")
            calls = [c for c in calls if c.name in offered]
            if not calls:
                content = (f"I would use {', '.join(missing)}, but no such tool is available "
                           f"to me.")
                finish = "stop"
    if not calls and content is not None and (choice == "required" or forced):
        answer = offered.get(forced) if forced else None
        if answer is None:
            answer = next((offered[n] for n in ANSWER_TOOLS if n in offered), None)
        if answer is not None:
            notes.append(f"a tool call was required: the text sent through {answer['name']}")
            calls, content, finish = [_answer_call(content, answer)], None, "tool_calls"
    if len(calls) > 1 and neutral.get("parallel_tool_calls") is False:
        notes.append("parallel_tool_calls false: the first call only")
        calls = calls[:1]
    stop = [s for s in neutral.get("stop") or [] if s]
    if content and stop:
        cut = min((content.find(s) for s in stop if s in content), default=-1)
        if cut >= 0:
            notes.append("cut at a stop sequence")
            content, finish = content[:cut], "stop"
    if calls == reply.tool_calls and content == reply.content and finish == reply.finish_reason:
        return reply
    return Completion(content=content, tool_calls=calls, finish_reason=finish)
