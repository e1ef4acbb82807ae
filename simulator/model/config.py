"""Parameters of the generator, the tissue kinetics and the sampling grid.

Defaults are simulator-model §3.1; every value is an estimate meant to be
calibrated on real logs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.model.geometry import DEFAULT_PAIRS, Pair
from simulator.model.tissues import TISSUES, Tissue
from simulator.model.validation import require_non_negative, require_positive


@dataclass(frozen=True)
class GeneratorParams:
    """The pulse generator: bank, output stage, edges, parasitics and protection."""

    # Top of the estimated 50–500 µF range: long-needle trains draw up to ~47 A, and a
    # 200 µF bank would then sag by ~8 % over 8 pulses on top of the output-stage drop,
    # so a healthy train would brush the ±10 % voltage check.
    bank_f: float = 500e-6
    recharge_tau_s: float = 0.05  # math.inf: charger off between pulses
    r_out_ohm: float = 2.0
    rise_s: float = 2e-6  # 10–90 %
    fall_s: float = 2e-6  # 90–10 %
    ring_fn_hz: float = 8e6
    ring_zeta: float = 0.7
    c_par_f: float = 200e-12
    trip_latency_s: float = 2e-6
    jitter_rms_s: float = 0.2e-6
    width_error: float = 0.0  # fraction: realised width = set width·(1 + width_error)

    def __post_init__(self) -> None:
        require_positive(
            "generator",
            bank_f=self.bank_f,
            recharge_tau_s=self.recharge_tau_s,
            rise_s=self.rise_s,
            fall_s=self.fall_s,
            ring_fn_hz=self.ring_fn_hz,
            ring_zeta=self.ring_zeta,
        )
        if self.ring_zeta >= 1.0:
            raise ValueError(
                f"generator: ring_zeta must be < 1 (underdamped), got {self.ring_zeta}"
            )
        require_non_negative(
            "generator",
            r_out_ohm=self.r_out_ohm,
            c_par_f=self.c_par_f,
            trip_latency_s=self.trip_latency_s,
            jitter_rms_s=self.jitter_rms_s,
        )
        if not self.width_error > -1:
            raise ValueError(f"generator: width_error must be > -1, got {self.width_error}")


@dataclass(frozen=True)
class Kinetics:
    """Time constants of pore formation, memory, heating and the membrane (eq. 5–10)."""

    a_fast: float = 0.6  # share of the fast in-pulse rise
    tau_fast_s: float = 2e-6
    tau_slow_s: float = 40e-6
    b_fast: float = 0.6  # share of the excess conductivity that relaxes fast between pulses
    tau_relax_fast_s: float = 0.5e-3
    tau_relax_slow_s: float = 30.0
    beta: float = 0.15  # pulse-number gain of σ1
    n_beta: float = 3.0
    tau_membrane_s: float = 0.5e-6
    # Heat leaves the small treated volume slowly; an estimate, it matters only across trains.
    tau_thermal_s: float = 60.0

    def __post_init__(self) -> None:
        require_positive(
            "kinetics",
            tau_fast_s=self.tau_fast_s,
            tau_slow_s=self.tau_slow_s,
            tau_relax_fast_s=self.tau_relax_fast_s,
            tau_relax_slow_s=self.tau_relax_slow_s,
            n_beta=self.n_beta,
            tau_membrane_s=self.tau_membrane_s,
            tau_thermal_s=self.tau_thermal_s,
        )
        for label, value in (("a_fast", self.a_fast), ("b_fast", self.b_fast)):
            if not 0 <= value <= 1:
                raise ValueError(f"kinetics: {label} must be within 0..1, got {value}")
        require_non_negative("kinetics", beta=self.beta)


@dataclass(frozen=True)
class ModelConfig:
    """Everything the load model needs: tissue, electrode pairs, generator and sampling."""

    tissue: Tissue = TISSUES["tumour"]
    pairs: Mapping[tuple[int, int], Pair] = field(default_factory=lambda: DEFAULT_PAIRS)
    generator: GeneratorParams = field(default_factory=GeneratorParams)
    fs_hz: float = 50e6
    pre_s: float = 20e-6
    post_s: float = 80e-6
    kinetics: Kinetics = field(default_factory=Kinetics)

    def __post_init__(self) -> None:
        require_positive("model config", fs_hz=self.fs_hz, pre_s=self.pre_s, post_s=self.post_s)
        if not self.pairs:
            raise ValueError("model config: pairs is empty; give at least one electrode pair")
        for key in self.pairs:
            if len(key) != 2 or key[0] == key[1] or min(key) < 0:
                raise ValueError(
                    f"model config: pair {key!r} must be two different electrode numbers >= 0"
                )
        if not math.isfinite(self.fs_hz):
            raise ValueError(f"model config: fs_hz must be finite, got {self.fs_hz}")
