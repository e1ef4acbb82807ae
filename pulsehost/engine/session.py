"""What a session is asked to do and what came of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from protocols import Plan
from pulsehost.cli import exit_codes

OUTCOMES = ("completed", "aborted", "fault", "interrupted")


def parse_drug_time(text: str, now: dt.datetime) -> dt.datetime:
    """HH:MM today or an ISO-8601 date-time, timezone-aware and not in the future.

    `now` is timezone-aware local time; a time without a zone is read in it.
    Raises ValueError with a message that says what is accepted.
    """
    text = text.strip()
    try:
        if len(text) <= 5 and ":" in text:
            clock = dt.time.fromisoformat(text.zfill(5))
            when = now.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
        else:
            when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: give HH:MM (today) or a date-time such as 2026-11-30T09:15"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo) if now.tzinfo else when.astimezone()
    if when > now + dt.timedelta(minutes=1):
        raise ValueError(f"{text} is in the future")
    return when


@dataclass(frozen=True)
class DrugEntry:
    """When the drug was given and who said so (ect-reference §4 gate)."""

    given_at: dt.datetime  # timezone-aware
    entered_by: str
    override_reason: str | None = None  # needed to arm after the window closed


@dataclass(frozen=True)
class SessionRequest:
    plan: Plan
    operator: str
    subject: str  # pseudonymous subject id; never a name
    drug: DrugEntry | None = None
    acknowledge_faults: bool = False  # operator clears a latched generator fault at preflight
    notes: str = ""


@dataclass(frozen=True)
class SessionOutcome:
    session_id: str
    outcome: str  # completed | aborted | fault | interrupted
    stop_reason: str | None  # finding code or another stable code, None when completed
    message: str
    pulses_planned: int
    pulses_delivered: int
    journal: Path | None

    @property
    def exit_code(self) -> int:
        if self.outcome == "completed":
            return exit_codes.OK
        if self.outcome == "interrupted":
            return exit_codes.INTERRUPTED
        if self.outcome == "fault":
            return exit_codes.INSTRUMENT_FAULT
        # Stopped by a check, refused at preflight, or declined at the arm prompt.
        return exit_codes.CHECK_FAILED

    def to_dict(self) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "outcome": self.outcome,
            "pulses_planned": self.pulses_planned,
            "pulses_delivered": self.pulses_delivered,
            "stop_reason": self.stop_reason,
            "message": self.message,
            "journal": str(self.journal) if self.journal else None,
        }
