"""Faults: scheduled trouble on the agent's connections and in the answers of the harness's
own services.

A fault is a pydantic model subclassing ``NetworkFault`` (a Toxiproxy toxic switched on and off
on the target's proxy, on live connections) or ``HttpFault`` (the mock API or model answers
badly), with a ``key`` (its YAML name). Subclassing registers it. Every fault has a ``target``
and a ``when`` schedule; see ``Schedule``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._registry import Registry

if TYPE_CHECKING:
    from aiohttp import web

    from ..world.catalog import Catalog

FAULTS: Registry[type[Fault]] = Registry("fault")

#: What a fault does to the call it hits, as the agent sees it.
#: ``slow``: the answer arrives late; ``lost``: no (complete) answer arrives;
#: ``corrupt``: an answer arrives that cannot be used; ``error``: an HTTP error answer.
Effect = Literal["slow", "lost", "corrupt", "error"]


class Schedule(BaseModel):
    """When a fault is active. Every condition given must hold; with none, always.

    ``call``/``calls`` count the requests that reach the fault's target (1 = the first);
    a step is one request of the agent to the model (step 1 is its first, and what it does
    with that answer happens in step 1 too); ``after``/``for`` are seconds since the run
    started; ``probability`` is rolled per call with the run's seed."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    call: int | None = Field(None, ge=1, description="only the Kth call to the target")
    calls: tuple[int, int] | None = Field(None, description="calls K..M to the target, [K, M]")
    from_step: int | None = Field(None, ge=1, description="from the agent's step N on")
    until_step: int | None = Field(None, ge=1, description="up to and including step N")
    after: float | None = Field(None, ge=0, le=3600, description="seconds into the run")
    duration: float | None = Field(None, gt=0, le=3600, alias="for",
                                   description="for this many seconds (from 'after', or 0)")
    probability: float = Field(1.0, ge=0, le=1, description="chance per call (seeded)")

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        if self.call is not None and self.calls is not None:
            raise ValueError("give 'call' or 'calls', not both")
        if self.calls is not None and not 1 <= self.calls[0] <= self.calls[1]:
            raise ValueError(f"'calls' is [first, last] with 1 <= first <= last, "
                             f"got {list(self.calls)}")
        if self.from_step and self.until_step and self.from_step > self.until_step:
            raise ValueError("'from_step' is after 'until_step'")
        return self

    @property
    def per_call(self) -> bool:
        """Whether the schedule needs to see calls (the Kth call, or a roll per call)."""
        return self.call is not None or self.calls is not None or self.probability < 1

    def call_holds(self, n: int, roll: float) -> bool:
        if self.call is not None and n != self.call:
            return False
        if self.calls is not None and not self.calls[0] <= n <= self.calls[1]:
            return False
        return roll < self.probability

    def step_holds(self, step: int) -> bool:
        return (self.from_step is None or step >= self.from_step) and \
            (self.until_step is None or step <= self.until_step)

    def time_holds(self, elapsed: float) -> bool:
        start = self.after or 0.0
        if elapsed < start:
            return False
        return self.duration is None or elapsed < start + self.duration

    @property
    def moments(self) -> list[float]:
        """Seconds into the run at which the time condition changes."""
        start = self.after or 0.0
        out = [start] if start > 0 else []
        if self.duration is not None:
            out.append(start + self.duration)
        return out

    def describe(self) -> str:
        parts = []
        if self.call is not None:
            parts.append(f"on call {self.call}")
        if self.calls is not None:
            parts.append(f"on calls {self.calls[0]}..{self.calls[1]}")
        if self.from_step is not None and self.until_step is not None:
            parts.append(f"in steps {self.from_step}..{self.until_step}")
        elif self.from_step is not None:
            parts.append(f"from step {self.from_step}")
        elif self.until_step is not None:
            parts.append(f"until step {self.until_step}")
        if self.after is not None or self.duration is not None:
            window = f"{self.after or 0:g} s into the run"
            parts.append(f"from {window}" + (f" for {self.duration:g} s"
                                              if self.duration is not None else ""))
        if self.probability < 1:
            parts.append(f"with probability {self.probability:g}")
        return ", ".join(parts) or "always"


