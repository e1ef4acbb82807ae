"""A pulse table whose rows are coloured by verdict."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from pulsehost.ui.pulse_rows import PulseRow

VERDICT_STYLES = {"ok": "green", "warn": "yellow", "stop": "bold red", "unmeasured": "magenta"}
# The verdict comes early so that it stays in view when the table is narrow.
COLUMNS = ("#", "t/p", "verdict", "V", "A", "Ω", "µs", "findings")
# A row that is not `ok` is coloured whole; an `ok` row only in its verdict.
ROW_STYLES = {"warn": "yellow", "stop": "bold red", "unmeasured": "magenta"}


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


class PulseTable(DataTable[Text]):
    """One row per pulse, keyed by its session index."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)

    def add_pulse(self, row: PulseRow) -> None:
        style = VERDICT_STYLES.get(row.verdict, "")
        row_style = ROW_STYLES.get(row.verdict, "")
        numbers = (
            _num(row.voltage_v, ".1f"),
            _num(row.current_a, ".2f"),
            _num(row.resistance_ohm, ".1f"),
            _num(row.width_us, ".1f"),
        )
        self.add_row(
            Text(str(row.index), justify="right", style=row_style),
            Text(f"{row.train}/{row.pulse}", style=row_style),
            Text(row.verdict, style=style),
            *(Text(c, justify="right", style=row_style) for c in numbers),
            Text(row.codes, style=row_style),
            key=str(row.index),
        )
        self.move_cursor(row=self.row_count - 1)

    def show(self, rows: Iterable[PulseRow]) -> None:
        self.clear()
        for row in rows:
            self.add_pulse(row)
        if self.row_count:
            self.move_cursor(row=0)
