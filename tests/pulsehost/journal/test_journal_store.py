"""Finding sessions by id or prefix, the default store, and the listing index."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pulsehost.journal import (
    AmbiguousSessionError,
    JournalWriter,
    SessionNotFoundError,
    default_store,
    list_sessions,
    open_session,
)
from pulsehost.journal import index as index_module
from pulsehost.journal.index import INDEX_FILE


def test_default_store_comes_from_the_environment_or_the_platform_dir(tmp_path: Path) -> None:
    assert default_store({"PULSEHOST_STORE": str(tmp_path)}) == tmp_path
    fallback = default_store({})
    assert fallback.name == "sessions" and "pulsehost" in str(fallback)


def test_sessions_open_by_full_id_prefix_directory_name_or_path(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    writer = make_session(trains=1, pulses_per_train=1)
    sid = writer.session_id
    for given in (sid, sid[:4], sid[:12].upper(), writer.directory.name, str(writer.directory)):
        assert open_session(store, given).session_id == sid


def test_a_long_prefix_must_match_the_full_id(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    writer = make_session(trains=1, pulses_per_train=1)
    wrong = writer.session_id[:8] + ("0" if writer.session_id[8] != "0" else "1")
    with pytest.raises(SessionNotFoundError, match=f"no session '{wrong}'"):
        open_session(store, wrong)


def test_unknown_ids_name_the_store_and_the_newest_sessions(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    writer = make_session(trains=1, pulses_per_train=1)
    with pytest.raises(SessionNotFoundError) as caught:
        open_session(store, "zzzz")
    assert str(store) in str(caught.value) and writer.directory.name in str(caught.value)
    with pytest.raises(SessionNotFoundError, match="does not exist"):
        open_session(store / "nowhere", "abc")
    with pytest.raises(SessionNotFoundError, match="empty session id"):
        open_session(store, " ")


def test_ambiguous_prefixes_list_the_candidates(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    names = {make_session(trains=1, pulses_per_train=1).directory.name for _ in range(3)}
    with pytest.raises(AmbiguousSessionError) as caught:
        open_session(store, "20")  # every directory name starts with the year
    assert set(caught.value.candidates) == names
    assert "matches 3 sessions" in str(caught.value)


def test_listing_is_newest_first_with_the_summary_fields(
    store: Path, make_session: Callable[..., JournalWriter], clock: object
) -> None:
    first = make_session(trains=2, pulses_per_train=4, clock=clock)
    second = make_session(
        trains=2, pulses_per_train=4, outcome="aborted", stop_after=3, clock=clock
    )
    third = make_session(trains=2, pulses_per_train=4, outcome="interrupted", stop_after=5)
    listed = list_sessions(store)
    assert [s.session_id for s in listed] == [
        third.session_id,
        second.session_id,
        first.session_id,
    ]
    by_id = {s.session_id: s for s in listed}
    assert by_id[first.session_id].outcome == "completed"
    assert (by_id[first.session_id].pulses_delivered, by_id[first.session_id].pulses_planned) == (
        8,
        8,
    )
    aborted = by_id[second.session_id]
    assert (aborted.outcome, aborted.reason, aborted.pulses_delivered) == (
        "aborted",
        "OPERATOR_ABORT",
        3,
    )
    interrupted = by_id[third.session_id]
    assert (interrupted.outcome, interrupted.pulses_delivered, interrupted.pulses_planned) == (
        "interrupted",
        5,
        8,
    )
    assert interrupted.protocol == "esope-needle-row 2018.1"
    assert interrupted.operator == "operator-1" and interrupted.simulated


def test_the_index_cache_is_reused_and_rebuilt_for_changed_journals(
    store: Path, make_session: Callable[..., JournalWriter], mocker: pytest.MockFixture
) -> None:
    writers = [make_session(trains=1, pulses_per_train=2) for _ in range(3)]
    first = list_sessions(store)
    assert (store / INDEX_FILE).is_file()
    spy = mocker.spy(index_module, "summarize")
    assert list_sessions(store) == first
    assert spy.call_count == 0
    # A session that goes on (another process still writing) is summarised again.
    target = writers[1].directory / "journal.jsonl"
    target.write_bytes(target.read_bytes().rsplit(b"\n", 2)[0] + b"\n")
    changed = {s.session_id: s for s in list_sessions(store)}
    assert spy.call_count == 1
    assert changed[writers[1].session_id].outcome == "interrupted"


def test_a_corrupt_index_is_ignored_and_rewritten(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    make_session(trains=1, pulses_per_train=1)
    expected = list_sessions(store, use_cache=False)
    (store / INDEX_FILE).write_text('{"version": 1, "sessions": {"x": [')
    assert list_sessions(store) == expected
    index = json.loads((store / INDEX_FILE).read_text())
    for entry in index["sessions"].values():
        entry["summary"] = {"session_id": "forged"}  # right key, unusable summary
    (store / INDEX_FILE).write_text(json.dumps(index))
    assert list_sessions(store) == expected


def test_listing_ignores_staging_and_foreign_entries(
    store: Path, make_session: Callable[..., JournalWriter]
) -> None:
    writer = make_session(trains=1, pulses_per_train=1)
    (store / ".creating-20250101T000000Z_00000000").mkdir()
    (store / "notes.txt").write_text("hello")
    (store / "20250101T000000Z_deadbeef").mkdir()  # no journal yet
    assert [s.session_id for s in list_sessions(store)] == [writer.session_id]
    assert list_sessions(store / "missing") == []
