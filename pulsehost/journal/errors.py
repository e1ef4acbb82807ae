"""What can go wrong writing or reading a session journal."""

from __future__ import annotations


class JournalError(Exception):
    """A document could not be written; the caller must stop delivery.

    Raised for a failed write or fsync (the writer then refuses further
    documents, because the file may end in a torn line) and for a body the
    journal cannot hold (nothing was written; the writer stays usable).
    """


class JournalReadError(Exception):
    """A store or session cannot be opened or read."""


class SessionNotFoundError(JournalReadError):
    """No session in the store matches the given id or prefix."""


class AmbiguousSessionError(JournalReadError):
    """More than one session matches the given prefix."""

    def __init__(self, message: str, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates
