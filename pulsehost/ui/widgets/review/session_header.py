"""A recorded session's header: who, what, the outcome and whether the journal verifies."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pulsehost.journal import Session

OUTCOME_STYLES = {
    "completed": "bold green",
    "aborted": "bold red",
    "fault": "bold red",
    "interrupted": "bold yellow",
}


class SessionHeader(Static):
    """Outcome, counts, reason, protocol, operator, subject and the integrity verdict."""

    def show(self, session: Session) -> None:
        start = session.start
        stop = session.stop or {}
        protocol = start.get("protocol")
        if not isinstance(protocol, dict):
            protocol = {}
        text = Text()
        if session.simulated:
            text.append(" SIMULATED ", style="bold black on yellow")
            text.append(" ")
        text.append(f"session {session.short_id}  ", style="bold")
        text.append(session.outcome.upper(), style=OUTCOME_STYLES.get(session.outcome, "bold"))
        planned = session.pulses_planned
        text.append(f"  {session.pulses_delivered}/{'?' if planned is None else planned} pulses")
        if stop.get("reason"):
            text.append(f"  reason {stop.get('reason')}")
        text.append("\n")
        text.append(
            f"protocol {protocol.get('id', '?')} {protocol.get('version', '')} · "
            f"operator {start.get('operator', '?')} · subject {start.get('subject', '?')} · "
            f"started {start.get('utc', '?')}\n"
        )
        if stop.get("message"):
            text.append(f"{stop.get('message')}\n")
        ok = session.integrity.ok
        text.append("integrity: ", style="bold")
        text.append(session.integrity.describe(), style="green" if ok else "bold red")
        self.set_class(not ok, "-broken")
        self.update(text)
