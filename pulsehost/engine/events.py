"""The one typed event stream from the engine to whoever watches (CLI, UI, tests).

Events are frozen values. The engine calls its sink synchronously from its
own thread; a UI must hand them over to its own thread (the Textual app posts
them as messages). Per-pulse results are never dropped; a UI may coalesce
high-rate status events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pulsehost.engine.states import State


@dataclass(frozen=True)
class FindingView:
    code: str
    level: str  # ok | warn | stop
    message: str
    pulse: int | None = None  # 1-based session pulse index


@dataclass(frozen=True)
class StateChanged:
    state: State
    previous: State
    reason: str = ""


@dataclass(frozen=True)
class SessionStarted:
    session_id: str
    journal: str
    simulated: bool
    protocol_id: str
    trains: int
    pulses_planned: int
    instruments: tuple[str, ...]  # one line per instrument identity


@dataclass(frozen=True)
class Notice:
    level: str  # info | warn | error
    message: str


@dataclass(frozen=True)
class TrainArming:
    train: int  # 1-based
    trains: int
    pair: tuple[int, int]
    voltage_v: float
    pulses: int
    width_us: float
    rate_hz: float


@dataclass(frozen=True)
class TrainStarted:
    train: int
    train_id: int


@dataclass(frozen=True, eq=False)
class PulseResult:
    index: int  # 1-based over the session
    train: int
    pulse: int  # 1-based within the train
    pair: tuple[int, int]
    target_v: float
    voltage_v: float | None
    current_a: float | None
    width_us: float | None
    resistance_ohm: float | None
    verdict: str  # ok | warn | stop | unmeasured
    findings: tuple[FindingView, ...]
    source: str  # "scope" | "firmware"
    # Last-pulse waveforms for live plots (physical units); None when not captured.
    time_s: np.ndarray | None = field(default=None, repr=False)
    voltage_trace: np.ndarray | None = field(default=None, repr=False)
    current_trace: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EcgSeen:
    kind: str  # TRIGGER | WITHHELD | TIMEOUT | LEAD_OFF
    reason: str
    rr_ms: int


@dataclass(frozen=True)
class TrainFinished:
    train: int
    delivered: int
    requested: int
    verdict: str  # ok | warn | stop


@dataclass(frozen=True)
class SessionFinished:
    session_id: str
    outcome: str  # completed | aborted | fault | interrupted
    stop_reason: str | None  # finding code or None
    message: str
    pulses_planned: int
    pulses_delivered: int
    journal: str


EngineEvent = (
    StateChanged
    | SessionStarted
    | Notice
    | TrainArming
    | TrainStarted
    | PulseResult
    | EcgSeen
    | TrainFinished
    | SessionFinished
)

EventSink = Callable[[EngineEvent], None]
