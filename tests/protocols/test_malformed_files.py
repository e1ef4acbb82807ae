"""Malformed protocol and needles files: each error names the file, the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols import ProtocolError, load_needles, load_protocol

BASE_PROTOCOL = """\
# a small valid protocol the cases below break one way each
[protocol]
id = "test-rows"
version = "1"
title = "Two rows for tests"
sources = ["ESOPE 2006"]

[delivery]
field_v_per_cm = 1000.0
pulses_per_train = 8
width_us = 100.0
rate_hz = 5000.0
allowed_rates_hz = [5000.0, 1.0]

[electrode]
kind = "needle-rows"
needles_per_row = 4
row_spacing_mm = 4.0
needle_pitch_mm = 2.0
needle_diameter_mm = 0.7
active_length_mm = 10.0
cell_constant_per_m = 50.0
cell_constant_length_mm = 10.0

[limits]
v_max_v = 3000.0

[checks]
i_max_a = 20.0

[tissue]
name = "tumour"

[ecg]
gated = false
delay_ms = 50

[drug]
agent = "bleomycin"
route = "iv"
window_start_min = 8.0
warn_after_min = 25.0
window_end_min = 28.0
"""

BASE_NEEDLES = """\
[needles]
diameter_mm = 1.2
active_length_mm = 20.0

[[needle]]
id = "A"
x_mm = 0.0
y_mm = 0.0

[[needle]]
id = "B"
x_mm = 10.0
y_mm = 0.0

