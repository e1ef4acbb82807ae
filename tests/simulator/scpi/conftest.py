"""Clients for the SCPI simulator tests: pyvisa-py resources and a raw socket."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulator.scpi import ScpiServer

TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def visa() -> Iterator[Any]:
    import pyvisa

    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


@pytest.fixture
def connect(visa: Any) -> Iterator[Callable[..., Any]]:
    """Open a server's resource the way the drivers do; closed after the test."""
    opened: list[Any] = []

    def open_resource(server: ScpiServer, timeout_ms: int = 2000) -> Any:
        resource = visa.open_resource(
            server.resource, read_termination="\n", write_termination="\n", timeout=timeout_ms
        )
        opened.append(resource)
        return resource

    yield open_resource
    for resource in opened:
        resource.close()


class RawClient:
    """A plain TCP client that sees every byte the server sends."""

    def __init__(self, port: int, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(TIMEOUT_S)
        self.sock.connect(("127.0.0.1", port))
        self.pending = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode("latin-1"))

    def read_until(self, marker: bytes) -> bytes:
        deadline = time.monotonic() + TIMEOUT_S
        while marker not in self.pending:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no {marker!r} within {TIMEOUT_S} s; got {self.pending[-80:]!r}"
                )
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError(f"server closed; got {self.pending[-80:]!r}")
            self.pending += chunk
        end = self.pending.index(marker) + len(marker)
        data, self.pending = self.pending[:end], self.pending[end:]
        return data

    def query(self, text: str) -> str:
        self.send(text + "\n")
        return self.read_until(b"\n").decode("latin-1").rstrip("\n")

    def read_block(self) -> bytes:
        """One definite-length block and its newline; returns the payload."""
        assert self.read_until(b"#") == b"#", "a block must start the reply"
        digits = int(self.read_exactly(1))
        length = int(self.read_exactly(digits))
        payload = self.read_exactly(length)
        assert self.read_exactly(1) == b"\n"
        return payload

    def read_exactly(self, n: int) -> bytes:
        deadline = time.monotonic() + TIMEOUT_S
        while len(self.pending) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.pending)} of {n} bytes within {TIMEOUT_S} s")
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError(f"server closed after {len(self.pending)} of {n} bytes")
            self.pending += chunk
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def quiet_for(self, seconds: float) -> bytes:
        """Whatever arrives within `seconds` (the test expects nothing, or a short tail)."""
        self.sock.settimeout(seconds)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                self.pending += chunk
        except TimeoutError:
            pass
        finally:
            self.sock.settimeout(TIMEOUT_S)
        data, self.pending = self.pending, b""
        return data

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw() -> Iterator[Callable[..., RawClient]]:
    clients: list[RawClient] = []

    def open_client(server: ScpiServer, receive_buffer: int | None = None) -> RawClient:
        client = RawClient(server.port, receive_buffer)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


def drain_errors(query: Callable[[str], str]) -> list[tuple[int, str]]:
    """Read `SYST:ERR?` until +0 (at most 40 reads), oldest first."""
    errors: list[tuple[int, str]] = []
    for _ in range(40):
        code, _, text = query(":SYST:ERR?").partition(",")
        if int(code) == 0:
            return errors
        errors.append((int(code), text.strip('"')))
    raise AssertionError(f"error queue did not empty: {errors}")
