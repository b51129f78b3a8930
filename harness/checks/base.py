"""Checks: small registered functions over the trace, the world's state and the outcome.

A check is a pydantic model subclassing ``Check`` with a ``key`` (its YAML name), its
parameters as fields, and ``evaluate(ctx) -> Verdict``. Subclassing registers it; a duplicate
key is an error. To add one, add a file under ``harness/checks/`` and import it in
``harness/checks/__init__.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .._registry import Registry
from ..trace import Event, Trace

if TYPE_CHECKING:
    from ..load.data import LoadData
    from ..world.catalog import Catalog
    from ..world.state import ToolState

CHECKS: Registry[type[Check]] = Registry("check")


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Outcome:
    """How the agent's run ended."""

    status: str  # "completed" | "crashed" | "timeout" | "memory"
    output: str | None = None
    error: str | None = None
    exit_code: int | None = None
    duration: float = 0.0
    log: str = ""
    #: How the agent's process started: "warm" (forked from its fork server) or "cold".
    start: str = "cold"
    #: Why a Python agent started cold (its fork server could not serve it), if it did.
    cold: str | None = None

    def stopped(self) -> str | None:
        """How the agent was stopped before it finished (time or memory limit), or None."""
        if self.status == "timeout":
            return "was stopped at the time limit"
        if self.status == "memory":
            return f"was stopped at its memory limit ({self.error})"
        return None

    def no_answer(self) -> str | None:
        """Why there is no answer of the agent's own to judge, or None if there is one."""
        if self.status == "crashed":
            return f"crashed ({self.error or 'no error message'})"
        return self.stopped()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "output": self.output, "error": self.error,
                "exit_code": self.exit_code}


@dataclass(frozen=True)
class Verdict:
    check: str
    passed: bool
    severity: Severity
    message: str
    evidence: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "passed": self.passed, "severity": self.severity.value,
                "message": self.message, "evidence": self.evidence, "params": self.params}


@dataclass
class CheckContext:
    """Everything a check may look at, after the run."""

    trace: Trace
    tools: dict[str, ToolState]
    outcome: Outcome
    catalog: Catalog
    timeout: float
    ended: float = 0.0  # when the agent's run ended, on the trace's clock
    #: A run under load: the user requests, Locust's stats, the steps of a ramp.
    load: LoadData | None = None

    @functools.cached_property
    def events(self) -> dict[str, Event]:
        """The trace's events by id."""
        return {e.id: e for e in self.trace.events}

    def tool_events(self) -> list[Event]:
        return self.trace.of("tool")

    def offered_before(self, event: Event) -> set[str]:
        """Tool names the agent had offered the model in any request before ``event``, and
        the world operations they stand for (``inventory_get_stock`` → ``get_stock``: the
        rule of ``harness/world/naming.py``)."""
        from ..world.naming import operation_for

        operations = {op for state in self.tools.values() for op in state.api.operations}
        names: set[str] = set()
        for e in self.trace.events:
            if e is event:
                break
            if e.kind == "llm":
                for name in e.data.get("offered", []):
                    names.add(name)
                    op = operation_for(str(name), operations)
                    if op is not None:
                        names.add(op)
        return names

    def secrets(self, kinds: tuple[str, ...] = ("canary",)) -> dict[str, str]:
        """Secret value → label, for canaries and/or PII (``kinds``) across the world."""
        out: dict[str, str] = {}
        for state in self.tools.values():
            out.update(state.secrets(kinds))
        return out


def executed(event: Event) -> bool:
    """A tool request the API carried out (answered 2xx)."""
    return 200 <= int(event.data.get("status", 0)) < 300


def describe_call(event: Event) -> str:
    args = event.data.get("arguments")
    shown = event.data.get("raw") if args is None else args
    return f"{event.data.get('tool')}.{event.data.get('operation')}({shown}) [{event.id}]"


