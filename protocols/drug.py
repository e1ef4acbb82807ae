"""Drug timing (`[drug]`): the window after the bolus in which pulses may be given.

The plan carries it so the engine can gate arming (ect-reference §4): blocked
before the window opens, a warning from `warn_after_min`, and after the window
arming needs an override with a written reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from protocols.fields import TableReader, fmt


class DrugWindow(Enum):
    """Where a moment falls relative to the drug window."""

    TOO_EARLY = "too-early"  # arming blocked
    OPEN = "open"
    CLOSING = "closing"  # allowed, with a warning
    CLOSED = "closed"  # arming needs an override with a reason


# Which dose field goes with which agent and route, and its unit.
_DOSE_FIELDS = {
    ("bleomycin", "iv"): "dose_iu_per_m2",
    ("bleomycin", "it"): "dose_iu_per_cm3",
    ("cisplatin", "it"): "dose_mg_per_cm3",
}
_DOSE_LIMITS = {
    "dose_iu_per_m2": ("IU/m²", 100_000.0),
    "dose_iu_per_cm3": ("IU/cm³", 10_000.0),
    "dose_mg_per_cm3": ("mg/cm³", 10.0),
}
# IV bleomycin: pulses 8-28 min after the bolus, warning from 25 min (ect-reference §4).
_IV_WINDOW_MIN = (8.0, 25.0, 28.0)


@dataclass(frozen=True)
class DrugTiming:
    """Agent, route, optional nominal dose and the pulse window in minutes after the drug."""

    agent: str
    route: str
    dose_field: str | None
    dose: float | None
    window_start_min: float
    warn_after_min: float
    window_end_min: float

    def judge(self, minutes_since_drug: float) -> DrugWindow:
        """Where `minutes_since_drug` falls in the window."""
        if minutes_since_drug < self.window_start_min:
            return DrugWindow.TOO_EARLY
        if minutes_since_drug > self.window_end_min:
            return DrugWindow.CLOSED
        if minutes_since_drug >= self.warn_after_min:
            return DrugWindow.CLOSING
        return DrugWindow.OPEN

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"agent": self.agent, "route": self.route}
        for field in _DOSE_LIMITS:
            out[field] = self.dose if field == self.dose_field else None
        out.update(
            window_start_min=self.window_start_min,
            warn_after_min=self.warn_after_min,
            window_end_min=self.window_end_min,
        )
        return out


def read_drug(reader: TableReader | None) -> DrugTiming | None:
    """The optional `[drug]` table."""
    if reader is None:
        return None
    agent = reader.text("agent", choices=("bleomycin", "cisplatin"))
    route = reader.text("route", choices=("iv", "it"))
    dose_field = _DOSE_FIELDS.get((agent, route))
    if dose_field is None:
        raise reader.error(
            "route",
            f"{agent} by route '{route}' is not supported; "
            "accepted: bleomycin iv or it, cisplatin it",
        )
    dose: float | None = None
    for field, (unit, high) in _DOSE_LIMITS.items():
        if field == dose_field:
            dose = reader.optional_number(field, unit, 0.0, high, above=True)
        elif reader.has(field):
            raise reader.error(
                field, f"does not apply to {agent} {route.upper()}; use {dose_field} ({unit})"
            )
    defaults: tuple[float | None, float | None, float | None] = (
        _IV_WINDOW_MIN if route == "iv" else (None, None, None)
    )
    start = reader.number("window_start_min", "min", 0.0, 240.0, defaults[0])
    warn = reader.number("warn_after_min", "min", 0.0, 240.0, defaults[1])
    end = reader.number("window_end_min", "min", 0.0, 240.0, defaults[2])
    reader.finish("in [drug]")
    if not start < end:
        raise reader.error(
            "window_end_min",
            f"{fmt(end)} min does not come after window_start_min ({fmt(start)} min)",
        )
    if not start <= warn <= end:
        raise reader.error(
            "warn_after_min",
            f"{fmt(warn)} min is outside the window: accepted {fmt(start)} to {fmt(end)} min",
        )
    return DrugTiming(agent, route, dose_field, dose, start, warn, end)
