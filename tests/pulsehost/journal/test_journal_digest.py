"""The reviewer's digest of a session: header, plan, trains, pulses, findings, timeline."""

from __future__ import annotations

import json
from collections.abc import Callable

from pulsehost.journal import JournalWriter, Session, digest


def test_header_says_how_it_ended_in_words(review_session: Session) -> None:
    head = digest.header(review_session)
    assert (head.outcome, head.reason_code, head.reason) == (
        "aborted",
        "overcurrent",
        "overcurrent",
    )
    assert head.delivered_text == "5 of 6 pulses delivered"
    assert head.verdicts == (("stop", 1), ("warn", 3), ("ok", 1))  # worst first
    assert head.title == "Long needles <deep> & bone" and head.protocol == "long-needles 1.0.0"
    assert not head.simulated and not head.broken
    facts = {f.label: f.text for f in head.facts}
    assert facts["operator"] == "dr-a" and facts["subject (pseudonymous)"] == "S-042"
    assert facts["software"] == "pulsehost 9.9"
    assert facts["started"].startswith("2025-03-03 11:06:40") and facts["started"].endswith("UTC")
    assert facts["duration"].endswith(" s")


def test_reason_codes_read_as_words() -> None:
    assert digest.reason_words("OPERATOR_ABORT") == "operator abort"
    assert digest.reason_words("plan-refused") == "plan refused by the limits"
    assert digest.reason_words(None) is None


def test_plan_facts_describe_electrode_field_pulses_tissue_ecg_drug(
    review_session: Session,
) -> None:
    facts = {
        f.label: f.text for f in digest.plan_facts(review_session.start, review_session.events)
    }
    assert facts["electrode"].startswith("2 single needles placed by the operator, Ø 1.2 mm")
    assert "two.toml" in facts["electrode"] and "two needles" in facts["electrode"]
    assert facts["field"].startswith("1000 V/cm")
    assert facts["pulses"] == "3 × 100 µs at 5000 Hz per train, polarity a-positive"
    assert facts["total"] == "6 pulses in 2 trains"
    assert "tumour" in facts["tissue assumed"] and "0.30 → 0.75 S/m" in facts["tissue assumed"]
    assert facts["ECG"] == "gated: each pulse is fired 50 ms after an R wave"
    drug = facts["drug"]
    assert drug.startswith("bleomycin IV, 15000 IU/m²; arming window 8–28 min")
    assert "2025-03-03 10:55:00 UTC" in drug and "nurse-b" in drug
    assert "11.7 min before arming (window open)" in drug
    assert facts["limits"].startswith("3000 V and 50 A (protocol)")
    assert digest.electrode_positions(review_session.start["plan"]) == (
        ("A", "0.0", "0.0", "0.0"),
        ("B", "15.0", "0.0", "0.0"),
    )


def test_one_train_row_per_planned_train_with_measured_band(review_session: Session) -> None:
    rows = digest.train_rows(review_session)
    assert [r.index for r in rows] == [1, 2]
    assert [r.pair for r in rows] == ["A–B", "B–A"]
    assert {(r.distance_mm, r.voltage_v, r.pulses, r.predicted_a) for r in rows} == {
        ("15.0", "1500", "3", "8.8–22.0")
    }
    assert [(r.delivered, r.result) for r in rows] == [(3, "warn"), (2, "stop")]
    currents = [p["current_a"] for p in review_session.pulses if p["train"] == 2]
    assert rows[1].measured_a == f"{min(currents):.2f}–{max(currents):.2f}"


def test_a_train_not_delivered_and_a_train_not_planned_both_show(
    make_session: Callable[..., JournalWriter],
) -> None:
    writer = make_session(trains=3, pulses_per_train=2, stop_after=2, outcome="aborted")
    session = Session.read(writer.directory)
    rows = digest.train_rows(session)
    assert [(r.index, r.delivered, r.result) for r in rows] == [
        (1, 2, "ok"),
        (2, 0, "not delivered"),
        (3, 0, "not delivered"),
    ]
    assert rows[1].measured_a == "—"


