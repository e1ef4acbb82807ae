"""Export a recorded session: choose what to write and where."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from pulsehost.journal import Session
from pulsehost.ui.export_files import FORMATS, default_path


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Returns (kind, path) on Enter, None on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session, folder: Path) -> None:
        super().__init__()
        self.session = session
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Label(f"Export session {self.session.short_id}", classes="dialog-title")
            yield Select(
                [(label, kind) for kind, label in FORMATS.items()],
                value="html",
                allow_blank=False,
                compact=True,
                id="export-kind",
            )
            yield Input(
                value=str(default_path(self.session, "html", self.folder)),
                compact=True,
                id="export-path",
            )
            yield Label("Enter writes the file · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Select.Changed, "#export-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        path = self.query_one("#export-path", Input)
        if isinstance(event.value, str):
            # Follow the format with the file's suffix, keeping any folder and name typed.
            current = Path(path.value) if path.value.strip() else Path(self.folder, "x")
            stem = current.stem or self.session.short_id
            path.value = str(current.with_name(f"{stem}.{event.value}"))

    @on(Input.Submitted, "#export-path")
    def _submitted(self) -> None:
        kind = self.query_one("#export-kind", Select).value
        text = self.query_one("#export-path", Input).value.strip()
        if isinstance(kind, str) and text:
            self.dismiss((kind, Path(text)))

    def action_cancel(self) -> None:
        self.dismiss(None)
