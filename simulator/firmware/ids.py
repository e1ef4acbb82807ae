"""Session ids and arm tokens: random on a real unit, seeded here so runs repeat."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class IdSource(Protocol):
    """Where the firmware draws its per-session ids and single-use arm tokens."""

    def session_id(self) -> int:
        """A session id in 1..65535."""
        ...

    def token(self) -> int:
        """An arm token in 1..2**32-1."""
        ...


class SeededIds:
    """Ids from a seeded generator: the same seed gives the same exchange, byte for byte."""

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self._rng = np.random.default_rng(seed)

    def session_id(self) -> int:
        return int(self._rng.integers(1, 0x10000))

    def token(self) -> int:
        return int(self._rng.integers(1, 0x1_0000_0000))
