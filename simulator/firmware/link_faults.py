"""Line faults between host and firmware, injected on the firmware side of the wire.

They model a bad cable or USB stack, not a firmware bug: the firmware never
"knows" about them, so its own counters see only what a real one would (a
dropped host frame is simply never received). Each kind draws from its own
seeded stream, so switching one on leaves the others unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from simulator.faults import Fault, find

DEFAULT_RATE = 0.3
DEFAULT_DELAY_MS = 20.0
LINK_KINDS = frozenset({"link-drop", "link-corrupt", "link-duplicate", "link-delay", "link-silent"})


@dataclass(frozen=True)
class LinkFaultSpec:
    """The link faults of one bench, taken from the fault specs."""

    drop_from: int | None = None  # 1-based host frame number
    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    duplicate_rate: float = 0.0
    delay_s: float = 0.0
    silent_from: int | None = None

    @classmethod
    def from_faults(cls, faults: Iterable[Fault]) -> LinkFaultSpec:
        faults = tuple(faults)
        drop = find(faults, "link-drop")
        corrupt = find(faults, "link-corrupt")
        duplicate = find(faults, "link-duplicate")
        delay = find(faults, "link-delay")
        silent = find(faults, "link-silent")
        return cls(
            drop_from=(drop.at or 1) if drop else None,
            drop_rate=_rate(drop.get("rate", DEFAULT_RATE)) if drop else 0.0,
            corrupt_rate=_rate(corrupt.get("rate", DEFAULT_RATE)) if corrupt else 0.0,
            duplicate_rate=_rate(duplicate.get("rate", DEFAULT_RATE)) if duplicate else 0.0,
            delay_s=max(0.0, delay.get("ms", DEFAULT_DELAY_MS)) / 1000 if delay else 0.0,
            silent_from=(silent.at or 1) if silent else None,
        )


def _rate(value: float) -> float:
    return min(1.0, max(0.0, value))


class LinkFaults:
    """Decides, frame by frame, what the faulty line does; deterministic from the seed."""

    def __init__(self, spec: LinkFaultSpec, seed: np.random.SeedSequence) -> None:
        self.spec = spec
        drop_seq, corrupt_seq, duplicate_seq = seed.spawn(3)
        self._drop_rng = np.random.default_rng(drop_seq)
        self._corrupt_rng = np.random.default_rng(corrupt_seq)
        self._duplicate_rng = np.random.default_rng(duplicate_seq)
        self.host_frames = 0  # well-formed host frames that reached the line
        self.dropped = 0
        self.corrupted = 0
        self.duplicated = 0
        self.silenced = False

    def incoming_lost(self) -> bool:
        """Count one host frame; True when the line loses it before the firmware sees it."""
        self.host_frames += 1
        n = self.host_frames
        if self.spec.silent_from is not None and n >= self.spec.silent_from:
            self.silenced = True
        if self.silenced:
            self.dropped += 1
            return True
        if (
            self.spec.drop_from is not None
            and n >= self.spec.drop_from
            and self._drop_rng.random() < self.spec.drop_rate
        ):
            self.dropped += 1
            return True
        return False

    def outgoing(self, raw: bytes, repeatable: bool) -> list[bytes]:
        """Header + payload + CRC as the firmware sent it -> the copies that reach the host.

        `repeatable` marks replies and events, the frames a duplicating line
        doubles. A corrupted copy has one payload or CRC byte flipped, which
        the host sees as a bad CRC (CRC-32 catches every single-byte error).
        """
        if self.silenced:
            return []
        copies = 1
        if (
            repeatable
            and self.spec.duplicate_rate
            and self._duplicate_rng.random() < self.spec.duplicate_rate
        ):
            copies = 2
            self.duplicated += 1
        out = []
        for _ in range(copies):
            data = raw
            if self.spec.corrupt_rate and self._corrupt_rng.random() < self.spec.corrupt_rate:
                # Past the 10-byte header, so the length field stays intact and
                # the damage reads as a CRC failure rather than a length one.
                index = int(self._corrupt_rng.integers(10, len(raw)))
                mask = int(self._corrupt_rng.integers(1, 256))
                flipped = bytearray(raw)
                flipped[index] ^= mask
                data = bytes(flipped)
                self.corrupted += 1
            out.append(data)
        return out
