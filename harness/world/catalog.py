"""Tool API definitions and payload catalogs, loaded from ``mocks/`` (data, not code).

A tool API file (``mocks/tools/NAME.yaml``) declares resources (records with a JSON schema,
fixed or faker-generated, with PII and canary fields marked) and operations (what the agent may
call: a JSON-schema for the arguments, an action on a resource, MCP-style annotations). The
format is documented in the README ("Your own tool APIs"). Users add folders of their own
(``--chaos-mocks DIR``); a name defined in two files is an error naming both.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._paths import builtin_mocks
from .._registry import did_you_mean
from .._yaml import Positions, format_path, load_yaml
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
    description: str = ""
    action: Action
    resource: str
    parameters: dict[str, Any]
    annotations: Annotations = Annotations()
    hidden: bool = Field(False, description="served but not listed: an undocumented endpoint")
    moves_money: bool = Field(False, description="charges, refunds, pays or trades: the "
                                                 "operations a scenario's role: money_moving "
                                                 "finds")
    search_fields: list[str] = []
    defaults: dict[str, Any] = {}
    rename: dict[str, str] = Field({}, description="argument → record field, e.g. petId: id "
                                                   "(a path parameter that names the record)")
    match: list[str] = Field([], description="update: the fields that find the record "
                                             "(default: the resource's key)")


class ToolAPI(_Strict):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    description: str = ""
    resources: dict[str, Resource]
    operations: dict[str, Operation]
    sloppy: bool = Field(True, description="store arguments without validating them, as many "
                                           "real APIs do; false answers 422 for arguments "
                                           "that break the operation's schema")


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


def _load(path: Path, model: type[BaseModel], root_is_list: bool = False) -> tuple[Any, Positions]:
    data, positions = load_yaml(path.read_text(encoding="utf-8"), str(path))
    if root_is_list and not isinstance(data, list):
        raise ScenarioError([Problem(str(path), 1, 1, "", "expected a list of entries")])
    try:
        if root_is_list:
            return [model.model_validate(item) for item in data], positions
        return model.model_validate(data), positions
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line, col = positions.locate(loc, key=err["type"] == "extra_forbidden")
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                valid = _fields_at(model, loc[:-1])
                message = (f"unknown field {loc[-1]!r}{did_you_mean(str(loc[-1]), valid)}; "
                           f"valid fields: {', '.join(valid)}") if valid else message
            problems.append(Problem(str(path), line, col, format_path(loc), message))
        raise ScenarioError(problems) from None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names valid at ``loc`` inside ``model`` (for an unknown-field message)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            if info is None:
                return []
            current = info.annotation
        else:  # dict[str, Model] or Model | None: the model inside
            args = [a for a in getattr(current, "__args__", ()) if isinstance(a, type)
                    and issubclass(a, BaseModel)]
            if not args:
                return []
            current = args[0]
            if str(part) not in current.model_fields:
                continue  # the dict key itself
            current = current.model_fields[str(part)].annotation
    args = [a for a in (current, *getattr(current, "__args__", ())) if isinstance(a, type)
            and issubclass(a, BaseModel)]
    return sorted(f.alias or n for n, f in args[0].model_fields.items()) if args else []


def api_problems(api: ToolAPI, file: str, positions: Positions,
                 providers: bool = True) -> list[Problem]:
    """What the model alone cannot see: names that refer to each other must exist (and, with
    ``providers``, faker providers: that imports faker, so the built-in files, which the tests
    check, skip it)."""
    out: list[Problem] = []

    def add(path: tuple[Any, ...], message: str) -> None:
        line, col = positions.locate(path)
        out.append(Problem(file, line, col, format_path(path), message))

    resources = sorted(api.resources)
    for rname, res in api.resources.items():
        props = sorted(res.schema_.get("properties", {}))
        fields = sorted({*props, *(res.generate.fields if res.generate else {})})
        if props and res.key not in props:
            add(("resources", rname, "key"), f"key {res.key!r} is not a property of the "
                f"schema{did_you_mean(res.key, props)}; properties: {', '.join(props)}")
        for kind in ("pii", "canaries"):
            for i, fname in enumerate(getattr(res, kind)):
                if fname not in fields:
                    add(("resources", rname, kind, i), f"no field {fname!r} in {rname}"
                        f"{did_you_mean(fname, fields)}; fields: {', '.join(fields)}")
        if res.generate is not None:
            for fname, gen in res.generate.fields.items():
                sources = [k for k in ("faker", "sequence", "choice", "int_range", "value")
                           if getattr(gen, k) is not None]
                if len(sources) > 1:
                    add(("resources", rname, "generate", "fields", fname),
                        f"give one source of values, not {' and '.join(sources)}")
                if providers and gen.faker is not None and gen.faker not in _faker_providers():
                    add(("resources", rname, "generate", "fields", fname, "faker"),
                        f"unknown faker provider {gen.faker!r}"
                        f"{did_you_mean(gen.faker, sorted(_faker_providers()))} (see "
                        f"https://faker.readthedocs.io/en/master/providers.html)")
        try:
            import jsonschema

            jsonschema.Draft202012Validator.check_schema(res.schema_)
        except jsonschema.SchemaError as exc:
            add(("resources", rname, "schema"), f"not a valid JSON Schema: {exc.message}")
    for oname, op in api.operations.items():
        if op.resource not in api.resources:
            add(("operations", oname, "resource"), f"unknown resource {op.resource!r}"
                f"{did_you_mean(op.resource, resources)}; resources: {', '.join(resources)}")
            continue
        if op.parameters.get("type") != "object":
            add(("operations", oname, "parameters"), "the parameters are a JSON Schema of "
                "type: object (the arguments are a JSON object)")
        res = api.resources[op.resource]
        props = sorted(res.schema_.get("properties", {}))
        for i, fname in enumerate(op.search_fields):
            if props and fname not in props:
                add(("operations", oname, "search_fields", i), f"no field {fname!r} in "
                    f"{op.resource}{did_you_mean(fname, props)}; fields: {', '.join(props)}")
    return out


@functools.cache
def _faker_providers() -> frozenset[str]:
    from faker import Faker

    faker = Faker()
    return frozenset(n for n in dir(faker) if not n.startswith("_"))


class Catalog:
    """Every tool API and payload the scenarios can refer to.

    ``files`` says where each tool API was defined. A tool API or payload defined twice (in two
    roots, or two files of one) is an error naming both files."""

    def __init__(self, roots: list[Path]) -> None:
        self.tools: dict[str, ToolAPI] = {}
        self.files: dict[str, Path] = {}
        self.injections: dict[str, Payload] = {}
        self.hallucinations: list[Hallucination] = []
        problems: list[Problem] = []
        payload_files: dict[str, Path] = {}
        for i, root in enumerate(roots):
            for file in sorted((root / "tools").glob("*.y*ml")):
                try:
                    api, positions = _load(file, ToolAPI)
                    problems.extend(api_problems(api, str(file), positions, providers=i > 0))
                except ScenarioError as exc:
                    problems.extend(exc.problems)
                    continue
                if api.name in self.tools:
                    line, col = positions.locate(("name",))
                    problems.append(Problem(str(file), line, col, "name",
                                            f"tool API {api.name!r} is already defined in "
                                            f"{self.files[api.name]}; rename one of them"))
                    continue
                self.tools[api.name] = api
                self.files[api.name] = file
            injections = root / "payloads" / "injections.yaml"
            if injections.is_file():
                try:
                    payloads, positions = _load(injections, Payload, root_is_list=True)
                except ScenarioError as exc:
                    problems.extend(exc.problems)
                    payloads = []
                for i, p in enumerate(payloads):
                    if p.id in self.injections:
                        line, col = positions.locate((i, "id"))
                        problems.append(Problem(str(injections), line, col, f"[{i}].id",
                                                f"payload {p.id!r} is already defined in "
                                                f"{payload_files[p.id]}; rename one of them"))
                        continue
                    self.injections[p.id] = p
                    payload_files[p.id] = injections
            hallucinations = root / "payloads" / "hallucinations.yaml"
            if hallucinations.is_file():
                try:
                    self.hallucinations.extend(_load(hallucinations, Hallucination, True)[0])
                except ScenarioError as exc:
                    problems.extend(exc.problems)
        if problems:
            raise ScenarioError(problems)


@functools.cache
def _cached(roots: tuple[Path, ...]) -> Catalog:
    return Catalog(list(roots))


def get_catalog(extra: tuple[Path, ...] = ()) -> Catalog:
    """The built-in catalog plus user mock folders (``tools/*.yaml`` and ``payloads/`` in
    each); raises ``ScenarioError`` for a mistake in any file, or a name defined twice."""
    roots = [builtin_mocks().resolve()]
    for path in extra:
        if not path.is_dir():
            raise ScenarioError([Problem(str(path), None, None, "", "no such mocks folder (it "
                                         "should hold tools/*.yaml and/or payloads/)")])
        if path.resolve() not in roots:
            roots.append(path.resolve())
    return _cached(tuple(roots))
