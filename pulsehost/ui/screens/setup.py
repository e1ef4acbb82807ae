"""Setup: the rig, the protocol, the electrode geometry, who delivers to whom, the drug time."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Header, Input, Select, Static

from protocols import ProtocolError, list_needle_examples, list_presets
from protocols.fields import fmt
from pulsehost.ui.backend import Backend, RigStatus
from pulsehost.ui.config import UiConfig
from pulsehost.ui.setup_form import (
    FIELDS,
    FormError,
    PlanFailure,
    SetupForm,
    load_form_protocol,
    prepare,
)
from pulsehost.ui.widgets.setup.form import FormRow
from pulsehost.ui.widgets.setup.rig_status import RigStatusView

if TYPE_CHECKING:
    from protocols import TreatmentProtocol


class RigStatusRead(Message, bubble=False):
    """The backend answered the rig check (posted from the checking thread)."""

    def __init__(self, status: RigStatus) -> None:
        super().__init__()
        self.status = status


class SetupScreen(Screen[None]):
    """The first screen: fill in the session, then F3 shows the plan."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f3", "plan", "Plan ▸"),
        Binding("ctrl+r", "check_rig", "Check rig"),
    ]

    def __init__(self, backend: Backend, config: UiConfig) -> None:
        super().__init__()
        self.backend = backend
        self.config = config
        self.rig_status: RigStatus | None = None

    def compose(self) -> ComposeResult:
        presets = list_presets()
        examples = ", ".join(list_needle_examples())
        yield Header()
        with VerticalScroll(id="setup"):
            yield RigStatusView(id="rig")
            yield FormRow(
                "Protocol",
                Select(
                    [(p, p) for p in presets],
                    value=self.config.protocol if self.config.protocol in presets else presets[0],
                    allow_blank=False,
                    compact=True,
                    id="protocol",
                ),
            )
            yield FormRow(
                "or file",
                Input(
                    placeholder="a protocol .toml file (used instead)",
                    compact=True,
                    id="protocol_file",
                ),
            )
            yield FormRow("Rate", Select([], prompt="the protocol's own", compact=True, id="rate"))
            yield FormRow(
                "Needles",
                Input(
                    placeholder=f"needles file or example: {examples}", compact=True, id="needles"
                ),
            )
            yield FormRow(
                "Operator",
                Input(
                    value=self.config.operator,
                    placeholder="who delivers",
                    compact=True,
                    id="operator",
                ),
            )
            yield FormRow(
                "Subject",
                Input(
                    value=self.config.subject,
                    placeholder="pseudonymous id, never a name",
                    compact=True,
                    id="subject",
                ),
            )
            yield FormRow(
                "Drug given",
                Input(
                    placeholder="HH:MM, for protocols with a drug window",
                    compact=True,
                    id="drug_time",
                ),
            )
            yield FormRow(
                "Override",
                Input(
                    placeholder="reason to arm after the drug window closed",
                    compact=True,
                    id="drug_override",
                ),
            )
            yield FormRow(
                "Fault",
                Checkbox(
                    "clear a latched generator fault at preflight", compact=True, id="acknowledge"
                ),
            )
            yield Static(id="protocol-info")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Setup"
        self._describe_protocol()
        self.action_check_rig()

    # -- rig ---------------------------------------------------------------------------

    def action_check_rig(self) -> None:
        self.query_one(RigStatusView).checking()
        self.run_worker(self._read_rig, thread=True, group="rig", exclusive=True)

    def _read_rig(self) -> None:
        # Opens instruments: blocking, so on a worker thread; the answer comes back as a message.
        self.post_message(RigStatusRead(self.backend.rig_status()))

    def on_rig_status_read(self, message: RigStatusRead) -> None:
        self.rig_status = message.status
        self.query_one(RigStatusView).show(message.status)

    # -- form --------------------------------------------------------------------------

    def form(self) -> SetupForm:
        """The form as it stands."""
        rate = self.query_one("#rate", Select).value
        protocol = self.query_one("#protocol", Select).value
        return SetupForm(
            protocol=str(protocol) if isinstance(protocol, str) else "",
            protocol_file=self._text("protocol_file"),
            rate_hz=float(rate) if isinstance(rate, float | int) else None,
            needles=self._text("needles"),
            operator=self._text("operator"),
            subject=self._text("subject"),
            drug_time=self._text("drug_time"),
            drug_override=self._text("drug_override"),
            acknowledge_faults=self.query_one("#acknowledge", Checkbox).value,
        )

    def _text(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    @on(Select.Changed, "#protocol")
    def _protocol_changed(self) -> None:
        self._describe_protocol()

    @on(Input.Blurred, "#protocol_file")
    def _file_changed(self) -> None:
        self._describe_protocol()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_plan()

    def _describe_protocol(self) -> None:
        """Offer the rates this protocol allows and say what it needs."""
        form = self.form()
        info = self.query_one("#protocol-info", Static)
        rate = self.query_one("#rate", Select)
        try:
            protocol = load_form_protocol(SetupForm(protocol=form.protocol_ref))
        except ProtocolError as exc:
            rate.set_options([])
            info.update(f"{form.protocol_ref}: {exc.reason}")
            return
        chosen = rate.value
        rate.set_options([(f"{fmt(r)} Hz", r) for r in protocol.delivery.allowed_rates_hz])
        keep = chosen in protocol.delivery.allowed_rates_hz
        rate.value = chosen if keep else protocol.delivery.rate_hz
        info.update(_protocol_text(protocol))

    def _row(self, field: str) -> FormRow:
        widget = self.query_one(f"#{field}")
        row = widget.parent.parent if widget.parent is not None else None
        assert isinstance(row, FormRow)
        return row

    def show_errors(self, errors: dict[str, str]) -> None:
        """Mark each field with its error and clear the others."""
        for field in FIELDS:
            self._row(field).show_error(errors.get(field, ""))

    def action_plan(self) -> None:
        """Build the plan and show it (errors stay next to the field that caused them)."""
        try:
            result = prepare(self.form(), self.config.now())
        except FormError as exc:
            self.show_errors({exc.field: exc.message})
            self.query_one(f"#{exc.field}").focus()
            return
        if isinstance(result, PlanFailure):
            self.show_errors({result.field: str(result.error)})
        else:
            self.show_errors({})
        from pulsehost.ui.screens.plan import PlanScreen

        self.app.push_screen(PlanScreen(self.backend, self.config, result))


def _protocol_text(protocol: TreatmentProtocol) -> str:
    d = protocol.delivery
    lines = [
        f"{protocol.id} {protocol.version}: {protocol.title}",
        f"{d.pulses_per_train} × {fmt(d.width_us)} µs, {fmt(d.field_v_per_cm)} V/cm; "
        f"electrode {protocol.electrode.kind}; tissue {protocol.tissue.name}",
    ]
    if protocol.electrode.kind == "needles":
        lines.append("variable geometry: give a needles file (or example-4-needles)")
    if protocol.ecg.gated:
        lines.append(f"ECG-gated: R + {protocol.ecg.delay_ms} ms")
    if protocol.drug is not None:
        drug = protocol.drug
        lines.append(
            f"drug window: {drug.agent} {drug.route.upper()}, pulses "
            f"{fmt(drug.window_start_min)}-{fmt(drug.window_end_min)} min after: give the drug time"
        )
    return "\n".join(lines)
