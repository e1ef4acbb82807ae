"""Messages from the engine's thread to the app, one class per thing that happened.

The engine calls its sink on its own thread; `messages_for` turns each event
into messages that the delivering screen posts to itself (posting is
thread-safe, touching widgets from that thread is not). Per-pulse results and
findings never coalesce. A state change may replace a queued state change:
only the newest state is worth drawing, and the journal keeps every transition.
They are meant for the screen running the session and do not bubble to the app.
"""

from __future__ import annotations

from concurrent.futures import Future

from textual.message import Message

from pulsehost.engine.confirm import ArmQuestion
from pulsehost.engine.events import (
    EcgSeen,
    EngineEvent,
    FindingView,
    Notice,
    PulseResult,
    SessionFinished,
    SessionStarted,
    StateChanged,
    TrainArming,
    TrainFinished,
    TrainStarted,
)


class EngineMessage(Message, bubble=False):
    """Base of the messages that report the engine; handled by the delivering screen only."""


class SessionOpened(EngineMessage, bubble=False):
    """The journal is open: session id, instruments, planned totals."""

    def __init__(self, event: SessionStarted) -> None:
        super().__init__()
        self.event = event


class SessionStateChanged(EngineMessage, bubble=False):
    """The engine moved to a new state (coalesces: only the newest is drawn)."""

    def __init__(self, event: StateChanged) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SessionStateChanged)


class NoticeRaised(EngineMessage, bubble=False):
    """A warning or error the operator should read (drug window, preflight, journal)."""

    def __init__(self, event: Notice) -> None:
        super().__init__()
        self.event = event


class TrainAnnounced(EngineMessage, bubble=False):
    """A train is configured and about to be offered for arming."""

    def __init__(self, event: TrainArming) -> None:
        super().__init__()
        self.event = event


class TrainFired(EngineMessage, bubble=False):
    def __init__(self, event: TrainStarted) -> None:
        super().__init__()
        self.event = event


class PulseMeasured(EngineMessage, bubble=False):
    """One pulse measured and judged; carries the last pulse's traces when captured."""

    def __init__(self, event: PulseResult) -> None:
        super().__init__()
        self.event = event


class FindingRaised(EngineMessage, bubble=False):
    """A warn or stop finding on a pulse, with its message, as soon as it is known."""

    def __init__(self, finding: FindingView, train: int) -> None:
        super().__init__()
        self.finding = finding
        self.train = train


class EcgReported(EngineMessage, bubble=False):
    def __init__(self, event: EcgSeen) -> None:
        super().__init__()
        self.event = event


class TrainChecked(EngineMessage, bubble=False):
    def __init__(self, event: TrainFinished) -> None:
        super().__init__()
        self.event = event


class SessionClosed(EngineMessage, bubble=False):
    """The stop document is written: outcome, reason, counts."""

    def __init__(self, event: SessionFinished) -> None:
        super().__init__()
        self.event = event


class ArmRequested(EngineMessage, bubble=False):
    """The generator offers to arm: show its echoed parameters, resolve `answer` by key."""

    def __init__(self, question: ArmQuestion, answer: Future[bool]) -> None:
        super().__init__()
        self.question = question
        self.answer = answer


class FireRequested(EngineMessage, bubble=False):
    """The generator is ARMED: resolve `answer` True to fire, False to stand down."""

    def __init__(self, question: ArmQuestion, answer: Future[bool]) -> None:
        super().__init__()
        self.question = question
        self.answer = answer


class DeliveryFailed(EngineMessage, bubble=False):
    """The session could not run at all (the rig would not open) or ended in an error."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


def messages_for(event: EngineEvent) -> list[Message]:
    """The messages that report one engine event."""
    match event:
        case PulseResult():
            found: list[Message] = [PulseMeasured(event)]
            found += [FindingRaised(f, event.train) for f in event.findings if f.level != "ok"]
            return found
        case StateChanged():
            return [SessionStateChanged(event)]
        case SessionStarted():
            return [SessionOpened(event)]
        case Notice():
            return [NoticeRaised(event)]
        case TrainArming():
            return [TrainAnnounced(event)]
        case TrainStarted():
            return [TrainFired(event)]
        case EcgSeen():
            return [EcgReported(event)]
        case TrainFinished():
            return [TrainChecked(event)]
        case SessionFinished():
            return [SessionClosed(event)]
    return []
