"""Reviewing recorded sessions: list, filters, detail, stepping through pulses, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select
from ui_harness import (
    config,
    run_app,
    wait_until,
)

from pulsehost.journal import Session, list_sessions
from pulsehost.ui import PulsehostApp, SimulatedBackend
from pulsehost.ui.pulse_rows import Traces
from pulsehost.ui.screens.review import ReviewScreen
from pulsehost.ui.screens.session import SessionScreen
from pulsehost.ui.widgets.pulses.table import PulseTable
from pulsehost.ui.widgets.pulses.waveforms import WaveformPlots
from pulsehost.ui.widgets.review.session_list import SessionList

pytestmark = pytest.mark.timeout(90)


def _is(app: PulsehostApp, kind: type) -> bool:
    return isinstance(app.screen, kind)


async def _review_listed(pilot: Pilot[None], app: PulsehostApp) -> ReviewScreen:
    await pilot.press("f5")
    await wait_until(pilot, lambda: _is(app, ReviewScreen), "the review screen")
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_until(pilot, lambda: bool(screen.sessions), "the session list")
    return screen


async def _opened(pilot: Pilot[None], app: PulsehostApp) -> SessionScreen:
    await wait_until(pilot, lambda: _is(app, SessionScreen), "the session screen")
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    await wait_until(pilot, lambda: screen.session is not None, "the session to be read")
    await pilot.pause()
    return screen


def test_the_list_shows_every_session_and_filters_by_outcome_and_protocol(
    recorded_store: Path,
) -> None:
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        screen = await _review_listed(pilot, app)
        table = screen.query_one(SessionList)
        seen["all"] = table.row_count
        screen.query_one("#filter-outcome", Select).value = "aborted"
        await pilot.pause()
        seen["aborted"] = [s.reason for s in screen.shown]
        seen["aborted_rows"] = table.row_count
        screen.query_one("#filter-outcome", Select).clear()
        await pilot.press("slash")
        await pilot.press(*"plates")
        await pilot.pause()
        seen["plates"] = table.row_count
        seen["count"] = str(screen.query_one("#review-count").render())
        screen.query_one("#filter-protocol", Input).value = "NEEDLE"
        await pilot.pause()
        seen["needle"] = table.row_count

    run_app(SimulatedBackend(), config(recorded_store), body)

    assert seen["all"] == 2
    assert seen["aborted"] == ["overcurrent"] and seen["aborted_rows"] == 1
    assert seen["plates"] == 0 and "0 of 2 sessions" in str(seen["count"])
    assert seen["needle"] == 2


def test_a_session_opens_from_the_list_and_its_pulses_step_with_the_keys(
    recorded_store: Path,
) -> None:
    completed = next(s for s in list_sessions(recorded_store) if s.outcome == "completed")
    session = Session.read(recorded_store / completed.directory)
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        review = await _review_listed(pilot, app)
        review.query_one("#filter-outcome", Select).value = "completed"
        await pilot.pause()
        review.query_one(SessionList).focus()
        await pilot.press("enter")
        screen = await _opened(pilot, app)
        plots = screen.query_one(WaveformPlots)
        seen["header"] = str(screen.query_one("#header").render())
        seen["rows"] = screen.query_one(PulseTable).row_count
        seen["events"] = screen.query_one("#events").row_count  # type: ignore[attr-defined]
        steps = [plots.shown]
        for key in ("right_square_bracket", "right_square_bracket", "left_square_bracket"):
            await pilot.press(key)
            steps.append(plots.shown)
        await pilot.press("down")  # the table's own cursor moves the plots too
        await pilot.pause()
        steps.append(plots.shown)
        seen["steps"] = steps
        await pilot.press("escape")
        seen["back"] = type(app.screen).__name__

    run_app(SimulatedBackend(), config(recorded_store), body)

    assert "COMPLETED" in str(seen["header"]) and "8/8 pulses" in str(seen["header"])
    assert "integrity: intact" in str(seen["header"]) and "SIMULATED" in str(seen["header"])
    assert seen["rows"] == 8 and seen["events"] == len(session.events)
    assert seen["steps"] == [
        "pulse 1 of 8",
        "pulse 2 of 8",
        "pulse 3 of 8",
        "pulse 2 of 8",
        "pulse 3 of 8",
    ]
    assert seen["back"] == "ReviewScreen"


def test_the_plot_draws_the_journalled_waveform_of_the_chosen_pulse(recorded_store: Path) -> None:
    completed = next(s for s in list_sessions(recorded_store) if s.outcome == "completed")
    directory = recorded_store / completed.directory
    expected = Session.read(directory).waveforms(3)["voltage"]
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        review = await _review_listed(pilot, app)
        review.open_session(directory)
        screen = await _opened(pilot, app)
        screen.show_pulse(2)
        seen["traces"] = screen.query_one(WaveformPlots).traces

    run_app(SimulatedBackend(), config(recorded_store), body)

    traces = seen["traces"]
    assert isinstance(traces, Traces)
    # Thinned for the terminal, but every point drawn is the journal's sample at that time.
    assert 100 <= traces.voltage.size <= 400
    samples = np.rint((traces.voltage_time_us * 1e-6 - expected.t0_s) / expected.dt_s).astype(int)
    np.testing.assert_allclose(traces.voltage, expected.values()[samples])
    assert traces.voltage.max() > 0.9 * 400  # the 400 V plateau of pulse 3 is in the picture


def test_export_writes_the_chosen_format_where_asked(recorded_store: Path, tmp_path: Path) -> None:
    starts = {"html": b"<!DOCTYPE html>", "csv": b"index,"}
    seen: dict[str, object] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        review = await _review_listed(pilot, app)
        review.query_one(SessionList).focus()
        await pilot.press("enter")
        screen = await _opened(pilot, app)
        status = screen.query_one("#export-status")
        for kind in starts:
            await pilot.press("e")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ExportScreen", "export")
            app.screen.query_one("#export-kind", Select).value = kind
            await pilot.pause()
            seen[f"suggested {kind}"] = app.screen.query_one("#export-path", Input).value
            app.screen.query_one("#export-path", Input).value = str(tmp_path / f"out.{kind}")
            await pilot.press("enter")
            await wait_until(pilot, lambda k=kind: f"out.{k}" in str(status.render()), "export")
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ExportScreen", "export")
        await pilot.press("escape")  # cancelled: nothing is written
        await wait_until(pilot, lambda: app.screen is screen, "the session screen")

    run_app(SimulatedBackend(), config(recorded_store), body)

    for kind, first in starts.items():
        assert str(seen[f"suggested {kind}"]).endswith(f".{kind}")
        assert (tmp_path / f"out.{kind}").read_bytes().startswith(first)
    # No temporary file left behind, and nothing written by the cancelled export.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.html"]
