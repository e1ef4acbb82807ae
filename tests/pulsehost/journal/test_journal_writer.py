"""The writer: layout on disk, document envelope, body rules, failures, sealing."""

from __future__ import annotations

import enum
import errno
import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pulsehost.journal import JournalClock, JournalError, JournalWriter, Session, WaveformBlock
from pulsehost.journal.sample import sample_start

START = sample_start(trains=1, pulses_per_train=2)


class Level(enum.Enum):
    WARN = "warn"


@dataclass(frozen=True)
class Telemetry:
    train_id: int
    flags: frozenset[str]
    width_us: float


def lines(writer: JournalWriter) -> list[dict]:
    return [json.loads(line) for line in writer.journal_path.read_bytes().splitlines()]


def block(codes: list[int], dtype: str = "int16", **overrides: object) -> WaveformBlock:
    fields = {"scale": 0.5, "offset": 1.0, "reference": 2.0, "t0_s": -1e-6, "dt_s": 1e-7}
    fields.update(overrides)
    return WaveformBlock(np.array(codes, dtype=dtype), units="V", **fields)  # type: ignore[arg-type]


def pulse_body(index: int = 1, **extra: object) -> dict:
    return {"index": index, "train": 1, "pulse": index, "pair": [0, 1], "verdict": "ok", **extra}


def test_create_names_the_directory_after_utc_start_and_short_id(
    store: Path, clock: JournalClock
) -> None:
    writer = JournalWriter.create(store, START, clock=clock)
    writer.close()
    assert writer.directory.parent == store
    assert writer.directory.name == f"20250303T110640Z_{writer.session_id[:8]}"
    assert sorted(p.name for p in writer.directory.iterdir()) == ["journal.jsonl", "waveforms.bin"]
    assert [p.name for p in store.iterdir()] == [writer.directory.name]  # no staging left
    (start,) = lines(writer)
    assert start["kind"] == "start" and start["seq"] == 0 and start["prev"] == "0" * 64
    assert start["session_id"] == writer.session_id
    assert start["journal"] == {"format": "pulsehost-journal", "version": 1}
    assert start["utc"] == "2025-03-03T11:06:40.124456Z"
    assert start["protocol"]["text"] == START["protocol"]["text"]


def test_documents_chain_in_order_with_both_clocks(store: Path, clock: JournalClock) -> None:
    with JournalWriter.create(store, START, clock=clock) as writer:
        writer.event({"kind": "state", "from": "IDLE", "to": "READY"})
        writer.intent({"train": 1})
        writer.pulse(pulse_body(), {"voltage": block([1, 2, 3])})
        writer.stop({"outcome": "completed", "reason": None})
    documents = lines(writer)
    assert [d["kind"] for d in documents] == ["start", "event", "intent", "pulse", "stop"]
    assert [d["seq"] for d in documents] == [0, 1, 2, 3, 4]
    for before, after in itertools.pairwise(documents):
        assert after["prev"] == before["hash"]
        assert after["mono_ns"] > before["mono_ns"] and after["utc"] > before["utc"]
    assert documents[1]["event"] == "state" and documents[1]["to"] == "READY"


