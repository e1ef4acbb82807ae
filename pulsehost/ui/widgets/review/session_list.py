"""The sessions in the store, newest first, and the filters over them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable

from pulsehost.journal import SessionSummary

OUTCOME_STYLES = {
    "completed": "green",
    "aborted": "red",
    "fault": "bold red",
    "interrupted": "yellow",
}
COLUMNS = ("id", "started (UTC)", "outcome", "protocol", "pulses", "operator", "")


def filter_sessions(
    sessions: Iterable[SessionSummary], protocol: str = "", outcome: str | None = None
) -> list[SessionSummary]:
    """Sessions whose protocol id contains `protocol` (any case) and, if given, with `outcome`."""
    wanted = protocol.strip().lower()
    return [
        s
        for s in sessions
        if (not wanted or wanted in (s.protocol_id or "").lower())
        and (outcome is None or s.outcome == outcome)
    ]


class SessionList(DataTable[Text]):
    """One row per session, keyed by its directory name within the store."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column or "simulated")

    def show(self, sessions: Sequence[SessionSummary]) -> None:
        self.clear()
        for s in sessions:
            planned = "?" if s.pulses_planned is None else str(s.pulses_planned)
            self.add_row(
                Text(s.short_id),
                Text((s.started_utc or "?")[:19].replace("T", " ")),
                Text(s.outcome, style=OUTCOME_STYLES.get(s.outcome, "")),
                Text(s.protocol),
                Text(f"{s.pulses_delivered}/{planned}", justify="right"),
                Text(s.operator or ""),
                Text("SIMULATED", style="bold black on yellow") if s.simulated else Text(""),
                key=s.directory,
            )
