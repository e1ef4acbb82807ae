"""What the operator is asked now: arm with the generator's echoed parameters, then fire."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pulsehost.engine.confirm import ArmQuestion


class ConfirmPanel(Static):
    """The pending question and the keys that answer it; empty when nothing is asked."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.asking = ""  # "arm", "fire" or ""

    def ask_arm(self, question: ArmQuestion) -> None:
        self.asking = "arm"
        text = Text()
        text.append("The generator holds: ", style="bold")
        text.append(question.describe())
        text.append("\n")
        text.append(" A ", style="bold reverse")
        text.append(" arm (charge)   ")
        text.append(" N ", style="bold reverse")
        text.append(" decline   ")
        text.append(" Esc ", style="bold reverse")
        text.append(" STOP")
        self.set_class(True, "-asking")
        self.update(text)

    def ask_fire(self, question: ArmQuestion) -> None:
        self.asking = "fire"
        text = Text()
        text.append(
            f"ARMED: train {question.arming.train}/{question.arming.trains}. ", style="bold"
        )
        text.append("The generator disarms by itself if not fired within 10 s.\n")
        text.append(" F ", style="bold reverse")
        text.append(" FIRE   ")
        text.append(" N ", style="bold reverse")
        text.append(" stand down   ")
        text.append(" Esc ", style="bold reverse")
        text.append(" STOP")
        self.set_class(True, "-asking")
        self.update(text)

    def say(self, message: str) -> None:
        self.asking = ""
        self.set_class(False, "-asking")
        self.update(Text(message))
