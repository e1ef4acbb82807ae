"""The bundled presets load, carry their sources and follow the standard protocol."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import protocols
from protocols import ProtocolError, list_needle_examples, list_presets, load_protocol

PRESET_IDS = ("esope-hexagonal", "esope-needle-rows", "esope-plates", "long-needles")


def test_the_four_presets_are_shipped() -> None:
    assert list_presets() == PRESET_IDS


@pytest.mark.parametrize("preset", PRESET_IDS)
def test_every_preset_loads_with_the_standard_train(preset: str) -> None:
    protocol = load_protocol(preset)
    assert protocol.id == preset  # the id inside the file matches its file name
    d = protocol.delivery
    # ESOPE 2006: 8 × 100 µs; Mali 2008: 5 kHz standard, 1 Hz allowed.
    assert (d.pulses_per_train, d.width_us, d.rate_hz) == (8, 100.0, 5000.0)
    assert set(d.allowed_rates_hz) == {5000.0, 1.0}
    assert protocol.sources, "every preset names its sources"


@pytest.mark.parametrize("preset", PRESET_IDS)
def test_file_text_and_hash_are_kept(preset: str) -> None:
    protocol = load_protocol(preset)
    raw = Path(protocol.source.path).read_bytes()
    assert protocol.source.text == raw.decode("utf-8")
    assert protocol.source.sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize(
    ("preset", "source"),
    [
        ("esope-plates", "ESOPE 2006"),
        ("esope-needle-rows", "ESOPE 2006"),
        ("esope-hexagonal", "Mali 2008"),
        ("long-needles", "Bertacchini 2007"),
    ],
)
def test_presets_cite_their_key_source(preset: str, source: str) -> None:
    assert any(source in s for s in load_protocol(preset).sources)


def test_field_ratios_follow_esope() -> None:
    assert load_protocol("esope-plates").delivery.field_v_per_cm == 1300.0
    for preset in ("esope-needle-rows", "esope-hexagonal", "long-needles"):
        assert load_protocol(preset).delivery.field_v_per_cm == 1000.0


def test_cutaneous_and_long_needle_current_limits() -> None:
    assert load_protocol("esope-plates").checks.i_max_a == 20.0
    assert load_protocol("long-needles").checks.i_max_a == 50.0


def test_long_needles_limits_ecg_and_drug() -> None:
    protocol = load_protocol("long-needles")
    assert protocol.limits.v_max_v == 3000.0
    assert protocol.limits.max_spacing_mm == 30.0
    assert protocol.ecg.gated and protocol.ecg.delay_ms == 50
    assert protocol.drug is not None
    assert (protocol.drug.agent, protocol.drug.route) == ("bleomycin", "iv")
    assert (
        protocol.drug.window_start_min,
        protocol.drug.warn_after_min,
        protocol.drug.window_end_min,
    ) == (8.0, 25.0, 28.0)


def test_checks_defaults_match_the_reference() -> None:
    checks = load_protocol("esope-needle-rows").checks.to_dict()
    assert checks == {
        "voltage_tolerance_pct": 10.0,
        "current_low_factor": 0.3,
        "current_high_factor": 3.0,
        "width_tolerance_pct": 5.0,
        "timing_tolerance_pct": 5.0,
        "crosscheck_tolerance_pct": 5.0,
        "no_ep_ratio": 1.05,
        "arc_voltage_fraction": 0.5,
        "current_margin_warn_pct": 80.0,
        "i_max_a": 20.0,
    }


def test_checks_table_may_be_omitted(tmp_path: Path) -> None:
    text = load_protocol("esope-needle-rows").source.text
    start = text.index("\n[checks]\n")
    end = text.index("\n[tissue]\n")
    path = tmp_path / "no-checks.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert load_protocol(path).checks == protocols.CheckThresholds()


def test_rate_override_is_applied_and_recorded() -> None:
    protocol = load_protocol("esope-hexagonal", rate_hz=1)
    assert protocol.delivery.rate_hz == 1.0
    assert protocol.delivery.period_us == 1_000_000.0
    assert dict(protocol.overrides) == {"rate_hz": 1}


def test_rate_override_outside_the_allowed_rates_is_refused() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_protocol("esope-hexagonal", rate_hz=2)
    assert caught.value.field == "delivery.allowed_rates_hz"
    assert "2 Hz" in caught.value.reason and "5000, 1" in caught.value.reason


def test_gap_override_for_plates_only() -> None:
    assert load_protocol("esope-plates").electrode.to_dict()["gap_mm"] == 6.0
    assert load_protocol("esope-plates", gap_mm=8).electrode.to_dict()["gap_mm"] == 8.0
    with pytest.raises(ProtocolError, match="plate electrodes only"):
        load_protocol("esope-hexagonal", gap_mm=8)
    with pytest.raises(ProtocolError) as caught:
        load_protocol("esope-plates", gap_mm=25)
    assert caught.value.field == "electrode.gap_mm"
    assert "25" in caught.value.reason and "10 mm" in caught.value.reason


def test_tissue_override() -> None:
    protocol = load_protocol("long-needles", tissue="liver")
    assert protocol.tissue == protocols.TISSUES["liver"]
    with pytest.raises(ProtocolError, match="brain"):
        load_protocol("long-needles", tissue="brain")


def test_a_path_works_as_well_as_an_id(tmp_path: Path) -> None:
    copy = tmp_path / "mine.toml"
    copy.write_text(load_protocol("esope-plates").source.text, encoding="utf-8")
    assert load_protocol(str(copy)).id == "esope-plates"
    assert load_protocol(copy).source.path == str(copy)


def test_example_needles_file_is_shipped() -> None:
    assert "example-4-needles" in list_needle_examples()
    needles = protocols.load_needles("example-4-needles")
    assert len(needles.needles) == 4
