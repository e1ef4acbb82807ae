"""Per-pulse check thresholds a protocol carries (`[checks]`), defaults from ect-reference §7.

The field names are the contract with the checks code, which builds its own
thresholds from `CheckThresholds.to_dict()`; they are estimates, versioned with
the protocol file, never hard-coded in the checks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from protocols.fields import TableReader, fmt


@dataclass(frozen=True)
class CheckThresholds:
    """Acceptance thresholds for every pulse delivered under a protocol."""

    voltage_tolerance_pct: float = 10.0
    current_low_factor: float = 0.3
    current_high_factor: float = 3.0
    width_tolerance_pct: float = 5.0
    timing_tolerance_pct: float = 5.0
    crosscheck_tolerance_pct: float = 5.0
    no_ep_ratio: float = 1.05
    arc_voltage_fraction: float = 0.5
    current_margin_warn_pct: float = 80.0
    i_max_a: float = 20.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def read_checks(reader: TableReader | None) -> CheckThresholds:
    """The optional `[checks]` table; absent fields keep the defaults."""
    base = CheckThresholds()
    if reader is None:
        return base
    values = CheckThresholds(
        voltage_tolerance_pct=reader.number(
            "voltage_tolerance_pct", "%", 0.0, 50.0, base.voltage_tolerance_pct, above=True
        ),
        current_low_factor=reader.number(
            "current_low_factor",
            "(fraction of predicted)",
            0.0,
            1.0,
            base.current_low_factor,
            above=True,
        ),
        current_high_factor=reader.number(
            "current_high_factor", "(multiple of predicted)", 1.0, 20.0, base.current_high_factor
        ),
        width_tolerance_pct=reader.number(
            "width_tolerance_pct", "%", 0.0, 50.0, base.width_tolerance_pct, above=True
        ),
        timing_tolerance_pct=reader.number(
            "timing_tolerance_pct", "%", 0.0, 50.0, base.timing_tolerance_pct, above=True
        ),
        crosscheck_tolerance_pct=reader.number(
            "crosscheck_tolerance_pct", "%", 0.0, 50.0, base.crosscheck_tolerance_pct, above=True
        ),
        no_ep_ratio=reader.number("no_ep_ratio", "(ratio)", 1.0, 2.0, base.no_ep_ratio),
        arc_voltage_fraction=reader.number(
            "arc_voltage_fraction",
            "(fraction of set voltage)",
            0.0,
            1.0,
            base.arc_voltage_fraction,
            above=True,
        ),
        current_margin_warn_pct=reader.number(
            "current_margin_warn_pct", "% of i_max_a", 1.0, 100.0, base.current_margin_warn_pct
        ),
        i_max_a=reader.number("i_max_a", "A", 0.0, 1000.0, base.i_max_a, above=True),
    )
    reader.finish("in [checks]")
    if values.current_low_factor >= values.current_high_factor:
        raise reader.error(
            "current_low_factor",
            f"{fmt(values.current_low_factor)} is not below current_high_factor "
            f"({fmt(values.current_high_factor)}): the current band would be empty",
        )
    return values
