"""Per-pulse measurements of a train: one array per quantity, one entry per row."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PulseMeasurement:
    """What the scope saw of one pulse, in SI units.

    None means not measurable (a missing pulse has no width; an open circuit
    has no resistance). `start_s` is the rising 50 % crossing on the train's
    clock (the scope's segment time tags), or relative to the pulse's own
    trigger when the captures shared no clock.
    """

    slot: int
    start_s: float | None
    v_plateau_v: float | None
    i_plateau_a: float | None
    v_peak_v: float | None
    i_peak_a: float | None
    width_s: float | None
    rise_time_s: float | None
    droop: float | None  # fraction of the early-plateau voltage lost by its end
    resistance_ohm: float | None
    charge_c: float | None
    energy_j: float | None
    i10_a: float | None
    i90_a: float | None
    clipped_voltage: bool
    clipped_current: bool
    arc: bool
    missing: bool

    @property
    def clipped(self) -> bool:
        return self.clipped_voltage or self.clipped_current


@dataclass(frozen=True, eq=False)
class TrainMeasurements:
    """Measurements of every row of a `RawTrain`, as (pulses,) arrays; NaN = not measurable."""

    slots: np.ndarray  # int
    timed: bool  # start_s shares one clock across rows
    start_s: np.ndarray
    v_plateau_v: np.ndarray  # mean over 10 %-90 % of the set width after the rise
    i_plateau_a: np.ndarray
    v_peak_v: np.ndarray
    i_peak_a: np.ndarray
    width_s: np.ndarray  # between the 50 % crossings of the plateau voltage
    rise_time_s: np.ndarray  # 10 %-90 % of the plateau voltage
    droop: np.ndarray
    resistance_ohm: np.ndarray
    charge_c: np.ndarray
    energy_j: np.ndarray
    i10_a: np.ndarray  # current around 10 % of the set width
    i90_a: np.ndarray  # current around 90 % of the set width
    clipped_voltage: np.ndarray  # bool: a clip code inside the pulse window
    clipped_current: np.ndarray
    arc: np.ndarray  # bool: voltage collapsed while the current held or rose
    missing: np.ndarray  # bool: no voltage above 50 % of the target in the slot

    @property
    def clipped(self) -> np.ndarray:
        return self.clipped_voltage | self.clipped_current

    @property
    def pulses(self) -> int:
        return int(self.slots.size)

    def row_of(self, slot: int) -> int | None:
        """The row holding pulse slot `slot`, or None when it was not captured."""
        rows = np.flatnonzero(self.slots == slot)
        return int(rows[0]) if rows.size else None

    def pulse(self, row: int) -> PulseMeasurement:
        """Row `row` as plain Python values (for the journal and the UI)."""
        names = [f.name for f in fields(PulseMeasurement)]
        values = [getattr(self, name)[row].item() for name in names[1:]]
        return PulseMeasurement(int(self.slots[row]), *map(_plain, values))

    def pulse_list(self) -> tuple[PulseMeasurement, ...]:
        """Every row as plain Python values; NaN (not measurable) becomes None."""
        names = [f.name for f in fields(PulseMeasurement)]
        columns = [self.slots.tolist()] + [getattr(self, name).tolist() for name in names[1:]]
        return tuple(PulseMeasurement(*map(_plain, row)) for row in zip(*columns, strict=True))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
