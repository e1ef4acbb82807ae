"""Running one engine session on the built-in simulated rig, and what came of it.

Every session goes through the production path: `simulated_rig` starts a
bench (firmware on a pty, SCPI scope on 127.0.0.1), `open_rig` opens it with
the real drivers, the engine delivers, and the journal is read back from
disk. The firmware's own counters are read from the bench afterwards, once
it has settled, so tests can compare what the host journalled with what the
generator actually did.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from protocols import Plan, load_needles, load_protocol, make_plan
from pulsehost.engine.assess import STREAMED_PERIOD_US
from pulsehost.engine.confirm import AlwaysConfirm, ArmQuestion, Confirmer
from pulsehost.engine.engine import Engine
from pulsehost.engine.events import EngineEvent, SessionFinished
from pulsehost.engine.session import DrugEntry, SessionOutcome, SessionRequest
from pulsehost.journal import Session
from pulsehost.rig import OpenRig, open_rig
from pulsehost.simulated_rig import SimulatedRig, simulated_rig
from simulator.firmware import Firmware

_E = TypeVar("_E")

SETTLE_S = 5.0  # far beyond the bank's 10 ms dump time constant and the 400 ms link timeout


def plan_for(preset: str, *, rate_hz: float | None = None, needles: str | None = None) -> Plan:
    """A bundled preset's plan; `needles` names a bundled needle example or a file."""
    protocol = load_protocol(preset, rate_hz=rate_hz)
    return make_plan(protocol, load_needles(needles) if needles else None)


class Recorder:
    """An event sink that keeps every event, in order."""

    def __init__(self) -> None:
        self.events: list[EngineEvent] = []

    def __call__(self, event: EngineEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[_E]) -> list[_E]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass(frozen=True)
class FirmwareView:
    """The simulated generator as the bench sees it, not as the host was told."""

    serial: str
    state: str
    discharged: bool
    hv_bank_v: float
    fire_executions: int
    pulses_delivered: int
    train_ids: tuple[int, ...]
    param_hashes: tuple[str, ...]  # as the intent writes them
    latched: frozenset[str]
    link_stats: dict[str, int]


def firmware_view(firmware: Firmware) -> FirmwareView:
    return FirmwareView(
        serial=firmware.device.serial,
        state=firmware.state.name,
        discharged=firmware.discharged,
        hv_bank_v=firmware.hv_bank_v,
        fire_executions=firmware.fire_executions,
        pulses_delivered=firmware.pulses_delivered,
        train_ids=tuple(r.train_id for r in firmware.train_records),
        param_hashes=tuple(f"{r.params.param_hash:08X}" for r in firmware.train_records),
        latched=frozenset(c.name for c in firmware.latched_faults),
        link_stats=firmware.link_stats,
    )


def settled(firmware: Firmware, within_s: float = SETTLE_S) -> FirmwareView:
    """Poll until the generator is IDLE or FAULT with its bank discharged.

    Returns the last view either way; the caller asserts on it, so a
    generator that never settles fails with its state in the message.
    """
    deadline = time.monotonic() + within_s
    view = firmware_view(firmware)
    while time.monotonic() < deadline:
        view = firmware_view(firmware)
        if view.state in ("IDLE", "FAULT") and view.discharged:
            return view
        time.sleep(0.01)
    return view


def bench_firmware(sim: SimulatedRig) -> Firmware:
    firmware = sim.bench.firmware  # type: ignore[attr-defined]
    assert isinstance(firmware, Firmware)
    return firmware


@dataclass(frozen=True, eq=False)
class Ran:
    """One finished session: the engine's answer, its events, its journal, the bench.

    `firmware` is the settled generator after the session, `before` the same
    view when it began (several sessions may run on one bench).
    """

    outcome: SessionOutcome
    recorder: Recorder
    session: Session
    firmware: FirmwareView
    before: FirmwareView
    engine_state: str

    @property
    def delivered(self) -> int:
        """Pulses the generator delivered during this session."""
        return self.firmware.pulses_delivered - self.before.pulses_delivered

    @property
    def fired(self) -> tuple[int, ...]:
        """Train ids the generator fired during this session."""
        return self.firmware.train_ids[len(self.before.train_ids) :]

    @property
    def events(self) -> list[EngineEvent]:
        return self.recorder.events

    def finding_codes(self) -> set[str]:
        """Codes of every finding journalled, on pulses and on trains."""
        codes = {f["code"] for p in self.session.pulses for f in p["findings"]}
        codes |= {e["code"] for e in self.session.events if e.get("event") == "finding"}
        return codes

    def verdicts(self) -> list[str]:
        return [p["verdict"] for p in self.session.pulses]

    def journal_events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.session.events if e.get("event") == name]


def drug_given(minutes_ago: float, **kwargs: Any) -> DrugEntry:
    given = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return DrugEntry(given_at=given, entered_by="nurse", **kwargs)


def request_for(plan: Plan, **kwargs: Any) -> SessionRequest:
    return SessionRequest(plan=plan, operator="tester", subject="S-001", **kwargs)


@contextmanager
def simulated(
    plan: Plan, *, faults: Sequence[str] = (), seed: int = 0, time_scale: float = 20.0
) -> Iterator[tuple[SimulatedRig, OpenRig]]:
    """The built-in simulated rig for `plan`, opened through the production drivers."""
    with (
        simulated_rig(plan, seed=seed, faults=faults, time_scale=time_scale) as sim,
        open_rig(sim.config) as rig,
    ):
        yield sim, rig


