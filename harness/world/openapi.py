"""``agent-chaos mock openapi``: an OpenAPI 3 document → a stateful mock tool API (the YAML of
``mocks/tools/NAME.yaml``).

The rules (also in the README):

- The document is validated by openapi-spec-validator; its ``$ref``\\ s are resolved with the
  ``referencing`` library (jsonschema's).
- A **resource** is a component schema that operations answer or take (``Pet``, ``Order``);
  an operation whose path has no such schema shares the resource of another operation on the
  same path (``DELETE /pet/{petId}`` → ``Pet``). Its key is ``id`` if it has one, else the
  path parameter that names a record.
- An **operation** is one method of one path, named after its ``operationId`` in snake_case.
  GET on a path ending in a parameter gets a record; GET elsewhere searches; POST on a
  collection creates; PUT, PATCH and POST on a record update; DELETE deletes. GET is
  read-only and idempotent; PUT idempotent; DELETE destructive and idempotent.
- The arguments are the path and query parameters and the JSON body's properties, in one
  object; a path parameter that names the record (``petId``) is mapped onto its key.
- Records are generated from the run's seed with faker, chosen by field name and format
  (``email``, ``date-time``, ``firstName``, ``phone``…), else the schema's ``example``, its
  ``enum``, or a value of its type. Personal fields are marked PII; passwords, tokens and keys
  are canaries.
- What cannot be mocked is skipped, with the reason: a body that is not JSON, a body that is
  not an object, an answer with no record schema, a path with no resource.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._yaml import Positions, format_path, load_yaml
from ..errors import Problem, ScenarioError

_METHODS = ("get", "post", "put", "patch", "delete")
_ITEM_PARAM = re.compile(r"^\{[^}]+\}$")

#: Field name (lower case, no separators) → faker provider.
_BY_NAME = {
    "email": "email", "emailaddress": "email", "firstname": "first_name",
    "lastname": "last_name", "fullname": "name", "username": "user_name", "login": "user_name",
    "phone": "phone_number", "phonenumber": "phone_number", "mobile": "phone_number",
    "street": "street_address", "address": "street_address", "city": "city",
    "state": "state_abbr", "zip": "postcode", "zipcode": "postcode", "postcode": "postcode",
    "postalcode": "postcode", "country": "country", "company": "company", "url": "url",
    "website": "url", "iban": "iban", "description": "sentence", "title": "sentence",
    "comment": "sentence", "note": "sentence", "notes": "sentence",
}
_BY_FORMAT = {"email": "email", "date-time": "iso8601", "date": "date", "uri": "url",
              "url": "url", "uuid": "uuid4", "hostname": "domain_name", "ipv4": "ipv4",
              "ipv6": "ipv6"}
_DATES_END = 1767225600  # 2026-01-01T00:00:00Z
_PII = {"email", "emailaddress", "firstname", "lastname", "fullname", "username", "phone",
        "phonenumber", "mobile", "street", "address", "zip", "zipcode", "postcode",
        "postalcode", "iban", "ssn", "birthdate", "dateofbirth"}
_SECRET = re.compile(r"password|secret|token|apikey|api_key|credential", re.I)


@dataclass
class Imported:
    """The tool API (plain data, as YAML would hold it) and what was left out, and why."""

    api: dict[str, Any]
    skipped: list[str] = field(default_factory=list)


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def snake(name: str) -> str:
    """``getPetById`` → ``get_pet_by_id``; ``list-pets`` → ``list_pets``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "op"


