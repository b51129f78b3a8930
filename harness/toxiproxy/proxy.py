"""Proxies, their connections, and the links that carry each direction through the toxics.

A direction with no toxic moves its bytes with splice(2) through a pipe, so they never enter
Python (where the platform has it); a direction with toxics reads chunks and runs each through
the toxic chain. A link switches between the two as toxics come and go, at chunk boundaries."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
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
#: splice(2) is Linux's; elsewhere every direction takes the chunk path.
SPLICE = hasattr(os, "splice")
PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031


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
                 source: socket.socket, target: socket.socket) -> None:
        self.connection = connection
        self.direction = direction
        self.source = source
        self.target = target
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
        self._pipe: tuple[int, int] | None = None

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
            await self._write(data)
            return
        entry = chain[index]

        async def forward(piece: bytes) -> None:
            await self._through(chain, index + 1, piece)

        self.current_toxic = entry.name
        await entry.toxic.handle(data, forward, self)

    async def _write(self, data: bytes) -> None:
        if not self.closing:
            await asyncio.get_running_loop().sock_sendall(self.target, data)

    async def run(self) -> None:
        proxy = self.connection.proxy
        loop = asyncio.get_running_loop()
        try:
            while not self.closing:
                chain = proxy.chain(self.direction)
                if not chain and SPLICE:
                    self.sync(chain)
                    if await self._splice():
                        break  # end of input
                    continue  # a toxic arrived: take the chunk path
                data = await loop.sock_recv(self.source, CHUNK)
                if not data:
                    break
                self.arrived = loop.time()
                chain = proxy.chain(self.direction)
                self.sync(chain)
                await self._through(chain, 0, data)
            if not self.closing:
                for entry in proxy.chain(self.direction):
                    if self.active(entry):
                        await entry.toxic.before_close(self)
                if not self.closing:
                    self.target.shutdown(socket.SHUT_WR)
        except (ConnectionError, OSError):
            self.connection.close()
        finally:
            for name in list(self._timers):
                self.cancel_timer(name)
            if self._pipe is not None:
                for fd in self._pipe:
                    os.close(fd)
                self._pipe = None

    async def _splice(self) -> bool:
        """Move bytes source → pipe → target in the kernel while this direction has no toxic.
        True at the end of input; False when a toxic arrived (bytes already taken are sent)."""
        if self._pipe is None:
            self._pipe = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            with contextlib.suppress(OSError):
                fcntl.fcntl(self._pipe[1], _F_SETPIPE_SZ, PIPE_SIZE)
        pipe_out, pipe_in = self._pipe
        source, target = self.source.fileno(), self.target.fileno()
        flags = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
        chains = self.connection.proxy.toxics
        readable = _Readiness(source)  # stays registered while idle: no epoll_ctl per message
        try:
            while not self.closing:
                if any(t.stream == self.direction for t in chains.values()):
                    return False
                try:
                    moved = os.splice(source, pipe_in, PIPE_SIZE, flags=flags)
                except BlockingIOError:
                    await readable.wait()
                    continue
                if moved == 0:
                    return True
                self.arrived = asyncio.get_running_loop().time()
                while moved and not self.closing:
                    try:
                        moved -= os.splice(pipe_out, target, moved, flags=flags)
                    except BlockingIOError:
                        readable.pause()  # not reading until the target drains
                        await _Readiness(target, write=True).wait()
            return False
        finally:
            readable.pause()


class _Readiness:
    """Waits for a file descriptor to become readable (or writable). The registration is kept
    between waits and dropped by ``pause``."""

    def __init__(self, fd: int, write: bool = False) -> None:
        self.fd = fd
        self.write = write
        self.registered = False
        self.waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        if not self.registered:
            (loop.add_writer if self.write else loop.add_reader)(self.fd, self._wake)
            self.registered = True
        try:
            await self.waiter
        finally:
            self.waiter = None
            if self.write:
                self.pause()

    def pause(self) -> None:
        if self.registered:
            loop = asyncio.get_running_loop()
            (loop.remove_writer if self.write else loop.remove_reader)(self.fd)
            self.registered = False


class Connection:
    """A client connection and its upstream connection, with a link each way."""

    def __init__(self, proxy: Proxy, index: int, client: socket.socket,
                 upstream: socket.socket) -> None:
        self.proxy = proxy
        self.index = index
        self.client = client
        self.upstream = upstream
        self.links = [Link(self, "upstream", client, upstream),
                      Link(self, "downstream", upstream, client)]
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        for link in self.links:
            link.sync(self.proxy.chain(link.direction))
        self._tasks = [asyncio.ensure_future(link.run()) for link in self.links]
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def toxics_changed(self, changed: str | None = None) -> None:
        for link in self.links:
            link.sync(self.proxy.chain(link.direction), changed)

    def close(self) -> None:
        """Stop both directions; the sockets are closed once they have stopped."""
        current = asyncio.current_task()
        for link in self.links:
            link.closing = True
            link.interrupt()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    def reset(self, direction: Direction) -> None:
        """Close with RST towards the receiving side of ``direction``."""
        sock = self.client if direction == "downstream" else self.upstream
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
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
        self._listener: socket.socket | None = None
        self._serving: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._count = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled, "toxics": [t.to_json() for t in self.listed()]}

    def listed(self) -> list[ToxicEntry]:
        """The toxics as Toxiproxy lists them: upstream ones first, then downstream, each in
        the order they were added."""
        return self.chain("upstream") + self.chain("downstream")

    def chain(self, direction: Direction) -> list[ToxicEntry]:
        return [t for t in self.toxics.values() if t.stream == direction]

    async def start(self) -> None:
        if self._listener is not None:
            return
        host, port = split_address(self.listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(128)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self.listen = f"{host}:{listener.getsockname()[1]}"
        self._serving = asyncio.ensure_future(self._serve(listener))
        self.enabled = True

    async def stop(self) -> None:
        self.enabled = False
        listener, self._listener = self._listener, None
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
        if listener is not None:
            listener.close()
        for conn in list(self.connections):
            conn.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            client, _ = await loop.sock_accept(listener)
            task = asyncio.ensure_future(self._handle(client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, client: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        upstream: socket.socket | None = None
        try:
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            host, port = split_address(self.upstream)
            try:
                family, kind, proto, _, address = (await loop.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM))[0]
                upstream = socket.socket(family, kind, proto)
                upstream.setblocking(False)
                await loop.sock_connect(upstream, address)
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                return  # like Toxiproxy: the client's connection is simply closed
            self._count += 1
            conn = Connection(self, self._count, client, upstream)
            self.connections.add(conn)
            try:
                await conn.run()
            finally:
                conn.close()
                self.connections.discard(conn)
        finally:
            client.close()
            if upstream is not None:
                upstream.close()

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
