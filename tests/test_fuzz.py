"""A hypothesis fuzz of the HTTP surfaces of the three servers (the mock LLM, the tool APIs
with approvals, the embedded Toxiproxy API): whatever a client sends, the answer is never a
5xx, and the server still serves afterwards."""

from __future__ import annotations

import http.client
import json
import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.servers import ServerHost

pytestmark = pytest.mark.hostile

FUZZ = settings(max_examples=int(os.environ.get("CHAOS_FUZZ_EXAMPLES", "120")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=20)
# Bodies shaped like the real thing, with any value in any place.
message = st.fixed_dictionaries({}, optional={
    "role": st.sampled_from(["user", "assistant", "system", "tool"]) | values,
    "content": st.text() | values, "tool_calls": values, "tool_call_id": values})
chat_body = st.fixed_dictionaries({"messages": st.lists(message | values, max_size=4)}, optional={
    "model": values, "tools": values, "stream": st.booleans() | values, "tool_choice": values,
    "max_tokens": values, "stream_options": values, "stop": values})
raw_bytes = st.binary(max_size=200)


def post(url: str, body: bytes, method: str = "POST") -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, parts.path, body=body,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture
def urls(host: ServerHost, register: Any) -> dict[str, str]:
    session = register({"name": "fuzz", "tools": ["inventory", "crm"],
                        "llm": [{"repeat": {"text": "ok"}}]})
    return {"llm": f"{host.llm_base_url(session)}/chat/completions",
            "tool": host.tool_url(session, "inventory"),
            "approval": host.approval_url(session), "toxiproxy": host.toxiproxy_url()}


@FUZZ
@given(body=chat_body.map(encode) | values.map(encode) | raw_bytes)
def test_the_mock_llm_never_answers_5xx(urls: dict[str, str], body: bytes) -> None:
    assert post(urls["llm"], body) < 500


@FUZZ
@given(operation=st.sampled_from(["get_stock", "create_order", "cancel_order",
                                  "purge_inventory", "no_such_tool"]),
       body=values.map(encode) | raw_bytes)
def test_the_tool_apis_never_answer_5xx(urls: dict[str, str], operation: str,
                                        body: bytes) -> None:
    assert post(f"{urls['tool']}/tools/{operation}", body) < 500
    assert post(urls["approval"], body) < 500


@FUZZ
@given(path=st.sampled_from(["/proxies", "/populate", "/proxies/fuzz", "/proxies/fuzz/toxics",
                             "/proxies/fuzz/toxics/lat"]),
       method=st.sampled_from(["POST", "PATCH"]),
       body=st.fixed_dictionaries({}, optional={
           "name": values, "upstream": values, "listen": values, "enabled": values,
           "type": st.sampled_from(["latency", "slicer", "bandwidth", "timeout"]) | values,
           "stream": values, "toxicity": values, "attributes": values}).map(encode)
       | values.map(encode) | raw_bytes)
def test_the_toxiproxy_api_never_answers_5xx(urls: dict[str, str], path: str, method: str,
                                             body: bytes) -> None:
    api = urls["toxiproxy"]
    if post(f"{api}/proxies/fuzz", b"", "GET") == 404:
        assert post(f"{api}/proxies", encode({"name": "fuzz", "upstream": "127.0.0.1:9",
                                              "listen": "127.0.0.1:0"})) == 201
    if post(f"{api}/proxies/fuzz/toxics/lat", b"", "GET") == 404:
        post(f"{api}/proxies/fuzz/toxics", encode({"name": "lat", "type": "latency"}))
    status = post(f"{api}{path}", body, method)
    # 500 is the real server's answer to a listen address that cannot be bound; anything
    # else at 5xx is a crash.
    assert status < 500 or (status == 500 and b"listen" in body), status


def test_the_servers_still_serve_after_the_fuzz(urls: dict[str, str]) -> None:
    assert post(urls["llm"], encode({"messages": [{"role": "user", "content": "hi"}]})) == 200
    assert post(f"{urls['toxiproxy']}/version", b"", "GET") == 200
