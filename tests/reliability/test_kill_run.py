"""`pulsehost run` killed with SIGKILL against a `pulsehost simulate` process.

The bench runs as its own process, as on a bench PC; the host is killed at a
random moment of one of four kinds: before arming, while arming (charging or
armed, nothing fired yet), mid-train, and between trains. After each kill:

- the killed session's journal verifies up to its last complete line and reads
  as interrupted;
- the generator makes itself safe without the host: the pty is opened as a
  read-only observer and the firmware's STATUS frames, decoded with the link
  codec, must show it IDLE or FAULT and discharged, and where HV was live, a
  LINK_LOST fault within the 400 ms watchdog (plus slack for scheduling);
- the next run starts cleanly: after a latched LINK_LOST it is refused until
  the operator acknowledges the fault, and it journals a `reconcile` event
  whose train (the firmware's last) has its intent on disk.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.link.frame import FrameDecoder
from drivers.link.messages import FaultCode, FwState, MsgType, Status, decode_payload
from pulsehost.journal import Session
from pulsehost.rig import load_rig
from tests.reliability.conftest import Reporter

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PROTOCOL = "esope-hexagonal"  # 12 trains: room for a kill between trains
RATE_HZ = "1"
TIME_SCALE = "10"  # a 1 Hz train of 8 pulses takes 0.7 s; the watchdog stays at 400 ms
MOMENTS = ("before-arm", "arming", "mid-train", "between-trains")
ROUNDS = int(os.environ.get("PULSEHOST_KILL_ROUNDS", "8"))
SEED = int(os.environ.get("PULSEHOST_KILL_SEED", "20260301"))
WATCHDOG_S = 0.4
# Scheduling slack on a loaded 2-core machine: the kill, the observer's start and the
# firmware's 100 ms STATUS period all sit between the host's last frame and our clock.
SLACK_S = 0.35
OBSERVE_S = 1.3  # the firmware ends a silent host's session 800 ms after its last frame
SAFE_V = 50.0
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Seen:
    """One STATUS frame the observer read, `at` seconds after the kill."""

    at: float
    state: FwState
    faults: int
    hv_v: float


@dataclass
class Round:
    moment: str
    delay_s: float
    acknowledged: bool
    session: Path | None = None
    lines: int = 0
    integrity: str = ""
    intents: list[int] = field(default_factory=list)
    fired_last: bool = False  # the journal shows the last intent's train FIRING
    seen: list[Seen] = field(default_factory=list)

    @property
    def states(self) -> str:
        """The generator states the observer saw, in order, repeats folded."""
        names: list[str] = []
        for s in self.seen:
            if not names or names[-1] != s.state.name:
                names.append(s.state.name)
        return ">".join(names)

    @property
    def link_lost_at(self) -> float | None:
        return next(
            (s.at for s in self.seen if s.faults & (1 << FaultCode.LINK_LOST)),
            None,
        )

    @property
    def safe_at(self) -> float | None:
        """When the observer first saw the generator IDLE or FAULT with the bank below 50 V."""
        return next(
            (
                s.at
                for s in self.seen
                if s.state in (FwState.IDLE, FwState.FAULT) and s.hv_v < SAFE_V
            ),
            None,
        )


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Path]:
    """`pulsehost simulate` wired for the protocol; yields its rig file."""
    rig = tmp_path / "rig.toml"
    out_path = tmp_path / "simulate.out"
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pulsehost",
                "simulate",
                "--protocol",
                PROTOCOL,
                "--time-scale",
                TIME_SCALE,
                "--seed",
                "7",
                "--rig-out",
                str(rig),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Stop with Ctrl-C." not in out_path.read_text():
            assert proc.poll() is None, f"pulsehost simulate exited: {out_path.read_text()}"
            assert time.monotonic() < deadline, "pulsehost simulate did not start"
            time.sleep(0.05)
        yield rig
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0, out_path.read_text()
    assert "SIMULATED bench stopped" in out_path.read_text()


def test_killed_runs_leave_verifiable_journals_and_a_safe_generator(
    bench: Path, tmp_path: Path, reliability_report: Reporter
) -> None:
    rng = random.Random(SEED)
    store = tmp_path / "store"
    port = _firmware_port(bench)
    moments = [MOMENTS[k % len(MOMENTS)] for k in range(ROUNDS)]
    rng.shuffle(moments)
    rounds: list[Round] = []
    all_intents: set[int] = set()
    latched = False
    refused_once = False
    try:
        for moment in moments:
            if latched and not refused_once:
                _expect_refused_without_acknowledgement(bench, store)
                refused_once = True
            this = Round(moment, _delay(moment, rng), acknowledged=latched)
            run = _start_run(bench, store, tmp_path / "run.log", acknowledge=latched)
            this.session, documents = _wait_for_moment(run, store, moment)
            time.sleep(this.delay_s)
            killed_at = time.monotonic()
            run.kill()
            run.wait(timeout=10)
            this.seen = _observe(port, killed_at)
            rounds.append(this)
            _check_killed_session(this, documents)
            if len(rounds) > 1:
                _check_next_start(this.session)
                _check_reconcile(this.session, all_intents, rounds[:-1])
            all_intents.update(this.intents)
            _check_generator_safe(this)
            latched = this.link_lost_at is not None

        final = _run_to_the_end(bench, store, acknowledge=latched)
        _check_next_start(final)
        _check_reconcile(final, all_intents, rounds)
    finally:
        reliability_report(f"kill tests: {len(rounds)} rounds", _report(rounds))
    assert {r.moment for r in rounds} == set(MOMENTS[: min(ROUNDS, len(MOMENTS))])


# -- running and killing ------------------------------------------------------------


def _run_args(rig: Path, store: Path, *, acknowledge: bool, rate: str = RATE_HZ) -> list[str]:
    args = [sys.executable, "-m", "pulsehost", "run", PROTOCOL, "--rate", rate]
    args += ["--rig", str(rig), "--yes", "--store", str(store), "--operator", "kill-test"]
    return args + (["--acknowledge-fault"] if acknowledge else [])


def _start_run(
    rig: Path, store: Path, log_path: Path, *, acknowledge: bool
) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            _run_args(rig, store, acknowledge=acknowledge), stdout=log, stderr=log
        )


def _delay(moment: str, rng: random.Random) -> float:
    """How long after the moment's journal line to kill: anywhere within that moment."""
    if moment == "mid-train":
        # The train lasts 0.7 s at this time scale: killed this early, the watchdog's
        # 400 ms run out while it is still firing.
        return rng.uniform(0.02, 0.25)
    if moment == "arming":
        return rng.uniform(0.0, 0.008)  # scope arm and charging: a few ms here
    return rng.uniform(0.0, 0.005)  # the next step (preflight, the next train) is quick


