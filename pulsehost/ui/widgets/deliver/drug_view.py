"""The drug-window countdown, redrawn once a second by a timer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.widgets import Static

from protocols import DrugTiming, DrugWindow
from pulsehost.ui.drug_clock import drug_clock

WINDOW_CLASSES = {w: f"-{w.value}" for w in DrugWindow}


class DrugView(Static):
    """`bleomycin IV 12:30 since · window 8-28 min · open, closes in 15:30`."""

    def __init__(
        self,
        timing: DrugTiming,
        given_at: dt.datetime,
        now: Callable[[], dt.datetime],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._timing = timing
        self._given_at = given_at
        self._now = now

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        clock = drug_clock(self._timing, self._given_at, self._now())
        for window, css_class in WINDOW_CLASSES.items():
            self.set_class(window is clock.window, css_class)
        self.update(clock.text)
