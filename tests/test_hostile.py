"""Hostile input: what a broken or malicious client sends gets a 4xx, never a 5xx, and the
session's output stays complete, valid JSON whatever the agent sends or says."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness._json import loads_strict, write_atomic
from harness._pytest.report import build_results, write_results
from harness.report import write_html
from harness.runner import Runner
from harness.servers import ServerHost

from .conftest import scenario_from

pytestmark = pytest.mark.hostile

DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_BODIES = {
    "100k-deep JSON": DEEP,
    "5,000-digit integer": b'{"a": 1' + b"0" * 5000 + b"}",
    "NaN": b'{"a": NaN}',
    "invalid UTF-8": b'{"a": "\xff\xfe"}',
    "lone surrogate": b'{"a": "\\ud800"}',
}


def strict(text: str) -> Any:
    """A strict reader: no NaN or Infinity, no lone surrogates."""
    def refuse(name: str) -> Any:
        raise ValueError(name)

    text.encode("utf-8")  # a lone surrogate cannot be encoded
    return json.loads(text, parse_constant=refuse)


def send(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def session(register: Any) -> str:
    return str(register({"name": "hostile", "llm": [{"text": "ok"}]}))


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_bad_bodies_get_a_4xx_from_the_mock_llm_and_the_tool_apis(
        host: ServerHost, session: str, name: str) -> None:
    body = BAD_BODIES[name]
    llm = f"{host.llm_base_url(session)}/chat/completions"
    status, answer = send(llm, body)
    assert status == 400 and answer["error"]["type"] == "invalid_request_error", answer
    tool = f"{host.tool_url(session, 'inventory')}/tools/create_order"
    status, answer = send(tool, body, "application/json; charset=bogus-42")
    assert status == 400 and "JSON object of arguments" in answer["error"], answer
    status, answer = send(host.approval_url(session), body)
    assert status == 400, answer
    # and the servers still serve
    assert send(llm, b'{"messages": [{"role": "user", "content": "hi"}]}')[0] == 200


def test_a_tool_call_without_a_function_is_counted_not_crashed_on(
        host: ServerHost, session: str) -> None:
    body = {"messages": [{"role": "assistant", "tool_calls": [{"function": None}, 5]},
                         {"role": "user", "content": "hi"}]}
    status, _ = send(f"{host.llm_base_url(session)}/chat/completions",
                     json.dumps(body).encode())
    assert status == 200


def test_the_toxiproxy_api_refuses_deep_json_and_keeps_invalid_utf8_names(
        host: ServerHost) -> None:
    url = host.toxiproxy_url()
    status, answer = send(f"{url}/proxies", DEEP)
    assert status == 400 and answer["status"] == 400
    # The real server stores an invalid-UTF-8 name with U+FFFD (201); the proxy can be
    # deleted again.
    status, proxy = send(f"{url}/proxies", b'{"name": "bad-\xff", "upstream": "127.0.0.1:9", '
                                           b'"listen": "127.0.0.1:0"}')
    assert status == 201 and proxy["name"] == "bad-\ufffd"
    req = urllib.request.Request(f"{url}/proxies/{urllib.request.quote(proxy['name'])}",
                                 method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204


def test_the_output_survives_a_hostile_agent(runner: Runner, tmp_path: Path) -> None:
    scenario = scenario_from({"name": "hostile-agent", "llm": [{"text": "ok"}],
                              "expect": [{"records_valid": {}}, {"terminates": {}}]})
    result = runner.run(scenario, "hostile=tests.agents.hostile:run")
    assert result.outcome.status == "completed", result.outcome
    assert "\ud800" in (result.outcome.output or "")
    statuses = json.loads((result.outcome.output or "").rsplit(" ", 2)[0])
    assert statuses == [400] * 5  # nothing broken was stored
    assert all(v.passed for v in result.verdicts)
    doc = build_results([result.to_json()], seed=0)
    path = write_results(tmp_path / "results.json", doc)
    parsed = strict(path.read_text(encoding="utf-8"))
    assert len(parsed["runs"]) == 1 and parsed["runs"][0]["outcome"]["output"].endswith(
        "\ufffd done")
    html = write_html(tmp_path / "index.html", doc).read_text(encoding="utf-8")
    assert "hostile-agent" in html


def test_nan_deep_values_and_surrogates_in_results_become_valid_json(tmp_path: Path) -> None:
    deep: list[Any] = []
    cur = deep
    for _ in range(900):
        cur.append([])
        cur = cur[0]
    run = {"scenario": "s", "category": "loop", "agent": "a", "score": 0.0, "passed": False,
           "verdicts": [], "goal": {"met": False, "message": "\udc80", "evidence": []},
           "outcome": {"output": "x" * 30_000}, "trace": [{"arguments": {"n": float("nan"),
                                                                            "d": deep}}]}
    path = write_results(tmp_path / "results.json", build_results([run], seed=0))
    parsed = strict(path.read_text(encoding="utf-8"))
    out = parsed["runs"][0]
    assert out["trace"][0]["arguments"]["n"] == "nan"
    assert out["goal"]["message"] == "\ufffd"
    assert len(out["outcome"]["output"]) < 20_100  # clipped, as the README says


def test_a_failed_write_leaves_the_previous_results_whole(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"version": 1}')

    def fail(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "x" * 1000)
    assert path.read_text() == '{"version": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temp file left


def test_strict_parser_accepts_ordinary_json() -> None:
    assert loads_strict(b'{"a": [1, 2.5, "\\u00e9\\ud83d\\ude00", null, true]}') == \
        {"a": [1, 2.5, "\u00e9\U0001f600", None, True]}


def test_the_approval_service_is_behind_a_proxy_like_every_other(runner: Runner,
                                                                  host: ServerHost) -> None:
    from urllib.parse import urlsplit

    scenario = scenario_from({"name": "approval-proxy", "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    result = runner.run(scenario, "approver=tests.agents.useless:asks_approval")
    assert result.outcome.status == "completed", result.outcome
    used = urlsplit(result.outcome.output or "")
    assert used.hostname == "127.0.0.1" and used.port not in (host.tools_port, host.llm_port)
    assert [e.data["tool"] for e in result.trace.of("approval")] == ["cancel_order"]


@pytest.mark.parametrize("sent", [b"", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"],
                         ids=["nothing", "half-a-header"])
def test_a_connection_that_never_sends_a_whole_request_is_closed(
        monkeypatch: pytest.MonkeyPatch, sent: bytes) -> None:
    import socket

    import harness.servers

    monkeypatch.setattr(harness.servers, "IDLE_TIMEOUT", 1.0)
    host = ServerHost()
    try:
        host.start()
        api = host.toxiproxy_url()
        for port in (host.llm_port, host.tools_port, int(api.rsplit(":", 1)[1])):
            with socket.create_connection(("127.0.0.1", port)) as conn:
                conn.sendall(sent)
                conn.settimeout(30)
                assert conn.recv(100) == b"", "closed without an answer"
        with urllib.request.urlopen(f"{api}/version") as resp:  # and still serving
            assert resp.status == 200
    finally:
        host.close()
