"""A store that cannot be written: delivery never starts, or stops before the next train.

Two narrow seams stand in for the file system: `os.mkdir` failing with EROFS
under the store (a read-only mount; the suite may run as root, for whom a
chmod does not make a directory read-only), and `os.write` on the session's
own files filling the disk part-way through one write (a short write, then
ENOSPC on every later one). Everything else, the simulator's pty included,
writes through the real calls.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from pulsehost.cli.main import main
from pulsehost.journal import ChainStatus, Session
from tests.reliability.simulated_session import plan_for, run_session

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PRESET = "esope-hexagonal"  # 12 trains at 5 kHz: room to fill the disk mid-session


class FillingDisk:
    """`os.write` for files under `root`: the `at`-th write that `matches` is cut short
    and the disk is full from then on; other files are written normally."""

    def __init__(self, root: Path, matches: Callable[[str, bytes], bool], at: int) -> None:
        self._root = str(root)
        self._matches = matches
        self._at = at
        self._seen = 0
        self._real = os.write
        self.full = False
        self.fires_when_full: int | None = None
        self.bench: Any = None

    def __call__(self, fd: int, data: Any) -> int:
        path = self._path(fd)
        if not path.startswith(self._root):
            return self._real(fd, data)
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        chunk = bytes(data)
        if self._matches(path, chunk):
            self._seen += 1
            if self._seen == self._at:
                self.full = True
                if self.bench is not None:
                    self.fires_when_full = self.bench.firmware.fire_executions
                return self._real(fd, chunk[: max(1, len(chunk) // 2)])
        return self._real(fd, data)

    @staticmethod
    def _path(fd: int) -> str:
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return ""


def _line_of(kind: str) -> Callable[[str, bytes], bool]:
    marker = f'"kind":"{kind}"'.encode()
    return lambda path, chunk: path.endswith("journal.jsonl") and marker in chunk


def _waveform(path: str, chunk: bytes) -> bool:
    return path.endswith("waveforms.bin")


# (what is being written when the disk fills, which one of them)
FILL_POINTS = {
    "first-intent-line": (_line_of("intent"), 1),
    "third-intent-line": (_line_of("intent"), 3),
    "pulse-line-of-train-2": (_line_of("pulse"), 12),
    "waveforms-of-train-4": (_waveform, 30),
    "state-event-mid-session": (_line_of("event"), 25),
}


@pytest.mark.parametrize("point", sorted(FILL_POINTS))
def test_a_full_disk_stops_delivery_before_the_next_train(
    point: str, tmp_path: Path, mocker: MockerFixture
) -> None:
    store = tmp_path / "store"
    matches, at = FILL_POINTS[point]
    disk = FillingDisk(store, matches, at)
    mocker.patch("os.write", side_effect=disk)

    def hold(bench: Any) -> None:
        disk.bench = bench

    run = run_session(plan_for(PRESET), store, on_bench=hold)

    assert disk.full, "the session ended before the disk filled"
    outcome = run.outcome
    assert (outcome.outcome, outcome.stop_reason) == ("fault", "journal")
    assert "No space left on device" in outcome.message
    assert "delivery" in outcome.message
    # No train was fired once the disk was full ...
    assert run.firmware.fire_executions == disk.fires_when_full
    assert run.firmware.state in ("IDLE", "FAULT") and run.firmware.discharged
    # ... and everything written before it still verifies, ending at the cut line at most.
    assert outcome.journal is not None
    session = Session.read(outcome.journal)
    assert session.integrity.ok, session.integrity.describe()
    assert session.integrity.verified == session.integrity.lines
    if session.integrity.status is ChainStatus.TORN:
        assert session.integrity.line == session.integrity.lines + 1
    assert session.stop is None  # the stop document could not be written either
    # Every train the generator fired had its intent complete on disk first.
    intents = {int(i["train_id"]) for i in session.intents}
    assert {t.train_id for t in run.firmware.trains} <= intents
    assert run.firmware.fire_executions <= len(intents)


@pytest.mark.parametrize("store_exists", [False, True], ids=["new-store", "existing-store"])
def test_a_read_only_store_refuses_delivery_before_anything_is_armed(
    store_exists: bool, tmp_path: Path, mocker: MockerFixture
) -> None:
    store = tmp_path / "store"
    if store_exists:
        store.mkdir()
    real_mkdir = os.mkdir

    def read_only(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).startswith(str(store)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        real_mkdir(path, *args, **kwargs)

    mocker.patch("os.mkdir", side_effect=read_only)
    run = run_session(plan_for("esope-needle-rows"), store)

    assert (run.outcome.outcome, run.outcome.stop_reason) == ("fault", "journal")
    assert "Read-only file system" in run.outcome.message
    assert str(store) in run.outcome.message
    assert run.outcome.journal is None
    assert run.outcome.pulses_delivered == 0
    assert run.firmware.fire_executions == 0
    assert run.firmware.state == "IDLE" and run.firmware.discharged
    left = sorted(p.name for p in store.iterdir()) if store_exists else None
    assert left == ([] if store_exists else None)
    assert store.exists() is store_exists


def test_the_cli_names_the_full_disk_and_exits_with_a_fault(
    tmp_path: Path, mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    mocker.patch("os.write", side_effect=FillingDisk(store, _line_of("pulse"), 3))
    code = main(["run", "--yes", "--store", str(store), "--json"])
    captured = capsys.readouterr()
    assert code == 3
    assert "No space left on device" in captured.out
    assert '"stop_reason": "journal"' in captured.out
    assert "Traceback" not in captured.err + captured.out
