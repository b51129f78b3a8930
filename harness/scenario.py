"""Scenario format v1: load, validate (every mistake, with file:line:col and field path), and
describe as JSON Schema.

The top level is a pydantic model; ``llm`` turns and ``expect`` checks are single-key mappings
dispatched to their registered classes, so an unknown name lists the valid ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ._registry import Registry, did_you_mean
from ._yaml import Path as FieldPath
from ._yaml import Positions, format_path, load_yaml
from .agents import DEFAULT_MEMORY
from .checks import CHECKS, Check
from .errors import Problem, ScenarioError
from .faults import FAULTS, Fault
from .goals import GOALS, Goal, parse_goal
from .llm import behaviours as _behaviours  # noqa: F401 - registers the behaviours
from .llm.quota import QuotaDoc
from .llm.turns import TURNS, Turn, TurnProblem, parse_turn, pydantic_problems, validate_params
from .load.spec import CapacityDoc, LoadDoc, placeholders
from .world.catalog import Catalog, get_catalog

FORMAT_VERSION = 1
#: The largest scenario file read (scenarios are small; data lives in mocks/).
MAX_FILE = 2 * 2**20


class Category(StrEnum):
    RESOURCE_EXHAUSTION = "resource_exhaustion"
    DATA_INTEGRITY = "data_integrity"
    SECURITY = "security"
    LOOP = "loop"
    CONTEXT = "context"
    HALLUCINATION = "hallucination"
    NETWORK = "network"
    LOAD = "load"


class InjectionDoc(BaseModel):
    """Plant an injection payload into a record: ``into: crm.customers.C-002.notes``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    payload: str
    into: str = Field(pattern=r"^[^.]+\.[^.]+\.[^.]+\.[^.]+$",
                      description="TOOL.RESOURCE.KEY.FIELD, e.g. crm.customers.C-002.notes")
    mode: Literal["append", "replace"] = "append"


class LLMSettings(BaseModel):
    """The long form of ``llm``: the turns plus model settings."""

    model_config = ConfigDict(extra="forbid")
    turns: list[Any] = Field(min_length=1)
    context_window: int | None = Field(None, gt=0, description="prompt tokens the model accepts")
    after_script: Any = Field(None, description="the turn played once the script is used up")
    quota: QuotaDoc | None = Field(None, description="the model's rate limits, enforced like a "
                                                     "provider's: requests_per_minute, "
                                                     "tokens_per_minute")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|[KMGT])?\s*$", re.IGNORECASE)
_UNITS = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
#: The smallest memory limit: below it no Python agent even starts.
MIN_MEMORY = 32 * 2**20


def parse_size(value: Any) -> int:
    """A memory size in bytes from ``512MB``, ``2GiB``, ``1.5G`` or a number of MiB."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a size like 512MB or 2GiB, got {value!r}")
    if isinstance(value, int | float):
        size = int(value * 2**20)
    else:
        match = _SIZE.match(value)
        if match is None:
            raise ValueError(f"expected a size like 512MB or 2GiB, got {value!r}")
        unit = (match[2] or "MiB").lower().removesuffix("b")
        size = int(float(match[1]) * _UNITS[unit])
    if size < MIN_MEMORY:
        raise ValueError(f"{value!r} is below the smallest limit a run can have (32MiB)")
    return size


class ScenarioDoc(BaseModel):
    """A chaos scenario: the task, the world, the model's script and the guardrails expected."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)
    description: str = ""
    category: Category
    seed: int = 0
    timeout: float = Field(30, gt=0, le=3600, description="hard time limit of one run, seconds")
    memory: Annotated[int, BeforeValidator(parse_size)] = Field(
        "2GiB", validate_default=True,
        description="memory limit of one run: the resident memory of all the agent's "
                    "processes, e.g. 512MB or 2GiB (a bare number is MiB); beyond it the run "
                    "is stopped",
        json_schema_extra={"type": ["string", "number"]})
    repeat: int = Field(1, ge=1, le=1000, description="trials per agent, each with its own "
                                                      "seed (--chaos-repeat overrides)")
    task: str | list[str]
    tools: list[str] = []
    llm: list[Any] | LLMSettings
    goal: Any = Field(description="what doing the job means in this world: a goal (tool_called, "
                                  "record_written, approval_requested, answer_mentions, "
                                  "answer_given; all_of, any_of, not)")
    expect: list[Any] = Field(min_length=1)
    approvals: Literal["approve", "deny"] = Field(
        "approve", description="how the human in the loop answers approval requests"
    )
    injections: list[InjectionDoc] = []
    upstreams: dict[str, str] = Field(
        {}, description="the agent's own dependencies (a database, a service) to put behind a "
                        "proxy so faults can target them: name → host:port. The agent finds "
                        "the proxy's address in env.upstreams / CHAOS_UPSTREAM_<NAME>")
    faults: list[Any] = Field([], description="network and HTTP faults, each on a schedule")
    capacity: dict[str, CapacityDoc] = Field(
        {}, description="what each tool API can take (rps, concurrency); beyond it requests are "
                        "refused with 429 and Retry-After, or 503")
    load: LoadDoc | None = Field(None, description="concurrent users sending the agent, run as "
                                                   "a service, tasks from real Locust")


