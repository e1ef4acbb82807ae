"""Delivering sessions through the app on the built-in simulated bench, keys only."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from textual.pilot import Pilot
from ui_harness import (
    arm_and_fire,
    badge,
    choose,
    config,
    fill,
    rig_ready,
    run_app,
    screen_text,
    start_session,
    until_finished,
    wait_until,
)

from pulsehost.engine.states import State
from pulsehost.journal import Session, list_sessions
from pulsehost.ui import PulsehostApp, RigFileBackend, SimulatedBackend
from pulsehost.ui.messages import (
    ArmRequested,
    FindingRaised,
    FireRequested,
    PulseMeasured,
    SessionClosed,
    SessionStateChanged,
)
from pulsehost.ui.screens.session import SessionScreen
from pulsehost.ui.widgets.deliver.findings_log import FindingsLog
from pulsehost.ui.widgets.pulses.table import PulseTable
from pulsehost.ui.widgets.pulses.waveforms import WaveformPlots

pytestmark = pytest.mark.timeout(90)


def _of(messages: list[Message], kind: type[Message]) -> list[Message]:
    return [m for m in messages if isinstance(m, kind)]


def test_a_full_delivery_fills_the_pulse_table_and_writes_a_verified_journal(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    messages: list[Message] = []
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        fill(app, subject="S-0042")
        screen = await start_session(pilot, app)
        # The arm question echoes what the generator holds, and nothing has fired yet.
        seen["question"] = str(screen.query_one("#confirm").render())
        assert badge(app) is State.READY
        assert not screen.check_action("fire", ())
        await arm_and_fire(pilot, app)
        await until_finished(pilot, app)
        seen["state"] = badge(app)
        table = screen.query_one(PulseTable)
        seen["rows"] = [
            [str(table.get_cell_at((r, c))) for c in range(3)] for r in range(table.row_count)
        ]
        seen["plot"] = screen.query_one(WaveformPlots).shown
        seen["journal"] = screen.journal
        seen["screen"] = screen_text(app)
        await pilot.press("r")  # straight to this session in review
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, SessionScreen) and app.screen.session is not None,
            "the session in review",
        )
        seen["reviewed"] = app.screen.directory  # type: ignore[attr-defined]

    run_app(SimulatedBackend(), config(store), body, messages=messages)

    assert seen["state"] is State.DONE
    assert "400 V, 8 x 100 us at 5000 Hz" in str(seen["question"])
    pulses = _of(messages, PulseMeasured)
    assert [m.event.index for m in pulses] == list(range(1, 9))  # type: ignore[attr-defined]
    assert seen["rows"] == [[str(i), f"1/{i}", "ok"] for i in range(1, 9)]
    assert seen["plot"] == "pulse 8 (1/8)"
    states = [m.event.state for m in _of(messages, SessionStateChanged)]  # type: ignore[attr-defined]
    assert State.ARMED in states and State.FIRING in states and states[-1] is State.DONE
    assert len(_of(messages, ArmRequested)) == 1 and len(_of(messages, FireRequested)) == 1
    closed = _of(messages, SessionClosed)
    assert [m.event.outcome for m in closed] == ["completed"]  # type: ignore[attr-defined]
    assert "COMPLETED" in str(seen["screen"]) and "SIMULATED" in str(seen["screen"])

    journal = seen["journal"]
    assert isinstance(journal, Path) and journal.parent == store
    assert seen["reviewed"] == journal
    session = Session.read(journal)
    assert session.integrity.ok and session.integrity.status == "intact"
    assert session.outcome == "completed" and len(session.pulses) == 8
    assert session.start["subject"] == "S-0042" and session.start["operator"] == "dr test"
    assert session.simulated


def test_a_stop_finding_mid_train_aborts_with_the_finding_shown(tmp_path: Path) -> None:
    store = tmp_path / "store"
    messages: list[Message] = []
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        await start_session(pilot, app)
        await arm_and_fire(pilot, app)
        screen = await until_finished(pilot, app)
        seen["state"] = badge(app)
        seen["log"] = list(screen.query_one(FindingsLog).entries)
        seen["confirm"] = str(screen.query_one("#confirm").render())
        seen["rows"] = screen.query_one(PulseTable).row_count
        seen["can_review"] = screen.check_action("review", ())

    run_app(SimulatedBackend(faults=["overcurrent@5"]), config(store), body, messages=messages)

    assert seen["state"] is State.ABORTED
    stops = [m for m in _of(messages, FindingRaised) if m.finding.level == "stop"]  # type: ignore[attr-defined]
    assert [(m.finding.code, m.finding.pulse) for m in stops] == [("overcurrent", 5)]  # type: ignore[attr-defined]
    message = stops[0].finding.message  # type: ignore[attr-defined]
    assert any(message in line and line.startswith("STOP") for line in seen["log"])  # type: ignore[attr-defined]
    assert "ABORTED (overcurrent)" in str(seen["confirm"])
    assert seen["rows"] == 5 and seen["can_review"]
    (summary,) = list_sessions(store)
    assert (summary.outcome, summary.reason, summary.pulses_delivered) == (
        "aborted",
        "overcurrent",
        5,
    )


def _discharged(backend: SimulatedBackend) -> bool:
    firmware = backend.last_bench.firmware
    # DONE becomes IDLE once the bank is safe, but only while the bench still runs; the
    # session closes the bench as it ends, so DONE (discharging, no token) may remain.
    return bool(firmware.discharged) and firmware.state.name in ("IDLE", "DONE", "FAULT")


@pytest.mark.parametrize("when", [State.READY, State.ARMED, State.FIRING])
def test_the_stop_key_aborts_in_every_state_and_leaves_the_generator_discharged(
    tmp_path: Path, when: State
) -> None:
    store = tmp_path / "store"
    # At 1 Hz (paced 4 times faster) the train lasts about 2 s: long enough to stop it firing.
    backend = SimulatedBackend(time_scale=4.0)
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        choose(app, "rate", 1.0)
        screen = await start_session(pilot, app)
        if when is not State.READY:
            await pilot.press("a")
            await wait_until(pilot, lambda: badge(app) is State.ARMED, "ARMED")
        if when is State.FIRING:
            await pilot.press("f")
            await wait_until(pilot, lambda: badge(app) is State.FIRING, "FIRING")
        assert screen.running
        await pilot.press("escape")
        await until_finished(pilot, app)
        seen["state"] = badge(app)
        seen["log"] = list(screen.query_one(FindingsLog).entries)
        await wait_until(pilot, lambda: _discharged(backend), "the bank to discharge", 5.0)
        # After the stop the same key offers a new session; nothing resumes by itself.
        seen["keys"] = (screen.check_action("stop", ()), screen.check_action("new_session", ()))

    run_app(backend, config(store), body)

    assert seen["state"] is State.ABORTED
    assert seen["keys"] == (False, True)
    assert any("operator-stop" in line for line in seen["log"])  # type: ignore[attr-defined]
    (summary,) = list_sessions(store)
    assert (summary.outcome, summary.reason) == ("aborted", "operator-stop")
    assert summary.pulses_delivered < 8
    assert backend.last_bench.firmware.pulses_delivered < 8


def test_declining_the_arm_question_ends_the_session_without_charging(tmp_path: Path) -> None:
    store = tmp_path / "store"
    backend = SimulatedBackend()
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        await start_session(pilot, app)
        await pilot.press("f")  # fire is not offered before the generator is armed
        await pilot.press("n")
        await until_finished(pilot, app)
        seen["state"] = badge(app)
        await pilot.press("escape")  # once ended, Esc goes back to a new session
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "setup")

    run_app(backend, config(store), body)

    assert seen["state"] is State.ABORTED
    assert backend.last_bench.firmware.fire_executions == 0
    (summary,) = list_sessions(store)
    assert (summary.outcome, summary.reason) == ("aborted", "operator-declined")


def test_screens_cannot_be_left_while_a_session_runs(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        await start_session(pilot, app)
        await pilot.press("f5")
        seen["during"] = type(app.screen).__name__
        seen["review_key"] = app.check_action("show_review", ())
        await pilot.press("escape")
        await until_finished(pilot, app)
        seen["after_key"] = app.check_action("show_review", ())

    run_app(SimulatedBackend(), config(tmp_path / "store"), body)

    assert seen["during"] == "DeliverScreen"
    assert seen["review_key"] is None  # shown greyed in the footer
    assert seen["after_key"] is True


def test_a_rig_that_will_not_open_is_reported_on_the_delivery_screen(tmp_path: Path) -> None:
    rig = tmp_path / "bench.toml"
    rig.write_text(
        '[rig]\nname = "no such bench"\nsimulated = true\n\n'
        '[generator]\nkind = "firmware"\nurl = "socket://127.0.0.1:9"\ntimeout_s = 0.5\n\n'
        "[limits]\nv_max_v = 1000.0\ni_max_a = 20.0\n"
    )
    backend = RigFileBackend(rig)
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        status = app.screen.rig_status  # type: ignore[attr-defined]
        seen["status"] = status
        await pilot.press("f3")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "PlanScreen", "the plan")
        await pilot.press("f4")
        screen = await until_finished(pilot, app)
        seen["state"] = badge(app)
        seen["log"] = list(screen.query_one(FindingsLog).entries)

    run_app(backend, config(tmp_path / "store"), body)

    assert seen["status"].problem  # type: ignore[attr-defined]
    assert seen["state"] is State.FAULT
    assert any("could not be opened" in line for line in seen["log"])  # type: ignore[attr-defined]
