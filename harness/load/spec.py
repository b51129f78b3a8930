"""The ``load:`` and ``capacity:`` sections of a scenario, and the tasks a load run sends.

Under load the scenario's ``task`` is a template, filled per request from one of the world's
seeded records (``load.records: crm.customers``): ``"Summarise the account of customer
{customer_id}"``. Every task sent carries a **ticket** (``T-00042``), placed where the template
writes ``{ticket}`` or put in front (``Ticket T-00042: …``): the mock model tells conversations
apart by it, even when two users ask the same thing.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._seed import derive

#: The most tasks one load run renders (and so sends).
MAX_TASKS = 200_000
TICKET = re.compile(r"\bT-(\d{5,})\b")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def ticket_name(n: int) -> str:
    return f"T-{n:05d}"


class RampDoc(BaseModel):
    """A step ramp, run by a Locust ``LoadTestShape``: ``from`` users, then ``step`` more every
    ``every`` seconds up to ``to``; the last step lasts ``every`` seconds too."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: int = Field(alias="from", ge=1, le=10_000)
    to: int = Field(ge=1, le=10_000)
    step: int = Field(ge=1, le=10_000)
    every: float = Field(gt=0, le=3600, description="seconds per step")

    @model_validator(mode="after")
    def _rising(self) -> RampDoc:
        if self.to < self.start:
            raise ValueError(f"'to' ({self.to}) is below 'from' ({self.start})")
        return self

    def steps(self) -> list[int]:
        """The users of each step."""
        out = list(range(self.start, self.to + 1, self.step))
        if out[-1] != self.to:
            out.append(self.to)
        return out


class PricesDoc(BaseModel):
    """USD per million tokens, to report the cost per resolved task."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0, le=10_000)
    output: float = Field(ge=0, le=10_000)


class LoadDoc(BaseModel):
    """Concurrent users sending the agent service tasks, from real Locust."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    users: int = Field(10, ge=1, le=10_000, description="concurrent users (without a ramp)")
    spawn_rate: float | None = Field(None, gt=0, le=10_000,
                                     description="users started per second (default: all at "
                                                 "once)")
    duration: float | None = Field(None, gt=0, le=3600, description="seconds of load")
    ramp: RampDoc | None = Field(None, description="a step ramp instead of users/duration")
    wait: tuple[float, float] | float = Field(
        0.5, description="seconds a user waits between tasks: a number or [min, max]")
    records: str | None = Field(
        None, pattern=r"^[^.]+\.[^.]+$",
        description="TOOL.RESOURCE whose seeded records fill the task's {placeholders}")
    processes: int = Field(1, ge=1, le=64, description="Locust processes (its --processes)")
    locustfile: str | None = Field(
        None, description="your own locustfile (relative to the scenario); the harness passes "
                          "the agent's URL as --host")
    path: str = Field("/run", pattern=r"^/", description="where tasks are POSTed")
    body: Any = Field({"task": "{task}"}, description="the JSON body sent; the string "
                                                      "\"{task}\" is replaced by the task")
    answer: str = Field("output", description="the key of the answer in the JSON reply "
                                              "(empty: the whole reply body)")
    stream: bool = Field(False, description="the agent streams its answers: measure the time "
                                            "to the first byte and per token")
    goal_share: float = Field(0.9, ge=0, le=1, description="the share of user requests that "
                                                           "must meet the goal")
    prices: PricesDoc | None = None

    @model_validator(mode="after")
    def _shape(self) -> LoadDoc:
        if self.ramp is None and self.duration is None:
            raise ValueError("give 'duration' (seconds of load) or a 'ramp'")
        if self.ramp is not None and self.duration is not None:
            raise ValueError("a ramp sets its own duration: give 'ramp' or 'duration', not both")
        if isinstance(self.wait, tuple) and not 0 <= self.wait[0] <= self.wait[1]:
            raise ValueError(f"'wait' is [min, max] with 0 <= min <= max, got {list(self.wait)}")
        if isinstance(self.wait, float | int) and self.wait < 0:
            raise ValueError("'wait' cannot be negative")
        return self

    @property
    def seconds(self) -> float:
        """How long the load lasts."""
        if self.ramp is not None:
            return len(self.ramp.steps()) * self.ramp.every
        return float(self.duration or 0)

    @property
    def peak_users(self) -> int:
        return self.ramp.to if self.ramp is not None else self.users

    def task_count(self) -> int:
        """Tasks to render: more than the users can ask for in the time (a user without a
        wait is taken to send at most 100 tasks a second)."""
        least = self.wait[0] if isinstance(self.wait, tuple) else self.wait
        per_user = min(100.0, 1 / max(least, 0.01))
        return min(MAX_TASKS, max(100, math.ceil(self.peak_users * (self.seconds + 5)
                                                 * per_user)))


class CapacityDoc(BaseModel):
    """What a tool API can take, like a downstream not built for the load. Beyond it, requests
    are refused at once: 429 with Retry-After, or 503."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rps: int | None = Field(None, ge=1, le=1_000_000,
                            description="requests accepted per second (a sliding second)")
    concurrency: int | None = Field(None, ge=1, le=100_000,
                                    description="requests handled at once")
    status: Literal[429, 503] = 429
    retry_after: int = Field(1, ge=0, le=3600, description="seconds, on a 429")

    @model_validator(mode="after")
    def _some(self) -> CapacityDoc:
        if self.rps is None and self.concurrency is None:
            raise ValueError("give 'rps', 'concurrency' or both")
        return self


@dataclass(frozen=True)
class LoadTask:
    """One task the load sends: its ticket, text, and the record it was filled from."""

    ticket: str
    text: str
    values: dict[str, str]
    owner: str | None  # the record's key value (e.g. the customer), if filled from a record


def render_tasks(template: str, records: list[dict[str, Any]], key: str | None, seed: int,
                 count: int) -> list[LoadTask]:
    """``count`` tasks, each from a record chosen by the seed (the same on every machine)."""
    rng = random.Random(derive(seed, "load-tasks"))
    out = []
    for n in range(1, count + 1):
        record = rng.choice(records) if records else {}
        ticket = ticket_name(n)
        values = {k: str(v) for k, v in record.items()
                  if isinstance(v, str | int | float) and not isinstance(v, bool)}
        values["ticket"] = ticket
        text = fill(template, values)
        if "{ticket}" not in template:
            text = f"Ticket {ticket}: {text}"
        owner = str(record[key]) if key and key in record else None
        out.append(LoadTask(ticket, text, values, owner))
    return out


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` for every name in ``values``; other braces are left alone."""
    return PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)
