"""Agents against a model with a quota (``llm: {quota: ...}``): the task is how many requests
to make. ``paces`` reads the rate-limit headers and waits when none remain; ``hurries`` does
not. Each answers with what it saw: how many 429s, and the headers of the last answer."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def _ask(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        with err:
            err.read()
            return err.code, {k.lower(): v for k, v in err.headers.items()}


def _request(api: str, env: Any) -> tuple[str, dict[str, Any], dict[str, str]]:
    if api == "anthropic":
        return (f"{env.anthropic_base_url}/v1/messages",
                {"model": env.model, "max_tokens": 100,
                 "messages": [{"role": "user", "content": "hi"}]}, {"x-api-key": env.api_key})
    return (f"{env.llm_base_url}/chat/completions",
            {"model": env.model, "messages": [{"role": "user", "content": "hi"}]}, {})


def _run(task: Any, env: Any, pace: bool) -> str:
    spec = json.loads(task)
    url, body, headers = _request(spec.get("api", "chat"), env)
    limited = 0
    seen: dict[str, str] = {}
    for _ in range(spec["requests"]):
        status, seen = _ask(url, body, headers)
        if status == 429:
            limited += 1
            if pace:
                time.sleep(float(seen.get("retry-after", "1")))
            continue
        remaining = seen.get("x-ratelimit-remaining-requests",
                             seen.get("anthropic-ratelimit-requests-remaining"))
        limit = seen.get("x-ratelimit-limit-requests",
                         seen.get("anthropic-ratelimit-requests-limit"))
        if pace and remaining == "0" and limit:
            time.sleep(60 / int(limit))  # the time one request takes to come back
    return json.dumps({"limited": limited, "headers": seen})


def paces(task: Any, env: Any) -> str:
    return _run(task, env, pace=True)


def hurries(task: Any, env: Any) -> str:
    return _run(task, env, pace=False)
