"""Each model-level fault leaves its own signature (simulator-model §6) and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.faults import parse_faults
from simulator.model import LoadModel, ModelConfig, summarize
from simulator.train import DeliveredTrain
from tests.simulator.model.conftest import FIVE_KHZ, ONE_HZ, axis, plateau, request

CONFIG = ModelConfig()


def deliver(*specs: str, seed: int = 0, **kw: object) -> DeliveredTrain:
    return LoadModel(CONFIG, seed=seed, faults=parse_faults(specs)).deliver(request(400.0, **kw))


@pytest.fixture(scope="module")
def healthy() -> DeliveredTrain:
    return deliver()


def test_a_healthy_train_has_no_flags(healthy: DeliveredTrain) -> None:
    assert not healthy.tripped and healthy.n_delivered == 8
    assert all(not f for f in healthy.flags)
    assert all(not s.flags for s in summarize(healthy))


def test_faults_of_other_parts_leave_the_load_alone(healthy: DeliveredTrain) -> None:
    other = deliver("link-drop:rate=0.5", "scope-timeout@2", "ecg-none", "clip")
    assert np.array_equal(other.current_a, healthy.current_a)
    assert np.array_equal(other.voltage_v, healthy.voltage_v)


def test_open_circuit_shows_full_voltage_and_only_edge_spikes(healthy: DeliveredTrain) -> None:
    train = deliver("open")
    i = plateau(train, train.current_a)
    assert np.all(np.abs(i) < 0.02 * plateau(healthy, healthy.current_a))
    assert plateau(train, train.voltage_v) == pytest.approx(np.full(8, 400.0), rel=0.005)
    t = axis(train)
    edge = np.abs(t) < 3e-6
    assert np.all(np.abs(train.current_a[:, edge]).max(axis=1) > 20 * np.abs(i))
    assert not train.tripped and all(not f for f in train.flags)


def test_poor_contact_cuts_the_current_to_five_to_ten_percent(healthy: DeliveredTrain) -> None:
    train = deliver("poor-contact")
    share = plateau(train, train.current_a) / plateau(healthy, healthy.current_a)
    assert np.all((share >= 0.05) & (share <= 0.105))
    # Drawn per pulse: more scatter from pulse to pulse than a healthy contact.
    assert np.std(np.diff(share)) > 0.01
    assert not train.tripped


def test_poor_contact_with_a_given_resistance_puts_it_in_series() -> None:
    train = deliver("poor-contact:ohm=2000", period_s=ONE_HZ)
    r = plateau(train, train.voltage_v) / plateau(train, train.current_a)
    tumour_r = CONFIG.pairs[(0, 1)].cell_constant_per_m / CONFIG.tissue.sigma0_s_per_m
    # R_c is drawn in 0.5..1.5 of 2 kΩ; the tissue adds at most K/σ0.
    assert np.all((r > 1000.0) & (r < 3000.0 + tumour_r))


def test_short_trips_at_once() -> None:
    train = deliver("short")
    assert train.tripped and train.n_delivered == 1
    assert train.flags[0] == frozenset({"OC"})
    stats = summarize(train)[0]
    assert stats.i_peak_a >= 50.0
    assert stats.width_s < 10e-6
    # The load voltage is what the current makes across a few ohms.
    k = int(np.argmax(np.abs(train.current_a[0])))
    assert train.voltage_v[0, k] / train.current_a[0, k] == pytest.approx(3.0, rel=0.1)


def test_overcurrent_crosses_the_limit_late_in_its_pulse(healthy: DeliveredTrain) -> None:
    train = deliver("overcurrent@5")
    assert train.tripped and list(train.delivered) == [True] * 5 + [False] * 3
    assert np.allclose(train.current_a[:4], healthy.current_a[:4], rtol=1e-9, atol=1e-9)
    assert train.flags[4] == frozenset({"OC"})
    t = axis(train)
    first_over = t[np.argmax(np.abs(train.current_a[4]) > 50.0)]
    assert 0.5 * 100e-6 < first_over < 100e-6
    assert summarize(train)[4].width_s < 100e-6  # truncated


def test_arc_collapses_the_voltage_and_ramps_the_current() -> None:
    train = deliver("arc@3:v=60,us=50", period_s=ONE_HZ)
    assert train.tripped and train.n_delivered == 3
    assert "ARC" in train.flags[2] and not train.flags[1]
    t = axis(train)
    v, i = train.voltage_v[2], train.current_a[2]
    assert np.interp(49e-6, t, v) > 300.0
    assert 20.0 < np.interp(50.7e-6, t, v) < 100.0  # collapsed within 0.5 µs
    slope = (np.interp(51.5e-6, t, i) - np.interp(50.5e-6, t, i)) / 1e-6
    assert 10e6 <= slope <= 100e6  # 10–100 A/µs
    assert np.max(np.abs(i)) >= 50.0
    assert not np.any(train.current_a[3:])


def test_missing_pulse_leaves_an_empty_slot(healthy: DeliveredTrain) -> None:
    train = deliver("missing@4")
    assert list(train.delivered) == [True, True, True, False, True, True, True, True]
    assert train.flags[3] == frozenset({"MISSING"}) and not train.tripped
    assert not np.any(train.voltage_v[3])
    assert np.array_equal(train.current_a[:3], healthy.current_a[:3])
    stats = summarize(train)
    assert not stats[3].delivered and "MISSING" in stats[3].flags


def test_pulse_faults_without_a_number_hit_the_last_pulse() -> None:
    train = deliver("missing")
    assert list(train.delivered) == [True] * 7 + [False]


def test_jitter_breaks_a_five_percent_width_and_timing_check() -> None:
    train = deliver("jitter")
    stats = summarize(train)
    widths = np.array([s.width_s for s in stats])
    assert np.all(np.abs(widths / 100e-6 - 1.0) > 0.05)
    offsets = np.array([s.start_s for s in stats]) - train.pulse_times_s
    assert np.max(np.abs(offsets)) > 0.05 * FIVE_KHZ
    assert any("LATE" in f for f in train.flags)


def test_droop_is_noticed_by_a_ten_percent_voltage_check() -> None:
    train = deliver("droop", period_s=ONE_HZ)
    stats = summarize(train, v_tolerance=0.10)
    assert "UV" not in stats[0].flags
    assert "UV" in stats[-1].flags
    v = plateau(train, train.voltage_v)
    assert np.all(np.diff(v) < 0)


def test_one_fault_leaves_the_other_random_streams_alone() -> None:
    # Jitter has its own stream: switching poor contact on does not move the pulses.
    alone = summarize(deliver("jitter", seed=5))
    with_contact = summarize(deliver("jitter", "poor-contact", seed=5))
    other_seed = summarize(deliver("jitter", seed=6))
    starts = np.array([s.start_s for s in alone])
    assert np.allclose([s.start_s for s in with_contact], starts, atol=50e-9)
    assert not np.allclose([s.start_s for s in other_seed], starts, atol=1e-6)


def test_bad_fault_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="ohm must be > 0"):
        LoadModel(CONFIG, faults=parse_faults(["short:ohm=0"]))
