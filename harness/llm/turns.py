"""One turn of the mock model's script: a registered behaviour with its parameters.

A behaviour is a pydantic model subclassing ``Turn`` with a ``key`` (its YAML name) and a
``reply(ctx)`` method. Subclassing registers it; a duplicate key is an error. To add one, add a
file under ``harness/llm/behaviours/`` and import it in that package's ``__init__``.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._registry import Registry, did_you_mean
from .._yaml import Path
from .tokens import message_text

TURNS: Registry[type[Turn]] = Registry("behaviour")


@dataclass
class ToolCall:
    name: str
    arguments: str  # the raw JSON text, as the wire carries it (may be broken on purpose)


@dataclass
class Completion:
    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"


@dataclass
class ApiError:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    """Hold the request open: for ``seconds``, or until the run ends; then drop the connection."""

    seconds: float | None = None


Reply = Completion | ApiError | Hang


def openai_error(status: int, message: str, type_: str, code: str | None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> ApiError:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return ApiError(status, body, headers or {})


@dataclass
class TurnContext:
    """What a behaviour may look at to decide its reply."""

    request: dict[str, Any]
    rng: random.Random
    secrets_of: Callable[[], dict[str, str]]
    payloads: list[Any]  # injection payloads (catalog.Payload)
    hallucinations: list[Any]
    prompt_tokens: int
    #: The world's operations (name → catalog.Operation), for calls by role.
    operations: dict[str, Any] = field(default_factory=dict)
    #: How the turn fitted the world's names to the agent's (for the trace's ``honoured``).
    notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def secrets(self) -> dict[str, str]:
        """Canary/PII value → label, over the whole world (built only if a turn asks)."""
        return self.secrets_of()

    @property
    def messages(self) -> list[Any]:
        msgs = self.request.get("messages")
        return msgs if isinstance(msgs, list) else []

    @property
    def offered(self) -> dict[str, dict[str, Any]]:
        """Offered tool name → its function definition, in the request's order."""
        out: dict[str, dict[str, Any]] = {}
        for tool in self.request.get("tools") or []:
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                out[fn["name"]] = fn
        return out

    def latest_input(self) -> str:
        """The text the model receives new this turn: everything after its last message."""
        msgs = self.messages
        last = max((i for i, m in enumerate(msgs) if isinstance(m, dict)
                    and m.get("role") == "assistant"), default=-1)
        return "\n".join(message_text(m) for m in msgs[last + 1:])

    def conversation(self) -> str:
        return "\n".join(message_text(m) for m in self.messages)


