"""Tampering shows at the right line; untouched and crash-cut sessions verify."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulsehost.journal import JournalWriter, Session, WaveformBlock
from pulsehost.journal.sample import sample_start, write_sample_session

FAST = settings(
    max_examples=int(os.environ.get("JOURNAL_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """Journal and waveform bytes of a small complete session (2 trains x 4 pulses)."""
    store = tmp_path_factory.mktemp("store")
    writer = write_sample_session(store, trains=2, pulses_per_train=4, samples=48, seed=3)
    return (
        (writer.directory / "journal.jsonl").read_bytes(),
        (writer.directory / "waveforms.bin").read_bytes(),
    )


class Copy:
    """A session directory holding given bytes, in a fresh temporary folder."""

    def __init__(self, journal: bytes, waveforms: bytes) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.directory = Path(self._tmp.name) / "20250101T000000Z_0123abcd"
        self.directory.mkdir()
        (self.directory / "journal.jsonl").write_bytes(journal)
        (self.directory / "waveforms.bin").write_bytes(waveforms)

    def __enter__(self) -> Path:
        return self.directory

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()


def verdict(journal: bytes, waveforms: bytes) -> Session:
    with Copy(journal, waveforms) as directory:
        return Session.read(directory)


def test_untouched_sample_session_is_intact(original: tuple[bytes, bytes]) -> None:
    session = verdict(*original)
    assert session.integrity.status == "intact"
    assert session.integrity.verified == original[0].count(b"\n")
    assert session.integrity.final_hash == session.stop["hash"]  # type: ignore[index]
    assert session.outcome == "completed"


@FAST
@given(data=st.data())
def test_any_single_byte_change_in_the_journal_breaks_at_its_line(
    original: tuple[bytes, bytes], data: st.DataObject
) -> None:
    journal, waveforms = original
    position = data.draw(st.integers(0, len(journal) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != journal[position]), label="byte")
    changed = journal[:position] + bytes([value]) + journal[position + 1 :]
    integrity = verdict(changed, waveforms).integrity
    assert integrity.status == "broken", integrity
    assert integrity.line == journal[:position].count(b"\n") + 1, integrity


@FAST
@given(data=st.data())
def test_any_changed_waveform_byte_breaks_the_pulse_that_references_it(
    original: tuple[bytes, bytes], data: st.DataObject
) -> None:
    journal, waveforms = original
    position = data.draw(st.integers(0, len(waveforms) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != waveforms[position]))
    changed = waveforms[:position] + bytes([value]) + waveforms[position + 1 :]
    owner = None
    for number, line in enumerate(journal.splitlines(), start=1):
        for ref in json.loads(line).get("waveforms", {}).values():
            if ref["byte_offset"] <= position < ref["byte_offset"] + ref["byte_length"]:
                owner = number
    integrity = verdict(journal, changed).integrity
    assert integrity.status == "broken" and integrity.line == owner, integrity
    assert "waveform" in (integrity.reason or "")


@FAST
@given(data=st.data())
def test_a_deleted_line_breaks_at_its_place(
    original: tuple[bytes, bytes], data: st.DataObject
) -> None:
    journal, waveforms = original
    lines = journal.splitlines(keepends=True)
    gone = data.draw(st.integers(0, len(lines) - 2), label="deleted line index")
    integrity = verdict(b"".join(lines[:gone] + lines[gone + 1 :]), waveforms).integrity
    assert integrity.status == "broken" and integrity.line == gone + 1, integrity


def test_deleting_the_stop_line_reads_as_interrupted(original: tuple[bytes, bytes]) -> None:
    # Cutting a journal at a line boundary looks exactly like a crash; that is why
    # such a session reads as interrupted and can never pass for a completed one.
    journal, waveforms = original
    lines = journal.splitlines(keepends=True)
    session = verdict(b"".join(lines[:-1]), waveforms)
    assert session.integrity.status == "intact"
    assert session.outcome == "interrupted" and session.stop is None


@FAST
@given(data=st.data())
def test_reordered_lines_break_at_the_first_moved_line(
    original: tuple[bytes, bytes], data: st.DataObject
) -> None:
    journal, waveforms = original
    lines = journal.splitlines(keepends=True)
    order = data.draw(st.permutations(range(len(lines))).filter(lambda p: list(p) != sorted(p)))
    first_moved = next(i for i, j in enumerate(order) if i != j)
    integrity = verdict(b"".join(lines[i] for i in order), waveforms).integrity
    assert integrity.status == "broken" and integrity.line == first_moved + 1, integrity


@FAST
@given(cut=st.integers(1, 10_000))
def test_a_journal_cut_mid_line_is_torn_and_the_rest_verifies(
    original: tuple[bytes, bytes], cut: int
) -> None:
    journal, waveforms = original
    end = len(journal) - 1 - (cut % (len(journal) - 1))  # keep at least one byte
    if journal[end - 1 : end] == b"\n":
        end -= 1  # cutting right after a newline is a clean cut, tested elsewhere
    session = verdict(journal[:end], waveforms)
    complete = journal[:end].count(b"\n")
    assert session.integrity.status == "torn", session.integrity
    assert session.integrity.line == complete + 1
    assert session.integrity.verified == complete
    assert session.outcome == "interrupted"


def test_appended_garbage_after_the_last_newline_is_torn_but_bytes_after_a_document_are_not(
    original: tuple[bytes, bytes],
) -> None:
    journal, waveforms = original
    assert verdict(journal + b'{"kind":"ev', waveforms).integrity.status == "torn"
    last = journal.rstrip(b"\n").rsplit(b"\n", 1)[1]
    integrity = verdict(journal.rstrip(b"\n") + b" ", waveforms).integrity
    assert integrity.status == "broken" and integrity.line == journal.count(b"\n")
    assert verdict(journal + last, waveforms).integrity.status == "torn"  # no newline: unfinished


def test_a_truncated_waveform_file_breaks_at_the_first_pulse_that_loses_bytes(
    original: tuple[bytes, bytes],
) -> None:
    journal, waveforms = original
    integrity = verdict(journal, waveforms[:100]).integrity
    first_pulse = next(
        n for n, line in enumerate(journal.splitlines(), 1) if b'"kind":"pulse"' in line
    )
    assert integrity.status == "broken" and integrity.line == first_pulse
    assert "truncated" in (integrity.reason or "")


def test_a_rehashed_edit_is_caught_at_the_next_line(original: tuple[bytes, bytes]) -> None:
    journal, waveforms = original
    from pulsehost.journal.canonical import canonical_json, document_hash

    lines = journal.splitlines(keepends=True)
    document = json.loads(lines[3])
    document["note"] = "inserted later"
    document["hash"] = document_hash(document)  # a forger can recompute one line's hash
    lines[3] = canonical_json(document) + b"\n"
    integrity = verdict(b"".join(lines), waveforms).integrity
    assert integrity.status == "broken" and integrity.line == 5
    assert "prev" in (integrity.reason or "")


# --- untouched sessions with arbitrary content always verify -------------------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
body_keys = st.text(min_size=1, max_size=12).filter(
    lambda k: k not in {"kind", "seq", "utc", "mono_ns", "prev", "hash", "event", "waveforms"}
)
bodies = st.dictionaries(body_keys, json_value, max_size=6)


def normalised(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("arbitrary")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(bodies, max_size=4),
    pulses=st.lists(
        st.tuples(bodies, st.lists(st.integers(-128, 127), max_size=30)), min_size=1, max_size=3
    ),
    stop=bodies,
)
def test_sessions_with_arbitrary_content_verify_and_read_back_as_written(
    scratch: Path, events: list[dict], pulses: list[tuple[dict, list[int]]], stop: dict
) -> None:
    with JournalWriter.create(scratch, sample_start(1, 1)) as writer:
        for body in events:
            writer.event({**body, "kind": "note"})
        for index, (body, codes) in enumerate(pulses, start=1):
            block = WaveformBlock(np.array(codes, np.int8), 0.1, 0.0, 0.0, 0.0, 1e-6, "V")
            writer.pulse({**body, "index": index, "verdict": "ok"}, {"voltage": block})
        writer.stop({**stop, "outcome": "completed"})
    session = Session.read(writer.directory)
    assert session.integrity.status == "intact", session.integrity
    assert [e["event"] for e in session.events] == ["note"] * len(events)
    for event, body in zip(session.events, events, strict=True):
        assert {k: event[k] for k in body} == normalised(body)
    for index, (document, (body, codes)) in enumerate(zip(session.pulses, pulses, strict=True)):
        assert {k: document[k] for k in body} == normalised(body)
        assert session.waveforms(index + 1)["voltage"].codes.tolist() == codes
    shutil.rmtree(writer.directory)


def test_every_replacement_of_the_final_newline_breaks_the_last_line(
    original: tuple[bytes, bytes],
) -> None:
    journal, waveforms = original
    last_line = journal.count(b"\n")
    for value in range(256):
        if value == ord("\n"):
            continue
        integrity = verdict(journal[:-1] + bytes([value]), waveforms).integrity
        assert (integrity.status, integrity.line) == ("broken", last_line), (value, integrity)