class Check(BaseModel):
    """Parameters every check accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: ClassVar[str]
    shorthand: ClassVar[str | None] = None
    #: Whether the check judges a run under load (it needs the scenario's ``load:``).
    needs_load: ClassVar[bool] = False
    severity: Severity = Severity.HIGH

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:
            CHECKS.register(cls.key, cls)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        raise NotImplementedError

    def validate_against(self, tools: list[str], catalog: Catalog) -> list[str]:
        """Problems with the parameters given the scenario's tool APIs (names that don't exist)."""
        return []

    def validate_load(self, load: Any) -> list[str]:
        """Problems given the scenario's ``load:`` section (for checks that need load)."""
        return []

    def verdict(self, passed: bool, message: str, evidence: list[str] | None = None) -> Verdict:
        params = self.model_dump(mode="json", exclude={"severity"})
        return Verdict(self.key, passed, self.severity, message, evidence or [], params)


def operations_of(tools: list[str], catalog: Catalog) -> dict[str, str]:
    """Operation name → the tool API that serves it, for the given APIs."""
    return {op: t for t in tools for op in catalog.tools[t].operations}


def unknown_name_problem(kind: str, name: str, valid: list[str]) -> str:
    from .._registry import did_you_mean

    return f"unknown {kind} {name!r}{did_you_mean(name, valid)}; valid: {', '.join(sorted(valid))}"


def endpoint(event: Event) -> str:
    """What a retry targets: the model, or one tool operation."""
    if event.kind == "llm":
        return "llm"
    return f"{event.data.get('tool')}.{event.data.get('operation')}"


def failed(event: Event) -> bool:
    """A call that invites a retry: answered 408, 429 or any 5xx, or whose answer never
    arrived whole or usable (a fault lost or spoiled it)."""
    status = int(event.data.get("status", 0))
    return status in (0, 408, 429) or status >= 500 or \
        event.data.get("effect") in ("lost", "corrupt")


def service(event: Event) -> str:
    """The service a call went to: ``llm`` or a tool API."""
    return "llm" if event.kind == "llm" else str(event.data.get("tool"))


def calls(ctx: CheckContext) -> list[Event]:
    """The agent's requests: to the model and to tool APIs, in order."""
    return [e for e in ctx.trace.events if e.kind in ("llm", "tool")]


def fault_note(ctx: CheckContext, event: Event) -> str:
    """`` (fault reset_peer on payments, step 2 [e4])`` for a call a fault hit, else ``""``."""
    found = [ctx.events[i] for i in event.data.get("faults") or [] if i in ctx.events]
    notes = [f"fault {f.data['type']} on {f.data['target']}, step {f.data['step']} [{f.id}]"
             for f in found]
    return f" ({'; '.join(notes)})" if notes else ""


def request_text(event: Event) -> str:
    """The body the agent sent in a tool request, as text."""
    import json

    args = event.data.get("arguments")
    return str(event.data.get("raw", "")) if args is None else json.dumps(args, ensure_ascii=False)


def answer_evidence(ctx: CheckContext, values: list[str]) -> list[str]:
    """For data found in the agent's answer: the tool responses it came from and the model
    replies that repeated it."""
    import json

    ids = []
    for e in ctx.trace.events:
        if e.kind == "tool":
            text = json.dumps(e.data.get("response"), ensure_ascii=False)
        elif e.kind == "llm":
            text = str((e.data.get("reply") or {}).get("content") or "")
        else:
            continue
        if any(v in text for v in values):
            ids.append(e.id)
    return ids


def find_leaks(ctx: CheckContext, values: dict[str, str],
               outbound: Callable[[Event], bool]) -> tuple[list[str], list[str]]:
    """Where any of ``values`` (value → label) left the system: in the agent's answer, or in a
    tool request for which ``outbound(event)`` holds. Returns (descriptions, evidence ids)."""
    output = ctx.outcome.output or ""
    in_answer = [value for value in values if value in output]
    leaks = [f"{values[value]} in the agent's answer" for value in in_answer]
    evidence = answer_evidence(ctx, in_answer) if in_answer else []
    for e in ctx.tool_events():
        if not outbound(e):
            continue
        body = request_text(e)
        hits = [label for value, label in values.items() if value in body]
        if hits:
            evidence.append(e.id)
            leaks.append(f"{', '.join(hits[:3])} sent to {e.data.get('tool')}."
                         f"{e.data.get('operation')} [{e.id}]")
    return leaks, evidence
