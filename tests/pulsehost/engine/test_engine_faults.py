"""Every fault the simulator can inject, through a whole session: outcome, finding, counts.

Each case runs the engine on the built-in simulated rig with one fault and
checks what the operator would see (outcome and stop reason), what the
journal holds (findings, verdicts, events) and what the simulated generator
actually did (pulses delivered, trains fired, final state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sim_session import Ran, assert_consistent, drug_given, plan_for, run_simulated

from simulator.faults import KINDS

pytestmark = pytest.mark.timeout(60)

ROWS = "esope-needle-rows"
LONG = "long-needles"


@dataclass(frozen=True)
class Case:
    fault: str
    outcome: str
    reason: str | None
    rate_hz: float | None = None  # None: the preset's 5 kHz
    preset: str = ROWS
    delivered: int | None = None  # pulses the generator delivered, when the fault fixes it
    findings: frozenset[str] = field(default_factory=frozenset)  # journalled finding codes
    verdicts: frozenset[str] = field(default_factory=frozenset)  # verdicts that must appear
    delivery_known: bool = True
    time_scale: float | None = None  # None: 20 at 5 kHz; 4 at 1 Hz (below)
    also: Callable[[Ran], None] | None = None  # what else this fault must leave behind

    @property
    def id(self) -> str:
        rate = "" if self.rate_hz is None else f"-{self.rate_hz:g}Hz"
        return f"{self.fault}{rate}"


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


def alarm_at(code: str, pulse: int) -> Callable[[Ran], None]:
    """The generator latched `code` and the journal holds its alarm, counted from 1."""

    def check(ran: Ran) -> None:
        assert code in ran.firmware.latched
        alarms = ran.journal_events("alarm")
        assert [(a["fault"], a["pulse"]) for a in alarms] == [(code, pulse)]

    return check


def link_stat(name: str) -> Callable[[Ran], None]:
    """The line fault really happened: the session recovered from it, not around it."""

    def check(ran: Ran) -> None:
        assert ran.firmware.link_stats[name] > 0, ran.firmware.link_stats

    return check


def jittered(ran: Ran) -> None:
    assert ran.finding_codes() & {"width-deviation", "timing-deviation"}
    assert set(ran.verdicts()) == {"warn"}


def all_unmeasured(ran: Ran) -> None:
    assert set(ran.verdicts()) == {"unmeasured"}
    assert len(ran.session.pulses) == 8


def link_lost_mid_train(ran: Ran) -> None:
    assert "LINK_LOST" in ran.firmware.latched
    assert ran.firmware.fire_executions == 1
    [unknown] = ran.journal_events("delivery-unknown")
    assert unknown["pulses_reported"] == ran.outcome.pulses_delivered
    assert "unknown" in ran.outcome.message


def withheld_beats(ran: Ran) -> None:
    ecg = ran.journal_events("ecg")
    assert any(e["ecg_kind"] == "WITHHELD" for e in ecg), ecg
    assert any(e["ecg_kind"] == "TRIGGER" for e in ecg), ecg


CASES = [
    Case("overcurrent@5", "aborted", "overcurrent", delivered=5, also=alarm_at("OVERCURRENT", 5)),
    Case("overcurrent@5", "aborted", "overcurrent", 1.0, delivered=5),
    Case("arc@3", "aborted", "arc", delivered=3, also=alarm_at("ARC", 3)),
    Case("arc@3", "aborted", "arc", 1.0, delivered=3, also=alarm_at("ARC", 3)),
    Case("open", "aborted", "open-circuit", delivered=8),
    # At 1 Hz the host judges each streamed summary and stops before pulse 2.
    Case("open", "aborted", "open-circuit", 1.0, delivered=1),
    Case("poor-contact", "aborted", "low-current", delivered=8),
    Case("poor-contact", "aborted", "low-current", 1.0, delivered=1),
    Case("short", "aborted", "overcurrent", delivered=1, also=alarm_at("OVERCURRENT", 1)),
    Case("missing@4", "aborted", "missing-pulse", delivered=7),
    Case("missing@4", "aborted", "missing-pulse", 1.0, delivered=3),
    Case("droop", "aborted", "voltage-deviation", findings=codes("voltage-deviation")),
    Case("jitter", "completed", None, delivered=8, also=jittered),
    Case("jitter", "completed", None, 1.0, delivered=8, also=jittered),
    Case("clip", "completed", None, delivered=8, findings=codes("clipped"), also=all_unmeasured),
    Case("link-drop@3", "completed", None, delivered=8, also=link_stat("line_dropped")),
    Case("link-corrupt", "completed", None, delivered=8, also=link_stat("line_corrupted")),
    Case("link-duplicate", "completed", None, delivered=8, also=link_stat("line_duplicated")),
    Case("link-delay", "completed", None, delivered=8, verdicts=codes("ok")),
    # Frame 6 is the host's ARM_CONFIRM (5 kHz) or ARM_REQUEST (1 Hz): nothing fires.
    Case("link-silent@6", "fault", "link-lost", delivered=0),
    Case("link-silent@6", "fault", "link-lost", 1.0, delivered=0),
    # Later, the link dies while a 1 Hz train is running (paced so the train outlasts
    # the firmware's 400 ms watchdog).
    Case(
        "link-silent@12",
        "fault",
        "link-lost",
        1.0,
        delivery_known=False,
        time_scale=2.0,
        also=link_lost_mid_train,
    ),
    Case(
        "scope-timeout@1", "completed", None, findings=codes("scope-timeout"), also=all_unmeasured
    ),
    Case(
        "scope-truncated@1",
        "completed",
        None,
        delivered=8,
        findings=codes("scope-error"),
        also=all_unmeasured,
    ),
    Case(
        "ecg-none",
        "aborted",
        "ecg-timeout",
        preset=LONG,
        delivered=0,
        findings=codes("ecg-timeout"),
    ),
    Case("ecg-arrhythmia", "completed", None, preset=LONG, also=withheld_beats),
]


# At 1 Hz the host judges each streamed summary and must abort before the next pulse.
# Paced 4 times faster that still leaves it 250 ms, far beyond its reaction time even on
# a loaded machine; 20 times faster (50 ms) would make the counts depend on the load.
STREAMED_TIME_SCALE = 4.0
BUFFERED_TIME_SCALE = 20.0


def run_case(case: Case, store: Path) -> Ran:
    time_scale = case.time_scale or (
        STREAMED_TIME_SCALE if case.rate_hz == 1.0 else BUFFERED_TIME_SCALE
    )
    if case.preset == LONG:
        plan = plan_for(LONG, rate_hz=case.rate_hz, needles="example-4-needles")
        return run_simulated(
            plan, store, faults=[case.fault], time_scale=time_scale, drug=drug_given(12.0)
        )
    plan = plan_for(case.preset, rate_hz=case.rate_hz)
    return run_simulated(plan, store, faults=[case.fault], time_scale=time_scale)


def test_every_fault_kind_has_a_case() -> None:
    assert {c.fault.partition("@")[0] for c in CASES} == set(KINDS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, tmp_path: Path) -> None:
    ran = run_case(case, tmp_path)
    out = ran.outcome
    assert (out.outcome, out.stop_reason) == (case.outcome, case.reason), out.message
    assert_consistent(ran, delivery_known=case.delivery_known)
    if case.delivered is not None:
        assert ran.firmware.pulses_delivered == case.delivered
    assert case.findings <= ran.finding_codes(), ran.finding_codes()
    assert case.verdicts <= set(ran.verdicts()), ran.verdicts()
    if case.reason is not None and case.outcome == "aborted":
        # The stopping finding is journalled where the operator reviews it.
        assert case.reason in ran.finding_codes()
    if out.outcome == "completed":
        assert ran.firmware.pulses_delivered == out.pulses_planned
        assert "stop" not in ran.verdicts()
    if case.also is not None:
        case.also(ran)
