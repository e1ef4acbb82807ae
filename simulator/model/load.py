"""The load model: what the electrodes see when the generator fires a train."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from simulator.faults import Fault
from simulator.model.config import ModelConfig
from simulator.model.fault_effects import FaultEffects
from simulator.model.geometry import Pair
from simulator.model.pulse_plan import PairState, Trip, plan_train, pulse_times
from simulator.model.render import render, time_axis
from simulator.train import DeliveredTrain, TrainRequest

# One random stream per subsystem, spawned in this order from SeedSequence(seed);
# new names go at the end so existing streams keep their numbers.
STREAMS = ("jitter", "contact")


class LoadModel:
    """Generator, electrodes and tissue: turns a `TrainRequest` into a `DeliveredTrain`.

    The tissue between each pair keeps its state between trains (conductivity
    memory, heating, pulse count), so what a train delivers depends on what
    came before and when. Deterministic for a seed and a sequence of requests.
    """

    def __init__(self, config: ModelConfig, seed: int = 0, faults: Sequence[Fault] = ()) -> None:
        self._config = config
        self._effects = FaultEffects.from_faults(faults)
        children = np.random.SeedSequence(seed).spawn(len(STREAMS))
        self._rng = {
            name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)
        }
        self._states: dict[tuple[int, int], PairState] = {}

    @property
    def config(self) -> ModelConfig:
        return self._config

    def deliver(self, request: TrainRequest) -> DeliveredTrain:
        """Fire one train into the load and return the true voltage and current."""
        _check_request(request)
        key, sign, pair = self._pair(request)
        config = self._config
        n = request.count
        # Draws happen whatever the outcome, so each stream advances the same way every train.
        z_jitter = self._rng["jitter"].standard_normal(n)
        u_contact = (
            self._rng["contact"].random(n)
            if self._effects.contact_from is not None
            else np.zeros(n)
        )
        state = self._states.get(key, PairState())
        t = time_axis(config, request.width_s)
        plan, after = plan_train(config, request, pair, state, self._effects, z_jitter, u_contact)
        voltage, current = render(plan, t, config)
        trip = _find_trip(current, t, request.i_limit_a, config.generator.trip_latency_s)
        if trip is not None:
            plan, after = plan_train(
                config, request, pair, state, self._effects, z_jitter, u_contact, trip
            )
            voltage, current = render(plan, t, config)
        self._states[key] = after

        flags: list[frozenset[str]] = []
        for k in range(n):
            names = set()
            if plan.missing[k]:
                names.add("MISSING")
            if plan.late[k]:
                names.add("LATE")
            if plan.arc[k]:
                names.add("ARC")
            if trip is not None and k == trip.index:
                names.add("OC")
            flags.append(frozenset(names))
        if sign < 0:
            voltage = np.negative(voltage, out=voltage)
            current = np.negative(current, out=current)
        return DeliveredTrain(
            request=request,
            fs_hz=config.fs_hz,
            t0_s=-config.pre_s,
            pulse_times_s=pulse_times(request),
            voltage_v=voltage,
            current_a=current,
            delivered=plan.present.copy(),
            flags=tuple(flags),
            tripped=trip is not None,
        )

    def _pair(self, request: TrainRequest) -> tuple[tuple[int, int], int, Pair]:
        """Canonical key, sign (electrode_a positive: +1) and geometry of the request's pair."""
        a, b = request.pair
        polarity_sign = 1 if request.polarity == 0 else -1
        pairs = self._config.pairs
        if (a, b) in pairs:
            return (a, b), polarity_sign, pairs[(a, b)]
        if (b, a) in pairs:
            return (b, a), -polarity_sign, pairs[(b, a)]
        known = ", ".join(f"({x}, {y})" for x, y in pairs)
        raise ValueError(f"unknown electrode pair ({a}, {b}); this model has pairs: {known}")


def _check_request(request: TrainRequest) -> None:
    problems = []
    if not math.isfinite(request.amplitude_v):
        problems.append(f"amplitude_v must be finite, got {request.amplitude_v}")
    if not request.width_s > 0:
        problems.append(f"width_s must be > 0, got {request.width_s}")
    if request.count < 0:
        problems.append(f"count must be >= 0, got {request.count}")
    if not request.period_s >= 0:
        problems.append(f"period_s must be >= 0, got {request.period_s}")
    if request.polarity not in (0, 1):
        problems.append(f"polarity must be 0 or 1, got {request.polarity}")
    if request.pulse_times_s is not None and len(request.pulse_times_s) != request.count:
        problems.append(
            f"pulse_times_s has {len(request.pulse_times_s)} times for count {request.count}"
        )
    if problems:
        raise ValueError("train request: " + "; ".join(problems))


def _find_trip(
    current: npt.NDArray[np.float64], t: npt.NDArray[np.float64], i_limit_a: float, latency_s: float
) -> Trip | None:
    """First pulse whose current exceeds the limit, and when its gate starts to close."""
    if not i_limit_a > 0 or math.isinf(i_limit_a) or current.shape[0] == 0:
        return None
    over = np.abs(current) > i_limit_a
    rows = np.flatnonzero(over.any(axis=1))
    if rows.shape[0] == 0:
        return None
    k = int(rows[0])
    first = int(np.argmax(over[k]))
    return Trip(index=k, off_s=float(t[first]) + latency_s)
