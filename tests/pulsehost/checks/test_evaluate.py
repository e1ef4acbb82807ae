"""evaluate and evaluate_telemetry: each finding fires on its signature, and only then."""

from __future__ import annotations

from dataclasses import replace

import pytest
from train_synth import ChainSpec, PulseSpec, TrainSpec, synth_train, uniform, with_pulse

from drivers.values import PulseTelemetry
from pulsehost.checks import (
    DEFAULT_LEVELS,
    Evaluation,
    Finding,
    Level,
    RawTrain,
    Thresholds,
    TrainExpectation,
    Verdict,
    ecg_timeout,
    ecg_withheld,
    evaluate,
    evaluate_telemetry,
    link_lost,
    measure_train,
    scope_timeout,
)

EXPECT = TrainExpectation(
    v_set_v=400.0,
    width_s=100e-6,
    period_s=200e-6,
    count=8,
    i_pred_low_a=2.0,
    i_pred_high_a=4.0,
    i_limit_a=20.0,
)
WIDE_CURRENT = ChainSpec(i_full_scale=30.0)


def _judge(
    pulses: tuple[PulseSpec, ...],
    chain: ChainSpec | None = None,
    tag_errors: tuple[float, ...] | None = None,
    telemetry: tuple[PulseTelemetry, ...] = (),
    events: tuple[Finding, ...] = (),
) -> Evaluation:
    spec = TrainSpec(pulses, chain=chain or ChainSpec(), tag_errors_s=tag_errors)
    synth = synth_train(spec)
    expectation = replace(EXPECT, count=len(pulses))
    m = measure_train(RawTrain.from_captures(synth.captures), expectation, Thresholds())
    return evaluate(m, expectation, Thresholds(), telemetry=telemetry, events=events)


def _codes(evaluation: Evaluation) -> set[tuple[str, int | None]]:
    return {(f.code, f.pulse) for f in evaluation.findings}


def _summary(k: int, **changes: object) -> PulseTelemetry:
    """A generator summary of a sound pulse like the synthetic one (2.0 -> 2.25 A)."""
    sound = PulseTelemetry(
        train_id=7,
        pulse_idx=k,
        flags=frozenset(),
        t_start_us=200 * k,
        width_us=100.0,
        v_peak_v=402.0,
        v_mean_v=400.0,
        i_peak_a=2.3,
        i_mean_a=2.22,
        charge_uc=222.0,
        energy_j=0.0888,
        r_to_pulse_us=None,
    )
    return replace(sound, **changes)  # type: ignore[arg-type]


def test_a_clean_train_has_no_findings() -> None:
    evaluation = _judge(uniform(8))
    assert evaluation.findings == ()
    assert [p.verdict for p in evaluation.pulses] == [Verdict.OK] * 8
    assert {p.source for p in evaluation.pulses} == {"scope"}
    assert evaluation.level is Level.OK and not evaluation.stop
    assert evaluation.first_stop() is None


@pytest.mark.parametrize(
    ("changes", "chain", "code"),
    [
        pytest.param({"i": 24.0}, WIDE_CURRENT, "overcurrent", id="overcurrent"),
        pytest.param({"arc_at": 0.5}, WIDE_CURRENT, "arc", id="arc"),
        pytest.param({"open_circuit": True}, None, "open-circuit", id="open"),
        pytest.param({"i": 0.4}, None, "low-current", id="low"),
        pytest.param({"i": 13.0, "in_pulse_rise": 0.0}, WIDE_CURRENT, "high-current", id="high"),
        pytest.param({"v": 350.0, "i": 1.75}, None, "voltage-deviation", id="voltage"),
        pytest.param({"width_s": 106e-6}, None, "width-deviation", id="width"),
        pytest.param({"present": False}, None, "missing-pulse", id="missing"),
        pytest.param({"i": 4.8}, None, "clipped", id="clipped"),
    ],
)
def test_each_signature_gives_its_own_finding_on_its_pulse(
    changes: dict[str, object], chain: ChainSpec | None, code: str
) -> None:
    evaluation = _judge(with_pulse(uniform(4), 2, **changes), chain)
    assert _codes(evaluation) == {(code, 2)}
    finding = evaluation.findings[0]
    assert finding.level is DEFAULT_LEVELS[code]
    assert finding.message.startswith("Pulse 3:")
    expected = Verdict.UNMEASURED if code == "clipped" else Verdict(finding.level.value)
    assert evaluation.pulses[2].verdict is expected
    assert [p.verdict for p in evaluation.pulses[:2]] == [Verdict.OK, Verdict.OK]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"v": 370.0, "i": 1.85}, id="voltage-within-10pct"),
        pytest.param({"width_s": 104e-6}, id="width-within-5pct"),
        pytest.param({"i": 0.7}, id="current-above-0.3x"),
        pytest.param({"i": 11.0, "in_pulse_rise": 0.0}, id="current-below-3x"),
        pytest.param({"i": 19.0, "in_pulse_rise": 0.0}, id="peak-below-limit-but-high"),
    ],
)
def test_near_misses_give_nothing_or_only_their_band(changes: dict[str, object]) -> None:
    evaluation = _judge(with_pulse(uniform(4), 2, **changes), WIDE_CURRENT)
    codes = {code for code, _ in _codes(evaluation)}
    assert codes <= {"high-current"}
    assert ("high-current" in codes) == (changes.get("i") == 19.0)


