"""One labelled row of the setup form, with room for the error that belongs to it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label


class FormRow(Horizontal):
    """`label  [field]` with the field's error (or hint) on the line below it."""

    def __init__(self, label: str, field: Widget, *, hint: str = "") -> None:
        super().__init__(classes="form-row")
        self._label = label
        self._field = field
        self._hint = hint

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="form-label")
        with Vertical(classes="form-cell"):
            yield self._field
            yield Label(self._hint, classes="form-hint")
            yield Label("", classes="form-error")

    def show_error(self, message: str) -> None:
        error = self.query_one(".form-error", Label)
        error.update(message)
        self.set_class(bool(message), "-error")

    @property
    def error(self) -> str:
        return str(self.query_one(".form-error", Label).content)