def test_hash_is_sha256_of_canonical_json_then_block_bytes_in_channel_order(store: Path) -> None:
    # Recomputed from the definition in docs/journal-format.md, not with the package's code.
    current, voltage = block([-5, 7], "int16"), block([200, 3], "uint8")
    with JournalWriter.create(store, START) as writer:
        writer.pulse(pulse_body(), {"voltage": voltage, "current": current})
    raw_line = writer.journal_path.read_bytes().splitlines()[1]
    document = json.loads(raw_line)
    stored = document.pop("hash")
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(
        canonical.encode() + np.array([-5, 7], "<i2").tobytes() + bytes([200, 3])
    ).hexdigest()
    assert stored == expected
    assert (
        raw_line
        == json.dumps(
            {**document, "hash": stored}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    data = (writer.directory / "waveforms.bin").read_bytes()
    refs = document["waveforms"]
    assert refs["current"]["byte_offset"] == 0 and refs["current"]["dtype"] == "<i2"
    assert refs["voltage"]["byte_offset"] == 4 and refs["voltage"]["dtype"] == "|u1"
    for ref in refs.values():
        chunk = data[ref["byte_offset"] : ref["byte_offset"] + ref["byte_length"]]
        assert hashlib.sha256(chunk).hexdigest() == ref["sha256"]


def test_values_follow_the_documented_scaling(store: Path) -> None:
    with JournalWriter.create(store, START) as writer:
        writer.pulse(pulse_body(), {"voltage": block([10, -4], "int8")})
    loaded = Session.read(writer.directory).waveforms(1)["voltage"]
    assert loaded.codes.tolist() == [10, -4]
    assert loaded.values().tolist() == [(10 - 2.0) * 0.5 + 1.0, (-4 - 2.0) * 0.5 + 1.0]
    assert loaded.time_s().tolist() == [-1e-6, -1e-6 + 1e-7]


def test_free_text_is_stored_exactly_and_numpy_values_become_json(store: Path) -> None:
    note = 'electrode "A" moved;\n\tline 2 — ünïcode ✓ \\ {"kind":"stop"}'
    with JournalWriter.create(store, START) as writer:
        writer.event(
            {
                "kind": "operator",
                "note": note,
                "v": np.float32(1.5),
                "n": np.int64(7),
                "flag": np.bool_(True),
                "trace": np.array([1, 2]),
                "bad": float("nan"),
                "inf": float("-inf"),
                "pair": (2, 3),
                "flags": frozenset({"OC", "ARC"}),
                "level": Level.WARN,
                "telemetry": Telemetry(3, frozenset({"UV"}), 99.5),
            }
        )
    event = Session.read(writer.directory).events[0]
    assert event["note"] == note
    assert event["flags"] == ["ARC", "OC"] and event["level"] == "warn"
    assert event["telemetry"] == {"train_id": 3, "flags": ["UV"], "width_us": 99.5}
    assert event["v"] == 1.5 and event["n"] == 7 and event["flag"] is True
    assert event["trace"] == [1, 2] and event["pair"] == [2, 3]
    assert event["bad"] is None and event["inf"] is None


@pytest.mark.parametrize(
    ("method", "body", "message"),
    [
        ("event", {"note": "x"}, "needs 'kind'"),
        ("event", {"kind": "state", "event": "x"}, "may not hold 'event'"),
        ("event", {"kind": "state", "seq": 4}, "may not set seq"),
        ("intent", {"hash": "0"}, "may not set hash"),
        ("intent", {"when": object()}, "field 'intent.when' holds a object"),
        ("intent", {1: "x"}, "string keys"),
        ("intent", {"text": "\ud800"}, "not valid Unicode"),
        ("pulse", {"verdict": "ok"}, "needs 'index'"),
        ("pulse", {"index": 0, "verdict": "ok"}, "needs 'index'"),
        ("pulse", {"index": 1, "verdict": "fine"}, "expected one of ok, warn, stop, unmeasured"),
        ("pulse", {"index": 1, "verdict": "ok", "waveforms": {}}, "may not set waveforms"),
        ("stop", {"outcome": "done"}, "completed, aborted, fault, interrupted"),
        ("stop", {"outcome": "completed", "seal": {}}, "may not set seal"),
    ],
)
def test_bad_bodies_are_refused_and_the_writer_stays_usable(
    store: Path, method: str, body: dict, message: str
) -> None:
    with JournalWriter.create(store, START) as writer:
        with pytest.raises(JournalError, match=message):
            getattr(writer, method)(body)
        writer.event({"kind": "state", "to": "READY"})
    session = Session.read(writer.directory)
    assert session.integrity.status == "intact"
    assert [d["kind"] for d in session.documents] == ["start", "event"]


@pytest.mark.parametrize(
    ("channel", "waveform", "message"),
    [
        ("voltage", block([1.5], "float64"), "use int8, uint8, int16 or uint16"),
        ("voltage", WaveformBlock(np.zeros((2, 2), "int8"), 1, 0, 0, 0, 1e-9, "V"), "1-D"),
        ("voltage", block([1], dt_s=0.0), "dt_s must be positive"),
        ("voltage", block([1], scale=float("nan")), "scale must be a finite number"),
        ("volt age", block([1]), "channel name"),
    ],
)
def test_bad_waveforms_are_refused(
    store: Path, channel: str, waveform: WaveformBlock, message: str
) -> None:
    with JournalWriter.create(store, START) as writer, pytest.raises(JournalError, match=message):
        writer.pulse(pulse_body(), {channel: waveform})
    assert (writer.directory / "waveforms.bin").stat().st_size == 0


def test_start_needs_to_say_whether_the_bench_is_simulated(store: Path) -> None:
    with pytest.raises(JournalError, match="'simulated': true or false"):
        JournalWriter.create(store, {k: v for k, v in START.items() if k != "simulated"})
    with pytest.raises(JournalError, match="may not set session_id"):
        JournalWriter.create(store, {**START, "session_id": "mine"})
    assert not store.exists() or list(store.iterdir()) == []


def test_unwritable_store_is_a_journal_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(JournalError, match=f"cannot create the session store {blocker}/s"):
        JournalWriter.create(blocker / "s", START)


def test_a_failed_write_stops_the_writer_and_leaves_a_readable_prefix(
    store: Path, mocker: pytest.MockFixture
) -> None:
    writer = JournalWriter.create(store, START)
    writer.pulse(pulse_body(1), {"voltage": block([1, 2])})
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[:10])  # part of the line reaches the disk, then ENOSPC
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    mocker.patch("pulsehost.journal.writer.os.write", side_effect=disk_full)
    with pytest.raises(JournalError, match="No space left on device; delivery must stop"):
        writer.intent({"train": 2})
    mocker.stopall()
    with pytest.raises(JournalError, match="no more documents after a failed write"):
        writer.stop({"outcome": "fault"})
    writer.close()
    session = Session.read(writer.directory)
    assert session.integrity.status == "torn" and session.integrity.line == 3
    assert session.integrity.verified == 2 and session.outcome == "interrupted"


def test_nothing_may_follow_stop_and_close_is_idempotent(store: Path) -> None:
    writer = JournalWriter.create(store, START)
    writer.stop({"outcome": "aborted", "reason": "E_STOP"})
    with pytest.raises(JournalError, match="already stopped"):
        writer.event({"kind": "state"})
    writer.close()
    writer.close()
    with pytest.raises(JournalError, match="is closed"):
        writer.event({"kind": "state"})


def test_seal_is_recorded_when_a_key_is_set(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSEHOST_SEAL_KEY", "site secret")
    with JournalWriter.create(store, START) as writer:
        writer.stop({"outcome": "completed"})
    stop = lines(writer)[-1]
    assert stop["seal"]["alg"] == "HMAC-SHA256"
    assert "site secret" not in writer.journal_path.read_text()
    assert Session.read(writer.directory).integrity.seal == "valid"