def test_a_voltage_far_above_the_scope_range_is_clipped_not_missing() -> None:
    evaluation = _judge(uniform(2), ChainSpec(v_full_scale=150.0))
    assert _codes(evaluation) == {("clipped", 0), ("clipped", 1)}
    assert "voltage" in evaluation.findings[0].message


def test_open_circuit_is_told_from_low_current() -> None:
    evaluation = _judge((PulseSpec(open_circuit=True), PulseSpec(i=0.2)))
    assert _codes(evaluation) == {("open-circuit", 0), ("low-current", 1)}
    assert "open" in evaluation.findings[0].message


def test_timing_is_judged_against_the_period() -> None:
    errors = (0.0, 0.0, 15e-6, 0.0, 8e-6, 0.0)
    evaluation = _judge(uniform(6), tag_errors=errors)
    assert _codes(evaluation) == {("timing-deviation", 2)}
    assert "+15.0 µs" in evaluation.findings[0].message
    assert evaluation.pulses[2].verdict is Verdict.WARN


def test_gated_trains_are_timed_against_their_own_schedule() -> None:
    offsets = (0.0, 0.9, 1.7, 2.8)
    expectation = replace(EXPECT, count=4, period_s=1.0, start_offsets_s=offsets)
    synth = synth_train(TrainSpec(uniform(4), period_s=1.0, tag_errors_s=(0, -0.1, -0.3, -0.2)))
    m = measure_train(RawTrain.from_captures(synth.captures), expectation, Thresholds())
    assert evaluate(m, expectation, Thresholds()).findings == ()
    late = replace(expectation, start_offsets_s=(0.0, 0.9, 1.6, 2.8))
    assert _codes(evaluate(m, late, Thresholds())) == {("timing-deviation", 2)}


def test_no_electroporation_advisory_fires_on_flat_current_only() -> None:
    flat = _judge(uniform(8, in_pulse_rise=0.0))
    assert _codes(flat) == {("no-electroporation", None)}
    assert flat.train[0].level is Level.WARN and not flat.stop
    assert [p.verdict for p in flat.pulses] == [Verdict.OK] * 8
    rising_within = _judge(uniform(8, in_pulse_rise=0.15))
    assert rising_within.findings == ()
    rising_across = _judge(tuple(PulseSpec(i=2.0 * 1.02**k, in_pulse_rise=0.0) for k in range(8)))
    assert rising_across.findings == ()


def test_no_advisory_when_the_current_is_already_out_of_band() -> None:
    assert _codes(_judge(uniform(4, i=0.3, in_pulse_rise=0.0))) == {
        ("low-current", k) for k in range(4)
    }


def test_generator_and_scope_are_cross_checked() -> None:
    agreeing = tuple(_summary(k) for k in range(4))
    assert _judge(uniform(4), telemetry=agreeing).findings == ()
    off = tuple(_summary(k, v_mean_v=435.0 if k == 1 else 400.0) for k in range(4))
    evaluation = _judge(uniform(4), telemetry=off)
    assert _codes(evaluation) == {("sensor-disagreement", 1)}
    message = evaluation.findings[0].message
    assert "generator 435 V" in message and "scope 400 V" in message
    assert evaluation.pulses[1].verdict is Verdict.WARN


def test_the_generator_adds_trips_the_scope_did_not_see() -> None:
    telemetry = tuple(
        _summary(k, flags=frozenset({"OC"}) if k == 3 else frozenset()) for k in range(4)
    )
    evaluation = _judge(uniform(4), telemetry=telemetry)
    assert _codes(evaluation) == {("overcurrent", 3)}
    assert "generator" in evaluation.findings[0].message
    assert evaluation.first_stop() == evaluation.findings[0]


def test_a_clipped_pulse_is_unmeasured_but_still_judged_by_the_generator() -> None:
    pulses = with_pulse(uniform(3), 1, i=4.8)
    sound = _judge(pulses, telemetry=(_summary(0), _summary(1, i_mean_a=4.9), _summary(2)))
    assert _codes(sound) == {("clipped", 1)}
    assert sound.pulses[1].verdict is Verdict.UNMEASURED
    assert sound.pulses[1].source == "firmware"
    tripped = (_summary(0), _summary(1, flags=frozenset({"OC"}), i_peak_a=21.0), _summary(2))
    evaluation = _judge(pulses, telemetry=tripped)
    assert _codes(evaluation) == {("clipped", 1), ("overcurrent", 1)}
    assert evaluation.pulses[1].verdict is Verdict.STOP


