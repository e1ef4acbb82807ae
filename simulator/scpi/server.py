"""A raw-socket SCPI server (like port 5025 on a LAN instrument) on 127.0.0.1.

The asyncio loop runs in a background thread, so tests and the built-in rig
reach the instrument over real TCP with pyvisa-py
(`TCPIP::127.0.0.1::PORT::SOCKET`) exactly as they would a bench instrument.
Messages end with `\\n`; each reply is written as the instrument built it.

The server keeps an output queue per connection: a reply not yet taken by the
client stays there, and a new message arriving meanwhile interrupts it (-410,
the rest of the reply is discarded), which is why a host must read every reply
before the next write. A query left without its `\\n` when the client hangs up
is reported as -420.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

# Flow-control marks: the reply stays in our own queue above this much
# unsent data, so a -410 can still discard most of it.
_HIGH_WATER = 64 * 1024
_CHUNK = 64 * 1024
# A line longer than this is not SCPI; the connection is dropped.
_MAX_LINE = 1 << 20
_LOG_LIMIT = 10_000
_LOG_REPLY_HEAD = 256
_START_TIMEOUT_S = 5.0
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class ScpiDevice(Protocol):
    """What the server needs from an instrument."""

    def handle(self, message: str) -> bytes | None: ...

    def interrupted(self, detail: str = "") -> None: ...

    def unterminated(self, detail: str = "") -> None: ...


@dataclass(frozen=True)
class Exchange:
    """One received message and what went back (first bytes only for long replies)."""

    connection: int
    message: str
    reply: bytes | None
    reply_size: int


class _Connection(asyncio.Protocol):
    def __init__(self, server: ScpiServer, number: int) -> None:
        self._server = server
        self._number = number
        self._buffer = bytearray()
        self._pending: deque[memoryview] = deque()
        self._paused = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=_HIGH_WATER)
        self._server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server._connections.discard(self)
        if b"?" in self._buffer:
            text = bytes(self._buffer[:80]).decode("latin-1")
            self._server.device.unterminated(f"connection closed during {text!r}")
        self._buffer.clear()
        self._pending.clear()

    def data_received(self, data: bytes) -> None:
        self._acknowledge_now()
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end]).rstrip(b"\r").decode("latin-1")
            del self._buffer[: end + 1]
            self._message(line)
        if len(self._buffer) > _MAX_LINE and self.transport is not None:
            self.transport.close()

    def _acknowledge_now(self) -> None:
        # A client without TCP_NODELAY (pyvisa-py's default) holds a second small
        # write until the first is acknowledged; a delayed ACK would then cost
        # 40 ms per command. Linux lets the receiver acknowledge at once.
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None and _QUICKACK is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._flush()

    def _message(self, line: str) -> None:
        if not line.strip():
            return
        assert self.transport is not None
        if self._pending or self.transport.get_write_buffer_size():
            self._pending.clear()
            self._server.device.interrupted(f"{line[:40]!r} arrived before the last reply was read")
        reply = self._server.device.handle(line)
        self._server._record(
            Exchange(
                self._number, line, reply and reply[:_LOG_REPLY_HEAD], len(reply) if reply else 0
            )
        )
        if reply:
            view = memoryview(reply)
            self._pending.extend(view[i : i + _CHUNK] for i in range(0, len(view), _CHUNK))
            self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        while self._pending and not self._paused and not self.transport.is_closing():
            self.transport.write(self._pending.popleft())


class ScpiServer:
    """Serve one instrument on 127.0.0.1 from a background thread.

    `port=0` picks a free port; read it back from `port` or use `resource`.
    Use as a context manager, or call `start()` and `close()`.
    """

    def __init__(self, device: ScpiDevice, host: str = "127.0.0.1", port: int = 0) -> None:
        self.device = device
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._numbers = itertools.count(1)
        self._log: deque[Exchange] = deque(maxlen=_LOG_LIMIT)
        self._log_lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the SCPI server is not started; call start() first")
        return self._port

    @property
    def resource(self) -> str:
        """The VISA resource name, e.g. `TCPIP::127.0.0.1::40123::SOCKET`."""
        return f"TCPIP::{self._host}::{self.port}::SOCKET"

    @property
    def log(self) -> tuple[Exchange, ...]:
        """Every message received so far, oldest first (the last 10 000)."""
        with self._log_lock:
            return tuple(self._log)

    def messages(self) -> Iterator[str]:
        return (exchange.message for exchange in self.log)

    def start(self) -> ScpiServer:
        if self._thread is not None:
            raise RuntimeError("the SCPI server is already started")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="scpi-server", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            future = asyncio.run_coroutine_threadsafe(self._listen(), loop)
            future.result(timeout=_START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop listening, drop every connection and join the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(
                    timeout=_START_TIMEOUT_S
                )
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_START_TIMEOUT_S)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> ScpiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self, next(self._numbers)),
            host=self._host,
            port=self._requested_port,
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()
        # Let the transports' connection_lost callbacks run before the loop stops.
        await asyncio.sleep(0)

    def _record(self, exchange: Exchange) -> None:
        with self._log_lock:
            self._log.append(exchange)