def load_spec(path: Path) -> tuple[dict[str, Any], Positions]:
    """Read and validate an OpenAPI 3 document; ``ScenarioError`` names file:line, the
    field path and what is wrong, for every problem the validator finds."""
    text = path.read_text(encoding="utf-8")
    data, positions = load_yaml(text, str(path))  # JSON is YAML too
    file = str(path)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, 1, "", "an OpenAPI document is a mapping")])
    version = str(data.get("openapi", ""))
    if "swagger" in data:
        raise ScenarioError([Problem(file, *positions.locate(("swagger",)), "swagger",
                                     "a Swagger 2.0 document: convert it to OpenAPI 3 first "
                                     "(e.g. with swagger2openapi)")])
    from openapi_spec_validator import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
        OpenAPIV32SpecValidator,
    )

    validators = {"3.0": OpenAPIV30SpecValidator, "3.1": OpenAPIV31SpecValidator,
                  "3.2": OpenAPIV32SpecValidator}
    validator = validators.get(version[:3])
    if validator is None:
        raise ScenarioError([Problem(file, *positions.locate(("openapi",)), "openapi",
                                     f"not an OpenAPI 3 document (openapi: {version or 'missing'}"
                                     f"; expected 3.0.x, 3.1.x or 3.2.x)")])
    from jsonschema.exceptions import best_match

    problems = []
    for error in validator(data).iter_errors():
        while error.context:  # "not valid under any of the given schemas": say which part
            deeper = best_match(error.context)
            if deeper is None:
                break
            error = deeper
        where = tuple(error.absolute_path)
        line, col = positions.locate(where)
        problems.append(Problem(file, line, col, format_path(where), error.message))
        if len(problems) >= 20:
            break
    if problems:
        raise ScenarioError(problems)
    return data, positions


class _Resolver:
    """Resolves ``$ref``\\ s within the document with the ``referencing`` library."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._resolver = Registry().with_resource("urn:spec", resource).resolver("urn:spec")

    def ref_name(self, node: Any) -> str | None:
        """``#/components/schemas/Pet`` → ``Pet`` (also through an array's ``items``)."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                return ref.rsplit("/", 1)[1]
            if node.get("type") == "array":
                return self.ref_name(node.get("items"))
        return None

    def resolve(self, node: Any, depth: int = 0) -> Any:
        """A copy of ``node`` with every ``$ref`` replaced by what it points at (a recursive
        schema stops at depth 8 as ``{}``: any value)."""
        if depth > 8:
            return {}
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                target = self._resolver.lookup(node["$ref"]).contents
                return self.resolve(target, depth + 1)
            return {k: self.resolve(v, depth) for k, v in node.items()
                    if not k.startswith("x-") and k != "xml"}
        if isinstance(node, list):
            return [self.resolve(v, depth) for v in node]
        return node


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI's schema dialect → JSON Schema: ``nullable``, ``example`` and friends."""
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k in ("example", "examples", "readOnly", "writeOnly", "deprecated", "discriminator",
                 "externalDocs"):
            continue
        if k == "nullable":
            continue
        if k == "properties" and isinstance(v, dict):
            out[k] = {p: _json_schema(s) if isinstance(s, dict) else s for p, s in v.items()}
        elif k == "items" and isinstance(v, dict):
            out[k] = _json_schema(v)
        elif k in ("allOf", "anyOf", "oneOf") and isinstance(v, list):
            out[k] = [_json_schema(s) if isinstance(s, dict) else s for s in v]
        else:
            out[k] = v
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _json_body(content: Any) -> tuple[Any, str | None]:
    """The JSON schema of a request or response body, or why there is none."""
    if not isinstance(content, dict) or not content:
        return None, None
    for media, item in content.items():
        if media.split(";")[0].strip() in ("application/json", "*/*") or \
                media.endswith("+json"):
            return (item or {}).get("schema"), None
    return None, f"the body is {', '.join(content)}, not JSON"


def _generator(name: str, schema: dict[str, Any], n_key: bool) -> dict[str, Any]:
    """How to generate field ``name`` of a record (a FieldGen as data)."""
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    squashed = _squash(name)
    if n_key:
        return {"sequence": "{n}"} if kind == "integer" else {"sequence": "R-{n:03d}"}
    if "enum" in schema:
        return {"choice": list(schema["enum"])}
    if _SECRET.search(name) and kind in (None, "string"):
        return {"canary": True}
    if kind in (None, "string"):
        provider = _BY_FORMAT.get(str(schema.get("format"))) or _BY_NAME.get(squashed)
        if provider is None and squashed.endswith("name"):
            provider = "name" if squashed in ("name", "fullname") else "word"
        if provider in ("iso8601", "date"):
            # Dates up to a fixed moment, not "now": the same seed, the same records.
            return {"faker": provider, "faker_args": {"end_datetime": _DATES_END}}
        if provider is not None:
            return {"faker": provider}
        if "example" in schema:
            return {"value": schema["example"]}
        return {"faker": "word"}
    if kind == "integer":
        low = int(schema.get("minimum", 0))
        return {"int_range": [low, max(low, int(schema.get("maximum", low + 1000)))]}
    if kind == "number":
        return {"int_range": [int(schema.get("minimum", 0)), int(schema.get("maximum", 1000))]}
    if kind == "boolean":
        return {"choice": [True, False]}
    if "example" in schema:
        return {"value": schema["example"]}
    if kind == "object" and isinstance(schema.get("properties"), dict):
        examples = {p: s["example"] for p, s in schema["properties"].items()
                    if isinstance(s, dict) and "example" in s}
        return {"value": examples}
    return {"value": [] if kind == "array" else {}}


