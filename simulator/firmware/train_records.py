"""What the firmware remembers about delivered trains, across host sessions."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from drivers.link.messages import EcgEvent, FaultReport, PulseSummary, SetParams, TrainDone

TRAIN_RECORDS_KEPT = 64


@dataclass(frozen=True)
class TrainRecord:
    """One finished train: the TRAIN_DONE the host was sent, and what led to it."""

    session: int
    params: SetParams
    done: TrainDone
    pulses: tuple[PulseSummary, ...]
    ecg: tuple[EcgEvent, ...] = ()
    faults: tuple[FaultReport, ...] = ()

    @property
    def train_id(self) -> int:
        return self.done.train_id


class TrainRecords:
    """The last `keep` train records, looked up by train id (0 = the newest).

    They live as long as the firmware runs, so a host that lost its link can
    reconnect and ask what happened (GET_TRAIN). Train ids are unique only
    within a session; the newest record with an id wins.
    """

    def __init__(self, keep: int = TRAIN_RECORDS_KEPT) -> None:
        self._records: deque[TrainRecord] = deque(maxlen=keep)

    def add(self, record: TrainRecord) -> None:
        self._records.append(record)

    def find(self, train_id: int) -> TrainRecord | None:
        if train_id == 0:
            return self._records[-1] if self._records else None
        for record in reversed(self._records):
            if record.train_id == train_id:
                return record
        return None

    def all(self) -> tuple[TrainRecord, ...]:
        return tuple(self._records)

    def __len__(self) -> int:
        return len(self._records)
