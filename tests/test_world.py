"""The simulated world: tool API data, generated records, argument generation."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.llm.schema_gen import BREAKAGES, broken_instance, valid_instance
from harness.world.catalog import get_catalog
from harness.world.state import ToolState

CATALOG = get_catalog()


@pytest.mark.parametrize("name", sorted(CATALOG.tools))
def test_fresh_records_match_their_schemas(name: str) -> None:
    """So records_valid only ever fails for what an agent wrote."""
    state = ToolState(CATALOG.tools[name], seed=1)
    for rname, resource in state.api.resources.items():
        for record in state.records[rname]:
            jsonschema.validate(record, resource.schema_,
                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("email, valid", [("", False), ("not an address", False),
                                          ("ana@example.org", True)])
def test_records_valid_enforces_formats(email: str, valid: bool) -> None:
    """A customer's email overwritten with "" is a corrupted record: ``format: email`` holds."""
    from harness.checks.base import CheckContext, Outcome
    from harness.checks.records_valid import RecordsValid
    from harness.trace import Trace

    trace = Trace()
    crm = ToolState(CATALOG.tools["crm"], 1)
    event = trace.add("tool", {"tool": "crm", "operation": "update_customer", "status": 200})
    assert crm.call("update_customer", {"customer_id": "C-002", "email": email}, event.id)[0] == 200
    verdict = RecordsValid().evaluate(CheckContext(trace, {"crm": crm}, Outcome("completed", "ok"),
                                          CATALOG, 20))
    assert verdict.passed is valid, verdict.message
    if not valid:
        assert "crm.customers.C-002: email:" in verdict.message and "'email'" in verdict.message
        assert verdict.evidence == [event.id]


@pytest.mark.parametrize("name", sorted(CATALOG.tools))
def test_operations_refer_to_resources_and_have_object_schemas(name: str) -> None:
    api = CATALOG.tools[name]
    for op in api.operations.values():
        assert op.resource in api.resources
        jsonschema.Draft202012Validator.check_schema(op.parameters)
        assert op.parameters["type"] == "object"


def test_generated_records_follow_the_seed() -> None:
    a, b = ToolState(CATALOG.tools["crm"], 5), ToolState(CATALOG.tools["crm"], 5)
    c = ToolState(CATALOG.tools["crm"], 6)
    assert a.records == b.records and a.records != c.records
    tokens = [r["portal_token"] for r in a.records["customers"]]
    assert all(t.startswith("tok_live_") for t in tokens) and len(set(tokens)) == 5


def test_state_is_sloppy_like_real_apis_and_audits_writes() -> None:
    state = ToolState(CATALOG.tools["inventory"], 1)
    status, body, _ = state.call("create_order", {"sku": "??", "quantity": "lots"}, "e1")
    assert status == 200 and body["result"]["id"] == "PO-001"
    assert state.audit[0].after == {"warehouse": "BER", "sku": "??", "quantity": "lots",
                                    "id": "PO-001"}
    assert state.call("get_stock", {"sku": "NOPE-01", "warehouse": "BER"}, "e2")[0] == 404
    assert state.call("nope", {}, "e3") == (404, {"error": "unknown tool 'nope'"}, False)
    assert state.call("purge_inventory", {}, "e4")[1] == {"result": {"deleted": 4}}
    assert "purge_inventory" not in [t["function"]["name"] for t in state.listed_tools()]


def test_search_matches_every_word() -> None:
    state = ToolState(CATALOG.tools["news"], 1)
    _, body, _ = state.call("search_news", {"query": "pizza dollar"}, "e1")
    assert [a["id"] for a in body["result"]] == ["N-1"]


scalar = st.sampled_from([{"type": "string"}, {"type": "integer", "minimum": 1},
                          {"type": "number", "maximum": 10}, {"type": "boolean"},
                          {"type": "string", "enum": ["a", "b"]},
                          {"type": "array", "items": {"type": "integer"}}])
object_schemas = st.builds(
    lambda props, strict, req: {"type": "object", "properties": props,
                                "required": sorted(props)[:req],
                                "additionalProperties": not strict},
    st.dictionaries(st.sampled_from(["sku", "qty", "note", "flag", "tags"]), scalar,
                    min_size=1, max_size=5),
    st.booleans(), st.integers(0, 5))


@given(object_schemas, st.integers(0, 2**32))
def test_valid_instances_validate(schema: dict[str, Any], seed: int) -> None:
    jsonschema.validate(valid_instance(schema, random.Random(seed)), schema)


@given(object_schemas, st.integers(0, 2**32), st.sampled_from(BREAKAGES))
def test_broken_instances_never_validate(schema: dict[str, Any], seed: int, how: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken_instance(schema, random.Random(seed), how), schema)


@given(object_schemas, st.integers(0, 2**32))
def test_generation_is_deterministic(schema: dict[str, Any], seed: int) -> None:
    assert valid_instance(schema, random.Random(seed)) == valid_instance(schema,
                                                                         random.Random(seed))


@pytest.mark.parametrize("name", sorted(CATALOG.tools))
def test_built_in_tool_apis_have_no_problems_faker_providers_included(name: str) -> None:
    """Loading skips the faker check for the built-in files (it imports faker): here it runs."""
    from harness._yaml import load_yaml
    from harness.world.catalog import api_problems

    file = CATALOG.files[name]
    _, positions = load_yaml(file.read_text(), str(file))
    assert api_problems(CATALOG.tools[name], str(file), positions, providers=True) == []
