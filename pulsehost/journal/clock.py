"""The two clocks every journal document is stamped with."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class JournalClock(Protocol):
    """UTC wall time and a monotonic counter, both in nanoseconds."""

    def utc_ns(self) -> int: ...

    def mono_ns(self) -> int: ...


@dataclass(frozen=True)
class SystemClock:
    """The host's clocks: `time.time_ns` and `time.monotonic_ns`."""

    def utc_ns(self) -> int:
        return time.time_ns()

    def mono_ns(self) -> int:
        return time.monotonic_ns()


def format_utc(utc_ns: int) -> str:
    """ISO-8601 UTC with microseconds and a `Z`, e.g. `2025-03-04T09:15:02.123456Z`."""
    seconds, rest = divmod(utc_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1000:06d}Z"
