"""`pulsehost run`: the JSON summary, exit codes, rig files, and SIGTERM mid-train."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulsehost.cli.main import main
from pulsehost.journal import Session, open_session
from pulsehost.rig import load_rig, open_rig
from simulator.bench import Bench

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).parents[3]
SUMMARY_KEYS = {
    "session_id",
    "outcome",
    "pulses_planned",
    "pulses_delivered",
    "stop_reason",
    "message",
    "journal",
    "simulated",
}


def run_json(
    capsys: pytest.CaptureFixture[str], store: Path, *args: str
) -> tuple[int, dict[str, object], str]:
    code = main(["run", "--yes", "--json", "--store", str(store), *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out), captured.err


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run with bad input: exit 2, nothing on stdout, one error line on stderr."""
    code = main(["run", "--yes", "--json", *args])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pulsehost run: error: "), captured.err
    return lines[0]


# -- outcomes and exit codes -------------------------------------------------------------


def test_completed_session_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, summary, err = run_json(capsys, tmp_path)
    assert code == 0
    assert set(summary) == SUMMARY_KEYS
    assert summary["outcome"] == "completed" and summary["stop_reason"] is None
    assert summary["pulses_planned"] == summary["pulses_delivered"] == 8
    assert summary["simulated"] is True
    assert "SIMULATED" in err  # the banner goes to stderr with --json
    session = Session.read(Path(str(summary["journal"])))
    assert session.session_id == summary["session_id"]
    assert session.integrity.ok and session.outcome == "completed"


def test_stopped_by_a_check_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, summary, _ = run_json(capsys, tmp_path, "--fault", "overcurrent@5")
    assert code == 1
    assert (summary["outcome"], summary["stop_reason"]) == ("aborted", "overcurrent")
    assert summary["pulses_delivered"] == 5
    stop = open_session(tmp_path, str(summary["session_id"])).stop
    assert stop is not None and stop["reason"] == "overcurrent"


def test_refused_at_preflight_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # long-needles gates on the drug time: 2 minutes after the bolus is too early.
    when = (time.time() - 120) // 60 * 60
    stamp = time.strftime("%Y-%m-%dT%H:%M", time.localtime(when))
    code, summary, _ = run_json(
        capsys, tmp_path, "long-needles", "--needles", "example-4-needles", "--drug-time", stamp
    )
    assert code == 1
    assert (summary["outcome"], summary["stop_reason"]) == ("aborted", "drug-window")
    assert summary["pulses_delivered"] == 0


def test_link_fault_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, summary, _ = run_json(capsys, tmp_path, "--fault", "link-silent@6")
    assert code == 3
    assert (summary["outcome"], summary["stop_reason"]) == ("fault", "link-lost")
    assert summary["pulses_delivered"] == 0


def test_human_output_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--yes", "--store", str(tmp_path), "--fault", "arc@3"])
    captured = capsys.readouterr()
    assert code == 1
    assert "SIMULATED" in captured.out and "ABORTED" in captured.out and "arc" in captured.out
    assert "Traceback" not in captured.err


# -- bad input ---------------------------------------------------------------------------


def test_unknown_protocol(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "--store", str(tmp_path), "no-such-protocol")
    assert "no-such-protocol" in line


def test_bad_fault_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "--store", str(tmp_path), "--fault", "gremlins@2")
    assert "gremlins" in line and "overcurrent" in line  # names the kinds it knows


def test_fault_with_a_rig_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rig = tmp_path / "rig.toml"
    rig.write_text("[rig]\n", encoding="utf-8")
    line = refused(capsys, "--store", str(tmp_path), "--rig", str(rig), "--fault", "open")
    assert "--fault" in line and "--rig" in line


@pytest.mark.parametrize(
    ("drug_time", "expected"),
    [("quarter past nine", "HH:MM"), ("2999-01-01T09:00", "future"), ("25:99", "HH:MM")],
)
def test_bad_drug_time(
    drug_time: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(
        capsys,
        "--store",
        str(tmp_path),
        "long-needles",
        "--needles",
        "example-4-needles",
        "--drug-time",
        drug_time,
    )
    assert expected in line and drug_time in line


def test_bad_rig_file_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = tmp_path / "bench.toml"
    rig.write_text(
        '[rig]\nname = "bench"\n\n[generator]\nkind = "firmware"\nurl = "/dev/ttyACM0"\n\n'
        '[limits]\nv_max_v = "lots"\ni_max_a = 50.0\n',
        encoding="utf-8",
    )
    line = refused(capsys, "--store", str(tmp_path), "--rig", str(rig))
    assert f"{rig}:9: limits.v_max_v" in line


def test_missing_rig_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "--store", str(tmp_path), "--rig", str(tmp_path / "nowhere.toml"))
    assert "nowhere.toml" in line


