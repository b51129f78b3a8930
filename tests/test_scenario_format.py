"""Scenario format v1: every class of user mistake is reported with file:line:col, field path
and what was expected, all at once, with no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness._paths import builtin_scenarios
from harness.errors import ScenarioError
from harness.scenario import json_schema, load_scenario

VALID = """\
version: 1
name: ok
category: data_integrity
task: "Check stock."
tools: [inventory]
llm:
  - tool_call: {name: get_stock, arguments: {sku: COAT-01, warehouse: BER}}
  - text: "done"
expect:
  - terminates: {}
goal: {answer_given: {}}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = [str(p) for p in info.value.problems]
    assert all(line.startswith(f"{path}:") for line in lines), lines
    return [line.removeprefix(f"{path}:") for line in lines]


def test_valid_scenario_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(VALID)
    scenario = load_scenario(path)
    assert scenario.name == "ok" and scenario.timeout == 30 and len(scenario.script.turns) == 2


@pytest.mark.parametrize("path", sorted(builtin_scenarios().glob("*.yaml")), ids=lambda p: p.stem)
def test_builtin_scenarios_are_valid(path: Path) -> None:
    load_scenario(path)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    assert problems(tmp_path, "version: 1\nllm: [a,\n") == [
        "3:1: YAML error: expected the node content, but found '<stream end>'"]


def test_duplicate_key(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID + "name: again\n")
    assert found == ['12:1: YAML error: found duplicate key "name" with value "again" '
                     '(original value: "ok") (first defined at line 1)']


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb += f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    assert problems(tmp_path, bomb) == [
        "1:1: document expands to more than 50000 nodes (an alias bomb?)"]


@pytest.mark.hostile
def test_a_document_of_too_many_nodes_is_refused_while_it_is_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The node cap stops the parser itself: a file under the size cap but with a million
    nodes costs the work of the cap's worth, not of the million."""
    import harness._yaml

    monkeypatch.setattr(harness._yaml, "MAX_NODES", 1000)

    def never(*args: object) -> None:
        raise AssertionError("the whole document was parsed before it was refused")

    monkeypatch.setattr(harness._yaml._Converter, "convert", never)
    flat = "a: [" + ",".join(["1"] * 1_000_000) + "]\n"
    assert problems(tmp_path, flat) == [
        "1:1: document has more than 1000 nodes (a scenario has hundreds)"]


def test_python_tags_are_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID.replace('task: "Check stock."',
                                             "task: !!python/object/apply:os.system [ls]"))
    assert found == ["4:7: task: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' "
                     "is not allowed (scenarios are plain data)"]


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- just\n- a list\n")[0].startswith(
        "1:1: a scenario is a mapping of keys")
    assert "an empty document" in problems(tmp_path, "")[0]


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID + "timout: 5\n")
    assert found[0].startswith("12:1: timout: unknown key 'timout' (did you mean 'timeout'?);"
                               " valid keys: approvals, capacity, category,")


def test_enum_lists_valid_values(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID.replace("data_integrity", "securty"))
    assert found == ["3:11: category: Input should be 'resource_exhaustion', 'data_integrity', "
                     "'security', 'loop', 'context', 'hallucination', 'network' or 'load' "
                     "(got 'securty') (did you mean 'security'?)"]


def test_wrong_types_and_missing_keys(tmp_path: Path) -> None:
    text = VALID.replace("version: 1\n", "").replace('task: "Check stock."', "task: 5")
    found = problems(tmp_path, text + "timeout: soon\n")
    assert ": version: required key is missing" in found[0]
    assert "task: expected text or a list of texts (the user's turns), got 5" in \
        " ".join(found)
    assert any(p.startswith("11:10: timeout: Input should be a valid number") for p in found)


def test_unknown_behaviour_and_check_list_valid_names(tmp_path: Path) -> None:
    text = VALID.replace("tool_call:", "tool_cal:").replace("terminates:", "terminate:")
    found = problems(tmp_path, text)
    assert found[0].startswith("7:5: llm[0].tool_cal: unknown behaviour 'tool_cal' "
                               "(did you mean 'tool_call'?); valid behaviours: context_overflow,")
    assert found[1].startswith("10:5: expect[0].terminate: unknown check 'terminate' "
                               "(did you mean 'terminates'?); valid checks: approval_required,")


