"""Benchmarks of the embedded Toxiproxy-compatible server, side by side with direct loopback.

    python benchmarks/bench_toxiproxy.py [--mib 100] [--echoes 2000]

Measures, in one run: throughput of MiB both directions (client → upstream and back), echo
round-trip time, and the accuracy of a 100 ms latency toxic. Targets (2-core machine):
>= 800 MB/s through the proxy, RTT overhead <= 0.1 ms, latency toxic within 0.5 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.servers import ServerHost
from harness.toxiproxy.client import ToxiproxyClient


def sink_server() -> tuple[str, threading.Thread]:
    """A blocking echo server in a thread (so the proxy, not the upstream, is measured)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(1 << 20):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"127.0.0.1:{listener.getsockname()[1]}", thread


def connect(address: str) -> socket.socket:
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def throughput(address: str, mib: int) -> float:
    """MB/s of payload echoed through ``address`` (each byte crosses twice)."""
    total = mib * 1024 * 1024
    block = os.urandom(1 << 20)
    with connect(address) as sock:
        done = threading.Event()

        def reader() -> None:
            got = 0
            while got < total:
                got += len(sock.recv(1 << 20))
            done.set()

        thread = threading.Thread(target=reader)
        start = time.perf_counter()
        thread.start()
        for _ in range(mib):
            sock.sendall(block)
        done.wait()
        elapsed = time.perf_counter() - start
        thread.join()
    return total / elapsed / 1e6


def rtts(address: str, count: int) -> list[float]:
    out = []
    with connect(address) as sock:
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(b"x")
            sock.recv(1)
            out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--echoes", type=int, default=2000)
    args = parser.parse_args()
    upstream, _ = sink_server()
    host = ServerHost()
    try:
        client = ToxiproxyClient(host.toxiproxy_url())
        proxied = client.create("bench", upstream=upstream).listen
        direct_mbs = throughput(upstream, args.mib)
        proxy_mbs = throughput(proxied, args.mib)
        direct_rtt = statistics.median(rtts(upstream, args.echoes)) * 1000
        proxy_rtt = statistics.median(rtts(proxied, args.echoes)) * 1000
        client.add_toxic("bench", type="latency", attributes={"latency": 100})
        lat = statistics.median(rtts(proxied, 20)) * 1000
        print(f"throughput, {args.mib} MiB echoed: direct {direct_mbs:8.1f} MB/s   "
              f"proxy {proxy_mbs:8.1f} MB/s   (target >= 800)")
        print(f"echo RTT median ({args.echoes}):   direct {direct_rtt:8.3f} ms    "
              f"proxy {proxy_rtt:8.3f} ms    overhead {proxy_rtt - direct_rtt:.3f} ms "
              f"(target <= 0.1)")
        print(f"latency toxic 100 ms, median RTT of 20: {lat:.2f} ms, error "
              f"{lat - 100 - proxy_rtt:+.2f} ms (target within 0.5)")
        client.delete("bench")
    finally:
        host.close()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
