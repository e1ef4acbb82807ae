"""Mapping firmware time (µs since boot) onto the host's monotonic clock (§9).

Each HELLO_ACK and STATUS gives a pair (fw_time, host arrival). Arrival is
always late by a variable transport delay and never early, so the smallest
`arrival - fw_time` seen recently (the lower envelope) is the best offset.
Drift is the slope of the per-window minima over the whole session. The fit
serves records and cross-checks, never safety.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WINDOW_S = 10.0
# One envelope point per window: a day-long session keeps under 9000 points.
MAX_WINDOWS = 8640


@dataclass(frozen=True)
class TimeFit:
    """host_s ≈ offset_s + fw_s + drift * (fw_s - ref_fw_s)."""

    offset_s: float
    drift: float  # dimensionless rate error of the firmware clock (1e-6 = 1 ppm)
    ref_fw_s: float
    pairs: int
    span_s: float  # firmware time covered by the pairs

    def to_host(self, fw_time_us: int) -> float:
        """Host monotonic seconds at which the firmware clock read `fw_time_us`."""
        fw_s = fw_time_us * 1e-6
        return self.offset_s + fw_s + self.drift * (fw_s - self.ref_fw_s)


@dataclass
class TimeMapper:
    """Collects (fw_time, arrival) pairs of one session and fits them on demand."""

    window_s: float = WINDOW_S
    pairs: int = 0
    # Per window: (fw_s, delay_s) of the pair with the smallest delay.
    _minima: list[tuple[float, float]] = field(default_factory=list)
    _window_start: float | None = None
    _first_fw_s: float | None = None
    _last_fw_s: float = 0.0

    def add(self, fw_time_us: int, host_arrival_s: float) -> None:
        fw_s = fw_time_us * 1e-6
        delay = host_arrival_s - fw_s
        self.pairs += 1
        if self._first_fw_s is None:
            self._first_fw_s = fw_s
        self._last_fw_s = max(self._last_fw_s, fw_s)
        if self._window_start is None or fw_s - self._window_start >= self.window_s:
            self._window_start = fw_s
            self._minima.append((fw_s, delay))
            if len(self._minima) > MAX_WINDOWS:
                # Keep the first window (it anchors the drift) and the most recent ones.
                del self._minima[1]
        elif delay < self._minima[-1][1]:
            self._minima[-1] = (fw_s, delay)

    def fit(self) -> TimeFit | None:
        """The current fit, or None before the first pair."""
        if not self._minima or self._first_fw_s is None:
            return None
        ref_fw_s = self._minima[-1][0]
        drift = 0.0
        if len(self._minima) >= 2:
            points = np.asarray(self._minima, dtype=float)
            slope, _ = np.polyfit(points[:, 0] - points[0, 0], points[:, 1], 1)
            drift = float(slope)
        # The newest window may hold only a pair or two; the one before it is full.
        offset_now = min(delay + drift * (ref_fw_s - fw_s) for fw_s, delay in self._minima[-2:])
        return TimeFit(
            offset_s=offset_now,
            drift=drift,
            ref_fw_s=ref_fw_s,
            pairs=self.pairs,
            span_s=self._last_fw_s - self._first_fw_s,
        )
