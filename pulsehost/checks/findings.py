"""Findings: what a check saw, how serious it is, and what to do about it.

Each finding has a stable code (the journal, the UI and the tests key on it),
a level and a message a clinician can act on. The default level of every
code, and why, is in docs/checks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Level(StrEnum):
    """How serious a finding is; `stop` ends delivery before the next pulse or train."""

    OK = "ok"
    WARN = "warn"
    STOP = "stop"


class Verdict(StrEnum):
    """A pulse's overall result: its worst finding, or unmeasured when its data are invalid."""

    OK = "ok"
    WARN = "warn"
    STOP = "stop"
    UNMEASURED = "unmeasured"


OVERCURRENT = "overcurrent"
ARC = "arc"
OPEN_CIRCUIT = "open-circuit"
LOW_CURRENT = "low-current"
HIGH_CURRENT = "high-current"
VOLTAGE_DEVIATION = "voltage-deviation"
WIDTH_DEVIATION = "width-deviation"
MISSING_PULSE = "missing-pulse"
CLIPPED = "clipped"
NO_ELECTROPORATION = "no-electroporation"
SENSOR_DISAGREEMENT = "sensor-disagreement"
TIMING_DEVIATION = "timing-deviation"
LINK_LOST = "link-lost"
SCOPE_TIMEOUT = "scope-timeout"
SCOPE_ERROR = "scope-error"
ECG_WITHHELD = "ecg-withheld"
ECG_TIMEOUT = "ecg-timeout"

DEFAULT_LEVELS = MappingProxyType(
    {
        OVERCURRENT: Level.STOP,
        ARC: Level.STOP,
        OPEN_CIRCUIT: Level.STOP,
        LOW_CURRENT: Level.STOP,
        HIGH_CURRENT: Level.STOP,
        VOLTAGE_DEVIATION: Level.STOP,
        MISSING_PULSE: Level.STOP,
        LINK_LOST: Level.STOP,
        ECG_TIMEOUT: Level.STOP,
        WIDTH_DEVIATION: Level.WARN,
        TIMING_DEVIATION: Level.WARN,
        CLIPPED: Level.WARN,
        NO_ELECTROPORATION: Level.WARN,
        SENSOR_DISAGREEMENT: Level.WARN,
        SCOPE_TIMEOUT: Level.WARN,
        SCOPE_ERROR: Level.WARN,
        ECG_WITHHELD: Level.OK,
    }
)

# Codes after which a pulse's measured numbers say nothing more about it.
UNMEASURED_CODES = frozenset({CLIPPED, SCOPE_TIMEOUT, SCOPE_ERROR})


@dataclass(frozen=True)
class Finding:
    """One thing a check found.

    `pulse` is the 0-based pulse slot within its train, or None for the train
    as a whole; messages count pulses from 1, as people do.
    """

    code: str
    level: Level
    message: str
    pulse: int | None = None

    @classmethod
    def of(cls, code: str, message: str, pulse: int | None = None) -> Finding:
        """A finding at its code's default level."""
        level = DEFAULT_LEVELS.get(code)
        if level is None:
            raise ValueError(f"unknown finding code {code!r}; known: {', '.join(DEFAULT_LEVELS)}")
        return cls(code, level, message, pulse)


def link_lost(detail: str, pulse: int | None = None) -> Finding:
    """The firmware link stopped answering; the generator discharges on its own."""
    where = f" after pulse {pulse + 1}" if pulse is not None else ""
    return Finding.of(
        LINK_LOST,
        f"The link to the generator was lost{where} ({detail}). The generator discharges by "
        "itself when the link is silent. Check the cable and the generator before reconnecting; "
        "delivery resumes only with a new confirmation.",
        pulse,
    )


def scope_timeout(pulse: int, detail: str = "") -> Finding:
    """The scope did not deliver a pulse's capture; that pulse is unmeasured."""
    why = f" ({detail})" if detail else ""
    return Finding.of(
        SCOPE_TIMEOUT,
        f"Pulse {pulse + 1}: the oscilloscope did not deliver its capture in time{why}, so the "
        "pulse is unmeasured; the generator's own summary still applies. Check the scope's "
        "connection before the next train.",
        pulse,
    )


def scope_error(pulse: int, detail: str) -> Finding:
    """The scope answered, but with data that cannot be used (a short block, bad preamble)."""
    return Finding.of(
        SCOPE_ERROR,
        f"Pulse {pulse + 1}: the oscilloscope's capture could not be used ({detail}), so the "
        "pulse is unmeasured; the generator's own summary still applies. Check the scope and "
        "its connection before the next train.",
        pulse,
    )


def ecg_withheld(reason: str, rr_ms: int, pulse: int | None = None) -> Finding:
    """The ECG gate withheld a pulse (logged; the gate is doing its job)."""
    return Finding.of(
        ECG_WITHHELD,
        f"The ECG gate withheld a pulse: {reason} (RR {rr_ms} ms). Delivery waits for the next "
        "valid beat.",
        pulse,
    )


def ecg_timeout(seconds: float) -> Finding:
    """No R wave for too long: delivery pauses and the operator decides."""
    return Finding.of(
        ECG_TIMEOUT,
        f"No R wave was detected for {seconds:.1f} s, so delivery stopped. Check the ECG leads "
        "and the trigger unit; continuing needs a new confirmation.",
    )
