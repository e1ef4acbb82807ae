"""Listing a store quickly: summaries cached by journal size and modification time.

The cache is a convenience, never the record: it is rebuilt for any session
whose journal changed, ignored when unreadable, and skipped when the store is
read-only. Delete it at will.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from pulsehost.journal.errors import JournalReadError
from pulsehost.journal.layout import JOURNAL_FILE
from pulsehost.journal.store import session_names
from pulsehost.journal.summary import SessionSummary, summarize

INDEX_FILE = ".pulsehost-index.json"
INDEX_VERSION = 1


def list_sessions(store: Path, *, use_cache: bool = True) -> list[SessionSummary]:
    """Summaries of every session in the store, newest first."""
    store = Path(store)
    cached = _load(store) if use_cache else {}
    fresh: dict[str, Any] = {}
    summaries: list[SessionSummary] = []
    for name in session_names(store):
        journal = os.path.join(store, name, JOURNAL_FILE)
        try:
            stat = os.stat(journal)
        except FileNotFoundError:
            continue  # not a session (yet): no journal
        except OSError as exc:
            raise JournalReadError(f"cannot read {journal}: {exc.strerror}") from exc
        key = [stat.st_size, stat.st_mtime_ns]
        entry = cached.get(name)
        summary = None
        if isinstance(entry, dict) and entry.get("key") == key:
            try:
                summary = SessionSummary.from_json(entry["summary"])
            except (KeyError, TypeError):
                summary = None
        if summary is None:
            try:
                summary = summarize(store / name)
            except OSError as exc:
                raise JournalReadError(f"cannot read {journal}: {exc.strerror}") from exc
            entry = {"key": key, "summary": summary.to_json()}
        fresh[name] = entry
        summaries.append(summary)
    if use_cache and fresh != cached:
        _save(store, fresh)
    # Directory names carry the start to the second; the start document to the microsecond.
    summaries.sort(key=lambda s: (s.directory[:16], s.started_utc or "", s.directory), reverse=True)
    return summaries


def _load(store: Path) -> dict[str, Any]:
    try:
        document = json.loads((store / INDEX_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != INDEX_VERSION:
        return {}
    sessions = document.get("sessions")
    return sessions if isinstance(sessions, dict) else {}


def _save(store: Path, sessions: dict[str, Any]) -> None:
    temporary = store / f"{INDEX_FILE}.{os.getpid()}.tmp"
    try:
        temporary.write_text(
            json.dumps({"version": INDEX_VERSION, "sessions": sessions}, separators=(",", ":")),
            encoding="utf-8",
        )
        os.replace(temporary, store / INDEX_FILE)  # readers see the old or the new, never half
    except OSError:
        with contextlib.suppress(OSError):  # a read-only store lists without a cache
            temporary.unlink(missing_ok=True)
