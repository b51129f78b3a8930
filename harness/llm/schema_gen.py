"""Deterministic argument generation from a tool's JSON schema: valid ones, and ones broken on
purpose (wrong type, missing required, extra field), driven by a seeded ``random.Random``."""

from __future__ import annotations

import copy
import random
from typing import Any, Literal

Breakage = Literal["wrong_type", "missing_required", "extra_field"]
BREAKAGES: tuple[Breakage, ...] = ("wrong_type", "missing_required", "extra_field")

_WORDS = ["alpha", "bravo", "delta", "COAT-01", "BER", "ACME", "C-001", "ACC-001"]


def valid_instance(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value that satisfies the simple JSON-schema subset tools use."""
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if schema.get("enum"):
        return copy.deepcopy(rng.choice(schema["enum"]))
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            name: valid_instance(sub, rng)
            for name, sub in props.items()
            if name in required or rng.random() < 0.5
        }
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        low = int(schema.get("minItems", 1))
        return [valid_instance(items, rng) for _ in range(max(low, 1))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 11) - 1)
        high = max(high, low)
        value = rng.randint(int(low), int(high)) if kind == "integer" else round(
            rng.uniform(float(low), float(high)), 2
        )
        return value
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    text = rng.choice(_WORDS)
    low = int(schema.get("minLength", 0))
    return (text * (low // len(text) + 1))[: max(low, len(text))]


def _wrong_value(schema: dict[str, Any]) -> Any:
    kind = schema.get("type", "string")
    if kind in ("integer", "number"):
        return "a lot"
    if kind == "boolean":
        return "maybe"
    if kind in ("object", "array"):
        return "not-a-structure"
    return 12345


def broken_instance(schema: dict[str, Any], rng: random.Random, how: Breakage) -> dict[str, Any]:
    """Arguments that violate ``schema`` in the way ``how`` names (falling back to an extra field
    when the schema leaves no room for that breakage)."""
    args = valid_instance(schema, rng)
    if not isinstance(args, dict):
        args = {}
    props: dict[str, Any] = schema.get("properties", {})
    required = [r for r in schema.get("required", []) if r in props]
    if how == "missing_required" and required:
        args.pop(rng.choice(required), None)
        return args
    if how == "wrong_type" and props:
        name = rng.choice(sorted(props))
        args[name] = _wrong_value(props[name])
        return args
    if schema.get("additionalProperties", True) is False or not props:
        args["unexpected_field"] = "surprise"
        return args
    # The schema allows extra fields: break a type instead, so the result is really invalid.
    name = rng.choice(sorted(props))
    args[name] = _wrong_value(props[name])
    return args
