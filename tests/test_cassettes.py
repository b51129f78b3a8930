"""Cassettes of real sessions (vcrpy, pytest-recording) into scenarios:
``agent-chaos scenario from-cassette``. The "real model" here is a stand-in on loopback: the
mock LLM playing a fixed script, recorded through the unmodified openai SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vcr
from openai import OpenAI

from harness.record.cassette import read
from harness.servers import ServerHost

pytest_plugins = ["pytester"]

STOCK = {"sku": "COAT-01", "warehouse": "BER"}
GET_STOCK = {"type": "function", "function": {
    "name": "get_stock", "description": "Stock of a SKU in a warehouse.",
    "parameters": {"type": "object", "properties": {"sku": {"type": "string"},
                                                    "warehouse": {"type": "string"}}}}}
SCRIPT = [{"tool_call": {"name": "get_stock", "arguments": STOCK}},
          {"text": "There are 14 winter coats in Berlin."}]


def agent_chaos(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, timeout=60, **kw)


def session(client: OpenAI, stream: bool) -> None:
    """What an agent does: ask, run the tool it is told to, ask again."""
    messages: list[Any] = [{"role": "user", "content": "How many winter coats in Berlin?"}]
    first = client.chat.completions.create(model="m", messages=messages, tools=[GET_STOCK])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": '{"quantity": 14}'}]
    if stream:
        for _ in client.chat.completions.create(model="m", messages=messages, tools=[GET_STOCK],
                                                stream=True):
            pass
    else:
        client.chat.completions.create(model="m", messages=messages, tools=[GET_STOCK])


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_vcrpy_cassette_becomes_a_scenario_that_replays_the_model(
        stream: bool, tmp_path: Path, host: ServerHost, register: Any) -> None:
    sid = register({"name": "stand-in", "llm": SCRIPT})
    cassette = tmp_path / "session.yaml"
    with vcr.use_cassette(str(cassette), filter_headers=["authorization"], record_mode="all"):
        with OpenAI(base_url=host.llm_base_url(sid), api_key="sk-live-secret") as client:
            session(client, stream)
        import httpx2  # a request that is not a model call

        with httpx2.Client() as plain:
            plain.get(f"{host.tool_url(sid, 'inventory')}/tools")
    assert "sk-live-secret" not in cassette.read_text()
    recorded = read(cassette)
    assert [(e.api, e.streamed) for e in recorded.exchanges] == [("chat", False),
                                                               ("chat", stream)]
    out = tmp_path / "replay.yaml"
    result = agent_chaos("scenario", "from-cassette", str(cassette), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "skipped GET http://127.0.0.1:" in result.stderr and "/tools: not a model call" in \
        result.stderr
    from harness.scenario import load_scenario

    scenario = load_scenario(out)
    assert scenario.task == "How many winter coats in Berlin?"
    assert scenario.tools == ["inventory"]
    turns = [(t.key, t.model_dump(exclude_defaults=True)) for t in scenario.script.turns]
    assert turns == [("tool_call", {"name": "get_stock", "arguments": STOCK}),
                     ("text", {"content": "There are 14 winter coats in Berlin."})]


def test_a_pytest_recording_cassette_imports(pytester: pytest.Pytester, host: ServerHost,
                                            register: Any) -> None:
    """The cassette pytest-recording writes (``@pytest.mark.vcr``, ``--record-mode=once``)
    around openai SDK calls, plain and streamed."""
    sid = register({"name": "stand-in-2", "llm": [*SCRIPT, *SCRIPT]})
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_agent=f'''
import os
import pytest
from openai import OpenAI

TOOLS = [{GET_STOCK!r}]

@pytest.fixture(scope="module")
def vcr_config():
    return {{"filter_headers": ["authorization"]}}

@pytest.mark.vcr
def test_agent():
    client = OpenAI(base_url=os.environ["STAND_IN"], api_key="sk-live-secret")
    for stream in (False, True):
        msgs = [{{"role": "user", "content": "How many winter coats in Berlin?"}}]
        first = client.chat.completions.create(model="m", messages=msgs, tools=TOOLS,
                                               stream=stream)
        if stream:
            list(first)
        else:
            call = first.choices[0].message.tool_calls[0]
            msgs += [first.choices[0].message.model_dump(exclude_none=True),
                     {{"role": "tool", "tool_call_id": call.id, "content": "14"}}]
            client.chat.completions.create(model="m", messages=msgs, tools=TOOLS)
''')
    env = {**os.environ, "STAND_IN": host.llm_base_url(sid)}
    result = subprocess.run([sys.executable, "-m", "pytest", "--record-mode=once", "-q",
                             "-p", "no:cacheprovider"], cwd=pytester.path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    cassette = pytester.path / "cassettes" / "test_agent" / "test_agent.yaml"
    assert cassette.is_file() and "sk-live-secret" not in cassette.read_text()
    out = pytester.path / "from-recording.yaml"
    imported = agent_chaos("scenario", "from-cassette", str(cassette), "-o", str(out))
    assert imported.returncode == 0, imported.stderr
    assert "wrote" in imported.stdout and "3 turns from 3 model calls" in imported.stdout
    recorded = read(cassette)
    assert [e.streamed for e in recorded.exchanges] == [False, False, True]
    assert [(e.reply.calls, e.reply.text) for e in recorded.exchanges if e.reply] == [
        ([("get_stock", STOCK)], ""), ([], "There are 14 winter coats in Berlin."),
        ([("get_stock", STOCK)], "")]


def test_what_is_not_a_cassette_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.yaml"
    bad.write_text("just: a mapping\n")
    result = agent_chaos("scenario", "from-cassette", str(bad), "-o", str(tmp_path / "o.yaml"))
    assert result.returncode == 1
    assert f"{bad}: not a cassette vcrpy can read" in result.stderr
    assert "Traceback" not in result.stderr


def _responses(base: str, stream: bool) -> None:
    with OpenAI(base_url=base, api_key="sk-live-secret") as client:
        _responses_with(client, stream)


def _responses_with(client: OpenAI, stream: bool) -> None:
    tool = {"type": "function", **GET_STOCK["function"]}
    if stream:
        with client.responses.stream(model="m", input="Coats?", tools=[tool]) as events:  # type: ignore[list-item]
            for _ in events:
                pass
    else:
        client.responses.create(model="m", input="Coats?", tools=[tool])  # type: ignore[list-item]


def _anthropic(base: str, stream: bool) -> None:
    from anthropic import Anthropic

    tool = {"name": "get_stock", "description": "Stock.",
            "input_schema": GET_STOCK["function"]["parameters"]}
    kwargs: Any = {"model": "m", "max_tokens": 100, "tools": [tool],
                   "messages": [{"role": "user", "content": "Coats?"}]}
    with Anthropic(base_url=base.removesuffix("/v1"), api_key="sk-live-secret") as client:
        if stream:
            with client.messages.stream(**kwargs) as events:
                for _ in events:
                    pass
        else:
            client.messages.create(**kwargs)


def _gemini(base: str, stream: bool) -> None:
    import httpx2

    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "Coats?"}]}],
            "tools": [{"functionDeclarations": [GET_STOCK["function"]]}]}
    with httpx2.Client(timeout=10) as client:
        client.post(f"{base.removesuffix('/v1')}/v1beta/models/m:{method}", json=body,
                    headers={"x-goog-api-key": "sk-live-secret"}).raise_for_status()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("api, call", [("responses", _responses), ("anthropic", _anthropic),
                                       ("gemini", _gemini)])
def test_every_model_api_is_read_back(api: str, call: Any, stream: bool, tmp_path: Path,
                                      host: ServerHost, register: Any) -> None:
    sid = register({"name": f"stand-in-{api}", "llm": SCRIPT})
    cassette = tmp_path / "c.yaml"
    with vcr.use_cassette(str(cassette), record_mode="all",
                          filter_headers=["authorization", "x-api-key", "x-goog-api-key"]):
        call(host.llm_base_url(sid), stream)
    assert "sk-live-secret" not in cassette.read_text()
    [exchange] = read(cassette).exchanges
    assert (exchange.api, exchange.streamed) == (api, stream)
    assert exchange.reply is not None and exchange.reply.calls == [("get_stock", STOCK)]