def _is_moment(document: dict[str, Any], moment: str) -> bool:
    kind = document.get("kind")
    state = document.get("state") if document.get("event") == "state" else None
    if moment == "before-arm":
        return document.get("event") == "preflight"
    if moment == "arming":
        return kind == "intent"
    if moment == "mid-train":
        return state == "FIRING"
    return state == "READY" and document.get("previous") == "FIRING"


def _wait_for_moment(
    run: subprocess.Popen[bytes], store: Path, moment: str
) -> tuple[Path, list[dict[str, Any]]]:
    """Follow the new session's journal (fsynced line by line) until the moment's line."""
    known = set(store.iterdir()) if store.exists() else set()
    deadline = time.monotonic() + START_TIMEOUT_S
    session: Path | None = None
    buffer = b""
    documents: list[dict[str, Any]] = []
    offset = 0
    while time.monotonic() < deadline:
        assert run.poll() is None, f"pulsehost run exited with {run.returncode} before {moment}"
        if session is None and store.exists():
            fresh = [p for p in store.iterdir() if p not in known and not p.name.startswith(".")]
            session = fresh[0] if fresh else None
        if session is not None:
            with (session / "journal.jsonl").open("rb") as journal:
                journal.seek(offset)
                chunk = journal.read()
            offset += len(chunk)
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                documents.append(json.loads(line))
                if _is_moment(documents[-1], moment):
                    return session, documents
        time.sleep(0.001)
    run.kill()
    run.wait()
    raise AssertionError(f"the run never reached {moment!r}")


def _observe(port: str, killed_at: float) -> list[Seen]:
    """Read the firmware's STATUS frames off the pty for a while, without sending a byte."""
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    decoder = FrameDecoder()
    seen: list[Seen] = []
    try:
        end = killed_at + OBSERVE_S
        while (left := end - time.monotonic()) > 0:
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            at = time.monotonic() - killed_at
            for frame in decoder.feed(data):
                if frame.msg_type == MsgType.STATUS:
                    status = decode_payload(frame.msg_type, frame.payload)
                    assert isinstance(status, Status)
                    seen.append(
                        Seen(at, FwState(status.state), status.faults, status.hv_bank_mv / 1000)
                    )
    finally:
        os.close(fd)
    return seen


