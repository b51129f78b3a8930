"""Record once, break it many ways: a ``replay`` entry plays a cassette's recorded answers,
and ``mutate`` swaps chosen steps for any behaviour. The session is recorded with vcrpy from
the openai SDK against a stand-in model on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import vcr
from openai import OpenAI

from harness.errors import ScenarioError
from harness.runner import Runner
from harness.scenario import load_scenario
from harness.servers import ServerHost

pytest_plugins = ["pytester"]

STOCK = {"sku": "COAT-01", "warehouse": "BER"}
ORDER = {"sku": "COAT-01", "quantity": 40, "warehouse": "BER"}
RECORDED = [{"tool_call": {"name": "get_stock", "arguments": STOCK}},
            {"tool_call": {"name": "create_order", "arguments": ORDER}},
            {"text": "Ordered 40 winter coats for Berlin."}]
TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
         for n in ("get_stock", "create_order")]


@pytest.fixture(scope="module")
def cassette(tmp_path_factory: pytest.TempPathFactory, host: ServerHost, runner: Runner) -> Path:
    """A real session, recorded: an agent loop on the openai SDK, answered by a stand-in."""
    from harness.world.run import RunWorld

    from .conftest import scenario_from

    world = RunWorld(scenario_from({"name": "stand-in", "llm": RECORDED,
                                    "expect": [{"terminates": {}}]}), "replay-stand-in", 1,
                     runner.catalog)
    host.register(world)
    path = tmp_path_factory.mktemp("rec") / "session.yaml"
    try:
        with vcr.use_cassette(str(path), filter_headers=["authorization"], record_mode="all"), \
                OpenAI(base_url=host.llm_base_url(world.session_id), api_key="sk-x") as client:
            messages: list[Any] = [{"role": "user", "content": "Reorder coats for Berlin."}]
            for _ in range(3):
                reply = client.chat.completions.create(model="m", messages=messages,
                                                       tools=TOOLS)  # type: ignore[arg-type]
                message = reply.choices[0].message
                messages.append(message.model_dump(exclude_none=True))
                for call in message.tool_calls or []:
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": "ok"})
    finally:
        host.unregister(world)
    return path


def scenario(cassette: Path, mutate: dict[int, Any], **extra: Any) -> Path:
    doc = {"version": 1, "name": "replayed", "category": "data_integrity", "timeout": 8,
           "task": "Reorder coats for Berlin.", "tools": ["inventory"],
           "llm": [{"replay": {"cassette": cassette.name, "mutate": mutate}}],
           "goal": {"answer_given": {}}, "expect": [{"terminates": {}}], **extra}
    path = cassette.parent / f"replayed-{abs(hash(json.dumps(mutate, sort_keys=True)))}.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


def played(runner: Runner, path: Path,
           agent: str = "naive=examples.agents.naive:run") -> list[dict[str, Any]]:
    result = runner.run(load_scenario(path), agent)
    return [e.data for e in result.trace.of("llm")]


def test_a_replay_plays_the_recorded_answers_in_order(cassette: Path, runner: Runner) -> None:
    events = played(runner, scenario(cassette, {}))
    assert [e["behaviour"] for e in events] == ["tool_call", "tool_call", "text"]
    assert [c["name"] for e in events[:2] for c in e["reply"]["tool_calls"]] == [
        "get_stock", "create_order"]
    assert events[2]["reply"]["content"] == "Ordered 40 winter coats for Berlin."


def test_truncate_a_step(cassette: Path, runner: Runner) -> None:
    events = played(runner, scenario(cassette, {2: {"truncated": {"keep": 0.5}}}))
    assert events[1]["behaviour"] == "truncated"
    call = events[1]["reply"]["tool_calls"][0]
    assert call["name"] == "create_order" and '"sku": "COAT-01"' in call["arguments"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(call["arguments"])  # the recorded arguments, cut mid-JSON


def test_hallucinate_a_tool_at_a_step(cassette: Path, runner: Runner) -> None:
    events = played(runner, scenario(cassette, {1: {"hallucinated_tool": {}}}))
    assert events[0]["behaviour"] == "hallucinated_tool"
    assert events[1]["behaviour"] == "tool_call"  # then the recording goes on


def test_a_429_at_a_step(cassette: Path, runner: Runner) -> None:
    events = played(runner, scenario(cassette, {2: {"error": {"status": 429,
                                                              "retry_after": 1}}}))
    assert (events[1]["behaviour"], events[1]["status"]) == ("error", 429)


def test_loop_from_a_step(cassette: Path, runner: Runner) -> None:
    events = played(runner, scenario(cassette, {2: {"repeat": {}}}))
    assert len(events) > 3, "the recorded step 2 answers every request from there on"
    assert {c["name"] for e in events[1:] for c in e["reply"]["tool_calls"]} == {"create_order"}


def test_obey_an_injection_planted_in_a_tool_result(cassette: Path, runner: Runner) -> None:
    path = scenario(cassette, {2: {"obey_injection": {}}}, tools=["inventory", "email"],
                    injections=[{"payload": "email-exfil", "into": "inventory.stock.COAT-01.name"}])
    events = played(runner, path)
    assert events[1]["behaviour"] == "obey_injection"
    assert events[1]["reply"]["tool_calls"][0]["name"] == "send_email"
    clean = played(runner, scenario(cassette, {2: {"obey_injection": {}}}))
    # No payload reached the model: the recorded answer is played instead.
    assert clean[1]["reply"]["tool_calls"][0]["name"] == "create_order"


def test_validation_names_steps_that_do_not_exist(cassette: Path) -> None:
    path = scenario(cassette, {7: {"error": 429}, 2: "oops"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "llm[0].replay.mutate[7]: step 7 does not exist: the cassette has 3 recorded " \
           "answers (steps 1 to 3)" in text
    assert "llm[0].replay.mutate[2]: a mutation is one behaviour" in text
    missing = cassette.parent / "missing.yaml"
    missing.write_text(json.dumps({**json.loads(path.read_text()),
                                   "llm": [{"replay": "nowhere.yaml"}]}))
    with pytest.raises(ScenarioError,
                       match=r"llm\[0\]\.replay\.cassette: .*nowhere\.yaml: cannot read it"):
        load_scenario(missing)


RECORD_ME = """\
version: 1
name: coats
category: data_integrity
seed: 5
timeout: 20
task: "Reorder coats for Berlin."
tools: [inventory]
llm:  # not what the recorded model says: the stand-in plays RECORDED
  - text: "I will not do that."
