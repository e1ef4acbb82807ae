"""What the SCPI scope drivers share: set-up checks, channels, status polling, snapshots."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, ClassVar

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi.base import ScpiChannel, ScpiInstrument, ScpiResource
from drivers.scpi.errors import InvalidSetting
from drivers.values import ScopeChannel, ScopeSetup

_POLL_INTERVAL_S = 0.001
QUANTITY_UNITS = {"voltage": "V", "current": "A"}


class ScpiScope(ScpiInstrument):
    """Base of the `drivers.roles.Oscilloscope` drivers; vendors fill in the commands."""

    kind = "Scope"
    channel_count: ClassVar[int] = 4
    channel_class: ClassVar[type[ScpiChannel]] = ScpiChannel
    segments_supported: ClassVar[int] = 1  # captures one acquisition can hold

    def __init__(
        self,
        resource: ScpiResource,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(resource, **kwargs)
        self._sleep = sleep
        self._clock = clock
        self._setup: ScopeSetup | None = None
        self._acquired: int | None = None
        self.points: int | None = None  # points per channel, read back after configure
        self.channels = {n: self.channel_class(self, n) for n in range(1, self.channel_count + 1)}

    @property
    def setup(self) -> ScopeSetup | None:
        """The set-up last configured, if any."""
        return self._setup

    def snapshot(self) -> dict[str, object]:
        """Scope settings plus those of the channels in use (1 and 2 before `configure`)."""
        values = super().snapshot()
        used = (self._setup.voltage.number, self._setup.current.number) if self._setup else (1, 2)
        for number in used:
            values[f"chan{number}"] = self.channels[number].snapshot()
        return values

    def check_setup(self, setup: ScopeSetup) -> None:
        """Refuse a set-up this scope cannot capture, naming the field and what is accepted."""
        why = []
        for role, channel in (("voltage", setup.voltage), ("current", setup.current)):
            why += _channel_problems(role, channel, self.channel_count)
        if setup.voltage.number == setup.current.number:
            why.append(f"voltage and current are both on channel {setup.voltage.number}")
        if not (math.isfinite(setup.sample_rate_hz) and setup.sample_rate_hz > 0):
            why.append(f"sample_rate_hz {setup.sample_rate_hz!r} must be above 0")
        if not (setup.pre_trigger_s >= 0 and setup.post_trigger_s > 0):
            why.append(
                f"the window {setup.pre_trigger_s!r} s before to {setup.post_trigger_s!r} s "
                "after the trigger must have pre >= 0 and post > 0"
            )
        if not math.isfinite(setup.trigger_level):
            why.append(f"trigger_level {setup.trigger_level!r} is not a number")
        if not 1 <= setup.segments <= self.segments_supported:
            why.append(
                f"segments {setup.segments}: {self.label} captures 1 to "
                f"{self.segments_supported} triggers per acquisition"
            )
        if why:
            raise InvalidSetting(f"{self.label} cannot capture this set-up: " + "; ".join(why))

    def require_setup(self) -> ScopeSetup:
        """The configured set-up; refuses before `configure`."""
        if self._setup is None:
            raise InstrumentError(f"{self.label} is not configured; call configure first")
        return self._setup

    def acquired(self) -> int:
        """Captures of the last completed acquisition; refuses before `wait_complete`."""
        if self._setup is None or self._acquired is None:
            raise InstrumentError(
                f"{self.label} has no completed acquisition to fetch; configure, arm and "
                "wait_complete first"
            )
        return self._acquired

    def poll(self, command: str, done: Callable[[str], bool], timeout_s: float) -> str | None:
        """Query `command` until `done(reply)`; return that reply, or None at the deadline."""
        deadline = self._clock() + timeout_s
        while True:
            reply = self.query(command)
            if done(reply):
                return reply
            if self._clock() >= deadline:
                return None
            self._sleep(_POLL_INTERVAL_S)

    def not_triggered(self, timeout_s: float) -> InstrumentTimeout:
        """The error for an acquisition that saw no trigger in time."""
        setup = self._setup
        where = (
            f"the trigger level ({setup.trigger_level:g} on channel {setup.voltage.number})"
            if setup
            else "the trigger level"
        )
        return InstrumentTimeout(
            f"{self.label} did not complete its acquisition within {timeout_s:g} s; check "
            f"{where}, the probe wiring, and that the pulse was actually fired"
        )


def _channel_problems(role: str, channel: ScopeChannel, count: int) -> list[str]:
    why = []
    if not 1 <= channel.number <= count:
        why.append(f"{role} channel {channel.number} is not one of 1 to {count}")
    if channel.quantity not in QUANTITY_UNITS:
        why.append(f"{role} quantity {channel.quantity!r} is not voltage or current")
    if not (math.isfinite(channel.units_per_volt) and channel.units_per_volt > 0):
        why.append(f"{role} units_per_volt {channel.units_per_volt!r} must be above 0")
    if not (math.isfinite(channel.full_scale) and channel.full_scale != 0):
        why.append(f"{role} full_scale {channel.full_scale!r} must be a non-zero number")
    return why
