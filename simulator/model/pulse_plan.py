"""Per-pulse scalars of one train: the loop over pulses of simulator-model §5.

For each pulse this settles the bank voltage at its start (eq. 2), the
conductivity it starts from and heads for (eq. 4–8), its load (tissue or a
fault's), its timing, and the tissue state it leaves behind. The sample grid
is rendered from these numbers in one vectorised pass (`render.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.model import fault_effects as fx
from simulator.model.config import ModelConfig
from simulator.model.fault_effects import FaultEffects
from simulator.model.gate import edge_duration
from simulator.model.geometry import Pair
from simulator.train import TrainRequest

Array = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]

# Start offsets beyond this share of the period are LATE (the ±5 % timing check).
LATE_SHARE = 0.05


@dataclass(frozen=True)
class PairState:
    """What the tissue between one pair remembers from the pulses it has had."""

    sigma_excess_s_per_m: float = 0.0  # σ_end − σ_b after the last pulse
    delta_t_k: float = 0.0  # temperature rise after the last pulse
    n_pulses: int = 0
    last_end_s: float | None = None  # bench time the last pulse ended


@dataclass(frozen=True)
class Trip:
    """The current limit fired in pulse `index`: the gate starts to close at `off_s`."""

    index: int
    off_s: float  # relative to the pulse's nominal start


@dataclass(frozen=True, eq=False)
class PulsePlan:
    """Per-pulse scalars of one train (arrays of length n); times relative to each slot."""

    present: Flags  # a pulse is emitted in this slot
    missing: Flags  # the slot passes empty (missing-pulse fault)
    late: Flags
    arc: Flags  # the arc fault strikes in this pulse
    start_s: Array  # 50 % point of the rising edge
    fall_centre_s: Array  # 50 % point of the falling edge
    v_bank_v: Array  # bank voltage when the pulse starts
    sigma_start: Array
    sigma_ss: Array
    cell_k_per_m: Array
    r_series_ohm: Array
    r_fixed_ohm: Array  # NaN: the load is tissue
    c_membrane: Array  # (σ_hf − σ)/K of the edge spike, S
    runaway_gain: Array  # 1: no runaway
    runaway_tau_s: Array  # τx: σ has grown by runaway_gain this long after the start
    arc_at_s: Array  # NaN: no arc
    arc_v: float
    zeta: Array
    bank_f: float


def pulse_times(request: TrainRequest) -> Array:
    """Bench-clock start of every slot: the request's own times, or an even train."""
    if request.pulse_times_s is not None:
        return np.asarray(request.pulse_times_s, dtype=np.float64)
    return request.start_s + request.period_s * np.arange(request.count, dtype=np.float64)


