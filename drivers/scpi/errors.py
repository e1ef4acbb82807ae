"""Exceptions particular to SCPI instruments, beside those in `drivers.errors`."""

from __future__ import annotations

from drivers.errors import DriverError


class InvalidSetting(DriverError, ValueError):
    """A value outside what the instrument can do; nothing was sent.

    Also a `ValueError`, since it is the caller's value that is wrong.
    """


class InstrumentLost(DriverError):
    """The connection to an instrument broke (closed, unplugged, session gone)."""
