"""The keys of every screen, one page."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# pulsehost keys

Everywhere: **F1** this help · **F2** session (setup) · **F5** review · **Ctrl+Q** quit
(during a session Ctrl+Q stops it first; the app closes once the generator is safe).

## Setup
Tab / Shift+Tab move between fields · **Enter** or **F3** shows the plan ·
**Ctrl+R** checks the rig again. Errors appear under the field that caused them.

## Plan
**F4** opens the session (nothing is charged yet) · **Esc** back to setup.

## Deliver
The session starts at once and stops at the first train's arm question.

- **A** arm: the generator charges to the parameters shown, which it echoed itself
- **F** FIRE: offered only once the generator is ARMED (it disarms after 10 s)
- **N** decline or stand down: the session ends without firing
- **Esc** or **Space** STOP, in every state: ABORT to the generator, stop document
  written; nothing resumes on its own
- when the session has ended: **R** review it · **Esc** new session

## Review
**/** filter by protocol · outcome selector · **Enter** open · **Ctrl+R** reload.
In a session: **[** and **]** (or ↑ ↓ in the table) step through the pulses;
**E** export (HTML report, JSON, CSV, NPZ) · **Esc** back to the list.
"""


class HelpScreen(ModalScreen[None]):
    """Press Esc, F1 or Q to close."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("f1", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
