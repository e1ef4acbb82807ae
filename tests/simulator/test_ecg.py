"""The ECG source's rhythms and the gate's judgement of each beat."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.ecg import Beat, EcgGate, EcgSource, WithholdReason
from simulator.faults import parse_faults

DELAY_S = 0.050  # fire at R + 50 ms (ect-reference §5)
TRAIN_5KHZ_S = 7 * 200e-6 + 100e-6  # 8 pulses of 100 µs at 5 kHz


def beat(rr: float, kind: str = "normal", noisy: bool = False, t: float = 0.0) -> Beat:
    return Beat(t, rr, kind, noisy, 0.01, t + 0.3)


def test_same_seed_same_beats_whatever_was_asked_before() -> None:
    whole = EcgSource(3).beats(0.0, 60.0)
    pieces = EcgSource(3)
    later = pieces.beats(30.0, 60.0)
    earlier = pieces.beats(0.0, 30.0)
    assert earlier + later == whole
    assert EcgSource(4).beats(0.0, 60.0) != whole


def test_sinus_rhythm_varies_a_little_around_rr0() -> None:
    beats = EcgSource(1, rr0_s=0.8, pvc_fraction=0.0).beats(0.0, 600.0)
    rr = np.array([b.rr_s for b in beats[1:]])
    assert rr.mean() == pytest.approx(0.8, rel=0.02)
    # RSA 30 ms and LF 15 ms sine amplitudes plus 10 ms white noise: about 26 ms rms.
    assert 0.015 < rr.std() < 0.040
    assert all(b.kind == "normal" and not b.noisy for b in beats)
    assert np.allclose(np.diff([b.t_r_s for b in beats]), rr)


def test_pvcs_come_early_and_are_followed_by_a_compensatory_pause() -> None:
    beats = EcgSource(2, pvc_fraction=0.05).beats(0.0, 900.0)
    ectopic = [k for k, b in enumerate(beats) if b.kind == "ectopic"]
    share = len(ectopic) / len(beats)
    assert 0.02 < share < 0.08
    for k in ectopic:
        if k == 0 or k + 1 >= len(beats) or beats[k - 1].kind != "normal":
            continue
        coupling, pause = beats[k].rr_s, beats[k + 1].rr_s
        # The PVC lands at 0.6 of the sinus cycle; the next sinus beat two cycles on.
        assert coupling / (coupling + pause) == pytest.approx(0.3, abs=1e-9)
        assert 0.5 < (coupling + pause) / 2 / 0.8 < 1.5


def test_default_pvcs_are_one_to_two_percent() -> None:
    beats = EcgSource(9).beats(0.0, 3600.0)
    share = sum(b.kind == "ectopic" for b in beats) / len(beats)
    assert 0.008 < share < 0.025


@pytest.mark.parametrize("cv", [0.15, 0.25])
def test_arrhythmia_is_irregular_with_the_requested_spread(cv: float) -> None:
    beats = EcgSource(5, mode="arrhythmia", af_cv=cv).beats(0.0, 900.0)
    rr = np.array([b.rr_s for b in beats[1:]])
    assert rr.std() / rr.mean() == pytest.approx(cv, abs=0.04)


def test_no_ecg_means_no_beats() -> None:
    source = EcgSource(0, mode="none")
    assert source.beats(0.0, 100.0) == ()
    assert source.next_beat(3.0) is None


def test_next_beat_is_the_first_after_the_time() -> None:
    source = EcgSource(8)
    beats = source.beats(0.0, 20.0)
    nxt = source.next_beat(beats[4].t_r_s)
    assert nxt == beats[5]
    assert source.next_beat(beats[4].t_r_s - 1e-6) == beats[4]


def test_faults_choose_the_rhythm() -> None:
    assert EcgSource.from_faults(0, parse_faults(["ecg-none"])).mode == "none"
    af = EcgSource.from_faults(0, parse_faults(["ecg-arrhythmia:cv=0.25"]))
    assert af.mode == "arrhythmia"
    rr = np.array([b.rr_s for b in af.beats(0.0, 900.0)])
    assert rr.std() / rr.mean() == pytest.approx(0.25, abs=0.04)
    assert EcgSource.from_faults(0, parse_faults(["open"])).mode == "normal"


def test_detection_latency_is_about_ten_milliseconds() -> None:
    latency = np.array([b.detect_latency_s for b in EcgSource(6).beats(0.0, 300.0)])
    assert latency.mean() == pytest.approx(0.010, abs=0.001)
    assert latency.min() >= 0.005 and latency.max() <= 0.020


@pytest.mark.parametrize(
    ("rr0", "mode"), [(0.5, "normal"), (0.8, "normal"), (1.2, "normal"), (0.8, "arrhythmia")]
)
def test_gated_five_kilohertz_train_fits_a_beat_and_misses_every_t_wave(
    rr0: float, mode: str
) -> None:
    source = EcgSource(7, rr0_s=rr0, mode=mode)
    beats = source.beats(0.0, 300.0)
    gate = EcgGate()
    windows = [b.vulnerable_s for b in beats]
    fired = 0
    for k, b in enumerate(beats[:-1]):
        if not gate.judge(b).accept:
            continue
        fired += 1
        first, last = b.t_r_s + DELAY_S, b.t_r_s + DELAY_S + TRAIN_5KHZ_S
        assert last < beats[k + 1].t_r_s  # the whole train within this beat
        for lo, hi in windows[max(k - 1, 0) : k + 2]:
            assert last < lo or first > hi
    assert fired > (0.5 if mode == "normal" else 0.1) * len(beats)


def test_t_peak_falls_250_to_350_ms_after_r_at_75_bpm() -> None:
    for b in EcgSource(1, pvc_fraction=0.0).beats(0.0, 60.0):
        assert 0.25 <= b.t_peak_s - b.t_r_s <= 0.35
        lo, hi = b.vulnerable_s
        assert lo < b.t_peak_s < hi


def test_gate_learns_then_accepts_beats_in_band() -> None:
    gate = EcgGate(min_history=3)
    first = [gate.judge(beat(0.8)) for _ in range(4)]
    # Beat 1 has no earlier clean beat to pair with; three intervals are needed after it.
    assert [d.accept for d in first] == [False, False, False, False]
    assert all(d.reason is WithholdReason.RR_OUT_OF_BAND for d in first)
    decision = gate.judge(beat(0.8))
    assert decision.accept and decision.reason is None
    assert decision.mean_rr_s == pytest.approx(0.8)


def _trained(rr: float = 0.8) -> EcgGate:
    gate = EcgGate()
    for _ in range(9):
        gate.judge(beat(rr))
    return gate


@pytest.mark.parametrize(
    ("rr", "accept"),
    [(0.8 * 1.19, True), (0.8 * 0.81, True), (0.8 * 1.21, False), (0.8 * 0.79, False)],
)
def test_rr_beyond_twenty_percent_is_withheld(rr: float, accept: bool) -> None:
    decision = _trained().judge(beat(rr))
    assert decision.accept is accept
    assert decision.reason is (None if accept else WithholdReason.RR_OUT_OF_BAND)


def test_ectopic_and_noisy_beats_are_withheld_with_their_reason() -> None:
    gate = _trained()
    assert gate.judge(beat(0.8, noisy=True)).reason is WithholdReason.NOISE
    assert gate.judge(beat(0.48, kind="ectopic")).reason is WithholdReason.ECTOPIC
    # The pause after the PVC is out of band, and does not enter the running mean.
    assert gate.judge(beat(1.12)).reason is WithholdReason.RR_OUT_OF_BAND
    assert gate.mean_rr_s == pytest.approx(0.8)
    assert gate.judge(beat(0.8)).accept


def test_running_mean_follows_a_change_of_rate() -> None:
    gate = _trained(0.8)
    decisions = [gate.judge(beat(1.0)) for _ in range(12)]
    assert not decisions[0].accept
    assert decisions[-1].accept
    assert gate.mean_rr_s == pytest.approx(1.0)


def test_reason_codes_are_those_on_the_wire() -> None:
    # docs/firmware-link.md, ECG_EVENT: 1 RR out of band, 2 ectopic, 3 noise.
    assert (WithholdReason.RR_OUT_OF_BAND, WithholdReason.ECTOPIC, WithholdReason.NOISE) == (
        1,
        2,
        3,
    )


def test_arrhythmia_gets_many_beats_withheld() -> None:
    gate = EcgGate()
    decisions = [gate.judge(b) for b in EcgSource(4, mode="arrhythmia").beats(0.0, 300.0)]
    withheld = sum(not d.accept for d in decisions) / len(decisions)
    assert withheld > 0.2


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"mode": "flutter"}, "normal, arrhythmia, none"),
        ({"rr0_s": 0.1}, "rr0_s"),
        ({"af_cv": 1.5}, "af_cv"),
        ({"pvc_fraction": -0.1}, "pvc_fraction"),
    ],
)
def test_bad_source_settings_are_named(kwargs: dict[str, object], text: str) -> None:
    with pytest.raises(ValueError, match=text):
        EcgSource(0, **kwargs)  # type: ignore[arg-type]
