"""The world over MCP, as the official ``mcp`` SDK's client sees it: the listing, calls that
are ``tool`` trace events like REST calls, and each fault type in its MCP form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.faults import FAULTS
from harness.runner import Runner, RunResult
from harness.world.mcp import MCP_FORMS

from .conftest import scenario_from

PROBE = "mcp_probe=tests.agents.mcp_probe:run"
STOCK = {"op": "get_stock", "args": {"sku": "COAT-01", "warehouse": "BER"}}
ORDER = {"op": "create_order", "args": {"sku": "COAT-01", "warehouse": "BER", "quantity": 2}}


def probe(runner: Runner, steps: list[dict[str, Any]], faults: list[dict[str, Any]] | None = None,
          **extra: Any) -> tuple[list[dict[str, Any]], RunResult]:
    scenario = scenario_from({"name": "mcp-probe", "task": json.dumps(steps),
                              "faults": faults or [], "llm": [{"repeat": {"text": "ok"}}],
                              "expect": [{"terminates": {}}], **extra})
    result = runner.run(scenario, PROBE)
    assert result.outcome.status == "completed", result.outcome
    return json.loads(result.outcome.output or "[]"), result


def test_the_listing_has_the_operations_schemas_and_annotations(runner: Runner) -> None:
    seen, _ = probe(runner, [{"list": True}, {"list": True, "api": "crm"}],
                    tools=["inventory", "crm"])
    every = {t["name"]: t for t in seen[0]["tools"]}
    assert list(every) == ["get_stock", "create_order", "cancel_order", "get_customer",
                           "search_customers", "update_customer", "delete_customer"]
    # (not the hidden ones: purge_inventory, export_customers)
    assert every["get_stock"]["annotations"] == {"readOnlyHint": True, "destructiveHint": False,
                                                 "idempotentHint": True, "openWorldHint": False}
    assert every["cancel_order"]["annotations"]["destructiveHint"] is True
    assert every["get_customer"]["inputSchema"]["required"] == ["customer_id"]
    assert [t["name"] for t in seen[1]["tools"]] == ["get_customer", "search_customers",
                                                     "update_customer", "delete_customer"]


def test_a_call_is_a_tool_event_and_its_result_structured_content(runner: Runner) -> None:
    seen, result = probe(runner, [STOCK, {**ORDER, "api": "inventory"},
                                  {"op": "purge_inventory", "args": {}}])
    assert seen[0]["is_error"] is False
    assert seen[0]["structured"]["quantity"] == 14
    assert json.loads(seen[0]["text"][0]) == seen[0]["structured"]
    assert seen[1]["structured"]["id"] == "PO-001"
    # A hidden operation is served but not listed, over MCP as over REST.
    assert seen[2]["structured"] == {"deleted": 4}
    events = [e.data for e in result.trace.of("tool")]
    assert [(e["operation"], e["status"], e["via"], e["listed"]) for e in events] == [
        ("get_stock", 200, "mcp", True), ("create_order", 200, "mcp", True),
        ("purge_inventory", 200, "mcp", False)]
    assert [w.operation for w in result.tools["inventory"].audit] == [
        "create_order", *["purge_inventory"] * 4]


def test_an_unknown_tool_is_a_json_rpc_error_and_traced(runner: Runner) -> None:
    seen, result = probe(runner, [{"op": "delete_everything", "args": {}}])
    assert seen[0]["error"] == "MCPError" and "Unknown tool: delete_everything" in \
        seen[0]["message"]
    event = result.trace.of("tool")[0].data
    assert (event["operation"], event["status"], event["listed"]) == ("delete_everything", 404,
                                                                      False)


def test_http_error_is_an_error_result_with_status_and_retry_after(runner: Runner) -> None:
    seen, result = probe(runner, [ORDER, ORDER], [
        {"http_error": {"target": "inventory", "status": 503, "retry_after": 2,
                        "when": {"call": 1}}}])
    assert seen[0]["is_error"] is True and seen[0]["structured"] is None
    text = seen[0]["text"][0]
    assert text.startswith("503 Service Unavailable: ")
    assert json.loads(text.split(": ", 1)[1]) == {
        "error": "Service Unavailable: try again later", "status": 503, "retry_after": 2.0}
    assert seen[1]["is_error"] is False
    assert len(result.tools["inventory"].audit) == 1  # the refused call was not carried out
    assert result.trace.of("tool")[0].data["effect"] == "error"


def test_hang_never_answers_and_does_not_carry_out_the_call(runner: Runner) -> None:
    seen, result = probe(runner, [{**ORDER, "timeout": 1.5}, ORDER], [
        {"hang": {"target": "inventory", "when": {"call": 1}}}])
    assert seen[0]["error"] in ("TimeoutError", "CancelledError") and seen[0]["seconds"] >= 1.5
    assert seen[1]["is_error"] is False
    assert len(result.tools["inventory"].audit) == 1
    assert result.trace.of("tool")[0].data["hang"] is True


def test_lost_response_commits_then_breaks_the_stream(runner: Runner) -> None:
    seen, result = probe(runner, [{**ORDER, "timeout": 3}, STOCK], [
        {"lost_response": {"target": "inventory.create_order"}}])
    assert "error" in seen[0] and "structured" not in seen[0], seen[0]
    assert seen[0]["seconds"] < 2.5, "the stream broke; the client did not wait it out"
    assert seen[1]["structured"]["sku"] == "COAT-01"
    assert [w.operation for w in result.tools["inventory"].audit] == ["create_order"]


def test_malformed_json_and_empty_body_carry_out_the_call_but_spoil_the_result(
        runner: Runner) -> None:
    seen, result = probe(runner, [ORDER, ORDER, STOCK], [
        {"malformed_json": {"target": "inventory", "when": {"call": 1}}},
        {"empty_body": {"target": "inventory", "status": 502, "when": {"call": 2}}}])
    assert seen[0]["is_error"] is False and seen[0]["structured"] is None
    with pytest.raises(json.JSONDecodeError):
        json.loads(seen[0]["text"][0])
    assert seen[0]["text"][0].startswith('{"result": {')
    assert seen[1] == {**seen[1], "is_error": True, "text": [], "structured": None}
    assert seen[2]["structured"]["quantity"] == 14
    assert len(result.tools["inventory"].audit) == 2


def test_slow_body_delivers_late(runner: Runner) -> None:
    seen, _ = probe(runner, [STOCK, STOCK], [
        {"slow_body": {"target": "inventory", "bytes_per_second": 100, "when": {"call": 1}}}])
    size = len(json.dumps({"result": seen[1]["structured"]}))
    assert seen[0]["seconds"] >= size / 100 * 0.9 and seen[0]["structured"]["sku"] == "COAT-01"
    assert seen[1]["seconds"] < seen[0]["seconds"]


def test_network_faults_reach_mcp_through_the_proxies(runner: Runner) -> None:
    seen, _ = probe(runner, [STOCK, {**STOCK, "api": "inventory"}], [
        {"latency": {"target": "inventory", "latency": 800}}])
    # Both the combined endpoint and the API's own carry the API's network faults.
    assert seen[0]["seconds"] >= 0.8 and seen[1]["seconds"] >= 0.8


def test_capacity_refusals_are_error_results(runner: Runner) -> None:
    seen, _ = probe(runner, [STOCK, STOCK], capacity={"inventory": {"rps": 1, "status": 429,
                                                                      "retry_after": 1}})
    assert seen[0]["is_error"] is False
    assert seen[1]["is_error"] is True and seen[1]["text"][0].startswith("429 Too Many Requests")


def test_every_http_fault_has_an_mcp_form_tested_here() -> None:
    import inspect
    import sys

    http = sorted(k for k in FAULTS if (c := FAULTS.get(k)) is not None and c.kind == "http")
    assert sorted(MCP_FORMS) == http
    source = inspect.getsource(sys.modules[__name__])
    assert [k for k in http if f'"{k}"' not in source] == []


def test_the_readme_documents_each_mcp_form() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert [k for k, v in MCP_FORMS.items() if f"| `{k}` | {v} |" not in readme] == []


def test_the_stdio_bridge_serves_the_same_world(runner: Runner) -> None:
    """``agent-chaos mcp-stdio``, launched by the SDK's stdio client as agents launch their
    MCP servers: the same tools, calls traced as MCP calls, faults and errors carried over."""
    seen, result = probe(runner, [
        {"list": True, "stdio": True, "timeout": 20}, {**STOCK, "stdio": True, "timeout": 20},
        {**ORDER, "stdio": True, "timeout": 20},
        {"op": "delete_everything", "args": {}, "stdio": True, "timeout": 20}], [
        {"http_error": {"target": "inventory.create_order", "status": 503, "retry_after": 1}}])
    assert [t["name"] for t in seen[0]["tools"]] == ["get_stock", "create_order",
                                                     "cancel_order"]
    assert seen[1]["structured"]["quantity"] == 14
    assert seen[2]["is_error"] is True and seen[2]["text"][0].startswith("503 ")
    assert seen[3]["error"] == "MCPError" and "Unknown tool" in seen[3]["message"]
    assert [(e.data["operation"], e.data["via"]) for e in result.trace.of("tool")] == [
        ("get_stock", "mcp"), ("create_order", "mcp"), ("delete_everything", "mcp")]


def test_the_stdio_bridge_says_what_is_missing() -> None:
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("CHAOS_")}
    out = subprocess.run([sys.executable, "-m", "harness.cli", "mcp-stdio"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no MCP endpoint: run it from an agent under the harness" \
        in out.stderr
