"""One line per session for listings, read without checking the chain."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulsehost.journal.layout import JOURNAL_FILE, SESSION_DIR
from pulsehost.journal.session import planned_pulses

_TAIL_BYTES = 65536


@dataclass(frozen=True)
class SessionSummary:
    """What a listing shows of a session. Unchecked: `verify` is the judge of integrity."""

    session_id: str
    directory: str  # name within the store
    started_utc: str | None
    outcome: str
    reason: str | None
    protocol_id: str | None
    protocol_version: str | None
    pulses_delivered: int
    pulses_planned: int | None
    operator: str | None
    subject: str | None
    simulated: bool
    problem: str | None = None  # why the start document could not be read

    @property
    def short_id(self) -> str:
        return self.session_id[:8]

    @property
    def protocol(self) -> str:
        """`id version` for display, or "?" when unknown."""
        if self.protocol_id is None:
            return "?"
        return (
            f"{self.protocol_id} {self.protocol_version}"
            if self.protocol_version
            else self.protocol_id
        )

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SessionSummary:
        return cls(**{name: obj[name] for name in cls.__dataclass_fields__})


def summarize(directory: Path) -> SessionSummary:
    """Summarise a session from its first line and its last line.

    Only a session without a stop document is read in full (to count its
    pulses), so listing a large store stays quick.
    """
    path = directory / JOURNAL_FILE
    with open(path, "rb") as handle:
        first_line = handle.readline()
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(size - _TAIL_BYTES, len(first_line)))
        tail = handle.read()
        stop = _last_stop(tail)
        delivered = stop.get("pulses_delivered") if stop is not None else None
        if type(delivered) is not int:  # no stop document, or one without a count
            whole = size - len(first_line) <= _TAIL_BYTES  # then the tail is all the rest
            handle.seek(len(first_line))
            found, delivered = _scan(tail.splitlines(keepends=True) if whole else handle)
            stop = stop or found
            if stop is not None and type(stop.get("pulses_delivered")) is int:
                delivered = stop["pulses_delivered"]
    start = _document(first_line)
    problem = None if start.get("kind") == "start" else "the start document cannot be read"
    outcome = _text(stop.get("outcome")) if stop is not None else None
    protocol = start.get("protocol")
    if not isinstance(protocol, dict):
        protocol = {}
    match = SESSION_DIR.match(directory.name)
    session_id = start.get("session_id")
    if not isinstance(session_id, str):
        session_id = match["short"] if match else directory.name
    return SessionSummary(
        session_id=session_id,
        directory=directory.name,
        started_utc=_text(start.get("utc")),
        outcome=outcome or "interrupted",
        reason=_text(stop.get("reason")) if stop is not None else None,
        protocol_id=_text(protocol.get("id")),
        protocol_version=_text(protocol.get("version")),
        pulses_delivered=delivered,
        pulses_planned=planned_pulses(start, stop),
        operator=_text(start.get("operator")),
        subject=_text(start.get("subject")),
        simulated=start.get("simulated") is True,
        problem=problem,
    )


def _document(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _last_stop(tail: bytes) -> dict[str, Any] | None:
    lines = tail.split(b"\n")
    complete = lines[-2] if len(lines) >= 2 and not lines[-1] else None
    if complete is None:
        return None
    document = _document(complete)
    return document if document.get("kind") == "stop" else None


def _scan(lines: Iterable[bytes]) -> tuple[dict[str, Any] | None, int]:
    """The stop document (if any) and the number of pulse documents among `lines`."""
    stop = None
    pulses = 0
    for line in lines:
        if not line.endswith(b"\n"):
            break  # torn
        # Parse only lines that can be pulse or stop documents (keys are sorted, compact).
        if b'"kind":"pulse"' not in line and b'"kind":"stop"' not in line:
            continue
        kind = _document(line).get("kind")
        if kind == "pulse":
            pulses += 1
        elif kind == "stop":
            stop = _document(line)
    return stop, pulses


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
