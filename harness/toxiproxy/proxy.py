"""Proxies, their connections, and the links that carry each direction through the toxics."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .._seed import derive
from .toxics import Toxic

Direction = Literal["upstream", "downstream"]
CHUNK = 64 * 1024


@dataclass
class ToxicEntry:
    """A toxic as the API knows it: name, type, stream, toxicity, attributes."""

    name: str
    type: str
    stream: Direction
    toxicity: float
    toxic: Toxic

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "stream": self.stream,
                "toxicity": self.toxicity, "attributes": self.toxic.model_dump(by_alias=True)}


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{address!r} is not host:port")
    return host.strip("[]") or "127.0.0.1", int(port)


class Link:
    """One direction of one connection: reads its input, runs each chunk through the
    direction's toxic chain, writes the output."""

    def __init__(self, connection: Connection, direction: Direction,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connection = connection
        self.direction = direction
        self.reader = reader
        self.writer = writer
        self.rng = random.Random(derive(connection.proxy.seed, connection.proxy.name,
                                        connection.index, direction))
        self.current_toxic = ""
        self.closing = False
        self.arrived = 0.0  # loop time at which the current chunk was read
        self._state: dict[str, dict[str, Any]] = {}
        self._rolls: dict[str, bool] = {}
        self._attached: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._interrupts: dict[str, asyncio.Event] = {}

    # --- for toxics --------------------------------------------------------------------

    async def pause(self, name: str, deadline: float) -> bool:
        """Sleep until ``deadline`` (loop time) unless toxic ``name`` is removed from this link
        (or the connection closes) first, as Toxiproxy interrupts a toxic's stub: then return
        True at once, so the held data goes on without the rest of its delay."""
        event = self._interrupts.get(name)
        if event is None or event.is_set():
            return True
        loop = asyncio.get_running_loop()
        coarse = deadline - loop.time() - 0.0015
        if coarse > 0:
            try:
                await asyncio.wait_for(event.wait(), coarse)
                return True
            except TimeoutError:
                pass
        while loop.time() < deadline:  # the selector rounds timeouts up to whole ms
            if event.is_set():
                return True
            await asyncio.sleep(0)
        return False

    def interrupt(self) -> None:
        for event in self._interrupts.values():
            event.set()

    def state_of(self, toxic: Toxic) -> dict[str, Any]:
        """Per-link state of the toxic being run (call before forwarding)."""
        return self._state.setdefault(self.current_toxic, {})

    def set_timer(self, name: str, seconds: float, callback: Callable[[], None]) -> None:
        self.cancel_timer(name)
        self._timers[name] = asyncio.get_running_loop().call_later(seconds, callback)

    def cancel_timer(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    # --- chain -------------------------------------------------------------------------

    def active(self, entry: ToxicEntry) -> bool:
        """Toxicity is rolled once per connection, direction and toxic."""
        if entry.name not in self._rolls:
            self._rolls[entry.name] = self.rng.random() < entry.toxicity
        return self._rolls[entry.name]

    def sync(self, chain: list[ToxicEntry], changed: str | None = None) -> None:
        """Attach toxics that apply now, detach those that no longer do. A ``changed`` toxic
        (updated) is rolled again, as Toxiproxy restarts its stubs."""
        if changed is not None:
            self._rolls.pop(changed, None)
        wanted = {e.name: e for e in chain if self.active(e)}
        proxy = self.connection.proxy
        for name in list(self._attached):
            if name in wanted:
                continue
            self._attached.discard(name)
            self._state.pop(name, None)
            interrupt = self._interrupts.pop(name, None)
            if interrupt is not None:
                interrupt.set()
            entry = proxy.removed.get(name) or proxy.toxics.get(name)
            if entry is not None:
                entry.toxic.detach(self, name)
            self.cancel_timer(name)
        for name in set(self._rolls) - {e.name for e in chain}:
            del self._rolls[name]
        for name, entry in wanted.items():
            if name not in self._attached:
                self._attached.add(name)
                self._interrupts[name] = asyncio.Event()
                self.current_toxic = name
                entry.toxic.attach(self, name)

    async def _through(self, chain: list[ToxicEntry], index: int, data: bytes) -> None:
        while index < len(chain) and not self.active(chain[index]):
            index += 1
        if index == len(chain):
            if not self.closing:
                self.writer.write(data)
                await self.writer.drain()
            return
        entry = chain[index]

        async def forward(piece: bytes) -> None:
            await self._through(chain, index + 1, piece)

        self.current_toxic = entry.name
        await entry.toxic.handle(data, forward, self)

    async def run(self) -> None:
        proxy = self.connection.proxy
        try:
            while not self.closing:
                data = await self.reader.read(CHUNK)
                if not data:
                    break
                self.arrived = asyncio.get_running_loop().time()
                chain = proxy.chain(self.direction)
                self.sync(chain)
                await self._through(chain, 0, data)
            if not self.closing:
                for entry in proxy.chain(self.direction):
                    if self.active(entry):
                        await entry.toxic.before_close(self)
                if self.writer.can_write_eof() and not self.writer.is_closing():
                    self.writer.write_eof()
        except (ConnectionError, OSError):
            self.connection.close()
        finally:
            for name in list(self._timers):
                self.cancel_timer(name)
            self.connection.link_done()


class Connection:
    """A client connection and its upstream connection, with a link each way."""

    def __init__(self, proxy: Proxy, index: int,
                 client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.proxy = proxy
        self.index = index
        self.client_writer = client[1]
        self.upstream_writer = upstream[1]
        self.links = [Link(self, "upstream", client[0], upstream[1]),
                      Link(self, "downstream", upstream[0], client[1])]
        self._running = 2
        self.done = asyncio.Event()

    async def run(self) -> None:
        for link in self.links:
            link.sync(self.proxy.chain(link.direction))
        await asyncio.gather(*(link.run() for link in self.links))

    def link_done(self) -> None:
        self._running -= 1
        if self._running == 0:
            self.close()

    def toxics_changed(self, changed: str | None = None) -> None:
        for link in self.links:
            link.sync(self.proxy.chain(link.direction), changed)

    def close(self) -> None:
        for link in self.links:
            link.closing = True
            link.interrupt()
        for writer in (self.client_writer, self.upstream_writer):
            if not writer.is_closing():
                writer.close()
        self.done.set()

    def reset(self, direction: Direction) -> None:
        """Close with RST towards the receiving side of ``direction``."""
        writer = self.client_writer if direction == "downstream" else self.upstream_writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        self.close()


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, seed: int = 0) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.seed = seed
        self.toxics: dict[str, ToxicEntry] = {}
        self.removed: dict[str, ToxicEntry] = {}
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._count = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled, "toxics": [t.to_json() for t in self.toxics.values()]}

    def chain(self, direction: Direction) -> list[ToxicEntry]:
        return [t for t in self.toxics.values() if t.stream == direction]

    async def start(self) -> None:
        if self._server is not None:
            return
        host, port = split_address(self.listen)
        self._server = await asyncio.start_server(self._accept, host, port,
                                                  reuse_address=True)
        bound = self._server.sockets[0].getsockname()
        self.listen = f"{host}:{bound[1]}"
        self.enabled = True

    async def stop(self) -> None:
        self.enabled = False
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in list(self.connections):
            conn.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            host, port = split_address(self.upstream)
            try:
                upstream = await asyncio.open_connection(host, port)
            except OSError:
                writer.close()
                return
            self._count += 1
            conn = Connection(self, self._count, (reader, writer), upstream)
            self.connections.add(conn)
            try:
                await conn.run()
            finally:
                conn.close()
                self.connections.discard(conn)
                for w in (writer, upstream[1]):
                    with contextlib.suppress(ConnectionError, OSError):
                        await w.wait_closed()
        finally:
            self._tasks.discard(task)

    def add_toxic(self, entry: ToxicEntry) -> None:
        self.toxics[entry.name] = entry
        self.removed.pop(entry.name, None)
        for conn in self.connections:
            conn.toxics_changed()

    def update_toxic(self, entry: ToxicEntry) -> None:
        self.toxics[entry.name] = entry
        for conn in list(self.connections):
            conn.toxics_changed(entry.name)

    def remove_toxic(self, name: str) -> None:
        self.removed[name] = self.toxics.pop(name)
        for conn in list(self.connections):
            conn.toxics_changed()
        self.removed.pop(name, None)