def _run_to_the_end(rig: Path, store: Path, *, acknowledge: bool) -> Path:
    """A whole session (at 5 kHz, to keep it short) must complete after all the kills."""
    done = subprocess.run(
        [*_run_args(rig, store, acknowledge=acknowledge, rate="5000"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["outcome"] == "completed"
    assert summary["pulses_delivered"] == summary["pulses_planned"]
    return Path(summary["journal"])


def _expect_refused_without_acknowledgement(rig: Path, store: Path) -> None:
    refused = subprocess.run(
        [*_run_args(rig, store, acknowledge=False), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1, refused.stderr[-2000:]
    summary = json.loads(refused.stdout)
    assert summary["outcome"] == "aborted"
    assert summary["stop_reason"] == "generator-fault"
    assert "--acknowledge-fault" in summary["message"]
    assert summary["pulses_delivered"] == 0


# -- checks -------------------------------------------------------------------------


def _firmware_port(rig: Path) -> str:
    config = load_rig(rig)
    assert config.firmware is not None
    return config.firmware.url


def _check_killed_session(this: Round, seen_before_kill: list[dict[str, Any]]) -> None:
    assert this.session is not None
    session = Session.read(this.session)
    this.lines = session.integrity.lines
    this.integrity = str(session.integrity.status)
    assert session.integrity.ok, session.integrity.describe()
    assert session.integrity.verified == session.integrity.lines
    assert session.outcome == "interrupted"
    # Whatever the journal held when the kill was decided is still there and verifies.
    assert session.integrity.lines >= len(seen_before_kill)
    assert [d["seq"] for d in session.documents[: len(seen_before_kill)]] == [
        d["seq"] for d in seen_before_kill
    ]
    this.intents = [int(i["train_id"]) for i in session.intents]
    last_intent = session.intents[-1]["train"] if session.intents else None
    this.fired_last = any(
        e.get("event") == "state"
        and e.get("state") == "FIRING"
        and e.get("reason") == f"train {last_intent} fired"
        for e in session.events
    )


def _check_generator_safe(this: Round) -> None:
    """The firmware makes itself safe with no host: the watchdog faults while HV is live."""
    assert this.seen, "the observer saw no STATUS frame after the kill"
    last = this.seen[-1]
    # A silent session ends without a fault only when nothing is live: IDLE, or DONE
    # (dump resistor closed, bank discharging). Anything else means the watchdog let HV be.
    assert last.state in (FwState.IDLE, FwState.DONE, FwState.FAULT), (
        f"the firmware went quiet in {last.state.name} ({this.states})"
    )
    if this.link_lost_at is not None or last.state == FwState.FAULT:
        assert this.link_lost_at is not None, f"FAULT without LINK_LOST ({this.states})"
        assert this.link_lost_at <= WATCHDOG_S + SLACK_S, (
            f"LINK_LOST seen {this.link_lost_at * 1e3:.0f} ms after the kill"
        )
        assert this.safe_at is not None and this.safe_at <= WATCHDOG_S + SLACK_S + 0.15, (
            f"no discharged FAULT status within {WATCHDOG_S + SLACK_S + 0.15:g} s of the kill"
        )


def _check_next_start(session_dir: Path) -> None:
    """The next host finds the generator IDLE or FAULT with its bank discharged."""
    session = Session.read(session_dir)
    preflight = next(e for e in session.events if e.get("event") == "preflight")
    assert preflight["generator_state"] in ("IDLE", "FAULT")
    assert preflight["hv_bank_v"] < SAFE_V


def _check_reconcile(session_dir: Path, all_intents: set[int], rounds: list[Round]) -> None:
    """The next session records the firmware's last train, which has its intent on disk."""
    session = Session.read(session_dir)
    reconciles = [e for e in session.events if e.get("event") == "reconcile"]
    past_preflight = any(e.get("state") == "READY" for e in session.events)
    if not reconciles:
        # Killed before reconciling, or a generator that never fired: no record to report.
        fired = any(r.fired_last for r in rounds)
        assert not (past_preflight and fired), f"{session_dir.name}: no reconcile event"
        return
    previous = rounds[-1]
    train_id = int(reconciles[0]["train_id"])
    assert train_id in all_intents, f"train {train_id} fired without an intent on disk"
    if previous.fired_last:
        assert train_id == previous.intents[-1]
    if previous.link_lost_at is not None and past_preflight:
        # The operator's acknowledgement is journalled with the code it cleared.
        cleared = [e for e in session.events if e.get("action") == "clear-fault"]
        assert [e["code"] for e in cleared] == ["LINK_LOST"]


def _report(rounds: list[Round]) -> str:
    lines = [
        f"{'#':>2} {'moment':<15} {'delay ms':>8} {'lines':>5} {'chain':<6} {'intents':>7} "
        f"{'fired':<5} {'LINK_LOST ms':>12} {'safe ms':>7} {'ack':<3}  generator after the kill"
    ]
    for number, r in enumerate(rounds, start=1):
        lost = "-" if r.link_lost_at is None else f"{r.link_lost_at * 1e3:.0f}"
        safe = "-" if r.safe_at is None else f"{r.safe_at * 1e3:.0f}"
        lines.append(
            f"{number:>2} {r.moment:<15} {r.delay_s * 1e3:>8.1f} {r.lines:>5} {r.integrity:<6} "
            f"{len(r.intents):>7} {'yes' if r.fired_last else 'no':<5} {lost:>12} {safe:>7} "
            f"{'yes' if r.acknowledged else 'no':<3}  {r.states}"
        )
    return "\n".join(lines)
