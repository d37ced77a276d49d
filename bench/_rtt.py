"""A loopback TCP proxy that makes every round trip cost a configurable time, in user space.

``python bench/_rtt.py UPSTREAM_PORT RTT_MS`` listens on two free loopback ports (the measured
one and one for warm-up), forwards each connection to ``127.0.0.1:UPSTREAM_PORT`` and delivers
every chunk half a round trip after it arrived, in both directions, in order. A new
connection's first bytes are held until a full round trip after it was accepted, as the SYN and
SYN-ACK would have cost one: so a TCP handshake pays one RTT and a TLS handshake its flights,
as over a network. No kernel traffic shaping is needed.

It prints ``{"port": P, "warm_port": W}``, then answers JSON lines on stdin:
``{"cmd": "stats"}`` -> ``{"connections": n, "tls_handshakes": m}`` for the measured port (a
TLS handshake is a connection whose first record is a ClientHello); ``{"cmd": "quit"}`` stops.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any

_CHUNK = 256 * 1024
_TLS_HANDSHAKE, _CLIENT_HELLO = 0x16, 0x01


class _Stats:
    def __init__(self) -> None:
        self.connections = 0
        self.tls_handshakes = 0


class _Leg:
    """One direction of one connection: chunks delivered ``delay`` after arrival, in order."""

    def __init__(self, writer: asyncio.StreamWriter, delay: float, not_before: float) -> None:
        self.writer = writer
        self.delay = delay
        self.not_before = not_before
        self.last_due = 0.0
        self.loop = asyncio.get_running_loop()

    def deliver(self, data: bytes | None) -> None:
        due = max(self.loop.time(), self.not_before) + self.delay
        self.last_due = due = max(due, self.last_due)
        self.loop.call_at(due, self._write, data)

    def _write(self, data: bytes | None) -> None:
        if self.writer.is_closing():
            return
        try:
            if data is None:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                else:
                    self.writer.close()
            else:
                self.writer.write(data)
        except OSError:  # the peer is gone: as a network would, drop what was in flight
            self.writer.close()


async def _pump(reader: asyncio.StreamReader, leg: _Leg, first: Any = None) -> None:
    try:
        while data := await reader.read(_CHUNK):
            if first is not None:
                first(data)
                first = None
            leg.deliver(data)
    except OSError:
        pass
    leg.deliver(None)


def _handler(upstream_port: int, rtt: float, stats: _Stats | None) -> Any:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            writer.close()
            return

        def first_bytes(data: bytes) -> None:
            if stats is not None:
                stats.connections += 1
                if len(data) > 5 and data[0] == _TLS_HANDSHAKE and data[5] == _CLIENT_HELLO:
                    stats.tls_handshakes += 1

        # Client to server: held until the handshake's round trip is over, then half an RTT.
        to_server = _Leg(up_writer, rtt / 2, accepted + rtt)
        to_client = _Leg(writer, rtt / 2, 0.0)
        await asyncio.gather(_pump(reader, to_server, first_bytes), _pump(up_reader, to_client))
        await asyncio.sleep(rtt)  # let the last delivery happen before closing
        up_writer.close()
        writer.close()

    return handle


def _tracked(handle: Any, tasks: set[asyncio.Task[None]]) -> Any:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handle(reader, writer)
        finally:
            tasks.discard(task)

    return run


async def _main(upstream_port: int, rtt: float) -> None:
    stats = _Stats()
    tasks: set[asyncio.Task[None]] = set()
    measured = _tracked(_handler(upstream_port, rtt, stats), tasks)
    server = await asyncio.start_server(measured, "127.0.0.1", 0)
    warm_handler = _tracked(_handler(upstream_port, rtt, None), tasks)
    warm = await asyncio.start_server(warm_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    warm_port = warm.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "warm_port": warm_port}), flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def commands() -> None:
        for line in sys.stdin:
            cmd = json.loads(line)["cmd"]
            if cmd == "stats":
                out = {"connections": stats.connections, "tls_handshakes": stats.tls_handshakes}
                print(json.dumps(out), flush=True)
            elif cmd == "quit":
                break
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=commands, daemon=True).start()
    await stop.wait()
    server.close()
    warm.close()
    for task in list(tasks):  # connections still open at the end (pooled by the clients)
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]), float(sys.argv[2]) / 1000))
