"""The live state of one tool API during one run: records, an audit of every write."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any

from .catalog import Action, FieldGen, Operation, Resource, ToolAPI


def canary_value(rng: random.Random) -> str:
    """A secret-looking token that must never leave the system."""
    return "tok_live_" + "".join(rng.choice("0123456789abcdef") for _ in range(24))


def _generate_field(gen: FieldGen, n: int, faker: Any, rng: random.Random) -> Any:
    if gen.canary:
        return canary_value(rng)
    if gen.sequence is not None:
        return gen.sequence.format(n=n)
    if gen.choice is not None:
        return rng.choice(gen.choice)
    if gen.int_range is not None:
        return rng.randint(*gen.int_range)
    if gen.faker is not None:
        return str(getattr(faker, gen.faker)(**gen.faker_args))
    return copy.deepcopy(gen.value)


def _kind(resource: Resource, name: str) -> str | None:
    """The JSON type the resource's schema gives field ``name`` (the first, if several)."""
    kind = resource.schema_.get("properties", {}).get(name, {}).get("type")
    return next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind


def _coerce(value: Any, kind: str | None, fmt: Any = None) -> Any:
    """A generated text as the schema's type (a sequence ``{n}`` for an integer key), and a
    date-time with a time zone as RFC 3339 wants (faker's ``iso8601`` has none)."""
    if isinstance(value, str) and fmt == "date-time" and "T" in value and \
            not value.endswith("Z") and "+" not in value[10:]:
        return value + "Z"
    if isinstance(value, str):
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
        except ValueError:
            return value
    return value


def build_records(resource: Resource, seed: int) -> list[dict[str, Any]]:
    records = copy.deepcopy(resource.records)
    if resource.generate is not None:
        from faker import Faker  # heavy: import only when a world is built

        faker = Faker()
        faker.seed_instance(seed)
        rng = random.Random(seed)
        for n in range(1, resource.generate.count + 1):
            records.append(
                {name: _coerce(_generate_field(gen, n, faker, rng), _kind(resource, name),
                               resource.schema_.get("properties", {}).get(name, {}).get("format"))
                 for name, gen in resource.generate.fields.items()}
            )
    return records


@dataclass
class Write:
    """One change to a resource, kept in the audit log."""

    tool: str
    operation: str
    resource: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    event: str  # the trace event of the request that caused it

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "operation": self.operation,
            "resource": self.resource,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "event": self.event,
        }


