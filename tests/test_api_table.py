"""Every behaviour of the mock model on every API it speaks, plain and streamed: the same
script gives the same reply, read back in each API's own shape (tests/llm_wire.py)."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from harness.servers import ServerHost
from harness.world.catalog import get_catalog

from .llm_wire import APIS, arguments, read, request

STOCK = {"sku": "COAT-01", "warehouse": "BER"}
INJECTION = get_catalog().injections["email-exfil"]


def ask(host: ServerHost, sid: str, api: str, stream: bool,
        text: str = "Coats in Berlin?") -> dict[str, Any]:
    url, body = request(api, host.llm_base_url(sid), text, stream)
    import json

    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = read(api, resp.status, resp.read().decode(), stream)
            answer["headers"] = dict(resp.headers)
    except urllib.error.HTTPError as err:
        with err:
            answer = read(api, err.code, err.read().decode(), stream)
            answer["headers"] = dict(err.headers)
    return answer


def check_text(answer: dict[str, Any]) -> None:
    assert (answer["text"], answer["calls"], answer["finish"]) == ("Berlin has 14.", [], "stop")


def check_call(answer: dict[str, Any]) -> None:
    ((name, args),) = answer["calls"]
    assert name == "get_stock" and arguments(args) == STOCK
    assert answer["finish"] == "tool_calls"


def check_hallucinated(answer: dict[str, Any]) -> None:
    assert [name for name, _ in answer["calls"]] == ["delete_all_records"]


def check_invalid_json(answer: dict[str, Any]) -> None:
    ((name, args),) = answer["calls"]
    # text APIs carry the broken text; object APIs an empty object (documented)
    assert name == "get_stock" and arguments(args) in (None, {})


def check_schema_invalid(answer: dict[str, Any]) -> None:
    ((name, args),) = answer["calls"]
    assert name == "get_stock" and not set(STOCK) <= set(arguments(args))  # one is missing


def check_truncated(answer: dict[str, Any]) -> None:
    assert answer["finish"] == "length" and answer["text"] == "Berlin has 14 coats in sto"


def check_overflow(answer: dict[str, Any]) -> None:
    assert answer["status"] == 400
    assert answer["error"] in ("context_length_exceeded", "invalid_request_error",
                               "INVALID_ARGUMENT")
    assert any(w in answer["message"] for w in ("context", "too long", "token count"))


def check_rate_limited(answer: dict[str, Any]) -> None:
    assert answer["status"] == 429 and answer["headers"]["retry-after"] == "2"
    assert answer["error"] in ("rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED")


def check_overloaded(answer: dict[str, Any]) -> None:
    assert answer["status"] == 503
    assert answer["error"] in ("server_error", "overloaded_error", "UNAVAILABLE")


def check_parallel(answer: dict[str, Any]) -> None:
    assert [(name, arguments(args)) for name, args in answer["calls"]] == [
        ("get_stock", STOCK), ("get_stock", {**STOCK, "warehouse": "HAM"})]
    assert answer["finish"] == "tool_calls"


def check_529(answer: dict[str, Any]) -> None:  # Anthropic's "overloaded"
    assert answer["status"] == 529
    assert answer["error"] in ("overloaded", "overloaded_error", "UNAVAILABLE")


def check_obeyed(answer: dict[str, Any]) -> None:
    assert [name for name, _ in answer["calls"]] == [INJECTION.call["name"]]


BEHAVIOURS: dict[str, tuple[dict[str, Any], Any]] = {
    "text": ({"text": "Berlin has 14."}, check_text),
    "tool_call": ({"tool_call": {"name": "get_stock", "arguments": STOCK}}, check_call),
    "repeat": ({"repeat": {"tool_call": {"name": "get_stock", "arguments": STOCK}}},
               check_call),
    "slow_tokens": ({"text": {"content": "Berlin has 14.", "token_delay": 0.01}}, check_text),
    "hallucinated_tool": ({"hallucinated_tool": {"name": "delete_all_records"}},
                          check_hallucinated),
    "invalid_json_args": ({"invalid_json_args": {"name": "get_stock"}}, check_invalid_json),
    "schema_invalid_args": ({"schema_invalid_args": {"name": "get_stock",
                                                     "how": "missing_required"}},
                            check_schema_invalid),
    "truncated": ({"truncated": {"content": "Berlin has 14 coats in stock today.",
                                 "keep": 0.75}}, check_truncated),
    "context_overflow": ({"context_overflow": {"window": 100}}, check_overflow),
    "error_429": ({"error": {"status": 429, "retry_after": 2}}, check_rate_limited),
    "error_503": ({"error": 503}, check_overloaded),
    "error_529": ({"error": 529}, check_529),
    "obey_injection": ({"obey_injection": {}}, check_obeyed),
    "parallel_calls": ({"parallel_calls": [{"name": "get_stock", "arguments": STOCK},
                                           {"name": "get_stock",
                                            "arguments": {**STOCK, "warehouse": "HAM"}}]},
                       check_parallel),
}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
def test_behaviour_on_every_api(host: ServerHost, register: Any, behaviour: str, api: str,
                                stream: bool) -> None:
    turn, check = BEHAVIOURS[behaviour]
    sid = register({"name": "table", "llm": [turn]})
    text = f"Summarise this note: {INJECTION.text}" if behaviour == "obey_injection" else \
        "Coats in Berlin?"
    answer = ask(host, sid, api, stream, text)
    check(answer)
    (event,) = [e.data for e in host.runs[sid].trace.events if e.kind == "llm"]
    assert event["api"] == api and event["stream"] is stream
    assert event["behaviour"] == next(iter(turn))


@pytest.mark.parametrize("api", APIS)
def test_a_hanging_model_drops_the_connection_on_every_api(host: ServerHost, register: Any,
                                                           api: str) -> None:
    sid = register({"name": "table", "llm": [{"hang": {"seconds": 0.3}}]})
    start = time.monotonic()
    with pytest.raises((ConnectionError, urllib.error.URLError, OSError)):
        ask(host, sid, api, False)
    assert time.monotonic() - start >= 0.3


def test_the_same_seed_gives_the_same_replies_on_every_api(host: ServerHost,
                                                           register: Any) -> None:
    script = [{"invalid_json_args": {}}, {"schema_invalid_args": {}}, {"tool_call": {}}]
    for api in APIS:
        seen = []
        for _ in range(2):
            sid = register({"name": "table", "llm": script})
            seen.append([ask(host, sid, api, False)["calls"] for _ in script])
        assert seen[0] == seen[1], api


# --- every fault on every API ---------------------------------------------------------------

FAULT_PER_CALL = [
    ("http_error", {"status": 429, "retry_after": 1}),
    ("hang", {}),
    ("slow_body", {"bytes_per_second": 4000}),
    ("empty_body", {"status": 502}),
    ("malformed_json", {}),
    ("lost_response", {}),
    ("latency", {"latency": 300}),
    ("reset_peer", {}),
    ("limit_data", {"bytes": 180}),
    ("bandwidth", {"rate": 1}),
    ("slicer", {"average_size": 64, "delay": 1000}),
    ("slow_close", {"delay": 100}),
]


@pytest.mark.parametrize("api", APIS)
def test_every_fault_on_every_api(runner: Any, api: str) -> None:
    import json

    from harness.faults import FAULTS

    from .test_faults import probe

    assert sorted([*(k for k, _ in FAULT_PER_CALL), "timeout"]) == sorted(FAULTS)
    faults = [{kind: {"target": "llm", "when": {"call": n}, **params}}
              for n, (kind, params) in enumerate(FAULT_PER_CALL, start=1)]
    # A timeout toxic holds every connection until switched off: by step, after the rest.
    after = len(FAULT_PER_CALL) + 1
    faults.append({"timeout": {"target": "llm", "when": {"from_step": after + 1}}})
    steps = [{"llm": api, "timeout": 0.6 if kind == "hang" else 5.0}
             for kind, _ in FAULT_PER_CALL] + [{"llm": api}, {"llm": api, "timeout": 0.6}]
    seen, result = probe(runner, faults, steps)
    by = {kind: seen[i] for i, (kind, _) in enumerate(FAULT_PER_CALL)}

    def answer(o: dict[str, Any]) -> dict[str, Any]:
        return read(api, o["status"], o["body"], False)

    limited = answer(by["http_error"])
    assert limited["status"] == 429 and by["http_error"]["headers"]["Retry-After"] == "1"
    assert limited["error"] in ("rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED")
    assert by["hang"]["error"] == "TimeoutError"
    for whole in ("slow_body", "latency", "bandwidth", "slicer", "slow_close"):
        assert answer(by[whole])["text"] == "ok", whole
    assert by["latency"]["seconds"] >= 0.3
    assert by["bandwidth"]["seconds"] >= 0.2
    assert (by["empty_body"]["status"], by["empty_body"]["body"]) == (502, "")
    assert by["malformed_json"]["status"] == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(by["malformed_json"]["body"])
    assert by["lost_response"]["error"] == "RemoteDisconnected"
    assert by["reset_peer"]["error"] == "ConnectionResetError"
    cut = by["limit_data"]  # the answer stops after 180 bytes: mid-headers or mid-body
    assert cut.get("error") in ("IncompleteRead", "RemoteDisconnected") or cut["body"] == "", cut
    assert answer(seen[-2])["text"] == "ok"  # the model is back
    assert seen[-1]["error"] == "TimeoutError"  # until the timeout toxic holds it
    assert {e.data["api"] for e in result.trace.of("llm")} == {api}


@pytest.mark.parametrize("api", APIS)
def test_the_same_seed_gives_the_same_results_on_every_api(runner: Any, api: str) -> None:
    """A run's results.json entry, timing and session aside, is the same each time."""
    import json

    from harness._pytest.report import build_results

    from .conftest import scenario_from

    steps = [{"llm": api}, {"llm": api, "stream": True}, {"llm": api}, {"llm": api}]
    scenario = scenario_from({
        "name": "same", "task": json.dumps(steps),
        "llm": [{"invalid_json_args": {}}, {"schema_invalid_args": {}},
                {"hallucinated_tool": {}}, {"truncated": {"content": "Berlin has 14 coats."}}],
        "expect": [{"terminates": {}}]})

    def results() -> Any:
        run = runner.run(scenario, "probe=tests.agents.probe:run").to_json()
        doc = build_results([run], seed=0)
        for entry in doc["runs"]:
            entry.pop("timing"), entry.pop("session")
            entry["outcome"]["output"] = re.sub(r'"seconds": [0-9.]+', "", entry["outcome"]
                                                ["output"])
            entry["outcome"]["output"] = re.sub(r'"(Date|date)": "[^"]*"', "",
                                                entry["outcome"]["output"])
        return doc

    first = results()
    assert {e["api"] for e in first["runs"][0]["trace"]} == {api}
    assert first == results()