@dataclass
class _Op:
    name: str
    method: str
    path: str
    doc: dict[str, Any]
    resource: str | None = None


def import_openapi(spec: dict[str, Any], name: str, count: int = 10) -> Imported:
    """Turn a validated OpenAPI 3 document into a tool API (see the module's rules)."""
    resolver = _Resolver(spec)
    out = Imported({})
    ops: list[_Op] = []
    taken: set[str] = set()
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters", [])
        for method in _METHODS:
            doc = item.get(method)
            if not isinstance(doc, dict):
                continue
            op_name = snake(doc.get("operationId") or f"{method}_{path}")
            while op_name in taken:
                op_name += "_"
            taken.add(op_name)
            doc = {**doc, "parameters": [*shared, *doc.get("parameters", [])]}
            ops.append(_Op(op_name, method, path, doc))
    # Resources: the component schemas operations answer or take.
    by_path: dict[str, str] = {}
    for op in ops:
        body, _ = _json_body((op.doc.get("requestBody") or {}).get("content")
                             if isinstance(op.doc.get("requestBody"), dict) else None)
        answers = [resp for code, resp in (op.doc.get("responses") or {}).items()
                   if str(code).startswith("2") or code == "default"]
        for candidate in [*(_json_body(r.get("content"))[0] for r in answers
                            if isinstance(r, dict)), body]:
            ref = resolver.ref_name(candidate)
            if ref is not None:
                op.resource = ref
                break
        if op.resource is not None:
            by_path.setdefault(op.path, op.resource)
    for op in ops:
        if op.resource is None:
            op.resource = by_path.get(op.path) or next(
                (r for p, r in sorted(by_path.items(), key=lambda x: -len(x[0]))
                 if op.path.startswith(p.rstrip("/") + "/")
                 and _ITEM_PARAM.match(op.path[len(p.rstrip("/")) + 1:])), None)
    resources: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    for op in ops:
        where = f"{op.method.upper()} {op.path} ({op.name})"
        if op.resource is None:
            out.skipped.append(f"{where}: no record schema in its answers or body, and no "
                               f"other operation on its path has one")
            continue
        built = _operation(op, resolver, resources, out.skipped, where)
        if built is not None:
            operations[op.name] = built
    if not operations:
        out.skipped.append("no operation could be mocked")
    out.api = {
        "name": name,
        "description": " ".join(str((spec.get("info") or {}).get("title", name)).split()),
        "resources": {snake(r): _resource_doc(r, resolver, spec, count) for r in resources},
        "operations": operations,
    }
    for built in operations.values():
        built["resource"] = snake(built["resource"])
    _rename_keys(out.api)
    return out


def _key_of(schema: dict[str, Any], path_params: list[str]) -> str:
    props = schema.get("properties", {})
    if "id" in props:
        return "id"
    for p in path_params:
        if p in props:
            return p
    required = [r for r in schema.get("required", []) if r in props]
    return required[0] if required else (next(iter(props), "id"))


def _resource_schema(name: str, resolver: _Resolver, spec: dict[str, Any]) -> dict[str, Any]:
    raw = ((spec.get("components") or {}).get("schemas") or {}).get(name, {})
    resolved = resolver.resolve(raw)
    return _json_schema(resolved) if isinstance(resolved, dict) else {}