def plan_train(
    config: ModelConfig,
    request: TrainRequest,
    pair: Pair,
    state: PairState,
    effects: FaultEffects,
    z_jitter: Array,
    u_contact: Array,
    trip: Trip | None = None,
) -> tuple[PulsePlan, PairState]:
    """Walk the pulses of one train; return their scalars and the tissue state after it.

    `z_jitter` (standard normal) and `u_contact` (uniform 0..1) hold one draw per
    pulse, made by the caller from separate streams.
    """
    gen, kin, tis = config.generator, config.kinetics, config.tissue
    n = request.count
    times = pulse_times(request)
    rise_full = edge_duration(gen.rise_s)
    fall_full = edge_duration(gen.fall_s)
    bank_f = effects.droop_bank_f or gen.bank_f
    recharge_tau = math.inf if effects.droop_bank_f is not None else gen.recharge_tau_s
    jitter_rms = gen.jitter_rms_s if effects.jitter_rms_s is None else effects.jitter_rms_s
    # Keep the rising edge inside the window however large the jitter.
    max_shift = max(config.pre_s - rise_full, 0.0) * 0.75
    start = np.clip(z_jitter[:n] * jitter_rms, -max_shift, max_shift)
    width = request.width_s * (1.0 + gen.width_error + effects.width_fraction)
    v_set = abs(request.amplitude_v)
    i_limit = request.i_limit_a if request.i_limit_a > 0 else math.inf

    present = np.zeros(n, dtype=bool)
    missing = np.zeros(n, dtype=bool)
    arc = np.zeros(n, dtype=bool)
    late = (
        np.abs(start) > LATE_SHARE * request.period_s
        if request.period_s > 0
        else np.zeros(n, dtype=bool)
    )
    fall_centre = start + width
    v_bank = np.zeros(n)
    sigma_start = np.full(n, tis.sigma0_s_per_m)
    sigma_ss = np.full(n, tis.sigma0_s_per_m)
    cell_k = np.full(n, pair.cell_constant_per_m)
    r_series = np.zeros(n)
    r_fixed = np.full(n, np.nan)
    c_membrane = np.zeros(n)
    runaway = np.ones(n)
    runaway_tau = np.full(n, fx.RUNAWAY_AT_FRACTION * width)
    arc_at = np.full(n, np.nan)
    zeta = np.full(n, gen.ring_zeta)

    bank_end = v_set
    bank_end_time: float | None = None
    for k in range(n):
        if trip is not None and k > trip.index:
            break  # the trip suppresses the rest of the train
        if effects.missing(k, n):
            missing[k] = True
            continue
        present[k] = True
        t_on = times[k] + start[k]
        if trip is not None and k == trip.index:
            fall_centre[k] = min(fall_centre[k], trip.off_s + 0.5 * fall_full)
        on_time = max(fall_centre[k] - start[k], 0.0)

        since_bank = math.inf if bank_end_time is None else max(t_on - bank_end_time, 0.0)
        v_bank[k] = v_set - (v_set - bank_end) * _decay(since_bank, recharge_tau)

        # Relaxation and cooling since this pair's last pulse (eq. 5, 8).
        since = math.inf if state.last_end_s is None else max(t_on - state.last_end_s, 0.0)
        delta_t = state.delta_t_k * _decay(since, kin.tau_thermal_s)
        sigma_b = tis.sigma0_s_per_m * (1.0 + tis.alpha_per_k * delta_t)
        retained = kin.b_fast * _decay(since, kin.tau_relax_fast_s) + (1.0 - kin.b_fast) * _decay(
            since, kin.tau_relax_slow_s
        )
        sigma_start[k] = sigma_b + state.sigma_excess_s_per_m * retained

        kind = effects.load_kind(k)
        if kind == "open":
            r_fixed[k] = fx.OPEN_OHM
            zeta[k] = gen.ring_zeta * fx.OPEN_ZETA_SHARE
        elif kind == "short":
            r_fixed[k] = effects.short_ohm
        elif kind == "contact":
            if effects.contact_ohm is None:
                lo, hi = fx.CONTACT_K_FACTOR
                cell_k[k] *= lo + (hi - lo) * u_contact[k]
            else:
                lo, hi = fx.CONTACT_OHM_SPREAD
                r_series[k] = effects.contact_ohm * (lo + (hi - lo) * u_contact[k])

        if not math.isnan(r_fixed[k]):
            # The tissue is not in the circuit: it keeps relaxing as if unpulsed.
            sigma_ss[k] = sigma_start[k]
            charge = v_bank[k] * on_time / (r_fixed[k] + gen.r_out_ohm)
        else:
            sigma_1k = tis.sigma1_s_per_m * (
                1.0 + kin.beta * (1.0 - math.exp(-state.n_pulses / kin.n_beta))
            )
            guess = sigma_start[k]
            for _ in range(2):  # E depends on σ through R_out; two passes converge (eq. 3)
                r_tissue = cell_k[k] / guess
                v_tissue = v_bank[k] * r_tissue / (r_tissue + r_series[k] + gen.r_out_ohm)
                field = v_tissue / pair.distance_m
                activation = tis.activation(field / 100.0)
                sigma_ss[k] = sigma_b + (sigma_1k - tis.sigma0_s_per_m) * activation
                guess = sigma_ss[k]
            r_hf = cell_k[k] / tis.sigma_hf_s_per_m
            c_membrane[k] = (
                max(tis.sigma_hf_s_per_m - sigma_start[k], 0.0)
                / cell_k[k]
                * r_hf
                / (r_hf + r_series[k])
            )
            mean_sigma, end_sigma = _sigma_mean_and_end(
                sigma_start[k], sigma_ss[k], on_time, config
            )
            r_mean = cell_k[k] / mean_sigma + r_series[k]
            charge = v_bank[k] * on_time / (r_mean + gen.r_out_ohm)
            if effects.overcurrent(k, n):
                # The runaway is a transient of this pulse (a hot channel); the tissue
                # state below keeps the ordinary kinetics.
                runaway[k] = _runaway_gain(
                    v_bank[k], i_limit, cell_k[k], sigma_ss[k], r_series[k], gen.r_out_ohm
                )
            heat = mean_sigma * field * field * on_time / tis.rho_c_j_per_m3_k
            state = PairState(
                sigma_excess_s_per_m=end_sigma - sigma_b,
                delta_t_k=delta_t + heat,
                n_pulses=state.n_pulses + 1,
                last_end_s=times[k] + fall_centre[k],
            )

        if effects.arc(k, n):
            after = effects.arc_after_s
            at = start[k] + (fx.ARC_AT_FRACTION * width if after is None else after)
            if at < fall_centre[k]:
                arc[k] = True
                arc_at[k] = at

        bank_end = v_bank[k] - charge / bank_f
        bank_end_time = times[k] + fall_centre[k]

    plan = PulsePlan(
        present=present,
        missing=missing,
        late=late & present,
        arc=arc,
        start_s=start,
        fall_centre_s=fall_centre,
        v_bank_v=v_bank,
        sigma_start=sigma_start,
        sigma_ss=sigma_ss,
        cell_k_per_m=cell_k,
        r_series_ohm=r_series,
        r_fixed_ohm=r_fixed,
        c_membrane=c_membrane,
        runaway_gain=runaway,
        runaway_tau_s=runaway_tau,
        arc_at_s=arc_at,
        arc_v=effects.arc_v,
        zeta=zeta,
        bank_f=bank_f,
    )
    return plan, state