[[pair]]
a = "A"
b = "B"
"""


def _edit(base: str, old: str, new: str) -> str:
    assert old in base, f"test setup: {old!r} not in the base file"
    return base.replace(old, new, 1)


def _line(text: str, marker: str | None, occurrence: int = 1) -> int | None:
    """1-based line of the `occurrence`-th line containing `marker` (worked out here, not by
    the code under test)."""
    if marker is None:
        return None
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"test setup: marker {marker!r} not found")


# (case id, edit old, edit new, expected field, marker of the expected line, words in the reason)
PROTOCOL_CASES = [
    ("syntax", "width_us = 100.0", "width_us = 100.0 us", None, "width_us", ["syntax"]),
    (
        "unknown-key",
        "width_us = 100.0",
        "width_us = 100.0\nwidht_us = 100.0",
        "delivery.widht_us",
        "widht_us",
        ["unknown", "width_us"],
    ),
    (
        "missing-key",
        "pulses_per_train = 8\n",
        "",
        "delivery.pulses_per_train",
        "[delivery]",
        ["missing"],
    ),
    (
        "wrong-type",
        "width_us = 100.0",
        'width_us = "100"',
        "delivery.width_us",
        "width_us",
        ["string", "µs"],
    ),
    (
        "out-of-range",
        "field_v_per_cm = 1000.0",
        "field_v_per_cm = 5000.0",
        "delivery.field_v_per_cm",
        "field_v_per_cm",
        ["5000", "3000"],
    ),
    (
        "float-count",
        "pulses_per_train = 8",
        "pulses_per_train = 8.0",
        "delivery.pulses_per_train",
        "pulses_per_train",
        ["whole number"],
    ),
    ("nan", "width_us = 100.0", "width_us = nan", "delivery.width_us", "width_us", ["nan"]),
    (
        "rate-not-allowed",
        "rate_hz = 5000.0",
        "rate_hz = 50.0",
        "delivery.rate_hz",
        "rate_hz",
        ["50 Hz", "5000, 1"],
    ),
    (
        "width-does-not-fit",
        "width_us = 100.0",
        "width_us = 300.0",
        "delivery.width_us",
        "width_us",
        ["300", "200 µs"],
    ),
    (
        "repeated-rate",
        "allowed_rates_hz = [5000.0, 1.0]",
        "allowed_rates_hz = [5000.0, 5000.0]",
        "delivery.allowed_rates_hz",
        "allowed_rates_hz",
        ["twice"],
    ),
    (
        "polarity",
        "allowed_rates_hz = [5000.0, 1.0]",
        'allowed_rates_hz = [5000.0, 1.0]\npolarity = "bipolar"',
        "delivery.polarity",
        "polarity",
        ["'a-positive'", "'alternate'"],
    ),
    (
        "unknown-kind",
        'kind = "needle-rows"',
        'kind = "paddles"',
        "electrode.kind",
        "kind",
        ["paddles", "'hexagonal'"],
    ),
    (
        "field-of-other-kind",
        "row_spacing_mm = 4.0",
        "row_spacing_mm = 4.0\ngap_mm = 6.0",
        "electrode.gap_mm",
        "gap_mm",
        ["unknown", "needle-rows"],
    ),
    (
        "spacing-beyond-limits",
        "row_spacing_mm = 4.0",
        "row_spacing_mm = 40.0",
        "electrode.row_spacing_mm",
        "row_spacing_mm",
        ["40", "30 mm"],
    ),
    (
        "needles-touch",
        "row_spacing_mm = 4.0\nneedle_pitch_mm = 2.0\nneedle_diameter_mm = 0.7",
        "row_spacing_mm = 2.5\nneedle_pitch_mm = 2.0\nneedle_diameter_mm = 3.0",
        "electrode.needle_diameter_mm",
        "needle_diameter_mm",
        ["touch"],
    ),
    (
        "max-spacing-vs-voltage",
        "v_max_v = 3000.0",
        "v_max_v = 3000.0\nmax_spacing_mm = 40.0",
        "limits.max_spacing_mm",
        "max_spacing_mm",
        ["4000 V", "30 mm"],
    ),
    ("missing-table", "[limits]\nv_max_v = 3000.0\n", "", "limits", None, ["missing", "[limits]"]),
    (
        "unknown-table",
        "[checks]",
        "[extras]\nnote = 1\n\n[checks]",
        "extras",
        "[extras]",
        ["unknown", "delivery"],
    ),
    (
        "checks-unknown",
        "i_max_a = 20.0",
        "i_max_a = 20.0\nvoltage_tolerance = 0.1",
        "checks.voltage_tolerance",
        "voltage_tolerance =",
        ["unknown", "voltage_tolerance_pct"],
    ),
    (
        "checks-range",
        "i_max_a = 20.0",
        "i_max_a = 20.0\ncurrent_high_factor = 0.5",
        "checks.current_high_factor",
        "current_high_factor",
        ["0.5", "1 to 20"],
    ),
    (
        "checks-negative-current",
        "i_max_a = 20.0",
        "i_max_a = -5",
        "checks.i_max_a",
        "i_max_a",
        ["-5", "A"],
    ),
    (
        "tissue-unknown",
        'name = "tumour"',
        'name = "brain"',
        "tissue.name",
        'name = "brain"',
        ["brain", "'liver'"],
    ),
    (
        "tissue-inverted",
        'name = "tumour"',
        'name = "tumour"\nsigma0_s_per_m = 0.5\nsigma1_s_per_m = 0.2',
        "tissue.sigma1_s_per_m",
        "sigma1_s_per_m",
        ["0.2", "below"],
    ),
    (
        "ecg-delay",
        "delay_ms = 50",
        "delay_ms = 150",
        "ecg.delay_ms",
        "delay_ms",
        ["150", "20 to 100"],
    ),
    ("ecg-gated-type", "gated = false", 'gated = "yes"', "ecg.gated", "gated", ["true or false"]),
    ("drug-route", 'route = "iv"', 'route = "im"', "drug.route", "route", ["'im'", "'iv'"]),
    (
        "drug-dose-unit",
        'route = "iv"',
        'route = "iv"\ndose_mg_per_cm3 = 1.0',
        "drug.dose_mg_per_cm3",
        "dose_mg_per_cm3",
        ["dose_iu_per_m2"],
    ),
    (
        "drug-warn-outside",
        "warn_after_min = 25.0",
        "warn_after_min = 30.0",
        "drug.warn_after_min",
        "warn_after_min",
        ["30", "8 to 28"],
    ),
    (
        "drug-window-reversed",
        "window_end_min = 28.0",
        "window_end_min = 5.0",
        "drug.window_end_min",
        "window_end_min",
        ["5 min", "8 min"],
    ),
    (
        "protocol-id",
        'id = "test-rows"',
        'id = "Test Rows"',
        "protocol.id",
        'id = "Test Rows"',
        ["lower-case"],
    ),
    (
        "no-sources",
        'sources = ["ESOPE 2006"]',
        "sources = []",
        "protocol.sources",
        "sources",
        ["at least 1"],
    ),
    (
        "table-as-value",
        "# a small valid protocol the cases below break one way each\n[protocol]",
        'protocol = "esope"',
        "protocol",
        'protocol = "esope"',
        ["[protocol] table", "string"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "marker", "words"),
    [case[1:] for case in PROTOCOL_CASES],
    ids=[case[0] for case in PROTOCOL_CASES],
)
def test_malformed_protocol_names_file_field_and_line(
    tmp_path: Path, old: str, new: str, field: str | None, marker: str | None, words: list[str]
) -> None:
    text = _edit(BASE_PROTOCOL, old, new)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    error = caught.value
    message = str(error)
    assert error.path == str(path)
    assert str(path) in message
    assert error.field == field
    if field:
        assert field in message
    assert error.line == _line(text, marker)
    if error.line is not None:
        assert f"{path}:{error.line}:" in message
    for word in words:
        assert word in error.reason, f"{word!r} missing from: {error.reason}"


def test_the_base_protocol_is_valid(tmp_path: Path) -> None:
    # Every malformed case above differs from this file by one edit only.
    path = tmp_path / "ok.toml"
    path.write_text(BASE_PROTOCOL, encoding="utf-8")
    assert load_protocol(path).id == "test-rows"


def test_repeated_key_points_at_the_repeat(tmp_path: Path) -> None:
    text = _edit(BASE_PROTOCOL, "width_us = 100.0", "width_us = 100.0\nwidth_us = 200.0")
    path = tmp_path / "twice.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert caught.value.line == _line(text, "width_us = 200.0")
    assert "syntax" in caught.value.reason


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    raw = BASE_PROTOCOL.replace('title = "Two rows for tests"', 'title = "caf\xe9"').encode(
        "latin-1"
    )
    path = tmp_path / "latin1.toml"
    path.write_bytes(raw)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert caught.value.line == _line(BASE_PROTOCOL, "title =")
    assert "UTF-8" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ProtocolError, match="no such file") as caught:
        load_protocol(path)
    assert caught.value.path == str(path)


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_protocol("esope-paddles")
    assert "esope-paddles" in str(caught.value)
    assert "esope-plates" in str(caught.value)


# (case id, edit old, edit new, expected field, marker of the expected line and which occurrence)
NEEDLE_CASES = [
    ("missing-x", "x_mm = 10.0\n", "", "needle[2].x_mm", ("[[needle]]", 2), ["missing"]),
    ("duplicate-id", 'id = "B"', 'id = "A"', "needle[2].id", ('id = "A"', 2), ["twice"]),
    (
        "diameter-range",
        '[[needle]]\nid = "A"',
        '[[needle]]\nid = "A"\ndiameter_mm = 12.0',
        "needle[1].diameter_mm",
        ("diameter_mm = 12.0", 1),
        ["12", "0.1 to 3 mm"],
    ),
    ("unknown-pair-id", 'a = "A"', 'a = "Z"', "pair[1].a", ('a = "Z"', 1), ["'Z'", "'A'", "'B'"]),
    (
        "unknown-needle-field",
        "y_mm = 0.0",
        "y_mm = 0.0\nr_mm = 1.0",
        "needle[1].r_mm",
        ("r_mm = 1.0", 1),
        ["unknown", "x_mm"],
    ),
    (
        "one-needle",
        '[[needle]]\nid = "B"\nx_mm = 10.0\ny_mm = 0.0\n',
        "",
        "needle",
        ("[[needle]]", 1),
        ["at least 2"],
    ),
    (
        "no-default-diameter",
        "diameter_mm = 1.2\n",
        "",
        "needle[1].diameter_mm",
        ("[[needle]]", 1),
        ["[needles]"],
    ),
    (
        "coordinate-type",
        "x_mm = 10.0",
        'x_mm = "10"',
        "needle[2].x_mm",
        ('x_mm = "10"', 1),
        ["string", "mm"],
    ),
    (
        "coordinate-typo",
        "x_mm = 10.0",
        "x_mm = 10000.0",
        "needle[2].x_mm",
        ("x_mm = 10000.0", 1),
        ["10000", "-1000 to 1000"],
    ),
    ("pair-self", 'b = "B"', 'b = "A"', "pair[1].b", ('b = "A"', 1), ["two different"]),
    (
        "bad-id",
        'id = "B"',
        'id = "B needle"',
        "needle[2].id",
        ('id = "B needle"', 1),
        ["letters, digits"],
    ),
    (
        "needles-table-unknown",
        "active_length_mm = 20.0",
        "active_length_mm = 20.0\nlength_mm = 20.0",
        "needles.length_mm",
        ("length_mm = 20.0", 2),
        ["unknown"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "marker", "words"),
    [case[1:] for case in NEEDLE_CASES],
    ids=[case[0] for case in NEEDLE_CASES],
)
def test_malformed_needles_file_names_file_field_and_line(
    tmp_path: Path,
    old: str,
    new: str,
    field: str,
    marker: tuple[str, int],
    words: list[str],
) -> None:
    text = _edit(BASE_NEEDLES, old, new)
    path = tmp_path / "needles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_needles(path)
    error = caught.value
    assert error.path == str(path)
    assert error.field == field
    assert error.line == _line(text, *marker)
    assert f"{path}:{error.line}: {field}:" in str(error)
    for word in words:
        assert word in error.reason, f"{word!r} missing from: {error.reason}"


def test_repeated_pair_is_refused(tmp_path: Path) -> None:
    text = BASE_NEEDLES + '\n[[pair]]\na = "B"\nb = "A"\n'
    path = tmp_path / "needles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_needles(path)
    assert caught.value.field == "pair[2].b"
    assert caught.value.line == _line(text, 'b = "A"')
    assert "twice" in caught.value.reason


def test_the_base_needles_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(BASE_NEEDLES, encoding="utf-8")
    needles = load_needles(path)
    assert [n.id for n in needles.needles] == ["A", "B"]
    assert needles.pairs == (("A", "B"),)
