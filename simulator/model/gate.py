"""The generator's output gate: a trapezoid with raised-cosine edges (eq. 1).

Edges are centred on the 50 % points, so the gate's area equals its width
and the pulse width measured at 50 % is exactly the set width.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

# A raised-cosine edge of full duration T spends 2·asin(0.8)/π ≈ 0.59·T between 10 % and 90 %.
_TEN_NINETY_SHARE = 2.0 * math.asin(0.8) / math.pi


def edge_duration(ten_ninety_s: float) -> float:
    """Full duration (0 → 100 %) of a raised-cosine edge with the given 10–90 % time."""
    return ten_ninety_s / _TEN_NINETY_SHARE


def raised_cosine_step(x: Array, full_s: float) -> tuple[Array, Array]:
    """A 0 → 1 step centred on x = 0 lasting `full_s`, and its derivative (1/s)."""
    phase = np.clip(x / full_s, -0.5, 0.5) * math.pi
    step = 0.5 * (1.0 + np.sin(phase))
    slope = np.where(np.abs(x) < 0.5 * full_s, 0.5 * math.pi / full_s * np.cos(phase), 0.0)
    return step, slope


def render_gate(
    t: Array,
    present: npt.NDArray[np.bool_],
    start_s: Array,
    fall_centre_s: Array,
    rise_full_s: float,
    fall_full_s: float,
) -> tuple[Array, Array]:
    """Gate g (0..1) and dg/dt per row on the shared time axis `t`.

    Only the edge samples are computed with trigonometry; the loop runs over
    pulses, never over samples.
    """
    rows = start_s.shape[0]
    gate = np.zeros((rows, t.shape[0]))
    slope = np.zeros_like(gate)
    for k in np.flatnonzero(present):
        r0, r1 = start_s[k] - 0.5 * rise_full_s, start_s[k] + 0.5 * rise_full_s
        f0, f1 = fall_centre_s[k] - 0.5 * fall_full_s, fall_centre_s[k] + 0.5 * fall_full_s
        i0, j0, j1, i1 = np.searchsorted(t, (r0, r1, f0, f1))
        if j0 <= j1:
            gate[k, j0:j1] = 1.0
            gate[k, i0:j0], slope[k, i0:j0] = raised_cosine_step(t[i0:j0] - start_s[k], rise_full_s)
            down, down_slope = raised_cosine_step(t[j1:i1] - fall_centre_s[k], fall_full_s)
            gate[k, j1:i1] = 1.0 - down
            slope[k, j1:i1] = -down_slope
        else:  # edges overlap (a pulse shorter than its edges, or a very early trip)
            span = t[i0:i1]
            up, up_slope = raised_cosine_step(span - start_s[k], rise_full_s)
            down, down_slope = raised_cosine_step(span - fall_centre_s[k], fall_full_s)
            gate[k, i0:i1] = up * (1.0 - down)
            slope[k, i0:i1] = up_slope * (1.0 - down) - up * down_slope
    return gate, slope
