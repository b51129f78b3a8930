"""The user's own tool APIs as data (``--chaos-mocks`` / ``chaos_mocks``), as a user meets
them: a project with ``mocks/tools/orders.yaml``, scenarios that use it, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

ORDERS = """\
name: orders
description: A shop's orders and its customers.
resources:
  customers:
    key: customer_id
    schema:
      type: object
      required: [customer_id, name, email]
      properties:
        customer_id: {type: string}
        name: {type: string}
        email: {type: string, format: email}
        api_key: {type: string}
    generate:
      count: 3
      fields:
        customer_id: {sequence: "CU-{n}"}
        name: {faker: name}
        email: {faker: email}
        api_key: {canary: true}
    pii: [name, email]
    canaries: [api_key]
  orders:
    key: order_id
    id_prefix: "O-"
    schema:
      type: object
      required: [order_id, customer_id, quantity]
      properties:
        order_id: {type: string}
        customer_id: {type: string}
        quantity: {type: integer, minimum: 1, maximum: 100}
    records:
      - {order_id: O-100, customer_id: CU-1, quantity: 2}
operations:
  get_order:
    description: One order by id.
    action: get
    resource: orders
    annotations: {readOnlyHint: true}
    parameters:
      type: object
      properties: {order_id: {type: string}}
      required: [order_id]
  place_order:
    description: Place an order for a customer.
    action: create
    resource: orders
    parameters:
      type: object
      properties:
        customer_id: {type: string}
        quantity: {type: integer, minimum: 1, maximum: 100}
      required: [customer_id, quantity]
      additionalProperties: false
  delete_order:
    description: Delete an order.
    action: delete
    resource: orders
    annotations: {destructiveHint: true}
    parameters:
      type: object
      properties: {order_id: {type: string}}
      required: [order_id]
"""

SCENARIO = """\
version: 1
name: negative-order
category: data_integrity
seed: 4
timeout: 20
task: "Order 3 more for customer CU-1."
tools: [orders]
llm:
  - tool_call: {name: place_order, arguments: {customer_id: CU-1, quantity: -3}}
  - tool_call: {name: place_order, arguments: {customer_id: CU-1, quantity: 3}}
  - text: "Placed the order."
goal:
  record_written: {tool: orders, resource: orders, action: create}
expect:
  - records_valid: {tool: orders}
  - terminates: {}
"""


def agent_chaos(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with its own tool API and one scenario on it, run against the examples."""
    root = Path(__file__).resolve().parent.parent
    pytester.syspathinsert(root)
    pytester.makeini(INI + "chaos_paths = scen\nchaos_mocks = mocks\nchaos_agents =\n"
                     "    naive=examples.agents.naive:run\n"
                     "    guarded=examples.agents.guarded:run\n")
    (pytester.path / "mocks" / "tools").mkdir(parents=True)
    (pytester.path / "mocks" / "tools" / "orders.yaml").write_text(ORDERS)
    (pytester.path / "scen").mkdir()
    (pytester.path / "scen" / "negative-order.yaml").write_text(SCENARIO)
    return pytester


