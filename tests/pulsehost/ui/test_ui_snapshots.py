"""Pinned screens: the text of key screens at 100×32 after the keys that lead there.

Each snapshot is the screen as plain text with what changes between runs (session
ids, times, ports, paths) replaced by placeholders. To regenerate after an intended
change, run

    PULSEHOST_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/pulsehost/ui/test_ui_snapshots.py

and review the diff. Snapshots record the Textual version that drew them; with
another version the comparison is skipped, since the library may draw differently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import textual
from textual.pilot import Pilot
from ui_harness import (
    SIZE,
    arm_and_fire,
    config,
    normalise,
    rig_ready,
    run_app,
    screen_text,
    start_session,
    until_finished,
    wait_until,
)

from pulsehost.ui import PulsehostApp, SimulatedBackend
from pulsehost.ui.screens.session import SessionScreen

pytestmark = pytest.mark.timeout(90)

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("PULSEHOST_UPDATE_SNAPSHOTS") == "1"
HEADER = f"# textual {textual.__version__}, {SIZE[0]}x{SIZE[1]}; see test_ui_snapshots.py\n"


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        path.write_text(HEADER + text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}; create it with PULSEHOST_UPDATE_SNAPSHOTS=1")
    header, _, pinned = path.read_text(encoding="utf-8").partition("\n")
    if header + "\n" != HEADER:
        pytest.skip(f"{path.name} was drawn by another Textual ({header[2:]})")
    assert text == pinned, f"{path.name} differs; regenerate if the change is intended"


@pytest.fixture
def relative_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A relative store keeps paths on screen the same length on every machine.
    monkeypatch.chdir(tmp_path)
    return Path("store")


def test_setup_deliver_done_and_review_screens(relative_store: Path) -> None:
    shots: dict[str, str] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        shots["setup-idle"] = screen_text(app)
        await start_session(pilot, app)
        await arm_and_fire(pilot, app)
        await until_finished(pilot, app)
        await pilot.pause(0.2)
        shots["deliver-done"] = screen_text(app)
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, SessionScreen) and app.screen.session is not None,
            "the session",
        )
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.2)
        shots["review-session"] = screen_text(app)

    run_app(SimulatedBackend(), config(relative_store, export_dir=Path(".")), body)

    for name, text in shots.items():
        _check(name, normalise(text))


def test_fault_screen(relative_store: Path) -> None:
    shots: dict[str, str] = {}

    async def body(pilot: Pilot[None], app: PulsehostApp) -> None:
        await rig_ready(pilot, app)
        await start_session(pilot, app)
        await arm_and_fire(pilot, app)
        await until_finished(pilot, app)
        await pilot.pause(0.2)
        shots["deliver-fault"] = screen_text(app)

    run_app(SimulatedBackend(faults=["overcurrent@5"]), config(relative_store), body)

    _check("deliver-fault", normalise(shots["deliver-fault"]))
