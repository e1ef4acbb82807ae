"""From volts at a scope input to the codes a scope sends.

A capture keeps the measured input rows (volts at the input, the model's own
time grid) and the settings in force when it triggered. Reading it resamples
the row onto the scope's record grid (np.interp over the on-screen window),
applies the probe factor and quantises with the vendor's code scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChannelSettings:
    """One input as set on the front panel; values are in displayed units (probe applied)."""

    scale: float  # units per division
    offset: float
    probe: float  # displayed units per volt at the input
    unit: str
    display: bool
    coupling: str = "DC"  # GND grounds the input; AC passes these short records unchanged
    bandwidth_limit: str = "OFF"  # kept for read-back; the chain sets the bandwidth
    impedance: str = "ONEM"  # kept for read-back


@dataclass(frozen=True)
class Record:
    """The sampling grid of an acquisition, times relative to the trigger."""

    sample_rate_hz: float
    points: int
    start_s: float  # time of sample 0

    @property
    def window_s(self) -> float:
        return self.points / self.sample_rate_hz

    def times(self, first: int, step: int, count: int) -> np.ndarray:
        """Times of samples first, first + step, ... (count of them)."""
        return self.start_s + (first + step * np.arange(count)) / self.sample_rate_hz


@dataclass(frozen=True)
class CodeScale:
    """value = (code - reference) * increment + origin, for codes in [lowest, highest].

    Codes beyond that range are replaced by `clip_low`/`clip_high` (Keysight's
    clip codes) or simply saturate when those equal the range ends (Rigol).
    """

    increment: float
    origin: float
    reference: float
    lowest: int
    highest: int
    clip_low: int
    clip_high: int

    def encode(self, values: np.ndarray, ceiling: float | None = None) -> np.ndarray:
        """Quantise displayed values to int64 codes; `ceiling` forces clipping beyond ±it."""
        raw = np.rint((values - self.origin) / self.increment + self.reference)
        codes = np.clip(raw, self.lowest, self.highest).astype(np.int64)
        codes[raw < self.lowest] = self.clip_low
        codes[raw > self.highest] = self.clip_high
        if ceiling is not None:
            codes[values >= ceiling] = self.clip_high
            codes[values <= -ceiling] = self.clip_low
        return codes

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return (codes - self.reference) * self.increment + self.origin


@dataclass(frozen=True, eq=False)
class Segment:
    """One trigger's capture: measured input rows around it and the settings in force."""

    number: int  # 1-based, in acquisition order
    time_s: float  # trigger instant on the bench clock
    tag_s: float  # seconds since the first trigger of the acquisition
    trigger_s: float  # trigger instant on the row's own time axis
    source_t0_s: float
    source_fs_hz: float
    inputs: Mapping[int, np.ndarray]  # channel -> volts at the input (one row)
    channels: Mapping[int, ChannelSettings]  # channels on screen when it triggered
    record: Record
    ceilings: Mapping[int, float]  # the clip fault: |value| that clips, per channel

    def values(self, channel: int, times_s: np.ndarray) -> np.ndarray:
        """Displayed values of a channel at times relative to the trigger."""
        row = self.inputs.get(channel)
        if row is None:
            return np.zeros(times_s.size)
        position = (self.trigger_s + times_s - self.source_t0_s) * self.source_fs_hz
        volts = np.interp(position, np.arange(row.size), row)
        return volts * self.channels[channel].probe


def one_two_five_rate(max_rate_hz: float, limit_hz: float) -> float:
    """The fastest rate max_rate / {1, 2, 5, 10, 20, 50, ...} that does not exceed limit."""
    if limit_hz >= max_rate_hz:
        return max_rate_hz
    decade = 10.0 ** math.floor(math.log10(max_rate_hz / limit_hz))
    for step in (1, 2, 5, 10):
        rate = max_rate_hz / (step * decade)
        if rate <= limit_hz * (1 + 1e-12):
            return rate
    return max_rate_hz / (10 * decade)


def decimation(record_points: int, wanted: int) -> tuple[int, int]:
    """Keep every n-th point so that at most `wanted` remain: (step, count)."""
    wanted = max(1, min(wanted, record_points))
    step = math.ceil(record_points / wanted)
    return step, record_points // step
