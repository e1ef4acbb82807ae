"""The app's plain parts: messages, the key confirmer, the drug clock, filters, exports, backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from drivers.values import ArmOffer, PulseParams
from protocols import load_protocol, make_plan
from protocols.drug import DrugTiming, DrugWindow
from pulsehost.engine.confirm import AlwaysConfirm, ArmQuestion
from pulsehost.engine.events import (
    EngineEvent,
    FindingView,
    Notice,
    PulseResult,
    StateChanged,
    TrainArming,
)
from pulsehost.engine.session import SessionRequest
from pulsehost.engine.states import State
from pulsehost.journal import SessionSummary, list_sessions
from pulsehost.rig import RigError
from pulsehost.ui import RigFileBackend, SimulatedBackend
from pulsehost.ui.confirm import KeyConfirmer, answer
from pulsehost.ui.drug_clock import drug_clock
from pulsehost.ui.export_files import write_export
from pulsehost.ui.messages import (
    ArmRequested,
    FindingRaised,
    FireRequested,
    NoticeRaised,
    PulseMeasured,
    SessionStateChanged,
    messages_for,
)
from pulsehost.ui.pulse_rows import PLOT_POINTS, PulseRow, Traces
from pulsehost.ui.widgets.review.session_list import filter_sessions


def _pulse(verdict: str, *findings: FindingView, traces: bool = False) -> PulseResult:
    t = np.linspace(-20e-6, 180e-6, 10_000) if traces else None
    return PulseResult(
        index=3,
        train=1,
        pulse=3,
        pair=(0, 1),
        target_v=400.0,
        voltage_v=385.0,
        current_a=6.0,
        width_us=100.0,
        resistance_ohm=64.0,
        verdict=verdict,
        findings=findings,
        source="scope",
        time_s=t,
        voltage_trace=None if t is None else np.where(t > 0, 400.0, 0.0),
        current_trace=None if t is None else np.where(t > 0, 6.0, 0.0),
    )


def _question() -> ArmQuestion:
    arming = TrainArming(
        train=1, trains=2, pair=(0, 1), voltage_v=400.0, pulses=8, width_us=100.0, rate_hz=5000.0
    )
    params = PulseParams(
        amplitude_v=400.0,
        width_us=100.0,
        count=8,
        period_us=200.0,
        i_limit_a=20.0,
        v_tolerance=0.1,
        ecg_gated=False,
        ecg_delay_ms=50,
        electrode_a=0,
        electrode_b=1,
        polarity=0,
    )
    return ArmQuestion(
        arming, ArmOffer(params=params, param_hash=0xABCD, expires_in_s=15.0, token=1)
    )


# -- messages --------------------------------------------------------------------------------


def test_a_pulse_brings_its_warn_and_stop_findings_as_messages_of_their_own() -> None:
    ok = FindingView("voltage", "ok", "within tolerance", pulse=3)
    warn = FindingView("clipped", "warn", "the scope clipped", pulse=3)
    stop = FindingView("overcurrent", "stop", "peak current reached the limit", pulse=3)
    found = messages_for(_pulse("stop", ok, warn, stop))
    assert [type(m) for m in found] == [PulseMeasured, FindingRaised, FindingRaised]
    assert [m.finding.code for m in found[1:]] == ["clipped", "overcurrent"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (StateChanged(State.ARMED, State.READY, "charged"), SessionStateChanged),
        (Notice("warn", "drug window closing"), NoticeRaised),
    ],
)
def test_each_event_has_its_message(event: EngineEvent, kind: type) -> None:
    (message,) = messages_for(event)
    assert isinstance(message, kind) and message.event is event  # type: ignore[attr-defined]


def test_state_changes_coalesce_but_pulses_never_do() -> None:
    older, newer = (
        messages_for(StateChanged(s, State.READY))[0] for s in (State.ARMED, State.FIRING)
    )
    pulse_a, pulse_b = messages_for(_pulse("ok"))[0], messages_for(_pulse("ok"))[0]
    assert older.can_replace(newer)  # the newer state supersedes the queued one
    assert not pulse_a.can_replace(pulse_b)
    assert not older.can_replace(pulse_a)
    assert not any(m.bubble for m in (older, pulse_a))


# -- the operator's keys -----------------------------------------------------------------------


def test_the_key_confirmer_posts_each_question_and_the_key_settles_it_once() -> None:
    posted: list[object] = []
    confirmer = KeyConfirmer(posted.append)
    arm = confirmer.request(_question())
    fire = confirmer.request_fire(_question())
    assert [type(m) for m in posted] == [ArmRequested, FireRequested]
    assert posted[0].answer is arm and posted[1].answer is fire  # type: ignore[attr-defined]
    assert answer(arm, True) and arm.result() is True
    assert not answer(arm, False) and arm.result() is True  # a second key changes nothing
    fire.cancel()  # the engine gave up (timeout or stop)
    assert not answer(fire, True)
    assert not answer(None, True)


# -- drug window -------------------------------------------------------------------------------

IV = DrugTiming("bleomycin", "iv", "dose_iu_per_m2", 15000.0, 8.0, 25.0, 28.0)
GIVEN = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("minutes", "window", "says"),
    [
        (5.5, DrugWindow.TOO_EARLY, "arming opens in 2:30"),
        (12.5, DrugWindow.OPEN, "open, closes in 15:30"),
        (26.0, DrugWindow.CLOSING, "CLOSING in 2:00"),
        (30.0, DrugWindow.CLOSED, "needs an override"),
    ],
)
def test_the_drug_clock_counts_down_to_the_window_edges(
    minutes: float, window: DrugWindow, says: str
) -> None:
    clock = drug_clock(IV, GIVEN, GIVEN + dt.timedelta(minutes=minutes))
    assert clock.window is window
    assert says in clock.text
    assert clock.text.startswith("bleomycin IV") and "window 8-28 min" in clock.text


# -- rows, traces, filters ---------------------------------------------------------------------


def test_a_live_result_and_its_journal_document_make_the_same_row() -> None:
    stop = FindingView("overcurrent", "stop", "peak current reached the limit", pulse=3)
    live = PulseRow.from_result(_pulse("stop", stop))
    document = {
        "index": 3,
        "train": 1,
        "pulse": 3,
        "pair": [0, 1],
        "target_v": 400.0,
        "voltage_v": 385.0,
        "current_a": 6.0,
        "width_us": 100.0,
        "resistance_ohm": 64.0,
        "verdict": "stop",
        "findings": [
            {"code": "overcurrent", "level": "stop", "message": "peak current reached the limit"}
        ],
    }
    assert PulseRow.from_document(document) == live
    assert live.codes == "overcurrent"


def test_a_journal_document_with_missing_values_still_makes_a_row() -> None:
    row = PulseRow.from_document({"index": 2, "verdict": "unmeasured", "voltage_v": None})
    assert (row.index, row.pair, row.voltage_v, row.findings) == (2, "?", None, ())


def test_traces_are_thinned_for_the_terminal_in_microseconds() -> None:
    traces = Traces.from_result(_pulse("ok", traces=True))
    assert traces is not None
    assert traces.voltage.size <= PLOT_POINTS and traces.current.size <= PLOT_POINTS
    assert traces.voltage_time_us[0] == pytest.approx(-20.0)
    assert set(np.unique(traces.voltage)) == {0.0, 400.0}
    assert Traces.from_result(_pulse("ok")) is None


def _summary(outcome: str, protocol: str | None) -> SessionSummary:
    return SessionSummary(
        session_id="0" * 32,
        directory="x",
        started_utc=None,
        outcome=outcome,
        reason=None,
        protocol_id=protocol,
        protocol_version="1",
        pulses_delivered=0,
        pulses_planned=8,
        operator=None,
        subject=None,
        simulated=True,
    )


def test_sessions_filter_by_protocol_text_and_outcome() -> None:
    sessions = [
        _summary("completed", "esope-plates"),
        _summary("aborted", "esope-needle-rows"),
        _summary("aborted", None),
    ]
    assert filter_sessions(sessions) == sessions
    assert filter_sessions(sessions, " PLATES ") == sessions[:1]
    assert filter_sessions(sessions, outcome="aborted") == sessions[1:]
    assert filter_sessions(sessions, "esope", "aborted") == sessions[1:2]


# -- exports -----------------------------------------------------------------------------------


def test_an_export_that_cannot_be_written_leaves_nothing_behind(
    recorded_store: Path, tmp_path: Path
) -> None:
    from pulsehost.journal import Session

    session = Session.read(recorded_store / list_sessions(recorded_store)[0].directory)
    with pytest.raises(ValueError, match="accepted: html, json, csv, npz"):
        write_export(session, "xlsx", tmp_path / "out.xlsx")
    with pytest.raises(OSError):
        write_export(session, "json", tmp_path / "missing" / "out.json")
    written = write_export(session, "npz", tmp_path / "out.npz")
    with np.load(written) as arrays:
        assert list(arrays["pulse_index"]) == [p["index"] for p in session.pulses]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]


# -- backends ----------------------------------------------------------------------------------


def test_simulated_backend_settings_are_checked_up_front() -> None:
    with pytest.raises(RigError, match="known kinds"):
        SimulatedBackend(faults=["no-such-fault"])
    with pytest.raises(RigError, match="positive"):
        SimulatedBackend(time_scale=0.0)
    assert SimulatedBackend(faults=["overcurrent@5"]).describe().startswith("seed 0, faults")


def test_a_bad_rig_file_is_refused_with_its_line(tmp_path: Path) -> None:
    rig = tmp_path / "bench.toml"
    rig.write_text('[rig]\nname = "bench"\n\n[generator]\nkind = "laser"\n', encoding="utf-8")
    with pytest.raises(RigError, match=r"bench\.toml:5: generator\.kind"):
        RigFileBackend(rig)


def test_the_simulated_rig_status_names_each_instrument() -> None:
    status = SimulatedBackend().rig_status()
    assert status.ok and status.simulated
    assert [line.split(":")[0] for line in status.instruments] == ["generator", "scope"]


def test_a_stop_asked_before_the_rig_opens_is_honoured_without_firing(tmp_path: Path) -> None:
    backend = SimulatedBackend()
    plan = make_plan(load_protocol("esope-needle-rows"))
    delivery = backend.delivery(plan)
    delivery.stop()
    events: list[EngineEvent] = []
    outcome = delivery.run(
        SessionRequest(plan=plan, operator="dr test", subject="S-1"),
        tmp_path,
        events.append,
        AlwaysConfirm(),
    )
    assert (outcome.outcome, outcome.stop_reason, outcome.pulses_delivered) == (
        "aborted",
        "operator-stop",
        0,
    )
    assert backend.last_bench.firmware.fire_executions == 0
