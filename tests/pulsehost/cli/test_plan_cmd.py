"""`pulsehost plan`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulsehost.cli.main import main

FAR_NEEDLES = """\
[needles]
diameter_mm = 1.2
active_length_mm = 20.0

[[needle]]
id = "A"
x_mm = 0.0
y_mm = 0.0

[[needle]]
id = "B"
x_mm = 32.0
y_mm = 0.0
"""


def test_needle_rows_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "esope-needle-rows"]) == 0
    out = capsys.readouterr().out
    assert "row 1–row 2" in out
    assert "400" in out
    assert "1 train(s), 8 pulses" in out


def test_hexagonal_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "esope-hexagonal", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["trains"]) == 12
    assert {t["voltage_v"] for t in data["trains"]} == {730.0}
    assert data["totals"]["pulses"] == 96
    assert data["protocol"]["id"] == "esope-hexagonal"


def test_long_needles_with_example_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "long-needles", "--needles", "example-4-needles", "--rate", "1", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["trains"]) == 6
    assert {t["rate_hz"] for t in data["trains"]} == {1.0}
    assert all(t["voltage_v"] <= 3000.0 for t in data["trains"])
    assert data["needles"]["needles"][0]["id"] == "A"


def test_table_shows_the_current_band(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "long-needles", "--needles", "example-4-needles"]) == 0
    out = capsys.readouterr().out
    assert "A–C" in out and "2121" in out and "21.21" in out
    assert "ECG-gated" in out and "bleomycin" in out
    assert "11.2..28.0" in out  # a 21.2 mm diagonal at 2121 V in tumour


def test_variable_geometry_without_needles_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "long-needles"]) == 2
    assert "--needles" in capsys.readouterr().err


def test_refused_geometry_exits_1_naming_the_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "far.toml"
    path.write_text(FAR_NEEDLES, encoding="utf-8")
    assert main(["plan", "long-needles", "--needles", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not deliverable" in captured.err
    assert "A–B" in captured.err and "3200 V" in captured.err and "30 mm" in captured.err


def test_malformed_needles_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(FAR_NEEDLES.replace("x_mm = 32.0", "x_mm = true"), encoding="utf-8")
    assert main(["plan", "long-needles", "--needles", str(path)]) == 2
    err = capsys.readouterr().err
    line = FAR_NEEDLES.splitlines().index("x_mm = 32.0") + 1
    assert f"{path}:{line}: needle[2].x_mm:" in err


def test_rate_not_allowed_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "esope-plates", "--rate", "2"]) == 2
    assert "5000, 1 Hz" in capsys.readouterr().err


def test_unparsable_rate_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["plan", "esope-plates", "--rate", "fast"])
    assert caught.value.code == 2