def _resource_doc(name: str, resolver: _Resolver, spec: dict[str, Any],
                  count: int) -> dict[str, Any]:
    raw = resolver.resolve(((spec.get("components") or {}).get("schemas") or {}).get(name, {}))
    schema = _resource_schema(name, resolver, spec)
    schema.setdefault("type", "object")
    props = raw.get("properties", {}) if isinstance(raw, dict) else {}
    key = _key_of(schema, [])
    fields = {p: _generator(p, s if isinstance(s, dict) else {}, p == key)
              for p, s in props.items()}
    doc: dict[str, Any] = {"key": key, "schema": schema,
                           "generate": {"count": count, "fields": fields}}
    if schema.get("properties", {}).get(key, {}).get("type") != "integer":
        doc["id_prefix"] = "R-"
    pii = [p for p in props if _squash(p) in _PII]
    canaries = [p for p, gen in fields.items() if gen.get("canary")]
    if pii:
        doc["pii"] = pii
    if canaries:
        doc["canaries"] = canaries
    return doc


def _operation(op: _Op, resolver: _Resolver, resources: dict[str, dict[str, Any]],
               skipped: list[str], where: str) -> dict[str, Any] | None:
    params = [resolver.resolve(p) for p in op.doc.get("parameters", [])]
    properties: dict[str, Any] = {}
    required: list[str] = []
    path_params: list[str] = []
    for p in params:
        if not isinstance(p, dict) or p.get("in") not in ("path", "query"):
            continue  # headers and cookies are the transport's business
        pname = str(p.get("name"))
        properties[pname] = _json_schema(p.get("schema") or {})
        if p.get("description"):
            properties[pname]["description"] = " ".join(str(p["description"]).split())
        if p.get("in") == "path":
            path_params.append(pname)
        if p.get("required") or p.get("in") == "path":
            required.append(pname)
    body_doc = op.doc.get("requestBody")
    body_doc = resolver.resolve(body_doc) if isinstance(body_doc, dict) else None
    if body_doc is not None:
        body, problem = _json_body(body_doc.get("content"))
        if problem is not None:
            skipped.append(f"{where}: {problem}")
            return None
        body = _json_schema(resolver.resolve(body)) if isinstance(body, dict) else None
        if body is not None:
            if body.get("type", "object") != "object" or "properties" not in body:
                skipped.append(f"{where}: the JSON body is not an object with properties "
                               f"({body.get('type', 'no type')}), so it cannot be one "
                               f"call's arguments")
                return None
            for prop, s in body["properties"].items():
                properties.setdefault(prop, s)
            if body_doc.get("required"):
                required += [r for r in body.get("required", []) if r not in required]
    item = bool(re.search(r"/\{[^}]+\}$", op.path))
    action = {"get": "get" if item else "search", "delete": "delete", "put": "update",
              "patch": "update", "post": "update" if item else "create"}[op.method]
    resources.setdefault(op.resource or "", {})
    out: dict[str, Any] = {
        "description": " ".join(str(op.doc.get("summary") or op.doc.get("description")
                                    or f"{op.method.upper()} {op.path}").split()),
        "action": action, "resource": op.resource,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }
    if not required:
        del out["parameters"]["required"]
    if path_params:
        out["_path"] = path_params
    hints = {"get": {"readOnlyHint": True, "idempotentHint": True},
             "put": {"idempotentHint": True},
             "delete": {"destructiveHint": True, "idempotentHint": True}}.get(op.method)
    if hints:
        out["annotations"] = hints
    return out


def _rename_keys(api: dict[str, Any]) -> None:
    """Point path parameters that name a record at its key (``petId`` → ``id``)."""
    for op in api["operations"].values():
        res = api["resources"].get(op["resource"])
        if res is None:
            continue
        key = res["key"]
        props = op["parameters"]["properties"]
        path_params = op.pop("_path", [])
        if op["action"] in ("get", "update", "delete"):
            named = [p for p in path_params if p != key and _squash(p) in (
                _squash(op["resource"] + "id"), _squash(op["resource"] + key), "id")]
            if named and key not in props:
                op["rename"] = {named[0]: key}
            elif op["action"] == "update" and path_params:
                op["match"] = path_params  # PUT /user/{username}: found by its username


def to_yaml(api: dict[str, Any]) -> str:
    """The tool API as YAML (block style, keys in the order built)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    setattr(yaml, "sort_base_mapping_type_on_output", False)  # noqa: B010 - keep our order
    buf = io.StringIO()
    yaml.dump(json.loads(json.dumps(api)), buf)
    return buf.getvalue()


