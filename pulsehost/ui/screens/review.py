"""Review: the sessions in the store, with filters; Enter opens one."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select

from pulsehost.journal import JournalReadError, SessionSummary, list_sessions
from pulsehost.ui.config import UiConfig
from pulsehost.ui.widgets.review.session_list import SessionList, filter_sessions

OUTCOMES = ("completed", "aborted", "fault", "interrupted")


def _sessions(count: int) -> str:
    return f"{count} session" if count == 1 else f"{count} sessions"


class SessionsListed(Message, bubble=False):
    """The store was read (posted from the reading thread)."""

    def __init__(self, sessions: list[SessionSummary], problem: str | None = None) -> None:
        super().__init__()
        self.sessions = sessions
        self.problem = problem


class ReviewScreen(Screen[None]):
    """Every recorded session, newest first; filter by protocol and outcome."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "filter", "Filter"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, config: UiConfig) -> None:
        super().__init__()
        self.config = config
        self.sessions: list[SessionSummary] = []
        self.shown: list[SessionSummary] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="review-filters"):
            yield Input(placeholder="protocol contains…", compact=True, id="filter-protocol")
            yield Select(
                [(o, o) for o in OUTCOMES],
                prompt="any outcome",
                compact=True,
                id="filter-outcome",
            )
        yield Label("Reading the store…", id="review-count")
        yield SessionList(id="sessions")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Review"
        self.query_one(SessionList).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(self._read, thread=True, group="list", exclusive=True)

    def _read(self) -> None:
        try:
            found = list_sessions(self.config.store)
        except JournalReadError as exc:
            self.post_message(SessionsListed([], str(exc)))
            return
        self.post_message(SessionsListed(found))

    def on_sessions_listed(self, message: SessionsListed) -> None:
        self.sessions = message.sessions
        if message.problem:
            self.query_one("#review-count", Label).update(message.problem)
            return
        self._apply_filters()

    @on(Input.Changed, "#filter-protocol")
    @on(Select.Changed, "#filter-outcome")
    def _filters_changed(self) -> None:
        self._apply_filters()

    @on(Input.Submitted, "#filter-protocol")
    def _filter_done(self) -> None:
        self.query_one(SessionList).focus()

    def _apply_filters(self) -> None:
        outcome = self.query_one("#filter-outcome", Select).value
        self.shown = filter_sessions(
            self.sessions,
            self.query_one("#filter-protocol", Input).value,
            outcome if isinstance(outcome, str) else None,
        )
        self.query_one(SessionList).show(self.shown)
        store = self.config.store
        if not self.sessions:
            count = f"No sessions in {store}."
        elif len(self.shown) == len(self.sessions):
            count = f"{_sessions(len(self.sessions))} in {store}"
        else:
            count = f"{len(self.shown)} of {_sessions(len(self.sessions))} in {store} match"
        self.query_one("#review-count", Label).update(count)

    def action_filter(self) -> None:
        self.query_one("#filter-protocol", Input).focus()

    @on(DataTable.RowSelected, "#sessions")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_session(self.config.store / event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one(SessionList)
        if not self.shown or table.cursor_row < 0:
            return
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        if row_key.value is not None:
            self.open_session(self.config.store / row_key.value)

    def open_session(self, directory: Path) -> None:
        from pulsehost.ui.screens.session import SessionScreen

        self.app.push_screen(SessionScreen(directory, self.config))
