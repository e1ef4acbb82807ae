"""The firmware's ports: one host at a time on TCP, clean reconnects, no stale bytes on the pty."""

from __future__ import annotations

import socket
import time

import pytest
import serial

from drivers.link.frame import Frame as LinkFrame
from drivers.link.frame import FrameDecoder, to_wire
from drivers.link.messages import GetTrain, Hello, MsgType
from simulator.firmware import TcpTransport
from tests.simulator.firmware.conftest import MakeRig
from tests.simulator.firmware.firmware_link_client import open_port

pytestmark = pytest.mark.timeout(30)


def hello_wire(nonce: int) -> bytes:
    return to_wire(LinkFrame(MsgType.HELLO, 0, 0, 0, Hello(1, 0, 1024, nonce).pack(), 0x02))


@pytest.mark.parametrize("serial_kind", ["tcp"])
def test_tcp_takes_one_host_at_a_time(make_rig: MakeRig) -> None:
    rig = make_rig()
    transport = rig.transport
    assert isinstance(transport, TcpTransport)
    rig.client.hello()
    rig.client.start_heartbeat()
    second = socket.create_connection(("127.0.0.1", transport.port), timeout=2)
    try:
        second.sendall(hello_wire(5))
        try:
            answer = second.recv(100)
        except ConnectionResetError:
            answer = b""  # closed with our HELLO unread
        assert answer == b""  # closed at once, nothing answered
    finally:
        second.close()
    assert transport.refused == 1
    reply = rig.client.command(MsgType.GET_TRAIN, GetTrain(0).pack())
    assert reply.msg_type == MsgType.NAK  # the first host is undisturbed

    client = rig.reconnect()  # the old host hangs up and a new one connects at once
    assert client.hello(nonce=9).session != 0
    assert (transport.connections, transport.refused) == (2, 1)


@pytest.mark.parametrize("serial_kind", ["tcp"])
def test_a_new_connection_starts_a_new_byte_stream(make_rig: MakeRig) -> None:
    rig = make_rig()
    transport = rig.transport
    assert isinstance(transport, TcpTransport)
    rig.client.close()
    with socket.create_connection(("127.0.0.1", transport.port), timeout=2) as sock:
        sock.sendall(hello_wire(1)[:9])  # a frame cut off by the disconnect
    client = rig.reconnect()
    client.hello(nonce=2)
    client.start_heartbeat()
    status = client.wait_status(lambda s: True)
    assert (status.crc_errors, status.dropped) == (0, 0)


def test_bytes_a_departed_host_never_read_are_not_served_to_the_next(make_rig: MakeRig) -> None:
    rig = make_rig()
    fw = rig.firmware
    rig.client.close()
    port = serial.serial_for_url(rig.transport.url, timeout=0.05)
    port.write(hello_wire(3))  # then never reads, never heartbeats
    deadline = time.monotonic() + 3
    while fw.session is None or fw.frames_sent < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    while fw.session is not None:  # the watchdog ends the idle session
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)
    port.close()

    port = open_port(rig.transport.url)
    try:
        decoder = FrameDecoder()
        frames = list(decoder.feed(port.read(4096)))
    finally:
        port.close()
    assert frames == []
    assert decoder.rejected_total == 0
