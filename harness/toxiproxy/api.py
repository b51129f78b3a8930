"""The Toxiproxy v2 HTTP API (aiohttp), with the status codes and bodies of the real server
(ARCHITECTURE.md): 201 on create, 204 on delete and reset, ``{"error", "status"}`` bodies."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from .._json import BadJSON, loads_strict
from .proxy import Direction, Proxy, ToxicEntry, split_address
from .toxics import TOXICS

VERSION = "2.12.0-agent-chaos"


class ApiError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


NOT_FOUND = ("proxy not found", 404)


class ToxiproxyAPI:
    """The proxies of one server and the HTTP handlers that manage them."""

    def __init__(self, seed: int = 0) -> None:
        self.proxies: dict[str, Proxy] = {}
        self.seed = seed

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors])
        r = app.router
        r.add_post("/reset", self.reset)
        r.add_get("/version", self.version)
        r.add_get("/proxies", self.index)
        r.add_post("/proxies", self.create)
        r.add_post("/populate", self.populate)
        r.add_get("/proxies/{proxy}", self.show)
        r.add_post("/proxies/{proxy}", self.update)
        r.add_patch("/proxies/{proxy}", self.update)
        r.add_delete("/proxies/{proxy}", self.delete)
        r.add_get("/proxies/{proxy}/toxics", self.toxic_index)
        r.add_post("/proxies/{proxy}/toxics", self.toxic_create)
        r.add_get("/proxies/{proxy}/toxics/{toxic}", self.toxic_show)
        r.add_post("/proxies/{proxy}/toxics/{toxic}", self.toxic_update)
        r.add_patch("/proxies/{proxy}/toxics/{toxic}", self.toxic_update)
        r.add_delete("/proxies/{proxy}/toxics/{toxic}", self.toxic_delete)
        app.on_cleanup.append(self._cleanup)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except ApiError as exc:
            return _error(exc.message, exc.status)

    async def _cleanup(self, app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        for proxy in list(self.proxies.values()):
            await proxy.stop()
        self.proxies.clear()

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    async def _body(request: web.Request) -> Any:
        try:
            return loads_strict(await request.read(), lenient=True)
        except BadJSON as exc:
            raise ApiError(f"bad request body: {exc}", 400) from None

    def _proxy(self, request: web.Request) -> Proxy:
        proxy = self.proxies.get(request.match_info["proxy"])
        if proxy is None:
            raise ApiError(*NOT_FOUND)
        return proxy

    @staticmethod
    def _check_fields(body: Any, where: str = "") -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError("bad request body: expected a JSON object", 400)
        for field in ("name", "upstream"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise ApiError(f"missing required field: {field}{where}", 400)
        if "listen" in body and not isinstance(body["listen"], str):
            raise ApiError("bad request body: listen must be a string", 400)
        if "enabled" in body and not isinstance(body["enabled"], bool):
            raise ApiError("bad request body: enabled must be true or false", 400)
        listen = body.get("listen") or "127.0.0.1:0"
        for address in (listen, body["upstream"]):
            try:
                split_address(address)
            except ValueError as exc:
                raise ApiError(f"bad request body: {exc}", 400) from None
        return {"name": body["name"], "listen": listen, "upstream": body["upstream"],
                "enabled": body.get("enabled", True) is not False}

    async def _start(self, proxy: Proxy) -> None:
        try:
            await proxy.start()
        except OSError as exc:
            raise ApiError(f"listen tcp {proxy.listen}: bind: {exc.strerror or exc}", 500) \
                from None

    async def _add(self, fields: dict[str, Any]) -> Proxy:
        proxy = Proxy(fields["name"], fields["listen"], fields["upstream"], self.seed)
        if fields["enabled"]:
            await self._start(proxy)
        self.proxies[proxy.name] = proxy
        return proxy

    # --- proxies -------------------------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION})

    async def index(self, request: web.Request) -> web.Response:
        return web.json_response({n: p.to_json() for n, p in self.proxies.items()})

    async def create(self, request: web.Request) -> web.Response:
        fields = self._check_fields(await self._body(request))
        if fields["name"] in self.proxies:
            raise ApiError("proxy already exists", 409)
        proxy = await self._add(fields)
        return web.json_response(proxy.to_json(), status=201)

    async def populate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not isinstance(body, list):
            raise ApiError("bad request body: expected a JSON array of proxies", 400)
        try:
            # Validate all first; the real server names the proxy, counting from 1.
            all_fields = [self._check_fields(item, f" at proxy {i}")
                          for i, item in enumerate(body, 1)]
        except ApiError as exc:
            return web.json_response({"error": exc.message, "proxies": None,
                                      "status": exc.status}, status=exc.status)
        created = []
        for fields in all_fields:
            old = self.proxies.get(fields["name"])
            if old is not None:
                if old.upstream == fields["upstream"] and old.listen == fields["listen"]:
                    created.append(old)
                    continue
                await old.stop()
                del self.proxies[old.name]
            created.append(await self._add(fields))
        return web.json_response({"proxies": [p.to_json() for p in created]}, status=201)

    async def show(self, request: web.Request) -> web.Response:
        return web.json_response(self._proxy(request).to_json())

    async def update(self, request: web.Request) -> web.Response:
        proxy = self._proxy(request)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError("bad request body: expected a JSON object", 400)
        for field in ("listen", "upstream"):
            if field in body and not isinstance(body[field], str):
                raise ApiError(f"bad request body: {field} must be a string", 400)
        if "enabled" in body and not isinstance(body["enabled"], bool):
            raise ApiError("bad request body: enabled must be true or false", 400)
        listen = body.get("listen") or proxy.listen
        upstream = body.get("upstream") or proxy.upstream
        for address in (listen, upstream):
            try:
                split_address(address)
            except ValueError as exc:
                raise ApiError(f"bad request body: {exc}", 400) from None
        enabled = body.get("enabled", proxy.enabled)
        before = (proxy.listen, proxy.upstream, proxy.enabled)
        moved = listen != proxy.listen or upstream != proxy.upstream
        if proxy.enabled and (moved or not enabled):
            await proxy.stop()
        proxy.listen, proxy.upstream = listen, upstream
        if enabled and not proxy.enabled:
            try:
                await self._start(proxy)
            except ApiError:
                # A failed update leaves the proxy as it was, listening where it listened.
                proxy.listen, proxy.upstream = before[0], before[1]
                if before[2]:
                    await self._start(proxy)
                raise
        return web.json_response(proxy.to_json())

    async def delete(self, request: web.Request) -> web.Response:
        proxy = self._proxy(request)
        await proxy.stop()
        del self.proxies[proxy.name]
        return web.Response(status=204)

    async def reset(self, request: web.Request) -> web.Response:
        for proxy in self.proxies.values():
            for name in list(proxy.toxics):
                proxy.remove_toxic(name)
            if not proxy.enabled:
                await self._start(proxy)
        return web.Response(status=204)

    # --- toxics --------------------------------------------------------------------------

    async def toxic_index(self, request: web.Request) -> web.Response:
        return web.json_response([t.to_json() for t in self._proxy(request).listed()])

    async def toxic_create(self, request: web.Request) -> web.Response:
        proxy = self._proxy(request)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError("bad request body: expected a JSON object", 400)
        cls = TOXICS.get(str(body.get("type")))
        if cls is None:
            raise ApiError("invalid toxic type", 400)
        stream: Direction = body.get("stream") or "downstream"
        if stream not in ("upstream", "downstream"):
            raise ApiError("stream was invalid, can be either upstream or downstream", 400)
        name = body.get("name") or f"{cls.type}_{stream}"
        if not isinstance(name, str):
            raise ApiError("bad request body: name must be a string", 400)
        if name in proxy.toxics:
            raise ApiError("toxic already exists", 409)
        entry = ToxicEntry(str(name), cls.type, stream, _toxicity(body.get("toxicity", 1.0)),
                           _attributes(cls, body.get("attributes") or {}))
        proxy.add_toxic(entry)
        return web.json_response(entry.to_json())

    def _toxic(self, request: web.Request) -> tuple[Proxy, ToxicEntry]:
        proxy = self._proxy(request)
        entry = proxy.toxics.get(request.match_info["toxic"])
        if entry is None:
            raise ApiError("toxic not found", 404)
        return proxy, entry

    async def toxic_show(self, request: web.Request) -> web.Response:
        return web.json_response(self._toxic(request)[1].to_json())

    async def toxic_update(self, request: web.Request) -> web.Response:
        proxy, entry = self._toxic(request)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError("bad request body: expected a JSON object", 400)
        changes = body.get("attributes") or {}
        if not isinstance(changes, dict):
            raise ApiError("bad request body: attributes must be an object", 400)
        merged = {**entry.toxic.model_dump(by_alias=True), **changes}
        cls = type(entry.toxic)
        updated = ToxicEntry(entry.name, entry.type, entry.stream,
                             _toxicity(body.get("toxicity", entry.toxicity)),
                             _attributes(cls, merged))
        proxy.update_toxic(updated)
        return web.json_response(updated.to_json())

    async def toxic_delete(self, request: web.Request) -> web.Response:
        proxy, entry = self._toxic(request)
        proxy.remove_toxic(entry.name)
        return web.Response(status=204)


def _toxicity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(f"bad request body: toxicity must be a number, got {value!r}", 400)
    return float(value)


def _attributes(cls: type[Any], attributes: Any) -> Any:
    if not isinstance(attributes, dict):
        raise ApiError("bad request body: attributes must be an object", 400)
    for key, value in attributes.items():  # Toxiproxy's attributes are Go int64s
        if isinstance(value, int) and not -2**63 <= value < 2**63:
            raise ApiError(f"bad request body: {key}: {value} overflows a 64-bit integer", 400)
    try:
        return cls.model_validate(attributes)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ApiError(f"bad request body: {field}: {first['msg']}", 400) from None
