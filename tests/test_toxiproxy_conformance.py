"""Conformance of the embedded Toxiproxy-compatible server with the real one (facts measured on
toxiproxy 2.12, ARCHITECTURE.md). Give ``--toxiproxy-url URL`` to run the same suite against
a real toxiproxy-server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.servers import ServerHost

from .toxiproxy_helpers import Api, connect, echo, recv_exactly, rtt


class Toxi:
    def __init__(self, api: Api, upstream: str) -> None:
        self.api = api
        self.upstream = upstream
        self.names: list[str] = []

    def proxy(self, name: str = "conf", **fields: Any) -> dict[str, Any]:
        status, body = self.api("POST", "/proxies", {"name": name, "upstream": self.upstream,
                                                     "listen": "127.0.0.1:0", **fields})
        assert status == 201, body
        self.names.append(name)
        return body  # type: ignore[no-any-return]

    def toxic(self, proxy: str, **fields: Any) -> dict[str, Any]:
        status, body = self.api("POST", f"/proxies/{proxy}/toxics", fields)
        assert status == 200, body
        return body  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def echo_server(host: ServerHost) -> Iterator[str]:
    host.start()
    server = host.call(asyncio.start_server(echo, "127.0.0.1", 0))  # type: ignore[arg-type]
    yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    host.call(server.wait_closed())


@pytest.fixture
def toxi(request: pytest.FixtureRequest, host: ServerHost, echo_server: str) -> Iterator[Toxi]:
    url = request.config.getoption("toxiproxy_url") or host.toxiproxy_url()
    t = Toxi(Api(url), echo_server)
    yield t
    for name in t.names:
        t.api("DELETE", f"/proxies/{name}")


# --- the HTTP API ---------------------------------------------------------------------------


def test_create_show_list_delete(toxi: Toxi) -> None:
    created = toxi.proxy("conf-a")
    assert created["name"] == "conf-a" and created["enabled"] is True
    assert created["upstream"] == toxi.upstream and created["toxics"] == []
    host, port = created["listen"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0  # port 0 reported as the bound port
    assert toxi.api("GET", "/proxies/conf-a") == (200, created)
    assert toxi.api("GET", "/proxies")[1]["conf-a"] == created
    assert toxi.api("DELETE", "/proxies/conf-a") == (204, None)
    assert toxi.api("GET", "/proxies/conf-a") == (404, {"error": "proxy not found",
                                                         "status": 404})


def test_create_errors(toxi: Toxi) -> None:
    toxi.proxy("conf-dup")
    assert toxi.api("POST", "/proxies", {"name": "conf-dup", "upstream": toxi.upstream,
                                         "listen": "127.0.0.1:0"}) == \
        (409, {"error": "proxy already exists", "status": 409})
    status, body = toxi.api("POST", "/proxies", {"name": "", "upstream": toxi.upstream})
    assert (status, body["status"]) == (400, 400) and "missing required field" in body["error"]
    status, body = toxi.api("POST", "/proxies", {"name": "conf-x", "upstream": ""})
    assert status == 400 and "upstream" in body["error"]
    taken = toxi.api("GET", "/proxies/conf-dup")[1]["listen"]
    status, body = toxi.api("POST", "/proxies", {"name": "conf-clash", "upstream": toxi.upstream,
                                                 "listen": taken})
    assert status == 500 and "address already in use" in body["error"].lower()


def test_populate_validates_first_then_creates_or_replaces(toxi: Toxi) -> None:
    good = {"name": "conf-p1", "upstream": toxi.upstream, "listen": "127.0.0.1:0"}
    bad = {"name": "conf-p2", "upstream": ""}
    status, body = toxi.api("POST", "/populate", [good, bad])
    assert (status, body) == (400, {"error": "missing required field: upstream at proxy 2",
                                    "proxies": None, "status": 400})
    assert toxi.api("GET", "/proxies/conf-p1")[0] == 404  # nothing created
    status, body = toxi.api("POST", "/populate", [good])
    toxi.names.append("conf-p1")
    assert status == 201 and [p["name"] for p in body["proxies"]] == ["conf-p1"]


def test_update_keeps_unspecified_fields_and_moves_the_listener(toxi: Toxi) -> None:
    created = toxi.proxy("conf-u")
    status, body = toxi.api("PATCH", "/proxies/conf-u", {"enabled": False})
    assert status == 200 and body["enabled"] is False
    assert body["upstream"] == created["upstream"]
    status, body = toxi.api("POST", "/proxies/conf-u", {"enabled": True})
    assert status == 200 and body["enabled"] is True
    with connect(body["listen"]) as sock:
        assert rtt(sock) < 1


def test_disable_drops_live_connections_and_the_listener(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-d")["listen"]
    sock = connect(listen)
    rtt(sock)
    toxi.api("PATCH", "/proxies/conf-d", {"enabled": False})
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(10) == b""
    sock.close()
    with pytest.raises(OSError):
        connect(listen, timeout=1).close()


def test_toxic_defaults_and_crud(toxi: Toxi) -> None:
    toxi.proxy("conf-t")
    body = toxi.toxic("conf-t", type="latency", attributes={"latency": 10})
    assert body == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                    "toxicity": 1.0, "attributes": {"latency": 10, "jitter": 0}}
    assert toxi.api("GET", "/proxies/conf-t/toxics")[1] == [body]
    assert toxi.api("GET", "/proxies/conf-t/toxics/latency_downstream") == (200, body)
    status, updated = toxi.api("PATCH", "/proxies/conf-t/toxics/latency_downstream",
                               {"attributes": {"jitter": 5}, "toxicity": 0.5,
                                "stream": "upstream", "type": "bandwidth"})
    assert status == 200
    assert updated == {**body, "toxicity": 0.5, "attributes": {"latency": 10, "jitter": 5}}
    assert toxi.api("GET", "/proxies/conf-t")[1]["toxics"] == [updated]
    assert toxi.api("DELETE", "/proxies/conf-t/toxics/latency_downstream") == (204, None)
    assert toxi.api("GET", "/proxies/conf-t/toxics/latency_downstream") == \
        (404, {"error": "toxic not found", "status": 404})


def test_toxic_errors(toxi: Toxi) -> None:
    toxi.proxy("conf-e")
    assert toxi.api("POST", "/proxies/conf-e/toxics", {"type": "nope"}) == \
        (400, {"error": "invalid toxic type", "status": 400})
    toxi.toxic("conf-e", name="lag", type="latency", stream="upstream")
    assert toxi.api("POST", "/proxies/conf-e/toxics",
                    {"name": "lag", "type": "latency", "stream": "downstream"}) == \
        (409, {"error": "toxic already exists", "status": 409})
    assert toxi.api("POST", "/proxies/nope/toxics", {"type": "latency"})[0] == 404


@pytest.mark.skipif("config.getoption('toxiproxy_url')", reason="the real server crashes")
def test_slicer_with_zero_average_size_is_refused(toxi: Toxi) -> None:
    toxi.proxy("conf-s0")
    status, body = toxi.api("POST", "/proxies/conf-s0/toxics",
                            {"type": "slicer", "attributes": {"average_size": 0}})
    assert status == 400 and "average_size" in body["error"]


def test_reset_reenables_and_removes_toxics(toxi: Toxi) -> None:
    toxi.proxy("conf-r")
    toxi.toxic("conf-r", type="latency", attributes={"latency": 50})
    toxi.api("PATCH", "/proxies/conf-r", {"enabled": False})
    assert toxi.api("POST", "/reset") == (204, None)
    proxy = toxi.api("GET", "/proxies/conf-r")[1]
    assert proxy["enabled"] is True and proxy["toxics"] == []


def test_version(toxi: Toxi) -> None:
    status, body = toxi.api("GET", "/version")
    assert status == 200 and isinstance(body["version"], str)


# --- the data path --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 64 * 1024, 10 * 1024 * 1024])
def test_bytes_arrive_intact_both_ways(toxi: Toxi, size: int) -> None:
    listen = toxi.proxy("conf-bytes")["listen"]
    payload = os.urandom(size)
    received = bytearray()
    with connect(listen) as sock:
        reader = threading.Thread(target=lambda: received.extend(recv_exactly(sock, size)))
        reader.start()
        sock.sendall(payload)
        reader.join(30)
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()


def test_latency_toxic_timing(toxi: Toxi) -> None:
    toxi.proxy("conf-lat")
    listen = toxi.api("GET", "/proxies/conf-lat")[1]["listen"]
    toxi.toxic("conf-lat", type="latency", attributes={"latency": 100})
    with connect(listen) as sock:
        samples = [rtt(sock) for _ in range(5)]
    assert abs(statistics.median(samples) - 0.100) <= 0.005, samples


def test_removing_latency_releases_held_data_at_once(toxi: Toxi) -> None:
    # Toxiproxy interrupts a removed toxic's stub, and the latency toxic then passes the data
    # it holds on without the rest of its delay.
    listen = toxi.proxy("conf-lat-rm")["listen"]
    toxi.toxic("conf-lat-rm", type="latency", attributes={"latency": 2000})
    with connect(listen) as sock:
        start = time.perf_counter()
        sock.sendall(b"ping")
        time.sleep(0.2)
        toxi.api("DELETE", "/proxies/conf-lat-rm/toxics/latency_downstream")
        assert recv_exactly(sock, 4) == b"ping"
        assert time.perf_counter() - start < 0.6


def test_bandwidth_toxic_timing(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-bw")["listen"]
    toxi.toxic("conf-bw", type="bandwidth", attributes={"rate": 1000})
    with connect(listen) as sock:
        elapsed = rtt(sock, os.urandom(480_000))
    assert abs(elapsed - 0.480) <= 0.030, elapsed


def test_timeout_toxic_drops_data_then_closes(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-to")["listen"]
    toxi.toxic("conf-to", type="timeout", attributes={"timeout": 200})
    with connect(listen) as sock:
        start = time.perf_counter()
        sock.sendall(b"hello")
        assert sock.recv(10) == b""
        assert 0.18 <= time.perf_counter() - start <= 0.35


def test_timeout_zero_never_closes_and_removal_closes(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-to0")["listen"]
    toxi.toxic("conf-to0", type="timeout", attributes={"timeout": 0})
    with connect(listen, timeout=0.3) as sock:
        sock.sendall(b"hello")
        with pytest.raises(TimeoutError):
            sock.recv(10)
        sock.settimeout(5)
        toxi.api("DELETE", "/proxies/conf-to0/toxics/timeout_downstream")
        assert sock.recv(10) == b""


def test_reset_peer_gives_econnreset(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-rst")["listen"]
    toxi.toxic("conf-rst", type="reset_peer", attributes={"timeout": 100})
    with connect(listen) as sock:
        start = time.perf_counter()
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
        assert time.perf_counter() - start >= 0.09


def test_slow_close_delays_the_close(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-sc")["listen"]
    toxi.toxic("conf-sc", type="slow_close", attributes={"delay": 300})
    with connect(listen) as sock:
        sock.sendall(b"bye")
        assert recv_exactly(sock, 3) == b"bye"
        start = time.perf_counter()
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(10) == b""
        assert time.perf_counter() - start >= 0.29


def test_slicer_cuts_into_pieces(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-sl")["listen"]
    toxi.toxic("conf-sl", type="slicer",
               attributes={"average_size": 100, "size_variation": 0, "delay": 20_000})
    with connect(listen) as sock:
        sock.sendall(os.urandom(1000))
        pieces = []
        while sum(pieces) < 1000:
            pieces.append(len(sock.recv(65536)))
    # Halved until a piece is at most average_size + size_variation: 16 pieces of 62-63.
    assert len(pieces) == 16 and set(pieces) == {62, 63}, pieces


def test_toxics_are_listed_upstream_first_each_in_the_order_added(toxi: Toxi) -> None:
    toxi.proxy("conf-order")
    for name, stream in (("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream"),
                         ("u2", "upstream")):
        toxi.toxic("conf-order", name=name, type="latency", stream=stream,
                   attributes={"latency": 1})
    listed = [t["name"] for t in toxi.api("GET", "/proxies/conf-order/toxics")[1]]
    assert listed == ["u1", "u2", "d1", "d2"]
    shown = [t["name"] for t in toxi.api("GET", "/proxies/conf-order")[1]["toxics"]]
    assert shown == listed


def test_limit_data_truncates(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-lim")["listen"]
    toxi.toxic("conf-lim", type="limit_data", attributes={"bytes": 100})
    with connect(listen) as sock:
        sock.sendall(os.urandom(1000))
        got = recv_exactly(sock, 1000)
    assert len(got) == 100


@pytest.mark.parametrize(("toxicity", "low", "high"), [(0.0, 0, 0), (1.0, 60, 60),
                                                       (0.5, 18, 42)])
def test_toxicity_is_rolled_per_connection(toxi: Toxi, toxicity: float, low: int,
                                           high: int) -> None:
    listen = toxi.proxy("conf-tox")["listen"]
    toxi.toxic("conf-tox", type="latency", toxicity=toxicity, attributes={"latency": 30})
    slow = 0
    for _ in range(60):
        with connect(listen) as sock:
            slow += rtt(sock) >= 0.025
    assert low <= slow <= high


def test_toxics_apply_to_live_connections(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-live")["listen"]
    with connect(listen) as sock:
        assert rtt(sock) < 0.05
        toxi.toxic("conf-live", type="latency", attributes={"latency": 100})
        assert rtt(sock) >= 0.095
        toxi.api("DELETE", "/proxies/conf-live/toxics/latency_downstream")
        assert rtt(sock) < 0.05


def test_echoes_stay_intact_while_toxics_toggle(toxi: Toxi) -> None:
    listen = toxi.proxy("conf-toggle")["listen"]
    stop = threading.Event()

    def toggle() -> None:
        while not stop.is_set():
            toxi.api("POST", "/proxies/conf-toggle/toxics",
                     {"name": "t", "type": "latency", "attributes": {"latency": 1}})
            toxi.api("DELETE", "/proxies/conf-toggle/toxics/t")

    thread = threading.Thread(target=toggle)
    thread.start()
    try:
        with connect(listen) as sock:
            for i in range(100):
                payload = f"echo {i} ".encode() * 50
                sock.sendall(payload)
                assert recv_exactly(sock, len(payload)) == payload
    finally:
        stop.set()
        thread.join()


def test_toxiproxy_python_client_round_trip(toxi: Toxi) -> None:
    from harness.toxiproxy.client import ToxiproxyClient

    client = ToxiproxyClient(toxi.api.url)
    proxy = client.create("conf-client", upstream=toxi.upstream)
    toxi.names.append("conf-client")
    for toxic_type, attrs in [("latency", {"latency": 5}), ("bandwidth", {"rate": 100}),
                              ("slow_close", {"delay": 1}), ("timeout", {"timeout": 10}),
                              ("reset_peer", {"timeout": 10}), ("limit_data", {"bytes": 10}),
                              ("slicer", {"average_size": 10}), ("noop", {})]:
        client.add_toxic("conf-client", type=toxic_type, attributes=attrs)
        read_back = client.toxics("conf-client")[f"{toxic_type}_downstream"]
        assert read_back.type == toxic_type and read_back.attributes.items() >= attrs.items()
        client.update_toxic("conf-client", f"{toxic_type}_downstream", toxicity=0.5)
        assert client.toxics("conf-client")[f"{toxic_type}_downstream"].toxicity == 0.5
        client.remove_toxic("conf-client", f"{toxic_type}_downstream")
        assert client.toxics("conf-client") == {}
    assert proxy.listen.startswith("127.0.0.1:")


# --- bad input: what the real server answers (measured on 2.12) ------------------------------


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/proxies", {"name": "conf-bad", "upstream": "127.0.0.1:9", "listen": 5}),
    ("POST", "/proxies", {"name": "conf-bad", "upstream": "127.0.0.1:9",
                          "listen": "127.0.0.1:0", "enabled": "no"}),
    ("POST", "/proxies/conf-in", {"upstream": 5}),
    ("POST", "/proxies/conf-in", {"enabled": "no"}),
    ("POST", "/proxies/conf-in/toxics", {"type": "latency", "name": 5}),
    ("POST", "/proxies/conf-in/toxics", {"type": "latency",
                                         "attributes": {"latency": 2**63}}),
    ("POST", "/proxies/conf-in/toxics/lat", {"attributes": [1]}),
], ids=["listen-number", "enabled-text", "update-upstream-number", "update-enabled-text",
        "toxic-name-number", "latency-overflow", "toxic-attributes-list"])
def test_bad_input_is_a_400_and_changes_nothing(toxi: Toxi, method: str, path: str,
                                                body: Any) -> None:
    toxi.proxy("conf-in")
    toxi.toxic("conf-in", name="lat", type="latency", attributes={"latency": 1})
    before = toxi.api("GET", "/proxies/conf-in")[1]
    status, answer = toxi.api(method, path, body)
    assert status == 400, answer
    assert toxi.api("GET", "/proxies/conf-in")[1] == before
    assert toxi.api("GET", "/proxies/conf-bad")[0] == 404
    with connect(before["listen"]) as sock:  # and it still carries data
        sock.sendall(b"ping")
        assert recv_exactly(sock, 4) == b"ping"


@pytest.mark.skipif("config.getoption('toxiproxy_url')",
                    reason="the real server leaves the proxy disabled: ours keeps it as it was")
def test_a_failed_listen_update_leaves_the_proxy_as_it_was(toxi: Toxi) -> None:
    taken = toxi.proxy("conf-taken")["listen"]
    before = toxi.proxy("conf-move")
    status, _ = toxi.api("POST", "/proxies/conf-move", {"listen": taken})
    assert status >= 400
    after = toxi.api("GET", "/proxies/conf-move")[1]
    assert after["enabled"] is True and after["listen"] == before["listen"]
    with connect(after["listen"]) as sock:
        sock.sendall(b"ping")
        assert recv_exactly(sock, 4) == b"ping"
