"""Discovery: what is listed, what is asked, and that nothing but identity queries are sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers.discovery import (
    SerialPort,
    discover,
    hello_firmware,
    identify_visa,
    is_firmware_link,
)
from drivers.errors import DriverError
from drivers.values import Identity
from simulator.firmware.firmware import Firmware
from simulator.firmware.transport import PtyTransport
from simulator.scpi.function_generator import SimulatedFunctionGenerator
from simulator.scpi.server import ScpiServer

GENERATOR = SerialPort("/dev/ttyACM0", "pulsehost generator", 0x1209, 0x5050, "G-17", None, None)
ARDUINO = SerialPort("/dev/ttyACM1", "Arduino Uno", 0x2341, 0x0043, "7563", "Arduino", "Uno")
PLAIN = SerialPort("/dev/ttyS0")


@pytest.mark.parametrize(
    ("port", "ids", "expected"),
    [
        (GENERATOR, (), True),
        (SerialPort("/dev/ttyACM2", product="PulseHost HV"), (), True),
        (ARDUINO, (), False),
        (ARDUINO, ("2341:0043",), True),
        (ARDUINO, ("2341:0044",), False),
        (PLAIN, ("2341:0043",), False),
    ],
)
def test_only_clear_firmware_links_count(port: SerialPort, ids, expected: bool) -> None:
    assert is_firmware_link(port, ids) is expected


def test_usb_id_is_hex() -> None:
    assert ARDUINO.usb_id == "2341:0043"
    assert PLAIN.usb_id is None


class FakeResource:
    def __init__(self, reply: str, sent: list[str]) -> None:
        self._reply = reply
        self._sent = sent

    def query(self, message: str) -> str:
        self._sent.append(message)
        return self._reply

    def close(self) -> None:
        pass


class FakeManager:
    def __init__(self, resources: dict[str, str]) -> None:
        self.resources = resources
        self.sent: list[str] = []
        self.opened: list[str] = []
        self.closed = False

    def list_resources(self, query: str = "?*::INSTR") -> tuple[str, ...]:
        return tuple(self.resources)

    def open_resource(self, resource_name: str, **kwargs: Any) -> FakeResource:
        self.opened.append(resource_name)
        return FakeResource(self.resources[resource_name], self.sent)

    def close(self) -> None:
        self.closed = True


def refuse_to_open(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"discovery opened a serial port it must leave alone: {args}")


def test_listing_without_identify_sends_nothing() -> None:
    manager = FakeManager({"TCPIP::10.0.0.5::inst0::INSTR": "X,Y,Z,1"})
    found = discover(
        manager=manager, serial_ports=lambda: [ARDUINO, GENERATOR], hello=refuse_to_open
    )
    assert [(d.kind, d.address) for d in found.devices] == [
        ("serial", "/dev/ttyACM1"),
        ("serial", "/dev/ttyACM0"),
        ("visa", "TCPIP::10.0.0.5::inst0::INSTR"),
    ]
    assert manager.opened == []
    assert [d.firmware_link for d in found.devices[:2]] == [False, True]
    assert not manager.closed  # an injected manager belongs to the caller


def test_identify_asks_visa_instruments_idn_only_and_leaves_serial_alone() -> None:
    manager = FakeManager(
        {
            "TCPIP::10.0.0.5::inst0::INSTR": "KEYSIGHT TECHNOLOGIES,DSOX3024T,MY123,07.50",
            "ASRL/dev/ttyACM1::INSTR": "must not be asked",
        }
    )
    found = discover(
        identify=True, manager=manager, serial_ports=lambda: [ARDUINO], hello=refuse_to_open
    )
    by_address = {d.address: d for d in found.devices}
    assert manager.sent == ["*IDN?"]
    assert by_address["TCPIP::10.0.0.5::inst0::INSTR"].identity == Identity(
        "KEYSIGHT TECHNOLOGIES", "DSOX3024T", "MY123", "07.50", "TCPIP::10.0.0.5::inst0::INSTR"
    )
    assert "not queried" in by_address["/dev/ttyACM1"].note
    assert "listed above" in by_address["ASRL/dev/ttyACM1::INSTR"].description


def test_a_broken_visa_backend_does_not_hide_serial_ports() -> None:
    class Broken(FakeManager):
        def list_resources(self, query: str = "?*::INSTR") -> tuple[str, ...]:
            raise OSError("no backend")

    found = discover(manager=Broken({}), serial_ports=lambda: [PLAIN])
    assert [d.address for d in found.devices] == ["/dev/ttyS0"]
    assert "no backend" in found.problems[0]


@pytest.fixture
def firmware_port() -> Iterator[str]:
    def no_pulses(*args: Any) -> Any:
        raise AssertionError("discovery must not make the firmware pulse")

    transport = PtyTransport(Firmware(no_pulses, no_pulses))
    transport.start()
    try:
        yield transport.url
    finally:
        transport.close()


@pytest.mark.timeout(10)
def test_hello_identifies_the_simulated_firmware(firmware_port: str) -> None:
    identity = hello_firmware(firmware_port, timeout_s=2.0)
    assert (identity.maker, identity.model) == ("pulse generator firmware", "firmware link v1")
    assert identity.serial == "SIM-0001"
    assert identity.firmware == "1.0.3"
    assert identity.resource == firmware_port


@pytest.mark.timeout(10)
def test_identify_runs_the_hello_on_a_clear_firmware_link(firmware_port: str) -> None:
    port = SerialPort(firmware_port, product="pulsehost generator")
    found = discover(
        identify=True, timeout_s=2.0, manager=FakeManager({}), serial_ports=lambda: [port]
    )
    (device,) = found.devices
    assert device.identity is not None and device.identity.serial == "SIM-0001"


@pytest.mark.timeout(10)
def test_hello_without_an_answer_gives_up_at_the_timeout() -> None:
    # loop:// sends our own HELLO straight back: never a HELLO_ACK.
    with pytest.raises(DriverError, match=r"no HELLO_ACK from loop:// within 0\.3 s"):
        hello_firmware("loop://", timeout_s=0.3)


def test_hello_on_a_port_that_will_not_open_names_it() -> None:
    with pytest.raises(DriverError, match="/dev/does-not-exist"):
        hello_firmware("/dev/does-not-exist", timeout_s=0.3)


@pytest.mark.timeout(20)
def test_identify_visa_over_pyvisa_py_against_the_simulated_generator() -> None:
    import pyvisa

    generator = SimulatedFunctionGenerator(deliver=refuse_to_open, publish=refuse_to_open)
    manager = pyvisa.ResourceManager("@py")
    try:
        with ScpiServer(generator) as server:
            identity = identify_visa(server.resource, 2.0, manager)
            assert list(server.messages()) == ["*IDN?"]
    finally:
        manager.close()
    assert (identity.maker, identity.model) == ("Keysight Technologies", "33521B")


@pytest.mark.timeout(20)
def test_identify_visa_with_nothing_listening_is_a_driver_error() -> None:
    import socket

    import pyvisa

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    manager = pyvisa.ResourceManager("@py")
    try:
        with pytest.raises(DriverError):
            identify_visa(f"TCPIP::127.0.0.1::{port}::SOCKET", 0.5, manager)
    finally:
        manager.close()
