"""Scenario faults as the agent sees them on the wire: each fault type, each schedule, the
trace events they leave, and the upstreams of the agent's own."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from harness.faults import FAULTS
from harness.runner import Runner, RunResult

from .conftest import scenario_from

PROBE = "probe=tests.agents.probe:run"
STOCK = {"tool": "inventory", "op": "get_stock", "args": {"sku": "COAT-01", "warehouse": "BER"}}
ORDER = {"tool": "inventory", "op": "create_order",
         "args": {"sku": "COAT-01", "warehouse": "BER", "quantity": 2}}


def probe(runner: Runner, faults: list[dict[str, Any]], steps: list[dict[str, Any]],
          **extra: Any) -> tuple[list[dict[str, Any]], RunResult]:
    scenario = scenario_from({"name": "probe", "task": json.dumps(steps), "faults": faults,
                              "llm": [{"repeat": {"text": "ok"}}],
                              "expect": [{"terminates": {}}], **extra})
    result = runner.run(scenario, PROBE)
    assert result.outcome.status == "completed", result.outcome
    return json.loads(result.outcome.output or "[]"), result


def fault_events(result: RunResult) -> list[dict[str, Any]]:
    return [e.to_json() for e in result.trace.of("fault")]


# --- HTTP faults from the mock services ---------------------------------------------------


def test_http_error_answers_with_retry_after_and_does_not_run_the_call(runner: Runner) -> None:
    seen, result = probe(runner, [{"http_error": {"target": "inventory", "status": 503,
                                                  "retry_after": 2}}], [ORDER])
    assert seen[0]["status"] == 503 and seen[0]["headers"]["Retry-After"] == "2"
    assert json.loads(seen[0]["body"]) == {"error": "Service Unavailable: try again later"}
    assert result.tools["inventory"].audit == []  # refused, not carried out
    tool = result.trace.of("tool")[0].data
    assert tool["retry_after"] == 2 and tool["effect"] == "error"


def test_lost_response_commits_the_write_and_drops_the_answer(runner: Runner) -> None:
    seen, result = probe(runner, [{"lost_response": {"target": "inventory.create_order"}}],
                         [STOCK, ORDER])
    assert seen[0]["status"] == 200  # another operation of the same API is untouched
    assert seen[1]["error"] == "RemoteDisconnected"
    assert [w.operation for w in result.tools["inventory"].audit] == ["create_order"]


def test_malformed_and_empty_bodies_arrive_whole_but_unusable(runner: Runner) -> None:
    seen, _ = probe(runner, [{"malformed_json": {"target": "inventory", "when": {"call": 1}}},
                             {"empty_body": {"target": "inventory", "status": 502,
                                             "when": {"call": 2}}}], [STOCK, STOCK, STOCK])
    with pytest.raises(json.JSONDecodeError):
        json.loads(seen[0]["body"])
    assert seen[0]["status"] == 200 and seen[0]["body"].startswith('{"result": {"sku"')
    assert (seen[1]["status"], seen[1]["body"]) == (502, "")
    assert json.loads(seen[2]["body"])["result"]["quantity"] == 14


def test_slow_body_trickles_and_hang_never_answers(runner: Runner) -> None:
    seen, result = probe(runner, [{"slow_body": {"target": "inventory", "bytes_per_second": 200,
                                                 "when": {"call": 1}}},
                                  {"hang": {"target": "inventory", "when": {"call": 2}}}],
                         [STOCK, {**STOCK, "timeout": 1.0}, STOCK])
    assert seen[0]["seconds"] >= 0.3 and json.loads(seen[0]["body"])["result"]["sku"] == "COAT-01"
    assert seen[1]["error"] == "TimeoutError" and seen[1]["seconds"] >= 1.0
    assert seen[2]["status"] == 200
    assert result.trace.of("tool")[1].data["hang"] is True


def test_llm_faults_speak_openais_error_shape(runner: Runner) -> None:
    seen, result = probe(runner, [{"http_error": {"target": "llm", "status": 429,
                                                  "retry_after": 1, "when": {"call": 1}}}],
                         [{"llm": True}, {"llm": True}])
    assert seen[0]["status"] == 429 and seen[0]["headers"]["Retry-After"] == "1"
    assert json.loads(seen[0]["body"])["error"]["code"] == "rate_limit_exceeded"
    assert json.loads(seen[1]["body"])["choices"][0]["message"]["content"] == "ok"
    llm = result.trace.of("llm")
    assert llm[0].data["turn"] is None and llm[1].data["turn"] == 0  # no turn was used up


# --- network faults through Toxiproxy -----------------------------------------------------


def test_latency_hits_only_the_scheduled_call(runner: Runner) -> None:
    seen, result = probe(runner, [{"latency": {"target": "inventory", "latency": 400,
                                               "when": {"call": 2}}}], [STOCK, STOCK, STOCK])
    assert [s["status"] for s in seen] == [200, 200, 200]
    assert seen[1]["seconds"] >= 0.4 > seen[0]["seconds"]
    assert seen[2]["seconds"] < 0.3
    actions = [(f["action"], f.get("call")) for f in fault_events(result)]
    assert actions == [("on", 2), ("off", None)]


def test_reset_peer_resets_and_limit_data_cuts_the_answer(runner: Runner) -> None:
    seen, result = probe(runner, [{"reset_peer": {"target": "inventory", "when": {"call": 1}}},
                                  {"limit_data": {"target": "inventory", "bytes": 170,
                                                  "when": {"call": 2}}}], [ORDER, STOCK, STOCK])
    assert seen[0]["error"] == "ConnectionResetError"
    assert len(result.tools["inventory"].audit) == 1  # the order went through all the same
    assert seen[1]["error"] in ("IncompleteRead", "RemoteDisconnected")
    assert seen[2]["status"] == 200
    effects = [e.data.get("effect") for e in result.trace.of("tool")]
    assert effects == ["lost", "lost", None]


def test_timeout_toxic_holds_calls_from_a_step_on(runner: Runner) -> None:
    seen, _ = probe(runner, [{"timeout": {"target": "inventory", "when": {"from_step": 1}}}],
                    [STOCK, {"llm": True}, {**STOCK, "timeout": 0.5}])
    assert seen[0]["status"] == 200  # step 0: before the agent's first request to the model
    assert seen[2]["error"] == "TimeoutError"


def test_bandwidth_paces_the_answer(runner: Runner) -> None:
    seen, _ = probe(runner, [{"bandwidth": {"target": "news", "rate": 20}}],
                    [{"tool": "news", "op": "search_archive", "args": {"query": ""}}],
                    tools=["news"])
    size = len(seen[0]["body"])
    assert size > 50_000
    assert seen[0]["seconds"] >= size / 20_000 * 0.9


# --- schedules -----------------------------------------------------------------------------


def test_calls_window_and_step_window(runner: Runner) -> None:
    seen, _ = probe(runner, [
        {"http_error": {"target": "inventory.get_stock", "status": 500, "when": {"calls": [2, 3]}}},
        {"http_error": {"target": "inventory.create_order", "status": 502,
                        "when": {"from_step": 2, "until_step": 2}}},
    ], [STOCK, STOCK, STOCK, STOCK, ORDER, {"llm": True}, ORDER, {"llm": True}, ORDER,
        {"llm": True}, ORDER])
    assert [s["status"] for s in seen] == [200, 500, 500, 200, 200, 200, 200, 200, 502, 200, 200]


def test_probability_is_seeded(runner: Runner) -> None:
    def pattern() -> list[int]:
        seen, _ = probe(runner, [{"http_error": {"target": "inventory", "status": 503,
                                                 "when": {"probability": 0.5}}}], [STOCK] * 16)
        return [s["status"] for s in seen]

    first = pattern()
    assert first == pattern()
    assert 2 <= first.count(503) <= 14


def test_time_window_switches_the_toxic_on_and_off(runner: Runner) -> None:
    seen, result = probe(runner, [{"latency": {"target": "inventory", "latency": 300,
                                               "when": {"after": 2.0, "for": 3.0}}}],
                         [STOCK, {"sleep": 2.3}, STOCK, {"sleep": 3.2}, STOCK])
    # Windows run on the run's clock, which starts before the agent's process does: the
    # margins cover a start-up of up to 2 s on a loaded machine.
    assert seen[0]["seconds"] < 0.25 and seen[1]["seconds"] >= 0.3 and seen[2]["seconds"] < 0.25
    assert [f["action"] for f in fault_events(result)] == ["on", "off"]


# --- upstreams of the agent's own ---------------------------------------------------------


@pytest.fixture
def echo_server() -> Iterator[str]:
    """A TCP echo service standing in for the agent's own database."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    address: list[str] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def main() -> asyncio.Server:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        address.append(f"127.0.0.1:{server.sockets[0].getsockname()[1]}")
        return server

    server = loop.run_until_complete(main())
    thread = threading.Thread(target=lambda: (started.set(), loop.run_forever()))
    thread.start()
    started.wait()
    yield address[0]
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


