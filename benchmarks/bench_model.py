"""How fast the load model and measurement chain produce a 5 kHz train.

The figure is the time to generate 2 channels × 8 pulses × 20 000 samples
(100 MS/s, a 200 µs window per pulse), `LoadModel.deliver` plus `measure`,
against the 1.6 ms the train lasts in reality. A second figure gives the
default 50 MS/s configuration the simulated bench runs with.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.figure import Figure
from simulator.model import LoadModel, MeasurementChain, ModelConfig
from simulator.model import measure as measure_chain
from simulator.train import TrainRequest

TRAIN = TrainRequest(amplitude_v=400.0, width_s=100e-6, count=8, period_s=200e-6, i_limit_a=50.0)
REAL_DURATION_S = TRAIN.count * TRAIN.period_s


def _median_time(config: ModelConfig, repeats: int) -> float:
    model = LoadModel(config, seed=1)
    chain = MeasurementChain()
    rng = np.random.default_rng(1)
    measure_chain(model.deliver(TRAIN), chain, rng)  # warm up caches and FFT plans
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        train = model.deliver(TRAIN)
        measure_chain(train, chain, rng)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(quick: bool) -> list[Figure]:
    repeats = 10 if quick else 60
    bench = ModelConfig(fs_hz=100e6, pre_s=20e-6, post_s=80e-6)
    assert round((bench.pre_s + TRAIN.width_s + bench.post_s) * bench.fs_hz) == 20_000
    figures = []
    for label, config in (
        ("model: 5 kHz train, 2 ch x 8 x 20000 samples", bench),
        ("model: 5 kHz train, default 50 MS/s", ModelConfig()),
    ):
        seconds = _median_time(config, repeats)
        figures.append(
            Figure(
                name=label,
                value=seconds * 1e3,
                unit="ms",
                bound=REAL_DURATION_S * 1e3,
                bound_label="real duration at 5 kHz",
                higher_is_better=False,
            )
        )
    return figures