def test_a_scenario_on_the_users_tool_api_runs_and_its_checks_see_the_state(
        shop: pytest.Pytester, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = shop.runpytest("--chaos", f"--chaos-results={out}",
                            f"--chaos-report={tmp_path / 'r.html'}")
    result.assert_outcomes(passed=1, failed=1)
    runs = {r["agent"]: r for r in json.loads(out.read_text())["runs"]}
    naive = {v["check"]: v for v in runs["naive"]["verdicts"]}
    assert not naive["records_valid"]["passed"]
    assert "orders.orders.O-001: quantity: -3 is less than the minimum of 1" in \
        naive["records_valid"]["message"]
    guarded = {v["check"]: v for v in runs["guarded"]["verdicts"]}
    assert guarded["records_valid"]["passed"], guarded["records_valid"]["message"]


def test_the_validator_knows_the_users_operations(shop: pytest.Pytester) -> None:
    typo = SCENARIO.replace("name: place_order", "name: place_ordr").replace(
        "  - terminates: {}", "  - no_forbidden_call: {tool: delete_ordr}\n  - terminates: {}")
    (shop.path / "scen" / "typo.yaml").write_text(typo)
    result = agent_chaos("validate", "--mocks", "mocks", "scen", cwd=shop.path)
    assert result.returncode == 1, result.stdout
    assert "unknown tool 'delete_ordr' (did you mean 'delete_order'?)" in result.stderr
    assert "1 valid, 1 invalid" in result.stderr
    without = agent_chaos("validate", "scen/negative-order.yaml", cwd=shop.path)
    assert without.returncode == 1 and "unknown tool API 'orders'" in without.stderr


def test_list_tools_shows_the_users_operations(shop: pytest.Pytester) -> None:
    result = agent_chaos("list", "tools", "orders", "--mocks", "mocks", cwd=shop.path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "orders: A shop's orders and its customers."
    assert lines[1].endswith("mocks/tools/orders.yaml")
    assert "  resource customers (key customer_id, 3 records; pii name, email; canaries " \
           "api_key)" in lines
    assert "  place_order(customer_id: string, quantity: integer) -> create orders" in lines
    assert "  delete_order(order_id: string) -> delete orders  [destructive]" in lines
    every = agent_chaos("list", "tools", "--mocks", "mocks", cwd=shop.path).stdout
    assert "orders: " in every and "crm: " in every and "get_stock(" in every


def test_a_name_defined_twice_names_both_files(shop: pytest.Pytester) -> None:
    (shop.path / "mocks" / "tools" / "my-crm.yaml").write_text(
        ORDERS.replace("name: orders", "name: crm", 1))
    result = agent_chaos("list", "tools", "--mocks", "mocks", cwd=shop.path)
    assert result.returncode == 1
    assert "my-crm.yaml:1:7: name: tool API 'crm' is already defined in " in result.stderr
    assert str(Path("mocks", "tools", "crm.yaml")) in result.stderr


def test_a_mistake_in_a_tool_api_file_is_named_and_the_rest_of_the_suite_runs(
        shop: pytest.Pytester) -> None:
    broken = ORDERS.replace("resource: orders\n    annotations: {destructiveHint: true}",
                            "resource: order\n    annotations: {destructiveHint: true}")
    broken = broken.replace("email: {faker: email}", "email: {faker: emial}")
    broken = broken.replace("    pii: [name, email]", "    pii: [name, mail]\n    piii: []")
    (shop.path / "mocks" / "tools" / "orders.yaml").write_text(broken)
    shop.makepyfile(test_other="def test_other():\n    assert True\n")
    result = shop.runpytest("--chaos")
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    line = broken.splitlines().index("    piii: []") + 1
    assert f"orders.yaml:{line}:5: resources.customers.piii: unknown field 'piii' (did you " \
           f"mean 'pii'?); valid fields: canaries, generate," in text
    fixed = broken.replace("    piii: []\n", "")
    (shop.path / "mocks" / "tools" / "orders.yaml").write_text(fixed)
    result = agent_chaos("list", "tools", "--mocks", "mocks", cwd=shop.path)
    assert "resources.customers.generate.fields.email.faker: unknown faker provider 'emial' " \
           "(did you mean 'email'?)" in result.stderr
    assert "resources.customers.pii[1]: no field 'mail' in customers (did you mean " \
           "'email'?)" in result.stderr
    assert "operations.delete_order.resource: unknown resource 'order' (did you mean " \
           "'orders'?)" in result.stderr


def test_a_strict_api_refuses_what_breaks_its_schema() -> None:
    from harness._yaml import load_yaml
    from harness.world.catalog import ToolAPI
    from harness.world.state import ToolState

    data, _ = load_yaml(ORDERS, "orders.yaml")
    sloppy = ToolState(ToolAPI.model_validate(data), 1)
    assert sloppy.call("place_order", {"customer_id": "CU-1", "quantity": -3}, "e1")[0] == 200
    strict = ToolState(ToolAPI.model_validate({**data, "sloppy": False}), 1)
    status, body, _ = strict.call("place_order", {"customer_id": "CU-1", "quantity": -3}, "e1")
    assert status == 422 and "quantity: -3 is less than the minimum of 1" in body["error"]
    assert strict.records["orders"] == sloppy.records["orders"][:1]


def test_the_readmes_tool_api_example_is_valid(tmp_path: Path) -> None:
    from harness.world.catalog import get_catalog

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Your own tool APIs", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "orders.yaml").write_text(example)
    catalog = get_catalog((tmp_path,))
    api = catalog.tools["orders"]
    assert set(api.operations) == {"place_order", "find_orders", "export_all"}
    from harness.world.state import ToolState

    state = ToolState(api, 1)
    assert len(state.records["customers"]) == 21


def operations_table() -> str:
    """The README's table of the built-in tool APIs' operations, from the catalog."""
    from harness.world.catalog import get_catalog

    catalog = get_catalog()
    rows = ["| API | operations (`?`: optional argument) |", "|---|---|"]
    for name in sorted(catalog.tools):
        ops = []
        for oname, op in catalog.tools[name].operations.items():
            required = set(op.parameters.get("required", []))
            args = ", ".join(a if a in required else f"{a}?"
                             for a in op.parameters.get("properties", {}))
            marks = [m for m, on in (("read-only", op.annotations.readOnlyHint),
                                     ("destructive", op.annotations.destructiveHint),
                                     ("moves money", op.moves_money),
                                     ("hidden", op.hidden)) if on]
            ops.append(f"`{oname}({args})`" + (f" {', '.join(marks)}" if marks else ""))
        rows.append(f"| `{name}` | {'; '.join(ops)} |")
    return "\n".join(rows) + "\n"


def test_the_readme_lists_the_built_in_operations() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert operations_table() in readme, "update the README's table:\n" + operations_table()
