"""Where a pulse goes on a scope screen: vertical scale and centre, timebase and centre.

A pulse is one-sided, so zero sits one division above the bottom edge (the
baseline and a little undershoot stay visible) and the expected peak, plus
some headroom, fits below the top edge. A negative `full_scale` mirrors the
layout for negative pulses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HEADROOM = 1.1  # the top of the screen sits this much above the expected peak
DIVISIONS_BELOW_ZERO = 1


@dataclass(frozen=True)
class Vertical:
    scale: float  # physical units per division
    center: float  # physical value at the screen centre


@dataclass(frozen=True)
class Horizontal:
    scale: float  # seconds per division
    center: float  # time of the screen centre after the trigger


def plan_vertical(full_scale: float, divisions: int, steps_125: bool = False) -> Vertical:
    """Scale and centre so that 0 … `full_scale`·HEADROOM fits on `divisions` divisions."""
    if not (math.isfinite(full_scale) and full_scale != 0):
        raise ValueError(f"full scale must be a non-zero number, not {full_scale!r}")
    scale = abs(full_scale) * HEADROOM / (divisions - DIVISIONS_BELOW_ZERO)
    if steps_125:
        scale = at_least_125(scale)
    center = math.copysign((divisions / 2 - DIVISIONS_BELOW_ZERO) * scale, full_scale)
    return Vertical(scale=scale, center=center)


def plan_horizontal(
    pre_s: float, post_s: float, divisions: int, steps_125: bool = False
) -> Horizontal:
    """Timebase whose screen starts `pre_s` before the trigger and lasts at least to `post_s`."""
    if not (pre_s >= 0 and post_s > 0 and math.isfinite(pre_s + post_s)):
        raise ValueError(f"window {pre_s!r} s before to {post_s!r} s after the trigger is empty")
    scale = (pre_s + post_s) / divisions
    if steps_125:
        scale = at_least_125(scale)
    return Horizontal(scale=scale, center=-pre_s + scale * divisions / 2)


def at_least_125(value: float) -> float:
    """The smallest 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, …) not below `value`."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{value!r} has no 1-2-5 step")
    decade = 10.0 ** math.floor(math.log10(value))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        step = mantissa * decade
        if step >= value * (1 - 1e-9):
            return float(f"{step:.6g}")
    return 10.0 * decade  # unreachable: 10·decade exceeds value


def points_needed(sample_rate_hz: float, window_s: float) -> int:
    """Samples to cover `window_s` at `sample_rate_hz`, ignoring float noise in the product."""
    return max(1, math.ceil(sample_rate_hz * window_s * (1 - 1e-9)))
