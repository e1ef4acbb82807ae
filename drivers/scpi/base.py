"""SCPI over VISA: the conversation rules every SCPI driver shares.

- Every exchange goes through `write` / `query` / `query_block`; a timeout
  anywhere resynchronises the instrument (flush, `*CLS;*OPC?`) and raises
  `InstrumentTimeout` with a message a lab user can act on.
- A configuration block ends with `*OPC?` and a drain of `SYST:ERR?` until
  code 0 (at most 30 reads); every entry is logged and any error raises
  `InstrumentError` with the instrument's own texts.
- Settings are declared with `drivers.scpi.properties.Setting`; `snapshot()`
  reads them all back for the session journal.
- The raw traffic is logged at DEBUG level on the driver's logger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Protocol, Self, cast

import numpy as np
import pyvisa
from pyvisa import constants
from pyvisa.errors import InvalidSession, VisaIOError

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi import properties
from drivers.scpi.block import MalformedBlock, TruncatedBlock, parse_block
from drivers.scpi.errors import InstrumentLost
from drivers.values import Identity

MAX_ERROR_READS = 30
TERMINATION = "\n"
_VISA_TIMEOUT = constants.StatusCode.error_timeout
# Resynchronising reads and discards stale replies; this bounds how many.
_MAX_STALE_REPLIES = 64
_DRAIN_TIMEOUT_MS = 100


class ScpiResource(Protocol):
    """The part of a pyvisa message-based resource the drivers use."""

    resource_name: str
    timeout: float | None  # ms; None waits for ever
    read_termination: str | None
    write_termination: str

    def write(self, message: str) -> Any: ...

    def read(self) -> str: ...

    def read_raw(self) -> bytes: ...

    def read_bytes(self, count: int) -> bytes: ...

    def query_binary_values(
        self,
        message: str,
        datatype: Any = ...,
        is_big_endian: bool = ...,
        container: Any = ...,
        delay: float | None = ...,
        header_fmt: Any = ...,
        expect_termination: bool = ...,
    ) -> Any: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class ResourceManager(Protocol):
    """The part of `pyvisa.ResourceManager` used to open instruments."""

    def open_resource(self, resource_name: str, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


class ScpiInstrument:
    """One SCPI instrument on one VISA resource.

    Construct from an open resource (tests pass a scripted one) or use
    `open(address)`. Construction sends nothing; the identity is read on first
    use.
    """

    kind = "Instrument"  # how messages name it: "Scope at TCPIP::… did not answer"
    default_timeout_s = 2.0

    def __init__(
        self,
        resource: ScpiResource,
        *,
        timeout_s: float | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self._resource = resource
        self._address = str(getattr(resource, "resource_name", "?"))
        resource.read_termination = TERMINATION
        resource.write_termination = TERMINATION
        self._timeout_s = self.default_timeout_s if timeout_s is None else timeout_s
        resource.timeout = self._timeout_s * 1000.0
        self._log = log or logging.getLogger(f"drivers.scpi.{type(self).__name__}")
        self._identity: Identity | None = None
        # One exchange at a time: `abort()` may come from another thread (a stop key)
        # while the control loop is mid-query; it waits for that reply, never splits it.
        self._io_lock = threading.RLock()
        self._closed = False

    @classmethod
    def open(
        cls,
        address: str,
        *,
        resource_manager: ResourceManager | None = None,
        timeout_s: float | None = None,
        **kwargs: Any,
    ) -> Self:
        """Open `address` (e.g. `TCPIP::192.168.1.20::5025::SOCKET`) through pyvisa-py."""
        manager = resource_manager
        try:
            if manager is None:
                manager = cast(ResourceManager, pyvisa.ResourceManager("@py"))
            timeout_ms = 1000.0 * (cls.default_timeout_s if timeout_s is None else timeout_s)
            resource = manager.open_resource(
                address,
                read_termination=TERMINATION,
                write_termination=TERMINATION,
                timeout=timeout_ms,
                open_timeout=int(timeout_ms),
            )
        except Exception as exc:  # pyvisa-py raises a bare Exception when it cannot connect
            raise InstrumentLost(
                f"could not open {cls.kind.lower()} at {address}: {exc}; check the address, "
                "that the instrument is powered and reachable, and that no other program "
                "holds it"
            ) from None
        instrument = cls(cast(ScpiResource, resource), timeout_s=timeout_s, **kwargs)
        return instrument

    # ---- identity and naming -------------------------------------------------------------

    @property
    def address(self) -> str:
        """The VISA resource name it was opened at."""
        return self._address

    @property
    def label(self) -> str:
        """How messages name this instrument, e.g. `Scope at TCPIP::…::SOCKET`."""
        return f"{self.kind} at {self.address}"

    @property
    def identity(self) -> Identity:
        """`*IDN?`, read once and kept."""
        if self._identity is None:
            reply = self.query("*IDN?")
            try:
                self._identity = identity_from_idn(reply, self.address)
            except ValueError as exc:
                raise InstrumentError(f"{self.label} {exc}") from None
        return self._identity

    # ---- timeouts ------------------------------------------------------------------------

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    @timeout_s.setter
    def timeout_s(self, seconds: float) -> None:
        self._timeout_s = seconds
        self._resource.timeout = seconds * 1000.0

    @contextmanager
    def timeout(self, seconds: float) -> Iterator[None]:
        """Use another timeout for the enclosed exchanges (e.g. waiting out a capture)."""
        previous = self._timeout_s
        self.timeout_s = seconds
        try:
            yield
        finally:
            self.timeout_s = previous

    # ---- the conversation ----------------------------------------------------------------

    def write(self, command: str) -> None:
        """Send one program message."""
        with self._talking(command):
            self._log.debug("%s > %s", self.address, command)
            self._resource.write(command)

    def query(self, command: str) -> str:
        """Send a query and return its reply, stripped of whitespace."""
        with self._talking(command):
            self._log.debug("%s > %s", self.address, command)
            self._resource.write(command)
            reply = self._resource.read().strip()
            self._log.debug("%s < %s", self.address, reply)
            return reply

    def opc(self) -> None:
        """`*OPC?` barrier: returns once every pending operation has finished."""
        reply = self.query("*OPC?")
        if reply not in ("1", "+1"):
            raise InstrumentError(f"{self.label} answered *OPC? with {reply!r}; expected 1")

    def query_block(self, command: str) -> bytes:
        """Send a query answered by one IEEE 488.2 block; return its payload.

        Reads the raw bytes and parses them with `drivers.scpi.block`, so a
        short block ends in `TruncatedBlock` (after a resync), not in a silent
        wait or a misread of the next reply.
        """
        with self._io_lock:
            return self._read_block(command)

    def _read_block(self, command: str) -> bytes:
        with self._talking(command):
            self._log.debug("%s > %s", self.address, command)
            self._resource.write(command)
            reply = bytearray(self._resource.read_raw())
        while True:
            try:
                block = parse_block(reply, TERMINATION.encode())
            except TruncatedBlock as exc:
                truncated = exc
            except MalformedBlock as exc:
                recovered = self._resync()
                raise MalformedBlock(
                    f"{self.label} answered {command!r} with something that is not a data "
                    f"block: {exc}{_recovery_note(recovered)}"
                ) from None
            else:
                self._log.debug("%s < block of %d bytes", self.address, len(block.data))
                return block.data
            try:
                reply += self._read_more(truncated.missing)
            except VisaIOError as exc:
                if exc.error_code != _VISA_TIMEOUT:
                    raise self._lost(command, exc) from None
                recovered = self._resync()
                raise TruncatedBlock(
                    f"{self.label} sent a short data block for {command!r}: {truncated}, and "
                    f"the rest did not come within {self._timeout_s:g} s; check the "
                    f"connection and repeat the acquisition{_recovery_note(recovered)}",
                    truncated.declared,
                    truncated.received,
                    truncated.missing,
                ) from None
            except (InvalidSession, OSError) as exc:
                raise self._lost(command, exc) from None

    def query_array(self, command: str, datatype: str = "B") -> np.ndarray:
        """Send a query answered by one IEEE 488.2 block; return it as a numpy array.

        Uses pyvisa's own block reader (`query_binary_values`), which reads
        exactly header + data + terminator, so a newline inside the data is
        harmless. A short block shows here as a timeout; use `query_block`
        where a truncated block must be told apart.
        """
        with self._talking(command):
            self._log.debug("%s > %s", self.address, command)
            values = self._resource.query_binary_values(
                command,
                datatype=datatype,
                is_big_endian=False,
                container=np.array,
                header_fmt="ieee",
                expect_termination=True,
            )
            self._log.debug("%s < block of %d values", self.address, len(values))
            return np.asarray(values)

    def check_errors(self, context: str) -> None:
        """`*OPC?`, then drain `SYST:ERR?` until code 0; raise if anything was queued."""
        self.opc()
        errors: list[str] = []
        for _ in range(MAX_ERROR_READS):
            entry = self.query("SYST:ERR?")
            if error_code(entry, self.label) == 0:
                break
            self._log.warning("%s reported %s (after %s)", self.label, entry, context)
            errors.append(entry)
        else:
            errors.append(f"error queue still not empty after {MAX_ERROR_READS} reads")
        if errors:
            raise InstrumentError(f"{self.label} refused {context}", tuple(errors))

    @contextmanager
    def configuring(self, context: str) -> Iterator[None]:
        """A configuration block: on leaving it, `*OPC?` and the error-queue drain."""
        yield
        self.check_errors(context)

    # ---- settings ------------------------------------------------------------------------

    def setting_fields(self) -> Mapping[str, object]:
        """Named fields for `Setting` command templates; instruments have none."""
        return {}

    def snapshot(self) -> dict[str, object]:
        """Every readable setting, read back now (the session journal embeds this)."""
        return dict(properties.snapshot(self))

    # ---- life cycle ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Release the resource. Subclasses make the instrument safe first."""
        if self._closed:
            return
        self._closed = True
        try:
            self._resource.close()
        except (pyvisa.errors.Error, OSError) as exc:
            self._log.warning("%s: closing the resource failed: %s", self.label, exc)
        # The resource manager is left open: pyvisa shares one per VISA library across
        # the process, so closing it here would cut every other instrument's session too.

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- internals -----------------------------------------------------------------------

    @contextmanager
    def _talking(self, what: str) -> Iterator[None]:
        """Turn transport failures into the driver exceptions, resyncing after a timeout."""
        with self._io_lock:
            if self._closed:
                raise InstrumentLost(f"{self.label} is closed; cannot send {what!r}")
            try:
                yield
            except VisaIOError as exc:
                if exc.error_code != _VISA_TIMEOUT:
                    raise self._lost(what, exc) from None
                recovered = self._resync()
                raise InstrumentTimeout(
                    f"{self.label} did not answer {what!r} within {self._timeout_s:g} s; check "
                    "that it is powered, connected (cable or network) and not held by another "
                    f"program{_recovery_note(recovered)}"
                ) from None
            except (InvalidSession, OSError) as exc:
                raise self._lost(what, exc) from None

    def _lost(self, what: str, exc: BaseException) -> InstrumentLost:
        return InstrumentLost(
            f"{self.label}: the connection failed while sending {what!r} ({exc}); check the "
            "cable or network and that the instrument is on, then reconnect"
        )

    def _read_more(self, missing: int | None) -> bytes:
        if missing is None:
            return bytes(self._resource.read_raw())
        return bytes(self._resource.read_bytes(missing))

    def _resync(self) -> bool:
        """Flush what is in flight, then `*CLS;*OPC?` until it answers 1. Never raises."""
        try:
            self._flush()
            self._log.debug("%s > *CLS;*OPC?", self.address)
            self._resource.write("*CLS;*OPC?")
            for _ in range(_MAX_STALE_REPLIES):
                reply = bytes(self._resource.read_raw()).strip()
                self._log.debug("%s < %r (resync)", self.address, reply[:40])
                if reply in (b"1", b"+1"):
                    self._log.info("%s resynchronised", self.label)
                    return True
        except (pyvisa.errors.Error, OSError) as exc:
            self._log.warning("%s did not resynchronise: %s", self.label, exc)
        return False

    def _flush(self) -> None:
        """Drop replies still in flight.

        On VXI-11, HiSLIP, USB and GPIB `clear()` is a real device clear. On a
        raw SOCKET pyvisa-py's `clear()` is only a local flush, and one that
        never returns once the peer has closed the socket; there we read and
        discard until the line has been quiet for a moment instead, which is
        bounded.
        """
        if not self.address.upper().endswith("::SOCKET"):
            self._resource.clear()
            return
        self._resource.timeout = _DRAIN_TIMEOUT_MS
        deadline = time.monotonic() + max(self._timeout_s, 1.0)
        try:
            while time.monotonic() < deadline:
                self._resource.read_raw()
        except VisaIOError as exc:
            if exc.error_code != _VISA_TIMEOUT:
                raise
        finally:
            self._resource.timeout = self._timeout_s * 1000.0