MISSING_GOAL = ("required key is missing: say what doing the job means in this world, "
                "so that an agent that does nothing cannot pass, e.g. 'goal: {tool_called: "
                "{tool: get_stock}}' or 'goal: {answer_mentions: [Berlin]}'; valid goals: "
                + ", ".join(GOALS.names()))
REMOTE_UPSTREAM = ("{address} is not on this machine: the harness keeps a run on loopback "
                   "(127.0.0.0/8, ::1, localhost), so a scenario cannot aim an agent's faults "
                   "at another host; to put a remote service behind a proxy on purpose, pass "
                   "--chaos-allow-remote (agent-chaos validate --allow-remote)")
DEFAULT_AFTER_SCRIPT = "I have finished the task."
_UPSTREAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")


@dataclass(frozen=True)
class Script:
    turns: list[Turn]
    context_window: int | None
    after_script: Turn
    quota: QuotaDoc | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    category: Category
    seed: int
    timeout: float
    task: str | list[str]
    tools: list[str]
    script: Script
    goal: Goal
    checks: list[Check]
    approvals: str
    injections: list[InjectionDoc]
    source: str | None = None
    line: int | None = None
    faults: list[Fault] = field(default_factory=list)
    upstreams: dict[str, str] = field(default_factory=dict)
    repeat: int = 1
    memory: int = DEFAULT_MEMORY
    capacity: dict[str, CapacityDoc] = field(default_factory=dict)
    load: LoadDoc | None = None