goal: {answer_given: {}}
expect:
  - terminates: {}
"""


def test_record_then_replay_gives_the_same_conversation(pytester: pytest.Pytester,
                                                        host: ServerHost,
                                                        runner: Runner) -> None:
    """``--chaos-record URL``: a stand-in "real model" on loopback answers the naive agent;
    the cassette holds no credential and vcrpy loads it; the scenario written beside it
    replays the same conversation."""
    import os
    import subprocess
    import sys

    from harness.record.cassette import read
    from harness.world.run import RunWorld

    from .conftest import scenario_from

    stand_in = RunWorld(scenario_from({"name": "real-model", "llm": RECORDED,
                                       "expect": [{"terminates": {}}]}), "record-stand-in", 2,
                        runner.catalog)
    host.register(stand_in)
    root = host.llm_base_url(stand_in.session_id).removesuffix("/v1")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (pytester.path / "coats.yaml").write_text(RECORD_ME)
    env = {**os.environ, "STANDIN_KEY": "sk-standin-secret",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    common = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--chaos",
              "--chaos-agent", "naive=examples.agents.naive:run"]
    try:
        rec = subprocess.run([*common, "coats.yaml", "--chaos-record", root,
                              "--chaos-record-key-env", "STANDIN_KEY",
                              "--chaos-results", "rec.json", "--chaos-report", "rec.html"],
                             cwd=pytester.path, env=env, capture_output=True, text=True,
                             timeout=120)
    finally:
        host.unregister(stand_in)
    assert "recorded: " in rec.stdout, rec.stdout
    cassette = pytester.path / "cassettes" / "coats.naive.yaml"
    replay = pytester.path / "cassettes" / "coats.naive.scenario.yaml"
    text = cassette.read_text()
    assert "sk-standin-secret" not in text and "authorization" not in text.lower()
    assert [e.reply.calls if e.reply else None for e in read(cassette).exchanges] == [
        [("get_stock", STOCK)], [("create_order", ORDER)], []]
    again = subprocess.run([*common, str(replay), "--chaos-results", "replay.json",
                            "--chaos-report", "replay.html"], cwd=pytester.path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert "1 passed" in again.stdout, again.stdout

    def calls(results: str) -> list[Any]:
        [run] = json.loads((pytester.path / results).read_text())["runs"]
        return [(e["operation"], e["arguments"]) for e in run["trace"]
                if e["kind"] == "tool"]

    assert calls("rec.json") == calls("replay.json") == [("get_stock", STOCK),
                                                         ("create_order", ORDER)]


def test_break_the_recorded_call_at_a_step(cassette: Path, runner: Runner) -> None:
    events = played(runner, scenario(cassette, {2: {"schema_invalid_args": {"how":
                                                                          "wrong_type"}},
                                                1: {"invalid_json_args": {}}}),
                    "guarded=examples.agents.guarded:run")  # it goes on after a bad call
    assert [e["behaviour"] for e in events[:2]] == ["invalid_json_args", "schema_invalid_args"]
    assert events[0]["reply"]["tool_calls"][0]["name"] == "get_stock"  # the recorded tool
    assert events[1]["reply"]["tool_calls"][0]["name"] == "create_order"


def test_agent_chaos_record_outside_pytest(tmp_path: Path, host: ServerHost,
                                           runner: Runner) -> None:
    import os
    import subprocess
    import sys

    from harness.record.cassette import read
    from harness.world.run import RunWorld

    from .conftest import scenario_from

    stand_in = RunWorld(scenario_from({"name": "real-model", "llm": RECORDED,
                                       "expect": [{"terminates": {}}]}), "record-cli", 2,
                        runner.catalog)
    host.register(stand_in)
    (tmp_path / "coats.yaml").write_text(RECORD_ME)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "harness.cli", "record", str(tmp_path / "coats.yaml"),
             "--agent", "naive=examples.agents.naive:run", "--url",
             host.llm_base_url(stand_in.session_id).removesuffix("/v1"), "--key-env",
             "STANDIN_KEY", "--dir", str(tmp_path / "rec")],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "STANDIN_KEY": "sk-standin-secret",
                 "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    finally:
        host.unregister(stand_in)
    assert out.returncode == 0, out.stderr
    assert "naive completed after 3 model calls; passed" in out.stdout
    assert f"recorded: {tmp_path / 'rec' / 'coats.naive.yaml'}" in out.stdout
    cassette = tmp_path / "rec" / "coats.naive.yaml"
    assert "sk-standin-secret" not in cassette.read_text()
    assert len(read(cassette).exchanges) == 3
    assert load_scenario(tmp_path / "rec" / "coats.naive.scenario.yaml").name == \
        "coats-naive-replay"
