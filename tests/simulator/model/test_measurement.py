"""The measurement chain: probe scale, bandwidth, current-probe droop, noise and skew."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulator.model import LoadModel, MeasurementChain, ModelConfig, Pair, measure, tissue
from simulator.model.config import GeneratorParams
from simulator.train import DeliveredTrain
from tests.simulator.model.conftest import FIVE_KHZ, ONE_HZ, axis, plateau, request

QUIET = MeasurementChain(noise_fraction=0.0, noise_floor_v=0.0)
# Bone does not electroporate, so its current is a clean rectangle to measure.
BONE = ModelConfig(
    tissue=tissue("cortical-bone"),
    pairs={(0, 1): Pair(1.0, 4e-3)},
    generator=GeneratorParams(jitter_rms_s=0.0),
)


@pytest.fixture(scope="module")
def tumour_train() -> DeliveredTrain:
    return LoadModel(ModelConfig()).deliver(request(400.0))


@pytest.fixture(scope="module")
def bone_train() -> DeliveredTrain:
    return LoadModel(BONE).deliver(request(100.0, period_s=FIVE_KHZ, i_limit_a=0.0))


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_probes_scale_the_plateau(tumour_train: DeliveredTrain) -> None:
    ch1, ch2 = measure(tumour_train, QUIET, rng())
    assert ch1.shape == ch2.shape == tumour_train.voltage_v.shape
    assert plateau(tumour_train, ch1) == pytest.approx(
        plateau(tumour_train, tumour_train.voltage_v) / 1000.0, rel=1e-3
    )
    # The current probe droops 0.5 %/ms, and by pulse 8 it has carried 0.8 ms of current.
    assert plateau(tumour_train, ch2) == pytest.approx(
        plateau(tumour_train, tumour_train.current_a) * 0.1, rel=5e-3
    )


def test_bandwidth_is_a_first_order_lag(bone_train: DeliveredTrain) -> None:
    corner = 200e3  # τ = 0.8 µs, slow enough to see on a 3.4 µs edge
    slow = dataclasses.replace(QUIET, current_bandwidth_hz=corner)
    _, ch2 = measure(bone_train, slow, rng())
    a = math.exp(-2 * math.pi * corner / bone_train.fs_hz)
    state, lagged = 0.0, []
    for x in bone_train.current_a[0] * 0.1:
        state = a * state + (1 - a) * x
        lagged.append(state)
    expected = np.array(lagged)
    assert np.max(np.abs(ch2[0] - expected)) < 0.01 * np.max(np.abs(expected))
    # The lag is large enough that ignoring it would fail the comparison above.
    assert np.max(np.abs(expected - bone_train.current_a[0] * 0.1)) > 0.05 * np.max(expected)


def test_current_probe_droops_within_a_pulse_and_along_the_train(
    bone_train: DeliveredTrain,
) -> None:
    tau = 1e-3  # a weak transformer: 0.1 %/µs
    chain = dataclasses.replace(QUIET, current_droop_tau_s=tau)
    _, ch2 = measure(bone_train, chain, rng())
    t = axis(bone_train)
    # Rebuild the train as one contiguous record (at 5 kHz the windows abut) and run the
    # transformer's recurrence over it sample by sample.
    assert bone_train.voltage_v.shape[1] / bone_train.fs_hz == pytest.approx(FIVE_KHZ)
    _, ideal = measure(bone_train, dataclasses.replace(QUIET, current_droop_tau_s=1e9), rng())
    record = ideal.reshape(-1)
    a = math.exp(-1 / (bone_train.fs_hz * tau))
    core = np.empty_like(record)
    state = 0.0
    for n, x in enumerate(record):
        state = a * state + (1 - a) * x
        core[n] = state
    expected = (record - core).reshape(ch2.shape)
    assert np.allclose(ch2, expected, atol=1e-6 * np.max(np.abs(record)))
    # And the consequences an operator would see: sag inside the pulse, undershoot after it.
    w = bone_train.request.width_s
    sag = np.interp(0.9 * w, t, ch2[0]) / np.interp(0.1 * w, t, ch2[0])
    assert sag == pytest.approx(math.exp(-0.8 * w / tau), rel=0.01)
    assert ch2[1, 0] < -0.05 * plateau(bone_train, ideal)[0]


def test_noise_is_seeded_and_sized_by_the_full_scale(tumour_train: DeliveredTrain) -> None:
    chain = MeasurementChain()
    a1, a2 = measure(tumour_train, chain, rng(1))
    b1, b2 = measure(tumour_train, chain, rng(1))
    c1, _ = measure(tumour_train, chain, rng(2))
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)
    assert not np.array_equal(a1, c1)
    clean1, _ = measure(tumour_train, QUIET, rng(1))
    pre = axis(tumour_train) < -2e-6
    noise = (a1 - clean1)[:, pre]
    assert np.std(noise) == pytest.approx(0.005 * np.max(np.abs(clean1)), rel=0.05)
    given1, _ = measure(tumour_train, chain, rng(1), full_scale_v=(2.0, 1.0))
    assert np.std((given1 - clean1)[:, pre]) == pytest.approx(0.01, rel=0.05)


def test_a_silent_channel_still_shows_the_noise_floor() -> None:
    train = LoadModel(ModelConfig()).deliver(request(0.0, count=2))
    chain = MeasurementChain(noise_floor_v=2e-4)
    ch1, ch2 = measure(train, chain, rng())
    assert np.std(ch1) == pytest.approx(2e-4, rel=0.05)
    assert np.std(ch2) == pytest.approx(2e-4, rel=0.05)


@pytest.mark.parametrize("skew", [40e-9, -25e-9])
def test_skew_delays_the_current_channel(bone_train: DeliveredTrain, skew: float) -> None:
    _, straight = measure(bone_train, QUIET, rng())
    _, skewed = measure(bone_train, dataclasses.replace(QUIET, skew_s=skew), rng())
    t = axis(bone_train)

    def half_crossing(row: np.ndarray) -> float:
        level = 0.5 * plateau(bone_train, row[None, :])[0]
        k = int(np.argmax(row > level))
        return float(np.interp(level, row[k - 1 : k + 1], t[k - 1 : k + 1]))

    shift = half_crossing(skewed[0]) - half_crossing(straight[0])
    assert shift == pytest.approx(skew, abs=1e-9)


def test_one_hertz_windows_do_not_carry_droop(tumour_train: DeliveredTrain) -> None:
    train = LoadModel(ModelConfig()).deliver(request(400.0, period_s=ONE_HZ, count=2))
    chain = dataclasses.replace(QUIET, current_droop_tau_s=1e-3)
    _, ch2 = measure(train, chain, rng())
    # A second apart, the core has forgotten the first pulse (e^-1000).
    assert abs(ch2[1, 0]) < 1e-9


def test_bad_chain_is_refused() -> None:
    with pytest.raises(ValueError, match="current_probe_v_per_a"):
        MeasurementChain(current_probe_v_per_a=0.0)
