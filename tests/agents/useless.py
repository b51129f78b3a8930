"""Three agents that do not do the job, for the scoring bounds: an agent that does nothing must
never look resilient.

- ``refuse``: answers at once, calls nothing.
- ``exit_at_start``: exits with status 3 before doing anything.
- ``ask_once``: asks the model once (offering the tools) and returns what it said, executing no
  tool call. It uses plain HTTP, so it starts fast.
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any
from urllib.parse import urlsplit


def refuse(task: Any, env: Any) -> str:
    return "Sorry, I cannot help with that."


def exit_at_start(task: Any, env: Any) -> str:
    os._exit(3)


def _post(url: str, body: Any, timeout: float) -> Any:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json",
                              "Authorization": "Bearer sk-agent-chaos"})
        response = conn.getresponse()
        data = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data}")
        return data
    finally:
        conn.close()


def _get(url: str, timeout: float) -> Any:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def ask_once(task: Any, env: Any) -> str:
    tools = [{"type": "function", "function": t["function"]}
             for url in env.tool_urls.values() for t in _get(f"{url}/tools", 5)["tools"]]
    turns = [task] if isinstance(task, str) else task
    reply = _post(f"{env.llm_base_url}/chat/completions", {
        "model": env.model, "messages": [{"role": "user", "content": t} for t in turns],
        **({"tools": tools} if tools else {})}, timeout=5)
    message = reply["choices"][0]["message"]
    calls = [c["function"]["name"] for c in message.get("tool_calls") or []]
    return message.get("content") or f"The model wants to call {', '.join(calls)}."


def asks_approval(task: Any, env: Any) -> str:
    """Asks the human in the loop once; answers with the URL it used."""
    _post(env.approval_url, {"tool": "cancel_order", "arguments": {}, "reason": "test"}, 5)
    return str(env.approval_url)


def calls_unserved(task: Any, env: Any) -> str:
    """Asks the model's service for speech, which the mock does not serve, and says so."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(env.llm_base_url + "/audio/speech", data=b'{"input": "hi"}',
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as err:
        return f"speech failed with HTTP {err.code}"
    return "spoke"
