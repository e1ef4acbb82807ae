"""What one train should look like, as the plan and the generator describe it."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainExpectation:
    """The planned train the measurements are judged against.

    The predicted current is the plan's band: `i_pred_low_a` for the first
    pulse (tissue not yet electroporated), `i_pred_high_a` once it is. Pass
    the same value twice for a single prediction. `start_offsets_s` gives the
    expected start of each pulse relative to the first one when the pulses
    are not evenly spaced (ECG gating: R + delay of each beat); None means
    `k * period_s`.
    """

    v_set_v: float
    width_s: float
    period_s: float
    count: int
    i_pred_low_a: float
    i_pred_high_a: float
    i_limit_a: float
    start_offsets_s: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("v_set_v", "width_s", "period_s", "i_pred_low_a", "i_limit_a"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"train expectation: {name} must be positive, got {value!r}")
        if not self.i_pred_low_a <= self.i_pred_high_a:
            raise ValueError(
                f"train expectation: predicted current band {self.i_pred_low_a} .. "
                f"{self.i_pred_high_a} A is reversed"
            )
        if self.count < 1:
            raise ValueError(f"train expectation: count must be at least 1, got {self.count}")
        if self.width_s >= self.period_s:
            raise ValueError(
                f"train expectation: width {self.width_s * 1e6:g} us does not fit the period "
                f"{self.period_s * 1e6:g} us"
            )
        if self.start_offsets_s is not None and len(self.start_offsets_s) != self.count:
            raise ValueError(
                f"train expectation: {len(self.start_offsets_s)} start offsets for "
                f"{self.count} pulses"
            )

    def start_offset_s(self, pulse: int) -> float:
        """Expected start of `pulse` (0-based) relative to pulse 0."""
        if self.start_offsets_s is not None:
            return self.start_offsets_s[pulse]
        return pulse * self.period_s
