"""A writer killed with SIGKILL at random points leaves sessions that verify.

One helper process imports the journal once and forks a writer per round; the
test kills each writer at a random point (some while the session is still
being created, most after a random number of documents) and then checks
every session left in the store.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pulsehost.journal import Session, list_sessions
from pulsehost.journal.layout import STAGING_PREFIX

ROUNDS = 50
EARLY = 10  # rounds killed without waiting for the session to exist

WRITER = r"""
import os, sys, time
from pathlib import Path
import numpy as np
from pulsehost.journal import JournalWriter, WaveformBlock
from pulsehost.journal.sample import sample_start

def say(text):
    os.write(1, (text + "\n").encode())

def write_until_killed(store, seed):
    rng = np.random.default_rng(seed)
    writer = JournalWriter.create(store, sample_start(4, 8))
    say("doc 1")
    for n in range(2, 3000):
        if n % 10 == 0:
            writer.intent({"train": n // 10, "note": "x" * int(rng.integers(0, 3000))})
        elif n % 10 == 5:
            writer.event({"kind": "state", "to": "FIRING", "seed": seed})
        else:
            codes = rng.integers(-2000, 2000, 500).astype(np.int16)
            small = (codes // 16).astype(np.int8)
            blocks = {
                "voltage": WaveformBlock(codes, 0.5, 0.0, 0.0, -1e-5, 1e-7, "V"),
                "current": WaveformBlock(small, 0.1, 0.0, 0.0, -1e-5, 1e-7, "A"),
            }
            body = {"index": n, "train": 1, "pulse": 1, "pair": [0, 1], "verdict": "ok"}
            writer.pulse(body, blocks)
        say(f"doc {n}")
    time.sleep(60)

store = Path(sys.argv[1])
for line in sys.stdin:
    if line.strip() == "quit":
        break
    seed = int(line)
    pid = os.fork()
    if pid == 0:
        try:
            write_until_killed(store, seed)
        finally:
            os._exit(0)
    say(f"pid {pid}")
    os.waitpid(pid, 0)
    say("reaped")
"""


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_sessions_killed_at_random_points_verify_and_read_interrupted(tmp_path: Path) -> None:
    store = tmp_path / "store"
    rng = random.Random(20250303)
    helper = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert helper.stdin is not None and helper.stdout is not None
    waited_for: list[int] = []
    try:
        for round_number in range(ROUNDS):
            helper.stdin.write(f"{round_number}\n")
            helper.stdin.flush()
            target = 0 if round_number < EARLY else rng.randint(1, 80)
            pid = None
            docs = 0
            while pid is None or docs < target:
                line = helper.stdout.readline()
                assert line, "the writer helper exited unexpectedly"
                word, number = line.split()
                if word == "pid":
                    pid = int(number)
                elif word == "doc":
                    docs = int(number)
            if target:
                waited_for.append(target)
                # Let it run into the middle of a later write before the kill.
                for _ in range(rng.randint(0, 20000)):
                    pass
            os.kill(pid, signal.SIGKILL)
            while (line := helper.stdout.readline()).strip() != "reaped":
                assert line, "the writer helper exited unexpectedly"
        helper.stdin.write("quit\n")
        helper.stdin.flush()
        helper.wait(timeout=10)
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()

    sessions = [p for p in store.iterdir() if not p.name.startswith(".")]
    leftovers = [p for p in store.iterdir() if p.name.startswith(".")]
    assert all(p.name.startswith(STAGING_PREFIX) for p in leftovers)
    assert len(sessions) >= ROUNDS - EARLY
    statuses = set()
    for directory in sessions:
        session = Session.read(directory)
        integrity = session.integrity
        statuses.add(integrity.status)
        assert integrity.ok, f"{directory.name}: {integrity.describe()}"
        assert integrity.verified == integrity.lines == len(session.documents)
        assert session.outcome == "interrupted" and session.stop is None
        assert session.start["simulated"] is True
        for pulse in session.pulses:
            assert set(session.waveforms(pulse)) == {"voltage", "current"}
    longest = max(len(Session.read(d).documents) for d in sessions)
    assert longest >= max(waited_for)
    listed = list_sessions(store)
    assert sorted(s.directory for s in listed) == sorted(p.name for p in sessions)
    assert {s.outcome for s in listed} == {"interrupted"}
