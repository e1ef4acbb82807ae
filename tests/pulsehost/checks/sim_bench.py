"""Trains from the simulator's physics model, digitised as a Keysight scope would.

`LoadModel.deliver` gives the true load signals, `measure` the volts at the
scope's inputs (probe bandwidth, transformer droop, noise), and the codes
come from the simulator's own Keysight BYTE/WORD code scale, clip codes
included. `summarize` stands in for the generator's PULSE_SUMMARY.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers.values import PulseTelemetry
from pulsehost.checks import RawChannel, RawTrain, TrainExpectation
from simulator.faults import parse_fault
from simulator.model import LoadModel, MeasurementChain, ModelConfig, measure, summarize, tissue
from simulator.model.geometry import NEEDLE_ROWS
from simulator.scpi.digitiser import CodeScale
from simulator.train import DeliveredTrain, TrainRequest

HV_PROBE = 1000.0  # load volts per input volt
CURRENT_PROBE = 0.1  # input volts per ampere


@dataclass(frozen=True, eq=False)
class Bench:
    raw: RawTrain
    telemetry: tuple[PulseTelemetry, ...]
    expectation: TrainExpectation
    train: DeliveredTrain


def _scale(full_scale: float, word: bool) -> CodeScale:
    """Zero near the bottom of the screen, `full_scale` about 80 % of the way up."""
    steps = 200 * (256 if word else 1)
    step = full_scale / steps
    if word:
        return CodeScale(step, 0x6000 * step, 0x8000, 0x0101, 0xFEFF, 0x0100, 0xFF00)
    return CodeScale(step, 0x60 * step, 0x80, 0x02, 0xFE, 0x01, 0xFF)


def _channel(volts: np.ndarray, scale: CodeScale, probe: float, word: bool) -> RawChannel:
    codes = scale.encode(volts).astype(np.uint16 if word else np.uint8)
    return RawChannel(
        codes,
        scale=scale.increment * probe,
        offset=scale.origin * probe,
        reference=scale.reference,
        clip_codes=(scale.clip_low, scale.clip_high),
    )


def bench(
    *faults: str,
    v: float = 400.0,
    count: int = 8,
    period_s: float = 200e-6,
    width_s: float = 100e-6,
    i_limit_a: float = 20.0,
    tissue_name: str = "tumour",
    current_range_a: float | None = None,
    word: bool = False,
    seed: int = 3,
) -> Bench:
    config = ModelConfig(tissue=tissue(tissue_name))
    model = LoadModel(config, seed, [parse_fault(f) for f in faults])
    train = model.deliver(TrainRequest(v, width_s, count, period_s, i_limit_a))
    i_pred_low = v * config.tissue.sigma0_s_per_m / NEEDLE_ROWS.cell_constant_per_m
    i_pred_high = v * config.tissue.sigma1_s_per_m / NEEDLE_ROWS.cell_constant_per_m
    v_range = 1.25 * v / HV_PROBE
    i_range = (current_range_a or 1.25 * i_limit_a) * CURRENT_PROBE
    ch1, ch2 = measure(
        train, MeasurementChain(), np.random.default_rng(seed), full_scale_v=(v_range, i_range)
    )
    raw = RawTrain(
        _channel(ch1, _scale(v_range, word), HV_PROBE, word),
        _channel(ch2, _scale(i_range, word), 1 / CURRENT_PROBE, word),
        dt_s=1 / train.fs_hz,
        t0_s=train.t0_s,
        time_tags_s=train.pulse_times_s - train.pulse_times_s[0],
    )
    telemetry = tuple(
        PulseTelemetry(
            train_id=1,
            pulse_idx=s.index,
            flags=s.flags,
            t_start_us=round(s.start_s * 1e6),
            width_us=s.width_s * 1e6,
            v_peak_v=s.v_peak_v,
            v_mean_v=s.v_mean_v,
            i_peak_a=s.i_peak_a,
            i_mean_a=s.i_mean_a,
            charge_uc=s.charge_c * 1e6,
            energy_j=s.energy_j,
            r_to_pulse_us=None,
        )
        for s in summarize(train, i_limit_a=i_limit_a)
        # After a trip the generator ends the train and reports no further pulses.
        if s.delivered or "MISSING" in s.flags
    )
    expectation = TrainExpectation(
        v_set_v=v,
        width_s=width_s,
        period_s=period_s,
        count=count,
        i_pred_low_a=i_pred_low,
        i_pred_high_a=i_pred_high,
        i_limit_a=i_limit_a,
    )
    return Bench(raw, telemetry, expectation, train)
