"""Fixtures for journal tests: a store, a settable clock, sessions written through the writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulsehost.journal.sample import write_sample_session
from pulsehost.journal.writer import JournalWriter

T0_NS = 1_741_000_000_123_456_789  # 2025-03-03T11:06:40.123456Z


class StepClock:
    """UTC and monotonic time that advance by a fixed step at every reading."""

    def __init__(self, utc_ns: int = T0_NS, step_ns: int = 1_000_000) -> None:
        self.utc = utc_ns
        self.mono = 5_000_000_000
        self.step = step_ns

    def utc_ns(self) -> int:
        self.utc += self.step
        return self.utc

    def mono_ns(self) -> int:
        self.mono += self.step
        return self.mono


@pytest.fixture(autouse=True)
def _no_ambient_seal_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A key in the developer's environment must not change what tests see.
    monkeypatch.delenv("PULSEHOST_SEAL_KEY", raising=False)
    monkeypatch.delenv("PULSEHOST_STORE", raising=False)
    yield


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def make_session(store: Path) -> Callable[..., JournalWriter]:
    """Write a sample session (12 trains x 8 pulses by default) through the real writer."""

    def make(**options: Any) -> JournalWriter:
        options.setdefault("samples", 400)
        return write_sample_session(store, **options)

    return make
