"""ECG gating in the firmware: which R waves fire which pulses (docs/firmware-link.md §7).

The firmware asks the bench's ECG for judged beats, window by window, and
plans the gated train: with FIRE the gate opens; an accepted beat fires at
R + ecg_delay (the whole train on that beat when it lasts at most 100 ms,
otherwise one pulse per accepted beat); a refused beat is reported WITHHELD;
3 s without an acceptable beat ends the train with ECG_TIMEOUT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from drivers.link.messages import EcgKind, EcgReason, SetParams
from simulator.firmware.device import Timings

WINDOW_S = 0.5  # how far ahead the plan asks the ECG at a time


@dataclass(frozen=True)
class BeatDecision:
    """One R wave as the gate judged it, on the firmware's (nominal) clock.

    `t_r_s` is when the firmware learns of the R wave (the monitor's trigger
    or its own detector), so R + ecg_delay is a time it can actually meet.
    """

    t_r_s: float
    rr_ms: int
    accepted: bool
    reason: EcgReason = EcgReason.NONE


class EcgFeed(Protocol):
    """Judged beats of one open gate, asked for in contiguous windows [t0, t1)."""

    def beats(self, t0_s: float, t1_s: float) -> Iterable[BeatDecision]: ...


# Opens a gate at the given nominal time (FIRE); the bench builds it from its ECG source.
GateOpener = Callable[[float], EcgFeed]


@dataclass(frozen=True)
class GateEvent:
    at_s: float
    kind: EcgKind
    reason: EcgReason
    rr_ms: int
    t_r_s: float
    next_pulse: int


@dataclass(frozen=True)
class GatedPlan:
    pulse_times_s: tuple[float, ...]
    r_to_pulse_us: tuple[int, ...]
    events: tuple[GateEvent, ...]
    withheld: int
    timed_out_at: float | None  # nominal time of the ECG timeout, if the train ended on one


def plan_gated(feed: EcgFeed, open_s: float, p: SetParams, timings: Timings) -> GatedPlan:
    delay = p.ecg_delay_ms / 1000
    period = p.period_us * 1e-6
    width = p.width_ns * 1e-9
    single_beat = (p.count - 1) * period + width <= timings.gated_single_beat_s
    times: list[float] = []
    r_to_pulse: list[int] = []
    events: list[GateEvent] = []
    withheld = 0
    last_ok = open_s
    t0 = open_s
    while True:
        t1 = t0 + WINDOW_S
        for beat in feed.beats(t0, t1):
            if beat.t_r_s - last_ok > timings.ecg_wait_s:
                return _timeout(times, r_to_pulse, events, withheld, last_ok, timings)
            if not beat.accepted:
                withheld += 1
                events.append(
                    GateEvent(
                        beat.t_r_s,
                        EcgKind.WITHHELD,
                        beat.reason,
                        beat.rr_ms,
                        beat.t_r_s,
                        len(times),
                    )
                )
                continue
            events.append(
                GateEvent(
                    beat.t_r_s, EcgKind.TRIGGER, EcgReason.NONE, beat.rr_ms, beat.t_r_s, len(times)
                )
            )
            last_ok = beat.t_r_s
            shots = p.count if single_beat else 1
            for k in range(shots):
                times.append(beat.t_r_s + delay + k * period)
                r_to_pulse.append(round((delay + k * period) * 1e6))
            if len(times) >= p.count:
                return GatedPlan(tuple(times), tuple(r_to_pulse), tuple(events), withheld, None)
        if t1 - last_ok > timings.ecg_wait_s:
            return _timeout(times, r_to_pulse, events, withheld, last_ok, timings)
        t0 = t1


def _timeout(
    times: list[float],
    r_to_pulse: list[int],
    events: list[GateEvent],
    withheld: int,
    last_ok: float,
    timings: Timings,
) -> GatedPlan:
    at = last_ok + timings.ecg_wait_s
    events.append(GateEvent(at, EcgKind.TIMEOUT, EcgReason.NONE, 0, at, len(times)))
    return GatedPlan(tuple(times), tuple(r_to_pulse), tuple(events), withheld, at)
