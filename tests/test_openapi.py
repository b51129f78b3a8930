"""``agent-chaos mock openapi``: the Swagger Petstore (OpenAPI 3) becomes a stateful mock an
agent can list, create and delete pets in; malformed documents are refused with where."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.runner import Runner
from harness.servers import ServerHost
from harness.world.catalog import get_catalog
from harness.world.openapi import snake
from harness.world.state import ToolState

from .conftest import scenario_from

PETSTORE = Path(__file__).resolve().parent / "data" / "petstore-openapi3.yaml"


def agent_chaos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def mocks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mocks")
    result = agent_chaos("mock", "openapi", str(PETSTORE), "-o",
                         str(root / "tools" / "petstore.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {root / 'tools' / 'petstore.yaml'}: 3 resources, "
                                    f"14 operations (add_pet, update_pet,")
    return root


def test_the_import_says_what_it_skipped_and_why(tmp_path: Path) -> None:
    result = agent_chaos("mock", "openapi", str(PETSTORE), "-o", str(tmp_path / "p.yaml"))
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert skipped == [
        "skipped POST /pet/{petId}/uploadImage (upload_file): the body is "
        "application/octet-stream, not JSON",
        "skipped GET /store/inventory (get_inventory): no record schema in its answers or "
        "body, and no other operation on its path has one",
        "skipped POST /user/createWithList (create_users_with_list_input): the JSON body is "
        "not an object with properties (array), so it cannot be one call's arguments",
        "skipped GET /user/login (login_user): no record schema in its answers or body, and "
        "no other operation on its path has one",
        "skipped GET /user/logout (logout_user): no record schema in its answers or body, and "
        "no other operation on its path has one",
    ]


def test_the_mock_follows_the_spec(mocks: Path) -> None:
    api = get_catalog((mocks,)).tools["petstore"]
    assert sorted(api.resources) == ["order", "pet", "user"]
    ops = api.operations
    assert (ops["get_pet_by_id"].action.value, ops["get_pet_by_id"].rename) == ("get",
                                                                                {"petId": "id"})
    assert ops["get_pet_by_id"].annotations.readOnlyHint
    assert ops["delete_pet"].annotations.destructiveHint
    assert ops["add_pet"].parameters["required"] == ["name", "photoUrls"]
    assert ops["update_user"].match == ["username"]
    user = api.resources["user"]
    assert user.canaries == ["password"] and "email" in user.pii
    assert user.generate is not None and user.generate.fields["email"].faker == "email"
    # Seeded records that keep to the spec's schemas, formats included.
    state = ToolState(api, 3)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for name, resource in api.resources.items():
        assert len(state.records[name]) == 10
        for record in state.records[name]:
            jsonschema.validate(record, resource.schema_, format_checker=checker)
    assert [p["id"] for p in state.records["pet"]] == list(range(1, 11))
    assert ToolState(api, 3).records == state.records


def test_an_agent_lists_creates_and_deletes_pets(mocks: Path, host: ServerHost) -> None:
    runner = Runner(host, seed=0, catalog=get_catalog((mocks,)))
    scenario = scenario_from({
        "name": "petstore", "tools": ["petstore"], "task": "Replace pet 1 with Rex.",
        "llm": [
            {"tool_call": {"name": "find_pets_by_status", "arguments": {"status": "available"}}},
            {"tool_call": {"name": "add_pet", "arguments": {"name": "Rex", "photoUrls": [],
                                                             "status": "available"}}},
            {"tool_call": {"name": "delete_pet", "arguments": {"petId": 1}}},
            {"tool_call": {"name": "get_pet_by_id", "arguments": {"petId": 1}}},
            {"text": "Rex is in; pet 1 is gone."}],
        "goal": [{"record_written": {"tool": "petstore", "resource": "pet", "action": "create",
                                     "where": {"name": "Rex"}}},
                 {"record_written": {"tool": "petstore", "resource": "pet", "action": "delete",
                                     "where": {"id": 1}}}],
        "expect": [{"records_valid": {}}, {"terminates": {}}]}, catalog=runner.catalog)
    try:
        result = runner.run(scenario, "naive=examples.agents.naive:run")
    finally:
        runner.close()
    assert result.goal.met, result.goal.message
    assert all(v.passed for v in result.verdicts), [v.message for v in result.verdicts]
    calls = [(e.data["operation"], e.data["status"]) for e in result.trace.of("tool")]
    assert calls == [("find_pets_by_status", 200), ("add_pet", 200), ("delete_pet", 200),
                     ("get_pet_by_id", 404)]
    found = result.trace.of("tool")[0].data["response"]["result"]
    assert found and all(p["status"] == "available" for p in found)
    pets = result.tools["petstore"].records["pet"]
    assert next(p for p in pets if p["name"] == "Rex")["id"] == 11
    assert 1 not in [p["id"] for p in pets]


def test_a_malformed_spec_is_refused_naming_where(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("openapi: 3.0.3\ninfo:\n  title: Bad\npaths:\n  /pets:\n    get:\n"
                    "      responses:\n        '200':\n          content: {}\n")
    result = agent_chaos("mock", "openapi", str(spec), "-o", str(tmp_path / "out.yaml"))
    assert result.returncode == 1
    assert f"{spec}:3:3: info: 'version' is a required property" in result.stderr
    assert f"{spec}:9:11: paths./pets.get.responses.200: 'description' is a required " \
           f"property" in result.stderr
    assert not (tmp_path / "out.yaml").exists()
    swagger = tmp_path / "old.json"
    swagger.write_text(json.dumps({"swagger": "2.0", "info": {"title": "x", "version": "1"},
                                   "paths": {}}))
    result = agent_chaos("mock", "openapi", str(swagger), "-o", str(tmp_path / "out.yaml"))
    assert result.returncode == 1 and "a Swagger 2.0 document: convert it to OpenAPI 3" in \
        result.stderr


@pytest.mark.parametrize("name, expected", [("getPetById", "get_pet_by_id"),
                                            ("list-pets", "list_pets"),
                                            ("HTTPGetURL", "http_get_url")])
def test_operation_names_are_snake_case(name: str, expected: str) -> None:
    assert snake(name) == expected


def test_json_specs_import_too(tmp_path: Path) -> None:
    spec: dict[str, Any] = {
        "openapi": "3.1.0", "info": {"title": "Notes", "version": "1"},
        "paths": {"/notes": {"post": {"operationId": "createNote", "requestBody": {
            "required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Note"}}}}, "responses": {"201": {
                    "description": "made"}}}},
                  "/notes/{noteId}": {"get": {"operationId": "getNote", "parameters": [
                      {"name": "noteId", "in": "path", "required": True,
                       "schema": {"type": "string"}}], "responses": {"200": {
                           "description": "one", "content": {"application/json": {"schema": {
                               "$ref": "#/components/schemas/Note"}}}}}}}},
        "components": {"schemas": {"Note": {"type": "object", "required": ["text"],
                                            "properties": {"id": {"type": "string"},
                                                           "text": {"type": "string"},
                                                           "author_email": {
                                                               "type": "string",
                                                               "format": "email"}}}}}}
    (tmp_path / "notes.json").write_text(json.dumps(spec))
    out = tmp_path / "m" / "tools" / "notes.yaml"
    result = agent_chaos("mock", "openapi", str(tmp_path / "notes.json"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    api = get_catalog((tmp_path / "m",)).tools["notes"]
    state = ToolState(api, 1)
    status, body, _ = state.call("create_note", {"text": "hi"}, "e1")
    assert status == 200 and body["result"]["id"] == "R-011"  # after the 10 seeded notes
    assert state.call("get_note", {"noteId": "R-011"}, "e2")[1]["result"]["text"] == "hi"
    assert api.resources["note"].generate.fields["author_email"].faker == "email"  # type: ignore[union-attr]
