from __future__ import annotations

import numpy as np
import pytest

from simulator.model.gate import edge_duration, render_gate

FS = 500e6
RISE = 2e-6
FALL = 3e-6


def _gate(start: float, fall_centre: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(round(60e-6 * FS)) / FS - 10e-6
    g, dg = render_gate(
        t,
        np.array([True, False]),
        np.array([start, 0.0]),
        np.array([fall_centre, 0.0]),
        edge_duration(RISE),
        edge_duration(FALL),
    )
    return t, g, dg


def _crossing(t: np.ndarray, y: np.ndarray, level: float, rising: bool) -> float:
    if rising:
        i = int(np.argmax(y >= level))
        return float(np.interp(level, y[i - 1 : i + 1], t[i - 1 : i + 1]))
    i = int(len(y) - 1 - np.argmax(y[::-1] >= level))
    return float(np.interp(level, y[i + 1 : i - 1 : -1], t[i + 1 : i - 1 : -1]))


def test_edges_have_the_set_10_90_times_and_50_percent_points() -> None:
    t, g, _ = _gate(1e-6, 31e-6)
    row = g[0]
    assert _crossing(t, row, 0.9, True) - _crossing(t, row, 0.1, True) == pytest.approx(
        RISE, rel=2e-3
    )
    assert _crossing(t, row, 0.1, False) - _crossing(t, row, 0.9, False) == pytest.approx(
        FALL, rel=2e-3
    )
    assert _crossing(t, row, 0.5, True) == pytest.approx(1e-6, abs=5e-9)
    assert _crossing(t, row, 0.5, False) == pytest.approx(31e-6, abs=5e-9)


def test_area_equals_width_and_slope_integrates_to_the_gate() -> None:
    _, g, dg = _gate(1e-6, 31e-6)
    assert g[0].sum() / FS == pytest.approx(30e-6, rel=1e-4)
    rebuilt = np.cumsum(dg[0]) / FS
    assert np.max(np.abs(rebuilt - g[0])) < 2e-3
    assert not g[1].any() and not dg[1].any()


def test_edges_that_overlap_still_give_a_bounded_continuous_gate() -> None:
    _, g, dg = _gate(1e-6, 2e-6)  # 1 µs pulse, edges of several µs
    row = g[0]
    assert row.min() >= 0.0 and row.max() <= 1.0
    assert 0.1 < row.max() < 1.0
    assert np.max(np.abs(np.diff(row))) < 0.01
    assert np.cumsum(dg[0])[-1] / FS == pytest.approx(0.0, abs=1e-6)
