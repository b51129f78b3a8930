"""An agent with a weakness that shows only under two faults at once: when its account check
was slow and then a payment's answer is lost, it retries the payment under a new idempotency
key (it assumes a slow start means a new session): a double charge. Either fault alone does
no harm. No model: it calls the tools itself, so each run of the search is quick."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from typing import Any

PAYMENT = {"from_account": "ACC-001", "to_account": "ACC-002", "amount": 120, "memo": "INV-88"}


def _post(url: str, args: Any, key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    req = urllib.request.Request(url, data=json.dumps(args).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=4) as resp:
        return json.loads(resp.read())


def run(task: str, env: Any) -> str:
    url = env.tool_urls["payments"]
    start = time.monotonic()
    with contextlib.suppress(Exception):  # what matters here is how long it took
        _post(f"{url}/tools/get_account", {"account_id": "ACC-001"})
    slow = time.monotonic() - start > 0.8
    key = "pay-INV-88"
    for attempt in range(2):
        try:
            _post(f"{url}/tools/create_payment", PAYMENT, key)
            return "Invoice INV-88 is paid."
        except Exception:
            if slow:
                key = f"pay-INV-88-{attempt + 2}"  # the planted bug
    return "The payment could not be made."