def test_unreachable_generator_is_an_instrument_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = tmp_path / "bench.toml"
    port = tmp_path / "no-such-port"
    rig.write_text(
        f'[rig]\nname = "bench"\n\n[generator]\nkind = "firmware"\nurl = "{port}"\n\n'
        "[limits]\nv_max_v = 3000.0\ni_max_a = 50.0\n",
        encoding="utf-8",
    )
    code = main(["run", "--yes", "--json", "--store", str(tmp_path), "--rig", str(rig)])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out == "" and "Traceback" not in captured.err
    assert str(port) in captured.err


def test_no_terminal_and_no_yes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code = main(["run", "--store", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "--yes" in err
    assert not any(tmp_path.iterdir())  # refused before a session was opened


# -- a rig file ----------------------------------------------------------------------------


def test_rig_file_written_by_the_simulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Bench(seed=3) as bench:
        rig = tmp_path / "bench.toml"
        rig.write_text(bench.rig_toml(), encoding="utf-8")
        code, summary, _ = run_json(capsys, tmp_path / "store", "--rig", str(rig))
        assert bench.firmware.pulses_delivered == 8
        url = bench.firmware_url
    assert code == 0
    assert summary["outcome"] == "completed" and summary["simulated"] is True
    session = open_session(tmp_path / "store", str(summary["session_id"]))
    assert session.start["rig"]["file"]["path"] == str(rig)
    assert session.start["instruments"]["generator"]["resource"] == url


# -- SIGTERM ------------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pulsehost", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def read_until(
    proc: subprocess.Popen[bytes], stream: str, marker: str, within_s: float = 20.0
) -> str:
    """Read a pipe straight from its descriptor until `marker` shows up."""
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    fd = pipe.fileno()
    seen = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if marker.encode() in seen:
                return seen.decode()
        elif proc.poll() is not None:
            break
    raise AssertionError(f"{marker!r} never came on {stream}: {seen.decode(errors='replace')}")


def finish(proc: subprocess.Popen[bytes], signum: int | None = None) -> tuple[int, str, str]:
    if signum is not None:
        proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"process did not end: {err.decode(errors='replace')}") from None
    return proc.returncode, out.decode(), err.decode()


def test_sigterm_mid_train_interrupts_safely(tmp_path: Path) -> None:
    rig = tmp_path / "bench.toml"
    store = tmp_path / "store"
    # The bench lives in its own process so the generator outlives the run.
    bench = spawn("simulate", "--rig-out", str(rig), "--time-scale", "2")
    try:
        read_until(bench, "stdout", "Stop with Ctrl-C.")
        run = spawn(
            "run", "--rig", str(rig), "--rate", "1", "--yes", "--json", "--store", str(store)
        )
        try:
            # 8 pulses at 1 Hz paced twice as fast: 3.5 s of train after this line.
            read_until(run, "stderr", "-> FIRING")
        except BaseException:
            run.kill()
            raise
        code, out, err = finish(run, signal.SIGTERM)
        assert code == 130, err
        assert "Traceback" not in err
        summary = json.loads(out)
        assert set(summary) == SUMMARY_KEYS
        assert summary["outcome"] == "interrupted" and summary["stop_reason"] == "operator"
        session = open_session(store, summary["session_id"])
        assert session.integrity.ok
        assert session.stop is not None and session.stop["outcome"] == "interrupted"
        assert any(e["event"] == "safe-off" for e in session.events)

        # Ask the surviving generator, over its own link, what it holds now.
        with open_rig(load_rig(rig)) as opened:
            deadline = time.monotonic() + 5.0
            status = opened.generator.status()
            while status.state not in ("IDLE", "FAULT") and time.monotonic() < deadline:
                opened.generator.service("IDLE")
                status = opened.generator.status()
            record = opened.generator.train_record(0)  # type: ignore[attr-defined]
        assert status.state in ("IDLE", "FAULT")
        assert status.hv_bank_v < 50.0  # discharged
        assert record is not None and record.result == "ABORTED"
        assert record.n_delivered < 8
        assert record.n_delivered == summary["pulses_delivered"] == session.stop["pulses_delivered"]
    finally:
        if bench.poll() is None:
            code, _, err = finish(bench, signal.SIGTERM)
            assert code == 0, err
