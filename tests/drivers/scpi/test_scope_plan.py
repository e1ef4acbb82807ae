"""Screen layout: the expected peak and the time window always fit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.scpi.scope_plan import (
    at_least_125,
    plan_horizontal,
    plan_vertical,
    points_needed,
)

magnitudes = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)


@given(magnitudes, st.sampled_from([1, -1]), st.sampled_from([8, 10]), st.booleans())
def test_zero_and_the_expected_peak_are_on_screen(size, sign, divisions, steps) -> None:
    v = plan_vertical(sign * size, divisions, steps_125=steps)
    # Mirror a negative layout so one set of checks serves both signs.
    center = sign * v.center
    bottom = center - v.scale * divisions / 2
    top = center + v.scale * divisions / 2
    assert bottom < 0 < top
    assert top >= size * 1.1 * (1 - 1e-9)  # the peak with its headroom fits
    assert top <= size * 1.1 * (2.5 if steps else 1) * (1 + 1e-9)  # range not wasted


@given(
    st.floats(min_value=0, max_value=1e-2),
    st.floats(min_value=1e-7, max_value=1.0),
    st.sampled_from([10, 12]),
    st.booleans(),
)
def test_window_is_covered(pre, post, divisions, steps) -> None:
    h = plan_horizontal(pre, post, divisions, steps_125=steps)
    left = h.center - h.scale * divisions / 2
    right = h.center + h.scale * divisions / 2
    assert left == pytest.approx(-pre, abs=1e-15 + 1e-12 * pre)
    assert right >= post - 1e-12 * (pre + post)


@pytest.mark.parametrize(
    ("value", "step"),
    [(1.0, 1.0), (1.01, 2.0), (157.1, 200.0), (3.14, 5.0), (16.7e-6, 20e-6), (6e-9, 1e-8)],
)
def test_at_least_125(value: float, step: float) -> None:
    assert at_least_125(value) == pytest.approx(step)


@given(st.floats(min_value=1e-12, max_value=1e12))
def test_125_step_is_not_below_and_within_two_and_a_half(value: float) -> None:
    step = at_least_125(value)
    assert value * (1 - 1e-9) <= step <= value * 2.5 * (1 + 1e-9)
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert round(mantissa, 6) in (1.0, 2.0, 5.0)


def test_points_needed_ignores_float_noise() -> None:
    assert points_needed(50e6, (10e-6 + 190e-6) / 10 * 10) == 10_000
    assert points_needed(1e6, 1.0000001e-3) == 1001


@pytest.mark.parametrize("bad", [0.0, math.nan, math.inf])
def test_impossible_full_scale_is_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        plan_vertical(bad, 8)


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_horizontal(1e-6, 0.0, 10)
