"""Deliver: one session, live. Arm and fire are two keys; the stop key works in every state.

The engine runs on a thread worker and reports through messages this screen
posts to itself (`pulsehost.ui.messages`); widgets are touched only here, on
the app's thread. The stop key hands `Delivery.stop` to another worker, since
sending ABORT is link I/O that must not hold up the screen.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from pulsehost.engine.events import EngineEvent
from pulsehost.engine.session import SessionOutcome
from pulsehost.engine.states import State
from pulsehost.rig import RigError
from pulsehost.ui.backend import Backend, Delivery
from pulsehost.ui.config import UiConfig
from pulsehost.ui.confirm import KeyConfirmer, answer
from pulsehost.ui.messages import (
    ArmRequested,
    DeliveryFailed,
    EcgReported,
    FindingRaised,
    FireRequested,
    NoticeRaised,
    PulseMeasured,
    SessionClosed,
    SessionOpened,
    SessionStateChanged,
    TrainAnnounced,
    TrainChecked,
    TrainFired,
    messages_for,
)
from pulsehost.ui.pulse_rows import PulseRow, Traces
from pulsehost.ui.setup_form import Prepared
from pulsehost.ui.widgets.deliver.confirm_panel import ConfirmPanel
from pulsehost.ui.widgets.deliver.drug_view import DrugView
from pulsehost.ui.widgets.deliver.ecg_view import EcgView
from pulsehost.ui.widgets.deliver.findings_log import FindingsLog
from pulsehost.ui.widgets.deliver.progress import SessionProgress
from pulsehost.ui.widgets.deliver.state_badge import StateBadge
from pulsehost.ui.widgets.pulses.table import PulseTable
from pulsehost.ui.widgets.pulses.waveforms import WaveformPlots

if TYPE_CHECKING:
    from pulsehost.ui.app import PulsehostApp

OUTCOME_STATE = {"completed": State.DONE, "fault": State.FAULT}


class DeliverScreen(Screen[None]):
    """Runs one session as soon as it is shown; energy needs the arm key and then the fire key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "arm", "Arm"),
        Binding("f", "fire", "FIRE"),
        Binding("n", "decline", "Decline"),
        Binding("escape", "stop", "STOP", priority=True),
        Binding("space", "stop", "STOP", show=False, priority=True),
        Binding("escape", "new_session", "New session", priority=True),
        Binding("r", "review", "Review session"),
    ]

    def __init__(self, backend: Backend, config: UiConfig, prepared: Prepared) -> None:
        super().__init__()
        self.backend = backend
        self.config = config
        self.prepared = prepared
        self.delivery: Delivery = backend.delivery(prepared.plan)
        self.running = True
        self.stopping = False
        self.outcome: SessionOutcome | None = None
        self.session_id = ""
        self.journal: Path | None = None
        self._arm: Future[bool] | None = None
        self._fire: Future[bool] | None = None

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        plan = self.prepared.plan
        request = self.prepared.request
        yield Header()
        with Horizontal(id="deliver-top"):
            yield StateBadge(id="state")
            with Vertical(id="deliver-info"):
                yield Static(id="session-line")
                yield SessionProgress(len(plan.trains), plan.total_pulses, id="progress")
        yield ConfirmPanel(id="confirm")
        if plan.drug is not None and request.drug is not None:
            yield DrugView(plan.drug, request.drug.given_at, self.config.now, id="drug")
        if plan.ecg.gated:
            yield EcgView(plan.ecg.delay_ms, id="ecg")
        with Horizontal(id="deliver-main"):
            yield PulseTable(id="pulses")
            yield WaveformPlots(id="plots")
        yield FindingsLog(id="log")
        yield Footer()

    def _session_line(self, session_id: str = "") -> Text:
        request = self.prepared.request
        line = Text()
        if self.backend.simulated:
            line.append(" SIMULATED ", style="bold black on yellow")
            line.append(" ")
        if session_id:
            line.append(f"session {session_id[:8]} · ", style="bold")
        line.append(
            f"{self.prepared.plan.protocol.id} · {request.operator} · subject {request.subject}"
        )
        return line

    def on_mount(self) -> None:
        self.sub_title = "Deliver"
        self.query_one("#session-line", Static).update(self._session_line())
        self.query_one(ConfirmPanel).say("Opening the rig and checking the plan against it…")
        self._app().delivery_began(self)
        self.run_worker(
            self._run, thread=True, exit_on_error=False, name="delivery", group="delivery"
        )

    def _app(self) -> PulsehostApp:
        from pulsehost.ui.app import PulsehostApp

        app = self.app
        assert isinstance(app, PulsehostApp)
        return app

    def progress_line(self) -> str:
        """`train 2/6 · pulses 8/48`: where the session stands."""
        return self.query_one(SessionProgress).line()

    # -- the engine's thread -------------------------------------------------------------

    def _run(self) -> SessionOutcome | None:
        def sink(event: EngineEvent) -> None:
            for message in messages_for(event):
                self.post_message(message)

        try:
            return self.delivery.run(
                self.prepared.request, self.config.store, sink, KeyConfirmer(self.post_message)
            )
        except RigError as exc:
            self.post_message(DeliveryFailed(f"the rig could not be opened: {exc}"))
            return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "delivery":
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, SessionOutcome):
            self.outcome = event.worker.result
        elif event.state is WorkerState.ERROR:
            # Not an expected failure: the engine's own `finally` has already removed energy.
            self._finish(State.FAULT, f"internal error, session ended: {event.worker.error!r}")

    # -- what the engine reports ---------------------------------------------------------

    def on_session_opened(self, message: SessionOpened) -> None:
        e = message.event
        self.session_id = e.session_id
        self.journal = Path(e.journal)
        self.query_one("#session-line", Static).update(self._session_line(e.session_id))
        log = self.query_one(FindingsLog)
        for line in e.instruments:
            log.add("info", line)
        log.add("info", f"journal {e.journal}")

    def on_session_state_changed(self, message: SessionStateChanged) -> None:
        state = message.event.state
        self.query_one(StateBadge).show(state)
        if state is not State.READY and self._arm is not None:
            self._arm = None
        if state is not State.ARMED:
            self._fire = None
        if state is State.PREFLIGHT:
            self.query_one(ConfirmPanel).say("Preflight: generator status, limits, drug window…")
        elif state is State.FIRING:
            self.query_one(ConfirmPanel).say("FIRING: the generator is delivering the train.")
        elif state is State.READY and self._arm is None and not self.stopping:
            self.query_one(ConfirmPanel).say("READY: the next train is being configured.")
        self.refresh_bindings()

    def on_notice_raised(self, message: NoticeRaised) -> None:
        self.query_one(FindingsLog).add(message.event.level, message.event.message)

    def on_train_announced(self, message: TrainAnnounced) -> None:
        e = message.event
        self.query_one(SessionProgress).on_train(e.train)
        self.query_one(FindingsLog).add(
            "info",
            f"train {e.train}/{e.trains}: electrodes {e.pair[0]}-{e.pair[1]}, {e.voltage_v:g} V, "
            f"{e.pulses} x {e.width_us:g} µs at {e.rate_hz:g} Hz",
        )

    def on_arm_requested(self, message: ArmRequested) -> None:
        if self.stopping:
            return  # the engine sees the stop flag and withdraws the question itself
        self._arm = message.answer
        self.query_one(ConfirmPanel).ask_arm(message.question)
        self.refresh_bindings()

    def on_fire_requested(self, message: FireRequested) -> None:
        if self.stopping:
            return
        self._fire = message.answer
        self.query_one(ConfirmPanel).ask_fire(message.question)
        self.refresh_bindings()

    def on_train_fired(self, message: TrainFired) -> None:
        self.query_one(FindingsLog).add("info", f"train {message.event.train} fired")

    def on_pulse_measured(self, message: PulseMeasured) -> None:
        result = message.event
        self.query_one(PulseTable).add_pulse(PulseRow.from_result(result))
        self.query_one(SessionProgress).on_pulse(result.index)
        traces = Traces.from_result(result)
        if traces is not None:
            self.query_one(WaveformPlots).show(
                traces, f"pulse {result.index} ({result.train}/{result.pulse})"
            )

    def on_finding_raised(self, message: FindingRaised) -> None:
        f = message.finding
        where = f"pulse {f.pulse}" if f.pulse is not None else f"train {message.train}"
        self.query_one(FindingsLog).add(f.level, f"{where} {f.code}: {f.message}")

    def on_ecg_reported(self, message: EcgReported) -> None:
        for view in self.query(EcgView):
            view.show(message.event)

    def on_train_checked(self, message: TrainChecked) -> None:
        e = message.event
        self.query_one(FindingsLog).add(
            "info" if e.verdict == "ok" else e.verdict,
            f"train {e.train}: {e.delivered}/{e.requested} pulses, {e.verdict}",
        )

    def on_session_closed(self, message: SessionClosed) -> None:
        e = message.event
        state = OUTCOME_STATE.get(e.outcome, State.ABORTED)
        reason = f" ({e.stop_reason})" if e.stop_reason else ""
        summary = (
            f"{e.outcome.upper()}{reason}: {e.message.rstrip('.')}. "
            f"{e.pulses_delivered}/{e.pulses_planned} pulses delivered"
        )
        if e.journal:
            self.journal = Path(e.journal)
        self._finish(state, summary)

    def on_delivery_failed(self, message: DeliveryFailed) -> None:
        self._finish(State.FAULT, message.message)

    def _finish(self, state: State, summary: str) -> None:
        if not self.running:
            return
        self.running = False
        self._arm = self._fire = None
        self.query_one(StateBadge).show(state)
        level = "info" if state is State.DONE else "stop"
        self.query_one(FindingsLog).add(level, summary)
        keys = "R review this session · Esc new session" if self.journal else "Esc new session"
        self.query_one(ConfirmPanel).say(f"{summary}\n{keys}")
        self.refresh_bindings()
        self._app().delivery_ended(self)

    # -- the operator's keys -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "arm":
            return self._arm is not None and not self._arm.done()
        if action == "fire":
            return self._fire is not None and not self._fire.done()
        if action == "decline":
            return any(q is not None and not q.done() for q in (self._arm, self._fire))
        if action == "stop":
            return self.running
        if action in ("new_session", "review"):
            return not self.running and (action != "review" or self.journal is not None)
        return True

    def action_arm(self) -> None:
        if answer(self._arm, True):
            self.query_one(ConfirmPanel).say("Arming: the generator is charging…")
        self._arm = None
        self.refresh_bindings()

    def action_fire(self) -> None:
        if answer(self._fire, True):
            self.query_one(ConfirmPanel).say("Fire sent.")
        self._fire = None
        self.refresh_bindings()

    def action_decline(self) -> None:
        for pending in (self._arm, self._fire):
            answer(pending, False)
        self._arm = self._fire = None
        self.query_one(ConfirmPanel).say("Declined: the session ends without firing this train.")
        self.refresh_bindings()

    def action_stop(self) -> None:
        """STOP: works in every state while the session runs; never resumes by itself."""
        if not self.running or self.stopping:
            return
        self.stopping = True
        self.query_one(ConfirmPanel).say("STOP: aborting the generator and closing the session…")
        self.query_one(FindingsLog).add("warn", "STOP pressed by the operator")
        self.run_worker(self.delivery.stop, thread=True, name="stop", group="stop")
        self.refresh_bindings()

    def action_new_session(self) -> None:
        if not self.running:
            self._app().back_to_setup()

    def action_review(self) -> None:
        if not self.running and self.journal is not None:
            self._app().review_session(self.journal)
