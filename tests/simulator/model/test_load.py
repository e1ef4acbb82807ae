"""Sanity properties of simulator-model §7 that hold at model level."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulator.model import GeneratorParams, LoadModel, ModelConfig, Pair, tissue
from tests.simulator.model.conftest import FIVE_KHZ, ONE_HZ, at, axis, plateau, request

TUMOUR_ROWS = ModelConfig()  # tumour, two needle rows 4 mm apart (K 50 1/m)


def test_standard_train_gives_a_few_amperes_rising_pulse_after_pulse() -> None:
    # ect-reference §6, whole linear array at 400 V: 2–3 A before, 5–7.5 A once electroporated.
    train = LoadModel(TUMOUR_ROWS).deliver(request(400.0))
    i = plateau(train, train.current_a)
    assert train.n_delivered == 8 and not train.tripped
    assert np.all((i > 2.0) & (i < 7.5))
    assert i[-1] > i[0]
    # The very start of pulse 1 still sees intact tissue: V/(K/σ0 + R_out).
    start = at(train, train.current_a[:1], 0.3e-6 + 1.7e-6)[0]
    assert 1.5 < start < 4.0


@pytest.mark.parametrize(("period", "low", "high"), [(ONE_HZ, 1.05, 1.20), (FIVE_KHZ, 1.10, 1.30)])
def test_above_threshold_current_rises_within_and_across_pulses(
    period: float, low: float, high: float
) -> None:
    train = LoadModel(TUMOUR_ROWS).deliver(request(400.0, period_s=period))  # 1000 V/cm
    w = train.request.width_s
    i10 = at(train, train.current_a, 0.1 * w)
    i90 = at(train, train.current_a, 0.9 * w)
    assert np.all(i90 > i10)
    # Conductance, so the bank's droop at 5 kHz does not hide the tissue's change.
    g = plateau(train, train.current_a) / plateau(train, train.voltage_v)
    assert low <= g[-1] / g[0] <= high


def test_below_threshold_current_is_flat_within_two_percent() -> None:
    # 160 V over 4 mm = 400 V/cm... so use 64 V: 160 V/cm, 0.4 of tumour's E_rev.
    train = LoadModel(TUMOUR_ROWS).deliver(request(64.0, period_s=ONE_HZ))
    w = train.request.width_s
    i10 = at(train, train.current_a, 0.1 * w)
    i90 = at(train, train.current_a, 0.9 * w)
    assert np.all(np.abs(i90 / i10 - 1.0) < 0.02)
    i = plateau(train, train.current_a)
    assert abs(i[-1] / i[0] - 1.0) < 0.02


def test_far_below_threshold_plateau_resistance_is_k_over_sigma0() -> None:
    config = TUMOUR_ROWS
    train = LoadModel(config).deliver(request(20.0, count=2, period_s=ONE_HZ))
    r = plateau(train, train.voltage_v) / plateau(train, train.current_a)
    expected = config.pairs[(0, 1)].cell_constant_per_m / config.tissue.sigma0_s_per_m
    assert r == pytest.approx(np.full(2, expected), rel=0.01)


def test_electroporated_resistance_stays_within_the_conductivity_range() -> None:
    config = TUMOUR_ROWS
    train = LoadModel(config).deliver(request(400.0))
    r = plateau(train, train.voltage_v) / plateau(train, train.current_a)
    k = config.pairs[(0, 1)].cell_constant_per_m
    t = config.tissue
    # σ lies between σ0 and σ1 with its pulse-number gain (β 0.15) and a little heating.
    assert np.all(r <= k / t.sigma0_s_per_m)
    assert np.all(r >= k / (t.sigma1_s_per_m * 1.15 * 1.05))


def test_five_kilohertz_conducts_at_least_as_well_as_one_hertz() -> None:
    fast = LoadModel(TUMOUR_ROWS).deliver(request(400.0, period_s=FIVE_KHZ))
    slow = LoadModel(TUMOUR_ROWS).deliver(request(400.0, period_s=ONE_HZ))
    g_fast = plateau(fast, fast.current_a) / plateau(fast, fast.voltage_v)
    g_slow = plateau(slow, slow.current_a) / plateau(slow, slow.voltage_v)
    assert g_fast[0] == pytest.approx(g_slow[0], rel=1e-3)
    assert np.all(g_fast[1:] >= g_slow[1:])
    # Between pulses at 5 kHz almost nothing relaxes: pulse 2 starts far above pulse 1.
    start_fast = at(fast, fast.current_a, 1.5e-6) / at(fast, fast.voltage_v, 1.5e-6)
    start_slow = at(slow, slow.current_a, 1.5e-6) / at(slow, slow.voltage_v, 1.5e-6)
    assert start_fast[1] > start_slow[1] * 1.1


def test_relaxation_depends_on_the_gap_given_by_pulse_times() -> None:
    def second_pulse_start(gap: float) -> float:
        times = (0.0, gap)
        train = LoadModel(TUMOUR_ROWS).deliver(request(400.0, count=2, pulse_times_s=times))
        assert np.array_equal(train.pulse_times_s, np.array(times))
        return float(at(train, train.current_a[1:], 1.5e-6)[0])

    assert second_pulse_start(200e-6) > second_pulse_start(10e-3) > second_pulse_start(100.0)


def test_tissue_remembers_earlier_trains() -> None:
    model = LoadModel(TUMOUR_ROWS)
    first = model.deliver(request(400.0, start_s=0.0))
    second = model.deliver(request(400.0, start_s=2.0))
    fresh = LoadModel(TUMOUR_ROWS).deliver(request(400.0, start_s=2.0))
    early = 1.5e-6
    assert at(second, second.current_a[:1], early)[0] > at(first, first.current_a[:1], early)[0]
    assert np.allclose(fresh.current_a, first.current_a)


def test_droop_with_recharge_off_follows_t_over_rc() -> None:
    # simulator-model §7.8: 2 % per pulse at 50 Ω and 100 µF. Bone does not electroporate,
    # K = 1 1/m makes it 50 Ω, and R_out 0 leaves the whole bank voltage on the load.
    generator = GeneratorParams(bank_f=100e-6, recharge_tau_s=math.inf, r_out_ohm=0.0)
    config = ModelConfig(
        tissue=tissue("cortical-bone"), pairs={(0, 1): Pair(1.0, 4e-3)}, generator=generator
    )
    train = LoadModel(config).deliver(request(100.0, period_s=ONE_HZ, i_limit_a=0.0))
    v = plateau(train, train.voltage_v)
    ratio = v[1:] / v[:-1]
    assert ratio == pytest.approx(np.full(7, math.exp(-100e-6 / (50.0 * 100e-6))), abs=1e-3)
    assert 0.12 < 1 - v[-1] / v[0] < 0.16
    # Within a pulse the plateau falls by the same law.
    w = train.request.width_s
    inside = at(train, train.voltage_v, 0.9 * w) / at(train, train.voltage_v, 0.1 * w)
    assert inside == pytest.approx(np.full(8, math.exp(-0.8 * w / 5e-3)), abs=1e-3)


def test_bank_recharges_between_one_hertz_pulses() -> None:
    train = LoadModel(TUMOUR_ROWS).deliver(request(400.0, period_s=ONE_HZ))
    v_start = at(train, train.voltage_v, 3e-6)
    assert np.ptp(v_start[1:]) < 0.005 * 400.0


def test_trip_stops_the_current_and_suppresses_the_rest() -> None:
    # 400 V into tumour draws about 6 A: a 4 A limit trips during pulse 1 or 2.
    config = TUMOUR_ROWS
    train = LoadModel(config).deliver(request(400.0, i_limit_a=4.0))
    assert train.tripped
    k = int(np.flatnonzero(["OC" in f for f in train.flags])[0])
    t = axis(train)
    row = train.current_a[k]
    first_over = float(t[np.argmax(np.abs(row) > 4.0)])
    gen = config.generator
    fall_done = first_over + gen.trip_latency_s + gen.fall_s / 0.59 + 1e-6
    assert np.max(np.abs(row[t > fall_done])) < 0.02 * np.max(np.abs(row))
    assert np.all(train.delivered[: k + 1]) and not np.any(train.delivered[k + 1 :])
    assert not np.any(train.current_a[k + 1 :]) and not np.any(train.voltage_v[k + 1 :])


def test_charge_and_energy_match_plateau_times_width() -> None:
    train = LoadModel(TUMOUR_ROWS).deliver(request(400.0))
    w = train.request.width_s
    charge = train.current_a.sum(axis=1) / train.fs_hz
    energy = (train.voltage_v * train.current_a).sum(axis=1) / train.fs_hz
    i = plateau(train, train.current_a)
    v = plateau(train, train.voltage_v)
    assert charge == pytest.approx(i * w, rel=0.05)
    assert energy == pytest.approx(v * i * w, rel=0.05)


def test_same_seed_is_bit_identical_and_another_changes_only_the_jitter() -> None:
    a = LoadModel(TUMOUR_ROWS, seed=11).deliver(request(400.0))
    b = LoadModel(TUMOUR_ROWS, seed=11).deliver(request(400.0))
    c = LoadModel(TUMOUR_ROWS, seed=12).deliver(request(400.0))
    assert np.array_equal(a.voltage_v, b.voltage_v) and np.array_equal(a.current_a, b.current_a)
    assert not np.array_equal(a.voltage_v, c.voltage_v)
    steady = dataclasses.replace(TUMOUR_ROWS, generator=GeneratorParams(jitter_rms_s=0.0))
    d = LoadModel(steady, seed=11).deliver(request(400.0))
    e = LoadModel(steady, seed=12).deliver(request(400.0))
    assert np.array_equal(d.current_a, e.current_a)


def test_polarity_and_pair_order_set_the_sign() -> None:
    base = LoadModel(TUMOUR_ROWS).deliver(request(400.0, count=1))
    flipped = LoadModel(TUMOUR_ROWS).deliver(request(400.0, count=1, polarity=1))
    reversed_pair = LoadModel(TUMOUR_ROWS).deliver(request(400.0, count=1, pair=(1, 0)))
    both = LoadModel(TUMOUR_ROWS).deliver(request(400.0, count=1, pair=(1, 0), polarity=1))
    assert np.array_equal(flipped.voltage_v, -base.voltage_v)
    assert np.array_equal(reversed_pair.current_a, -base.current_a)
    assert np.array_equal(both.current_a, base.current_a)


def test_pairs_keep_their_own_tissue_state() -> None:
    pairs = {(0, 1): Pair(50.0, 4e-3), (2, 3): Pair(50.0, 4e-3)}
    steady = GeneratorParams(jitter_rms_s=0.0)
    model = LoadModel(dataclasses.replace(TUMOUR_ROWS, pairs=pairs, generator=steady))
    first = model.deliver(request(400.0, pair=(0, 1)))
    other = model.deliver(request(400.0, pair=(2, 3), start_s=0.01))
    early = 1.5e-6
    assert at(other, other.current_a[:1], early)[0] == pytest.approx(
        at(first, first.current_a[:1], early)[0], rel=0.01
    )


def test_unknown_pair_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown electrode pair \(2, 5\).*\(0, 1\)"):
        LoadModel(TUMOUR_ROWS).deliver(request(400.0, pair=(2, 5)))


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"width_s": 0.0}, "width_s"),
        ({"count": -1}, "count"),
        ({"polarity": 2}, "polarity"),
        ({"count": 3, "pulse_times_s": (0.0, 1.0)}, "pulse_times_s has 2 times for count 3"),
    ],
)
def test_bad_requests_name_the_field(changes: dict[str, object], text: str) -> None:
    with pytest.raises(ValueError, match=text):
        LoadModel(TUMOUR_ROWS).deliver(dataclasses.replace(request(400.0), **changes))  # type: ignore[arg-type]


def test_empty_train_has_no_rows_and_window_follows_the_width() -> None:
    model = LoadModel(TUMOUR_ROWS)
    empty = model.deliver(request(400.0, count=0))
    assert empty.voltage_v.shape[0] == 0 and empty.n_delivered == 0
    long = model.deliver(request(400.0, count=1, width_s=300e-6))
    config = TUMOUR_ROWS
    expected = round((config.pre_s + 300e-6 + config.post_s) * config.fs_hz)
    assert long.voltage_v.shape == (1, expected)
    assert long.t0_s == pytest.approx(-config.pre_s)
