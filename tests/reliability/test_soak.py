"""200 simulated sessions back to back in this process: nothing may pile up.

Each session is the full path `pulsehost run` takes (bench started, rig
opened, engine run, journal written, everything closed again). Threads,
open file descriptors, resident memory and live Python objects are sampled
every few sessions after a warm-up; the bounds are structural (no growth
trend), never timings.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.conftest import Reporter
from tests.reliability.simulated_session import plan_for, run_session

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SESSIONS = int(os.environ.get("PULSEHOST_SOAK_SESSIONS", "200"))
WARM_UP = 20  # caches, lazy imports and allocator arenas settle in these
EVERY = 10
TIME_SCALE = 20.0  # charging compressed; a 5 kHz train is over in 1.6 ms anyway
# Growth allowed from the end of the warm-up to the end of the run. Object and block
# counts are exact: a leaked journal document or event per session adds hundreds of
# objects (the interpreter's own caches add about 4 blocks a session). RSS moves by
# 10-25 MB with the allocator's arenas, so its bound catches buffers: the scope arrays
# of one session (2 channels x 8 pulses x 10 000 samples, as codes and volts) are about
# 2 MB, 360 MB if every session kept them.
RSS_GROWTH_LIMIT_MB = 40.0
OBJECT_GROWTH_LIMIT = 1_000
BLOCK_GROWTH_LIMIT = 5_000
SETTLE_S = 2.0
LINK_LOST_TOLERATED = 2


@dataclass(frozen=True)
class Sample:
    sessions: int
    threads: int
    fds: int
    rss_mb: float
    blocks: int  # memory blocks the interpreter's allocator holds
    objects: int  # objects the garbage collector tracks


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sample(sessions: int, baseline_threads: int | None) -> Sample:
    # Helper threads of the last session (scope I/O, bench servers) may still be
    # finishing their last instruction; give them a moment, never an indefinite wait.
    if baseline_threads is not None:
        deadline = time.monotonic() + SETTLE_S
        while threading.active_count() > baseline_threads and time.monotonic() < deadline:
            time.sleep(0.01)
    gc.collect()
    return Sample(
        sessions,
        threading.active_count(),
        _fds(),
        _rss_mb(),
        sys.getallocatedblocks(),
        len(gc.get_objects()),
    )


def test_two_hundred_sessions_leak_no_threads_descriptors_or_memory(
    tmp_path: Path, reliability_report: Reporter
) -> None:
    plan = plan_for("esope-needle-rows")
    samples: list[Sample] = []
    outcomes: dict[str, int] = {}
    for number in range(1, SESSIONS + 1):
        run = run_session(plan, tmp_path / "store", time_scale=TIME_SCALE, seed=number)
        ended = run.outcome.outcome
        if ended != "completed":
            ended += f"/{run.outcome.stop_reason}"
        outcomes[ended] = outcomes.get(ended, 0) + 1
        if number == WARM_UP:
            samples.append(_sample(number, None))
        elif number > WARM_UP and number % EVERY == 0:
            samples.append(_sample(number, samples[0].threads))

    assert len(samples) >= 2
    reliability_report(f"soak: {SESSIONS} sessions", _report(samples, outcomes))
    # Every session completes, but for the rare one whose FIRE reply the simulated
    # firmware, starved of CPU, sent after the host's 4 x 50 ms reply window: the host
    # then rightly reports the link lost (docs/reliability.md). A handful is the bound.
    unexpected = {k: n for k, n in outcomes.items() if k not in ("completed", "fault/link-lost")}
    assert not unexpected, unexpected
    assert outcomes.get("fault/link-lost", 0) <= LINK_LOST_TOLERATED
    baseline, last = samples[0], samples[-1]
    # Never more than after the warm-up (fewer is fine: in a full test run, threads and
    # descriptors other tests left behind may still be finishing or being collected).
    assert all(s.threads <= baseline.threads for s in samples), "threads left running"
    assert all(s.fds <= baseline.fds for s in samples), "file descriptors left open"
    # RSS swings by tens of MB sample to sample; compare the medians of each end.
    rss_start = statistics.median(s.rss_mb for s in samples[:3])
    rss_end = statistics.median(s.rss_mb for s in samples[-3:])
    assert rss_end - rss_start < RSS_GROWTH_LIMIT_MB
    assert last.objects - baseline.objects < OBJECT_GROWTH_LIMIT
    assert last.blocks - baseline.blocks < BLOCK_GROWTH_LIMIT


def _report(samples: list[Sample], outcomes: dict[str, int]) -> str:
    first = samples[0]
    lines = [
        f"outcomes: {outcomes}",
        "sessions threads fds   RSS MB  (+MB)   blocks (+blocks)  objects (+objects)",
    ]
    for s in samples:
        lines.append(
            f"{s.sessions:>8} {s.threads:>7} {s.fds:>4} {s.rss_mb:>8.1f} "
            f"{s.rss_mb - first.rss_mb:>+6.1f} {s.blocks:>8} {s.blocks - first.blocks:>+8} "
            f"{s.objects:>8} {s.objects - first.objects:>+9}"
        )
    return "\n".join(lines)
