"""An emulated network link: a TCP proxy on 127.0.0.1 between Chromium and one host.

DevTools' network emulation delivers about 57% of its nominal bandwidth on this machine, so the
browser benchmarks throttle here instead. The model, per direction (down: host to browser, up:
browser to host): one bottleneck of the network's bandwidth shared by every connection, a FIFO
(a chunk departs when it is read or when the link is free, whichever is later, keeps the link
busy for its bits over the bandwidth, and arrives one-way delay, RTT / 2, after that); each
connection writes its chunks in order at their arrival times. A new connection's bytes upstream
depart no earlier than one RTT after it was accepted: the TCP handshake a real network costs
before a request (a connection the browser opened ahead of its request has paid it already).
Unthrottled (0 Mbit/s) passes bytes through at once. The network can change between visits;
the proxy and every connection stop when its `with` block ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from harness.chromium import Network

CHUNK = 16 * 1024  # bytes read at once: 3.3 ms at 40 Mbit/s, so arrivals stay smooth


@dataclass
class Bottleneck:
    """One direction of the link: when it is next free, on the event loop's clock."""

    free: float = 0.0

    def arrival(self, now: float, size: int, network: Network, ready: float = 0.0) -> float:
        """When SIZE bytes read at NOW, sendable from READY on, reach the other side."""
        if not network.mbit:
            return now
        departure = max(now, ready, self.free)
        self.free = departure + network.seconds(size)
        return self.free + network.rtt / 2000


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
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

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
            while data := await reader.read(CHUNK):
                at = bottleneck.arrival(loop.time(), len(data), self.network, ready)
                queue.put_nowait((at, data))
            # The end of the stream travels like its last byte: at once after it.
            queue.put_nowait((bottleneck.arrival(loop.time(), 0, self.network, ready), b""))
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
