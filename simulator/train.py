"""What passes between the physics model and the simulated instruments.

The firmware and the SCPI function generator both ask the model for a train
(`TrainRequest`) and publish what it produced (`DeliveredTrain`) to whoever
listens, the simulated oscilloscope above all. That way every generator feeds
the same load, and the scope sees the pulses whichever generator fired them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class TrainRequest:
    amplitude_v: float
    width_s: float
    count: int
    period_s: float
    i_limit_a: float
    pair: tuple[int, int] = (0, 1)
    polarity: int = 0
    # Start time of each pulse on the bench clock (s). None: evenly spaced from
    # `start_s` at `period_s`; ECG gating passes the gated times instead.
    start_s: float = 0.0
    pulse_times_s: tuple[float, ...] | None = None


@dataclass(frozen=True, eq=False)
class DeliveredTrain:
    """True (unmeasured) load voltage and current, one row per pulse slot.

    Every row shares the time axis `t0_s + arange(n_samples) / fs_hz` relative
    to that pulse's nominal start. Rows of pulses that never happened (after a
    trip, or a missing pulse) are zero and `delivered[k]` is False.
    """

    request: TrainRequest
    fs_hz: float
    t0_s: float
    pulse_times_s: np.ndarray  # (n,) bench clock
    voltage_v: np.ndarray  # (n, samples) float64, at the load
    current_a: np.ndarray  # (n, samples) float64
    delivered: np.ndarray  # (n,) bool
    flags: tuple[frozenset[str], ...]  # per pulse: OC, UV, ARC, CLIP, LATE, MISSING
    tripped: bool

    @property
    def n_delivered(self) -> int:
        return int(self.delivered.sum())


class TrainListener(Protocol):
    """Anything that watches the load: the simulated scope, a test recorder."""

    def on_train(self, train: DeliveredTrain) -> None: ...
