"""Exports read back with the standard tools: json, csv, numpy."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pulsehost.journal import JournalClock, JournalWriter, Session
from pulsehost.journal.export import write_csv, write_json, write_npz


def aborted(make_session: Callable[..., JournalWriter]) -> Session:
    writer = make_session(trains=2, pulses_per_train=4, outcome="aborted", stop_after=6)
    return Session.read(writer.directory)


def test_json_export_holds_session_outcome_and_every_pulse(
    make_session: Callable[..., JournalWriter],
) -> None:
    session = aborted(make_session)
    out = io.StringIO()
    write_json(session, out)
    document = json.loads(out.getvalue())
    assert document["format"] == "pulsehost-session/1"
    meta = document["session"]
    assert meta["session_id"] == session.session_id and meta["outcome"] == "aborted"
    assert meta["reason"] == "OPERATOR_ABORT" and meta["simulated"] is True
    assert (meta["pulses_delivered"], meta["pulses_planned"]) == (6, 8)
    assert meta["integrity"]["status"] == "intact"
    assert meta["protocol"]["text"] == session.start["protocol"]["text"]
    assert len(document["pulses"]) == 6
    for exported, original in zip(document["pulses"], session.pulses, strict=True):
        for key in ("index", "train", "pair", "target_v", "voltage_v", "current_a", "width_us"):
            assert exported[key] == original[key]
        for key in ("resistance_ohm", "energy_j", "verdict", "findings", "utc"):
            assert exported[key] == original[key]
        assert exported["channels"] == ["current", "voltage"]
        assert "hash" not in exported and "waveforms" not in exported
    assert [e["event"] for e in document["events"]][:2] == ["state", "state"]


def test_json_export_names_every_pulse_field_even_when_absent(
    store: Path, clock: JournalClock
) -> None:
    from pulsehost.journal.sample import sample_start

    with JournalWriter.create(store, sample_start(1, 1), clock=clock) as writer:
        writer.pulse({"index": 1, "verdict": "unmeasured", "voltage_v": float("nan")})
    out = io.StringIO()
    write_json(Session.read(writer.directory), out)
    (pulse,) = json.loads(out.getvalue())["pulses"]
    assert pulse["voltage_v"] is None and pulse["energy_j"] is None and pulse["findings"] == []
    assert json.loads(out.getvalue())["session"]["outcome"] == "interrupted"


def test_csv_has_one_row_per_pulse_with_findings_as_text(
    make_session: Callable[..., JournalWriter],
) -> None:
    session = aborted(make_session)
    out = io.StringIO()
    write_csv(session, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == len(session.pulses)
    for row, pulse in zip(rows, session.pulses, strict=True):
        assert int(row["index"]) == pulse["index"]
        assert [int(row["pair_a"]), int(row["pair_b"])] == pulse["pair"]
        assert float(row["voltage_v"]) == pulse["voltage_v"]
        assert row["verdict"] == pulse["verdict"]


def test_npz_holds_codes_values_and_time_for_every_block(
    make_session: Callable[..., JournalWriter],
) -> None:
    session = aborted(make_session)
    out = io.BytesIO()
    write_npz(session, out)
    out.seek(0)
    with np.load(out, allow_pickle=False) as data:
        assert data["pulse_index"].tolist() == [p["index"] for p in session.pulses]
        meta = json.loads(str(data["meta"]))
        assert meta["session_id"] == session.session_id and meta["outcome"] == "aborted"
        for pulse in session.pulses:
            for channel, block in session.waveforms(pulse).items():
                stem = f"p{pulse['index']:04d}_{channel}"
                np.testing.assert_array_equal(data[f"{stem}_codes"], block.codes)
                info = meta["blocks"][stem]
                values = (data[f"{stem}_codes"] - info["reference"]) * info["scale"] + info[
                    "offset"
                ]
                np.testing.assert_allclose(data[f"{stem}_values"], values)
                assert data[f"{stem}_time_s"].shape == block.codes.shape
                assert info["units"] == block.units
