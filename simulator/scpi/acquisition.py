"""The scope's trigger and acquisition system: RUN, STOP, SINGLE and segments.

Each row of a published train is one trigger opportunity. With an edge trigger
on a channel the trigger instant is the first crossing of the level in the
chosen direction (interpolated between samples); on EXTernal it is the pulse's
own start, as wired from the generator's sync output. A row that never crosses
does not trigger, so a missing pulse leaves no segment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from simulator.scpi.digitiser import Segment

STOPPED = "STOP"
RUNNING = "RUN"
SINGLE = "SINGLE"


@dataclass(frozen=True)
class EdgeTrigger:
    source: str  # CHAN<n> or EXT
    level: float  # displayed units of the source channel
    slope: str  # POS, NEG, EITH/ALT/RFAL (either)

    @property
    def channel(self) -> int | None:
        return int(self.source[4:]) if self.source.startswith("CHAN") else None


def trigger_instant(
    trigger: EdgeTrigger, row: np.ndarray | None, t0_s: float, fs_hz: float, delivered: bool
) -> float | None:
    """When this row triggers, on its own time axis; None if it does not.

    `row` is the source channel in displayed units (None: not fed, reads 0).
    """
    if trigger.channel is None:
        return 0.0 if delivered else None
    if row is None:
        return None
    above = row - trigger.level
    rising = (above[:-1] < 0) & (above[1:] >= 0)
    falling = (above[:-1] > 0) & (above[1:] <= 0)
    if trigger.slope == "POS":
        hits = np.flatnonzero(rising)
    elif trigger.slope == "NEG":
        hits = np.flatnonzero(falling)
    else:
        hits = np.flatnonzero(rising | falling)
    if hits.size == 0:
        return None
    i = int(hits[0])
    fraction = float(above[i] / (above[i] - above[i + 1]))
    return t0_s + (i + fraction) / fs_hz


class Acquisition:
    """Run state, arm/trigger event registers and the segments of the last acquisition."""

    def __init__(self) -> None:
        self._payloads: dict[tuple[object, ...], bytes] = {}
        self.reset()

    def reset(self) -> None:
        """Power-on state: stopped, no data, real-time (not segmented) mode."""
        self.state = STOPPED
        self.segmented = False
        self.segment_count = 2
        self.segments: list[Segment] = []
        self.generation = 0  # changes whenever a new acquisition replaces the data
        self.armed_event = False  # :AER?
        self.trigger_event = False  # :TER?
        self.reads_since_arm = 0
        self._restart = False
        self._payloads.clear()

    @property
    def accepting(self) -> bool:
        return self.state != STOPPED

    def single(self) -> None:
        self.state = SINGLE
        self._new_acquisition()
        self._arm()

    def run(self) -> None:
        self.state = RUNNING
        self._restart = True
        self._arm()

    def stop(self) -> None:
        self.state = STOPPED

    def add(self, segment: Segment) -> None:
        """Store one trigger's capture, numbered and time-tagged within the acquisition."""
        if self._restart:
            self._new_acquisition()
        first = self.segments[0].time_s if self.segments else segment.time_s
        number = len(self.segments) + 1
        self.segments.append(replace(segment, number=number, tag_s=segment.time_s - first))
        self.trigger_event = True
        full = not self.segmented or len(self.segments) >= self.segment_count
        if full:
            if self.state == SINGLE:
                self.state = STOPPED
            else:
                self._restart = True

    def payload(self, key: tuple[object, ...], build: Callable[[], bytes]) -> bytes:
        """Encoded data of this acquisition, built once per key."""
        key = (self.generation, *key)
        found = self._payloads.get(key)
        if found is None:
            found = self._payloads[key] = build()
        return found

    def _arm(self) -> None:
        self.armed_event = True
        self.reads_since_arm = 0

    def _new_acquisition(self) -> None:
        self.segments = []
        self.generation += 1
        self._payloads.clear()
        self._restart = False