def test_bad_parameters(tmp_path: Path) -> None:
    text = VALID.replace('- text: "done"', "- error: {status: 418, tims: 2}").replace(
        "terminates: {}", "business_bounds: {tool: inventory, field: quantity}")
    found = problems(tmp_path, text)
    assert any("llm[1].error.status: Input should be 400, 401" in p and "(got 418)" in p
               for p in found)
    assert any("llm[1].error.tims: unknown key 'tims' (did you mean 'times'?)" in p
               for p in found)
    assert any("expect[0].business_bounds: give 'min', 'max' or both" in p for p in found)


def test_names_must_exist_in_the_catalog(tmp_path: Path) -> None:
    text = VALID.replace("tools: [inventory]", "tools: [inventory, crmm]") + (
        "injections:\n  - {payload: nope, into: email.outbox.M.body}\n")
    found = problems(tmp_path, text)
    assert "5:20: tools[1]: unknown tool API 'crmm' (did you mean 'crm'?); valid tool APIs: " \
           "crm, email, inventory, news, payments, trading" in found
    assert any("injections[0].payload: unknown payload 'nope'; valid payloads:" in p
               for p in found)
    assert any("injections[0].into: tool API 'email' is not in this scenario's tools" in p
               for p in found)


def test_check_parameters_refer_to_scenario_tools(tmp_path: Path) -> None:
    text = VALID.replace("terminates: {}", "no_forbidden_call: {tool: send_emial}")
    found = problems(tmp_path, text)
    assert found == ["10:24: expect[0].no_forbidden_call: unknown tool 'send_emial'; valid: "
                     "cancel_order, create_order, get_stock, purge_inventory"]


def test_nested_turns_are_validated(tmp_path: Path) -> None:
    text = VALID.replace('- text: "done"', "- repeat: {txt: hi}\n  - obey_injection: "
                                           "{otherwise: {error: {}}}")
    found = problems(tmp_path, text)
    assert any("llm[1].repeat.txt: unknown behaviour 'txt' (did you mean 'text'?)" in p
               for p in found)
    assert any("llm[2].obey_injection.otherwise.error.status: required key is missing" in p
               for p in found)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("name: ok", "name: Not OK").replace("tool_call:", "tool_cal:")
    found = problems(tmp_path, text + "timout: 1\n")
    assert len(found) == 3


def test_published_schema_is_current() -> None:
    committed = Path(__file__).parent.parent / "harness" / "scenario.schema.json"
    assert json.loads(committed.read_text()) == json.loads(json.dumps(json_schema())), \
        "run: agent-chaos schema -o harness/scenario.schema.json"


@pytest.mark.parametrize("path", sorted(builtin_scenarios().glob("*.yaml")), ids=lambda p: p.stem)
def test_schema_accepts_builtin_scenarios(path: Path) -> None:
    from ruamel.yaml import YAML

    data = json.loads(json.dumps(YAML(typ="safe").load(path.read_text())))
    jsonschema.Draft202012Validator(json_schema()).validate(data)


