"""Plans: trains, pairs, voltages and predicted currents for every electrode kind."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from pathlib import Path

import pytest

from protocols import (
    PlanRefused,
    ProtocolError,
    load_needles,
    load_protocol,
    make_plan,
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _needles_file(tmp_path: Path, points: list[tuple[str, float, float]], **size: float) -> Path:
    diameter = size.get("diameter_mm", 1.2)
    length = size.get("active_length_mm", 20.0)
    lines = [f"[needles]\ndiameter_mm = {diameter}\nactive_length_mm = {length}\n"]
    for needle_id, x, y in points:
        lines.append(f'[[needle]]\nid = "{needle_id}"\nx_mm = {x}\ny_mm = {y}\n')
    return _write(tmp_path, "needles.toml", "\n".join(lines))


def _with_tissue(tmp_path: Path, preset: str, sigma0: float, sigma1: float, **edits: str) -> Path:
    """A copy of a preset assuming a custom tissue (and optional line edits)."""
    text = load_protocol(preset).source.text
    start = text.index("[tissue]")
    end = text.index("\n[", start + 1) if "\n[" in text[start + 1 :] else len(text)
    block = f'[tissue]\nname = "custom"\nsigma0_s_per_m = {sigma0}\nsigma1_s_per_m = {sigma1}\n'
    text = text[:start] + block + text[end:]
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new)
    return _write(tmp_path, "protocol.toml", text)


def test_linear_needle_rows_one_train_of_eight_at_400_v() -> None:
    plan = make_plan(load_protocol("esope-needle-rows"))
    assert len(plan.trains) == 1
    train = plan.trains[0]
    assert (train.a, train.b, train.pulses, train.voltage_v) == (0, 1, 8, 400.0)
    assert (train.width_us, train.rate_hz, train.period_us) == (100.0, 5000.0, 200.0)
    assert train.distance_mm == 4.0
    assert train.polarity == 0


def test_linear_array_current_within_the_worked_values() -> None:
    # ect-reference §6, whole linear array, K 40-60 m⁻¹: 130-200 Ω, 2-3 → 5-7.5 A.
    train = make_plan(load_protocol("esope-needle-rows")).trains[0]
    assert 130.0 <= train.predicted_resistance_ohm <= 200.0
    assert 2.0 <= train.predicted_current_a_min <= 3.0
    assert 5.0 <= train.predicted_current_a_max <= 7.5


def test_hexagonal_twelve_neighbouring_pairs_in_order_at_730_v() -> None:
    plan = make_plan(load_protocol("esope-hexagonal"))
    labels = [(t.a_label, t.b_label) for t in plan.trains]
    expected: list[tuple[str, str]] = []
    for k in range(1, 7):  # each spoke, then the rim edge after it (docs/protocols.md)
        expected += [("C", str(k)), (str(k), str(k % 6 + 1))]
    assert labels == expected
    assert all(t.voltage_v == 730.0 and t.pulses == 8 for t in plan.trains)
    assert plan.total_pulses == 96
    # The pairs are exactly the neighbours: every pair of needles 7.3 mm apart, no other.
    position = {e.label: (e.x_mm, e.y_mm) for e in plan.electrodes}
    assert len(position) == 7
    neighbours = {
        frozenset((p, q))
        for p, q in itertools.combinations(position, 2)
        if math.isclose(math.dist(position[p], position[q]), 7.3, rel_tol=1e-6)  # type: ignore[arg-type]
    }
    assert {frozenset(pair) for pair in labels} == neighbours


def test_hexagonal_sequence_fits_the_published_duration() -> None:
    # Mali 2008: ≈200 ms for the hexagonal sequence at 5 kHz; pulses alone take 12 × 1.5 ms.
    plan = make_plan(load_protocol("esope-hexagonal"))
    assert sum(t.duration_ms for t in plan.trains) < 200.0


def test_hexagonal_pair_resistance_matches_the_worked_value(tmp_path: Path) -> None:
    # ect-reference §6: hexagonal neighbour pair, 0.7/7.3/10 mm, σ 0.2 → 0.5: 483 Ω, 1.5 → 3.8 A.
    plan = make_plan(load_protocol(_with_tissue(tmp_path, "esope-hexagonal", 0.2, 0.5)))
    train = plan.trains[0]
    assert train.predicted_resistance_ohm == pytest.approx(483, rel=0.01)
    assert train.predicted_current_a_min == pytest.approx(1.5, abs=0.05)
    assert train.predicted_current_a_max == pytest.approx(3.8, abs=0.05)


def test_four_mm_needle_pair_current_band(tmp_path: Path) -> None:
    # ect-reference §6: needle pair 0.7/4/10 mm in tumour (σ 0.3 → 0.75) at 400 V:
    # 258 Ω, 1.6 → 3.9 A.
    needles = load_needles(
        _needles_file(tmp_path, [("A", 0, 0), ("B", 4, 0)], diameter_mm=0.7, active_length_mm=10)
    )
    plan = make_plan(load_protocol("long-needles"), needles)
    (train,) = plan.trains
    assert train.voltage_v == 400.0
    assert train.predicted_resistance_ohm == pytest.approx(258, rel=0.01)
    assert 1.5 <= train.predicted_current_a_min <= 1.7
    assert 3.8 <= train.predicted_current_a_max <= 4.0


def test_long_needles_worked_tumour_case(tmp_path: Path) -> None:
    # ect-reference §6: long needles 1.2/20/30 mm, σ 0.2 → 0.5, 2000 V: 186 Ω, 11 → 27 A.
    needles = load_needles(
        _needles_file(tmp_path, [("A", 0, 0), ("B", 20, 0)], active_length_mm=30)
    )
    plan = make_plan(load_protocol(_with_tissue(tmp_path, "long-needles", 0.2, 0.5)), needles)
    (train,) = plan.trains
    assert train.voltage_v == 2000.0
    assert train.predicted_resistance_ohm == pytest.approx(186, rel=0.01)
    assert train.predicted_current_a_min == pytest.approx(11, abs=0.5)
    assert train.predicted_current_a_max == pytest.approx(27, abs=0.5)
    assert plan.warnings == ()


def test_long_needles_wide_pair_warns_near_the_current_cap(tmp_path: Path) -> None:
    # ect-reference §6: 1.2/25/30 mm, σ 0.3 → 0.75, 2500 V: 132 Ω, 19 → ≈47 A (near the cap).
    needles = load_needles(
        _needles_file(tmp_path, [("A", 0, 0), ("B", 25, 0)], active_length_mm=30)
    )
    plan = make_plan(load_protocol("long-needles"), needles)
    (train,) = plan.trains
    assert train.predicted_resistance_ohm == pytest.approx(132, rel=0.01)
    assert train.predicted_current_a_max == pytest.approx(47, abs=1.0)
    (warning,) = plan.warnings
    assert warning.code == "current-margin"
    assert warning.pair == ("A", "B")
    assert "50 A" in warning.message


def test_cortical_bone_current_is_small_and_flat(tmp_path: Path) -> None:
    # ect-reference §6: same needles in intact cortex (σ 0.02, no rise): ≈2 kΩ, ≈1.3 A flat.
    needles = load_needles(
        _needles_file(tmp_path, [("A", 0, 0), ("B", 25, 0)], active_length_mm=30)
    )
    (train,) = make_plan(load_protocol("long-needles", tissue="cortical-bone"), needles).trains
    assert 1800 <= train.predicted_resistance_ohm <= 2200
    assert train.predicted_current_a_min == pytest.approx(1.3, abs=0.1)
    assert train.predicted_current_a_min == train.predicted_current_a_max


def test_plates_worked_value(tmp_path: Path) -> None:
    # ect-reference §6: plates 1 cm², 10 mm gap, no skin, σ 0.3 → 0.75 at 1300 V:
    # 333 Ω, 3.9 → 9.8 A; that value has no fringing, so set the factor to 1.
    path = _with_tissue(
        tmp_path,
        "esope-plates",
        0.3,
        0.75,
        **{"gap_mm = 6.0": "gap_mm = 10.0", "fringing_factor = 0.75": "fringing_factor = 1.0"},
    )
    (train,) = make_plan(load_protocol(path)).trains
    assert train.voltage_v == 1300.0
    assert train.predicted_resistance_ohm == pytest.approx(333, rel=0.01)
    # The reference rounds to two figures (9.75 A is listed as 9.8).
    assert train.predicted_current_a_min == pytest.approx(3.9, rel=0.01)
    assert train.predicted_current_a_max == pytest.approx(9.8, rel=0.01)


def test_plates_voltage_follows_the_gap() -> None:
    assert make_plan(load_protocol("esope-plates")).trains[0].voltage_v == 780.0
    assert make_plan(load_protocol("esope-plates", gap_mm=8)).trains[0].voltage_v == 1040.0


def test_long_needles_example_every_pair_within_30_mm() -> None:
    needles = load_needles("example-4-needles")
    plan = make_plan(load_protocol("long-needles"), needles)
    position = {n.id: (n.x_mm, n.y_mm) for n in needles.needles}
    expected_pairs = set(itertools.combinations(sorted(position), 2))
    assert {(t.a_label, t.b_label) for t in plan.trains} == expected_pairs
    for train in plan.trains:
        distance = math.dist(position[train.a_label], position[train.b_label])
        assert distance <= 30.0
        assert train.distance_mm == pytest.approx(distance)
        assert abs(train.voltage_v - 100.0 * distance) <= 0.5  # 1000 V/cm = 100 V/mm
        assert train.voltage_v <= 3000.0
        assert train.pulses == 8
        assert train.predicted_current_a_max <= 50.0
    assert plan.ecg.gated
    assert plan.drug is not None


def test_listed_pairs_are_treated_in_the_listed_order(tmp_path: Path) -> None:
    text = (
        "[needles]\ndiameter_mm = 1.2\nactive_length_mm = 20.0\n"
        + "".join(
            f'[[needle]]\nid = "{n}"\nx_mm = {x}\ny_mm = 0.0\n'
            for n, x in (("A", 0), ("B", 10), ("C", 40))
        )
        + '[[pair]]\na = "B"\nb = "C"\n[[pair]]\na = "A"\nb = "B"\n'
    )
    plan = make_plan(load_protocol("long-needles"), load_needles(_write(tmp_path, "n.toml", text)))
    assert [(t.a_label, t.b_label, t.voltage_v) for t in plan.trains] == [
        ("B", "C", 3000.0),
        ("A", "B", 1000.0),
    ]
    assert [(t.a, t.b) for t in plan.trains] == [(1, 2), (0, 1)]


def test_pair_needing_more_than_3000_v_is_refused_naming_the_pair(tmp_path: Path) -> None:
    needles = load_needles(_needles_file(tmp_path, [("A", 0, 0), ("B", 12, 0), ("FAR", 0, 31)]))
    with pytest.raises(PlanRefused) as caught:
        make_plan(load_protocol("long-needles"), needles)
    refused = caught.value
    assert refused.path == str(tmp_path / "needles.toml")
    far = [p for p in refused.problems if p.pair == ("A", "FAR")]
    assert len(far) == 1
    assert far[0].code == "pair-too-far"
    assert "A–FAR" in far[0].message and "3100 V" in far[0].message
    assert "3000 V" in far[0].message and "30 mm" in far[0].message
    assert "A–FAR" in str(refused)
    # B–FAR is 33.3 mm away: refused too; A–B (12 mm) is not a problem.
    assert {p.pair for p in refused.problems} == {("A", "FAR"), ("B", "FAR")}


def test_voltage_above_the_protocol_limit_is_refused(tmp_path: Path) -> None:
    # A protocol whose spacing allows more than its voltage limit cannot load; a higher
    # field at the same spacing can: 1500 V/cm × 25 mm = 3750 V > 3000 V.
    text = load_protocol("long-needles").source.text
    text = text.replace("field_v_per_cm = 1000.0", "field_v_per_cm = 1500.0")
    text = text.replace("max_spacing_mm = 30.0", "max_spacing_mm = 20.0")
    protocol = load_protocol(_write(tmp_path, "p.toml", text))
    needles = load_needles(_needles_file(tmp_path, [("A", 0, 0), ("B", 19, 0)]))
    assert make_plan(protocol, needles).trains[0].voltage_v == 2850.0
    far = load_needles(_needles_file(tmp_path, [("A", 0, 0), ("B", 21, 0)]))
    with pytest.raises(PlanRefused) as caught:
        make_plan(protocol, far)
    (problem,) = caught.value.problems
    assert problem.code == "pair-too-far"
    assert "3150 V" in problem.message


def test_needles_too_close_are_refused(tmp_path: Path) -> None:
    needles = load_needles(_needles_file(tmp_path, [("A", 0, 0), ("B", 1.5, 0), ("C", 10, 0)]))
    with pytest.raises(PlanRefused) as caught:
        make_plan(load_protocol("long-needles"), needles)
    close = [p for p in caught.value.problems if p.code == "needles-too-close"]
    assert [p.pair for p in close] == [("A", "B")]
    assert "1.5 mm" in close[0].message and "2 mm" in close[0].message


def test_too_many_needles_are_refused(tmp_path: Path) -> None:
    points = [(f"N{i}", 5.0 * i, 0.0) for i in range(7)]
    text = "[needles]\ndiameter_mm = 1.2\nactive_length_mm = 20.0\n" + "".join(
        f'[[needle]]\nid = "{n}"\nx_mm = {x}\ny_mm = {y}\n' for n, x, y in points
    )
    text += '[[pair]]\na = "N0"\nb = "N1"\n'
    with pytest.raises(PlanRefused) as caught:
        make_plan(load_protocol("long-needles"), load_needles(_write(tmp_path, "n.toml", text)))
    (problem,) = caught.value.problems
    assert problem.code == "needle-count"
    assert "7 needles" in problem.message and "2 to 6" in problem.message


def test_needles_whose_active_parts_do_not_overlap_are_refused(tmp_path: Path) -> None:
    text = (
        "[needles]\ndiameter_mm = 1.2\nactive_length_mm = 10.0\n"
        '[[needle]]\nid = "A"\nx_mm = 0.0\ny_mm = 0.0\nz_mm = 0.0\n'
        '[[needle]]\nid = "B"\nx_mm = 10.0\ny_mm = 0.0\nz_mm = 15.0\n'
    )
    with pytest.raises(PlanRefused) as caught:
        make_plan(load_protocol("long-needles"), load_needles(_write(tmp_path, "n.toml", text)))
    assert [p.code for p in caught.value.problems] == ["no-overlap"]


def test_partial_overlap_uses_the_overlap_and_warns(tmp_path: Path) -> None:
    text = (
        "[needles]\ndiameter_mm = 1.2\nactive_length_mm = 20.0\n"
        '[[needle]]\nid = "A"\nx_mm = 0.0\ny_mm = 0.0\nz_mm = 0.0\n'
        '[[needle]]\nid = "B"\nx_mm = 10.0\ny_mm = 0.0\nz_mm = 10.0\n'
    )
    plan = make_plan(load_protocol("long-needles"), load_needles(_write(tmp_path, "n.toml", text)))
    (full,) = make_plan(
        load_protocol("long-needles"),
        load_needles(_needles_file(tmp_path, [("A", 0, 0), ("B", 10, 0)])),
    ).trains
    # Half the overlap: twice the resistance.
    assert plan.trains[0].predicted_resistance_ohm == pytest.approx(
        2 * full.predicted_resistance_ohm
    )
    assert [w.code for w in plan.warnings] == ["partial-overlap"]


def test_predicted_current_above_the_protocol_limit_is_refused(tmp_path: Path) -> None:
    needles = load_needles(
        _needles_file(tmp_path, [("A", 0, 0), ("B", 28, 0)], active_length_mm=60)
    )
    with pytest.raises(PlanRefused) as caught:
        make_plan(load_protocol("long-needles"), needles)
    (problem,) = caught.value.problems
    assert problem.code == "current-above-limit"
    assert "50 A" in problem.message and "A–B" in problem.message


def test_variable_geometry_needs_needles_and_fixed_geometry_refuses_them() -> None:
    with pytest.raises(ProtocolError) as caught:
        make_plan(load_protocol("long-needles"))
    assert caught.value.field == "electrode.kind"
    assert caught.value.line is not None
    with pytest.raises(ProtocolError, match="variable geometry only"):
        make_plan(load_protocol("esope-plates"), load_needles("example-4-needles"))


def test_alternating_polarity(tmp_path: Path) -> None:
    text = load_protocol("esope-hexagonal").source.text.replace(
        'polarity = "a-positive"', 'polarity = "alternate"'
    )
    plan = make_plan(load_protocol(_write(tmp_path, "alt.toml", text)))
    assert [t.polarity for t in plan.trains] == [0, 1] * 6


def test_rate_override_reaches_every_train() -> None:
    plan = make_plan(load_protocol("long-needles", rate_hz=1), load_needles("example-4-needles"))
    assert {(t.rate_hz, t.period_us) for t in plan.trains} == {(1.0, 1_000_000.0)}


def test_plan_to_dict_is_json_and_carries_the_files() -> None:
    needles = load_needles("example-4-needles")
    protocol = load_protocol("long-needles", rate_hz=1)
    plan = make_plan(protocol, needles)
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["format"] == "pulsehost-plan/1"
    raw = Path(protocol.source.path).read_bytes()
    assert data["protocol"]["text"] == raw.decode()
    assert data["protocol"]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert data["protocol"]["overrides"] == {"rate_hz": 1}
    assert (
        data["needles"]["sha256"]
        == hashlib.sha256(Path(needles.source.path).read_bytes()).hexdigest()
    )
    assert len(data["trains"]) == len(plan.trains) == data["totals"]["trains"]
    assert data["totals"]["pulses"] == 48
    first = data["trains"][0]
    assert set(first) == {
        "index", "pair", "labels", "polarity", "distance_mm", "field_v_per_cm", "voltage_v",
        "pulses", "width_us", "rate_hz", "period_us", "duration_ms", "cell_constant_per_m",
        "predicted_resistance_ohm", "predicted_current_a_min", "predicted_current_a_max",
    }  # fmt: skip
    assert first["index"] == 1 and first["pair"] == [0, 1]
    assert data["checks"]["i_max_a"] == 50.0
    assert data["limits"] == {
        "v_max_v": 3000.0, "min_spacing_mm": 2.0, "max_spacing_mm": 30.0, "i_max_a": 50.0
    }  # fmt: skip
    assert data["ecg"] == {"gated": True, "delay_ms": 50}
    assert data["drug"]["window_start_min"] == 8.0
    assert data["tissue"]["name"] == "tumour"