class Fault(BaseModel):
    """Parameters every fault accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: ClassVar[str]
    kind: ClassVar[Literal["network", "http"]]
    effect: ClassVar[Effect]

    target: str = Field(description="llm, a tool API (inventory), one of its operations "
                                    "(payments.create_payment), or a name from 'upstreams'")
    when: Schedule = Field(default_factory=Schedule)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:
            FAULTS.register(cls.key, cls)

    @property
    def api(self) -> str:
        """The service the fault sits in front of: ``llm``, a tool API or an upstream."""
        return self.target.split(".", 1)[0]

    @property
    def operation(self) -> str | None:
        return self.target.split(".", 1)[1] if "." in self.target else None

    def settings(self) -> dict[str, Any]:
        """The fault's own parameters (not target and schedule)."""
        return self.model_dump(mode="json", exclude={"target", "when"})

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.settings().items() if v is not None)
        return f"{self.key}({shown}) on {self.target}, {self.when.describe()}"

    def validate_against(self, tools: list[str], upstreams: list[str],
                         catalog: Catalog) -> list[tuple[str, str]]:
        """Problems as (field, message) given the scenario's tool APIs and upstreams."""
        valid = ["llm", *tools, *upstreams]
        if self.api not in valid:
            from .._registry import did_you_mean

            return [("target", f"unknown target {self.api!r}{did_you_mean(self.api, valid)}; "
                               f"valid targets: {', '.join(valid)} (a tool API may be "
                               f"narrowed to one operation: TOOL.OPERATION)")]
        if self.operation is not None:
            if self.api not in tools:
                return [("target", f"only a tool API can be narrowed to an operation; "
                                   f"{self.api!r} is not one")]
            ops = sorted(catalog.tools[self.api].operations)
            if self.operation not in ops:
                return [("target", f"{self.api} has no operation {self.operation!r}; "
                                   f"valid: {', '.join(ops)}")]
        return []


class NetworkFault(Fault):
    """A Toxiproxy toxic on the target's proxy, switched on and off on live connections.

    A schedule by call switches the toxic on when that call reaches the service (so it acts on
    that call's response: ``stream: downstream``) and off when the next call arrives."""

    kind = "network"
    #: Whether a schedule by call makes sense (switching it off must not hurt the next call).
    by_call: ClassVar[bool] = True
    stream: Literal["downstream", "upstream"] = Field(
        "downstream", description="downstream: answers to the agent; upstream: its requests")
    toxicity: float = Field(1.0, ge=0, le=1, description="chance a connection is affected")

    def attributes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"target", "when", "stream", "toxicity"})

    def validate_against(self, tools: list[str], upstreams: list[str],
                         catalog: Catalog) -> list[tuple[str, str]]:
        problems = super().validate_against(tools, upstreams, catalog)
        if problems or not self.when.per_call:
            return problems
        if self.api in upstreams:
            return [("when", f"the harness does not see calls to the upstream {self.api!r}, "
                             f"so it cannot count or roll them; schedule by step "
                             f"(from_step/until_step) or time (after/for), or use 'toxicity'")]
        if not self.by_call:
            return [("when", f"switching {self.key} off closes every connection it holds, "
                             f"the next call's too, so it cannot hit single calls; schedule it "
                             f"by step or time, or use the HTTP fault 'hang' for one call")]
        if self.stream == "upstream":
            return [("stream", "a schedule by call switches the toxic on when the call has "
                               "arrived, so it can only act on the answer; use stream: "
                               "downstream, or schedule by step or time")]
        return []


class HttpFault(Fault):
    """An answer from the harness's own services (tool APIs, the model) gone wrong."""

    kind = "http"
    #: Whether the call is carried out (a write committed, a model turn used) before the
    #: answer goes wrong.
    commits: ClassVar[bool] = True

    def validate_against(self, tools: list[str], upstreams: list[str],
                         catalog: Catalog) -> list[tuple[str, str]]:
        if self.api in upstreams:
            return [("target", f"{self.key} is an HTTP fault from the harness's own services; "
                               f"the upstream {self.api!r} is the user's, so it can only get "
                               f"network faults ({', '.join(network_fault_names())})")]
        return super().validate_against(tools, upstreams, catalog)

    def refusal(self, llm: bool) -> Answer | None:
        """For a fault that does not commit: the answer sent instead of doing the call (None:
        no answer at all). ``llm`` asks for the model API's error shape."""
        raise NotImplementedError

    async def respond(self, request: web.Request, answer: Answer,
                      closed: threading.Event) -> web.StreamResponse:
        """Send ``answer`` (the call's real answer, or the refusal) the way this fault spoils
        it; ``closed`` is set when the run ends."""
        return answer.response()


def network_fault_names() -> list[str]:
    return [k for k in FAULTS if (c := FAULTS.get(k)) is not None and c.kind == "network"]


@dataclass
class Answer:
    """An HTTP answer, before it is sent: the body as its pieces (one JSON document, or the
    events of a stream)."""

    status: int
    chunks: list[bytes]
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def retry_after(self) -> float | None:
        value = {k.lower(): v for k, v in self.headers.items()}.get("retry-after")
        return None if value is None else float(value)

    @property
    def streamed(self) -> bool:
        return self.content_type == "text/event-stream"

    def response(self, body: bytes | None = None, status: int | None = None) -> web.Response:
        from aiohttp import web

        return web.Response(status=status or self.status, headers=self.headers,
                            body=self.body if body is None else body,
                            content_type=self.content_type)
