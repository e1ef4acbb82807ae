"""`pulsehost protocols list|show`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from protocols import list_presets, load_protocol
from pulsehost.cli.main import main


def test_list_names_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "list"]) == 0
    out = capsys.readouterr().out
    for preset in list_presets():
        assert preset in out


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in data["presets"]] == list(list_presets())
    plates = next(row for row in data["presets"] if row["id"] == "esope-plates")
    assert plates["field_v_per_cm"] == 1300.0
    assert plates["electrode"] == "plates"
    assert plates["allowed_rates_hz"] == [5000.0, 1.0]
    assert plates["sha256"] == load_protocol("esope-plates").source.sha256


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "show", "esope-plates"]) == 0
    out = capsys.readouterr().out
    assert "esope-plates" in out and "1300 V/cm" in out and "ESOPE 2006" in out


def test_show_json_with_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "show", "long-needles", "--rate", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == "long-needles"
    assert data["delivery"]["rate_hz"] == 1.0
    assert data["overrides"] == {"rate_hz": 1.0}
    assert data["checks"]["i_max_a"] == 50.0
    assert data["ecg"] == {"gated": True, "delay_ms": 50}
    assert data["text"] == Path(data["path"]).read_text(encoding="utf-8")


def test_show_text_prints_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "show", "esope-hexagonal", "--text"]) == 0
    path = load_protocol("esope-hexagonal").source.path
    assert capsys.readouterr().out == Path(path).read_text(encoding="utf-8")


def test_show_unknown_id_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "show", "esope-paddles"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "esope-paddles" in captured.err and "esope-plates" in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_show_malformed_file_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = load_protocol("esope-plates").source.text.replace("width_us = 100.0", "width_us = -1")
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["protocols", "show", str(path)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("width_us"))
    assert f"{path}:{line}: delivery.width_us:" in err


def test_protocols_without_action_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols"]) == 2
    assert "list" in capsys.readouterr().out


def test_command_modules_import_light() -> None:
    # `pulsehost --help` must stay fast: nothing heavy at import time.
    code = (
        "import sys, pulsehost.cli.protocols_cmd, pulsehost.cli.plan_cmd, "
        "pulsehost.cli.verify_cmd; "
        "print(sorted(m for m in ('rich', 'protocols', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
