"""Sample the planned pulses onto the (pulses × samples) grid: eq. 1–3 and 7–12.

Array arithmetic over the whole grid, loops only over pulses (for the gate's
edges and a fault's row), and one frequency-domain pass that applies the
membrane spike and the output ringing together.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from simulator.model import fault_effects as fx
from simulator.model import filters
from simulator.model.config import ModelConfig
from simulator.model.gate import edge_duration, raised_cosine_step, render_gate
from simulator.model.pulse_plan import PulsePlan, sigma_at

Array = npt.NDArray[np.float64]


def time_axis(config: ModelConfig, width_s: float) -> Array:
    """Shared row axis: pre_s before the nominal start to post_s after the set width."""
    n = round((config.pre_s + width_s + config.post_s) * config.fs_hz)
    axis: Array = np.arange(n) / config.fs_hz - config.pre_s
    return axis


def render(plan: PulsePlan, t: Array, config: ModelConfig) -> tuple[Array, Array]:
    """Load voltage and current (V, A) for every slot; empty slots stay zero."""
    gen, kin = config.generator, config.kinetics
    fs = config.fs_hz
    if not plan.present.any():
        empty = np.zeros((plan.present.shape[0], t.shape[0]))
        return empty, empty.copy()
    rise_full = edge_duration(gen.rise_s)
    fall_full = edge_duration(gen.fall_s)
    gate, gate_slope = render_gate(
        t, plan.present, plan.start_s, plan.fall_centre_s, rise_full, fall_full
    )
    tau = t[None, :] - plan.start_s[:, None]
    sigma = sigma_at(tau, plan.sigma_start[:, None], plan.sigma_ss[:, None], config)
    for k in np.flatnonzero(plan.runaway_gain > 1.0):
        growth = (np.maximum(tau[k], 0.0) / plan.runaway_tau_s[k]) ** 2
        sigma[k] *= plan.runaway_gain[k] ** growth
    fixed = ~np.isnan(plan.r_fixed_ohm)
    load = plan.cell_k_per_m[:, None] / sigma + plan.r_series_ohm[:, None]
    if fixed.any():
        load[fixed] = plan.r_fixed_ohm[fixed, None]
    loop = load + gen.r_out_ohm

    # Bank droop in two passes (eq. 2): the charge drawn at constant V_C, then once more.
    v_bank = plan.v_bank_v[:, None]
    drawn = np.cumsum(v_bank * gate / loop, axis=1) / fs
    bank = v_bank - drawn / plan.bank_f
    source = bank * gate
    current = source / loop
    voltage = current * load
    stray = gen.c_par_f * bank * gate_slope

    for k in np.flatnonzero(plan.arc):
        _strike_arc(plan, int(k), t, gate[k], voltage[k], current[k], gen.r_out_ohm)

    # Membrane spike (eq. 10) and ringing (eq. 12) in one frequency-domain pass.
    slowest = max(kin.tau_membrane_s, 1.0 / (2.0 * math.pi * gen.ring_fn_hz * plan.zeta.min()))
    quiet = _quiet_samples(plan, t, fall_full)
    n_fft = filters.padded_length(t.shape[0], fs, slowest, quiet)
    tan_half = filters.warped_tan(n_fft)
    v_spec = filters.spectrum(voltage, n_fft)
    i_spec = filters.spectrum(current + stray, n_fft)
    membrane = filters.first_order_highpass(tan_half, fs, kin.tau_membrane_s)
    i_spec += plan.c_membrane[:, None] * membrane * v_spec
    zetas = np.unique(plan.zeta)
    if zetas.shape[0] == 1:
        ring = filters.second_order_lowpass(tan_half, fs, gen.ring_fn_hz, float(zetas[0]))
    else:
        ring = np.stack(
            [filters.second_order_lowpass(tan_half, fs, gen.ring_fn_hz, z) for z in plan.zeta]
        )
    v_spec *= ring
    i_spec *= ring
    return (
        filters.back_to_time(v_spec, n_fft, t.shape[0]),
        filters.back_to_time(i_spec, n_fft, t.shape[0]),
    )


def _strike_arc(
    plan: PulsePlan, k: int, t: Array, gate: Array, voltage: Array, current: Array, r_out: float
) -> None:
    """From arc_at the load voltage collapses to the arc voltage and the current ramps up."""
    at = plan.arc_at_s[k]
    collapse, _ = raised_cosine_step(t - at - 0.5 * fx.ARC_COLLAPSE_S, fx.ARC_COLLAPSE_S)
    i_at = float(np.interp(at, t, current))
    # The output resistance caps what the bank can push through a near-zero load.
    cap = (plan.v_bank_v[k] - plan.arc_v) / r_out if r_out > 0 else math.inf
    ramp = np.minimum(i_at + fx.ARC_DI_DT_A_PER_S * np.maximum(t - at, 0.0), max(cap, i_at))
    voltage[:] = (1.0 - collapse) * voltage + collapse * gate * plan.arc_v
    current[:] = (1.0 - collapse) * current + collapse * gate * ramp


def _quiet_samples(plan: PulsePlan, t: Array, fall_full_s: float) -> int:
    """Samples at the end of every row after the last falling edge has finished."""
    last_edge_end = float(np.max(plan.fall_centre_s[plan.present])) + 0.5 * fall_full_s
    return int(t.shape[0] - np.searchsorted(t, last_edge_end))