def identity_from_idn(reply: str, resource: str) -> Identity:
    """`maker,model,serial,firmware` from a `*IDN?` reply; ValueError if it is not one."""
    fields = [f.strip() for f in reply.split(",")]
    if len(fields) < 4 or not fields[0]:
        raise ValueError(
            f"answered *IDN? with {reply[:80]!r}; expected 'maker,model,serial,firmware'"
        )
    return Identity(fields[0], fields[1], fields[2], ",".join(fields[3:]), resource)


def error_code(entry: str, label: str = "instrument") -> int:
    """The number at the front of a `SYST:ERR?` reply such as `-222,"Data out of range"`."""
    head = entry.split(",", 1)[0].strip()
    try:
        return int(head)
    except ValueError:
        raise InstrumentError(
            f"{label} answered SYST:ERR? with {entry!r}; expected 'code,\"text\"'"
        ) from None


def _recovery_note(recovered: bool) -> str:
    if recovered:
        return "; the connection was resynchronised"
    return "; it did not recover either: power-cycle or reconnect it before going on"


class ScpiChannel:
    """One input or output of an instrument; its settings use `{ch}` in their commands."""

    def __init__(self, instrument: ScpiInstrument, number: int) -> None:
        self.instrument = instrument
        self.number = number

    def write(self, command: str) -> None:
        self.instrument.write(command)

    def query(self, command: str) -> str:
        return self.instrument.query(command)

    def setting_fields(self) -> Mapping[str, object]:
        return {"ch": self.number}

    def snapshot(self) -> dict[str, object]:
        """Every readable setting of this channel, read back now."""
        return dict(properties.snapshot(self))
