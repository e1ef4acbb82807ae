"""How numbers, times and ranges read in the session views."""

from __future__ import annotations

import math

import pytest

from pulsehost.journal.precision import (
    MISSING,
    band,
    duration,
    fixed,
    keyed,
    label_of,
    measured,
    offset,
    ranges,
    setting,
    unit_of,
    utc_text,
)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (388.128, "V", "388.1"),
        (5.29878, "A", "5.30"),
        (99.98765, "µs", "100.0"),
        (73.349, "Ω", "73.3"),
        (0.218707, "J", "0.219"),
        (521.64, "µC", "521.6"),
        (21.213203, "mm", "21.2"),
        (-0.04, "V", "0.0"),  # never "-0.0"
        (-3.456, "A", "-3.46"),
        (7, "V", "7.0"),
    ],
)
def test_measured_values_have_the_decimals_of_their_unit(
    value: float, unit: str, text: str
) -> None:
    assert measured(value, unit) == text


@pytest.mark.parametrize("value", [None, "388", True, math.nan, math.inf, [1.0]])
def test_what_is_not_a_number_reads_as_a_dash(value: object) -> None:
    assert fixed(value, 2) == MISSING and measured(value, "V") == MISSING
    assert setting(value) == MISSING


@pytest.mark.parametrize(
    ("value", "text"),
    [(1500.0, "1500"), (2121, "2121"), (0.5, "0.5"), (7.3, "7.3"), (1.0625, "1.062")],
)
def test_a_setting_reads_as_set(value: float, text: str) -> None:
    assert setting(value) == text


@pytest.mark.parametrize(
    ("key", "unit", "label"),
    [
        ("voltage_v", "V", "voltage"),
        ("hv_bank_v", "V", "hv bank"),
        ("current_a", "A", "current"),
        ("resistance_ohm", "Ω", "resistance"),
        ("charge_uc", "µC", "charge"),
        ("width_us", "µs", "width"),
        ("field_v_per_cm", "V/cm", "field"),
        ("current_probe_v_per_a", "V/A", "current probe"),
        ("voltage_tolerance_pct", "%", "voltage tolerance"),
        ("rate_hz", "Hz", "rate"),
        ("train", None, "train"),
    ],
)
def test_units_and_labels_come_from_key_suffixes(key: str, unit: str | None, label: str) -> None:
    assert unit_of(key) == unit
    assert label_of(key) == label


def test_keyed_values_carry_their_unit_and_precision() -> None:
    assert keyed("hv_bank_v", 0.12) == "0.1\u202fV"
    assert keyed("current_a", 6.0734) == "6.07\u202fA"
    assert keyed("latched", True) == "yes"
    assert keyed("frames_sent", 480) == "480"
    assert keyed("pair", [0, 1]) == "0, 1"
    assert keyed("reason", None) == MISSING


def test_bands_times_and_ranges() -> None:
    assert band(2.266, 5.667) == "2.3–5.7"
    assert band(5.08, 6.04, 2) == "5.08–6.04"
    assert band(3.0, 3.04) == "3.0"
    assert band(None, 2.0) == MISSING
    assert duration(0.8) == "0.8 s" and duration(42.4) == "42 s"
    assert duration(185) == "3 min 05 s" and duration(3720) == "1 h 02 min"
    assert duration(None) == MISSING and duration(-1) == MISSING
    assert offset(0.0251) == "+0:00.025" and offset(83.5) == "+1:23.500"
    assert offset(3725.0) == "+1:02:05" and offset(None) == MISSING
    assert ranges([3, 1, 2, 5, 7, 8]) == "1–3, 5, 7–8" and ranges([]) == ""
    assert utc_text("2025-03-03T11:06:40.123456Z") == "2025-03-03 11:06:40 UTC"
    assert utc_text("2025-03-03T12:06:40+01:00", date=False) == "11:06:40 UTC"
    assert utc_text("yesterday") == "yesterday"
