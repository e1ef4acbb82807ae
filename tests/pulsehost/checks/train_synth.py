"""A small generator of realistic raw-code trains for the checks tests.

Trapezoid pulses with raised-cosine edges (given 10-90 % rise time), an
in-pulse current rise, droop, Gaussian noise and 8-bit quantisation through a
Keysight-like preamble (code = round((x - yorg) / yinc + yref), clamped to
0x01..0xFF, the clip codes). Faults are applied to the true signals before
the measurement chain. The noiseless true signals come back too, so tests
compare measurements with what was generated, not with the code under test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from drivers.values import Capture, Waveform

# 10-90 % of a raised-cosine edge of duration T takes T * RISE_FRACTION.
RISE_FRACTION = (math.acos(-0.8) - math.acos(0.8)) / math.pi


@dataclass(frozen=True)
class PulseSpec:
    """One pulse: its true shape. Times in s, relative to its record's trigger."""

    v: float = 400.0
    i: float = 2.0  # current at the start of the plateau (after the edge)
    in_pulse_rise: float = 0.15  # current grows by this fraction towards the end
    tau_s: float = 30e-6
    width_s: float = 100e-6
    rise_s: float = 2e-6
    delay_s: float = 0.0  # 50 % crossing of the rise, relative to the trigger
    droop: float = 0.0  # fraction of v lost linearly over the width
    present: bool = True
    arc_at: float | None = None  # fraction of the width where an arc strikes
    trip_at: float | None = None  # fraction of the width where the generator turns off
    open_circuit: bool = False  # no load: edge spikes only


@dataclass(frozen=True)
class ChainSpec:
    """Measurement chain: sampling, window, full scales, noise."""

    fs_hz: float = 50e6
    pre_s: float = 20e-6
    post_s: float = 180e-6  # record after the trigger
    v_full_scale: float = 500.0
    i_full_scale: float = 5.0
    noise: float = 0.005  # rms, fraction of full scale
    v_gain: float = 1.0  # a probe with the wrong attenuation


@dataclass(frozen=True)
class TrainSpec:
    pulses: tuple[PulseSpec, ...]
    period_s: float = 200e-6
    chain: ChainSpec = field(default_factory=ChainSpec)
    tag_errors_s: tuple[float, ...] | None = None  # per pulse, added to k * period
    seed: int = 1


@dataclass(frozen=True, eq=False)
class Synth:
    captures: list[Capture]
    t: np.ndarray  # (samples,) relative to each trigger
    v_true: np.ndarray  # (pulses, samples)
    i_true: np.ndarray
    tags_s: np.ndarray


def uniform(n: int = 8, **pulse: object) -> tuple[PulseSpec, ...]:
    base = PulseSpec(**pulse)  # type: ignore[arg-type]
    return tuple(base for _ in range(n))


def with_pulse(pulses: tuple[PulseSpec, ...], k: int, **changes: object) -> tuple[PulseSpec, ...]:
    return tuple(replace(p, **changes) if j == k else p for j, p in enumerate(pulses))  # type: ignore[arg-type]


def _edge(x: np.ndarray, centre: float, duration: float) -> np.ndarray:
    """Raised-cosine step from 0 to 1 whose 50 % point is at `centre`."""
    u = np.clip((x - centre) / duration + 0.5, 0.0, 1.0)
    return 0.5 * (1.0 - np.cos(np.pi * u))


def true_pulse(t: np.ndarray, p: PulseSpec) -> tuple[np.ndarray, np.ndarray]:
    """True load voltage and current of one pulse on the time axis t."""
    if not p.present:
        return np.zeros_like(t), np.zeros_like(t)
    edge = p.rise_s / RISE_FRACTION
    start, end = p.delay_s, p.delay_s + p.width_s
    if p.trip_at is not None:
        end = start + p.trip_at * p.width_s
    gate = _edge(t, start, edge) * (1.0 - _edge(t, end, edge))
    tau = np.clip(t - start, 0.0, None)
    shape = 1.0 - p.droop * np.clip((t - start) / p.width_s, 0.0, 1.0)
    v = p.v * gate * shape
    conductance = (p.i / p.v) * (1.0 + p.in_pulse_rise * (1.0 - np.exp(-tau / p.tau_s)))
    i = v * conductance
    if p.open_circuit:
        i = 200e-12 * np.gradient(v, t)  # stray capacitance: spikes on the edges only
    if p.arc_at is not None:
        strike = start + p.arc_at * p.width_s
        after = t >= strike
        off = t >= strike + 2e-6  # the generator trips 2 us later
        v = np.where(after, 50.0, v)
        i = np.where(after, 20.0, i)
        v = np.where(off, 0.0, v)
        i = np.where(off, 0.0, i)
    return v, i


def _quantise(x: np.ndarray, full_scale: float) -> tuple[np.ndarray, float, float, float]:
    """Keysight BYTE: 254 steps over -0.2 FS .. FS, code 128 the reference."""
    yinc = 1.2 * full_scale / 254.0
    yref = 128.0
    yorg = -0.2 * full_scale + (yref - 1.0) * yinc
    codes = np.clip(np.round((x - yorg) / yinc + yref), 1, 255).astype(np.uint8)
    return codes, yinc, yorg, yref


def synth_train(spec: TrainSpec) -> Synth:
    chain = spec.chain
    rng = np.random.default_rng(spec.seed)
    dt = 1.0 / chain.fs_hz
    n = round((chain.pre_s + chain.post_s) / dt)
    t = -chain.pre_s + dt * np.arange(n)
    v_true = np.empty((len(spec.pulses), n))
    i_true = np.empty_like(v_true)
    errors = spec.tag_errors_s or (0.0,) * len(spec.pulses)
    tags = np.array([k * spec.period_s + errors[k] for k in range(len(spec.pulses))])
    tags -= tags[0]
    captures = []
    for k, p in enumerate(spec.pulses):
        v, i = true_pulse(t, p)
        v_true[k], i_true[k] = v, i
        v_in = v * chain.v_gain + rng.normal(0.0, chain.noise * chain.v_full_scale, n)
        i_in = i + rng.normal(0.0, chain.noise * chain.i_full_scale, n)
        waves = []
        for quantity, units, x, fs in (
            ("voltage", "V", v_in, chain.v_full_scale),
            ("current", "A", i_in, chain.i_full_scale),
        ):
            codes, yinc, yorg, yref = _quantise(x, fs)
            values = ((codes.astype(np.float64) - yref) * yinc + yorg).astype(np.float32)
            waves.append(
                Waveform(
                    quantity=quantity,
                    units=units,
                    t0_s=float(t[0]),
                    dt_s=dt,
                    values=values,
                    codes=codes,
                    clipped=bool(np.any((codes == 1) | (codes == 255))),
                    scale=yinc,
                    offset=yorg,
                    reference=yref,
                )
            )
        captures.append(Capture(k, float(tags[k]), waves[0], waves[1]))
    return Synth(captures, t, v_true, i_true, tags)
