"""`pulsehost verify --rig` (the rig's limits) and `--dry-run` (predicted verdicts)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulsehost.cli.main import main
from simulator.bench import Bench

pytestmark = pytest.mark.timeout(60)

ROWS = "esope-needle-rows"


@pytest.fixture
def bench() -> Iterator[Bench]:
    with Bench(seed=1) as running:
        yield running


def rig_file(tmp_path: Path, bench: Bench, *replacements: tuple[str, str]) -> Path:
    """The bench's own rig file, with some lines changed as a site would."""
    text = bench.rig_toml()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "bench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def verify_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["verify", *args, "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


@pytest.fixture
def user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where sessions would go; a dry run must leave it alone."""
    store = tmp_path / "user-store"
    monkeypatch.setenv("PULSEHOST_STORE", str(store))
    return store


def dry_run_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("pulsehost-dry-run-*")}


# -- --rig ---------------------------------------------------------------------------------


def test_rig_limits_and_identities(
    tmp_path: Path, bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = rig_file(tmp_path, bench)
    code, data = verify_json(capsys, ROWS, "--rig", str(rig))
    assert code == 0 and data["deliverable"] is True
    limits = data["limits"]
    assert isinstance(limits, dict)
    assert limits["source"] == "rig"
    assert limits["v_max_v"] == bench.device.v_max_v
    reported = data["rig"]["generator_limits"]
    assert reported["v_max_v"] == bench.device.v_max_v
    assert reported["max_count"] == bench.device.max_count
    assert data["rig"]["file"] == str(rig)
    instruments = data["rig"]["instruments"]
    assert any(bench.device.serial in line for line in instruments)
    assert data["dry_run"] is None


def test_site_limit_below_the_plan_is_not_deliverable(
    tmp_path: Path, bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = rig_file(tmp_path, bench, ("v_max_v = 3000.0", "v_max_v = 350.0"))
    code, data = verify_json(capsys, ROWS, "--rig", str(rig))
    assert code == 1 and data["deliverable"] is False
    assert data["limits"]["v_max_v"] == 350.0
    assert data["limits"]["v_max_source"] == f"rig file {rig} [limits]"
    codes = {p["code"] for p in data["problems"] if p["level"] == "refuse"}
    assert codes == {"voltage-above-generator"}


def test_generator_limit_binds_when_the_site_allows_more(
    tmp_path: Path, bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = rig_file(tmp_path, bench, ("v_max_v = 3000.0", "v_max_v = 9000.0"))
    code, data = verify_json(capsys, ROWS, "--rig", str(rig))
    assert code == 0
    limits = data["limits"]
    assert limits["v_max_v"] == bench.device.v_max_v
    assert limits["v_max_source"] == f"generator {bench.device.serial} handshake"


def test_command_line_limit_below_the_rig(
    tmp_path: Path, bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = rig_file(tmp_path, bench)
    code, data = verify_json(capsys, ROWS, "--rig", str(rig), "--limits-v", "300")
    assert code == 1
    assert data["limits"]["v_max_source"] == "command line"


def test_rig_text_output_names_each_limit_source(
    tmp_path: Path, bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = rig_file(tmp_path, bench, ("i_max_a = 50.0", "i_max_a = 40.0"))
    assert main(["verify", ROWS, "--rig", str(rig)]) == 0
    out = capsys.readouterr().out
    assert f"40 A (rig file {rig} [limits])" in out
    assert "SIMULATED" in out and "DELIVERABLE" in out


def test_bad_rig_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rig = tmp_path / "bench.toml"
    rig.write_text('[rig]\nname = "b"\n[generator]\nkind = "laser"\n', encoding="utf-8")
    assert main(["verify", ROWS, "--rig", str(rig), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{rig}:4: generator.kind" in captured.err and "Traceback" not in captured.err


def test_rig_that_does_not_answer_is_an_instrument_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Bench(seed=1) as gone:
        rig = rig_file(tmp_path, gone)
    assert main(["verify", ROWS, "--rig", str(rig)]) == 3
    err = capsys.readouterr().err
    assert "cannot open the generator port" in err and "Traceback" not in err


# -- --dry-run -----------------------------------------------------------------------------


def test_dry_run_predicts_every_pulse_without_touching_the_store(
    user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dry_run_dirs()
    code, data = verify_json(capsys, ROWS, "--dry-run")
    assert code == 0
    dry = data["dry_run"]
    assert isinstance(dry, dict)
    assert dry["simulated"] is True and dry["outcome"] == "completed"
    assert dry["pulses_planned"] == dry["pulses_delivered"] == 8
    pulses = dry["pulses"]
    assert [p["index"] for p in pulses] == list(range(1, 9))
    assert {p["verdict"] for p in pulses} == {"ok"} and dry["verdicts"] == {"ok": 8}
    assert all(p["labels"] == ["row 1", "row 2"] for p in pulses)
    assert all(300 < p["voltage_v"] <= 400 for p in pulses)
    assert dry["scope"]["source"] == "simulator"
    assert not user_store.exists()
    assert dry_run_dirs() == before  # the temporary store is gone again


def test_dry_run_with_a_fault_predicts_the_stop(
    user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = verify_json(capsys, ROWS, "--dry-run", "--rate", "1", "--fault", "overcurrent@5")
    assert code == 1
    assert data["deliverable"] is True  # within the limits; the prediction is what fails
    dry = data["dry_run"]
    assert isinstance(dry, dict)
    assert (dry["outcome"], dry["stop_reason"]) == ("aborted", "overcurrent")
    assert [p["verdict"] for p in dry["pulses"]] == ["ok"] * 4 + ["stop"]
    assert dry["faults"] == ["overcurrent@5"]
    assert not user_store.exists()


def test_dry_run_of_a_gated_protocol_with_a_drug_window(
    user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = verify_json(capsys, "long-needles", "--needles", "example-4-needles", "--dry-run")
    assert code == 0, data["dry_run"]
    dry = data["dry_run"]
    assert isinstance(dry, dict)
    assert dry["outcome"] == "completed" and dry["pulses_delivered"] == 48
    assert set(dry["verdicts"]) <= {"ok", "warn"}


def test_dry_run_sees_through_the_rigs_probes(
    tmp_path: Path, bench: Bench, user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A current probe 100 times too sensitive needs a range the scope does not have."""
    rig = rig_file(tmp_path, bench, ("current_probe_v_per_a = 0.1", "current_probe_v_per_a = 10.0"))
    code, data = verify_json(capsys, ROWS, "--rig", str(rig), "--dry-run")
    assert code == 1 and data["deliverable"] is True
    dry = data["dry_run"]
    assert isinstance(dry, dict)
    assert dry["scope"]["current_probe_v_per_a"] == 10.0
    assert dry["scope"]["source"] == f"rig file {rig}"
    assert (dry["outcome"], dry["stop_reason"]) == ("fault", "instrument")
    assert "CHAN2" in dry["message"] and dry["pulses_delivered"] == 0
    assert not user_store.exists()


def test_dry_run_with_the_rigs_own_probes_completes(
    tmp_path: Path, bench: Bench, user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = rig_file(tmp_path, bench, ("hv_probe_v_per_v = 1000.0", "hv_probe_v_per_v = 500.0"))
    assert main(["verify", ROWS, "--rig", str(rig), "--dry-run", "--rate", "1"]) == 0
    out = capsys.readouterr().out
    assert f"scope and probes: rig file {rig}" in out
    rows = [line for line in out.splitlines() if "row 1–row 2" in line]
    assert len(rows) == 8 and all(line.rstrip().endswith("ok") for line in rows)
    assert "predicted outcome: COMPLETED, 8/8 pulses" in out


def test_dry_run_is_skipped_when_not_deliverable(
    user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = verify_json(capsys, ROWS, "--dry-run", "--limits-v", "300")
    assert code == 1 and data["dry_run"] is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--fault", "open"], "--dry-run"),
        (["--dry-run", "--fault", "gremlins"], "gremlins"),
        (["--dry-run", "--time-scale", "0"], "--time-scale"),
    ],
)
def test_dry_run_bad_arguments(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", ROWS, *args, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and expected in captured.err
    assert "Traceback" not in captured.err
