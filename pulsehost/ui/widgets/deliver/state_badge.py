"""The large session-state indicator: IDLE, READY, ARMED, FIRING, DONE, ABORTED, FAULT."""

from __future__ import annotations

from textual.widgets import Static

from pulsehost.engine.states import State

# PREFLIGHT is shown as such; the colours come from pulsehost.tcss by class.
STATE_CLASSES = {state: f"-{state.value.lower()}" for state in State}


class StateBadge(Static):
    """Shows one state in large, coloured letters."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = State.IDLE

    def on_mount(self) -> None:
        self.show(State.IDLE)

    def show(self, state: State) -> None:
        self.state = state
        for known, css_class in STATE_CLASSES.items():
            self.set_class(known is state, css_class)
        self.update(state.value)
