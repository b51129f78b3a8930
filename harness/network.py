"""The run's network: a Toxiproxy proxy in front of every target the agent reaches (the model,
each tool API, and any ``host:port`` upstream a scenario names), so network faults can be
injected on live connections. Uses the embedded server unless ``--toxiproxy-url`` names a real
one; either way only the proxies a run needs are created, and exactly those are removed."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .toxiproxy.client import ToxiproxyClient

if TYPE_CHECKING:
    from .faults.base import NetworkFault


class Network:
    def __init__(self, client: ToxiproxyClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._open: dict[str, list[str]] = {}  # session → proxy names it created

    @staticmethod
    def proxy_name(session: str, target: str) -> str:
        return f"agent-chaos.{session}.{target}"

    def open(self, session: str, targets: dict[str, str]) -> dict[str, str]:
        """Create a proxy per target (name → upstream ``host:port``); name → listen address."""
        listens: dict[str, str] = {}
        try:
            for target, upstream in targets.items():
                name = self.proxy_name(session, target)
                proxy = self.client.create(name, upstream=upstream)
                with self._lock:
                    self._open.setdefault(session, []).append(name)
                listens[target] = proxy.listen
        except Exception:
            self.close(session)
            raise
        return listens

    def close(self, session: str) -> None:
        with self._lock:
            names = self._open.pop(session, [])
        for name in names:
            self.client.delete(name)

    def close_all(self) -> None:
        for session in list(self._open):
            self.close(session)


class RunToxics:
    """Switches a run's network faults on and off as toxics on its proxies."""

    def __init__(self, network: Network, session: str) -> None:
        self.client = network.client
        self.session = session

    def add(self, service: str, name: str, fault: NetworkFault) -> None:
        self.client.add_toxic(Network.proxy_name(self.session, service), fault.key,
                              stream=fault.stream, toxicity=fault.toxicity,
                              attributes=fault.attributes(), name=name)

    def remove(self, service: str, name: str) -> None:
        self.client.remove_toxic(Network.proxy_name(self.session, service), name)
