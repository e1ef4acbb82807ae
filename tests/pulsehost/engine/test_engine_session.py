"""The session flow: completion, operator keys, stop requests, latched faults, journal failure."""

from __future__ import annotations

import errno
import io
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_mock import MockerFixture
from sim_session import (
    Answers,
    assert_consistent,
    bench_firmware,
    plan_for,
    request_for,
    run_on,
    run_simulated,
    settled,
    simulated,
)

from pulsehost.engine.confirm import ArmQuestion, PromptConfirm
from pulsehost.engine.engine import Engine, pulse_params
from pulsehost.engine.events import (
    EngineEvent,
    Notice,
    PulseResult,
    SessionFinished,
    SessionStarted,
    StateChanged,
    TrainArming,
    TrainFinished,
    TrainStarted,
)
from pulsehost.engine.session import SessionOutcome
from pulsehost.engine.states import State
from pulsehost.journal import JournalWriter, open_session
from pulsehost.limits import Limit, SafetyLimits

pytestmark = pytest.mark.timeout(60)

ROWS = "esope-needle-rows"


def wait_for(condition: Callable[[], bool], within_s: float, what: str) -> None:
    """Poll until `condition` holds; fail naming `what` if the deadline passes first."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within_s:g} s")
        time.sleep(0.005)


class EngineThread:
    """Runs `engine.run` on a thread of its own, as the UI does, and hands back the outcome."""

    def __init__(self, engine: Engine, request: object) -> None:
        self.outcome: SessionOutcome | None = None
        self.error: BaseException | None = None

        def work() -> None:
            try:
                self.outcome = engine.run(request)  # type: ignore[arg-type]
            except BaseException as exc:
                self.error = exc

        self._thread = threading.Thread(target=work, name="engine-under-test", daemon=True)
        self._thread.start()

    def join(self, within_s: float = 30.0) -> SessionOutcome:
        self._thread.join(within_s)
        assert not self._thread.is_alive(), "the engine did not finish"
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


# -- a session that goes well ----------------------------------------------------------


def test_standard_protocol_completes_with_eight_ok_pulses(tmp_path: Path) -> None:
    plan = plan_for(ROWS)
    ran = run_simulated(plan, tmp_path)
    out = ran.outcome
    assert (out.outcome, out.stop_reason) == ("completed", None)
    assert out.exit_code == 0
    assert (out.pulses_planned, out.pulses_delivered) == (8, 8)
    assert ran.verdicts() == ["ok"] * 8
    assert [p["index"] for p in ran.session.pulses] == list(range(1, 9))
    assert_consistent(ran)

    reread = open_session(tmp_path, out.session_id)
    assert reread.integrity.ok and reread.outcome == "completed"
    assert reread.integrity.verified == reread.integrity.lines
    # The start document says what was run, on what, by whom.
    start = reread.start
    assert start["simulated"] is True and start["operator"] == "tester"
    assert start["protocol"]["id"] == ROWS
    assert start["plan"]["totals"]["pulses"] == 8
    assert start["instruments"]["generator"]["serial"] == ran.firmware.serial
    # Each pulse keeps its waveforms, and they read back intact.
    blocks = reread.waveforms(1)
    assert set(blocks) == {"voltage", "current"}


def test_events_follow_the_state_table(tmp_path: Path) -> None:
    ran = run_simulated(plan_for(ROWS), tmp_path)
    states = [(e.previous, e.state) for e in ran.recorder.of(StateChanged)]
    assert states == [
        (State.IDLE, State.PREFLIGHT),
        (State.PREFLIGHT, State.READY),
        (State.READY, State.ARMED),
        (State.ARMED, State.FIRING),
        (State.FIRING, State.DONE),
    ]
    kinds = [type(e) for e in ran.events if not isinstance(e, (StateChanged, Notice))]
    assert kinds == [
        SessionStarted,
        TrainArming,
        TrainStarted,
        *[PulseResult] * 8,
        TrainFinished,
        SessionFinished,
    ]
    [started] = ran.recorder.of(SessionStarted)
    assert started.simulated and started.pulses_planned == 8
    assert started.journal == str(ran.outcome.journal)
    [finished] = ran.recorder.of(TrainFinished)
    assert (finished.delivered, finished.requested, finished.verdict) == (8, 8, "ok")
    # The journal records the same state changes in the same order, from the one that
    # opened it (IDLE -> PREFLIGHT happens before the journal exists).
    journalled = [(e["previous"], e["state"]) for e in ran.journal_events("state")]
    assert journalled == [(a.value, b.value) for a, b in states[1:]]


def test_operator_is_shown_the_parameters_the_generator_holds(tmp_path: Path) -> None:
    plan = plan_for("esope-hexagonal")
    answers = Answers()
    ran = run_simulated(plan, tmp_path, confirmer=answers)
    assert ran.outcome.outcome == "completed"
    assert len(answers.asked) == len(plan.trains) == 12
    for question, train in zip(answers.asked, plan.trains, strict=True):
        assert question.offer.params == pulse_params(plan, train)
        assert question.arming.pair == (train.a, train.b)
        assert f"{question.offer.param_hash:08X}" in question.describe()
    intents = ran.session.intents
    assert [i["param_hash"] for i in intents] == [
        f"{q.offer.param_hash:08X}" for q in answers.asked
    ]
    assert_consistent(ran)


# -- the operator's keys ---------------------------------------------------------------


def test_declining_to_arm_fires_nothing(tmp_path: Path) -> None:
    ran = run_simulated(plan_for(ROWS), tmp_path, confirmer=Answers(arm=False))
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "operator-declined")
    assert ran.outcome.exit_code == 1
    assert ran.session.intents == ()  # declined before the write-ahead intent
    assert ran.firmware.fire_executions == 0 and ran.delivered == 0
    assert_consistent(ran)


def test_standing_down_when_armed_fires_nothing_and_discharges(tmp_path: Path) -> None:
    ran = run_simulated(plan_for(ROWS), tmp_path, confirmer=Answers(fire=False))
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "operator-declined")
    assert len(ran.session.intents) == 1  # it was charged, so the intent was written
    assert ran.firmware.fire_executions == 0 and ran.delivered == 0
    assert ran.firmware.state == "IDLE" and ran.firmware.discharged
    assert_consistent(ran)


@pytest.mark.parametrize(("typed", "outcome"), [("arm\n", "completed"), ("no\n", "aborted")])
def test_terminal_prompt_arms_only_on_the_word_arm(
    typed: str, outcome: str, tmp_path: Path
) -> None:
    shown = io.StringIO()
    prompt = PromptConfirm(stdin=io.StringIO(typed), stdout=shown)
    ran = run_simulated(plan_for(ROWS), tmp_path, confirmer=prompt)
    assert ran.outcome.outcome == outcome
    # The operator was shown what the generator holds, not the host's copy.
    assert "electrodes 0-1, 400 V, 8 x 100 us at 5000 Hz" in shown.getvalue()
    assert_consistent(ran)


class NeverAnswers:
    """An operator who walked away: the arm question is never answered."""

    def __init__(self) -> None:
        self.pending: list[Future[bool]] = []

    def request(self, question: ArmQuestion) -> Future[bool]:
        self.pending.append(Future())
        return self.pending[-1]

    def request_fire(self, question: ArmQuestion) -> Future[bool]:
        return self.request(question)


def test_unanswered_arm_question_expires_and_the_link_stays_alive(tmp_path: Path) -> None:
    # A clock running 50 times fast lets the arm offer expire within a second of real time,
    # while the firmware's own watchdog keeps real time: a session that stopped servicing
    # the link while waiting would end with a LINK_LOST fault.
    real = time.monotonic
    origin = real()

    def fast() -> float:
        return origin + 50 * (real() - origin)

    operator = NeverAnswers()
    ran = run_simulated(
        plan_for(ROWS), tmp_path, confirmer=operator, engine_options={"clock": fast}
    )
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "confirmation-timeout")
    assert operator.pending and all(f.cancelled() for f in operator.pending)
    assert ran.firmware.fire_executions == 0
    assert ran.firmware.latched == frozenset()  # never silent long enough to trip
    assert_consistent(ran)


# -- heartbeat ---------------------------------------------------------------------------


def test_silent_host_leaves_an_armed_generator_faulted_and_discharged() -> None:
    plan = plan_for(ROWS)
    with simulated(plan) as (sim, rig):
        firmware = bench_firmware(sim)
        gen = rig.generator
        gen.configure(pulse_params(plan, plan.trains[0]))
        gen.confirm_arm(gen.request_arm())
        assert firmware.state.name == "ARMED" and not firmware.discharged
        # From here on nobody calls service(): the heartbeat stops.
        wait_for(
            lambda: firmware.state.name == "FAULT" and firmware.discharged,
            within_s=3.0,
            what="the firmware's link watchdog tripping",
        )
        assert {c.name for c in firmware.latched_faults} == {"LINK_LOST"}
        assert firmware.fire_executions == 0


def test_stuck_engine_lets_the_generator_make_itself_safe(tmp_path: Path) -> None:
    """An engine stuck after charging (here: in its event sink) stops the heartbeat too."""
    plan = plan_for(ROWS)
    release = threading.Event()
    armed = threading.Event()

    def stuck_when_armed(event: EngineEvent) -> None:
        if isinstance(event, StateChanged) and event.state is State.ARMED:
            armed.set()
            release.wait(20.0)

    with simulated(plan) as (sim, rig):
        firmware = bench_firmware(sim)
        engine = Engine(rig, tmp_path, stuck_when_armed, Answers())
        running = EngineThread(engine, request_for(plan))
        try:
            wait_for(armed.is_set, 10.0, "arming")
            wait_for(
                lambda: firmware.state.name == "FAULT" and firmware.discharged,
                within_s=3.0,
                what="the firmware's link watchdog tripping under a stuck engine",
            )
        finally:
            release.set()
        outcome = running.join()
        view = settled(firmware)
    assert outcome.outcome == "fault"
    assert "LINK_LOST" in view.latched
    assert view.fire_executions == 0 and view.pulses_delivered == 0
    assert open_session(tmp_path, outcome.session_id).outcome == "fault"


# -- stopping --------------------------------------------------------------------------


def test_request_stop_during_a_1_hz_train_stops_before_the_next_pulse(tmp_path: Path) -> None:
    plan = plan_for(ROWS, rate_hz=1.0)
    with simulated(plan, time_scale=4.0) as (sim, rig):  # a pulse every 250 ms
        firmware = bench_firmware(sim)
        engine = Engine(rig, tmp_path, lambda event: None, Answers())
        running = EngineThread(engine, request_for(plan))
        wait_for(lambda: firmware.pulses_delivered >= 2, 20.0, "the second pulse")
        engine.request_stop()
        # request_stop returns once the generator acknowledged ABORT: nothing may follow.
        at_stop = firmware.pulses_delivered
        outcome = running.join()
        view = settled(firmware)
    assert (outcome.outcome, outcome.stop_reason) == ("aborted", "operator-stop")
    assert 2 <= at_stop < 8
    assert view.pulses_delivered == at_stop == outcome.pulses_delivered
    session = open_session(tmp_path, outcome.session_id)
    assert session.stop is not None and session.stop["pulses_delivered"] == at_stop
    assert view.state == "IDLE" and view.discharged


def test_interrupt_mid_train_counts_what_the_generator_delivered(tmp_path: Path) -> None:
    """Ctrl-C (or SIGTERM, which the CLI turns into one) lands just after FIRE."""
    plan = plan_for(ROWS, rate_hz=1.0)

    def ctrl_c(event: EngineEvent) -> None:
        if isinstance(event, TrainStarted):
            raise KeyboardInterrupt

    with simulated(plan, time_scale=4.0) as (sim, rig):
        firmware = bench_firmware(sim)
        ran = run_on(sim, rig, tmp_path, request_for(plan), sink=ctrl_c)
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("interrupted", "operator")
    assert ran.outcome.exit_code == 130
    assert ran.delivered < 8 and len(ran.fired) == 1
    record = firmware.train_records[-1]
    assert record.done.n_delivered == ran.outcome.pulses_delivered
    assert_consistent(ran)


def test_stop_requested_before_the_session_fires_nothing(tmp_path: Path) -> None:
    flag = threading.Event()
    flag.set()
    ran = run_simulated(plan_for(ROWS), tmp_path, engine_options={"stop_requested": flag})
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "operator-stop")
    assert ran.firmware.fire_executions == 0
    assert_consistent(ran)


# -- latched faults and refusals ---------------------------------------------------------


def test_latched_generator_fault_refuses_the_next_session_until_acknowledged(
    tmp_path: Path,
) -> None:
    plan = plan_for(ROWS)
    with simulated(plan, faults=["overcurrent@5"]) as (sim, rig):
        tripped = run_on(sim, rig, tmp_path, request_for(plan))
        assert tripped.outcome.stop_reason == "overcurrent"
        assert tripped.firmware.state == "FAULT" and "OVERCURRENT" in tripped.firmware.latched

        refused = run_on(sim, rig, tmp_path, request_for(plan))
        assert (refused.outcome.outcome, refused.outcome.stop_reason) == (
            "aborted",
            "generator-fault",
        )
        assert "OVERCURRENT" in refused.outcome.message
        assert "--acknowledge-fault" in refused.outcome.message
        assert refused.fired == () and refused.session.intents == ()
        assert_consistent(refused)

        acknowledged = run_on(sim, rig, tmp_path, request_for(plan, acknowledge_faults=True))
        cleared = acknowledged.journal_events("operator")
        assert [(e["action"], e["code"]) for e in cleared] == [("clear-fault", "OVERCURRENT")]
        # Past preflight it fires again (and trips again: the cause was not removed).
        assert len(acknowledged.fired) == 1
        assert acknowledged.outcome.stop_reason == "overcurrent"
        assert_consistent(acknowledged)
        # The generator's record of the earlier train was journalled at preflight.
        [reconciled] = refused.journal_events("reconcile")
        assert reconciled["train_id"] == tripped.session.intents[-1]["train_id"]


def test_plan_above_the_site_limit_is_refused_before_arming(tmp_path: Path) -> None:
    plan = plan_for(ROWS)  # 400 V
    with simulated(plan) as (sim, rig):
        strict = SafetyLimits(
            v_max=Limit(300.0, "V", "test site"), i_max=Limit(50.0, "A", "test site")
        )
        rig.config = replace(rig.config, limits=strict)
        ran = run_on(sim, rig, tmp_path, request_for(plan))
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("aborted", "plan-refused")
    assert "300 V (test site)" in ran.outcome.message
    assert ran.fired == () and ran.session.intents == ()
    problems = ran.journal_events("preflight-problem")
    assert problems and all(p["level"] == "refuse" for p in problems)
    assert_consistent(ran)


# -- the journal is the gate -------------------------------------------------------------


def test_journal_write_failure_stops_delivery_before_fire(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """The intent cannot be made durable (disk full): nothing may fire."""
    real_fsync = os.fsync
    real_intent = JournalWriter.intent
    disk_full = threading.Event()

    def fsync(fd: int) -> None:
        if disk_full.is_set():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    def intent(writer: JournalWriter, body: object) -> None:
        disk_full.set()  # the disk fills just as the intent is written
        real_intent(writer, body)  # type: ignore[arg-type]

    mocker.patch("pulsehost.journal.writer.os.fsync", side_effect=fsync)
    mocker.patch.object(JournalWriter, "intent", autospec=True, side_effect=intent)

    ran = run_simulated(plan_for(ROWS), tmp_path)
    assert (ran.outcome.outcome, ran.outcome.stop_reason) == ("fault", "journal")
    assert "No space left" in ran.outcome.message
    assert ran.outcome.exit_code == 3
    assert ran.firmware.fire_executions == 0 and ran.delivered == 0
    assert ran.firmware.state == "IDLE" and ran.firmware.discharged
    # What reached the disk still verifies; with no stop document it reads as interrupted.
    assert ran.session.integrity.ok
    assert ran.session.stop is None and ran.session.outcome == "interrupted"
    # The intent's bytes may have reached the file; they were never known to be durable.
    assert len(ran.session.intents) <= 1
    notices = [n.message for n in ran.recorder.of(Notice) if n.level == "error"]
    assert any("stop document" in m for m in notices)
