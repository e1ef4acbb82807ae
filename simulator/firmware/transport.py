"""The firmware's serial port: a pseudo-terminal pair or a TCP socket, served by one thread.

Both carry the same bytes; a host opens the pty slave by its device name
(`os.ttyname`) or `socket://127.0.0.1:PORT` with pyserial. Each transport
runs one background thread that reads, lets the firmware run its timers and
writes what the firmware sends; `close()` stops the thread and closes every
descriptor it opened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import termios
import threading
import time
import tty
from typing import Protocol

from simulator.firmware.firmware import Firmware

READ_SIZE = 4096
MAX_PENDING = 64 * 1024  # bytes a silent host may leave unread before the line drops them
IDLE_WAIT_S = 0.05


class FirmwareTransport(Protocol):
    """What the bench and the CLI need from either transport."""

    @property
    def url(self) -> str:
        """Where a host opens the port (a device path or a pyserial URL)."""
        ...

    def start(self) -> None: ...

    def close(self) -> None: ...


class _Serving:
    """The loop shared by both transports: wait for bytes or the next firmware deadline."""

    def __init__(self, firmware: Firmware, name: str) -> None:
        self.firmware = firmware
        self._name = name
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._pending = bytearray()
        self.overflowed = 0  # bytes dropped because the host stopped reading
        self.error: BaseException | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            with contextlib.suppress(OSError):
                os.write(self._stop_w, b"x")
            self._thread.join(timeout=5)
            self._thread = None
        for fd in (self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._stop_r = self._stop_w = -1

    def _run(self) -> None:
        try:
            while True:
                timeout = max(0.0, min(self.firmware.next_deadline() - time.monotonic(), 0.02))
                read_fds = [self._stop_r, *self._read_fds()]
                write_fds = self._write_fds() if self._pending else []
                readable, writable, _ = select.select(read_fds, write_fds, [], timeout)
                if self._stop_r in readable:
                    return
                for fd in readable:
                    self._on_readable(fd)
                self._queue(self.firmware.poll())
                if writable or self._pending:
                    self._flush()
        except BaseException as exc:  # surfaced by the owner; a thread must not die silently
            self.error = exc
            raise

    def _queue(self, data: bytes) -> None:
        if not data:
            return
        self._pending += data
        if len(self._pending) > MAX_PENDING:
            # Like a UART FIFO with nobody reading: the oldest bytes are lost.
            excess = len(self._pending) - MAX_PENDING
            del self._pending[:excess]
            self.overflowed += excess

    def _flush(self) -> None:
        fd = self._out_fd()
        if fd is None:
            self._pending.clear()
            return
        while self._pending:
            try:
                n = os.write(fd, self._pending)
            except BlockingIOError:
                return
            except OSError:
                self._on_write_error()
                return
            del self._pending[:n]

    # Hooks for the concrete transports.
    def _read_fds(self) -> list[int]:
        raise NotImplementedError

    def _write_fds(self) -> list[int]:
        fd = self._out_fd()
        return [] if fd is None else [fd]

    def _out_fd(self) -> int | None:
        raise NotImplementedError

    def _on_readable(self, fd: int) -> None:
        raise NotImplementedError

    def _on_write_error(self) -> None:
        self._pending.clear()


class PtyTransport(_Serving):
    """The firmware on the master side of a pseudo-terminal pair.

    The slave stays open here for the transport's lifetime: otherwise the
    master reads EIO whenever no host holds the port, and a host could not
    close and reopen it. When a session ends, bytes the gone host never read
    are flushed from the slave, so the next host does not start with them.
    """

    def __init__(self, firmware: Firmware) -> None:
        super().__init__(firmware, "firmware-pty")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self._path = os.ttyname(self._slave)
        self._had_session = False

    @property
    def url(self) -> str:
        return self._path

    def close(self) -> None:
        self._stop_thread()
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _read_fds(self) -> list[int]:
        return [self._master]

    def _out_fd(self) -> int | None:
        return self._master

    def _on_readable(self, fd: int) -> None:
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # no reader on the slave side; nothing to do
                time.sleep(IDLE_WAIT_S)
                return
            raise
        if data:
            self.firmware.receive(data)

    def _queue(self, data: bytes) -> None:
        has_session = self.firmware.session is not None
        if self._had_session and not has_session:
            self._pending.clear()
            with contextlib.suppress(termios.error):
                termios.tcflush(self._slave, termios.TCIFLUSH)
        self._had_session = has_session
        super()._queue(data)


class TcpTransport(_Serving):
    """The firmware behind a TCP port on 127.0.0.1, for `socket://` in pyserial.

    One host at a time, like a serial port: while a host is connected, a
    second connection is accepted and closed at once. A new connection is a
    new byte stream, so a half-received frame from the old one is dropped.
    """

    def __init__(self, firmware: Firmware, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(firmware, "firmware-tcp")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(2)
        self._listener.setblocking(False)
        self._host, self._port = self._listener.getsockname()[:2]
        self._client: socket.socket | None = None
        self.connections = 0
        self.refused = 0

    @property
    def port(self) -> int:
        return int(self._port)

    @property
    def url(self) -> str:
        return f"socket://{self._host}:{self._port}"

    def close(self) -> None:
        self._stop_thread()
        if self._client is not None:
            self._client.close()
            self._client = None
        self._listener.close()

    def _read_fds(self) -> list[int]:
        # The client first: its hang-up is handled before a new host is accepted.
        fds = [] if self._client is None else [self._client.fileno()]
        return [*fds, self._listener.fileno()]

    def _out_fd(self) -> int | None:
        return None if self._client is None else self._client.fileno()

    def _on_readable(self, fd: int) -> None:
        if fd == self._listener.fileno():
            self._accept()
            return
        assert self._client is not None
        try:
            data = self._client.recv(READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.firmware.receive(data)
        else:
            self._drop_client()

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._client is not None and self._client_alive():
            self.refused += 1
            conn.close()
            return
        self._drop_client()  # the old host hung up; its EOF may not have been read yet
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = conn
        self.connections += 1
        self._pending.clear()
        self.firmware.reset_stream()

    def _client_alive(self) -> bool:
        assert self._client is not None
        try:
            return self._client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True  # open, nothing to read
        except OSError:
            return False

    @property
    def connected(self) -> bool:
        """A host holds the port."""
        return self._client is not None

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._pending.clear()

    def _on_write_error(self) -> None:
        self._drop_client()