def test_pulse_rows_use_house_precision_and_plan_labels(review_session: Session) -> None:
    rows = digest.pulse_rows(review_session)
    assert [r.index for r in rows] == [1, 2, 3, 4, 5]
    first = rows[0]
    assert first.pair == "A–B" and first.train == "1" and first.pulse == "1"
    assert first.values == ("1500", "1456.6", "19.42", "108.0", "75.0", "2.769", "1911.5")
    assert rows[3].pair == "B–A"
    assert rows[4].by_generator and not first.by_generator
    assert rows[2].findings == (("warn", "width-deviation"), ("warn", "timing-deviation"))


def test_equal_findings_merge_across_pulses_and_worst_come_first(review_session: Session) -> None:
    groups = digest.finding_groups(review_session)
    assert [(g.level, g.code, g.where) for g in groups] == [
        ("stop", "overcurrent", "pulse 5"),
        ("warn", "width-deviation", "pulses 1–3"),
        ("warn", "timing-deviation", "pulse 3"),
    ]
    # The row says which pulse, so the text drops its own "Pulse N:" prefix.
    assert groups[1].text == "width 108.0 µs (+8.0 %) for 100.0 µs set (tolerance ±5 %)."
    assert groups[1].name == "width deviation"


def test_timeline_in_journal_order_with_times_since_the_start(review_session: Session) -> None:
    entries = digest.timeline(review_session)
    base = review_session.start["mono_ns"]
    by_seq = [d for d in review_session.documents if d["kind"] not in ("start", "pulse")]
    assert len(entries) == len(by_seq) + 2  # plus one entry per train of pulses
    seconds = [e.seconds or 0.0 for e in entries]
    assert seconds == sorted(seconds) and all(s > 0 for s in seconds)
    assert entries[0].seconds == (by_seq[0]["mono_ns"] - base) / 1e9
    categories = [e.category for e in entries]
    assert categories.count("pulses") == 2 and categories.count("intent") == 2
    texts = {e.what: e.text for e in entries}
    assert texts["preflight"] == "generator IDLE, HV bank at 0.1\u202fV"
    assert texts["ALARM"] == "OVERCURRENT, latched, from the generator; train 2, pulse 2"
    assert texts["ECG"].startswith("triggered on the R wave, R–R 818 ms; train")
    assert texts["stop"] == "aborted, reason overcurrent (5 of 6 pulses)"
    pulses = [e.text for e in entries if e.category == "pulses"]
    assert pulses == [
        "pulses 1–3 recorded (train 1): warn 3",
        "pulses 4–5 recorded (train 2): stop 1, ok 1",
    ]
    intents = [e.text for e in entries if e.category == "intent"]
    assert intents[1].startswith("train 2 written before firing: B–A, 1500 V × 3 × 100 µs")
    assert intents[1].endswith("ECG-gated; confirmed by dr-a")


def test_unknown_events_still_read(make_session: Callable[..., JournalWriter]) -> None:
    session = Session.read(make_session(trains=1, pulses_per_train=1).directory)
    link = next(e for e in digest.timeline(session) if e.what == "link")
    assert link.text == "crc errors 0, frames lost 0, frames sent 40"
    operator = next(e for e in digest.timeline(session) if e.category == "operator")
    assert operator.text == "confirm-arm by operator-1"


def test_instruments_rig_checks_and_raw_json(review_session: Session) -> None:
    start = review_session.start
    rows = digest.instrument_rows(start)
    assert [(r.role, r.model, r.address) for r in rows] == [
        ("generator", "EP-3", "/dev/ttyUSB0"),
        ("scope", "DSOX3024T", "TCPIP::10.0.0.5::INSTR"),
    ]
    rig = {f.label: f.text for f in digest.rig_facts(start)}
    assert rig["probes"] == "current probe 0.1\u202fV/A, hv probe 1000\u202fV/V"
    checks = {f.label: f.text for f in digest.check_rows(start)}
    assert checks["voltage tolerance"] == "10\u202f%" and checks["current limit"] == "50\u202fA"
    assert checks["low-current factor (of the predicted low end)"] == "× 0.3"
    plan = digest.without_texts(start["plan"])
    assert json.loads(digest.raw_json(plan)) == plan  # still valid JSON
    assert (
        plan["protocol"]["text"] == "(shown above)"
        and "[protocol]" in start["plan"]["protocol"]["text"]
    )
    assert digest.raw_json(plan).count("\n") < 40  # one line per field, not per number
