"""Reading sessions back: documents, outcome, waveforms, seals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pulsehost.journal import JournalReadError, JournalWriter, Session
from pulsehost.journal.canonical import canonical_json, document_hash


def test_a_completed_96_pulse_session_reads_back_whole(
    make_session: Callable[..., JournalWriter],
) -> None:
    writer = make_session()
    session = Session.read(writer.directory)
    assert session.integrity.status == "intact" and session.integrity.seal == "unsealed"
    assert session.session_id == writer.session_id and session.short_id == writer.session_id[:8]
    assert session.outcome == "completed" and session.simulated
    assert len(session.pulses) == 96 and len(session.intents) == 12
    assert [p["index"] for p in session.pulses] == list(range(1, 97))
    assert session.pulses_planned == 96 and session.pulses_delivered == 96
    assert session.events[0]["event"] == "state"
    kinds = [d["kind"] for d in session.documents]
    assert kinds[0] == "start" and kinds[-1] == "stop"


def test_waveforms_come_back_as_the_codes_written(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    from pulsehost.journal.sample import sample_pulse

    writer = make_session(trains=1, pulses_per_train=3, seed=11)
    rng = np.random.default_rng(11)
    session = Session.read(writer.directory)
    for index in (1, 2, 3):
        _, expected = sample_pulse(
            rng, index=index, train=1, pulse=index, pair=(0, 1), target_v=800.0, samples=400
        )
        loaded = session.waveforms(index)
        assert set(loaded) == {"voltage", "current"}
        for channel, block in expected.items():
            assert loaded[channel].codes.dtype == block.codes.dtype
            np.testing.assert_array_equal(loaded[channel].codes, block.codes)
            np.testing.assert_array_equal(loaded[channel].values(), block.values())
            np.testing.assert_array_equal(loaded[channel].time_s(), block.time_s())
            assert loaded[channel].units == block.units


def test_a_session_without_stop_reads_as_interrupted_with_the_plan_count(
    make_session: Callable[..., JournalWriter],
) -> None:
    session = Session.read(make_session(outcome="interrupted", stop_after=20).directory)
    assert session.outcome == "interrupted" and session.stop is None
    assert session.pulses_delivered == 20 and session.pulses_planned == 96
    assert session.integrity.status == "intact"


def test_unknown_pulse_and_altered_samples_are_read_errors(
    make_session: Callable[..., JournalWriter],
) -> None:
    writer = make_session(trains=1, pulses_per_train=2)
    session = Session.read(writer.directory)
    with pytest.raises(JournalReadError, match="has no pulse 9"):
        session.waveforms(9)
    ref = session.pulses[1]["waveforms"]["current"]
    with open(writer.directory / "waveforms.bin", "r+b") as handle:
        handle.seek(ref["byte_offset"] + 3)
        handle.write(b"\x55")
    with pytest.raises(JournalReadError, match=r"pulse 2 'current'.*missing or altered"):
        session.waveforms(2)
    assert Session.read(writer.directory).integrity.line == session.integrity.lines - 3


def test_a_directory_without_a_journal_is_not_a_session(tmp_path: Path) -> None:
    with pytest.raises(JournalReadError, match=r"holds no journal\.jsonl"):
        Session.read(tmp_path)


def sealed(make_session: Callable[..., JournalWriter]) -> Path:
    return make_session(trains=1, pulses_per_train=2, seal_key=b"site key").directory


def test_seal_is_valid_with_the_key_and_unchecked_without(
    make_session: Callable[..., JournalWriter],
) -> None:
    directory = sealed(make_session)
    assert Session.read(directory, seal_key=b"site key").integrity.seal == "valid"
    unchecked = Session.read(directory).integrity
    assert unchecked.status == "intact" and unchecked.seal == "not checked"
    assert "seal not checked" in unchecked.describe()
    plain = make_session(trains=1, pulses_per_train=1).directory
    assert Session.read(plain, seal_key=b"site key").integrity.seal == "unsealed"


def test_a_wrong_key_breaks_the_stop_line_and_says_so(
    make_session: Callable[..., JournalWriter], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = sealed(make_session)
    monkeypatch.setenv("PULSEHOST_SEAL_KEY", "another key")
    integrity = Session.read(directory).integrity
    assert integrity.status == "broken" and integrity.seal == "invalid"
    assert integrity.line == integrity.lines
    assert "different" not in (integrity.reason or "") and "key id" in (integrity.reason or "")


def test_a_forger_without_the_key_cannot_reseal_an_edited_outcome(
    make_session: Callable[..., JournalWriter],
) -> None:
    directory = sealed(make_session)
    path = directory / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    stop = json.loads(lines[-1])
    stop["pulses_delivered"] = 1  # edit, then recompute the chain as anyone can
    stop["hash"] = document_hash(stop)
    lines[-1] = canonical_json(stop) + b"\n"
    path.write_bytes(b"".join(lines))
    assert Session.read(directory).integrity.status == "intact"  # the chain alone holds
    integrity = Session.read(directory, seal_key=b"site key").integrity
    assert integrity.status == "broken" and integrity.seal == "invalid"
    assert "altered after sealing" in (integrity.reason or "")
