"""The firmware's per-pulse summary, on hand-made trapezoids with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model import LoadModel, ModelConfig, summarize
from simulator.train import DeliveredTrain
from tests.simulator.model.conftest import request

FS = 10e6
PRE = 20e-6
WIDTH = 100e-6


def trapezoid(t: np.ndarray, start: float, width: float, edge: float = 1e-6) -> np.ndarray:
    """0 → 1 linear edges of `edge` centred on start and start + width."""
    rise = np.clip((t - start) / edge + 0.5, 0.0, 1.0)
    fall = np.clip((start + width - t) / edge + 0.5, 0.0, 1.0)
    return np.minimum(rise, fall)


def make_train(
    v: list[float],
    i: list[float],
    *,
    starts: list[float] | None = None,
    widths: list[float] | None = None,
    delivered: list[bool] | None = None,
    flags: list[frozenset[str]] | None = None,
    amplitude: float = 400.0,
    limit: float = 50.0,
) -> DeliveredTrain:
    n = len(v)
    t = np.arange(round((PRE + WIDTH + 80e-6) * FS)) / FS - PRE
    starts = starts or [0.0] * n
    widths = widths or [WIDTH] * n
    shape = np.stack([trapezoid(t, s, w) for s, w in zip(starts, widths, strict=True)])
    delivered_arr = np.array(delivered if delivered is not None else [True] * n)
    shape[~delivered_arr] = 0.0
    return DeliveredTrain(
        request=request(amplitude, count=n, i_limit_a=limit),
        fs_hz=FS,
        t0_s=-PRE,
        pulse_times_s=np.arange(n) * 200e-6 + 5.0,
        voltage_v=shape * np.array(v)[:, None],
        current_a=shape * np.array(i)[:, None],
        delivered=delivered_arr,
        flags=tuple(flags or [frozenset()] * n),
        tripped=False,
    )


def test_a_clean_pulse_gives_its_own_numbers() -> None:
    (s,) = summarize(make_train([400.0], [5.0], starts=[3e-6]))
    assert s.delivered and s.index == 0
    assert s.start_s == pytest.approx(5.0 + 3e-6, abs=1e-9)
    assert s.width_s == pytest.approx(WIDTH, abs=1e-9)
    assert (s.v_peak_v, s.v_mean_v) == (pytest.approx(400.0), pytest.approx(400.0))
    assert (s.i_peak_a, s.i_mean_a) == (pytest.approx(5.0), pytest.approx(5.0))
    assert s.charge_c == pytest.approx(5.0 * WIDTH, rel=1e-3)
    # Linear 1 µs edges centred on the 50 % points: each gives T/3 where a step gives T/2.
    assert s.energy_j == pytest.approx(2000.0 * (WIDTH - 1e-6 / 3), rel=1e-3)
    assert s.i_10_a == pytest.approx(5.0) and s.i_90_a == pytest.approx(5.0)
    assert not s.flags


def test_negative_polarity_keeps_its_sign() -> None:
    (s,) = summarize(make_train([-400.0], [-5.0]))
    assert s.v_peak_v == pytest.approx(-400.0) and s.i_mean_a == pytest.approx(-5.0)
    assert s.charge_c < 0 and s.energy_j > 0
    assert "UV" not in s.flags


def test_flags_undervoltage_overcurrent_and_clip() -> None:
    train = make_train([350.0, 380.0, 400.0], [5.0, 60.0, 9.0])
    low, high, clipped = summarize(train, v_tolerance=0.10, i_full_scale_a=8.0)
    assert low.flags == frozenset({"UV"})  # 350 < 360
    assert high.flags == frozenset({"OC", "CLIP"})  # 60 A over the request's 50 A
    assert clipped.flags == frozenset({"CLIP"})
    (relaxed,) = summarize(make_train([350.0], [5.0]), v_tolerance=0.15)
    assert not relaxed.flags
    (own_limit,) = summarize(make_train([400.0], [30.0]), i_limit_a=25.0)
    assert own_limit.flags == frozenset({"OC"})


def test_empty_slots_report_zeros_and_keep_the_train_flags() -> None:
    train = make_train(
        [400.0, 400.0],
        [5.0, 5.0],
        delivered=[True, False],
        flags=[frozenset(), frozenset({"MISSING"})],
    )
    _, empty = summarize(train)
    assert not empty.delivered
    assert empty.flags == frozenset({"MISSING"})
    assert (empty.width_s, empty.v_mean_v, empty.charge_c) == (0.0, 0.0, 0.0)
    assert empty.start_s == pytest.approx(5.0 + 200e-6)


def test_a_truncated_pulse_is_averaged_over_what_it_lasted() -> None:
    (s,) = summarize(make_train([400.0], [20.0], widths=[30e-6]))
    assert s.width_s == pytest.approx(30e-6, abs=1e-9)
    assert s.v_mean_v == pytest.approx(400.0) and s.i_mean_a == pytest.approx(20.0)
    assert s.i_90_a == pytest.approx(0.0)  # 90 % of the set width is past the end


def test_model_train_summary_agrees_with_the_waveform() -> None:
    train = LoadModel(ModelConfig()).deliver(request(400.0))
    stats = summarize(train)
    assert [s.index for s in stats] == list(range(8))
    for s in stats:
        assert s.width_s == pytest.approx(100e-6, rel=0.01)
        assert s.charge_c == pytest.approx(s.i_mean_a * s.width_s, rel=0.05)
        assert s.energy_j == pytest.approx(s.v_mean_v * s.i_mean_a * s.width_s, rel=0.05)
        assert s.i_90_a > s.i_10_a
