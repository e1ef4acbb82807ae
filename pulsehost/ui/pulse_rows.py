"""A pulse as the tables and plots show it, from a live result or from a journal document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pulsehost.engine.events import PulseResult
from pulsehost.journal import WaveformBlock

# The plots draw at most this many points per trace: a terminal cell is far
# coarser than a scope sample, and plotting 10 000 points per pulse would only
# cost time on the app's thread.
PLOT_POINTS = 400


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class PulseRow:
    """One line of a pulse table."""

    index: int  # 1-based over the session
    train: int
    pulse: int  # 1-based within the train
    pair: str
    target_v: float | None
    voltage_v: float | None
    current_a: float | None
    width_us: float | None
    resistance_ohm: float | None
    verdict: str  # ok | warn | stop | unmeasured
    findings: tuple[tuple[str, str, str], ...]  # (level, code, message)

    @classmethod
    def from_result(cls, result: PulseResult) -> PulseRow:
        return cls(
            index=result.index,
            train=result.train,
            pulse=result.pulse,
            pair=f"{result.pair[0]}-{result.pair[1]}",
            target_v=result.target_v,
            voltage_v=result.voltage_v,
            current_a=result.current_a,
            width_us=result.width_us,
            resistance_ohm=result.resistance_ohm,
            verdict=result.verdict,
            findings=tuple((f.level, f.code, f.message) for f in result.findings),
        )

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> PulseRow:
        """A journal `pulse` document (read-only; missing values read as unknown)."""
        pair = document.get("pair")
        findings = document.get("findings")
        found: list[tuple[str, str, str]] = []
        if isinstance(findings, list):
            for f in findings:
                if isinstance(f, Mapping):
                    found.append(
                        (str(f.get("level", "")), str(f.get("code", "")), str(f.get("message", "")))
                    )
        return cls(
            index=_integer(document.get("index")),
            train=_integer(document.get("train")),
            pulse=_integer(document.get("pulse")),
            pair="-".join(map(str, pair)) if isinstance(pair, list) else "?",
            target_v=_number(document.get("target_v")),
            voltage_v=_number(document.get("voltage_v")),
            current_a=_number(document.get("current_a")),
            width_us=_number(document.get("width_us")),
            resistance_ohm=_number(document.get("resistance_ohm")),
            verdict=str(document.get("verdict", "?")),
            findings=tuple(found),
        )

    @property
    def codes(self) -> str:
        """The finding codes that are not `ok`, for a narrow column."""
        return ", ".join(code for level, code, _ in self.findings if level != "ok")


@dataclass(frozen=True, eq=False)
class Traces:
    """One pulse's voltage and current against time in microseconds, thinned for plotting."""

    voltage_time_us: np.ndarray
    voltage: np.ndarray
    current_time_us: np.ndarray
    current: np.ndarray

    @classmethod
    def from_result(cls, result: PulseResult) -> Traces | None:
        if result.time_s is None or result.voltage_trace is None or result.current_trace is None:
            return None
        t_us = np.asarray(result.time_s, dtype=np.float64) * 1e6
        return cls(
            *_thin(t_us, np.asarray(result.voltage_trace, dtype=np.float64)),
            *_thin(t_us, np.asarray(result.current_trace, dtype=np.float64)),
        )

    @classmethod
    def from_blocks(cls, blocks: Mapping[str, WaveformBlock]) -> Traces | None:
        """The journal's `voltage` and `current` blocks of one pulse."""
        voltage, current = blocks.get("voltage"), blocks.get("current")
        if voltage is None or current is None:
            return None
        return cls(
            *_thin(voltage.time_s() * 1e6, voltage.values()),
            *_thin(current.time_s() * 1e6, current.values()),
        )


def _thin(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(t.size, y.size)
    step = max(1, -(-n // PLOT_POINTS))
    return t[:n:step], y[:n:step]
