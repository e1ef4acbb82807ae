"""`pulsehost sessions ...` through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pulsehost.cli.main import main
from pulsehost.journal import JournalWriter
from pulsehost.journal.sample import write_sample_session


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PULSEHOST_SEAL_KEY", raising=False)
    monkeypatch.delenv("PULSEHOST_STORE", raising=False)
    yield


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def three(store: Path) -> dict[str, JournalWriter]:
    """A completed, an aborted and an interrupted session, oldest first."""
    return {
        "completed": write_sample_session(store, samples=300),
        "aborted": write_sample_session(store, samples=300, outcome="aborted", stop_after=10),
        "interrupted": write_sample_session(
            store, samples=300, outcome="interrupted", stop_after=30
        ),
    }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_is_newest_first_and_filters(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "sessions", "list", "--store", str(store), "--json")
    assert code == 0 and err == ""
    document = json.loads(out)
    assert document["format"] == "pulsehost-sessions/1" and document["total"] == 3
    ids = [s["session_id"] for s in document["sessions"]]
    assert ids == [three[k].session_id for k in ("interrupted", "aborted", "completed")]
    first = document["sessions"][0]
    assert (first["pulses_delivered"], first["pulses_planned"]) == (30, 96)
    assert first["simulated"] is True and first["short_id"] == ids[0][:8]

    code, out, _ = run(
        capsys, "sessions", "list", "--store", str(store), "--json", "--outcome", "aborted"
    )
    assert [s["session_id"] for s in json.loads(out)["sessions"]] == [three["aborted"].session_id]
    code, out, _ = run(capsys, "sessions", "list", "--store", str(store), "--json", "--limit", "1")
    assert len(json.loads(out)["sessions"]) == 1 and json.loads(out)["matching"] == 3
    code, out, _ = run(
        capsys, "sessions", "list", "--store", str(store), "--json", "--since", "2999-01-01"
    )
    assert json.loads(out)["sessions"] == []
    code, out, _ = run(
        capsys, "sessions", "list", "--store", str(store), "--json", "--protocol", "NEEDLE"
    )
    assert len(json.loads(out)["sessions"]) == 3
    code, out, _ = run(
        capsys, "sessions", "list", "--store", str(store), "--json", "--protocol", "plates"
    )
    assert json.loads(out)["sessions"] == []


def test_list_table_marks_simulated_sessions(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "sessions", "list", "--store", str(store))
    assert code == 0
    rows = [line for line in out.splitlines() if "SIMULATED" in line]
    assert len(rows) == 3
    assert three["aborted"].session_id[:8] in rows[1] and "aborted" in rows[1]
    assert "10/96" in rows[1] and "30/96" in rows[0]


def test_list_uses_the_environment_store_and_reports_an_empty_one(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSEHOST_STORE", str(store))
    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0 and "No sessions" in out and str(store) in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--since", "last tuesday"], "--since: 'last tuesday' is not a date"),
        (["list", "--limit", "-1"], "--limit: -1 is negative"),
        (["show", "ffffffffff"], "no session 'ffffffffff'"),
        (["show", "20"], "matches 3 sessions"),
        (["export", "20", "--format", "csv", "-o", "-"], "give more of the id"),
        (["export", "{id}", "--format", "npz", "-o", "-"], "NPZ is binary"),
        (["report", "{id}", "-o", "/nonexistent-dir/r.html"], "cannot write /nonexistent-dir"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    store: Path,
    three: dict[str, JournalWriter],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    argv = [a.replace("{id}", three["completed"].session_id[:6]) for a in argv]
    code, out, err = run(capsys, "sessions", argv[0], "--store", str(store), *argv[1:])
    assert code == 2 and out == ""
    assert err.startswith("pulsehost sessions: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_show_prints_header_pulses_events_and_integrity(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    writer = three["aborted"]
    code, out, _ = run(capsys, "sessions", "show", writer.session_id[:6], "--store", str(store))
    assert code == 0
    assert "SIMULATED" in out and writer.session_id in out and "ABORTED" in out
    assert "10 of 96 pulses delivered" in out and "operator abort — stopped by the operator" in out
    assert "reason OPERATOR_ABORT" in out  # the code itself, in the timeline
    pulse_row = re.compile(r"^\s*\d+\s+\d+\s+[A-F]–[A-F]\s+800\s+\d+\.\d\s+\d+\.\d\d\s.* ok\b")
    assert len([line for line in out.splitlines() if pulse_row.match(line)]) == 10
    assert "confirm-arm" in out and "Integrity: intact" in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 100  # laid out for 100


def test_show_and_report_of_a_session_the_engine_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "engine-store"
    code, _, _ = run(
        capsys, "run", "--yes", "--store", str(store), "--fault", "overcurrent@5", "--seed", "3"
    )
    assert code == 1  # stopped by a check
    code, out, _ = run(capsys, "sessions", "show", "2", "--store", str(store))
    assert code == 0 and "ABORTED" in out and "overcurrent" in out
    assert re.search(r"^\s*1\s+row 1–row 2\s+4\.0\s+400\s+8\s", out, re.MULTILINE)
    assert re.search(r"ALARM\s+OVERCURRENT, latched, from the generator; train 1", out)
    target = tmp_path / "report.html"
    code, _, _ = run(capsys, "sessions", "report", "2", "--store", str(store), "-o", str(target))
    html = target.read_text(encoding="utf-8")
    assert code == 0 and html.count("<svg") == 5
    assert 'id="trains"' in html and 'class="verdict aborted"' in html
    assert "ESOPE linear needle electrode" in html and 'id="protocol-text"' in html


def test_show_json_is_the_export_document(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    writer = three["interrupted"]
    code, out, _ = run(
        capsys, "sessions", "show", writer.directory.name, "--store", str(store), "--json"
    )
    document = json.loads(out)
    assert code == 0 and document["session"]["outcome"] == "interrupted"
    assert len(document["pulses"]) == 30 and document["session"]["integrity"]["status"] == "intact"


def test_verify_all_passes_then_fails_naming_session_and_line(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "sessions", "verify", "--all", "--store", str(store))
    assert code == 0 and "3 sessions: 3 intact, 0 broken" in out
    journal = three["aborted"].directory / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    edited = next(i for i, line in enumerate(lines) if b'"to":"ARMED"' in line)
    lines[edited] = lines[edited].replace(b'"to":"ARMED"', b'"to":"FIRED"')
    journal.write_bytes(b"".join(lines))
    code, out, _ = run(capsys, "sessions", "verify", "--all", "--store", str(store))
    assert code == 1 and "3 sessions: 2 intact, 1 broken" in out
    (bad,) = [line for line in out.splitlines() if "BROKEN" in line]
    assert three["aborted"].directory.name in bad and f"BROKEN at line {edited + 1}:" in bad
    code, out, _ = run(
        capsys, "sessions", "verify", three["completed"].session_id, "--store", str(store)
    )
    assert code == 0 and "intact" in out and "(completed)" in out


def test_verify_json_and_seal_statuses(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = write_sample_session(store, trains=1, pulses_per_train=2, samples=50, seal_key=b"k1")
    code, out, _ = run(capsys, "sessions", "verify", writer.session_id, "--store", str(store))
    assert code == 0 and "seal not checked" in out
    monkeypatch.setenv("PULSEHOST_SEAL_KEY", "k1")
    code, out, _ = run(
        capsys, "sessions", "verify", writer.session_id, "--store", str(store), "--json"
    )
    document = json.loads(out)
    assert code == 0 and document["ok"] and document["sessions"][0]["seal"] == "valid"
    monkeypatch.setenv("PULSEHOST_SEAL_KEY", "k2")
    code, out, _ = run(capsys, "sessions", "verify", writer.session_id, "--store", str(store))
    assert code == 1 and "BROKEN" in out and "key id" in out


def test_verify_without_id_or_all_is_a_usage_error(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sessions", "verify", "--store", str(store)])
    assert caught.value.code == 2
    assert "one of the arguments ID --all is required" in capsys.readouterr().err


def test_export_json_csv_and_npz(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sid = three["aborted"].session_id
    code, out, _ = run(
        capsys, "sessions", "export", sid, "--store", str(store), "--format", "json", "-o", "-"
    )
    document = json.loads(out)
    assert code == 0 and document["session"]["outcome"] == "aborted"
    assert {"index", "train", "pair", "verdict", "findings"} <= set(document["pulses"][0])

    target = tmp_path / "pulses.csv"
    code, _, err = run(
        capsys,
        "sessions",
        "export",
        sid,
        "--store",
        str(store),
        "--format",
        "csv",
        "-o",
        str(target),
    )
    assert code == 0 and str(target) in err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [int(r["index"]) for r in rows] == list(range(1, 11))

    target = tmp_path / "waves.npz"
    code, _, _ = run(
        capsys,
        "sessions",
        "export",
        sid,
        "--store",
        str(store),
        "--format",
        "npz",
        "-o",
        str(target),
    )
    with np.load(target, allow_pickle=False) as data:
        assert data["pulse_index"].tolist() == list(range(1, 11))
        assert data["p0003_voltage_values"].shape == (300,)


def test_report_writes_one_html_file(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    sid = three["completed"].session_id
    code, out, err = run(
        capsys, "sessions", "report", sid[:5], "--store", str(store), "-o", str(target)
    )
    html = target.read_text(encoding="utf-8")
    assert code == 0 and out == "" and str(target) in err
    assert html.startswith("<!DOCTYPE html>") and sid in html and html.count("<svg") == 96


def test_export_of_a_broken_session_warns(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    journal = three["completed"].directory / "journal.jsonl"
    journal.write_bytes(journal.read_bytes().replace(b'"verdict":"ok"', b'"verdict":"OK"', 1))
    code, out, err = run(
        capsys,
        "sessions",
        "export",
        three["completed"].session_id,
        "--store",
        str(store),
        "--format",
        "json",
        "-o",
        "-",
    )
    assert code == 0 and json.loads(out)["session"]["integrity"]["status"] == "broken"
    assert "warning" in err and "BROKEN at line" in err


def test_verify_all_counts_a_session_whose_journal_is_gone_as_broken(
    store: Path, three: dict[str, JournalWriter], capsys: pytest.CaptureFixture[str]
) -> None:
    (three["completed"].directory / "journal.jsonl").unlink()
    code, out, _ = run(capsys, "sessions", "verify", "--all", "--store", str(store), "--json")
    document = json.loads(out)
    assert code == 1 and document["ok"] is False
    statuses = {row["directory"]: row["status"] for row in document["sessions"]}
    assert statuses[three["completed"].directory.name] == "broken"
    assert sorted(statuses.values()) == ["broken", "intact", "intact"]
