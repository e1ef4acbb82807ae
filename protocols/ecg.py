"""ECG synchronisation settings (`[ecg]`), ect-reference §5."""

from __future__ import annotations

from dataclasses import dataclass

from protocols.fields import TableReader


@dataclass(frozen=True)
class EcgSettings:
    """Whether pulses wait for an R wave, and how long after it they fire."""

    gated: bool = False
    delay_ms: int = 50  # R + delay lands inside the absolute refractory period

    def to_dict(self) -> dict[str, object]:
        return {"gated": self.gated, "delay_ms": self.delay_ms}


ECG_DELAY_MIN_MS = 20
ECG_DELAY_MAX_MS = 100


def read_ecg(reader: TableReader | None) -> EcgSettings:
    """The optional `[ecg]` table. Without it pulses are not gated."""
    if reader is None:
        return EcgSettings()
    settings = EcgSettings(
        gated=reader.flag("gated", False),
        delay_ms=reader.integer("delay_ms", ECG_DELAY_MIN_MS, ECG_DELAY_MAX_MS, 50),
    )
    reader.finish("in [ecg]")
    return settings
