"""Thresholds: defaults, the protocol's [checks] table, and refusals that say what is accepted."""

from __future__ import annotations

import pytest

from pulsehost.checks import ThresholdError, Thresholds

FULL_TABLE = {
    "voltage_tolerance_pct": 8,
    "current_low_factor": 0.25,
    "current_high_factor": 2.5,
    "width_tolerance_pct": 4,
    "timing_tolerance_pct": 3,
    "crosscheck_tolerance_pct": 6,
    "no_ep_ratio": 1.1,
    "arc_voltage_fraction": 0.4,
    "current_margin_warn_pct": 75,
    "i_max_a": 30,
}


def test_defaults_are_the_reference_estimates() -> None:
    t = Thresholds()
    assert (t.voltage_tolerance, t.current_low_factor, t.current_high_factor) == (0.10, 0.3, 3.0)
    assert (t.width_tolerance, t.timing_tolerance, t.crosscheck_tolerance) == (0.05, 0.05, 0.05)
    assert (t.no_ep_ratio, t.arc_voltage_fraction, t.i_max_a) == (1.05, 0.5, 20.0)
    assert t.current_margin_warn == 0.80


def test_table_percentages_become_fractions() -> None:
    t = Thresholds.from_table(FULL_TABLE)
    assert t.voltage_tolerance == pytest.approx(0.08)
    assert t.width_tolerance == pytest.approx(0.04)
    assert t.timing_tolerance == pytest.approx(0.03)
    assert t.crosscheck_tolerance == pytest.approx(0.06)
    assert t.current_margin_warn == pytest.approx(0.75)
    assert (t.current_low_factor, t.current_high_factor) == (0.25, 2.5)
    assert (t.no_ep_ratio, t.arc_voltage_fraction, t.i_max_a) == (1.1, 0.4, 30.0)


def test_missing_keys_keep_their_defaults() -> None:
    t = Thresholds.from_table({"i_max_a": 50})
    assert t.i_max_a == 50.0
    assert t.voltage_tolerance == Thresholds().voltage_tolerance


def test_unknown_key_names_the_table_and_the_accepted_keys() -> None:
    with pytest.raises(ThresholdError) as caught:
        Thresholds.from_table({"voltage_tolerance": 10}, where="plates.toml [checks]")
    text = str(caught.value)
    assert "plates.toml [checks]" in text
    assert "'voltage_tolerance'" in text
    assert "voltage_tolerance_pct" in text and "i_max_a" in text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("voltage_tolerance_pct", 0),
        ("voltage_tolerance_pct", 150),
        ("current_low_factor", 1.5),
        ("current_high_factor", 0.5),
        ("i_max_a", -1),
        ("no_ep_ratio", 0.9),
        ("width_tolerance_pct", "5"),
        ("timing_tolerance_pct", True),
        ("arc_voltage_fraction", float("nan")),
    ],
)
def test_bad_values_are_refused_with_the_key(key: str, value: object) -> None:
    with pytest.raises(ThresholdError, match=key):
        Thresholds.from_table({key: value})


def test_inconsistent_factors_are_refused() -> None:
    with pytest.raises(ThresholdError, match="current_low_factor"):
        Thresholds(current_low_factor=0.01)  # below the open-circuit factor
