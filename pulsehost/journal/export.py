"""Exports of a session for other tools: JSON, a CSV pulse table, NPZ waveforms.

The journal stays the record; an export is a convenient, derived copy.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from typing import IO, Any, TextIO

import numpy as np

from pulsehost.journal.session import Session

EXPORT_FORMAT = "pulsehost-session/1"
ENVELOPE = ("kind", "seq", "mono_ns", "prev", "hash")
PULSE_FIELDS = (
    "index",
    "train",
    "pulse",
    "pair",
    "target_v",
    "voltage_v",
    "current_a",
    "width_us",
    "resistance_ohm",
    "energy_j",
    "charge_uc",
    "v_peak_v",
    "i_peak_a",
    "verdict",
    "findings",
)
CSV_COLUMNS = (
    "index",
    "train",
    "pulse",
    "pair_a",
    "pair_b",
    "utc",
    *PULSE_FIELDS[4:-1],
    "findings",
)


def integrity_record(session: Session) -> dict[str, Any]:
    """The integrity verdict as plain JSON."""
    integrity = session.integrity
    return {
        "status": str(integrity.status),
        "line": integrity.line,
        "reason": integrity.reason,
        "verified_lines": integrity.verified,
        "lines": integrity.lines,
        "seal": str(integrity.seal),
        "final_hash": integrity.final_hash,
        "summary": integrity.describe(),
    }


def session_record(session: Session) -> dict[str, Any]:
    """The start document's content plus outcome, counts and integrity."""
    record = {k: v for k, v in session.start.items() if k not in ENVELOPE and k != "utc"}
    stop = session.stop or {}
    record.update(
        {
            "session_id": session.session_id,
            "directory": session.directory.name,
            "started_utc": session.start.get("utc"),
            "stopped_utc": stop.get("utc"),
            "outcome": session.outcome,
            "reason": stop.get("reason"),
            "message": stop.get("message"),
            "pulses_planned": session.pulses_planned,
            "pulses_delivered": session.pulses_delivered,
            "integrity": integrity_record(session),
        }
    )
    return record


def pulse_record(document: Mapping[str, Any]) -> dict[str, Any]:
    """A pulse without the chain fields; the named fields are always present (null if absent)."""
    record: dict[str, Any] = {name: document.get(name) for name in PULSE_FIELDS}
    if record["findings"] is None:
        record["findings"] = []
    for key, value in document.items():
        if key not in ENVELOPE and key != "waveforms" and key not in record:
            record[key] = value
    record["channels"] = sorted(document.get("waveforms") or {})
    return record


def event_record(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ENVELOPE}


def event_details(document: Mapping[str, Any]) -> dict[str, Any]:
    """An event's own fields: without the chain fields, its time and its kind."""
    return {k: v for k, v in event_record(document).items() if k not in ("utc", "event")}


def export_document(session: Session) -> dict[str, Any]:
    """Everything a reviewer needs without the waveforms, as one JSON object."""
    return {
        "format": EXPORT_FORMAT,
        "session": session_record(session),
        "pulses": [pulse_record(p) for p in session.pulses],
        "events": [event_record(e) for e in session.events],
        "intents": [event_record(i) for i in session.intents],
    }


def write_json(session: Session, out: TextIO) -> None:
    json.dump(export_document(session), out, ensure_ascii=False, indent=1)
    out.write("\n")


def findings_text(findings: Any) -> str:
    """`level CODE: message` per finding, separated by ` | `."""
    if not isinstance(findings, list):
        return ""
    parts = []
    for finding in findings:
        if isinstance(finding, Mapping):
            text = f"{finding.get('level', '?')} {finding.get('code', '?')}"
            parts.append(f"{text}: {finding['message']}" if finding.get("message") else text)
    return " | ".join(parts)


def write_csv(session: Session, out: TextIO) -> None:
    """One row per pulse; empty cells where a value is absent or null."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for document in session.pulses:
        pair = document.get("pair")
        a, b = pair if isinstance(pair, list) and len(pair) == 2 else (None, None)
        row = {**document, "pair_a": a, "pair_b": b}
        row["findings"] = findings_text(document.get("findings"))
        writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])


def npz_arrays(session: Session) -> dict[str, np.ndarray]:
    """Arrays for `numpy.savez`: `p<index>_<channel>_{codes,values,time_s}` per block,
    `pulse_index`, and `meta` (JSON text: session id, outcome, units and scaling per key)."""
    arrays: dict[str, np.ndarray] = {}
    channels: dict[str, Any] = {}
    indices = []
    for document in session.pulses:
        index = int(document["index"])
        indices.append(index)
        for channel, block in session.waveforms(document).items():
            stem = f"p{index:04d}_{channel}"
            arrays[f"{stem}_codes"] = block.codes
            arrays[f"{stem}_values"] = block.values()
            arrays[f"{stem}_time_s"] = block.time_s()
            channels[stem] = {
                "pulse": index,
                "channel": channel,
                "units": block.units,
                "scale": block.scale,
                "offset": block.offset,
                "reference": block.reference,
                "dtype": block.codes.dtype.str,
            }
    meta = {
        "format": EXPORT_FORMAT,
        "session_id": session.session_id,
        "outcome": session.outcome,
        "simulated": session.simulated,
        "formula": "values = (codes - reference) * scale + offset",
        "blocks": channels,
    }
    arrays["pulse_index"] = np.array(indices, dtype=np.int64)
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def write_npz(session: Session, out: IO[bytes]) -> None:
    np.savez(out, **npz_arrays(session))  # type: ignore[arg-type]
