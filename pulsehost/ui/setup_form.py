"""From what the operator typed on the setup screen to a plan and a session request.

Kept apart from the widgets so that every rule is plain code: a bad entry
raises `FormError` naming the form field; a protocol or needles file that
cannot be used gives a `PlanFailure` that says which field it came through,
where in the file it points and, for a refused geometry, every reason at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from protocols import (
    NeedleSet,
    Plan,
    PlanRefused,
    Problem,
    ProtocolError,
    TreatmentProtocol,
    load_needles,
    load_protocol,
    make_plan,
)
from pulsehost.engine.session import DrugEntry, SessionRequest
from pulsehost.engine.session import parse_drug_time as parse_session_drug_time

# Fields of the setup form, by the id of the widget that holds each.
FIELDS = (
    "protocol",
    "protocol_file",
    "rate",
    "needles",
    "operator",
    "subject",
    "drug_time",
    "drug_override",
)
EXCERPT_LINES = 2  # shown either side of the line a file error points at


@dataclass(frozen=True)
class SetupForm:
    """The setup screen's entries, as typed (strings are stripped when read)."""

    protocol: str  # a preset id
    protocol_file: str = ""  # a protocol file; when given it is used instead of the preset
    rate_hz: float | None = None  # one of the protocol's allowed rates; None: its default
    needles: str = ""  # a needles file or a bundled example name
    operator: str = ""
    subject: str = ""
    drug_time: str = ""  # HH:MM today or an ISO date-time
    drug_override: str = ""  # reason to arm after the drug window closed
    acknowledge_faults: bool = False
    notes: str = ""

    @property
    def protocol_ref(self) -> str:
        return self.protocol_file.strip() or self.protocol


class FormError(Exception):
    """An entry that cannot be used; `field` is the form field (one of `FIELDS`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PlanFailure:
    """No plan: the file error, the form field it came through and the lines it points at."""

    error: ProtocolError
    field: str  # "protocol", "protocol_file", "rate" or "needles"
    excerpt: tuple[tuple[int, str], ...] = ()  # (line number, text) around `error.line`

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every reason a well-formed plan was refused (empty for a file error)."""
        return self.error.problems if isinstance(self.error, PlanRefused) else ()


@dataclass(frozen=True)
class Prepared:
    """A plan and the request that delivers it."""

    plan: Plan
    request: SessionRequest


def parse_drug_time(text: str, now: dt.datetime) -> dt.datetime:
    """The drug time as entered, or a `FormError` at the drug-time field."""
    try:
        return parse_session_drug_time(text, now)
    except ValueError as exc:
        raise FormError("drug_time", str(exc)) from None


def load_form_protocol(form: SetupForm) -> TreatmentProtocol:
    """The protocol the form names, with its rate; raises ProtocolError."""
    return load_protocol(form.protocol_ref, rate_hz=form.rate_hz)


def prepare(form: SetupForm, now: dt.datetime) -> Prepared | PlanFailure:
    """Check the form and build the plan. Raises `FormError` for an entry the operator fixes
    on the form; a protocol or needles file that cannot be used comes back as `PlanFailure`."""
    operator = form.operator.strip()
    if not operator:
        raise FormError("operator", "give the operator's name: the journal records who delivers")
    if form.drug_override.strip() and not form.drug_time.strip():
        raise FormError("drug_time", "an override of the drug window needs the drug time")
    given_at = parse_drug_time(form.drug_time, now) if form.drug_time.strip() else None

    protocol_field = "protocol_file" if form.protocol_file.strip() else "protocol"
    try:
        protocol = load_form_protocol(form)
    except ProtocolError as exc:
        rate_refused = form.rate_hz is not None and exc.field == "delivery.allowed_rates_hz"
        return _failure(exc, "rate" if rate_refused else protocol_field)
    needles: NeedleSet | None = None
    if form.needles.strip():
        try:
            needles = load_needles(form.needles.strip())
        except ProtocolError as exc:
            return _failure(exc, "needles")
    try:
        plan = make_plan(protocol, needles)
    except ProtocolError as exc:
        from_needles = needles is not None and exc.path == needles.source.path
        wants_needles = protocol.electrode.kind == "needles" and needles is None
        return _failure(exc, "needles" if from_needles or wants_needles else protocol_field)

    if plan.drug is not None and given_at is None:
        raise FormError(
            "drug_time",
            f"this protocol gates pulses on the {plan.drug.agent} ({plan.drug.route.upper()}) "
            "time: give the time the drug was given (HH:MM)",
        )
    drug = None
    if given_at is not None:
        drug = DrugEntry(
            given_at=given_at,
            entered_by=operator,
            override_reason=form.drug_override.strip() or None,
        )
    request = SessionRequest(
        plan=plan,
        operator=operator,
        subject=form.subject.strip() or "unspecified",
        drug=drug,
        acknowledge_faults=form.acknowledge_faults,
        notes=form.notes,
    )
    return Prepared(plan=plan, request=request)


def _failure(error: ProtocolError, field: str) -> PlanFailure:
    return PlanFailure(error=error, field=field, excerpt=excerpt(error.path, error.line))


def excerpt(path: str | None, line: int | None) -> tuple[tuple[int, str], ...]:
    """The lines around `line` of the file at `path`; empty when there is no such line."""
    if path is None or line is None:
        return ()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ()
    first = max(1, line - EXCERPT_LINES)
    last = min(len(lines), line + EXCERPT_LINES)
    return tuple((n, lines[n - 1]) for n in range(first, last + 1))
