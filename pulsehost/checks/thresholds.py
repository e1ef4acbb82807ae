"""Check thresholds, taken from the protocol's `[checks]` table.

The defaults are the estimates of the ECT reference (§7); a protocol may
tighten or loosen them, and the values used are logged with every session.
Percentages in the table become fractions here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType


class ThresholdError(ValueError):
    """A `[checks]` table holds an unknown key or a value outside its range."""


@dataclass(frozen=True)
class Thresholds:
    """What the per-pulse checks accept. Fractions, factors and amperes."""

    voltage_tolerance: float = 0.10  # |V_plateau - V_set| / V_set
    current_low_factor: float = 0.3  # I_plateau below this x the predicted low end
    current_high_factor: float = 3.0  # I_plateau above this x the predicted high end
    width_tolerance: float = 0.05  # |width - set width| / set width
    timing_tolerance: float = 0.05  # start error / period
    crosscheck_tolerance: float = 0.05  # |firmware - scope| / scope
    no_ep_ratio: float = 1.05  # I90/I10 and last/first plateau both below: advisory
    arc_voltage_fraction: float = 0.5  # voltage collapse below this x V_set
    current_margin_warn: float = 0.80  # predicted current above this x I_max: warn at planning
    i_max_a: float = 20.0  # hard current ceiling of the preset
    # Not in the protocol table: an open circuit leaves only edge spikes, so a
    # plateau below this x the predicted current means no load at all.
    open_circuit_factor: float = 0.02

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, float | int) or isinstance(value, bool):
                raise ThresholdError(f"threshold {f.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ThresholdError(f"threshold {f.name} must be positive, got {value!r}")
        for name in (
            "voltage_tolerance",
            "width_tolerance",
            "timing_tolerance",
            "crosscheck_tolerance",
            "arc_voltage_fraction",
            "current_margin_warn",
        ):
            if getattr(self, name) > 1:
                raise ThresholdError(f"threshold {name} must be at most 1 (100 %)")
        if not self.open_circuit_factor < self.current_low_factor < 1 < self.current_high_factor:
            raise ThresholdError(
                "thresholds need open_circuit_factor < current_low_factor < 1 < "
                f"current_high_factor, got {self.open_circuit_factor}, "
                f"{self.current_low_factor}, {self.current_high_factor}"
            )
        if self.no_ep_ratio < 1:
            raise ThresholdError(
                f"threshold no_ep_ratio must be at least 1, got {self.no_ep_ratio}"
            )

    @classmethod
    def from_table(cls, table: Mapping[str, object], where: str = "[checks]") -> Thresholds:
        """Build from a protocol's `[checks]` table; missing keys keep their default.

        `where` names the table in error messages, e.g. ``"plates.toml [checks]"``.
        """
        values: dict[str, float] = {}
        for key, raw in table.items():
            spec = _TABLE_KEYS.get(key)
            if spec is None:
                accepted = ", ".join(sorted(_TABLE_KEYS))
                raise ThresholdError(f"{where}: unknown key {key!r}; accepted keys: {accepted}")
            field_name, lo, hi, per_cent = spec
            if not isinstance(raw, int | float) or isinstance(raw, bool):
                raise ThresholdError(f"{where}: {key} must be a number, got {raw!r}")
            if not (math.isfinite(raw) and lo < raw <= hi):
                raise ThresholdError(f"{where}: {key} = {raw!r} is outside ({lo}, {hi}]")
            values[field_name] = raw / 100.0 if per_cent else float(raw)
        try:
            return cls(**values)
        except ThresholdError as exc:
            raise ThresholdError(f"{where}: {exc}") from None


# key -> (field, exclusive lower bound, inclusive upper bound, given in per cent)
_TABLE_KEYS: Mapping[str, tuple[str, float, float, bool]] = MappingProxyType(
    {
        "voltage_tolerance_pct": ("voltage_tolerance", 0.0, 100.0, True),
        "current_low_factor": ("current_low_factor", 0.0, 1.0, False),
        "current_high_factor": ("current_high_factor", 1.0, 1000.0, False),
        "width_tolerance_pct": ("width_tolerance", 0.0, 100.0, True),
        "timing_tolerance_pct": ("timing_tolerance", 0.0, 100.0, True),
        "crosscheck_tolerance_pct": ("crosscheck_tolerance", 0.0, 100.0, True),
        "no_ep_ratio": ("no_ep_ratio", 0.0, 10.0, False),
        "arc_voltage_fraction": ("arc_voltage_fraction", 0.0, 1.0, False),
        "current_margin_warn_pct": ("current_margin_warn", 0.0, 100.0, True),
        "i_max_a": ("i_max_a", 0.0, 1000.0, False),
    }
)
