"""An agent that reports what it sees on the wire: the task is a JSON list of requests, the
answer a JSON list of observations (status, headers, body, seconds, error). For fault tests."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit


def _exchange(url: str, body: Any, timeout: float, headers: dict[str, str]) -> dict[str, Any]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    start = time.monotonic()
    seen: dict[str, Any] = {}
    try:
        conn.request("POST", parts.path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        seen.update(status=response.status, headers=dict(response.getheaders()))
        seen["body"] = response.read().decode(errors="replace")
    except Exception as exc:  # the observation is the point
        seen["error"] = type(exc).__name__
    finally:
        conn.close()
    seen["seconds"] = round(time.monotonic() - start, 3)
    return seen


def _upstream(address: str, payload: str, timeout: float, until_close: bool) -> dict[str, Any]:
    host, port = address.rsplit(":", 1)
    start = time.monotonic()
    seen: dict[str, Any] = {}
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(payload.encode())
            seen["echo"] = sock.recv(65536).decode()
            if until_close:  # hang up, and time how long the far end takes to close
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):
                    pass
    except Exception as exc:
        seen["error"] = type(exc).__name__
    seen["seconds"] = round(time.monotonic() - start, 3)
    return seen


def run(task: str, env: Any) -> str:
    out = []
    for step in json.loads(task):
        timeout = step.get("timeout", 5.0)
        if "sleep" in step:
            time.sleep(step["sleep"])
            continue
        if "upstream" in step:
            out.append(_upstream(env.upstreams[step["upstream"]], step.get("send", "ping"),
                                 timeout, step.get("until_close", False)))
            continue
        if step.get("llm"):  # True (Chat Completions) or an API's name (tests/llm_wire.py)
            from tests.llm_wire import request

            api = step["llm"] if isinstance(step["llm"], str) else "chat"
            url, body = request(api, env.llm_base_url, "hi", step.get("stream", False))
        else:
            url = f"{env.tool_urls[step['tool']]}/tools/{step['op']}"
            body = step.get("args", {})
        out.append(_exchange(url, body, timeout, step.get("headers", {})))
    return json.dumps(out)
