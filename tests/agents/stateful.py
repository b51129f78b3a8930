"""Agents with module-level state, to tell whether runs share anything (warm starts fork
every run from one fork server)."""

from __future__ import annotations

import json
import os
import random
from typing import Any

#: Read at import, as ``client = OpenAI()`` at module level reads its base URL.
BASE_URL_AT_IMPORT = os.environ.get("OPENAI_BASE_URL")
CALLS: list[str] = []


def run(task: str, env: Any) -> str:
    CALLS.append(task)
    return json.dumps({"calls": len(CALLS), "pid": os.getpid(),
                       "imported_with_run_url": env.llm_base_url == BASE_URL_AT_IMPORT,
                       "random": random.random()})

