"""How fast the session journal writes, lists and opens.

- Append: a pulse document with two 10 000-sample int16 waveforms, written and
  fsynced (waveforms.bin, then journal.jsonl), median and 99th percentile. The
  bound is 100 ms, a tenth of the 1 s between pulses at 1 Hz: the most often the
  engine must journal a pulse before the next may fire (at 5 kHz the pulses of a
  train are journalled after it, in the seconds between trains).
- Listing: `list_sessions` over a store of 10 000 small sessions (1 000 in the
  quick run, named in the figure), with the index cache warm and rebuilt from
  nothing, against 1 s, an interactive answer.
- Opening: reading and fully verifying a 96-pulse session with 2 x 10 000-sample
  waveforms per pulse (every hash and every waveform byte), then loading all of
  its waveforms as numpy arrays, each against 1 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

from benchmarks.figure import Figure
from pulsehost.journal import JournalWriter, Session, WaveformBlock, list_sessions
from pulsehost.journal.index import INDEX_FILE
from pulsehost.journal.sample import sample_start, write_sample_session

SAMPLES = 10_000
APPEND_BOUND_MS = 100.0
INTERACTIVE_S = 1.0


def _append_latencies(store: Path, count: int) -> list[float]:
    rng = np.random.default_rng(0)
    codes = rng.integers(-20_000, 20_000, (2, SAMPLES)).astype(np.int16)
    blocks = {
        "voltage": WaveformBlock(codes[0], 0.05, 0.0, 0.0, -25e-6, 20e-9, "V"),
        "current": WaveformBlock(codes[1], 0.002, 0.0, 0.0, -25e-6, 20e-9, "A"),
    }
    body = {
        "train": 1,
        "pair": [0, 1],
        "target_v": 800.0,
        "voltage_v": 792.1,
        "current_a": 8.41,
        "width_us": 100.1,
        "resistance_ohm": 94.2,
        "energy_j": 0.66,
        "verdict": "ok",
        "findings": [],
    }
    latencies = []
    with JournalWriter.create(store, sample_start(1, count)) as writer:
        for index in range(1, count + 1):
            started = time.perf_counter()
            writer.pulse({**body, "index": index, "pulse": index}, blocks)
            latencies.append(time.perf_counter() - started)
    return latencies


def _fill_store(store: Path, sessions: int) -> None:
    # The listing is measured, not the writing: skip fsync while generating so a
    # slow disk does not turn setup into minutes. Every file is written in full.
    with mock.patch("os.fsync"):
        for _ in range(sessions):
            with JournalWriter.create(store, sample_start(2, 8)) as writer:
                writer.event({"kind": "state", "from": "IDLE", "to": "READY"})
                writer.stop({"outcome": "completed", "pulses_planned": 16, "pulses_delivered": 0})


def _timed(
    action: Callable[[], object], repeats: int, before: Callable[[], object] = list
) -> float:
    """Median seconds of `action`, with `before` run (untimed) ahead of each repeat."""
    times = []
    for _ in range(repeats):
        before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pulsehost-bench-") as tmp:
        root = Path(tmp)
        latencies = sorted(_append_latencies(root / "append", 40 if quick else 300))
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        for label, value in (("median", statistics.median(latencies)), ("p99", p99)):
            figures.append(
                Figure(
                    name=f"journal: append pulse + 2x10k samples, fsync, {label}",
                    value=value * 1e3,
                    unit="ms",
                    bound=APPEND_BOUND_MS,
                    bound_label="10 % of the 1 s between pulses at 1 Hz",
                    higher_is_better=False,
                )
            )

        sessions = 1_000 if quick else 10_000
        store = root / "many"
        _fill_store(store, sessions)
        index = store / INDEX_FILE
        list_sessions(store)
        cold = _timed(lambda: list_sessions(store), 1 if quick else 3, index.unlink)
        warm = _timed(lambda: list_sessions(store), 3 if quick else 5)
        assert len(list_sessions(store)) == sessions
        for label, value in (("index warm", warm), ("index rebuilt", cold)):
            figures.append(
                Figure(
                    name=f"journal: list {sessions} sessions, {label}",
                    value=value,
                    unit="s",
                    bound=INTERACTIVE_S,
                    bound_label="interactive answer",
                    higher_is_better=False,
                )
            )

        big = root / "big"
        writer = write_sample_session(big, trains=12, pulses_per_train=8, samples=SAMPLES)
        opened = _timed(lambda: Session.read(writer.directory), 3 if quick else 7)
        session = Session.read(writer.directory)
        assert session.integrity.status == "intact" and len(session.pulses) == 96
        loaded = _timed(lambda: [session.waveforms(p) for p in session.pulses], 3 if quick else 7)
        for label, value in (
            ("journal: open + verify 96 pulses, 2x10k samples each", opened),
            ("journal: load all waveforms of 96 pulses", loaded),
        ):
            figures.append(
                Figure(
                    name=label,
                    value=value,
                    unit="s",
                    bound=INTERACTIVE_S,
                    bound_label="interactive answer",
                    higher_is_better=False,
                )
            )
    return figures
