"""Specific exceptions for hardware trouble; each message tells a lab user what to do."""

from __future__ import annotations


class DriverError(Exception):
    """Base class: an instrument or link could not do what was asked."""


class LinkLost(DriverError):
    """The firmware link stopped answering (all retries used) or the port vanished."""


class InstrumentTimeout(DriverError):
    """An instrument did not answer within its timeout."""


class InstrumentError(DriverError):
    """An instrument reported errors (SCPI error queue) or sent a reply that cannot be parsed."""

    def __init__(self, message: str, errors: tuple[str, ...] = ()) -> None:
        super().__init__(message if not errors else f"{message}: {'; '.join(errors)}")
        self.errors = errors


class Refused(DriverError):
    """The generator refused a command (NAK); `result` is the NAK result name."""

    def __init__(self, command: str, result: str, detail: str = "") -> None:
        text = f"generator refused {command}: {result}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.command = command
        self.result = result


class ProtocolViolation(DriverError):
    """The peer sent something the link protocol does not allow in this state."""
