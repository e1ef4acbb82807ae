"""Driving the app in tests: run it headless on the simulated bench, wait, read the screen.

Waiting polls the app between Pilot pauses with a deadline, so a test that
goes wrong fails with the screen's text instead of hanging.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Select

from pulsehost.engine.states import State
from pulsehost.ui import PulsehostApp, UiConfig, make_app
from pulsehost.ui.backend import Backend
from pulsehost.ui.screens.deliver import DeliverScreen
from pulsehost.ui.screens.setup import SetupScreen

SIZE = (100, 32)
WAIT_S = 20.0
# A fixed local clock for the drug window, so the countdown reads the same every run.
FIXED_NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def config(store: Path, **overrides: Any) -> UiConfig:
    values: dict[str, Any] = {"store": store, "operator": "dr test", "export_dir": store.parent}
    values.update(overrides)
    return UiConfig(**values)


def screen_text(app: PulsehostApp) -> str:
    """The whole screen as plain text, as a person would read it off the terminal."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    # The same composition `App.export_screenshot` renders to SVG, kept as text.
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True
    )
    console.print(update)
    return console.export_text(styles=False)


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], what: str, timeout: float = WAIT_S
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}; screen:\n{screen_text(pilot.app)}"  # type: ignore[arg-type]
            )
        await pilot.pause(0.05)


def run_app(
    backend: Backend,
    ui_config: UiConfig,
    body: Callable[[Pilot[None], PulsehostApp], Awaitable[None]],
    *,
    size: tuple[int, int] = SIZE,
    messages: list[Message] | None = None,
) -> None:
    """Run `body` against the app in a headless terminal of `size`."""
    app = make_app(backend, ui_config)

    async def main() -> None:
        hook = messages.append if messages is not None else None
        async with app.run_test(size=size, message_hook=hook) as pilot:
            await body(pilot, app)

    asyncio.run(main())


def setup_screen(app: PulsehostApp) -> SetupScreen:
    screen = app.screen
    assert isinstance(screen, SetupScreen), type(screen).__name__
    return screen


def deliver_screen(app: PulsehostApp) -> DeliverScreen:
    screen = app.screen
    assert isinstance(screen, DeliverScreen), type(screen).__name__
    return screen


async def rig_ready(pilot: Pilot[None], app: PulsehostApp) -> None:
    await wait_until(pilot, lambda: setup_screen(app).rig_status is not None, "the rig status")
    await pilot.pause()


def fill(app: PulsehostApp, **fields: str) -> None:
    """Type into setup fields by id (operator, subject, drug_time, needles, ...)."""
    for field, value in fields.items():
        app.screen.query_one(f"#{field}", Input).value = value


def choose(app: PulsehostApp, field: str, value: object) -> None:
    app.screen.query_one(f"#{field}", Select).value = value


def badge(app: PulsehostApp) -> State:
    return deliver_screen(app).query_one("#state").state  # type: ignore[attr-defined, no-any-return]


async def start_session(pilot: Pilot[None], app: PulsehostApp) -> DeliverScreen:
    """From a filled setup form: F3 (plan), F4 (deliver), until the arm question shows."""
    await pilot.press("f3")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "PlanScreen", "the plan")
    await pilot.press("f4")
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, DeliverScreen) and app.screen.check_action("arm", ()),
        "the arm question",
    )
    return deliver_screen(app)


async def arm_and_fire(pilot: Pilot[None], app: PulsehostApp) -> None:
    screen = deliver_screen(app)
    await pilot.press("a")
    await wait_until(pilot, lambda: bool(screen.check_action("fire", ())), "the fire question")
    await pilot.press("f")


async def until_finished(pilot: Pilot[None], app: PulsehostApp) -> DeliverScreen:
    screen = deliver_screen(app)
    await wait_until(pilot, lambda: not screen.running, "the end of the session")
    await pilot.pause()
    return screen


_VOLATILE = (
    # Device and port numbers vary in width: the padding after them goes too.
    (re.compile(r"/dev/pts/\d+ *"), "/dev/pts/N "),
    (re.compile(r"127\.0\.0\.1::\d+::SOCKET *"), "127.0.0.1::PORT::SOCKET "),
    (re.compile(r"\d{8}T\d{6}Z_[0-9a-f]{8}"), "YYYYMMDDTHHMMSSZ_SESSION"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "SESSIONID"),
    (re.compile(r"(session )[0-9a-f]{8}\b"), r"\1SESSION"),
    (re.compile(r"^(\s*)[0-9a-f]{8}(  )", re.MULTILINE), r"\1SESSION\2"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?"), "DATE TIME"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}\.\d{3}\b"), "HH:MM:SS.mmm"),
    (re.compile(r"final hash [0-9a-f]{16}"), "final hash HASH"),
    (re.compile(r"hash [0-9A-F]{8}\b"), "hash PARAMS"),
)


def normalise(text: str, *paths: Path) -> str:
    """Screen text without what changes from run to run: ids, times, ports, temp paths."""
    for path in paths:
        text = text.replace(str(path), "<STORE>")
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
