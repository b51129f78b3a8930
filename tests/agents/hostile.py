"""An agent that sends the tool API what a hostile or broken client sends (a 900-deep argument,
NaN, a lone surrogate, invalid UTF-8) and answers with a lone surrogate, for the tests that
the session's output survives it."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

BODIES = [
    b'{"sku": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"sku": "COAT-01", "quantity": NaN}',
    b'{"sku": "\\ud800", "quantity": 1}',
    b'{"sku": "\xff\xfe", "quantity": 1}',
    b'{"sku": "COAT-01", "quantity": 1' + b"0" * 5000 + b"}",
]


def _post(url: str, body: bytes) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.request("POST", parts.path, body=body,
                     headers={"Content-Type": "application/json; charset=bogus-42"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def run(task: Any, env: Any) -> str:
    url = f"{env.tool_urls['inventory']}/tools/create_order"
    statuses = [_post(url, body) for body in BODIES]
    return json.dumps(statuses) + " \ud800 done"