def test_upstream_gets_a_proxy_and_network_faults(runner: Runner, echo_server: str) -> None:
    seen, result = probe(runner, [{"latency": {"target": "db", "latency": 300,
                                               "when": {"from_step": 1}}}],
                         [{"upstream": "db", "send": "ping"}, {"llm": True},
                          {"upstream": "db", "send": "pong"}],
                         upstreams={"db": echo_server})
    assert seen[0] == {"echo": "ping", "seconds": seen[0]["seconds"]}
    assert seen[0]["seconds"] < 0.2 and seen[2]["seconds"] >= 0.3 and seen[2]["echo"] == "pong"
    assert fault_events(result)[0]["target"] == "db"


def test_slicer_and_slow_close_on_an_upstream(runner: Runner, echo_server: str) -> None:
    seen, _ = probe(runner, [{"slicer": {"target": "db", "average_size": 1, "delay": 100_000,
                                         "stream": "upstream"}},
                             {"slow_close": {"target": "db", "delay": 500}}],
                    [{"upstream": "db", "send": "ping", "until_close": True}],
                    upstreams={"db": echo_server})
    # The echo answers the first 1-byte slice; the rest trickles 0.1 s apart; the close waits.
    assert seen[0]["echo"] == "p"
    assert seen[0]["seconds"] >= 0.3 + 0.5


