"""An emulated network link: a TCP proxy on 127.0.0.1 between Chromium and one host.

DevTools' network emulation delivers about 57% of its nominal bandwidth on this machine, so the
browser benchmarks throttle here instead. The model, per direction (down: host to browser, up:
browser to host): one bottleneck of the network's bandwidth shared by every connection, the
connections with bytes waiting taking turns a 16 KiB chunk each, as TCP flows share a link about
fairly (a first version queued every chunk in the order it was read, which put the page's small
scripts behind the whole module); a chunk keeps the link busy for its bits over the bandwidth
and arrives one-way delay, RTT / 2, after it left; each
connection writes its chunks in order at their arrival times. A new connection's bytes upstream
depart no earlier than one RTT after it was accepted: the TCP handshake a real network costs
before a request (a connection the browser opened ahead of its request has paid it already).
Unthrottled (0 Mbit/s) passes bytes through at once. The network can change between visits;
the proxy and every connection stop when its `with` block ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from harness.chromium import Network

CHUNK = 16 * 1024  # bytes read at once: 3.3 ms at 40 Mbit/s, so arrivals stay smooth
AHEAD = 0.01  # seconds: how far ahead of the link being free the next chunk is sent off


Delivery = asyncio.Queue[tuple[float, bytes]]  # (arrival time, bytes; b"" ends the stream)


@dataclass
class Bottleneck:
    """One direction of the link. Connections with bytes waiting take turns, a chunk each (TCP
    flows share a bottleneck about fairly: a small response is not queued behind a whole
    module); each chunk keeps the link busy for its bits over the bandwidth and arrives one-way
    delay later."""

    free: float = 0.0  # when the link is next free, on the event loop's clock
    waiting: dict[int, deque[tuple[bytes, Delivery]]] = field(default_factory=dict)
    turns: deque[int] = field(default_factory=deque)  # connections with bytes waiting, in turn
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def submit(self, connection: int, data: bytes, out: Delivery) -> None:
        queue = self.waiting.setdefault(connection, deque())
        if not queue:
            self.turns.append(connection)
        queue.append((data, out))
        self.wake.set()

    async def run(self, network: Callable[[], Network]) -> None:
        """Send the waiting chunks, one connection's turn after another, for ever."""
        loop = asyncio.get_running_loop()
        while True:
            if not self.turns:
                self.wake.clear()
                await self.wake.wait()
                continue
            if (wait := self.free - loop.time()) > AHEAD:
                # The link is busy: whoever waits then goes next. Waking a little ahead keeps
                # the link busy back to back (timer lateness would otherwise add up per chunk).
                await asyncio.sleep(wait - AHEAD)
                continue
            connection = self.turns.popleft()
            queue = self.waiting[connection]
            data, out = queue.popleft()
            if queue:
                self.turns.append(connection)
            else:
                del self.waiting[connection]
            link = network()
            self.free = max(loop.time(), self.free) + link.seconds(len(data))
            out.put_nowait((self.free + link.rtt / 2000, data))


@dataclass
class Link:
    """A proxy from `url` to the host on PORT; set `network` between visits."""

    port: int
    network: Network = field(default_factory=lambda: Network(0, 0))
    url: str = ""
    up: Bottleneck = field(default_factory=Bottleneck)
    down: Bottleneck = field(default_factory=Bottleneck)
    connections: int = 0  # accepted so far

    async def pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        bottleneck: Bottleneck,
        ready: float,
    ) -> None:
        """Carry READER's bytes to WRITER through BOTTLENECK until READER ends."""
        loop = asyncio.get_running_loop()
        queue: Delivery = asyncio.Queue()
        connection = id(queue)

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                if (wait := at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    return
                writer.write(data)
                await writer.drain()

        delivering = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(CHUNK)
                if not self.network.mbit:
                    queue.put_nowait((loop.time(), data))
                else:
                    if (wait := ready - loop.time()) > 0:
                        await asyncio.sleep(wait)  # the handshake is not over yet
                    # The end of the stream (b"") travels like its last byte: at once after it.
                    bottleneck.submit(connection, data, queue)
                if not data:
                    break
            await delivering
        finally:
            delivering.cancel()

    async def connect(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        self.connections += 1
        handshake = asyncio.get_running_loop().time() + self.network.rtt / 1000
        try:
            host, to_host = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            to_client.close()
            return
        pumps = [
            asyncio.create_task(self.pump(client, to_host, self.up, handshake)),
            asyncio.create_task(self.pump(host, to_client, self.down, 0.0)),
        ]
        try:
            # Either side closing (or failing) closes the other.
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for writer in (to_host, to_client):
                writer.close()

    async def serve(self, ready: threading.Event, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()
        for bottleneck in (self.up, self.down):
            task = asyncio.create_task(bottleneck.run(lambda: self.network))
            tasks.add(task)

        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.create_task(self.connect(reader, writer))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        ready.set()
        try:
            await stop.wait()
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()


@contextmanager
def link(url: str) -> Iterator[Link]:
    """A Link in front of URL (http://127.0.0.1:PORT/), running in a thread of its own."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    proxy = Link(port)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(proxy.serve(ready, stop))
        except BaseException as error:  # reported to the caller, not lost in the thread
            failed.append(error)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name=f"link-{port}", daemon=True)
    thread.start()
    ready.wait(30)
    try:
        if failed or not proxy.url:
            raise SystemExit(f"benchmark: the link to {url} did not start: {failed}")
        yield proxy
    finally:
        if not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        if thread.is_alive():
            raise SystemExit(f"benchmark: the link to {url} did not stop")