def test_pulses_without_scope_data() -> None:
    synth = synth_train(TrainSpec(uniform(2)))
    m = measure_train(
        RawTrain.from_captures(synth.captures), replace(EXPECT, count=2), Thresholds()
    )
    expectation = replace(EXPECT, count=4)
    telemetry = (_summary(2),)
    events = (scope_timeout(2, "no reply in 2 s"), scope_timeout(3))
    evaluation = evaluate(m, expectation, Thresholds(), telemetry=telemetry, events=events)
    by_pulse = {p.pulse: p for p in evaluation.pulses}
    assert by_pulse[2].source == "firmware"
    assert by_pulse[2].verdict is Verdict.UNMEASURED
    assert by_pulse[3].source == "none"
    assert by_pulse[3].verdict is Verdict.UNMEASURED
    assert _codes(evaluation) == {("scope-timeout", 2), ("scope-timeout", 3)}
    silent = evaluate(m, expectation, Thresholds())
    assert _codes(silent) == {("missing-pulse", 2), ("missing-pulse", 3)}
    only_generator = evaluate(m, expectation, Thresholds(), telemetry=(_summary(2), _summary(3)))
    assert only_generator.findings == ()
    assert [p.source for p in only_generator.pulses] == ["scope", "scope", "firmware", "firmware"]


def test_train_events_join_the_train() -> None:
    lost = link_lost("no answer to 3 retries")
    evaluation = _judge(uniform(2), events=(lost,))
    assert evaluation.train == (lost,)
    assert evaluation.stop and evaluation.level is Level.STOP
    assert [p.verdict for p in evaluation.pulses] == [Verdict.OK, Verdict.OK]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"flags": frozenset({"MISSING"}), "v_mean_v": 0.0, "i_mean_a": 0.0}, "missing-pulse"),
        ({"flags": frozenset({"OC"}), "i_peak_a": 20.5}, "overcurrent"),
        ({"i_peak_a": 20.0}, "overcurrent"),
        ({"flags": frozenset({"ARC", "OC"}), "i_peak_a": 20.0}, "arc"),
        ({"flags": frozenset({"CLIP"})}, "clipped"),
        ({"flags": frozenset({"UV"}), "v_mean_v": 365.0}, "voltage-deviation"),
        ({"v_mean_v": 445.0}, "voltage-deviation"),
        ({"i_mean_a": 0.02}, "open-circuit"),
        ({"i_mean_a": 0.5}, "low-current"),
        ({"i_mean_a": 12.5}, "high-current"),
        ({"width_us": 94.0}, "width-deviation"),
        ({"flags": frozenset({"LATE"})}, "timing-deviation"),
    ],
)
def test_telemetry_alone(changes: dict[str, object], code: str) -> None:
    result = evaluate_telemetry(_summary(5, **changes), EXPECT, Thresholds())
    assert [f.code for f in result.findings] == [code]
    assert result.findings[0].pulse == 5 and result.pulse == 5
    assert result.source == "firmware"
    expected = Verdict.UNMEASURED if code == "clipped" else Verdict(DEFAULT_LEVELS[code].value)
    assert result.verdict is expected


def test_sound_telemetry_is_ok() -> None:
    result = evaluate_telemetry(_summary(0), EXPECT, Thresholds())
    assert result.findings == () and result.verdict is Verdict.OK


def test_thresholds_come_from_the_protocol() -> None:
    """The same pulse passes or fails as the protocol's tolerance says."""
    pulse = _summary(0, v_mean_v=372.0)
    assert evaluate_telemetry(pulse, EXPECT, Thresholds()).findings == ()
    strict = Thresholds.from_table({"voltage_tolerance_pct": 5})
    assert [f.code for f in evaluate_telemetry(pulse, EXPECT, strict).findings] == [
        "voltage-deviation"
    ]
    low_limit = Thresholds.from_table({"i_max_a": 2.0})
    assert [f.code for f in evaluate_telemetry(_summary(0), EXPECT, low_limit).findings] == [
        "overcurrent"
    ]


def test_default_levels_follow_the_reference() -> None:
    stop = {
        "overcurrent",
        "arc",
        "open-circuit",
        "low-current",
        "high-current",
        "voltage-deviation",
        "missing-pulse",
        "link-lost",
    }
    warn = {
        "width-deviation",
        "timing-deviation",
        "clipped",
        "no-electroporation",
        "sensor-disagreement",
        "scope-timeout",
    }
    for code in stop:
        assert DEFAULT_LEVELS[code] is Level.STOP, code
    for code in warn:
        assert DEFAULT_LEVELS[code] is Level.WARN, code
    assert DEFAULT_LEVELS["ecg-withheld"] is Level.OK


def test_engine_findings() -> None:
    assert link_lost("port vanished", 2).message.startswith(
        "The link to the generator was lost after pulse 3"
    )
    assert scope_timeout(0).level is Level.WARN
    withheld = ecg_withheld("ectopic beat", 612)
    assert withheld.level is Level.OK and "612 ms" in withheld.message
    assert ecg_timeout(2.5).level is Level.STOP
    with pytest.raises(ValueError, match="unknown finding code"):
        Finding.of("bad-code", "text")
