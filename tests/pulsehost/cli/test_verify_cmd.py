"""`pulsehost verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulsehost.cli.main import main

EXAMPLE = ["long-needles", "--needles", "example-4-needles"]


def test_deliverable_with_default_limits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", *EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert "DELIVERABLE" in out and "NOT DELIVERABLE" not in out
    assert "3000 V, 50 A (default)" in out


def test_lower_voltage_limit_is_not_deliverable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", *EXAMPLE, "--limits-v", "2000"]) == 1
    captured = capsys.readouterr()
    assert "NOT DELIVERABLE" in captured.out
    assert "A–C" in captured.err and "B–D" in captured.err and "2121 V" in captured.err


def test_json_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", *EXAMPLE, "--limits-v", "2000", "--limits-a", "40", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["deliverable"] is False
    assert data["limits"]["v_max_v"] == 2000.0 and data["limits"]["i_max_a"] == 40.0
    assert data["limits"]["source"] == "command line"
    refused = [p for p in data["problems"] if p["level"] == "refuse"]
    assert {tuple(p["pair"]) for p in refused} == {("A", "C"), ("B", "D")}
    assert {p["code"] for p in refused} == {"voltage-above-generator"}
    assert data["plan"]["protocol"]["id"] == "long-needles"


def test_json_deliverable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "esope-needle-rows", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deliverable"] is True
    assert data["problems"] == []
    assert data["plan"]["trains"][0]["voltage_v"] == 400.0


def test_current_limit(capsys: pytest.CaptureFixture[str]) -> None:
    # The diagonals are predicted at up to 28 A in tumour.
    assert main(["verify", *EXAMPLE, "--limits-a", "25", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    codes = {p["code"] for p in data["problems"] if p["level"] == "refuse"}
    assert codes == {"current-above-generator"}


def test_refused_geometry_gives_a_verdict_without_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "close.toml"
    path.write_text(
        "[needles]\ndiameter_mm = 1.2\nactive_length_mm = 20.0\n"
        '[[needle]]\nid = "A"\nx_mm = 0.0\ny_mm = 0.0\n'
        '[[needle]]\nid = "B"\nx_mm = 1.0\ny_mm = 0.0\n',
        encoding="utf-8",
    )
    assert main(["verify", "long-needles", "--needles", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["deliverable"] is False and data["plan"] is None
    assert [p["code"] for p in data["problems"]] == ["needles-too-close"]


@pytest.mark.parametrize("option", ["--limits-v", "--limits-a"])
def test_non_positive_limit_is_bad_input(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "esope-plates", option, "-1"]) == 2
    assert option in capsys.readouterr().err


def test_missing_protocol_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.toml"
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "no such file" in err
