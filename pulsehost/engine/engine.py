"""The session engine: deliver a plan train by train, check every pulse, journal everything.

Plain synchronous code on one thread. It owns the generator link: every wait
services the link (heartbeat), so a stuck engine silences the link and the
firmware disarms on its own. Every way out of `run()` goes through the
`finally` that removes energy and writes the stop document.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from drivers.errors import DriverError, InstrumentTimeout, LinkLost
from drivers.values import (
    Capture,
    PulseParams,
    PulseTelemetry,
    ScopeChannel,
    ScopeSetup,
    TrainReport,
)
from protocols import Plan, check_plan
from protocols.drug import DrugWindow
from protocols.plan import Train
from pulsehost import __version__
from pulsehost.engine import assess
from pulsehost.engine.confirm import ArmQuestion, Confirmer
from pulsehost.engine.events import (
    EcgSeen,
    EngineEvent,
    EventSink,
    Notice,
    SessionFinished,
    SessionStarted,
    StateChanged,
    TrainArming,
    TrainFinished,
    TrainStarted,
)
from pulsehost.engine.session import DrugEntry, SessionOutcome, SessionRequest
from pulsehost.engine.states import State, check_transition
from pulsehost.journal import JournalError, JournalWriter
from pulsehost.limits import Limit, lowest
from pulsehost.rig import OpenRig

_T = TypeVar("_T")

SERVICE_PERIOD_S = 0.05  # well inside the firmware's 400 ms link timeout
CHARGE_AND_MARGIN_S = 5.0
ARMED_WAIT_S = 8.0  # the firmware disarms after 10 s in ARMED; ask for fire within that
SCOPE_SETTLE_S = 0.3  # after TRAIN_DONE the captures are already in memory
ABORT_SETTLE_S = 2.0  # TRAIN_DONE follows an ABORT within a pulse; allow for event retries
PRE_TRIGGER_S = 20e-6
POST_PULSE_S = 80e-6


class _Stop(Exception):
    """Ends the session with an outcome; raised from deep inside a train."""

    def __init__(self, outcome: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.reason = reason
        self.message = message


class Engine:
    """Runs one session on an open rig. Construct per session."""

    def __init__(
        self,
        rig: OpenRig,
        store: Path,
        sink: EventSink,
        confirmer: Confirmer,
        *,
        stop_requested: threading.Event | None = None,
        start_extra: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now_utc: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._rig = rig
        self._store = store
        self._sink = sink
        self._confirmer = confirmer
        self._stop_requested = stop_requested or threading.Event()
        self._start_extra = dict(start_extra or {})
        self._clock = clock
        self._now_utc = now_utc
        self._state = State.IDLE
        self._journal: JournalWriter | None = None
        self._pulse_index = 0
        self._delivered = 0
        # Set once the generator reported a fault: from then on the host expects FAULT,
        # so servicing the link goes on instead of tripping over the known fault again.
        self._generator_faulted = False

    @property
    def state(self) -> State:
        return self._state

    # -- the session ------------------------------------------------------------------

    def run(self, request: SessionRequest) -> SessionOutcome:
        plan = request.plan
        outcome, reason, message = "completed", None, "all trains delivered and checked"
        session_id = ""
        unexpected: Exception | None = None
        try:
            self._to(State.PREFLIGHT, "session opened")
            self._journal = JournalWriter.create(self._store, self._start_document(request))
            session_id = self._journal.session_id
            self._emit(
                SessionStarted(
                    session_id=session_id,
                    journal=str(self._journal.directory),
                    simulated=self._rig.config.simulated,
                    protocol_id=plan.protocol.id,
                    trains=len(plan.trains),
                    pulses_planned=plan.total_pulses,
                    instruments=self._rig.describe(),
                )
            )
            self._preflight(request)
            self._to(State.READY, "preflight passed")
            for train in plan.trains:
                self._deliver(request, train)
            self._to(State.DONE, "every train delivered")
        except _Stop as stop:
            outcome, reason, message = stop.outcome, stop.reason, stop.message
        except KeyboardInterrupt:
            outcome, reason, message = "interrupted", "operator", "interrupted by the operator"
        except JournalError as exc:
            outcome, reason = "fault", "journal"
            message = f"journal write failed, delivery stopped: {exc}"
        except LinkLost as exc:
            outcome, reason, message = "fault", "link-lost", str(exc)
        except DriverError as exc:
            outcome, reason, message = "fault", "instrument", str(exc)
        except Exception as exc:
            # A bug, not an expected failure: make the hardware safe, journal it as a
            # fault, and let it surface once the stop document is written.
            outcome, reason = "fault", "internal-error"
            message = f"internal error: {type(exc).__name__}: {exc}"
            unexpected = exc
        finally:
            self._safe_off()
            if outcome != "completed" and not self._state.final:
                final = State.FAULT if outcome == "fault" else State.ABORTED
                self._to(
                    final, reason or outcome, journal=outcome != "fault" or reason != "journal"
                )
            journal_path = self._finish_journal(request, outcome, reason, message)
        result = SessionOutcome(
            session_id=session_id,
            outcome=outcome,
            stop_reason=reason,
            message=message,
            pulses_planned=plan.total_pulses,
            pulses_delivered=self._delivered,
            journal=journal_path,
        )
        self._emit(
            SessionFinished(
                session_id=session_id,
                outcome=outcome,
                stop_reason=reason,
                message=message,
                pulses_planned=result.pulses_planned,
                pulses_delivered=result.pulses_delivered,
                journal=str(journal_path or ""),
            )
        )
        if unexpected is not None:
            raise unexpected
        return result

    # -- preflight --------------------------------------------------------------------

    def _preflight(self, request: SessionRequest) -> None:
        plan = request.plan
        gen = self._rig.generator
        status = gen.status()
        self._event("preflight", generator_state=status.state, hv_bank_v=status.hv_bank_v)
        # First, so that a session refused for a latched fault still records what led to it.
        self._reconcile()
        if status.state == "FAULT" or status.faults:
            faults = ", ".join(sorted(status.faults)) or "unknown"
            if not request.acknowledge_faults:
                raise _Stop(
                    "aborted",
                    "generator-fault",
                    f"the generator holds a latched fault ({faults}); find and remove the "
                    "cause, then start again acknowledging it (--acknowledge-fault)",
                )
            for code in sorted(status.faults):
                gen.clear_fault(code)
                self._event("operator", action="clear-fault", code=code, by=request.operator)
            self._notice("warn", f"latched generator fault {faults} cleared by {request.operator}")

        limits = gen.limits
        v_max = lowest(
            self._rig.config.limits.v_max,
            Limit(limits.v_max_v, "V", f"generator {gen.identity.serial} handshake"),
            Limit(plan.limits.v_max_v, "V", f"protocol {plan.protocol.id}"),
        )
        i_max = lowest(
            self._rig.config.limits.i_max,
            Limit(limits.i_max_a, "A", f"generator {gen.identity.serial} handshake"),
            Limit(plan.checks.i_max_a, "A", f"protocol {plan.protocol.id} [checks]"),
        )
        problems = check_plan(
            plan,
            v_max.value,
            i_max.value,
            max_rate_hz=limits.max_rate_hz,
            max_count=limits.max_count,
            ecg_gate=limits.ecg_gate,
            limit_owner="the applicable",
        )
        for problem in problems:
            self._event("preflight-problem", **problem.to_dict())
        blocking = [p for p in problems if p.blocking]
        for p in problems:
            if not p.blocking:
                self._notice("warn", p.message)
        if blocking:
            reasons = "; ".join(p.message for p in blocking)
            raise _Stop(
                "aborted",
                "plan-refused",
                f"plan not deliverable within {v_max.describe()} and {i_max.describe()}: {reasons}",
            )
        self._check_drug_window(request)

    def _reconcile(self) -> None:
        """Record what the generator says about its last train (crash recovery)."""
        record_of = getattr(self._rig.generator, "train_record", None)
        if record_of is None:
            return
        record = record_of(0)
        if record is not None:
            self._event(
                "reconcile",
                train_id=record.train_id,
                result=record.result,
                n_requested=record.n_requested,
                n_delivered=record.n_delivered,
                message="the generator's last train record before this session",
            )

    def _check_drug_window(self, request: SessionRequest) -> None:
        drug = request.plan.drug
        if drug is None:
            return
        if request.drug is None:
            raise _Stop(
                "aborted",
                "drug-window",
                f"this protocol gates pulses on the {drug.agent} ({drug.route.upper()}) time: "
                "give the time the drug was given (--drug-time HH:MM)",
            )
        minutes = self._minutes_since(request.drug)
        window = drug.judge(minutes)
        self._event(
            "drug",
            given_at=request.drug.given_at.isoformat(),
            entered_by=request.drug.entered_by,
            minutes_since=round(minutes, 2),
            window=window.value,
        )
        if window is DrugWindow.TOO_EARLY:
            raise _Stop(
                "aborted",
                "drug-window",
                f"{minutes:.1f} min since the drug: arming opens at {drug.window_start_min:g} min",
            )
        if window is DrugWindow.CLOSED:
            if not request.drug.override_reason:
                raise _Stop(
                    "aborted",
                    "drug-window",
                    f"{minutes:.1f} min since the drug: the window closed at "
                    f"{drug.window_end_min:g} min; arming needs an override with a reason",
                )
            self._event(
                "operator",
                action="drug-window-override",
                reason=request.drug.override_reason,
                by=request.operator,
            )
            self._notice("warn", f"drug window overridden: {request.drug.override_reason}")
        elif window is DrugWindow.CLOSING:
            self._notice(
                "warn",
                f"{minutes:.1f} min since the drug: the window closes at "
                f"{drug.window_end_min:g} min",
            )

    # -- one train ----------------------------------------------------------------------

    def _deliver(self, request: SessionRequest, train: Train) -> None:
        plan = request.plan
        gen = self._rig.generator
        scope = self._rig.scope
        self._check_stop_request()
        params = pulse_params(plan, train)
        held = gen.configure(params)
        if not same_params(held, params):
            raise _Stop(
                "fault",
                "parameter-mismatch",
                f"train {train.index}: the generator holds {held}, not the planned {params}",
            )
        self._service()
        setup = None
        if scope is not None:
            setup = scope_setup(self._rig, plan, train)
            self._servicing(lambda: scope.configure(setup))
        offer = gen.request_arm()
        if not same_params(offer.params, params):
            raise _Stop(
                "fault",
                "parameter-mismatch",
                f"train {train.index}: the arm challenge echoes {offer.params}, "
                f"not the planned {params}; nothing was armed",
            )
        arming = TrainArming(
            train=train.index,
            trains=len(plan.trains),
            pair=(train.a, train.b),
            voltage_v=train.voltage_v,
            pulses=train.pulses,
            width_us=train.width_us,
            rate_hz=train.rate_hz,
        )
        self._emit(arming)
        question = ArmQuestion(arming, offer)
        answer = self._confirmer.request(question)
        if not self._await(answer, max(0.0, offer.expires_in_s - 1.0), "the arm offer"):
            raise _Stop("aborted", "operator-declined", "the operator did not confirm arming")
        self._check_drug_window_still_open(request)

        train_id = secrets.randbits(32) or 1
        assert self._journal is not None
        # Write-ahead: the intent is on disk (fsynced) before anything can fire.
        self._journal.intent(
            {
                "train": train.index,
                "train_id": train_id,
                "pair": [train.a, train.b],
                "labels": [train.a_label, train.b_label],
                "polarity": train.polarity,
                "target_v": train.voltage_v,
                "pulses": train.pulses,
                "width_us": train.width_us,
                "rate_hz": train.rate_hz,
                "ecg_gated": params.ecg_gated,
                "param_hash": f"{offer.param_hash:08X}",
                "confirmed_by": request.operator,
            }
        )
        if scope is not None:
            self._servicing(scope.arm)
        gen.confirm_arm(offer)
        self._to(State.ARMED, f"train {train.index} charged")
        if not self._await(self._confirmer.request_fire(question), ARMED_WAIT_S, "the armed state"):
            raise _Stop("aborted", "operator-declined", "the operator stood down without firing")
        early = assess.EarlyStop()
        watch = assess.telemetry_watch(plan, train, early, gen.abort)
        seen: list[PulseTelemetry] = []

        def on_pulse(summary: PulseTelemetry) -> None:
            seen.append(summary)
            watch(summary)

        interrupted = False
        try:
            try:
                gen.fire(train_id)
            except LinkLost as exc:  # a refused FIRE fired nothing; a lost one may have
                self._train_unaccounted(train, train_id, seen, exc)
            self._to(State.FIRING, f"train {train.index} fired")
            self._emit(TrainStarted(train=train.index, train_id=train_id))
            try:
                report = gen.wait_train(train_id, train_timeout_s(train, params), on_pulse=on_pulse)
            except DriverError as exc:
                self._train_unaccounted(train, train_id, seen, exc)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM once FIRE may be out: stop the generator first, then take
            # its own account of the cut train so the journal counts what was delivered.
            interrupted = True
            gen.abort("operator")
            report = self._report_after_abort(train, train_id, seen, on_pulse)
        self._generator_faulted = report.result == "FAULT"
        self._delivered += report.n_delivered
        for e in report.ecg:
            self._emit(EcgSeen(kind=e.kind, reason=e.reason, rr_ms=e.rr_ms))
            self._event("ecg", train=train.index, **_ecg_fields(e))
        for f in report.faults:
            self._event(
                "alarm",
                train=train.index,
                source="generator",
                fault=f.code,
                latched=f.latched,
                pulse=None if f.pulse_idx is None else f.pulse_idx + 1,
            )

        captures: tuple[Capture, ...] = ()
        scope_problem: assess.ScopeProblem | None = assess.ScopeProblem(
            "absent", "the session was interrupted before the scope was read"
        )
        if not interrupted:  # no scope reads on the way out; the generator's summaries remain
            captures, scope_problem = self._collect(setup, report.n_delivered)
        judged = assess.judge_train(
            plan,
            train,
            report,
            captures,
            scope_problem,
            first_index=self._pulse_index + 1,
            early=early,
        )
        for pulse in judged.pulses:
            self._journal.pulse(pulse.document, pulse.waveforms)
            self._emit(pulse.event)
        self._pulse_index += train.pulses
        for finding in judged.train_findings:
            self._event("finding", train=train.index, **finding)
        self._emit(
            TrainFinished(
                train=train.index,
                delivered=report.n_delivered,
                requested=report.n_requested,
                verdict=judged.verdict,
            )
        )
        if interrupted:
            raise KeyboardInterrupt
        self._check_stop_request()
        if judged.stop is not None:
            raise _Stop(judged.stop.outcome, judged.stop.code, judged.stop.message)
        if train.index < len(plan.trains):
            self._to(State.READY, f"train {train.index} checked")
        # After the last train FIRING -> DONE is direct; `run` makes that transition.

    def _report_after_abort(
        self,
        train: Train,
        train_id: int,
        seen: list[PulseTelemetry],
        on_pulse: Callable[[PulseTelemetry], None],
    ) -> TrainReport:
        """The generator's TRAIN_DONE for a train just aborted; interrupted if it never comes."""
        try:
            return self._rig.generator.wait_train(train_id, ABORT_SETTLE_S, on_pulse=on_pulse)
        except DriverError as exc:
            self._count_reported(train, train_id, seen, exc)
            raise KeyboardInterrupt from exc

    def _count_reported(
        self, train: Train, train_id: int, seen: list[PulseTelemetry], exc: DriverError
    ) -> int:
        """Count the pulses the generator reported before it went quiet; journal the gap."""
        known = sum(1 for t in seen if "MISSING" not in t.flags)
        self._delivered += known
        self._event(
            "delivery-unknown",
            train=train.index,
            train_id=train_id,
            pulses=train.pulses,
            pulses_reported=known,
            error=str(exc),
        )
        return known

    def _train_unaccounted(
        self, train: Train, train_id: int, seen: list[PulseTelemetry], exc: DriverError
    ) -> NoReturn:
        """The generator went quiet after FIRE: count what it reported, say the rest is unknown.

        The pulses it streamed before the loss were delivered; how many more
        followed only the generator's train record can tell (GET_TRAIN, read at
        the next connection's preflight). The stop document counts the known ones.
        """
        known = self._count_reported(train, train_id, seen, exc)
        reason = "link-lost" if isinstance(exc, LinkLost) else "instrument"
        raise _Stop(
            "fault",
            reason,
            f"{exc}. Train {train.index} may have fired: the generator reported {known} of its "
            f"{train.pulses} pulses; how many were delivered is unknown until its train record "
            "is read at the next connection",
        ) from exc

    def _collect(
        self, setup: ScopeSetup | None, delivered: int
    ) -> tuple[tuple[Capture, ...], assess.ScopeProblem | None]:
        scope = self._rig.scope
        if scope is None or setup is None:
            return (), assess.ScopeProblem("absent", "no oscilloscope in this rig")
        if delivered == 0:
            return (), None

        def read() -> tuple[Capture, ...]:
            scope.wait_complete(SCOPE_SETTLE_S)
            return scope.fetch()

        try:
            return self._servicing(read), None
        except InstrumentTimeout as exc:
            return (), assess.ScopeProblem("timeout", str(exc))
        except DriverError as exc:
            return (), assess.ScopeProblem("error", str(exc))

    def _servicing(self, work: Callable[[], _T]) -> _T:
        """Run blocking scope I/O on a helper thread while this loop keeps the link alive.

        A slow or hung scope must not silence the generator link: the heartbeat
        stays with the control loop, which waits here and services meanwhile.
        """
        result: Future[_T] = Future()

        def call() -> None:
            try:
                result.set_result(work())
            except BaseException as exc:
                result.set_exception(exc)

        worker = threading.Thread(target=call, name="scope-io", daemon=True)
        worker.start()
        while not result.done():
            self._service()
            worker.join(SERVICE_PERIOD_S)
        return result.result()

    def _minutes_since(self, drug: DrugEntry) -> float:
        return (self._now_utc() - drug.given_at).total_seconds() / 60.0

    def _check_drug_window_still_open(self, request: SessionRequest) -> None:
        drug = request.plan.drug
        if drug is None or request.drug is None:
            return
        minutes = self._minutes_since(request.drug)
        if drug.judge(minutes) is DrugWindow.CLOSED and not request.drug.override_reason:
            raise _Stop(
                "aborted",
                "drug-window",
                f"{minutes:.1f} min since the drug: the window closed at "
                f"{drug.window_end_min:g} min before this train",
            )

    def _await(self, answer: Future[bool], within_s: float, what: str) -> bool:
        """Keep the link alive while the operator decides; give up before `what` expires."""
        deadline = self._clock() + within_s
        while not answer.done():
            self._check_stop_request(answer)
            if self._clock() > deadline:
                answer.cancel()
                raise _Stop(
                    "aborted",
                    "confirmation-timeout",
                    f"{what} expired before the operator answered; nothing was fired",
                )
            self._service()
            time.sleep(SERVICE_PERIOD_S)
        return bool(answer.result())

    # -- plumbing ----------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop now, from any thread (the UI's stop key, a signal handler).

        Sets the stop flag the control loop checks and sends ABORT at once:
        the link lets ABORT overtake a command in flight, so energy is removed
        even while the engine thread is waiting on a train.
        """
        self._stop_requested.set()
        with contextlib.suppress(Exception):
            self._rig.generator.abort("operator")

    def _check_stop_request(self, pending: Future[bool] | None = None) -> None:
        if self._stop_requested.is_set():
            if pending is not None:
                pending.cancel()
            raise _Stop("aborted", "operator-stop", "stopped by the operator")

    def _service(self) -> None:
        view = "FAULT" if self._generator_faulted else self._state.value
        self._rig.generator.service(view)

    def _safe_off(self) -> None:
        """Remove energy whatever happened. Never raises."""
        # The contract says abort never raises; be sure anyway.
        with contextlib.suppress(Exception):
            self._rig.generator.abort("exit")
        if self._journal is not None:
            with contextlib.suppress(JournalError):
                self._event("safe-off", action="abort sent to the generator")

    def _finish_journal(
        self, request: SessionRequest, outcome: str, reason: str | None, message: str
    ) -> Path | None:
        journal = self._journal
        if journal is None:
            return None
        try:
            journal.stop(
                {
                    "outcome": outcome,
                    "reason": reason,
                    "message": message,
                    "pulses_planned": request.plan.total_pulses,
                    "pulses_delivered": self._delivered,
                    "final_state": self._state.value,
                }
            )
        except JournalError as exc:
            self._notice("error", f"could not write the stop document: {exc}")
        finally:
            journal.close()
        return journal.directory

    def _to(self, new: State, reason: str, *, journal: bool = True) -> None:
        check_transition(self._state, new)
        previous, self._state = self._state, new
        if journal and self._journal is not None:
            try:
                self._event("state", state=new.value, previous=previous.value, reason=reason)
            except JournalError:
                if not new.final:
                    raise
        self._emit(StateChanged(state=new, previous=previous, reason=reason))

    def _event(self, kind: str, **fields: Any) -> None:
        if self._journal is not None:
            self._journal.event({"kind": kind, **fields})

    def _notice(self, level: str, message: str) -> None:
        if self._journal is not None and level != "info":
            with contextlib.suppress(JournalError):
                self._event("notice", level=level, message=message)
        self._emit(Notice(level=level, message=message))

    def _emit(self, event: EngineEvent) -> None:
        self._sink(event)

    def _start_document(self, request: SessionRequest) -> dict[str, Any]:
        plan = request.plan
        rig = self._rig
        snapshots: dict[str, Any] = {}
        for role, instrument in (("generator", rig.generator), ("scope", rig.scope)):
            snap = getattr(instrument, "snapshot", None)
            if callable(snap):
                try:
                    snapshots[role] = snap()
                except DriverError as exc:
                    snapshots[role] = {"error": str(exc)}
        return {
            "software": {"name": "pulsehost", "version": __version__},
            "simulated": rig.config.simulated,
            "operator": request.operator,
            "subject": request.subject,
            "notes": request.notes,
            "protocol": {
                "id": plan.protocol.id,
                "version": plan.protocol.version,
                "sha256": plan.protocol.source.sha256,
                "text": plan.protocol.source.text,
            },
            "plan": plan.to_dict(),
            "rig": rig.config.to_dict(),
            "instruments": {
                role: {
                    "maker": i.maker,
                    "model": i.model,
                    "serial": i.serial,
                    "firmware": i.firmware,
                    "resource": i.resource,
                }
                for role, i in zip(("generator", "scope"), rig.identities, strict=False)
            },
            "generator_limits": {
                "v_max_v": rig.generator.limits.v_max_v,
                "i_max_a": rig.generator.limits.i_max_a,
                "max_rate_hz": rig.generator.limits.max_rate_hz,
                "max_count": rig.generator.limits.max_count,
            },
            "settings": snapshots,
            "limits": {
                "v_max_v": rig.config.limits.v_max.value,
                "i_max_a": rig.config.limits.i_max.value,
                "version": rig.config.limits.version,
            },
            "drug": None
            if request.drug is None
            else {
                "given_at": request.drug.given_at.isoformat(),
                "entered_by": request.drug.entered_by,
                "override_reason": request.drug.override_reason,
                "protocol": plan.drug.to_dict() if plan.drug else None,
            },
            "ecg": plan.ecg.to_dict(),
            "fields": assess.FIELD_UNITS,
            **self._start_extra,
        }


def pulse_params(plan: Plan, train: Train) -> PulseParams:
    """The generator's view of a planned train."""
    return PulseParams(
        amplitude_v=train.voltage_v,
        width_us=train.width_us,
        count=train.pulses,
        period_us=train.period_us,
        i_limit_a=plan.checks.i_max_a,
        v_tolerance=plan.checks.voltage_tolerance_pct / 100.0,
        ecg_gated=plan.ecg.gated,
        ecg_delay_ms=plan.ecg.delay_ms,
        electrode_a=train.a,
        electrode_b=train.b,
        polarity=train.polarity,
    )


