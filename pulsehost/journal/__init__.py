"""The session journal: append-only, hash-chained records of every session.

One directory per session holds `journal.jsonl` (one canonical JSON document
per line, each chained to the one before by SHA-256) and `waveforms.bin` (raw
sample codes the pulse documents point into). docs/journal-format.md defines
the format; this package writes it, reads it and checks it.
"""

from pulsehost.journal.clock import JournalClock, SystemClock
from pulsehost.journal.errors import (
    AmbiguousSessionError,
    JournalError,
    JournalReadError,
    SessionNotFoundError,
)
from pulsehost.journal.index import list_sessions
from pulsehost.journal.integrity import ChainStatus, Integrity, SealStatus
from pulsehost.journal.session import Session
from pulsehost.journal.store import default_store, find_session_dir, open_session
from pulsehost.journal.summary import SessionSummary
from pulsehost.journal.waveform import WaveformBlock
from pulsehost.journal.writer import JournalWriter

__all__ = [
    "AmbiguousSessionError",
    "ChainStatus",
    "Integrity",
    "JournalClock",
    "JournalError",
    "JournalReadError",
    "JournalWriter",
    "SealStatus",
    "Session",
    "SessionNotFoundError",
    "SessionSummary",
    "SystemClock",
    "WaveformBlock",
    "default_store",
    "find_session_dir",
    "list_sessions",
    "open_session",
]