def test_schema_rejects_unknown_behaviour() -> None:
    doc = {"version": 1, "name": "x", "category": "loop", "task": "t",
           "llm": [{"tool_cal": {}}], "goal": {"answer_given": {}},
           "expect": [{"terminates": {}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(doc)


def test_load_mistakes_name_line_field_and_choices(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID.replace('"Check stock."', '"Check {sku} for {custmer}."')
                     + "load: {users: 5}\n"
                     + "capacity: {crm: {rps: 5}, inventory: {status: 500}}\n"
                     + "expect_more: 1\n")
    assert found[:2] == [
        "13:47: capacity.inventory.status: Input should be 429 or 503 (got 500)",
        "12:7: load: give 'duration' (seconds of load) or a 'ramp' (got {'users': 5})"]
    assert found[2].startswith("14:1: expect_more: unknown key 'expect_more'")
    found = problems(tmp_path, VALID + "capacity: {inventory: {retry_after: 2}}\n")
    assert found == ["12:23: capacity.inventory: give 'rps', 'concurrency' or both (got "
                     "{'retry_after': 2})"]
    found = problems(tmp_path, VALID.replace('"Check stock."', '"Check {sku} for {custmer}."')
                     .replace("  - terminates: {}", "  - terminates: {}\n"
                              "  - no_cross_conversation_leak: {}\n  - error_budget: 0.1")
                     + "load: {users: 5, duration: 5, records: inventory.stok}\n"
                     + "capacity: {crm: {rps: 5}}\n")
    assert found == [
        "15:12: capacity.crm: 'crm' is not one of this scenario's tool APIs (inventory)",
        "14:40: load.records: inventory has no resource 'stok'; valid: orders, stock"]
    found = problems(tmp_path, VALID.replace("  - terminates: {}",
                                             "  - no_cross_conversation_leak: {}")
                     + "load: {users: 5, duration: 5}\n")
    assert found == [
        "10:33: expect[0].no_cross_conversation_leak: no_cross_conversation_leak needs to know "
        "whose data each task is about: name the records that fill the task in load.records, "
        "e.g. 'records: crm.customers'"]
    found = problems(tmp_path, VALID.replace('"Check stock."', '"Check {sku} for {custmer}."')
                     + "load: {users: 5, duration: 5, records: inventory.stock}\n")
    assert found == ["4:7: task: the placeholder {custmer} is not filled by anything; valid "
                     "placeholders: ticket, fields of inventory.stock: name, quantity, season, "
                     "sku, warehouse"]
    found = problems(tmp_path, VALID + "load: {users: 2, duration: 1, locustfile: mine.py}\n")
    assert found == [f"12:43: load.locustfile: no such file: {tmp_path}/mine.py (a "
                     f"locustfile's path is relative to the scenario file)"]
    found = problems(tmp_path, VALID.replace("  - terminates: {}", "  - error_budget: 0.1"))
    assert found == ["10:19: expect[0].error_budget: error_budget judges a run under load: add "
                     "a 'load:' section (users, duration) to the scenario"]


def test_fault_mistakes_name_line_field_and_choices(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID + """\
faults:
  - latncy: {target: inventory, latency: 100}
  - latency: {target: inventory, ms: 100}
  - http_error: {target: inventory.get_stock, status: 418}
  - http_error: {target: inventory, status: 503, when: {call: 2, calls: [3, 1]}}
""")
    assert found == [
        "13:5: faults[0].latncy: unknown fault 'latncy' (did you mean 'latency'?); valid "
        "faults: bandwidth, empty_body, hang, http_error, latency, limit_data, lost_response, "
        "malformed_json, reset_peer, slicer, slow_body, slow_close, timeout",
        "14:14: faults[1].latency.latency: required key is missing",
        "14:34: faults[1].latency.ms: unknown key 'ms'; valid keys: jitter, latency, stream, "
        "target, toxicity, when",
        "15:55: faults[2].http_error.status: Input should be 408, 429, 500, 502, 503 or 504 "
        "(got 418)",
        "16:56: faults[3].http_error.when: give 'call' or 'calls', not both "
        "(got {'call': 2, 'calls': [3, 1]})",
    ]


def test_fault_targets_and_schedules_are_checked_against_the_scenario(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID + """\
upstreams: {db: "127.0.0.1:5432", LLM: nowhere}
faults:
  - latency: {target: inventry, latency: 100}
  - http_error: {target: inventory.get_stok, status: 503}
  - timeout: {target: inventory, when: {call: 1}}
  - latency: {target: inventory, latency: 5, stream: upstream, when: {calls: [1, 2]}}
  - latency: {target: db, latency: 5, when: {probability: 0.5}}
  - lost_response: {target: db}
""")
    assert found[0].startswith("12:35: upstreams.LLM: an upstream's name is lower-case")
    assert found[1] == "12:40: upstreams.LLM: expected host:port, e.g. 127.0.0.1:5432 " \
                       "(got 'nowhere')"
    assert found[2].startswith("14:23: faults[0].latency.target: unknown target 'inventry' "
                               "(did you mean 'inventory'?); valid targets: llm, inventory, db")
    assert found[3].startswith("15:26: faults[1].http_error.target: inventory has no "
                               "operation 'get_stok'; valid: cancel_order, create_order, "
                               "get_stock")
    assert found[4].startswith("16:40: faults[2].timeout.when: switching timeout off closes "
                               "every connection it holds")
    assert "use the HTTP fault 'hang' for one call" in found[4]
    assert found[5].startswith("17:54: faults[3].latency.stream: a schedule by call switches "
                               "the toxic on when the call has arrived")
    assert found[6].startswith("18:45: faults[4].latency.when: the harness does not see calls "
                               "to the upstream 'db'")
    assert found[7].startswith("19:29: faults[5].lost_response.target: lost_response is an "
                               "HTTP fault from the harness's own services")
    assert found[7].endswith("network faults (bandwidth, latency, limit_data, reset_peer, "
                             "slicer, slow_close, timeout)")
    assert len(found) == 8


def test_a_scenario_without_a_goal_is_told_to_state_one(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID.replace("goal: {answer_given: {}}\n", ""))
    assert len(found) == 1
    assert found[0].startswith("1:1: goal: required key is missing: say what doing the job "
                               "means in this world, so that an agent that does nothing "
                               "cannot pass")
    assert "valid goals: all_of, answer_given, answer_mentions, any_of, approval_requested, " \
           "not, record_written, tool_called" in found[0]


def test_goal_mistakes_name_line_field_and_choices(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID.replace("goal: {answer_given: {}}\n", """\
goal:
  all_of:
    - tool_caled: {tool: get_stock}
    - tool_called: {tool: get_stonk}
    - record_written: {tool: inventory, resource: order}
    - not: {answer_mentions: {}}
    - any_of: []
"""))
    assert found == [
        "13:7: goal.all_of[0].tool_caled: unknown goal 'tool_caled' (did you mean "
        "'tool_called'?); valid goals: all_of, answer_given, answer_mentions, any_of, "
        "approval_requested, not, record_written, tool_called",
        "16:30: goal.all_of[3].not.answer_mentions: give 'any', 'all' or 'regex' (got {})",
        "17:15: goal.all_of[4].any_of: any_of takes a non-empty list of goals (got [])",
    ]
    found = problems(tmp_path, VALID.replace("goal: {answer_given: {}}\n", """\
goal:
  - tool_called: {tool: get_stonk}
  - record_written: {tool: inventory, resource: order}
"""))
    assert found == [
        "12:25: goal[0].tool_called.tool: unknown tool 'get_stonk' (did you mean "
        "'get_stock'?); valid: cancel_order, create_order, get_stock, purge_inventory",
        "13:49: goal[1].record_written.resource: unknown resource 'order' (did you mean "
        "'orders'?); valid: orders, stock",
    ]


@pytest.mark.parametrize("address", ["10.1.2.3:5432", "169.254.169.254:80", "example.com:443",
                                     "[2001:db8::1]:80"])
def test_upstreams_off_this_machine_are_refused_unless_allowed(tmp_path: Path,
                                                               address: str) -> None:
    text = VALID + f'upstreams: {{db: "{address}"}}\n'
    found = problems(tmp_path, text)
    assert found == [f"12:17: upstreams.db: {address} is not on this machine: the harness "
                     f"keeps a run on loopback (127.0.0.0/8, ::1, localhost), so a scenario "
                     f"cannot aim an agent's faults at another host; to put a remote service "
                     f"behind a proxy on purpose, pass --chaos-allow-remote (agent-chaos "
                     f"validate --allow-remote)"]
    path = tmp_path / "remote.yaml"
    path.write_text(text)
    assert load_scenario(path, allow_remote=True).upstreams == {"db": address}


@pytest.mark.parametrize("address", ["127.0.0.1:5432", "127.9.9.9:1", "localhost:80",
                                     "[::1]:80"])
def test_loopback_upstreams_are_accepted(tmp_path: Path, address: str) -> None:
    path = tmp_path / "local.yaml"
    path.write_text(VALID + f'upstreams: {{db: "{address}"}}\n')
    assert load_scenario(path).upstreams == {"db": address}


def test_a_50_mb_file_is_refused_by_its_size_before_parsing(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.scenario

    path = tmp_path / "huge.yaml"
    with path.open("w") as f:
        f.write(VALID)
        f.write("description: " + "x" * (50 * 2**20) + "\n")

    def never(*args: object) -> None:
        raise AssertionError("a huge file reached the YAML parser")

    monkeypatch.setattr(harness.scenario, "load_yaml", never)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "the file is 50.0 MiB; a scenario file may be at most 2 MiB" in str(info.value)
