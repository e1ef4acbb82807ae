"""The firmware's own time base: microseconds from boot, as reported on the wire.

The simulated firmware lives on two clocks. Safety timers (link watchdog,
token and armed timeouts, retries) use the wall clock, because a host has to
meet them in real time. Everything the bench may compress (charging, pulse
periods, ECG beats) uses the *nominal* clock, which runs `scale` times faster
than the wall clock while such a phase is active and at wall-clock rate
otherwise. Reported timestamps are nominal, so a compressed 1 Hz train still
shows pulses one second apart.
"""

from __future__ import annotations


class NominalClock:
    """Piecewise-linear map from wall-clock seconds to nominal firmware seconds."""

    def __init__(self, wall_now: float) -> None:
        self._wall_base = wall_now
        self._nominal_base = 0.0
        self._rate = 1.0

    @property
    def rate(self) -> float:
        return self._rate

    def now(self, wall: float) -> float:
        """Nominal seconds since boot at wall-clock time `wall`."""
        return self._nominal_base + (wall - self._wall_base) * self._rate

    def now_us(self, wall: float) -> int:
        return max(0, int(self.now(wall) * 1e6))

    def set_rate(self, wall: float, rate: float) -> None:
        """From `wall` on, nominal time advances `rate` seconds per wall-clock second."""
        if rate <= 0:
            raise ValueError(f"clock rate must be positive, got {rate}")
        self._nominal_base = self.now(wall)
        self._wall_base = wall
        self._rate = rate

    def wall_at(self, nominal: float) -> float:
        """Wall-clock time at which the nominal clock reaches `nominal`, at the current rate."""
        return self._wall_base + (nominal - self._nominal_base) / self._rate