def _decay(elapsed_s: float, tau_s: float) -> float:
    """e^(-elapsed/τ), with an infinite τ never decaying and an infinite gap always."""
    if math.isinf(tau_s):
        return 1.0
    return math.exp(-elapsed_s / tau_s)


def sigma_at(
    tau_s: Array | float, sigma_start: Array | float, sigma_ss: Array | float, config: ModelConfig
) -> Array:
    """In-pulse conductivity (eq. 7) τ after the pulse started (τ < 0 gives σ_start)."""
    kin = config.kinetics
    tau = np.maximum(tau_s, 0.0)
    remaining = kin.a_fast * np.exp(-tau / kin.tau_fast_s) + (1.0 - kin.a_fast) * np.exp(
        -tau / kin.tau_slow_s
    )
    result: Array = sigma_ss - np.subtract(sigma_ss, sigma_start) * remaining
    return result


def _sigma_mean_and_end(
    sigma_start: float, sigma_ss: float, on_time_s: float, config: ModelConfig
) -> tuple[float, float]:
    """Mean σ over [0, on_time] (closed-form integral of eq. 7) and σ at its end."""
    kin = config.kinetics
    if on_time_s <= 0:
        return sigma_start, sigma_start
    end = float(sigma_at(on_time_s, sigma_start, sigma_ss, config))
    integral_of_remaining = kin.a_fast * kin.tau_fast_s * -math.expm1(
        -on_time_s / kin.tau_fast_s
    ) + (1.0 - kin.a_fast) * kin.tau_slow_s * -math.expm1(-on_time_s / kin.tau_slow_s)
    mean = sigma_ss - (sigma_ss - sigma_start) * integral_of_remaining / on_time_s
    return mean, end


def _runaway_gain(
    v_bank: float, i_limit: float, cell_k: float, sigma_ss: float, r_series: float, r_out: float
) -> float:
    """σ growth at τx that would carry the current to RUNAWAY_OVERSHOOT·I_max."""
    if math.isinf(i_limit):
        return fx.RUNAWAY_FREE_GAIN
    # A load below half an ohm is as good as a short; the limit is then reached regardless.
    r_target = max(v_bank / (fx.RUNAWAY_OVERSHOOT * i_limit) - r_out - r_series, 0.5)
    return max(cell_k / (r_target * sigma_ss), 1.0)
