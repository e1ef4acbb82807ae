"""The firmware's memory of its last replies, so a retried command is never run twice."""

from __future__ import annotations

from collections import OrderedDict

from drivers.link.frame import Frame

REPLY_CACHE_SIZE = 8


class ReplyCache:
    """Replies to the last `size` host command seqs (docs/firmware-link.md §4).

    A command whose seq is cached gets the stored reply again and is not
    executed; the oldest entry falls out when a new one arrives.
    """

    def __init__(self, size: int = REPLY_CACHE_SIZE) -> None:
        self._size = size
        self._replies: OrderedDict[int, Frame] = OrderedDict()

    def get(self, seq: int) -> Frame | None:
        return self._replies.get(seq)

    def put(self, seq: int, reply: Frame) -> None:
        self._replies[seq] = reply
        self._replies.move_to_end(seq)
        while len(self._replies) > self._size:
            self._replies.popitem(last=False)

    def clear(self) -> None:
        self._replies.clear()

    def __len__(self) -> int:
        return len(self._replies)
