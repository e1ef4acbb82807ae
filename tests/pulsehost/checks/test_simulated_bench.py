"""The checks on trains from the simulator's physics model and measurement chain.

Each injected fault must give the verdict simulator-model §6 expects, and no
other; a sound train passes every check (sanity property 7).
"""

from __future__ import annotations

import numpy as np
import pytest
from sim_bench import Bench, bench

from pulsehost.checks import (
    Evaluation,
    RawChannel,
    RawTrain,
    Thresholds,
    TrainMeasurements,
    Verdict,
    evaluate,
    evaluate_telemetry,
    measure_train,
)

THRESHOLDS = Thresholds()


def _run(b: Bench, telemetry: bool = True) -> tuple[TrainMeasurements, Evaluation]:
    m = measure_train(b.raw, b.expectation, THRESHOLDS)
    summaries = b.telemetry if telemetry else ()
    return m, evaluate(m, b.expectation, THRESHOLDS, telemetry=summaries)


def _codes(evaluation: Evaluation) -> set[tuple[str, int | None]]:
    return {(f.code, f.pulse) for f in evaluation.findings}


def test_a_sound_train_passes_every_check() -> None:
    b = bench()
    m, evaluation = _run(b)
    assert evaluation.findings == ()
    assert [p.verdict for p in evaluation.pulses] == [Verdict.OK] * 8
    # The scope agrees with the generator's unquantised view within 1 %.
    for k, summary in enumerate(b.telemetry):
        assert m.v_plateau_v[k] == pytest.approx(summary.v_mean_v, rel=0.01)
        assert m.i_plateau_a[k] == pytest.approx(summary.i_mean_a, rel=0.01)
        assert m.width_s[k] == pytest.approx(summary.width_us * 1e-6, rel=0.01)
        assert m.charge_c[k] == pytest.approx(summary.charge_uc * 1e-6, rel=0.02)
        assert m.energy_j[k] == pytest.approx(summary.energy_j, rel=0.02)


def test_electroporation_shows_in_the_measured_current() -> None:
    """Above threshold the current rises within each pulse and from pulse to pulse."""
    m, _ = _run(bench())
    assert np.all(m.i90_a > m.i10_a)
    assert m.i_plateau_a[-1] > m.i_plateau_a[0]


def test_word_codes_give_the_same_verdicts() -> None:
    m, evaluation = _run(bench(word=True))
    assert evaluation.findings == ()
    m_byte, _ = _run(bench())
    assert m.v_plateau_v == pytest.approx(m_byte.v_plateau_v, rel=0.01)


def _pulses(first: int, last: int) -> set[int]:
    return set(range(first, last))


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param("open", {("open-circuit", k) for k in range(8)}, id="open"),
        pytest.param(
            "poor-contact:ohm=5000", {("low-current", k) for k in range(8)}, id="poor-contact"
        ),
        pytest.param(
            "short",
            {("overcurrent", 0)} | {("missing-pulse", k) for k in range(1, 8)},
            id="short",
        ),
        pytest.param(
            "overcurrent@5",
            {("overcurrent", 4)} | {("missing-pulse", k) for k in range(5, 8)},
            id="overcurrent-trip",
        ),
        pytest.param("arc@3", {("arc", 2)} | {("missing-pulse", k) for k in range(3, 8)}, id="arc"),
        pytest.param("missing@4", {("missing-pulse", 3)}, id="missing"),
        pytest.param(
            "jitter:us=0,width_pct=10", {("width-deviation", k) for k in range(8)}, id="width"
        ),
    ],
)
def test_each_fault_gives_its_own_verdict(fault: str, expected: set[tuple[str, int]]) -> None:
    b = bench(fault)
    _, with_generator = _run(b)
    _, scope_only = _run(b, telemetry=False)
    assert _codes(with_generator) == expected
    assert _codes(scope_only) == expected
    firmware = {
        (f.code, f.pulse)
        for t in b.telemetry
        for f in evaluate_telemetry(t, b.expectation, THRESHOLDS).findings
    }
    assert firmware <= expected
    assert {code for code, _ in firmware} == {code for code, _ in expected} - (
        {"missing-pulse"} if "missing" not in fault else set()
    )


def test_start_jitter_shows_as_timing_deviation_only() -> None:
    _, evaluation = _run(bench("jitter:us=20,width_pct=0"))
    codes = {code for code, _ in _codes(evaluation)}
    assert codes == {"timing-deviation"}


def test_a_small_bank_droops_out_of_the_voltage_band() -> None:
    m, evaluation = _run(bench("droop"))
    codes = _codes(evaluation)
    assert {code for code, _ in codes} == {"voltage-deviation"}
    late = {pulse for _, pulse in codes}
    assert 7 in late and 0 not in late
    assert np.all(np.diff(m.v_plateau_v) < 0)


def test_a_low_field_gives_the_advisory() -> None:
    _, evaluation = _run(bench(v=100.0))
    assert _codes(evaluation) == {("no-electroporation", None)}
    assert not evaluation.stop


def test_a_current_range_too_small_leaves_pulses_unmeasured() -> None:
    _, evaluation = _run(bench(current_range_a=5.0))
    assert _codes(evaluation) == {("clipped", k) for k in range(8)}
    assert [p.verdict for p in evaluation.pulses] == [Verdict.UNMEASURED] * 8


def test_a_probe_set_to_the_wrong_attenuation_shows_as_disagreement() -> None:
    b = bench()
    v = b.raw.voltage
    wrong = RawChannel(v.codes, v.scale * 1.07, v.offset * 1.07, v.reference)
    raw = RawTrain(wrong, b.raw.current, b.raw.dt_s, b.raw.t0_s, b.raw.time_tags_s)
    m = measure_train(raw, b.expectation, THRESHOLDS)
    evaluation = evaluate(m, b.expectation, THRESHOLDS, telemetry=b.telemetry)
    assert _codes(evaluation) == {("sensor-disagreement", k) for k in range(8)}
    assert "plateau voltage" in evaluation.findings[0].message