def test_every_fault_type_is_exercised_here() -> None:
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    assert [k for k in FAULTS if f'"{k}"' not in source] == []


# --- the built-in network scenarios -------------------------------------------------------

NETWORK_SCENARIOS = {
    "latency-spike": "latency", "payment-connection-reset": "reset_peer",
    "hung-inventory-api": "timeout", "bandwidth-starved-news": "bandwidth",
    "retry-after-storm": "http_error", "api-down-midrun": "http_error",
}


@pytest.mark.parametrize("scenario", sorted(NETWORK_SCENARIOS))
def test_guarded_rides_out_each_fault_and_naive_breaks(scenario: str,
                                                       example_runs: Any) -> None:
    good, bad = example_runs(scenario, "guarded"), example_runs(scenario, "naive")
    assert good.passed, good.explain()
    assert not bad.passed
    report = bad.explain()
    fault = NETWORK_SCENARIOS[scenario]
    # The failure report names the fault and the agent's step it struck in.
    named = rf"fault {fault} (switched on |hit )?on \S+ \((call \d+, )?step \d+"
    assert re.search(named, report), report
    assert fault in [f.key for f in bad.scenario.faults]
    described = bad.to_json()["faults"]
    assert described and all(d.startswith(f"{f.key}(") for d, f in
                              zip(described, bad.scenario.faults, strict=True))