def same_params(held: PulseParams, planned: PulseParams) -> bool:
    """Whether the generator holds the planned train.

    Counts, flags and electrodes must match exactly; physical values within a
    part per million, because an instrument that reads a level back as a float
    (a function generator's VOLT:HIGH?) may return it in another rounding.
    """
    for f in dataclasses.fields(PulseParams):
        a, b = getattr(held, f.name), getattr(planned, f.name)
        if isinstance(a, float) or isinstance(b, float):
            if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
                return False
        elif a != b:
            return False
    return True


def scope_setup(rig: OpenRig, plan: Plan, train: Train) -> ScopeSetup:
    """Channel ranges sized to the expected pulse; one segment per pulse where possible."""
    config = rig.config.scope
    assert config is not None
    supported = int(getattr(rig.scope, "segments_supported", 1))
    # The current range holds the highest current the checks accept, so an overcurrent
    # shows as clipped rather than silently; the firmware judges the hard limit anyway.
    i_full = min(plan.checks.i_max_a, max(2.0 * train.predicted_current_a_max, 1.0)) * 1.1
    return ScopeSetup(
        voltage=ScopeChannel(
            number=config.voltage_channel,
            quantity="voltage",
            units_per_volt=config.hv_probe_v_per_v,
            full_scale=1.25 * train.voltage_v,
        ),
        current=ScopeChannel(
            number=config.current_channel,
            quantity="current",
            units_per_volt=1.0 / config.current_probe_v_per_a,
            full_scale=i_full,
        ),
        sample_rate_hz=config.sample_rate_hz,
        pre_trigger_s=PRE_TRIGGER_S,
        post_trigger_s=train.width_us * 1e-6 + POST_PULSE_S,
        trigger_level=0.5 * train.voltage_v,
        segments=min(train.pulses, supported),
    )


def train_timeout_s(train: Train, params: PulseParams) -> float:
    """How long a train may take before the host calls it lost."""
    duration = train.pulses * train.period_us * 1e-6
    if params.ecg_gated:
        # One beat per pulse (or one for a short train), beats up to 2 s apart, 3 s ECG wait.
        duration = train.pulses * 2.0 + 3.0
    return duration + CHARGE_AND_MARGIN_S


def _ecg_fields(e: Any) -> dict[str, Any]:
    return {
        "ecg_kind": e.kind,
        "reason": e.reason,
        "rr_ms": e.rr_ms,
        "t_r_us": e.t_r_us,
        "next_pulse": e.next_pulse,
    }
