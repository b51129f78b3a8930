"""Control of a Toxiproxy server (ours or a real one) through toxiproxy-python, wrapped where
the client falls short: its host and port are process-global class attributes (we set them
under a lock for every call), it does not raise on 500 (a port clash surfaced as KeyError), and
it cannot update a toxic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from ..errors import ChaosError

_LOCK = threading.RLock()


class ToxiproxyError(ChaosError):
    """The Toxiproxy server refused a request (its error message is included)."""


class ToxiproxyClient:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if not parts.hostname or not parts.port:
            raise ToxiproxyError(f"--toxiproxy-url {url!r}: expected http://HOST:PORT")
        self.url = url
        self.host, self.port = parts.hostname, parts.port

    @contextmanager
    def _api(self) -> Iterator[Any]:
        from toxiproxy.api import APIConsumer

        with _LOCK:
            saved = APIConsumer.host, APIConsumer.port
            APIConsumer.host, APIConsumer.port = self.host, self.port
            try:
                yield APIConsumer
            except Exception as exc:  # toxiproxy-python's exceptions carry the body
                if isinstance(exc, ToxiproxyError):
                    raise
                raise ToxiproxyError(f"toxiproxy at {self.url}: {exc}") from None
            finally:
                APIConsumer.host, APIConsumer.port = saved

    @staticmethod
    def _ok(response: Any, what: str) -> Any:
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise ToxiproxyError(f"{what}: HTTP {response.status_code}: {message}")
        return response.json() if response.content.strip() else None

    def version(self) -> str:
        with self._api() as api:
            return str(self._ok(api.get("/version"), "version")["version"])

    def create(self, name: str, upstream: str, listen: str = "127.0.0.1:0",
               enabled: bool = True) -> Any:
        from toxiproxy.proxy import Proxy

        with self._api() as api:
            body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
            return Proxy(**self._ok(api.post("/proxies", json=body), f"create proxy {name}"))

    def populate(self, proxies: list[dict[str, Any]]) -> list[Any]:
        """Create several proxies in one request (``POST /populate``), in order."""
        from toxiproxy.proxy import Proxy

        with self._api() as api:
            body = [{"listen": "127.0.0.1:0", "enabled": True, **p} for p in proxies]
            created = self._ok(api.post("/populate", json=body), "create proxies")["proxies"]
            by_name = {p["name"]: Proxy(**p) for p in created}
            return [by_name[p["name"]] for p in body]

    def proxies(self) -> dict[str, Any]:
        from toxiproxy import Toxiproxy

        with self._api():
            result: dict[str, Any] = Toxiproxy().proxies()
            return result

    def delete(self, name: str) -> None:
        with self._api() as api:
            self._ok(api.delete(f"/proxies/{name}"), f"delete proxy {name}")

    def set_enabled(self, name: str, enabled: bool) -> None:
        with self._api() as api:
            self._ok(api.post(f"/proxies/{name}", json={"enabled": enabled}),
                     f"{'enable' if enabled else 'disable'} proxy {name}")

    def add_toxic(self, proxy: str, type: str, stream: str = "downstream",
                  toxicity: float = 1.0, attributes: dict[str, Any] | None = None,
                  name: str | None = None) -> dict[str, Any]:
        body = {"name": name or f"{type}_{stream}", "type": type, "stream": stream,
                "toxicity": toxicity, "attributes": attributes or {}}
        with self._api() as api:
            result: dict[str, Any] = self._ok(api.post(f"/proxies/{proxy}/toxics", json=body),
                                              f"add toxic {body['name']} to {proxy}")
            return result

    def update_toxic(self, proxy: str, toxic: str, attributes: dict[str, Any] | None = None,
                     toxicity: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"attributes": attributes or {}}
        if toxicity is not None:
            body["toxicity"] = toxicity
        with self._api() as api:
            result: dict[str, Any] = self._ok(
                api.post(f"/proxies/{proxy}/toxics/{toxic}", json=body),
                f"update toxic {toxic} of {proxy}")
            return result

    def toxics(self, proxy: str) -> dict[str, Any]:
        from toxiproxy.proxy import Proxy

        with self._api() as api:
            info = self._ok(api.get(f"/proxies/{proxy}"), f"read proxy {proxy}")
            result: dict[str, Any] = Proxy(**info).toxics()
            return result

    def remove_toxic(self, proxy: str, toxic: str) -> None:
        with self._api() as api:
            self._ok(api.delete(f"/proxies/{proxy}/toxics/{toxic}"),
                     f"remove toxic {toxic} from {proxy}")

    def reset(self) -> None:
        with self._api() as api:
            self._ok(api.post("/reset"), "reset")
