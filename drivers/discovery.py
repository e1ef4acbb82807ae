"""What is plugged in: serial ports and VISA resources, optionally asked who they are.

Discovery only ever sends identity queries: `*IDN?` to a VISA resource, and a
firmware-link HELLO to a serial port that is clearly a pulsehost generator.
A port counts as one when its USB product, manufacturer or description names
pulsehost, or its USB VID:PID is among `link_usb_ids`. Any other serial port
gets nothing: an unknown device on a serial line may act on any byte. VISA
serial resources (`ASRL…`) are serial ports too and follow the same rule.

A HELLO starts a link session that the firmware ends by itself when the host
falls silent (it holds no HV then). The port is opened exclusively, so a
session holding it makes discovery report it busy instead of talking to it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import warnings
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import pyvisa
from serial.tools import list_ports

from drivers.errors import DriverError, LinkLost
from drivers.link.link import FirmwareLink
from drivers.link.messages import HelloAck
from drivers.scpi.base import identity_from_idn
from drivers.values import Identity

FIRMWARE_NAME = "pulsehost"


@dataclass(frozen=True)
class SerialPort:
    """One serial port as the operating system lists it."""

    device: str
    description: str = ""
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    product: str | None = None

    @property
    def usb_id(self) -> str | None:
        """`VID:PID` in hex (`2341:0043`), or None for a port that is not USB."""
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"


@dataclass(frozen=True)
class Found:
    """One discovered device; `identity` is set when `--identify` got an answer."""

    kind: str  # "serial" | "visa"
    address: str
    description: str = ""
    usb_id: str | None = None
    serial_number: str | None = None
    firmware_link: bool = False
    identity: Identity | None = None
    note: str = ""  # why it was not asked, or what went wrong when it was


@dataclass(frozen=True)
class Discovery:
    devices: tuple[Found, ...]
    problems: tuple[str, ...] = ()  # listings that failed, e.g. no VISA backend


class VisaManager(Protocol):
    def list_resources(self, query: str = ...) -> tuple[str, ...]: ...

    def open_resource(self, resource_name: str, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


def list_serial_ports() -> tuple[SerialPort, ...]:
    """Serial ports from `serial.tools.list_ports.comports()`, sorted by device name."""
    ports = [
        SerialPort(
            device=p.device,
            description=p.description if p.description not in (None, "n/a") else "",
            vid=p.vid,
            pid=p.pid,
            serial_number=p.serial_number,
            manufacturer=p.manufacturer,
            product=p.product,
        )
        for p in list_ports.comports()
    ]
    return tuple(sorted(ports, key=lambda p: p.device))


def list_visa_resources(manager: VisaManager, query: str = "?*::INSTR") -> tuple[str, ...]:
    """VISA resources the backend finds (pyvisa-py: serial, USBTMC, VXI-11 broadcast, GPIB).

    Raw SOCKET instruments are never listed by any backend; they are known by
    address only.
    """
    with warnings.catch_warnings():
        # pyvisa-py warns about optional discovery packages on every listing.
        warnings.simplefilter("ignore")
        return tuple(sorted(manager.list_resources(query)))


def is_firmware_link(port: SerialPort, link_usb_ids: Collection[str] = ()) -> bool:
    """True only when the port clearly is a pulsehost generator (see the module note)."""
    if port.usb_id is not None and port.usb_id in {u.lower() for u in link_usb_ids}:
        return True
    names = (port.product, port.manufacturer, port.description)
    return any(name and FIRMWARE_NAME in name.lower() for name in names)


def identify_visa(address: str, timeout_s: float, manager: VisaManager) -> Identity:
    """Ask one VISA resource `*IDN?` and nothing else.

    Plain pyvisa, not `ScpiInstrument`: a driver resynchronises after a
    timeout with `*CLS`, and discovery must not send even that.
    """
    try:
        resource = manager.open_resource(
            address,
            read_termination="\n",
            write_termination="\n",
            timeout=timeout_s * 1000.0,
            open_timeout=int(timeout_s * 1000.0),
        )
    except Exception as exc:  # pyvisa-py raises a bare Exception when it cannot connect
        raise DriverError(f"cannot open {address}: {exc}") from None
    try:
        reply = str(resource.query("*IDN?")).strip()
    except (pyvisa.errors.Error, OSError, UnicodeDecodeError) as exc:
        raise DriverError(f"no answer to *IDN? within {timeout_s:g} s ({exc})") from None
    finally:
        with contextlib.suppress(pyvisa.errors.Error, OSError):
            resource.close()
    try:
        return identity_from_idn(reply, address)
    except ValueError as exc:
        raise DriverError(str(exc)) from None


def hello_firmware(port: str, timeout_s: float) -> Identity:
    """Send the firmware-link HELLO (`FirmwareLink.hello`) and return who answered.

    The HELLO repeats with one nonce until a HELLO_ACK echoes it or `timeout_s`
    passes; the port is then closed without another command.
    """
    try:
        link = FirmwareLink.open(port)
    except LinkLost as exc:
        raise DriverError(str(exc)) from None
    try:
        got = link.hello(secrets.randbits(32), timeout_s)
    finally:
        link.close()
    ack = got.message
    if not isinstance(ack, HelloAck):  # pragma: no cover - hello() returns HELLO_ACK only
        raise DriverError(f"{port} answered HELLO with {type(ack).__name__}")
    # The same identity the generator driver reports for a HELLO_ACK.
    return Identity(
        maker="pulse generator firmware",
        model=f"firmware link v{ack.version}",
        serial=ack.serial_text,
        firmware=f"{ack.fw_major}.{ack.fw_minor}.{ack.fw_patch}",
        resource=port,
    )


def discover(
    *,
    identify: bool = False,
    timeout_s: float = 1.0,
    link_usb_ids: Collection[str] = (),
    manager: VisaManager | None = None,
    serial_ports: Callable[[], Iterable[SerialPort]] = list_serial_ports,
    hello: Callable[[str, float], Identity] = hello_firmware,
) -> Discovery:
    """List serial ports and VISA resources; with `identify`, ask each allowed one who it is."""
    problems: list[str] = []
    devices: list[Found] = []
    for port in serial_ports():
        link = is_firmware_link(port, link_usb_ids)
        found = Found(
            kind="serial",
            address=port.device,
            description=port.description,
            usb_id=port.usb_id,
            serial_number=port.serial_number,
            firmware_link=link,
        )
        if identify:
            found = _identify_port(found, timeout_s, hello)
        devices.append(found)
    owned = manager is None
    try:
        if manager is None:
            manager = pyvisa.ResourceManager("@py")
        resources = list_visa_resources(manager)
    except Exception as exc:  # a missing or broken VISA backend must not hide the serial ports
        problems.append(f"VISA resources could not be listed: {exc}")
        resources = ()
    serial_devices = {d.address for d in devices}
    for address in resources:
        found = Found(kind="visa", address=address)
        if address.upper().startswith("ASRL"):
            device = address[4:].split("::")[0]
            found = Found(
                kind="visa",
                address=address,
                description="serial port" + (" (listed above)" if device in serial_devices else ""),
                note="serial: not queried" if identify else "",
            )
        elif identify and manager is not None:
            try:
                found = Found(
                    kind="visa",
                    address=address,
                    identity=identify_visa(address, timeout_s, manager),
                )
            except DriverError as exc:
                found = Found(kind="visa", address=address, note=str(exc))
        devices.append(found)
    if owned and manager is not None:
        manager.close()
    return Discovery(devices=tuple(devices), problems=tuple(problems))


def _identify_port(
    found: Found, timeout_s: float, hello: Callable[[str, float], Identity]
) -> Found:
    if not found.firmware_link:
        return dataclasses.replace(found, note="not a pulsehost generator: not queried")
    try:
        identity = hello(found.address, timeout_s)
    except DriverError as exc:
        return dataclasses.replace(found, note=str(exc))
    return dataclasses.replace(found, identity=identity)