class _Collector:
    def __init__(self, filename: str, positions: Positions) -> None:
        self.filename = filename
        self.positions = positions
        self.problems: list[Problem] = []

    def add(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        line, col = self.positions.locate(path, key=key)
        self.problems.append(Problem(self.filename, line, col, format_path(path), message))

    def add_turn_problems(self, problems: list[TurnProblem]) -> None:
        for p in problems:
            self.add(p.path, p.message, key=p.key)


def parse_scenario(data: Any, filename: str = "<scenario>", positions: Positions | None = None,
                   catalog: Catalog | None = None, allow_remote: bool = False) -> Scenario:
    """Validate plain data (as loaded from YAML) into a ``Scenario``; raise ``ScenarioError``
    listing every problem."""
    positions = positions or Positions()
    catalog = catalog or get_catalog()
    out = _Collector(filename, positions)
    if not isinstance(data, dict):
        got = "an empty document" if data is None else type(data).__name__
        out.add((), f"a scenario is a mapping of keys (version, name, task, llm, expect, …), "
                    f"got {got}")
        raise ScenarioError(out.problems)
    try:
        doc = ScenarioDoc.model_validate(data)
    except ValidationError as exc:
        for p in pydantic_problems(exc, ScenarioDoc, ()):
            if p.path and p.path[0] in ("llm", "task") and len(p.path) > 1 and \
                    p.path[1] in ("list[any]", "LLMSettings", "str", "list[str]"):
                continue  # union noise; the problem is reported for the branch that applies
            if p.path == ("goal",) and p.message == "required key is missing":
                out.add(("goal",), MISSING_GOAL)
                continue
            out.add(p.path, p.message, key=p.key)
        _union_problems(data, out)
        _check_tool_names(data.get("tools"), catalog, out)
        # Still look inside llm/expect so one run reports everything.
        _parse_llm(data.get("llm"), out)
        _parse_checks(data.get("expect"), out)
        _parse_faults(data.get("faults"), out)
        if "goal" in data:
            _parse_goal(data["goal"], out)
        raise ScenarioError(out.problems) from None

    script = _parse_llm(data["llm"], out)
    checks = _parse_checks(data["expect"], out)
    faults = _parse_faults(data.get("faults"), out)
    goal = _parse_goal(data["goal"], out)
    _cross_checks(doc, catalog, checks, faults, out)
    if not allow_remote:
        for name, address in doc.upstreams.items():
            if _ADDRESS.match(address) and not is_loopback(address):
                out.add(("upstreams", name), REMOTE_UPSTREAM.format(address=address))
    if goal is not None:
        # A list is all_of written short: its items sit right under 'goal'.
        prefix: FieldPath = ("goal",) if isinstance(data["goal"], list) else ("goal", goal.key)
        for path, message in goal.validate_against(known_tools(doc, catalog), catalog):
            out.add((*prefix, *path), message)
    if out.problems or script is None or goal is None:
        raise ScenarioError(out.problems)
    return Scenario(
        name=doc.name, description=doc.description, category=doc.category, seed=doc.seed,
        timeout=doc.timeout, memory=doc.memory, task=doc.task, tools=list(doc.tools),
        script=script, goal=goal, checks=checks,
        approvals=doc.approvals, injections=list(doc.injections), source=filename,
        line=positions.locate(("name",))[0], faults=faults, upstreams=dict(doc.upstreams),
        repeat=doc.repeat, capacity=dict(doc.capacity), load=doc.load,
    )


def _union_problems(data: dict[str, Any], out: _Collector) -> None:
    task = data.get("task")
    if "task" in data and not (isinstance(task, str) or
                               (isinstance(task, list) and all(isinstance(t, str) for t in task))):
        out.add(("task",), f"expected text or a list of texts (the user's turns), got {task!r}")
    llm = data.get("llm")
    if "llm" in data and not isinstance(llm, list | dict):
        out.add(("llm",), f"expected a list of turns (or a mapping with 'turns'), got {llm!r}")


def _parse_llm(value: Any, out: _Collector) -> Script | None:
    if isinstance(value, list):
        base: FieldPath = ("llm",)
        turns_raw, window, after_raw, quota = value, None, None, None
    elif isinstance(value, dict):
        try:
            settings = LLMSettings.model_validate(value)
        except ValidationError as exc:
            for p in pydantic_problems(exc, LLMSettings, ("llm",)):
                out.add(p.path, p.message, key=p.key)
            return None
        turns_raw, window, after_raw = settings.turns, settings.context_window, \
            settings.after_script
        quota = settings.quota
        base = ("llm", "turns")
    else:
        return None
    if not turns_raw:
        out.add(base, "the model's script needs at least one turn")
        return None
    turns: list[Turn] = []
    complete = True
    for i, raw in enumerate(turns_raw):
        turn, problems = parse_turn(raw, (*base, i))
        out.add_turn_problems(problems)
        if turn is None:
            complete = False
        elif turn.key == "replay":  # the recorded answers, expanded here
            complete &= _expand_replay(turn, (*base, i, "replay"), out, turns)
        else:
            turns.append(turn)
    after: Turn | None = None
    if after_raw is not None:
        after, problems = parse_turn(after_raw, ("llm", "after_script"))
        out.add_turn_problems(problems)
    if after is None:
        from .llm.behaviours.text import Text

        after = Text(content=DEFAULT_AFTER_SCRIPT)
    return Script(turns, window, after, quota) if complete and turns else None


def _expand_replay(turn: Turn, path: FieldPath, out: _Collector, turns: list[Turn]) -> bool:
    """Add a ``replay`` entry's turns (its cassette relative to the scenario file); False
    if anything in it is wrong (each problem reported)."""
    from .record.replay import expand

    params = turn.model_dump()
    base = Path(out.filename).parent if out.filename != "<scenario>" else Path.cwd()
    raw_turns, problems = expand(base / params["cassette"], params["mutate"])
    for where, message in problems:
        out.add((*path, *where), message)
    ok = not problems
    for j, raw in enumerate(raw_turns):
        inner, more = parse_turn(raw, (*path, "step", j + 1))
        out.add_turn_problems(more)
        if inner is None:
            ok = False
        else:
            turns.append(inner)
    return ok


def _parse_entries(value: Any, section: str, registry: Registry[Any], example: str,
                   out: _Collector) -> list[Any]:
    """A list of single-key mappings ``{name: params}``, each built by its registered class."""
    if not isinstance(value, list):
        return []
    entries: list[Any] = []
    for i, raw in enumerate(value):
        path: FieldPath = (section, i)
        if not isinstance(raw, dict) or len(raw) != 1:
            out.add(path, f"a {registry.kind} is a mapping with one {registry.kind} name, "
                          f"e.g. '{example}' (got {raw!r})")
            continue
        (name, params), = raw.items()
        cls = registry.get(name)
        if cls is None:
            out.add((*path, name), registry.unknown_message(name), key=True)
            continue
        entry, problems = validate_params(cls, params, (*path, name))
        out.add_turn_problems(problems)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_checks(value: Any, out: _Collector) -> list[Check]:
    return _parse_entries(value, "expect", CHECKS, "terminates: {}", out)


def _parse_faults(value: Any, out: _Collector) -> list[Fault]:
    return _parse_entries(value, "faults", FAULTS, "latency: {target: inventory, latency: 500}",
                          out)


def _parse_goal(value: Any, out: _Collector) -> Goal | None:
    goal, problems = parse_goal(value, ("goal",))
    out.add_turn_problems(problems)
    return goal


def _check_tool_names(tools: Any, catalog: Catalog, out: _Collector) -> None:
    if not isinstance(tools, list):
        return
    known = sorted(catalog.tools)
    for i, name in enumerate(tools):
        if isinstance(name, str) and name not in catalog.tools:
            out.add(("tools", i), f"unknown tool API {name!r}{did_you_mean(name, known)}; "
                                  f"valid tool APIs: {', '.join(known)}")
    if len(set(map(str, tools))) != len(tools):
        out.add(("tools",), "a tool API is listed twice")


def _cross_checks(doc: ScenarioDoc, catalog: Catalog, checks: list[Check],
                  faults: list[Fault], out: _Collector) -> None:
    """Names that refer to the catalog (tools, payloads, records) must exist."""
    _check_tool_names(doc.tools, catalog, out)
    tools = known_tools(doc, catalog)
    for name, address in doc.upstreams.items():
        if not _UPSTREAM_NAME.match(name) or name == "llm" or name in doc.tools:
            out.add(("upstreams", name), f"an upstream's name is lower-case letters, digits and "
                                         f"_, and not 'llm' or a tool API (got {name!r})",
                    key=True)
        if not _ADDRESS.match(address):
            out.add(("upstreams", name), f"expected host:port, e.g. 127.0.0.1:5432 "
                                         f"(got {address!r})")
    if len(faults) == len(doc.faults):
        for i, fault in enumerate(faults):
            for fname, message in fault.validate_against(tools, list(doc.upstreams),
                                                         catalog):
                out.add(("faults", i, fault.key, fname), message)
    for name in doc.capacity:
        if name not in doc.tools:
            out.add(("capacity", name), unknown_tool_api(name, doc.tools), key=True)
    _check_load(doc, catalog, out)
    if doc.load is not None and doc.load.locustfile is not None and out.filename != "<scenario>":
        where = Path(out.filename).parent / doc.load.locustfile
        if not where.is_file():
            out.add(("load", "locustfile"), f"no such file: {where} (a locustfile's path is "
                                            f"relative to the scenario file)")
    for i, inj in enumerate(doc.injections):
        path: FieldPath = ("injections", i)
        if inj.payload not in catalog.injections:
            valid = ", ".join(sorted(catalog.injections))
            out.add((*path, "payload"), f"unknown payload {inj.payload!r}; valid payloads: {valid}")
        tool, resource, _key, _field = inj.into.split(".")
        if tool not in tools:
            out.add((*path, "into"), f"tool API {tool!r} is not in this scenario's tools "
                                     f"({', '.join(tools) or 'none'})")
        elif resource not in catalog.tools[tool].resources:
            valid = ", ".join(sorted(catalog.tools[tool].resources))
            out.add((*path, "into"), f"{tool} has no resource {resource!r}; valid: {valid}")
    for i, check in enumerate(checks):
        for message in check.validate_against(tools, catalog):
            out.add(("expect", i, check.key), message)
        if check.needs_load and doc.load is None:
            out.add(("expect", i, check.key), f"{check.key} judges a run under load: add a "
                                              f"'load:' section (users, duration) to the "
                                              f"scenario")
        elif doc.load is not None:
            for message in check.validate_load(doc.load):
                out.add(("expect", i, check.key), message)


def known_tools(doc: ScenarioDoc, catalog: Catalog) -> list[str]:
    """The scenario's tool APIs that the catalog has (the others are reported once, under
    ``tools``; what refers to them is not judged again)."""
    return [t for t in doc.tools if t in catalog.tools]


def unknown_tool_api(name: str, tools: list[str]) -> str:
    return (f"{name!r} is not one of this scenario's tool APIs "
            f"({', '.join(tools) or 'none: list them under tools'})")


def _check_load(doc: ScenarioDoc, catalog: Catalog, out: _Collector) -> None:
    """The task template's placeholders come from the records named in load.records."""
    load = doc.load
    used = placeholders(doc.task) if isinstance(doc.task, str) else []
    if load is None:
        return
    if not isinstance(doc.task, str):
        out.add(("task",), "under load the task is one text (a template filled per request), "
                           "not a list of turns")
        return
    fields: list[str] = []
    if load.records is not None:
        tool, resource = load.records.split(".")
        if tool not in doc.tools:
            out.add(("load", "records"), unknown_tool_api(tool, doc.tools))
            return
        if tool not in catalog.tools:
            return  # reported under tools
        resources = catalog.tools[tool].resources
        if resource not in resources:
            out.add(("load", "records"), f"{tool} has no resource {resource!r}; valid: "
                                         f"{', '.join(sorted(resources))}")
            return
        res = resources[resource]
        fields = sorted({*res.schema_.get("properties", {}),
                         *(res.generate.fields if res.generate else {})})
    for name in used:
        if name != "ticket" and name not in fields:
            source = (f"fields of {load.records}: {', '.join(fields)}" if load.records
                      else "none: name the records that fill it in load.records, e.g. "
                           "'records: crm.customers'")
            out.add(("task",), f"the placeholder {{{name}}} is not filled by anything"
                               f"{did_you_mean(name, fields)}; valid placeholders: ticket, "
                               f"{source}")


def is_loopback(address: str) -> bool:
    """Whether ``host:port`` is on this machine: 127.0.0.0/8, ::1 or ``localhost``."""
    import ipaddress

    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def load_scenario(path: str | Path, catalog: Catalog | None = None,
                  allow_remote: bool = False) -> Scenario:
    """Read and validate one scenario file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE + 1)  # never more: a huge file is refused in bounded time
        if len(raw) > MAX_FILE:
            size = path.stat().st_size
            raise ScenarioError([Problem(str(path), None, None, "", (
                f"the file is {size / 2**20:.1f} MiB; a scenario file may be at most "
                f"{MAX_FILE // 2**20} MiB (keep large data in mocks/, not in the scenario)"))])
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), None, None, "", f"cannot read: {exc}")]) from None
    data, positions = load_yaml(text, str(path))
    return parse_scenario(data, str(path), positions, catalog, allow_remote)


# --- JSON Schema ---------------------------------------------------------------------------


def _entry_schema(key: str, cls: type[BaseModel], shorthand: str | None,
                  defs: dict[str, Any]) -> dict[str, Any]:
    params = cls.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(params.pop("$defs", {}))
    value: dict[str, Any] = {"anyOf": [params, {"type": "null"}]}
    if shorthand is not None:
        value["anyOf"].append(params["properties"][shorthand])
    return {"type": "object", "properties": {key: value}, "required": [key],
            "additionalProperties": False, "description": (cls.__doc__ or "").strip()}


def _goal_schema(key: str, cls: type[Goal], defs: dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": "#/$defs/goal"}
    if key in ("all_of", "any_of"):
        value: dict[str, Any] = {"type": "array", "items": ref, "minItems": 1}
    elif key == "not":
        value = ref
    else:
        return _entry_schema(key, cls, cls.shorthand, defs)
    return {"type": "object", "properties": {key: value}, "required": [key],
            "additionalProperties": False, "description": (cls.__doc__ or "").strip()}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario format v1, for editors (published as scenario.schema.json)."""
    schema = ScenarioDoc.model_json_schema()
    defs = schema.setdefault("$defs", {})
    turn_entries = []
    for key in TURNS:
        cls = TURNS.get(key)
        if cls is None:
            continue
        entry: dict[str, Any]
        if key == "repeat":
            entry = {"type": "object", "properties": {key: {"$ref": "#/$defs/turn"}},
                     "required": [key], "additionalProperties": False}
        else:
            entry = _entry_schema(key, cls, cls.shorthand, defs)
            props = entry["properties"][key]["anyOf"][0].get("properties", {})
            for nested in ("otherwise", "turn"):
                if nested in props:
                    props[nested] = {"$ref": "#/$defs/turn"}
        turn_entries.append(entry)
    defs["turn"] = {"oneOf": turn_entries}
    defs["check"] = {"oneOf": [_entry_schema(k, c, c.shorthand, defs) for k in CHECKS
                               if (c := CHECKS.get(k)) is not None]}
    defs["fault"] = {"oneOf": [_entry_schema(k, f, None, defs) for k in FAULTS
                               if (f := FAULTS.get(k)) is not None]}
    defs["goal"] = {"oneOf": [_goal_schema(k, g, defs) for k in GOALS
                              if (g := GOALS.get(k)) is not None]}
    props = schema["properties"]
    props["llm"] = {
        "anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/turn"}, "minItems": 1},
            {"type": "object", "additionalProperties": False, "required": ["turns"],
             "properties": {"turns": {"type": "array", "items": {"$ref": "#/$defs/turn"}},
                            "context_window": {"type": "integer", "minimum": 1},
                            "after_script": {"$ref": "#/$defs/turn"},
                            "quota": QuotaDoc.model_json_schema()}},
        ]
    }
    props["goal"] = {"anyOf": [{"$ref": "#/$defs/goal"},
                               {"type": "array", "items": {"$ref": "#/$defs/goal"},
                                "minItems": 1, "description": "all of these goals"}],
                     "description": props["goal"].get("description", "")}
    props["expect"] = {"type": "array", "items": {"$ref": "#/$defs/check"}, "minItems": 1}
    props["faults"] = {"type": "array", "items": {"$ref": "#/$defs/fault"},
                       "description": props["faults"].get("description", "")}
    defs.pop("LLMSettings", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pytest-agent-chaos scenario (version 1)"
    return schema
