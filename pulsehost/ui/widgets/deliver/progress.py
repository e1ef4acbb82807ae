"""Progress over the session's pulses and trains."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar


class SessionProgress(Vertical):
    """A bar over every planned pulse and a line naming the train in hand."""

    def __init__(self, trains: int, pulses: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trains = trains
        self.pulses = pulses
        self.train = 0
        self.done = 0

    def compose(self) -> ComposeResult:
        yield Label(self.line(), classes="progress-line")
        yield ProgressBar(total=max(1, self.pulses), show_eta=False)

    def on_train(self, train: int) -> None:
        self.train = train
        self.query_one(".progress-line", Label).update(self.line())

    def on_pulse(self, index: int) -> None:
        self.done = max(self.done, index)
        self.query_one(ProgressBar).update(progress=self.done)
        self.query_one(".progress-line", Label).update(self.line())

    def line(self) -> str:
        train = f"train {self.train}/{self.trains}" if self.train else f"{self.trains} train(s)"
        return f"{train} · pulses {self.done}/{self.pulses}"
