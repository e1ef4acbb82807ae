"""The drug-window gate (ect-reference §4): long-needles gives IV bleomycin, 8 to 28 min."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_session import assert_consistent, drug_given, plan_for, run_simulated

from protocols import Plan
from pulsehost.engine.session import DrugEntry

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def plan() -> Plan:
    plan = plan_for("long-needles", needles="example-4-needles")
    assert plan.drug is not None
    return plan


def test_without_a_drug_time_nothing_is_armed(plan: Plan, tmp_path: Path) -> None:
    ran = run_simulated(plan, tmp_path)
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "drug-window")
    assert "--drug-time" in ran.outcome.message
    assert ran.firmware.fire_executions == 0
    assert_consistent(ran)


def test_too_early_is_refused(plan: Plan, tmp_path: Path) -> None:
    ran = run_simulated(plan, tmp_path, drug=drug_given(3.0))
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "drug-window")
    assert "opens at 8 min" in ran.outcome.message
    [drug] = ran.journal_events("drug")
    assert drug["window"] == "too-early" and drug["entered_by"] == "nurse"
    assert ran.firmware.fire_executions == 0 and ran.session.intents == ()
    assert_consistent(ran)


def test_closed_window_without_override_is_refused(plan: Plan, tmp_path: Path) -> None:
    ran = run_simulated(plan, tmp_path, drug=drug_given(35.0))
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "drug-window")
    assert "override" in ran.outcome.message
    assert ran.journal_events("drug")[0]["window"] == "closed"
    assert ran.firmware.fire_executions == 0
    assert_consistent(ran)


def test_closed_window_with_override_is_journalled_and_delivered(
    plan: Plan, tmp_path: Path
) -> None:
    reason = "bolus time confirmed late by the anaesthetist"
    ran = run_simulated(
        plan, tmp_path, time_scale=50.0, drug=drug_given(35.0, override_reason=reason)
    )
    assert ran.outcome.outcome == "completed", ran.outcome.message
    [override] = ran.journal_events("operator")
    assert override["action"] == "drug-window-override"
    assert override["reason"] == reason and override["by"] == "tester"
    assert ran.session.start["drug"]["override_reason"] == reason
    assert ran.delivered == plan.total_pulses
    assert_consistent(ran)


def test_closing_window_warns(plan: Plan, tmp_path: Path) -> None:
    ran = run_simulated(plan, tmp_path, time_scale=50.0, drug=drug_given(26.0))
    assert ran.outcome.outcome == "completed", ran.outcome.message
    assert ran.journal_events("drug")[0]["window"] == "closing"
    notices = [n["message"] for n in ran.journal_events("notice")]
    assert any("closes at 28 min" in m for m in notices), notices


def test_window_closing_during_the_session_stops_before_the_next_intent(
    plan: Plan, tmp_path: Path
) -> None:
    given = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    # Preflight reads the clock at 27.5 min; every later reading is past the 28 min end.
    readings: Iterator[dt.datetime] = iter(
        [given + dt.timedelta(minutes=27.5)] + [given + dt.timedelta(minutes=29)] * 100
    )
    ran = run_simulated(
        plan,
        tmp_path,
        drug=DrugEntry(given_at=given, entered_by="nurse"),
        engine_options={"now_utc": lambda: next(readings)},
    )
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "drug-window")
    assert "before this train" in ran.outcome.message
    assert ran.session.intents == () and ran.firmware.fire_executions == 0
    assert_consistent(ran)
