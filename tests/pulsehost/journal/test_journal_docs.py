"""The code in docs/journal-format.md works on real sessions."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pulsehost.journal import JournalWriter, Session

DOC = Path(__file__).resolve().parents[3] / "docs" / "journal-format.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def reference_check() -> Callable[[Path], int | None]:
    (source,) = [b for b in python_blocks() if "def first_bad_line" in b]
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOC), "exec"), namespace)
    return namespace["first_bad_line"]  # type: ignore[no-any-return]


def test_the_reference_check_agrees_with_verify(
    make_session: Callable[..., JournalWriter],
) -> None:
    first_bad_line = reference_check()
    writer = make_session(trains=2, pulses_per_train=3, samples=40)
    assert first_bad_line(writer.directory) is None
    journal = writer.directory / "journal.jsonl"
    original = journal.read_bytes()
    rng = random.Random(7)
    for _ in range(60):
        position = rng.randrange(len(original) - 1)  # the last newline: see verify's tail rule
        value = rng.choice([b for b in range(256) if b != original[position]])
        journal.write_bytes(original[:position] + bytes([value]) + original[position + 1 :])
        integrity = Session.read(writer.directory).integrity
        assert integrity.status == "broken"
        assert first_bad_line(writer.directory) == integrity.line
    journal.write_bytes(original)
    waveforms = writer.directory / "waveforms.bin"
    data = bytearray(waveforms.read_bytes())
    data[-1] ^= 0xFF
    waveforms.write_bytes(bytes(data))
    assert first_bad_line(writer.directory) == Session.read(writer.directory).integrity.line


def test_the_numpy_example_reads_the_same_values(
    make_session: Callable[..., JournalWriter], monkeypatch: pytest.MonkeyPatch
) -> None:
    (source,) = [b for b in python_blocks() if "np.memmap" in b]
    writer = make_session(trains=1, pulses_per_train=6, samples=120)
    monkeypatch.chdir(writer.directory)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOC), "exec"), namespace)
    expected = Session.read(writer.directory).waveforms(5)["voltage"]
    np.testing.assert_array_equal(namespace["volts"], expected.values())
    np.testing.assert_array_equal(namespace["seconds"], expected.time_s())
