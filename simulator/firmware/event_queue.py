"""Acked firmware events (PULSE_SUMMARY, TRAIN_DONE, ECG_EVENT, FAULT) and their retries."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from drivers.link.frame import FLAG_RETX


@dataclass(frozen=True)
class QueuedEvent:
    msg_type: int
    payload: bytes


class EventQueue:
    """One acked event in flight at a time, in order, retried like a host command.

    The firmware sends an event with ACK_REQ and waits `retry_s` for the host's
    ACK (RESP, ref_seq = the event's seq); then it resends the same frame with
    RETX, `sends` times in all. An event nobody acknowledges is given up and
    counted, and the next one goes out: the link watchdog, not this queue,
    decides when the host is gone. One in flight keeps events in order on the
    host side whatever the line does.
    """

    def __init__(self, retry_s: float, sends: int) -> None:
        self._retry_s = retry_s
        self._sends = sends
        self._waiting: deque[QueuedEvent] = deque()
        self._in_flight: tuple[int, int, bytes] | None = None  # seq, msg_type, payload
        self._sent_count = 0
        self._next_retry = 0.0
        self.given_up = 0
        self.acked = 0

    def push(self, msg_type: int, payload: bytes) -> None:
        self._waiting.append(QueuedEvent(msg_type, payload))

    def on_ack(self, ref_seq: int) -> bool:
        """The host acknowledged firmware seq `ref_seq`; True when that was the event in flight."""
        if self._in_flight is not None and self._in_flight[0] == ref_seq:
            self._in_flight = None
            self.acked += 1
            return True
        return False

    def due(self, wall: float, next_seq: int) -> tuple[int, int, bytes, int] | None:
        """The send to make now, if any: (seq, msg_type, payload, extra flags).

        `next_seq` is the firmware seq a new event would take; the caller
        consumes it only when the returned seq equals it.
        """
        if self._in_flight is not None:
            if wall < self._next_retry:
                return None
            if self._sent_count >= self._sends:
                self._in_flight = None
                self.given_up += 1
            else:
                seq, msg_type, payload = self._in_flight
                self._sent_count += 1
                self._next_retry = wall + self._retry_s
                return seq, msg_type, payload, FLAG_RETX
        if not self._waiting:
            return None
        event = self._waiting.popleft()
        self._in_flight = (next_seq, event.msg_type, event.payload)
        self._sent_count = 1
        self._next_retry = wall + self._retry_s
        return next_seq, event.msg_type, event.payload, 0

    def next_deadline(self) -> float | None:
        if self._in_flight is not None:
            return self._next_retry
        return None

    @property
    def idle(self) -> bool:
        """Nothing waiting to go out for the first time (an event may still await its ACK)."""
        return not self._waiting

    @property
    def pending(self) -> int:
        return len(self._waiting) + (self._in_flight is not None)

    def clear(self) -> None:
        self._waiting.clear()
        self._in_flight = None
