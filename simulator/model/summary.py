"""The generator's own per-pulse summary (eq. 17), from its unquantised copy of v and i."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.train import DeliveredTrain

Array = npt.NDArray[np.float64]

# The plateau is the middle of the pulse: 10 % to 90 % of the set width after the start.
PLATEAU = (0.10, 0.90)


@dataclass(frozen=True)
class PulseStats:
    """One pulse as the firmware reports it (PULSE_SUMMARY), SI units, signed as delivered.

    `index` is the 0-based slot. Peaks are the samples of largest magnitude;
    means are over the plateau. A slot without a pulse has zeros and
    `delivered` False.
    """

    index: int
    delivered: bool
    start_s: float  # bench clock, 50 % crossing of the rising edge
    width_s: float  # between the 50 % crossings
    v_peak_v: float
    v_mean_v: float
    i_peak_a: float
    i_mean_a: float
    charge_c: float
    energy_j: float
    flags: frozenset[str]
    i_10_a: float = 0.0  # current at 10 % of the set width (the no-electroporation hint)
    i_90_a: float = 0.0  # and at 90 %


def summarize(
    train: DeliveredTrain,
    v_tolerance: float = 0.10,
    i_limit_a: float | None = None,
    v_full_scale_v: float | None = None,
    i_full_scale_a: float | None = None,
) -> tuple[PulseStats, ...]:
    """Per-pulse statistics and flags, vectorised over the train.

    Flags: the train's own (OC, ARC, LATE, MISSING) plus UV when the plateau mean
    is below (1 − v_tolerance) of the set amplitude, OC when the peak current
    reaches `i_limit_a` (default: the request's limit), and CLIP when a sample
    reaches the given ADC full scale. The plateau runs from 10 % to 90 % of the
    set width after the measured start (of the measured width when the pulse
    was cut short).
    """
    request = train.request
    voltage, current = train.voltage_v, train.current_a
    rows, n = voltage.shape
    if rows == 0:
        return ()
    fs = train.fs_hz
    t = train.t0_s + np.arange(n) / fs
    limit = request.i_limit_a if i_limit_a is None else i_limit_a
    set_width = request.width_s

    magnitude = np.abs(voltage)
    half = 0.5 * magnitude.max(axis=1)
    above = (magnitude >= half[:, None]) & (half[:, None] > 0)
    has_pulse = above.any(axis=1) & train.delivered
    first = np.argmax(above, axis=1)
    last = n - 1 - np.argmax(above[:, ::-1], axis=1)
    start = _crossing(t, magnitude, half, first, rising=True)
    end = _crossing(t, magnitude, half, last, rising=False)
    width = np.where(has_pulse, end - start, 0.0)

    # A truncated pulse (a trip) gets the same 10–90 % window of what it lasted.
    span = np.minimum(set_width, np.maximum(width, 0.0))
    in_plateau = (t[None, :] >= (start + PLATEAU[0] * span)[:, None]) & (
        t[None, :] <= (start + PLATEAU[1] * span)[:, None]
    )
    counts = in_plateau.sum(axis=1)
    safe_counts = np.maximum(counts, 1)
    v_mean = np.where(counts > 0, (voltage * in_plateau).sum(axis=1) / safe_counts, 0.0)
    i_mean = np.where(counts > 0, (current * in_plateau).sum(axis=1) / safe_counts, 0.0)
    row = np.arange(rows)
    v_peak = voltage[row, np.argmax(magnitude, axis=1)]
    i_peak = current[row, np.argmax(np.abs(current), axis=1)]
    charge = current.sum(axis=1) / fs
    energy = np.einsum("ij,ij->i", voltage, current) / fs
    i_10 = _sample_at(t, current, start + PLATEAU[0] * set_width)
    i_90 = _sample_at(t, current, start + PLATEAU[1] * set_width)

    stats = []
    for k in range(rows):
        flags = set(train.flags[k])
        slot = float(train.pulse_times_s[k])
        if not has_pulse[k]:
            stats.append(
                PulseStats(k, False, slot, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, frozenset(flags))
            )
            continue
        if abs(v_mean[k]) < (1.0 - v_tolerance) * abs(request.amplitude_v):
            flags.add("UV")
        if limit > 0 and abs(i_peak[k]) >= limit:
            flags.add("OC")
        if (v_full_scale_v is not None and magnitude[k].max() >= v_full_scale_v) or (
            i_full_scale_a is not None and np.abs(current[k]).max() >= i_full_scale_a
        ):
            flags.add("CLIP")
        stats.append(
            PulseStats(
                index=k,
                delivered=True,
                start_s=slot + float(start[k]),
                width_s=float(width[k]),
                v_peak_v=float(v_peak[k]),
                v_mean_v=float(v_mean[k]),
                i_peak_a=float(i_peak[k]),
                i_mean_a=float(i_mean[k]),
                charge_c=float(charge[k]),
                energy_j=float(energy[k]),
                flags=frozenset(flags),
                i_10_a=float(i_10[k]),
                i_90_a=float(i_90[k]),
            )
        )
    return tuple(stats)


def _crossing(
    t: Array, magnitude: Array, level: Array, index: npt.NDArray[np.intp], rising: bool
) -> Array:
    """Time each row crosses `level` next to `index`, interpolated between samples."""
    rows, n = magnitude.shape
    row = np.arange(rows)
    other = np.clip(index - 1 if rising else index + 1, 0, n - 1)
    a, b = magnitude[row, other], magnitude[row, index]
    span = b - a
    share = np.where(span != 0, (level - a) / np.where(span != 0, span, 1.0), 0.0)
    crossing: Array = t[other] + share * (t[index] - t[other])
    return crossing


def _sample_at(t: Array, rows: Array, when: Array) -> Array:
    """Linear interpolation of each row at its own time."""
    position = np.clip((when - t[0]) * (t.shape[0] - 1) / (t[-1] - t[0]), 0, t.shape[0] - 1)
    left = np.floor(position).astype(np.intp)
    right = np.minimum(left + 1, t.shape[0] - 1)
    share = position - left
    row = np.arange(rows.shape[0])
    result: Array = rows[row, left] * (1 - share) + rows[row, right] * share
    return result
