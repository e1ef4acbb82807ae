"""One recorded session: header and integrity, pulses, waveforms pulse by pulse, events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from pulsehost.journal import JournalReadError, Session
from pulsehost.journal.export import event_details
from pulsehost.ui.config import UiConfig
from pulsehost.ui.export_files import write_export
from pulsehost.ui.pulse_rows import PulseRow, Traces
from pulsehost.ui.widgets.pulses.table import PulseTable
from pulsehost.ui.widgets.pulses.waveforms import WaveformPlots
from pulsehost.ui.widgets.review.session_header import SessionHeader


class SessionRead(Message, bubble=False):
    """The session was read and its chain checked (posted from the reading thread)."""

    def __init__(self, session: Session | None, problem: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.problem = problem


class ExportDone(Message, bubble=False):
    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, ensure_ascii=False)


class SessionScreen(Screen[None]):
    """Step through the pulses with [ and ] (or the arrow keys in the table)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "step(-1)", "◂ Pulse"),
        Binding("right_square_bracket", "step(1)", "Pulse ▸"),
        Binding("e", "export", "Export"),
        Binding("escape", "back", "◂ Sessions"),
    ]

    def __init__(self, directory: Path, config: UiConfig) -> None:
        super().__init__()
        self.directory = directory
        self.config = config
        self.session: Session | None = None
        self.pulse_index: int | None = None  # the pulse whose waveforms are shown

    def compose(self) -> ComposeResult:
        yield Header()
        yield SessionHeader(f"Reading {self.directory.name} and checking its chain…", id="header")
        with Horizontal(id="session-main"):
            yield PulseTable(id="review-pulses")
            yield WaveformPlots(id="review-plots")
        yield DataTable[Text](id="events", cursor_type="row", zebra_stripes=True)
        yield Label("", id="export-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Session {self.directory.name}"
        events = self.query_one("#events", DataTable)
        for column in ("UTC", "event", "details"):
            events.add_column(column, key=column)
        self.run_worker(self._read, thread=True, group="read", exclusive=True)

    def _read(self) -> None:
        try:
            self.post_message(SessionRead(Session.read(self.directory)))
        except JournalReadError as exc:
            self.post_message(SessionRead(None, str(exc)))

    def on_session_read(self, message: SessionRead) -> None:
        if message.session is None:
            self.query_one(SessionHeader).update(Text(message.problem or "", style="bold red"))
            return
        session = self.session = message.session
        self.query_one(SessionHeader).show(session)
        self.query_one(PulseTable).show(PulseRow.from_document(p) for p in session.pulses)
        events = self.query_one("#events", DataTable)
        for document in session.events:
            details = event_details(document)
            events.add_row(
                Text(str(document.get("utc", ""))[11:23]),
                Text(str(document.get("event", ""))),
                Text("; ".join(f"{k}: {_value(v)}" for k, v in details.items())),
            )
        if session.pulses:
            self.show_pulse(0)
        else:
            self.query_one(WaveformPlots).show(None, "no pulse was delivered")

    # -- waveforms -----------------------------------------------------------------------

    def show_pulse(self, position: int) -> None:
        """Draw the pulse at `position` (0-based) in the session's pulse list."""
        session = self.session
        if session is None or not session.pulses:
            return
        position = max(0, min(position, len(session.pulses) - 1))
        document = session.pulses[position]
        index = int(document.get("index", position + 1))
        self.pulse_index = index
        title = f"pulse {index} of {len(session.pulses)}"
        try:
            traces = Traces.from_blocks(session.waveforms(document))
        except JournalReadError as exc:
            traces = None
            title += f": {exc}"
        else:
            if traces is None:
                title += " (no waveforms recorded)"
        self.query_one(WaveformPlots).show(traces, title)

    @on(DataTable.RowHighlighted, "#review-pulses")
    def _pulse_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_pulse(event.cursor_row)

    def action_step(self, delta: int) -> None:
        table = self.query_one(PulseTable)
        if not table.row_count:
            return
        row = max(0, min(table.cursor_row + delta, table.row_count - 1))
        table.move_cursor(row=row)
        self.show_pulse(row)

    # -- export ------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.session is None:
            return
        from pulsehost.ui.screens.export import ExportScreen

        self.app.push_screen(
            ExportScreen(self.session, self.config.export_dir), callback=self._export_chosen
        )

    def _export_chosen(self, choice: tuple[str, Path] | None) -> None:
        if choice is None or self.session is None:
            return
        kind, path = choice
        session = self.session
        self.query_one("#export-status", Label).update(f"Writing {path}…")

        def write() -> None:
            try:
                written = write_export(session, kind, path)
            except (OSError, JournalReadError) as exc:
                self.post_message(ExportDone(f"could not write {path}: {exc}", ok=False))
                return
            self.post_message(ExportDone(f"Wrote {written}", ok=True))

        self.run_worker(write, thread=True, group="export")

    def on_export_done(self, message: ExportDone) -> None:
        label = self.query_one("#export-status", Label)
        label.set_class(not message.ok, "-error")
        label.update(message.text)
        self.notify(message.text, severity="information" if message.ok else "error")

    def action_back(self) -> None:
        self.app.pop_screen()
