"""The rig as the backend reports it: a SIMULATED banner, its name and every identity."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pulsehost.ui.backend import RigStatus


class RigStatusView(Static):
    """Shows `checking…` until the backend has opened the rig and read the identities."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.status: RigStatus | None = None

    def on_mount(self) -> None:
        self.checking()

    def checking(self) -> None:
        self.status = None
        self.set_class(False, "-problem")
        self.update(Text("Rig: checking the instruments…", style="italic"))

    def show(self, status: RigStatus) -> None:
        self.status = status
        text = Text()
        if status.simulated:
            text.append(" SIMULATED ", style="bold black on yellow")
            text.append(" no pulses reach a patient\n")
        text.append("Rig: ", style="bold")
        text.append(status.name)
        for line in status.instruments:
            text.append(f"\n  {line}")
        if status.problem:
            text.append("\n  not ready: ", style="bold red")
            text.append(status.problem)
        self.set_class(not status.ok, "-problem")
        self.update(text)
