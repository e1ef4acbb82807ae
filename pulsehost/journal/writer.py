"""Appending a session's documents: fsynced, hash-chained, never rewritten."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

from pulsehost.journal.canonical import canonical_json, document_hash, to_json_value
from pulsehost.journal.clock import JournalClock, SystemClock, format_utc
from pulsehost.journal.errors import JournalError
from pulsehost.journal.layout import (
    FORMAT,
    JOURNAL_FILE,
    STAGING_PREFIX,
    VERSION,
    WAVEFORMS_FILE,
    ZERO_HASH,
    session_dir_name,
)
from pulsehost.journal.seal import make_seal, seal_key_from_env
from pulsehost.journal.waveform import CHANNEL_NAME, BlockRef, WaveformBlock

ENVELOPE = frozenset({"kind", "seq", "utc", "mono_ns", "prev", "hash"})
OUTCOMES = ("completed", "aborted", "fault", "interrupted")
VERDICTS = ("ok", "warn", "stop", "unmeasured")
NO_WAVEFORMS: Mapping[str, WaveformBlock] = MappingProxyType({})
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class JournalWriter:
    """Writes one session: a start document, then events, intents and pulses, then stop.

    Each document is one line of canonical JSON carrying `seq`, `utc`,
    `mono_ns`, `prev` and `hash`; the line and any waveform bytes it references
    are fsynced before the call returns. Any failure raises `JournalError`; after
    a failed write the writer refuses further documents, since the file may end
    in a torn line that nothing may follow.
    """

    def __init__(
        self,
        directory: Path,
        session_id: str,
        journal_fd: int,
        waveforms_fd: int,
        clock: JournalClock,
        seal_key: bytes | None,
    ) -> None:
        """Use `JournalWriter.create`; this only takes over already open files."""
        self.directory = directory
        self.session_id = session_id
        self._journal_fd: int | None = journal_fd
        self._waveforms_fd = waveforms_fd
        self._clock = clock
        self._seal_key = seal_key
        self._seq = 0
        self._prev = ZERO_HASH
        self._waveform_bytes = 0
        self._failure: str | None = None
        self._stopped = False
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls,
        store: Path,
        start: Mapping[str, Any],
        *,
        clock: JournalClock | None = None,
        seal_key: bytes | None = None,
    ) -> JournalWriter:
        """Make `<store>/<UTC start>_<short id>/` holding the fsynced start document.

        The session is built under a hidden staging name and renamed into place,
        so every session directory a reader sees has a complete start document.
        `seal_key` defaults to `PULSEHOST_SEAL_KEY`; with a key the stop
        document is sealed.
        """
        clock = clock or SystemClock()
        key = seal_key if seal_key is not None else seal_key_from_env()
        store = Path(store)
        body = _body(start, "start", reserved=ENVELOPE | {"session_id", "journal"})
        if type(body.get("simulated")) is not bool:
            raise JournalError("the start document needs 'simulated': true or false")
        try:
            store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"cannot create the session store {store}: {exc.strerror}; "
                "choose another with --store or PULSEHOST_STORE"
            ) from exc
        utc_ns = clock.utc_ns()
        session_id = uuid.uuid4().hex
        name = session_dir_name(utc_ns, session_id)
        staging = store / f"{STAGING_PREFIX}{name}"
        fds: list[int] = []
        try:
            staging.mkdir()
            fds.append(os.open(staging / JOURNAL_FILE, _APPEND | os.O_EXCL, 0o644))
            fds.append(os.open(staging / WAVEFORMS_FILE, _APPEND | os.O_EXCL, 0o644))
            writer = cls(store / name, session_id, fds[0], fds[1], clock, key)
            header = {"session_id": session_id, "journal": {"format": FORMAT, "version": VERSION}}
            writer._append("start", {**body, **header}, {}, utc_ns=utc_ns)
            os.fsync(fds[1])
            _fsync_directory(staging)
            os.rename(staging, store / name)
            _fsync_directory(store)
        except (OSError, JournalError) as exc:
            for fd in fds:
                os.close(fd)
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, JournalError):
                raise
            raise JournalError(
                f"cannot create a session in {store}: {exc.strerror or exc}; "
                "check that the store is writable and has free space"
            ) from exc
        return writer

    @property
    def journal_path(self) -> Path:
        return self.directory / JOURNAL_FILE

    def event(self, body: Mapping[str, Any]) -> None:
        """Record an event; `body["kind"]` (state, operator, alarm, ecg, link, finding,
        ...) is stored as the document's `event` field, the rest as given."""
        if not isinstance(body, Mapping):
            raise JournalError(f"an event body must be a mapping, not {type(body).__name__}")
        fields = dict(body)
        if not isinstance(fields.get("kind"), str) or not fields["kind"]:
            raise JournalError(
                "an event needs 'kind' naming what happened, e.g. state, operator, alarm"
            )
        if "event" in fields:
            raise JournalError("an event body may not hold 'event'; 'kind' becomes that field")
        fields["event"] = fields.pop("kind")
        self._append("event", _body(fields, "event", reserved=ENVELOPE), {})

    def intent(self, body: Mapping[str, Any]) -> None:
        """Record a train about to fire. Fire only after this returns."""
        self._append("intent", _body(body, "intent", reserved=ENVELOPE), {})

    def pulse(
        self, body: Mapping[str, Any], waveforms: Mapping[str, WaveformBlock] = NO_WAVEFORMS
    ) -> None:
        """Record one pulse: measurements, findings and verdict, plus its waveforms.

        The waveform bytes are appended to waveforms.bin and fsynced before the
        document that references them.
        """
        fields = _body(body, "pulse", reserved=ENVELOPE | {"waveforms"})
        index = fields.get("index")
        if type(index) is not int or index < 1:
            raise JournalError(f"a pulse needs 'index', a whole number from 1, not {index!r}")
        if fields.get("verdict") not in VERDICTS:
            raise JournalError(
                f"pulse {index}: 'verdict' is {fields.get('verdict')!r}; "
                f"expected one of {', '.join(VERDICTS)}"
            )
        for channel, block in waveforms.items():
            if not isinstance(channel, str) or not CHANNEL_NAME.match(channel):
                raise JournalError(
                    f"pulse {index}: waveform channel name {channel!r} must be a letter "
                    "followed by up to 31 letters or digits, e.g. 'voltage'"
                )
            problem = block.problem() if isinstance(block, WaveformBlock) else "not a block"
            if problem:
                raise JournalError(f"pulse {index}: waveform {channel!r}: {problem}")
        self._append("pulse", fields, waveforms)

    def stop(self, body: Mapping[str, Any]) -> None:
        """Record the end of the session; seals it when a key is set. Nothing may follow."""
        fields = _body(body, "stop", reserved=ENVELOPE | {"seal"})
        if fields.get("outcome") not in OUTCOMES:
            raise JournalError(
                f"the stop document's 'outcome' is {fields.get('outcome')!r}; "
                f"expected one of {', '.join(OUTCOMES)}"
            )
        self._append("stop", fields, {}, seal=True)

    def close(self) -> None:
        """Close the files (idempotent). A session closed without `stop` reads as interrupted."""
        with self._lock:
            if self._journal_fd is None:
                return
            os.close(self._journal_fd)
            os.close(self._waveforms_fd)
            self._journal_fd = None

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _append(
        self,
        kind: str,
        fields: dict[str, Any],
        waveforms: Mapping[str, WaveformBlock],
        *,
        utc_ns: int | None = None,
        seal: bool = False,
    ) -> None:
        with self._lock:
            if self._journal_fd is None:
                raise JournalError(f"the journal {self.journal_path} is closed")
            if self._failure is not None:
                raise JournalError(
                    f"the journal {self.journal_path} takes no more documents after a failed "
                    f"write ({self._failure})"
                )
            if self._stopped:
                raise JournalError(f"session {self.session_id} is already stopped")
            blobs: list[bytes] = []
            refs: dict[str, Any] = {}
            offset = self._waveform_bytes
            for channel in sorted(waveforms):
                data = waveforms[channel].raw_bytes()
                digest = hashlib.sha256(data).hexdigest()
                refs[channel] = BlockRef.describe(waveforms[channel], offset, digest).to_json()
                blobs.append(data)
                offset += len(data)
            document = {
                **fields,
                "kind": kind,
                "seq": self._seq,
                "utc": format_utc(self._clock.utc_ns() if utc_ns is None else utc_ns),
                "mono_ns": self._clock.mono_ns(),
                "prev": self._prev,
            }
            if refs:
                document["waveforms"] = refs
            if seal and self._seal_key is not None:
                document["seal"] = make_seal(self._seal_key, document)
            try:
                digest = document_hash(document, blobs)
                document["hash"] = digest
                line = canonical_json(document) + b"\n"
            except ValueError as exc:  # lone surrogates cannot be UTF-8; nothing was written
                raise JournalError(
                    f"a {kind} body holds text that is not valid Unicode: {exc}"
                ) from exc
            try:
                if blobs:
                    _write_all(self._waveforms_fd, b"".join(blobs))
                    os.fsync(self._waveforms_fd)
                _write_all(self._journal_fd, line)
                os.fsync(self._journal_fd)
            except OSError as exc:
                self._failure = f"{exc.strerror or exc}"
                raise JournalError(
                    f"cannot write {kind} document {self._seq} to {self.journal_path}: "
                    f"{self._failure}; delivery must stop"
                ) from exc
            self._seq += 1
            self._prev = digest
            self._waveform_bytes = offset
            self._stopped = kind == "stop"


def _body(body: Mapping[str, Any], kind: str, *, reserved: frozenset[str]) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise JournalError(f"a {kind} body must be a mapping, not {type(body).__name__}")
    clash = sorted(reserved.intersection(body))
    if clash:
        raise JournalError(
            f"a {kind} body may not set {', '.join(clash)}; the journal writes those itself"
        )
    fields: dict[str, Any] = to_json_value(body, kind)
    return fields


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(path: Path) -> None:
    # A new or renamed entry survives power loss only once its directory is synced.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
