"""The fault matrix: every simulator fault kind, every preset, 5 kHz and 1 Hz.

Each case is one session through the real engine on the built-in simulated
rig (`simulated_session.run_session`). A row holds what the journal says
(outcome, stop reason, findings, pulses delivered, integrity) next to what the
simulator saw (pulses it delivered, trains it fired, its state and bank after
the session), and from the two the pulses that went out after the host had a
stop finding in hand.

Rows are computed in worker processes (`run_case` is what they call), so the
module holds only picklable values and functions.
"""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from drivers.values import PulseTelemetry
from protocols import Plan
from pulsehost.checks import Level, evaluate_telemetry
from pulsehost.engine.assess import STREAMED_PERIOD_US, expectation_of, thresholds_of
from pulsehost.journal import Session
from tests.reliability.simulated_session import (
    PRESETS,
    FiredTrain,
    SessionRun,
    plan_for,
    run_session,
)

RATES_HZ = (5000.0, 1.0)
# Pulse pacing, charging and ECG beats run this much faster than real time (safety
# timers do not). At 1 Hz that leaves the host 100 ms (instead of 1 s) between a pulse's
# summary and the next pulse, the window in which it must abort on a stop finding; at
# 5 kHz the train is over in 1.6 ms anyway and only charging and ECG waits shrink.
TIME_SCALES: Mapping[float, float] = MappingProxyType({5000.0: 20.0, 1.0: 10.0})
SEED = 0

# One spec per fault kind. Pulse numbers put the fault mid-train; link-drop starts
# after the handshake; link-silent@12 falls on the first train's FIRE or just after.
SPECS: Mapping[str, str] = MappingProxyType(
    {
        "open": "open",
        "poor-contact": "poor-contact",
        "short": "short",
        "overcurrent": "overcurrent@5",
        "arc": "arc@3",
        "missing": "missing@4",
        "jitter": "jitter",
        "droop": "droop",
        "clip": "clip",
        "link-drop": "link-drop@10",
        "link-corrupt": "link-corrupt",
        "link-duplicate": "link-duplicate",
        "link-delay": "link-delay",
        "link-silent": "link-silent@12",
        "scope-timeout": "scope-timeout@1",
        "scope-truncated": "scope-truncated@1",
        "ecg-arrhythmia": "ecg-arrhythmia",
        "ecg-none": "ecg-none",
    }
)
# The ECG gate exists only in ECG-gated delivery; elsewhere these faults change nothing.
ECG_KINDS = frozenset({"ecg-arrhythmia", "ecg-none"})

# The stop each fault's signature (docs/simulator.md, fault catalogue) must produce,
# whatever the preset and rate. Faults missing here end in more than one way (a
# clipped scope stops where the clip hides a possible overcurrent, a lossy link may or
# may not exhaust its retries): for those only the safety invariants are checked.
EXPECTED_REASON: Mapping[str, str] = MappingProxyType(
    {
        "open": "open-circuit",
        "poor-contact": "low-current",
        "short": "overcurrent",
        "overcurrent": "overcurrent",
        "arc": "arc",
        "missing": "missing-pulse",
        "droop": "voltage-deviation",
        "link-silent": "link-lost",
        "ecg-none": "ecg-timeout",
    }
)


@dataclass(frozen=True)
class Case:
    preset: str
    rate_hz: float
    kind: str

    @property
    def spec(self) -> str:
        return SPECS[self.kind]

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.preset}-{self.rate_hz:g}Hz"


@dataclass(frozen=True)
class Row:
    case: Case
    outcome: str = ""
    reason: str | None = None
    findings: tuple[str, ...] = ()  # every non-ok finding code, in order of first appearance
    journal_delivered: int = 0
    simulator_delivered: int = 0
    after_stop: int | None = None  # pulses fired after the host held a stop finding
    intents: int = 0
    fired: int = 0
    fired_without_intent: int = 0
    state: str = ""
    discharged: bool = False
    hv_bank_v: float = 0.0
    integrity: str = ""
    seconds: float = 0.0
    attempt: int = 1
    error: str | None = None


def cases() -> tuple[Case, ...]:
    """The matrix: ECG faults on ECG-gated presets only, everything else everywhere."""
    gated = {preset: plan_for(preset).ecg.gated for preset in PRESETS}
    return tuple(
        Case(preset, rate, kind)
        for kind in SPECS
        for preset in PRESETS
        for rate in RATES_HZ
        if kind not in ECG_KINDS or gated[preset]
    )


def run_case(case: Case, store_root: str) -> Row:
    """Run one case; any exception becomes the row's `error` so one case cannot hide others.

    A session that ends with the link lost although no link fault was injected is run
    once more, and the row says so: the simulated firmware computes a whole train
    before it acknowledges FIRE, and a CPU-starved machine can delay that reply past
    the host's 4 x 50 ms window (docs/reliability.md). The host's verdict, link lost,
    is right then; it is just not what the case is about.
    """
    try:
        plan = plan_for(case.preset, case.rate_hz)
        row = None
        for attempt in (1, 2):
            store = Path(tempfile.mkdtemp(prefix=f"{case.id}-", dir=store_root))
            run = run_session(
                plan, store, faults=[case.spec], time_scale=TIME_SCALES[case.rate_hz], seed=SEED
            )
            row = row_of(case, run, plan, attempt)
            if row.reason != "link-lost" or case.kind.startswith("link-"):
                break
        assert row is not None
        return row
    except Exception:
        return Row(case=case, error=traceback.format_exc())


