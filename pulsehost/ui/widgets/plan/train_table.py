"""The planned trains: pair, distance, voltage, pulses and the predicted current band."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from protocols import Plan

COLUMNS = ("train", "pair", "mm", "V", "pulses", "µs", "Hz", "R Ω", "I band A", "note")


class TrainTable(DataTable[Text]):
    """One row per train; a plan warning sits in the row of the train it concerns."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def show(self, plan: Plan) -> None:
        self.clear(columns=True)
        for column in COLUMNS:
            self.add_column(column, key=column)
        notes: dict[int, list[str]] = {}
        for warning in plan.warnings:
            if warning.train is not None:
                notes.setdefault(warning.train, []).append(warning.code)
        for t in plan.trains:
            note = ", ".join(notes.get(t.index, ()))
            self.add_row(
                Text(str(t.index), justify="right"),
                Text(t.pair_label),
                Text(f"{t.distance_mm:.2f}", justify="right"),
                Text(f"{t.voltage_v:.0f}", justify="right"),
                Text(str(t.pulses), justify="right"),
                Text(f"{t.width_us:g}", justify="right"),
                Text(f"{t.rate_hz:g}", justify="right"),
                Text(f"{t.predicted_resistance_ohm:.0f}", justify="right"),
                Text(
                    f"{t.predicted_current_a_min:.1f}..{t.predicted_current_a_max:.1f}",
                    justify="right",
                ),
                Text(note, style="yellow"),
                key=str(t.index),
            )
