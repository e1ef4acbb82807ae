"""The TCP server: lifecycle, several clients, the command log, -410 and -420."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from simulator.scpi import ScpiServer, SimulatedFunctionGenerator, SimulatedScope
from tests.simulator.scpi.conftest import RawClient
from tests.simulator.scpi.trains import request, trapezoid_train

pytestmark = pytest.mark.timeout(30)


def generator() -> SimulatedFunctionGenerator:
    return SimulatedFunctionGenerator(trapezoid_train, lambda train: None)


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_resource_names_the_listening_port() -> None:
    with ScpiServer(generator()) as server:
        assert server.port > 0
        assert server.resource == f"TCPIP::127.0.0.1::{server.port}::SOCKET"
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            pass


def test_port_is_unknown_before_start() -> None:
    server = ScpiServer(generator())
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
    server.close()  # closing a server never started is harmless


def test_close_stops_the_thread_and_frees_the_port(raw: Callable[..., RawClient]) -> None:
    before = set(threading.enumerate())
    server = ScpiServer(generator()).start()
    client = raw(server)
    assert client.query("*OPC?") == "1"
    server.close()
    server.close()
    assert set(threading.enumerate()) <= before
    assert client.sock.recv(16) == b""  # the server hung up on the open connection
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_start_twice_is_refused() -> None:
    with ScpiServer(generator()) as server, pytest.raises(RuntimeError, match="already"):
        server.start()


def test_sequential_clients_share_one_instrument(connect: Callable[..., Any]) -> None:
    with ScpiServer(generator()) as server:
        first = connect(server)
        first.write("OUTP:LOAD INF")
        assert first.query("*OPC?") == "1"
        first.close()
        for _ in range(3):
            again = connect(server)
            assert float(again.query("OUTP:LOAD?")) == pytest.approx(9.9e37)
            again.close()


def test_log_records_messages_and_replies(connect: Callable[..., Any]) -> None:
    with ScpiServer(generator()) as server:
        fg = connect(server)
        fg.write("OUTP OFF")
        assert fg.query("*IDN?").startswith("Keysight")
        log = server.log
        assert [entry.message for entry in log] == ["OUTP OFF", "*IDN?"]
        assert log[0].reply is None and log[0].reply_size == 0
        assert log[1].reply is not None and log[1].reply.startswith(b"Keysight")
        assert log[1].reply_size == len(log[1].reply)
        assert list(server.messages()) == ["OUTP OFF", "*IDN?"]


def test_unterminated_query_is_reported_as_minus_420(raw: Callable[..., RawClient]) -> None:
    fg = generator()
    with ScpiServer(fg) as server:
        client = raw(server)
        client.send("*IDN?")  # no newline, then hang up
        client.close()
        assert wait_for(lambda: fg.error_count == 1)
        assert raw(server).query("SYST:ERR?").startswith('-420,"Query UNTERMINATED')


def test_new_message_before_reading_a_long_reply_is_minus_410(
    raw: Callable[..., RawClient],
) -> None:
    scope = SimulatedScope(None, seed=0, dialect="keysight")
    with ScpiServer(scope) as server:
        client = raw(server, receive_buffer=4096)
        # 10 ms on screen: a 2.5 M point record, 5 MB as WORD.
        assert (
            client.query(
                ":TIM:SCAL 1e-3;POS 4e-3;:TRIG:EDGE:SOUR EXT;:WAV:FORM WORD;POIN:MODE RAW;"
                ":WAV:POIN MAX;:SING;*OPC?"
            )
            == "1"
        )
        scope.on_train(trapezoid_train(request(count=1)))
        assert client.query(":WAV:POIN?") == "+2500000"
        client.send(":WAV:DATA?\n:SYST:ERR?\n")
        tail = client.read_until(b"INTERRUPTED")
        assert b'-410,"Query INTERRUPTED' in tail
        # Most of the interrupted block was discarded.
        assert len(tail) < 5_000_000
        client.read_until(b"\n")
        assert client.query("*OPC?") == "1"


def test_two_clients_at_once(raw: Callable[..., RawClient]) -> None:
    with ScpiServer(generator()) as server:
        one, two = raw(server), raw(server)
        one.send("*IDN?\n")
        assert two.query("*OPC?") == "1"
        assert one.read_until(b"\n").startswith(b"Keysight")
