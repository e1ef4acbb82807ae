"""The setup and plan screens: errors beside their fields, the plan table, gated sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.pilot import Pilot
from ui_harness import (
    arm_and_fire,
    badge,
    choose,
    config,
    fill,
    rig_ready,
    run_app,
    setup_screen,
    start_session,
    until_finished,
    wait_until,
)

from protocols import load_protocol
from pulsehost.engine.events import EcgSeen
from pulsehost.engine.states import State
from pulsehost.ui import PulsehostApp, SimulatedBackend
from pulsehost.ui.screens.plan import PlanScreen
from pulsehost.ui.widgets.deliver.ecg_view import EcgView
from pulsehost.ui.widgets.setup.form import FormRow

pytestmark = pytest.mark.timeout(90)


def _row_error(app: PulsehostApp, field: str) -> str:
    row = app.screen.query_one(f"#{field}").parent.parent  # type: ignore[union-attr]
    assert isinstance(row, FormRow)
    return row.error


async def _plan_screen(pilot: Pilot[None], app: PulsehostApp) -> PlanScreen:
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan screen")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PlanScreen)
    return screen


def test_the_setup_screen_shows_the_simulated_rig_and_its_instruments(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        seen["rig"] = str(app.screen.query_one("#rig").render())
        seen["title"] = app.title

    run_app(SimulatedBackend(), config(tmp_path), body)

    assert "SIMULATED" in str(seen["rig"]) and "SIMULATED" in str(seen["title"])
    assert "generator: pulse generator firmware" in str(seen["rig"])
    assert "scope: KEYSIGHT" in str(seen["rig"])


def test_a_missing_operator_is_marked_on_its_field_and_the_form_stays(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        fill(app, operator="")
        await pilot.press("f3")
        await pilot.pause()
        seen["screen"] = type(app.screen).__name__
        seen["error"] = _row_error(app, "operator")
        seen["focus"] = app.focused.id if app.focused else None
        await pilot.press(*"dr keys")
        await pilot.press("enter")  # Enter in a field asks for the plan too
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")

    run_app(SimulatedBackend(), config(tmp_path, operator=""), body)

    assert seen["screen"] == "SetupScreen"
    assert "operator's name" in str(seen["error"])
    assert seen["focus"] == "operator"


def test_the_plan_screen_lists_each_train_with_its_predicted_current(tmp_path: Path) -> None:
    seen: dict[str, object] = {}
    given = (dt.datetime.now().astimezone() - dt.timedelta(minutes=10)).isoformat("T", "minutes")

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        choose(app, "protocol", "long-needles")
        await pilot.pause()
        fill(app, needles="example-4-needles", drug_time=given)
        screen = await _plan_screen(pilot, app)
        table = screen.query_one("#trains")
        seen["rows"] = [
            [str(table.get_cell_at((r, c))) for c in range(9)]  # type: ignore[attr-defined]
            for r in range(table.row_count)  # type: ignore[attr-defined]
        ]
        seen["header"] = str(screen.query_one("#plan-header").render())
        seen["can_deliver"] = screen.check_action("deliver", ())

    run_app(SimulatedBackend(), config(tmp_path), body)

    rows = seen["rows"]
    assert isinstance(rows, list) and len(rows) == 6
    # Needles A and B are 15 mm apart: 1000 V/cm gives 1500 V; the diagonal A-C 21.21 mm.
    assert rows[0][:5] == ["1", "A–B", "15.00", "1500", "8"]
    assert ["A–C", "21.21", "2121"] in [r[1:4] for r in rows]
    low, high = (float(x) for x in rows[0][8].split(".."))
    assert 0 < low < high
    assert "ECG-gated: R + 50 ms" in str(seen["header"])
    assert seen["can_deliver"] is True


def test_a_bad_protocol_file_is_shown_at_its_line_and_marked_on_its_field(tmp_path: Path) -> None:
    lines = load_protocol("esope-plates").source.text.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("width_us ="))
    lines[number - 1] = "width_us = 300000.0"
    bad = tmp_path / "mine.toml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        fill(app, protocol_file=str(bad))
        screen = await _plan_screen(pilot, app)
        seen["error"] = str(screen.query_one("#plan-error").render())
        seen["can_deliver"] = screen.check_action("deliver", ())
        await pilot.press("f4")
        seen["after_f4"] = type(app.screen).__name__
        await pilot.press("escape")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "setup")
        seen["field"] = _row_error(app, "protocol_file")

    run_app(SimulatedBackend(), config(tmp_path), body)

    text = str(seen["error"])
    assert f"{bad}:{number}" in text and "delivery.width_us" in text
    marked = [line for line in text.splitlines() if line.startswith(">")]
    assert len(marked) == 1 and f"{number} │ width_us = 300000.0" in marked[0]
    assert "◀ delivery.width_us" in marked[0]
    assert seen["can_deliver"] is False and seen["after_f4"] == "PlanScreen"
    assert "delivery.width_us" in str(seen["field"])


def test_a_gated_session_shows_the_drug_countdown_and_the_ecg_indicator(tmp_path: Path) -> None:
    seen: dict[str, object] = {}
    given = (dt.datetime.now().astimezone() - dt.timedelta(minutes=10)).isoformat("T", "minutes")
    # ECG beats are paced by the simulator's time scale like the pulses.
    backend = SimulatedBackend(time_scale=10.0)

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        choose(app, "protocol", "long-needles")
        await pilot.pause()
        fill(app, needles="example-4-needles", drug_time=given)
        screen = await start_session(pilot, app)
        seen["drug"] = str(screen.query_one("#drug").render())
        seen["drug_open"] = screen.query_one("#drug").has_class("-open")
        seen["ecg_before"] = str(screen.query_one("#ecg").render())
        seen["question"] = str(screen.query_one("#confirm").render())
        await arm_and_fire(pilot, app)  # train 1 of 6, one pulse per R wave
        await wait_until(pilot, lambda: screen.progress_line().startswith("train 2/6"), "train 2")
        seen["ecg"] = screen.query_one(EcgView).last
        seen["ecg_after"] = str(screen.query_one("#ecg").render())
        await pilot.press("escape")
        await until_finished(pilot, app)
        seen["state"] = badge(app)

    run_app(backend, config(tmp_path), body)

    assert "bleomycin IV" in str(seen["drug"]) and "open, closes in" in str(seen["drug"])
    assert seen["drug_open"] is True
    assert "ECG gated R+50 ms · waiting" in str(seen["ecg_before"])
    assert "ECG-gated R+50 ms" in str(seen["question"]) and "1500 V" in str(seen["question"])
    ecg = seen["ecg"]
    assert isinstance(ecg, EcgSeen) and ecg.kind == "TRIGGER"
    assert "TRIGGER" in str(seen["ecg_after"]) and f"RR {ecg.rr_ms} ms" in str(seen["ecg_after"])
    assert seen["state"] is State.ABORTED


def test_help_lists_the_keys_and_closes_with_escape(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help")
        seen["help"] = type(app.screen).__name__
        await pilot.press("escape")
        await pilot.pause()
        seen["after"] = type(setup_screen(app)).__name__

    run_app(SimulatedBackend(), config(tmp_path), body)

    assert seen == {"help": "HelpScreen", "after": "SetupScreen"}