@dataclass
class ToolState:
    api: ToolAPI
    seed: int
    records: dict[str, list[dict[str, Any]]] = field(init=False)
    audit: list[Write] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)
    _replays: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.records = {
            name: build_records(res, self.seed + i)
            for i, (name, res) in enumerate(sorted(self.api.resources.items()))
        }

    def listed_tools(self) -> list[dict[str, Any]]:
        """The OpenAI function definitions of the operations this API documents."""
        return [
            {
                "type": "function",
                "function": {"name": name, "description": op.description,
                             "parameters": op.parameters},
                "annotations": op.annotations.model_dump(),
            }
            for name, op in self.api.operations.items()
            if not op.hidden
        ]

    def secrets(self, kinds: tuple[str, ...] = ("canary", "pii")) -> dict[str, str]:
        """Canary and/or PII values (``kinds``) → a label saying what they are
        (``crm.customers.C-001.email``)."""
        out: dict[str, str] = {}
        for rname, resource in self.api.resources.items():
            fields = [*(resource.canaries if "canary" in kinds else []),
                      *(resource.pii if "pii" in kinds else [])]
            for record in self.records[rname]:
                owner = str(record.get(resource.key, "?"))
                for fname in fields:
                    value = record.get(fname)
                    if isinstance(value, str) and len(value) >= 6:
                        out[value] = f"{self.api.name}.{rname}.{owner}.{fname}"
        return out

    def call(self, name: str, args: dict[str, Any], event: str,
             idempotency_key: str | None = None) -> tuple[int, dict[str, Any], bool]:
        """Carry out operation ``name``: (HTTP status, JSON body, whether it was a replay).

        A write with an ``idempotency_key`` already seen for that operation is not run again:
        the first answer is returned, as Stripe-style APIs do."""
        op = self.api.operations.get(name)
        if idempotency_key is None or op is None or op.annotations.readOnlyHint:
            return (*self._call(name, args, event), False)
        seen = self._replays.get((name, idempotency_key))
        if seen is not None:
            return (*copy.deepcopy(seen), True)
        status, body = self._call(name, args, event)
        self._replays[(name, idempotency_key)] = copy.deepcopy((status, body))
        return status, body, False

    def _call(self, name: str, args: dict[str, Any], event: str) -> tuple[int, dict[str, Any]]:
        """Sloppy like many real APIs unless the API says ``sloppy: false``: arguments are not
        validated against any schema, so absurd or broken values are stored."""
        op = self.api.operations.get(name)
        if op is None:
            return 404, {"error": f"unknown tool {name!r}"}
        if not self.api.sloppy:
            from ..checks.no_invalid_args_executed import schema_errors

            errors = schema_errors(op.parameters, args, formats=True)
            if errors:
                return 422, {"error": f"invalid arguments: {'; '.join(errors[:3])}"}
        if op.rename:
            args = {op.rename.get(k, k): v for k, v in args.items()}
        resource = self.api.resources[op.resource]
        rows = self.records[op.resource]
        if op.action is Action.GET:
            found = self._match(rows, args)
            if not found:
                return 404, {"error": f"no {op.resource} record matches {args}"}
            return 200, {"result": found[0]}
        if op.action is Action.SEARCH:
            return 200, {"result": self._search(op, rows, args)}
        if op.action is Action.CREATE:
            record = {**copy.deepcopy(op.defaults), **args}
            if resource.key not in record:
                record[resource.key] = self._new_key(op.resource, resource, rows)
            rows.append(record)
            self._write(name, op, None, record, event)
            return 200, {"result": record}
        if op.action is Action.UPDATE:
            ident = op.match or [resource.key]
            given = {k: args[k] for k in ident if k in args}
            found = self._match(rows, given) if len(given) == len(ident) else []
            if not found:
                what = ", ".join(f"{k}={args.get(k)!r}" for k in ident)
                return 404, {"error": f"no {op.resource} record with {what}"}
            before = copy.deepcopy(found[0])
            found[0].update({k: v for k, v in args.items() if k not in ident})
            self._write(name, op, before, found[0], event)
            return 200, {"result": found[0]}
        # DELETE: every match (no arguments: everything, like a careless bulk endpoint).
        doomed = self._match(rows, args)
        for record in doomed:
            rows.remove(record)
            self._write(name, op, record, None, event)
        return 200, {"result": {"deleted": len(doomed)}}

    def _new_key(self, rname: str, resource: Resource, rows: list[dict[str, Any]]) -> Any:
        """A created record's key: ``id_prefix`` + a counter (``PO-001``), or the next
        integer when the schema says the key is an integer."""
        if _kind(resource, resource.key) == "integer":
            used = [r[resource.key] for r in rows if isinstance(r.get(resource.key), int)]
            return max([*used, 0]) + 1
        taken = {str(r.get(resource.key)) for r in rows}
        while True:  # after the seeded records' keys, if they share the prefix
            n = self._counters[rname] = self._counters.get(rname, 0) + 1
            key = f"{resource.id_prefix}{n:03d}"
            if key not in taken:
                return key

    def _write(self, name: str, op: Operation, before: Any, after: Any, event: str) -> None:
        self.audit.append(
            Write(self.api.name, name, op.resource, op.action.value, copy.deepcopy(before),
                  copy.deepcopy(after), event)
        )

    @staticmethod
    def _match(rows: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for r in rows if all(k in r and str(r[k]) == str(v) for k, v in args.items())]

    @staticmethod
    def _search(op: Operation, rows: list[dict[str, Any]], args: dict[str, Any]) -> list[Any]:
        words = str(args.get("query", "")).lower().split()
        out = []
        for r in rows:
            text = " ".join(str(r.get(f, "")) for f in op.search_fields).lower()
            if not all(w in text for w in words):  # an empty query matches everything
                continue
            if any(k != "query" and str(r.get(k)) != str(v) for k, v in args.items()):
                continue
            out.append(r)
        return out

    def snapshot(self) -> dict[str, Any]:
        return {
            "records": copy.deepcopy(self.records),
            "audit": [w.to_json() for w in self.audit],
        }
