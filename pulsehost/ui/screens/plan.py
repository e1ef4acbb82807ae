"""Plan: the trains the session will deliver, or why there is no plan."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from protocols import Plan
from protocols.fields import fmt
from pulsehost.ui.backend import Backend
from pulsehost.ui.config import UiConfig
from pulsehost.ui.setup_form import PlanFailure, Prepared
from pulsehost.ui.widgets.plan.file_error import FileErrorView
from pulsehost.ui.widgets.plan.train_table import TrainTable


class PlanScreen(Screen[None]):
    """Shows the plan; F4 starts the session (nothing is charged before the arm key)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f4", "deliver", "Deliver ▸"),
        Binding("escape", "back", "◂ Setup"),
    ]

    def __init__(self, backend: Backend, config: UiConfig, result: Prepared | PlanFailure) -> None:
        super().__init__()
        self.backend = backend
        self.config = config
        self.result = result

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="plan"):
            yield Static(id="plan-header")
            if isinstance(self.result, Prepared):
                yield TrainTable(id="trains")
                yield Static(id="plan-notes")
            else:
                yield FileErrorView(id="plan-error")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Plan"
        header = self.query_one("#plan-header", Static)
        if isinstance(self.result, PlanFailure):
            header.update("No plan: fix the entry below on the setup screen (Esc).")
            self.query_one(FileErrorView).show(self.result)
            return
        plan = self.result.plan
        header.update(_plan_header(plan))
        self.query_one(TrainTable).show(plan)
        self.query_one("#plan-notes", Static).update(_plan_notes(plan))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "deliver":
            return isinstance(self.result, Prepared)
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_deliver(self) -> None:
        if not isinstance(self.result, Prepared):
            return
        from pulsehost.ui.screens.deliver import DeliverScreen

        self.app.push_screen(DeliverScreen(self.backend, self.config, self.result))


def _plan_header(plan: Plan) -> str:
    p = plan.protocol
    d = p.delivery
    lines = [
        f"{p.id} {p.version}: {p.title}",
        f"{d.pulses_per_train} × {fmt(d.width_us)} µs at {fmt(d.rate_hz)} Hz, "
        f"{fmt(d.field_v_per_cm)} V/cm; electrode {p.electrode.kind}; tissue {p.tissue.name}",
    ]
    if plan.needles is not None:
        lines.append(f"needles {plan.needles.source.path}")
    if p.ecg.gated:
        lines.append(f"ECG-gated: R + {p.ecg.delay_ms} ms")
    if p.drug is not None:
        lines.append(
            f"drug window: {p.drug.agent} {p.drug.route.upper()}, pulses "
            f"{fmt(p.drug.window_start_min)}-{fmt(p.drug.window_end_min)} min after"
        )
    return "\n".join(lines)


def _plan_notes(plan: Plan) -> str:
    p = plan.protocol
    lines = [
        f"{len(plan.trains)} train(s), {plan.total_pulses} pulses; current limit "
        f"{fmt(p.checks.i_max_a)} A, voltage limit {fmt(p.limits.v_max_v)} V",
    ]
    lines += [f"warning: {w.message}" for w in plan.warnings]
    lines.append("F4 opens the session; the generator charges only when you press A (arm).")
    return "\n".join(lines)