def warm_up() -> None:
    """One unrecorded session, so a fresh worker's first-use imports and caches are not
    paid inside a case's reaction window (at real 1 Hz pacing they fit in it tenfold)."""
    with tempfile.TemporaryDirectory(prefix="warm-up-") as store:
        run_session(plan_for(PRESETS[0], 1.0), Path(store), time_scale=TIME_SCALES[1.0])


def row_of(case: Case, run: SessionRun, plan: Plan, attempt: int = 1) -> Row:
    outcome = run.outcome
    assert outcome.journal is not None, "the engine wrote no journal"
    session = Session.read(outcome.journal)
    intent_ids = {int(i["train_id"]): int(i["train"]) for i in session.intents}
    fired = run.firmware.trains
    return Row(
        case=case,
        outcome=outcome.outcome,
        reason=outcome.stop_reason,
        findings=finding_codes(session),
        journal_delivered=session.pulses_delivered,
        simulator_delivered=run.firmware.pulses_delivered,
        after_stop=pulses_after_stop(session, plan, fired, intent_ids),
        intents=len(intent_ids),
        fired=run.firmware.fire_executions,
        fired_without_intent=sum(1 for t in fired if t.train_id not in intent_ids),
        state=run.firmware.state,
        discharged=run.firmware.discharged,
        hv_bank_v=run.firmware.hv_bank_v,
        integrity=str(session.integrity.status),
        seconds=run.seconds,
        attempt=attempt,
    )


def finding_codes(session: Session) -> tuple[str, ...]:
    codes: dict[str, None] = {}
    for document in session.documents:
        for finding in _findings_of(document):
            if finding.get("level") != "ok":
                codes.setdefault(str(finding.get("code")), None)
    return tuple(codes)


def pulses_after_stop(
    session: Session, plan: Plan, fired: Sequence[FiredTrain], intent_ids: Mapping[int, int]
) -> int | None:
    """Pulses the simulator delivered after the host had a stop finding in hand.

    Any stop finding ends delivery before the next train: pulses of later trains
    count. Where summaries stream (1 Hz) the host also judges each one before the
    next pulse, so pulses after the first summary its own check calls a stop count
    too. Scope findings at 1 Hz and everything at 5 kHz are made after the train
    (the firmware's trip is the protection within it). None when nothing was
    found at stop level.
    """
    stop_trains = [
        int(d["train"])
        for d in session.documents
        if any(f.get("level") == "stop" for f in _findings_of(d))
    ]
    if not stop_trains:
        return None
    first_train = min(stop_trains)
    delivered = {intent_ids[t.train_id]: t.n_delivered for t in fired if t.train_id in intent_ids}
    after = sum(n for train, n in delivered.items() if train > first_train)
    streamed = _first_streamed_stop(session, plan)
    if streamed is not None:
        train, pulse = streamed
        after += max(0, delivered.get(train, 0) - pulse)
    return after


def _first_streamed_stop(session: Session, plan: Plan) -> tuple[int, int] | None:
    """(train, pulse) of the first streamed summary the host's own check calls a stop."""
    thresholds = thresholds_of(plan)
    for document in session.pulses:
        summary = document.get("firmware")
        train = plan.trains[int(document["train"]) - 1]
        if not summary or train.period_us < STREAMED_PERIOD_US:
            continue
        telemetry = PulseTelemetry(**{**summary, "flags": frozenset(summary["flags"])})
        judged = evaluate_telemetry(telemetry, expectation_of(plan, train), thresholds)
        if any(f.level is Level.STOP for f in judged.findings):
            return train.index, int(document["pulse"])
    return None


def _findings_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if document.get("kind") == "pulse":
        return [f for f in document.get("findings") or [] if isinstance(f, Mapping)]
    if document.get("kind") == "event" and document.get("event") == "finding":
        return [document]
    return []


def table(rows: Sequence[Row]) -> str:
    """The matrix as fixed-width text, one line per case."""
    header = (
        f"{'fault':<16} {'preset':<18} {'rate':>6}  {'outcome':<10} {'stop reason':<18} "
        f"{'journal':>7} {'sim':>4} {'after':>5} {'fired':>5} {'no-int':>6}  "
        f"{'state':<5} {'disch':<5} {'chain':<6} {'s':>5}  findings"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        c = row.case
        if row.error is not None:
            last = row.error.strip().splitlines()[-1]
            lines.append(f"{c.kind:<16} {c.preset:<18} {c.rate_hz:>6g}  ERROR {last}")
            continue
        after = "-" if row.after_stop is None else str(row.after_stop)
        lines.append(
            f"{c.kind:<16} {c.preset:<18} {c.rate_hz:>6g}  "
            f"{row.outcome + ('*' if row.attempt > 1 else ''):<10} "
            f"{row.reason or '-':<18} {row.journal_delivered:>7} {row.simulator_delivered:>4} "
            f"{after:>5} {row.fired:>5} {row.fired_without_intent:>6}  {row.state:<5} "
            f"{'yes' if row.discharged else 'NO':<5} {row.integrity:<6} {row.seconds:>5.1f}  "
            f"{', '.join(row.findings) or '-'}"
        )
    if any(row.attempt > 1 for row in rows):
        lines.append("* run a second time: the first attempt lost the link with no link fault")
    return "\n".join(lines)
