"""One session through the real engine on the built-in simulated rig, and what each side saw.

The engine, the rig drivers and the journal run exactly as `pulsehost run`
runs them; the bench is in this process, so the simulator's own view (the
firmware's state, bank voltage, train records and pulse count) can be set
against what the journal says.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.link.messages import FwState
from protocols import Plan, load_needles, load_protocol, make_plan
from pulsehost.engine.confirm import AlwaysConfirm
from pulsehost.engine.engine import Engine
from pulsehost.engine.events import EngineEvent
from pulsehost.engine.session import DrugEntry, SessionOutcome, SessionRequest
from pulsehost.rig import open_rig
from pulsehost.simulated_rig import simulated_rig

PRESETS = ("esope-needle-rows", "esope-plates", "esope-hexagonal", "long-needles")
NEEDLES_EXAMPLE = "example-4-needles"
# Minutes since the drug for protocols with a drug window: inside the bleomycin window
# (8-28 min) and short of its warning (25 min).
DRUG_MINUTES = 10.0
# The firmware dumps its bank through a resistor (tau 10 ms) and ends a silent host's
# session 800 ms after its last frame; a second covers both.
SETTLE_S = 1.5


@dataclass(frozen=True)
class FiredTrain:
    """One train as the firmware recorded it (GET_TRAIN's view)."""

    train_id: int
    n_requested: int
    n_delivered: int
    result: int


@dataclass(frozen=True)
class FirmwareView:
    """The simulated generator after the session, once it has settled."""

    state: str
    discharged: bool
    hv_bank_v: float
    latched: tuple[str, ...]
    pulses_delivered: int
    fire_executions: int
    trains: tuple[FiredTrain, ...]


@dataclass(frozen=True)
class SessionRun:
    outcome: SessionOutcome
    firmware: FirmwareView
    seconds: float


def plan_for(preset: str, rate_hz: float | None = None) -> Plan:
    """The plan `pulsehost run PRESET --rate R` builds (the example needles for long-needles)."""
    protocol = load_protocol(preset, rate_hz=rate_hz)
    needles = load_needles(NEEDLES_EXAMPLE) if protocol.electrode.kind == "needles" else None
    return make_plan(protocol, needles)


def request_for(plan: Plan, *, acknowledge_faults: bool = False) -> SessionRequest:
    drug = None
    if plan.drug is not None:
        given = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=DRUG_MINUTES)
        drug = DrugEntry(given_at=given, entered_by="reliability")
    return SessionRequest(
        plan=plan,
        operator="reliability",
        subject="SIM-RELIABILITY",
        drug=drug,
        acknowledge_faults=acknowledge_faults,
    )


def run_session(
    plan: Plan,
    store: Path,
    *,
    faults: Sequence[str] = (),
    time_scale: float = 1.0,
    seed: int = 0,
    sink: Callable[[EngineEvent], None] | None = None,
    on_bench: Callable[[Any], None] | None = None,
) -> SessionRun:
    """Deliver `plan` on a fresh simulated bench; wait for the generator to settle.

    `on_bench` is given the running `simulator.bench.Bench` before the session starts.
    """
    started = time.perf_counter()
    with simulated_rig(plan, seed=seed, faults=faults, time_scale=time_scale) as sim:
        if on_bench is not None:
            on_bench(sim.bench)
        with open_rig(sim.config) as rig:
            engine = Engine(
                rig,
                store,
                sink or _ignore,
                AlwaysConfirm(),
                start_extra={"simulation": sim.describe()},
            )
            outcome = engine.run(request_for(plan))
        firmware = settled_view(sim.bench)
    return SessionRun(outcome, firmware, time.perf_counter() - started)


def settled_view(bench: Any, within_s: float = SETTLE_S) -> FirmwareView:
    """The firmware once it is IDLE or FAULT and discharged, or as it is after `within_s`."""
    firmware = bench.firmware
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if firmware.state in (FwState.IDLE, FwState.FAULT) and firmware.discharged:
            break
        time.sleep(0.01)
    return FirmwareView(
        state=firmware.state.name,
        discharged=bool(firmware.discharged),
        hv_bank_v=float(firmware.hv_bank_v),
        latched=tuple(sorted(code.name for code in firmware.latched_faults)),
        pulses_delivered=int(firmware.pulses_delivered),
        fire_executions=int(firmware.fire_executions),
        trains=tuple(
            FiredTrain(
                train_id=record.done.train_id,
                n_requested=record.done.n_requested,
                n_delivered=record.done.n_delivered,
                result=record.done.result,
            )
            for record in firmware.train_records
        ),
    )


def _ignore(event: EngineEvent) -> None:
    pass