class Turn(BaseModel):
    """Parameters every behaviour accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: ClassVar[str]
    #: When the YAML value is a scalar, it is this field's value (``text: "Hi"``).
    shorthand: ClassVar[str | None] = None
    #: Answer the script position forever instead of being consumed (a looping model).
    sticky: ClassVar[bool] = False

    times: int = Field(1, ge=1, le=10_000, description="consecutive requests this turn answers")
    first_token_delay: float = Field(0, ge=0, le=600, description="seconds before the first byte")
    token_delay: float = Field(0, ge=0, le=60, description="seconds between streamed tokens")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:
            TURNS.register(cls.key, cls)

    @classmethod
    def from_yaml(cls, params: Any, path: Path) -> tuple[Turn | None, list[TurnProblem]]:
        """Build from the YAML value; behaviours with nested turns override this."""
        return validate_params(cls, params, path)

    def reply(self, ctx: TurnContext) -> Reply:
        raise NotImplementedError

    def delays(self) -> tuple[float, float]:
        """(seconds before the first byte, seconds between streamed tokens)."""
        return self.first_token_delay, self.token_delay


# --- helpers shared by behaviours -----------------------------------------------------------


Role = Literal["read_only", "write", "destructive", "money_moving"]


def has_role(op: Any, role: str) -> bool:
    """Whether a world operation (catalog.Operation) plays ``role``."""
    hints = op.annotations
    return bool({"read_only": hints.readOnlyHint, "write": not hints.readOnlyHint,
                 "destructive": hints.destructiveHint, "money_moving": op.moves_money}[role])


class ToolChoice(BaseModel):
    """Which tool a turn calls: the world operation ``name``, under whatever name the agent
    offers it (``inventory_get_stock``, ``mcp__inventory__get_stock``: see
    ``harness/world/naming.py``); else the first offered tool matching ``match`` (a regular
    expression) or standing for an operation with ``role``; with none of them, any offered
    tool (chosen by the seed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    match: str | None = None
    role: Role | None = Field(None, description="read_only, write, destructive or money_moving: "
                                                "an offered tool for such a world operation")

    def pick(self, ctx: TurnContext) -> str | None:
        from ..world.naming import operation_for

        offered = list(ctx.offered)
        if self.name is not None:
            return agent_name(ctx, self.name)
        if self.role is not None:
            for n in offered:
                op = operation_for(n, ctx.operations)
                if op is not None and has_role(ctx.operations[op], self.role):
                    if op != n:
                        ctx.notes.append(f"{op} is offered as {n}")
                    return n
            return None
        if self.match is not None:
            pattern = re.compile(self.match)
            offered = [n for n in offered if pattern.search(n)]
            return offered[0] if offered else None
        return ctx.rng.choice(offered) if offered else None


def agent_name(ctx: TurnContext, operation: str) -> str:
    """The agent's name for world operation ``operation`` (itself if not offered under any),
    noting a renamed one for the trace."""
    from ..world.naming import offered_for

    found = offered_for(operation, ctx.offered)
    if found is not None and found != operation:
        ctx.notes.append(f"{operation} is offered as {found}")
    return found or operation


def dumps(args: Any) -> str:
    return json.dumps(args, ensure_ascii=False)


def no_tool_text(what: str) -> Completion:
    """What the model says when a turn needs a tool and the agent offered none that fits."""
    return Completion(content=f"I wanted to use a tool to {what}, but no suitable tool is offered.")


# --- parsing ------------------------------------------------------------------------------


@dataclass
class TurnProblem:
    path: Path
    message: str
    key: bool = False


def parse_turn(value: Any, path: Path) -> tuple[Turn | None, list[TurnProblem]]:
    """Turn one YAML script entry (``{behaviour: params}``) into a ``Turn``."""
    if not isinstance(value, dict) or len(value) != 1:
        got = type(value).__name__ if not isinstance(value, dict) else f"{len(value)} keys"
        return None, [TurnProblem(path, f"a turn is a mapping with one behaviour key, e.g. "
                                        f"'text: Hello' (got {got})")]
    (name, params), = value.items()
    cls = TURNS.get(name)
    if cls is None:
        return None, [TurnProblem((*path, name), TURNS.unknown_message(name), key=True)]
    return cls.from_yaml(params, (*path, name))


def validate_params(cls: type[Any], params: Any, path: Path) -> tuple[Any, list[TurnProblem]]:
    """Validate ``params`` for a registered model, with teaching messages on failure."""
    if params is None:
        params = {}
    elif not isinstance(params, dict):
        if cls.shorthand is None:
            return None, [TurnProblem(path, f"expected a mapping of parameters for "
                                            f"'{path[-1]}', got {params!r}")]
        params = {cls.shorthand: params}
    try:
        return cls.model_validate(params), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, cls, path)


def pydantic_problems(exc: ValidationError, cls: type[BaseModel], path: Path) -> list[TurnProblem]:
    problems = []
    for err in exc.errors():
        loc: Path = (*path, *err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            name = str(err["loc"][-1])
            fields = sorted(cls.model_fields) if len(err["loc"]) == 1 else []
            hint = did_you_mean(name, fields)
            valid = f"; valid keys: {', '.join(fields)}" if fields else ""
            problems.append(TurnProblem(loc, f"unknown key {name!r}{hint}{valid}", key=True))
        elif kind == "missing":
            problems.append(TurnProblem(loc, "required key is missing"))
        else:
            got = err.get("input")
            message = err["msg"]
            if kind.startswith("value_error"):
                message = message.removeprefix("Value error, ")
            hint = ""
            if kind in ("enum", "literal_error") and isinstance(got, str):
                hint = did_you_mean(got, re.findall(r"'([^']*)'", err.get("ctx", {})
                                                    .get("expected", "")))
            problems.append(TurnProblem(loc, f"{message} (got {got!r}){hint}"))
    return problems
