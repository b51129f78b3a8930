"""The run's network: a Toxiproxy proxy in front of every target the agent reaches (the model,
each tool API, and any ``host:port`` upstream a scenario names), so network faults can be
injected on live connections. Uses the embedded server unless ``--toxiproxy-url`` names a real
one; either way only the proxies a run needs are created, and exactly those are removed."""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import re
import socket
import threading
from typing import TYPE_CHECKING

from .toxiproxy.client import ToxiproxyClient

if TYPE_CHECKING:
    from .faults.base import NetworkFault


PREFIX = "agent-chaos."
#: Serial numbers of proxy names, process-wide: two runners (one process, one owner token) on
#: one Toxiproxy never give the same run's proxies the same name.
_SERIALS = itertools.count(1)


def owner_token(pid: int | None = None) -> str:
    """Who owns a proxy: host, process id and the process's start time (so a reused pid is
    not mistaken for the owner). Proxy names carry it, so two sessions never collide and the
    proxies of a session that died can be told apart from those of a live one."""
    pid = os.getpid() if pid is None else pid
    return f"{_host()}~{pid}~{_started(pid) or 0}"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner_alive(token: str) -> bool:
    host, pid, started = [*token.split("~"), "", "", ""][:3]
    if host != _host() or not pid.isdigit():
        return True  # another machine's: not ours to judge
    now = _started(int(pid))
    if now is not None:
        return started in ("", "0") or now == started
    try:  # no /proc entry: ask the kernel whether the pid exists at all
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Network:
    def __init__(self, client: ToxiproxyClient) -> None:
        self.client = client
        self.token = owner_token()
        self._lock = threading.Lock()
        self._open: dict[str, list[str]] = {}  # session → proxy names it created
        self._doomed: queue.Queue[list[str] | None] = queue.Queue()  # closed sessions' proxies
        self._reaper: threading.Thread | None = None
        self._serial: dict[str, int] = {}  # session → the serial number of its proxies' names
        self.swept: list[str] = []  # proxies left by dead sessions, removed

    def proxy_name(self, session: str, target: str) -> str:
        """The name of the session's proxy to ``target``. Each opening of a session gets new
        names: the proxies of its previous run may still be being removed."""
        with self._lock:
            serial = self._serial.get(session, 0)
        return f"{PREFIX}{self.token}.{session}.{serial}.{target}"

    def sweep(self) -> list[str]:
        """Remove the proxies that sessions on this machine left behind when they died (a
        SIGKILL leaves them on an external Toxiproxy); return their names."""
        removed = []
        for name in sorted(self.client.proxies()):
            if not name.startswith(PREFIX):
                continue
            token = name[len(PREFIX):].split(".", 1)[0]
            if "~" in token and not _owner_alive(token):
                with contextlib.suppress(Exception):  # another sweeper may be first
                    self.client.delete(name)
                    removed.append(name)
        self.swept += removed
        return removed

    def open(self, session: str, targets: dict[str, str]) -> dict[str, str]:
        """Create a proxy per target (name → upstream ``host:port``), all in one request;
        name → listen address."""
        with self._lock:
            self._serial[session] = next(_SERIALS)
        names = {target: self.proxy_name(session, target) for target in targets}
        with self._lock:
            self._open.setdefault(session, []).extend(names.values())
        try:
            created = self.client.populate([{"name": names[t], "upstream": upstream}
                                            for t, upstream in targets.items()])
        except Exception:
            self.close(session, wait=True)
            raise
        return {target: proxy.listen for target, proxy in zip(targets, created, strict=True)}

    def close(self, session: str, wait: bool = False) -> None:
        """Remove the session's proxies: in the background (the run's result does not wait
        for them), or at once with ``wait``."""
        with self._lock:
            names = self._open.pop(session, [])
            self._serial.pop(session, None)
            if not names:
                return
            if not wait:
                if self._reaper is None or not self._reaper.is_alive():
                    self._reaper = threading.Thread(target=self._reap, daemon=True,
                                                    name="agent-chaos-proxy-reaper")
                    self._reaper.start()
                self._doomed.put(names)
                return
        self._delete(names)

    def _delete(self, names: list[str]) -> None:
        from .toxiproxy.client import ToxiproxyError

        for name in names:
            with contextlib.suppress(ToxiproxyError):  # gone already (a failed populate)
                self.client.delete(name)

    def _reap(self) -> None:
        while (names := self._doomed.get()) is not None:
            self._delete(names)

    def close_all(self) -> None:
        """Remove every proxy of this network, and wait until they are gone."""
        for session in list(self._open):
            self.close(session, wait=True)
        with self._lock:
            reaper, self._reaper = self._reaper, None
        if reaper is not None:
            self._doomed.put(None)
            reaper.join()


class RunToxics:
    """Switches a run's network faults on and off as toxics on its proxies. A fault on one of
    ``mirror`` (the tool APIs) applies to proxy ``to`` as well (the combined MCP endpoint,
    which carries every tool API's calls on one connection)."""

    def __init__(self, network: Network, session: str, mirror: set[str] | None = None,
                 to: str = "") -> None:
        self.client = network.client
        self.network = network
        self.session = session
        self.mirror = mirror or set()
        self.to = to

    def _proxies(self, service: str) -> list[str]:
        names = [self.network.proxy_name(self.session, service)]
        if service in self.mirror and self.to:
            names.append(self.network.proxy_name(self.session, self.to))
        return names

    def add(self, service: str, name: str, fault: NetworkFault) -> None:
        for proxy in self._proxies(service):
            self.client.add_toxic(proxy, fault.key, stream=fault.stream,
                                  toxicity=fault.toxicity, attributes=fault.attributes(),
                                  name=name)

    def remove(self, service: str, name: str) -> None:
        for proxy in self._proxies(service):
            self.client.remove_toxic(proxy, name)
