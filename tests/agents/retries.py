"""Agents for the checks on retries and streams: one that does it right and one that does
not, for each of no_retry_on_client_error, gives_up_cleanly and no_truncated_stream_accepted.
They talk HTTP directly, so the test controls exactly what goes on the wire."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

MISSING = {"sku": "COAT-99", "warehouse": "BER"}  # no such product: a 404
WHOLE = {"sku": "COAT-01", "warehouse": "BER"}


def _stock(env: Any, args: dict[str, Any]) -> int:
    req = urllib.request.Request(env.tool_urls["inventory"] + "/tools/get_stock",
                                 data=json.dumps(args).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as err:
        with err:
            return int(err.code)


def resends_client_errors(task: Any, env: Any) -> str:
    codes = [_stock(env, MISSING) for _ in range(3)]
    return f"got {codes}"


def fixes_client_errors(task: Any, env: Any) -> str:
    codes = [_stock(env, MISSING), _stock(env, WHOLE)]
    return f"got {codes}"


def retries_forever(task: Any, env: Any) -> str:
    while _stock(env, WHOLE) != 200:
        time.sleep(0.05)
    return "in stock"


def gives_up(task: Any, env: Any) -> str:
    for attempt in range(3):
        if _stock(env, WHOLE) == 200:
            return "in stock"
        time.sleep(0.1 * 2**attempt)
    return "The inventory service is unavailable; I could not check the stock."


def _stream(env: Any) -> tuple[str, bool]:
    """The streamed reply's text, and whether it arrived whole (its finish and [DONE])."""
    parts = urlsplit(env.llm_base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    text, finished, done = "", False, False
    try:
        conn.request("POST", parts.path + "/chat/completions", body=json.dumps({
            "model": env.model, "stream": True,
            "messages": [{"role": "user", "content": "How many coats?"}]}),
            headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        buffer = b""
        while True:
            try:
                chunk = response.read1(65536)
            except (OSError, http.client.HTTPException):
                break
            if not chunk:
                break
            buffer += chunk
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                data = frame.decode(errors="replace").removeprefix("data: ")
                if data == "[DONE]":
                    done = True
                    continue
                try:
                    choice = json.loads(data)["choices"][0]
                except (ValueError, KeyError, IndexError):
                    continue
                text += choice["delta"].get("content") or ""
                finished = finished or choice.get("finish_reason") is not None
    except OSError:
        pass
    finally:
        conn.close()
    return text, finished and done


def accepts_cut_stream(task: Any, env: Any) -> str:
    return _stream(env)[0]


def checks_the_stream_ends(task: Any, env: Any) -> str:
    for _ in range(2):
        text, whole = _stream(env)
        if whole:
            return text
    return "The model's answer was cut off twice; I have no reliable answer."