def run_on(
    sim: SimulatedRig,
    rig: OpenRig,
    store: Path,
    request: SessionRequest,
    *,
    confirmer: Confirmer | None = None,
    sink: Callable[[EngineEvent], None] | None = None,
    **engine_options: Any,
) -> Ran:
    """One session on an already open rig (several sessions may share one bench).

    `engine_options` go to `Engine` (stop_requested, clock, now_utc).
    """
    recorder = Recorder()
    firmware = bench_firmware(sim)
    before = firmware_view(firmware)

    def both(event: EngineEvent) -> None:
        recorder(event)
        if sink is not None:
            sink(event)

    engine = Engine(rig, store, both, confirmer or AlwaysConfirm(), **engine_options)
    outcome = engine.run(request)
    view = settled(firmware)
    assert outcome.journal is not None, outcome
    return Ran(outcome, recorder, Session.read(outcome.journal), view, before, engine.state.value)


def run_simulated(
    plan: Plan,
    store: Path,
    *,
    faults: Sequence[str] = (),
    seed: int = 0,
    time_scale: float = 20.0,
    confirmer: Confirmer | None = None,
    engine_options: dict[str, Any] | None = None,
    **request: Any,
) -> Ran:
    """Start a bench, run one session on it, and close everything."""
    with simulated(plan, faults=faults, seed=seed, time_scale=time_scale) as (sim, rig):
        return run_on(
            sim,
            rig,
            store,
            request_for(plan, **request),
            confirmer=confirmer,
            **(engine_options or {}),
        )


@dataclass
class Answers:
    """A confirmer with scripted answers: arm, then fire, per train."""

    arm: bool = True
    fire: bool = True
    asked: list[ArmQuestion] = field(default_factory=list)

    def request(self, question: ArmQuestion) -> Future[bool]:
        self.asked.append(question)
        return _answered(self.arm)

    def request_fire(self, question: ArmQuestion) -> Future[bool]:
        return _answered(self.fire)


def _answered(value: bool) -> Future[bool]:
    answer: Future[bool] = Future()
    answer.set_result(value)
    return answer


def assert_consistent(ran: Ran, *, delivery_known: bool = True) -> None:
    """What must hold after any session, whatever ended it.

    The journal verifies and ends with a stop document that agrees with the
    engine; the generator is left IDLE or FAULT with its bank discharged;
    every train the generator fired has an intent written before it, with the
    same train id and parameter hash; the pulse counts of the engine, the stop
    document and the generator agree (unless the link was lost mid-train, when
    the host can only give a lower bound); and nothing was delivered after
    the train that produced a stop finding.
    """
    out, session, fw = ran.outcome, ran.session, ran.firmware
    assert session.integrity.ok and session.integrity.status == "intact", session.integrity
    assert session.stop is not None, "no stop document"
    assert session.stop["outcome"] == out.outcome
    assert session.stop["reason"] == out.stop_reason
    assert session.stop["pulses_delivered"] == out.pulses_delivered
    assert session.stop["pulses_planned"] == out.pulses_planned
    expected_state = {
        "completed": "DONE",
        "aborted": "ABORTED",
        "interrupted": "ABORTED",
        "fault": "FAULT",
    }[out.outcome]
    assert ran.engine_state == expected_state

    assert fw.state in ("IDLE", "FAULT"), fw
    assert fw.discharged, fw

    # Write-ahead: the generator fired exactly the trains whose intents came first.
    intents = [d for d in session.documents if d["kind"] == "intent"]
    intent_ids = [i["train_id"] for i in intents]
    fired = ran.fired
    assert list(fired) == intent_ids[: len(fired)], (fired, intent_ids)
    hashes = fw.param_hashes[len(ran.before.param_hashes) :]
    assert list(hashes) == [i["param_hash"] for i in intents[: len(fired)]]
    assert fw.fire_executions - ran.before.fire_executions == len(fired)
    seen_trains: set[int] = set()
    for document in session.documents:
        if document["kind"] == "intent":
            seen_trains.add(document["train"])
        elif document["kind"] == "pulse":
            assert document["train"] in seen_trains, f"pulse {document['index']} before its intent"

    if delivery_known:
        assert ran.delivered == out.pulses_delivered, (fw, out)
    else:
        assert out.pulses_delivered <= ran.delivered, (fw, out)

    stops = [p for p in session.pulses if p["verdict"] == "stop"]
    if stops:
        first = stops[0]
        assert out.outcome != "completed"
        assert all(i["train"] <= first["train"] for i in intents), "a train followed a stop"
        trains = session.start["plan"]["trains"]
        before = sum(t["pulses"] for t in trains if t["index"] < first["train"])
        stopping = next(t for t in trains if t["index"] == first["train"])
        # Streamed (1 Hz) trains stop before the next pulse; buffered ones after the train.
        streamed = stopping["period_us"] >= STREAMED_PERIOD_US
        limit = before + (first["pulse"] if streamed else stopping["pulses"])
        assert ran.delivered <= limit, (ran.delivered, limit, first["index"])
    assert type(ran.events[-1]) is SessionFinished
