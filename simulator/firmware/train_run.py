"""One train in flight: the model's delivery, turned into timed firmware events.

The model computes the whole train at once (LoadModel.deliver); the firmware
then plays it out on its nominal clock: each pulse is "done" at its start
plus its width, ECG decisions fall at their R waves, and the train ends after
the last pulse, at a trip, or at an ECG timeout. The firmware pulls steps as
its clock reaches them, so ABORT or link loss between two pulses stops the
train there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from drivers.link.messages import (
    R_TO_PULSE_UNGATED,
    EcgEvent,
    FaultReport,
    PulseFlag,
    PulseSummary,
    SetParams,
)
from simulator.firmware.ecg_gate import GatedPlan, GateEvent
from simulator.train import DeliveredTrain

FLAG_BITS = {flag.name: int(flag) for flag in PulseFlag}
TRIP_FLAGS = frozenset({"OC", "ARC"})


class PulseStatsLike(Protocol):
    """What the firmware reads from the model's per-pulse summary."""

    @property
    def index(self) -> int: ...
    @property
    def delivered(self) -> bool: ...
    @property
    def start_s(self) -> float: ...
    @property
    def width_s(self) -> float: ...
    @property
    def v_peak_v(self) -> float: ...
    @property
    def v_mean_v(self) -> float: ...
    @property
    def i_peak_a(self) -> float: ...
    @property
    def i_mean_a(self) -> float: ...
    @property
    def charge_c(self) -> float: ...
    @property
    def energy_j(self) -> float: ...
    @property
    def flags(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Step:
    at_s: float  # nominal
    kind: str  # "ecg" | "pulse" | "end"
    index: int  # into the ECG events or the pulses


class TrainRun:
    """The steps still to play out for one train, and what was reported so far."""

    def __init__(
        self,
        train_id: int,
        params: SetParams,
        fire_s: float,
        train: DeliveredTrain | None,
        stats: Sequence[PulseStatsLike],
        gated: GatedPlan | None,
        stream: bool,
        epoch_s: float = 0.0,
    ) -> None:
        self.train_id = train_id
        self.params = params
        self.fire_s = fire_s
        self.train = train
        self.stats = tuple(stats)
        self.gated = gated
        self.stream = stream
        self.epoch_s = epoch_s  # bench-clock time of the firmware's boot
        self.reported: list[PulseSummary] = []
        self.buffered: list[PulseSummary] = []
        self.flags_or = 0
        self.ecg_reported: list[EcgEvent] = []
        self.faults: list[FaultReport] = []
        self.trip_index = _trip_index(train, self.stats)
        self.ecg_events: tuple[GateEvent, ...] = gated.events if gated else ()
        steps: list[Step] = [Step(e.at_s, "ecg", i) for i, e in enumerate(self.ecg_events)]
        last_pulse = -1 if self.trip_index is None else self.trip_index
        n = 0 if train is None else len(train.pulse_times_s)
        end_s = fire_s
        for k in range(n):
            if self.trip_index is not None and k > last_pulse:
                break  # the trip suppresses the rest of the train
            start = self.pulse_start(k)
            done_at = start + params.width_ns * 1e-9
            steps.append(Step(done_at, "pulse", k))
            end_s = max(end_s, done_at)
        if gated is not None and gated.timed_out_at is not None:
            end_s = max(end_s, gated.timed_out_at)
        steps.append(Step(end_s, "end", 0))
        # Stable sort: at equal times an ECG decision comes before its pulse, the end last.
        self._steps = deque(sorted(steps, key=lambda s: (s.at_s, _ORDER[s.kind])))
        self.end_s = end_s

    def next_at(self) -> float | None:
        return self._steps[0].at_s if self._steps else None

    def pop_due(self, nominal_now: float) -> Step | None:
        if self._steps and self._steps[0].at_s <= nominal_now:
            return self._steps.popleft()
        return None

    def pulse_start(self, k: int) -> float:
        """Nominal firmware time of pulse k (the model works on the bench clock)."""
        assert self.train is not None
        return float(self.train.pulse_times_s[k]) - self.epoch_s

    def started_pulses(self, nominal_now: float) -> list[int]:
        """Pulses still queued whose start has passed: they complete even on ABORT."""
        return [
            s.index
            for s in self._steps
            if s.kind == "pulse" and self.pulse_start(s.index) <= nominal_now
        ]

    def drop_remaining(self) -> None:
        self._steps.clear()

    def summary(self, k: int) -> PulseSummary:
        """The firmware's PULSE_SUMMARY for pulse k, from the model's unquantised summary."""
        stats = self.stats[k]
        r_to_pulse = self.gated.r_to_pulse_us[k] if self.gated else R_TO_PULSE_UNGATED
        flags = 0
        for name in stats.flags:
            flags |= FLAG_BITS.get(name, 0)
        if not stats.delivered:
            slot_us = max(0, round(self.pulse_start(k) * 1e6))
            return PulseSummary(
                self.train_id, k, flags | PulseFlag.MISSING, slot_us, 0, 0, 0, 0, 0, 0, 0,
                r_to_pulse,
            )  # fmt: skip
        # The measured start (50 % of the rising edge), jitter included.
        t_start_us = max(0, round((stats.start_s - self.epoch_s) * 1e6))
        return PulseSummary(
            train_id=self.train_id,
            pulse_idx=k,
            flags=flags,
            t_start_us=t_start_us,
            width_ns=_u32(stats.width_s * 1e9),
            v_peak_mv=_i32(stats.v_peak_v * 1e3),
            v_mean_mv=_i32(stats.v_mean_v * 1e3),
            i_peak_ma=_i32(stats.i_peak_a * 1e3),
            i_mean_ma=_i32(stats.i_mean_a * 1e3),
            charge_uc=_i32(stats.charge_c * 1e6),
            energy_mj=_u32(stats.energy_j * 1e3),
            r_to_pulse_us=r_to_pulse,
        )

    def pulse_alone(self, k: int) -> DeliveredTrain:
        """Pulse k as a one-pulse train, for listeners that follow pulses as they happen."""
        train = self.train
        assert train is not None
        rows = slice(k, k + 1)
        return DeliveredTrain(
            request=train.request,
            fs_hz=train.fs_hz,
            t0_s=train.t0_s,
            pulse_times_s=train.pulse_times_s[rows],
            voltage_v=train.voltage_v[rows],
            current_a=train.current_a[rows],
            delivered=train.delivered[rows],
            flags=train.flags[rows],
            tripped=k == self.trip_index,
        )

    def truncated(self, n: int) -> DeliveredTrain | None:
        """The delivered train cut after its first n pulse slots (ABORT, link loss)."""
        train = self.train
        if train is None:
            return None
        if n >= len(train.pulse_times_s):
            return train
        delivered = np.array(train.delivered, dtype=bool)
        voltage = np.array(train.voltage_v)
        current = np.array(train.current_a)
        delivered[n:] = False
        voltage[n:] = 0.0
        current[n:] = 0.0
        return DeliveredTrain(
            request=train.request,
            fs_hz=train.fs_hz,
            t0_s=train.t0_s,
            pulse_times_s=train.pulse_times_s,
            voltage_v=voltage,
            current_a=current,
            delivered=delivered,
            flags=train.flags,
            tripped=train.tripped,
        )


_ORDER = {"ecg": 0, "pulse": 1, "end": 2}


def _trip_index(train: DeliveredTrain | None, stats: Sequence[PulseStatsLike]) -> int | None:
    """The pulse during which the generator tripped, or None when it did not."""
    if train is None or not train.tripped:
        return None
    for k, s in enumerate(stats):
        if s.delivered and s.flags & TRIP_FLAGS:
            return k
    delivered = np.flatnonzero(np.asarray(train.delivered))
    return int(delivered[-1]) if delivered.size else 0


def _i32(x: float) -> int:
    return int(max(-(2**31), min(2**31 - 1, round(x))))


def _u32(x: float) -> int:
    return int(max(0, min(2**32 - 1, round(x))))
