"""What each injected fault does to the load and the generator (simulator-model §6).

Only the model's kinds are read here (open, poor-contact, short, overcurrent,
arc, missing, jitter, droop); link, scope and ECG kinds are someone else's.
Pulse numbers in faults are 1-based as an operator counts; they apply to the
pulse of that number in every train. Without @N, arc, overcurrent and missing
hit the last pulse, and open, short and poor-contact every pulse (with @N:
from pulse N on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from simulator.faults import Fault, find

OPEN_OHM = 1e6
SHORT_OHM = 3.0
# poor-contact without ohm=: only part of the needle touches, so the cell constant
# grows by a factor drawn per pulse; 1/10..1/20 puts the current at 5–10 % of the healthy
# plateau. That is the severe end of the reference's 10–50 %: milder contact loss stays
# inside the 0.3 x predicted band on purpose (ect-reference §7), so it would not be a
# detectable fault at all.
CONTACT_K_FACTOR = (10.0, 20.0)
# poor-contact with ohm=R: a series resistance drawn per pulse in R·(0.5..1.5).
CONTACT_OHM_SPREAD = (0.5, 1.5)
ARC_V = 60.0
ARC_AT_FRACTION = 0.6  # of the width, when arc has no us=
ARC_COLLAPSE_S = 200e-9  # voltage falls to the arc voltage in this time
ARC_DI_DT_A_PER_S = 50e6  # 50 A/µs, within the 10–100 A/µs of arcs
# overcurrent: σ grows as G^((τ/τx)²) with τx = 0.75·width and G chosen so the
# current would reach 1.15·I_max at τx; the limit is crossed late in the pulse.
RUNAWAY_AT_FRACTION = 0.75
RUNAWAY_OVERSHOOT = 1.15
RUNAWAY_FREE_GAIN = 3.0  # σ growth at τx when there is no current limit
JITTER_RMS_S = 8e-6  # start jitter: > 5 % of a 200 µs period on most trains
JITTER_WIDTH_PCT = 8.0  # width error: outside a ±5 % width check
DROOP_BANK_UF = 20.0  # with the charger off: ≈5 %/pulse into ≈100 Ω
OPEN_ZETA_SHARE = 0.5  # no load to damp the output: more overshoot and ringing


@dataclass(frozen=True)
class FaultEffects:
    """The model-level faults of one simulator, resolved to numbers."""

    open_from: int | None = None  # 1-based first affected pulse
    short_from: int | None = None
    short_ohm: float = SHORT_OHM
    contact_from: int | None = None
    contact_ohm: float | None = None  # None: cell-constant factor instead
    overcurrent_at: int | None = None  # 0: last pulse
    arc_at: int | None = None
    arc_v: float = ARC_V
    arc_after_s: float | None = None  # from the pulse start; None: ARC_AT_FRACTION of the width
    missing_at: int | None = None
    jitter_rms_s: float | None = None
    width_fraction: float = 0.0
    droop_bank_f: float | None = None

    @classmethod
    def from_faults(cls, faults: Sequence[Fault]) -> FaultEffects:
        """Read the model's kinds from parsed fault specs; other kinds are ignored."""
        effects = cls()
        if (f := find(faults, "open")) is not None:
            effects = replace(effects, open_from=f.at or 1)
        if (f := find(faults, "short")) is not None:
            effects = replace(
                effects, short_from=f.at or 1, short_ohm=_positive(f, "ohm", SHORT_OHM)
            )
        if (f := find(faults, "poor-contact")) is not None:
            ohm = _positive(f, "ohm", 1.0) if "ohm" in f.params else None
            effects = replace(effects, contact_from=f.at or 1, contact_ohm=ohm)
        if (f := find(faults, "overcurrent")) is not None:
            effects = replace(effects, overcurrent_at=f.at or 0)
        if (f := find(faults, "arc")) is not None:
            after = _non_negative(f, "us", 0.0) * 1e-6 if "us" in f.params else None
            effects = replace(
                effects, arc_at=f.at or 0, arc_v=_non_negative(f, "v", ARC_V), arc_after_s=after
            )
        if (f := find(faults, "missing")) is not None:
            effects = replace(effects, missing_at=f.at or 0)
        if (f := find(faults, "jitter")) is not None:
            width_fraction = f.get("width_pct", JITTER_WIDTH_PCT) / 100.0
            if not width_fraction > -1:
                raise ValueError(
                    f"fault {f}: width_pct must be > -100, got {width_fraction * 100:g}"
                )
            effects = replace(
                effects,
                jitter_rms_s=_non_negative(f, "us", JITTER_RMS_S * 1e6) * 1e-6,
                width_fraction=width_fraction,
            )
        if (f := find(faults, "droop")) is not None:
            effects = replace(effects, droop_bank_f=_positive(f, "uf", DROOP_BANK_UF) * 1e-6)
        return effects

    @staticmethod
    def _hits(at: int | None, index: int, count: int) -> bool:
        """Does a pulse-numbered fault (0: last pulse) hit the 0-based `index`?"""
        if at is None:
            return False
        return index == (count - 1 if at == 0 else at - 1)

    def load_kind(self, index: int) -> str:
        """'open', 'short', 'contact' or 'tissue' for the 0-based pulse `index`."""
        for kind, start in (
            ("open", self.open_from),
            ("short", self.short_from),
            ("contact", self.contact_from),
        ):
            if start is not None and index >= start - 1:
                return kind
        return "tissue"

    def missing(self, index: int, count: int) -> bool:
        return self._hits(self.missing_at, index, count)

    def arc(self, index: int, count: int) -> bool:
        return self._hits(self.arc_at, index, count)

    def overcurrent(self, index: int, count: int) -> bool:
        return self._hits(self.overcurrent_at, index, count)


def _positive(fault: Fault, key: str, default: float) -> float:
    value = fault.get(key, default)
    if not value > 0:
        raise ValueError(f"fault {fault}: {key} must be > 0, got {value:g}")
    return value


def _non_negative(fault: Fault, key: str, default: float) -> float:
    value = fault.get(key, default)
    if not value >= 0:
        raise ValueError(f"fault {fault}: {key} must be >= 0, got {value:g}")
    return value
