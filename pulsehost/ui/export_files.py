"""Writing a recorded session out: the journal package's exports and its HTML report."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from pulsehost.journal import Session
from pulsehost.journal.export import write_csv, write_json, write_npz
from pulsehost.journal.report import render_report

FORMATS: Mapping[str, str] = MappingProxyType(
    {
        "html": "HTML report",
        "json": "JSON (session, pulses, events)",
        "csv": "CSV pulse table",
        "npz": "NPZ waveforms (numpy)",
    }
)


def default_path(session: Session, kind: str, folder: Path) -> Path:
    """`<folder>/<short id>.<kind>`, e.g. `./3722d386.html`."""
    return folder / f"{session.short_id}.{kind}"


def write_export(session: Session, kind: str, path: Path) -> Path:
    """Write `session` as `kind` (one of `FORMATS`) to `path`, whole or not at all.

    Raises OSError when the file cannot be written and JournalReadError when
    the waveforms it needs are missing or altered.
    """
    if kind not in FORMATS:
        raise ValueError(f"unknown export {kind!r}; accepted: {', '.join(FORMATS)}")
    path = Path(path).expanduser()
    # Written beside the target and renamed, so a failure never leaves half a file behind.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if kind == "npz":
            with open(temporary, "wb") as raw:
                write_npz(session, raw)
        else:
            with open(temporary, "w", encoding="utf-8", newline="") as text:
                if kind == "html":
                    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                    text.write(render_report(session, generated_utc=stamp))
                elif kind == "json":
                    write_json(session, text)
                else:
                    write_csv(session, text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
