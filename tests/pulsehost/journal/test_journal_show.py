"""`sessions show` on the terminal: compact header, plan trains, pulses, findings, timeline."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from rich.console import Console

from pulsehost.journal import JournalWriter, Session
from pulsehost.journal.show import print_session


def render(session: Session, width: int = 100) -> list[str]:
    out = io.StringIO()
    print_session(session, Console(file=out, width=width, highlight=False, color_system=None))
    return out.getvalue().splitlines()


def section(lines: list[str], title: str, end: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    stop = next(i for i, line in enumerate(lines) if i > start and line.startswith(end))
    return lines[start + 1 : stop]


def test_fits_100_columns(review_session: Session) -> None:
    lines = render(review_session)
    assert max(len(line.rstrip()) for line in lines) <= 100


def test_compact_header_with_outcome_in_words(review_session: Session) -> None:
    lines = render(review_session)
    assert lines[0] == "Long needles <deep> & bone"  # free text, not markup
    assert lines[1] == f"protocol long-needles 1.0.0 · session {review_session.session_id}"
    assert lines[2].startswith("operator dr-a · subject S-042 · started 2025-03-03 11:06:40 UTC")
    outcome = next(line for line in lines if line.startswith("ABORTED"))
    assert "5 of 6 pulses delivered · pulse verdicts: stop 1, warn 3, ok 1" in outcome
    assert any(line.strip().startswith("overcurrent — Pulse 5: peak current") for line in lines)
    assert any(line.startswith("Integrity: intact") for line in lines)
    assert not any("SIMULATED" in line for line in lines)


def test_plan_is_a_trains_table_with_labels_and_predicted_band(review_session: Session) -> None:
    rows = [
        line.split()
        for line in section(render(review_session), "Plan", "Pulses")
        if re.match(r"^\s+\d+\s+[A-Z]–[A-Z]\s", line)
    ]
    assert rows == [
        ["1", "A–B", "15.0", "1500", "3", "8.8–22.0", "3", "19.42–21.97", "warn"],
        ["2", "B–A", "15.0", "1500", "3", "8.8–22.0", "2", "9.61–19.41", "stop"],
    ]


def test_pulse_rows_have_house_precision_and_findings_go_below(review_session: Session) -> None:
    lines = render(review_session)
    table = section(lines, "Pulses", "Findings")
    rows = [line.split() for line in table if re.match(r"^\s*\d+†?\s+\d\s+[A-Z]–[A-Z]\s", line)]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5†"]
    assert rows[0][:11] == [
        "1", "1", "A–B", "1500", "1456.6", "19.42", "108.0", "75.0", "2.769", "1911.5", "warn",
    ]  # fmt: skip
    assert rows[0][11:] == ["width-deviation"]
    assert not any("tolerance" in line for line in table)  # the text is in the list
    findings = section(lines, "Findings", "Timeline")
    text = " ".join(line.strip() for line in findings)
    assert text.count("width 108.0 µs (+8.0 %) for 100.0 µs set") == 1
    assert "warn width-deviation, pulses 1–3: width 108.0 µs" in text
    assert text.index("overcurrent") < text.index("width-deviation")  # worst first


def test_timeline_has_times_since_the_start(review_session: Session) -> None:
    lines = section(render(review_session), "Timeline", "Instruments")
    entries = [
        line.strip().split(None, 2) for line in lines if re.match(r"^\s*\+\d+:\d\d\.\d{3}\s", line)
    ]
    assert [e[1] for e in entries][:3] == ["preflight", "drug", "state"]
    assert ["ALARM", "OVERCURRENT, latched, from the generator; train 2, pulse 2"] in [
        e[1:] for e in entries
    ]
    assert entries[-1][1:] == ["stop", "aborted, reason overcurrent (5 of 6 pulses)"]


def test_simulated_sessions_are_marked(make_session: Callable[..., JournalWriter]) -> None:
    session = Session.read(make_session(trains=1, pulses_per_train=2).directory)
    lines = render(session)
    assert lines[0].strip().startswith("SIMULATED SESSION")
    assert any(line.startswith("COMPLETED  2 of 2 pulses delivered") for line in lines)


def test_a_session_whose_start_cannot_be_read_still_shows(
    make_session: Callable[..., JournalWriter],
) -> None:
    writer = make_session(trains=2, pulses_per_train=2, outcome="interrupted")
    path = writer.directory / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"{not json\n" + b"".join(lines[1:]))
    lines_out = render(Session.read(writer.directory))
    assert any(line.startswith("INTERRUPTED  4 of ? pulses delivered") for line in lines_out)
    assert any(line.startswith("Integrity: BROKEN at line 1") for line in lines_out)
    assert any("No plan recorded" in line for line in lines_out)
