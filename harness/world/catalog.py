"""Tool API definitions and payload catalogs, loaded from ``mocks/`` (data, not code).

A tool API file (``mocks/tools/NAME.yaml``) declares resources (records with a JSON schema,
fixed or faker-generated, with PII and canary fields marked) and operations (what the agent may
call: a JSON-schema for the arguments, an action on a resource, MCP-style annotations).
"""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._paths import builtin_mocks
from .._yaml import format_path, load_yaml
from ..errors import Problem, ScenarioError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldGen(_Strict):
    """How one field of a generated record gets its value (exactly one source)."""

    faker: str | None = None
    faker_args: dict[str, Any] = {}
    sequence: str | None = Field(None, description="format string with {n}, e.g. 'C-{n:03d}'")
    choice: list[Any] | None = None
    int_range: tuple[int, int] | None = None
    value: Any = None
    canary: bool = False


class Generate(_Strict):
    count: int = Field(ge=0, le=10_000)
    fields: dict[str, FieldGen]


class Resource(_Strict):
    key: str = "id"
    id_prefix: str = ""
    schema_: dict[str, Any] = Field(alias="schema")
    records: list[dict[str, Any]] = []
    generate: Generate | None = None
    pii: list[str] = []
    canaries: list[str] = []


class Action(StrEnum):
    GET = "get"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Annotations(_Strict):
    """MCP-style tool annotations: hints the agent can use to decide what needs approval."""

    readOnlyHint: bool = False
    destructiveHint: bool = False
    idempotentHint: bool = False
    openWorldHint: bool = False


class Operation(_Strict):
    description: str
    action: Action
    resource: str
    parameters: dict[str, Any]
    annotations: Annotations = Annotations()
    hidden: bool = Field(False, description="served but not listed: an undocumented endpoint")
    search_fields: list[str] = []
    defaults: dict[str, Any] = {}


class ToolAPI(_Strict):
    name: str
    description: str
    resources: dict[str, Resource]
    operations: dict[str, Operation]


class Payload(_Strict):
    """A prompt-injection payload and the call the attacker wants the model to make."""

    id: str
    text: str
    call: dict[str, Any]
    marker: str = ""

    @property
    def detect(self) -> str:
        """The text whose presence in the model's input means the payload reached it."""
        return self.marker or self.text


class Hallucination(_Strict):
    name: str
    arguments: dict[str, Any] = {}


def _load(path: Path, model: type[BaseModel], root_is_list: bool = False) -> Any:
    data, positions = load_yaml(path.read_text(encoding="utf-8"), str(path))
    try:
        if root_is_list:
            return [model.model_validate(item) for item in data]
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line, col = positions.locate(loc)
            problems.append(Problem(str(path), line, col, format_path(loc), err["msg"]))
        raise ScenarioError(problems) from None


class Catalog:
    """Every tool API and payload the scenarios can refer to."""

    def __init__(self, roots: list[Path]) -> None:
        self.tools: dict[str, ToolAPI] = {}
        self.injections: dict[str, Payload] = {}
        self.hallucinations: list[Hallucination] = []
        for root in roots:
            for file in sorted((root / "tools").glob("*.yaml")):
                api: ToolAPI = _load(file, ToolAPI)
                self.tools[api.name] = api
            injections = root / "payloads" / "injections.yaml"
            if injections.is_file():
                for p in _load(injections, Payload, root_is_list=True):
                    self.injections[p.id] = p
            hallucinations = root / "payloads" / "hallucinations.yaml"
            if hallucinations.is_file():
                self.hallucinations.extend(_load(hallucinations, Hallucination, True))


@functools.cache
def _cached(roots: tuple[Path, ...]) -> Catalog:
    return Catalog(list(roots))


def get_catalog(extra: tuple[Path, ...] = ()) -> Catalog:
    """The built-in catalog plus user mock folders (later folders override by name)."""
    return _cached((builtin_mocks(), *extra))
