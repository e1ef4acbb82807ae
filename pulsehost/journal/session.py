"""A recorded session as a reviewer sees it: documents, outcome, integrity, waveforms."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulsehost.journal.errors import JournalReadError
from pulsehost.journal.integrity import Integrity, scan_journal
from pulsehost.journal.layout import JOURNAL_FILE, SESSION_DIR, WAVEFORMS_FILE
from pulsehost.journal.seal import seal_key_from_env
from pulsehost.journal.waveform import BlockRef, WaveformBlock, WaveformFile


@dataclass(frozen=True)
class Session:
    """Everything one session's journal holds, with the verdict of checking it.

    Documents are plain JSON dictionaries exactly as written (events carry
    their kind in `event`). A journal with a broken line still yields the
    documents that parse; `integrity` says from which line on they are not
    to be trusted. Treat the dictionaries as read-only.
    """

    directory: Path
    start: dict[str, Any]  # empty when the first line is unreadable
    events: tuple[dict[str, Any], ...]
    intents: tuple[dict[str, Any], ...]
    pulses: tuple[dict[str, Any], ...]
    stop: dict[str, Any] | None
    documents: tuple[dict[str, Any], ...]  # all of the above, in journal order
    integrity: Integrity

    @classmethod
    def read(cls, directory: Path, *, seal_key: bytes | None = None) -> Session:
        """Read and check the session in `directory`; `seal_key` defaults to
        `PULSEHOST_SEAL_KEY` and is used only to check a seal."""
        directory = Path(directory)
        key = seal_key if seal_key is not None else seal_key_from_env()
        try:
            data = (directory / JOURNAL_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise JournalReadError(
                f"{directory} holds no {JOURNAL_FILE}; it is not a session"
            ) from exc
        except OSError as exc:
            raise JournalReadError(
                f"cannot read {directory / JOURNAL_FILE}: {exc.strerror}"
            ) from exc
        with WaveformFile(directory / WAVEFORMS_FILE) as waveforms:
            scanned, integrity = scan_journal(data, waveforms, key)
        documents = tuple(item.document for item in scanned)
        first = scanned[0].document if scanned and scanned[0].line == 1 else {}
        stops = [d for d in documents if d.get("kind") == "stop"]
        return cls(
            directory=directory,
            start=first if first.get("kind") == "start" else {},
            events=tuple(d for d in documents if d.get("kind") == "event"),
            intents=tuple(d for d in documents if d.get("kind") == "intent"),
            pulses=tuple(d for d in documents if d.get("kind") == "pulse"),
            stop=stops[-1] if stops else None,
            documents=documents,
            integrity=integrity,
        )

    @property
    def session_id(self) -> str:
        """The full id from the start document (the directory's short id if unreadable)."""
        value = self.start.get("session_id")
        if isinstance(value, str):
            return value
        match = SESSION_DIR.match(self.directory.name)
        return match["short"] if match else self.directory.name

    @property
    def short_id(self) -> str:
        return self.session_id[:8]

    @property
    def outcome(self) -> str:
        """completed, aborted, fault, or interrupted (no stop document)."""
        outcome = self.stop.get("outcome") if self.stop else None
        return outcome if isinstance(outcome, str) else "interrupted"

    @property
    def simulated(self) -> bool:
        """True unless the start document says the bench was real (unknown reads as real)."""
        return self.start.get("simulated") is True

    @property
    def pulses_planned(self) -> int | None:
        return planned_pulses(self.start, self.stop)

    @property
    def pulses_delivered(self) -> int:
        delivered = self.stop.get("pulses_delivered") if self.stop else None
        return delivered if type(delivered) is int else len(self.pulses)

    def overview(self) -> dict[str, Any]:
        """Label -> value of what identifies the session, for headers of every view."""
        protocol = self.start.get("protocol")
        if not isinstance(protocol, Mapping):
            protocol = {}
        return {
            "session id": self.session_id,
            "directory": str(self.directory),
            "simulated": self.simulated,
            "operator": self.start.get("operator"),
            "subject (pseudonymous)": self.start.get("subject"),
            "protocol": f"{protocol.get('id', '?')} {protocol.get('version', '')}".strip(),
            "protocol sha256": protocol.get("sha256"),
            "software": self.start.get("software"),
            "started (UTC)": self.start.get("utc"),
            "stopped (UTC)": (self.stop or {}).get("utc"),
        }

    def pulse(self, index: int) -> dict[str, Any]:
        """The pulse document with this 1-based session index."""
        for document in self.pulses:
            if document.get("index") == index:
                return document
        raise JournalReadError(f"session {self.short_id} has no pulse {index}")

    def waveforms(self, pulse: Mapping[str, Any] | int) -> dict[str, WaveformBlock]:
        """The waveform blocks of a pulse (document or index), read from waveforms.bin.

        Each block's bytes are checked against its sha256 as they are read.
        """
        document = self.pulse(pulse) if isinstance(pulse, int) else pulse
        refs = document.get("waveforms") or {}
        blocks: dict[str, WaveformBlock] = {}
        with WaveformFile(self.directory / WAVEFORMS_FILE) as source:
            for channel in sorted(refs):
                where = f"session {self.short_id} pulse {document.get('index')} {channel!r}"
                try:
                    ref = BlockRef.from_json(refs[channel])
                except ValueError as exc:
                    raise JournalReadError(f"{where}: malformed waveform reference: {exc}") from exc
                data = source.read(ref.byte_offset, ref.byte_length)
                if len(data) != ref.byte_length or hashlib.sha256(data).hexdigest() != ref.sha256:
                    raise JournalReadError(
                        f"{where}: bytes {ref.byte_offset}..{ref.byte_offset + ref.byte_length} "
                        f"of {WAVEFORMS_FILE} are missing or altered"
                    )
                blocks[channel] = ref.block(data)
        return blocks


def planned_pulses(start: Mapping[str, Any], stop: Mapping[str, Any] | None) -> int | None:
    """Pulses planned: the stop document's count, else the plan's (`pulses_planned`,
    `totals.pulses`, or the sum over its trains of `pulses` or `count`); None when
    nothing says."""
    if stop is not None and type(stop.get("pulses_planned")) is int:
        return int(stop["pulses_planned"])
    plan = start.get("plan")
    if not isinstance(plan, Mapping):
        return None
    totals = plan.get("totals")
    for value in (
        plan.get("pulses_planned"),
        totals.get("pulses") if isinstance(totals, Mapping) else None,
    ):
        if type(value) is int:
            return int(value)
    trains = plan.get("trains")
    if not isinstance(trains, list) or not trains:
        return None
    counts = [t.get("pulses", t.get("count")) if isinstance(t, Mapping) else None for t in trains]
    return sum(counts) if all(type(c) is int for c in counts) else None  # type: ignore[arg-type]
