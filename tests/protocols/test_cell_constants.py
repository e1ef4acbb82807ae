"""Cell constants against closed forms written out here."""

from __future__ import annotations

import math

import pytest

from protocols import cell_constant


def test_equal_needles_reduce_to_arccosh_d_over_d() -> None:
    # ect-reference §6: K = arccosh(D/d) / (π·L) for equal diameters.
    expected = math.acosh(4.0 / 0.7) / (math.pi * 0.010)
    assert cell_constant.needle_pair(4.0, 0.7, 0.7, 10.0) == pytest.approx(expected)


def test_far_apart_needles_approach_the_log_form() -> None:
    # D ≫ d: K ≈ ln(2D/d) / (π·L)
    exact = cell_constant.needle_pair(200.0, 0.5, 0.5, 10.0)
    assert exact == pytest.approx(math.log(2 * 200.0 / 0.5) / (math.pi * 0.010), rel=1e-5)


def test_unequal_needles_sit_between_the_equal_cases() -> None:
    thin = cell_constant.needle_pair(10.0, 0.5, 0.5, 20.0)
    thick = cell_constant.needle_pair(10.0, 1.5, 1.5, 20.0)
    mixed = cell_constant.needle_pair(10.0, 0.5, 1.5, 20.0)
    assert thick < mixed < thin


def test_touching_needles_have_no_cell_constant() -> None:
    with pytest.raises(ValueError):
        cell_constant.needle_pair(1.0, 1.0, 1.0, 10.0)


def test_plates_and_rows() -> None:
    assert cell_constant.plates(10.0, 100.0, 1.0) == pytest.approx(100.0)  # g/A = 0.01/1e-4
    assert cell_constant.needle_rows(50.0, 10.0, 20.0) == pytest.approx(25.0)  # 1/L
