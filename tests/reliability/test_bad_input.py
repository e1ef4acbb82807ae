"""A catalogue of bad input: each gets one clear line naming what and where, and exit code 2.

Protocol, needles and rig files broken one way each, and command-line
arguments out of range, of the wrong kind or in conflict. Every case runs
through `main([...])`; a handful also run as `python -m pulsehost` in a
subprocess to show that no traceback reaches stderr.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from protocols.bundled import resolve_needles, resolve_protocol
from pulsehost.cli.main import main

pytestmark = pytest.mark.timeout(60)

ROWS = resolve_protocol("esope-needle-rows")[0].read_text(encoding="utf-8")
NEEDLES = resolve_needles("example-4-needles")[0].read_text(encoding="utf-8")
RIG = """\
[rig]
name = "bench"
simulated = true

[generator]
kind = "firmware"
url = "/dev/null"
serial = "SIM-0001"

[scope]
kind = "keysight-infiniivision"
resource = "TCPIP::127.0.0.1::5025::SOCKET"
voltage_channel = 1
current_channel = 2

[limits]
v_max_v = 3000.0
i_max_a = 50.0
"""
LONG = ["long-needles", "--needles", "example-4-needles"]


class Files:
    """Writes the broken files of a case into the test's directory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def text(self, name: str, text: str) -> str:
        (self.folder / name).write_text(text, encoding="utf-8")
        return self.path(name)

    def edited(self, name: str, base: str, old: str, new: str) -> str:
        assert old in base, f"case setup: {old!r} is not in the base file"
        return self.text(name, base.replace(old, new, 1))

    def store(self) -> list[str]:
        return ["--store", self.path("store")]


@dataclass(frozen=True)
class Bad:
    id: str
    argv: Callable[[Files], list[str]]
    says: tuple[str, ...]  # fragments the error line must hold


def _protocol(old: str, new: str) -> Callable[[Files], list[str]]:
    return lambda f: ["plan", f.edited("protocol.toml", ROWS, old, new)]


def _needles(old: str, new: str) -> Callable[[Files], list[str]]:
    return lambda f: ["plan", *LONG[:2], f.edited("needles.toml", NEEDLES, old, new)]


def _rig(old: str, new: str) -> Callable[[Files], list[str]]:
    return lambda f: ["run", "--rig", f.edited("rig.toml", RIG, old, new), "--yes", *f.store()]


def _run(*args: str) -> Callable[[Files], list[str]]:
    return lambda f: ["run", *args, "--yes", *f.store()]


CATALOGUE = (
    # -- protocol files
    Bad("protocol-toml-syntax", _protocol("width_us = 100.0", "width_us = = 100"),
        ("protocol.toml:", "TOML syntax error")),
    Bad("protocol-missing-table", _protocol("[delivery]", "[deliveries]"),
        ("protocol.toml", "delivery", "[delivery] table")),
    Bad("protocol-width-out-of-range", _protocol("width_us = 100.0", "width_us = 50000.0"),
        ("protocol.toml:", "delivery.width_us", "50000", "1 to 10000")),
    Bad("protocol-unknown-field", _protocol("width_us = 100.0", "width_us = 100.0\nwidth_ms = 1"),
        ("delivery.width_ms", "unknown field", "width_us")),
    Bad("protocol-wrong-type", _protocol("pulses_per_train = 8", 'pulses_per_train = "eight"'),
        ("delivery.pulses_per_train", "whole number", "'eight'")),
    Bad("protocol-duplicate-key", _protocol("width_us = 100.0", "width_us = 1.0\nwidth_us = 2.0"),
        ("protocol.toml:", "overwrite")),
    Bad("protocol-rate-not-allowed", _protocol("rate_hz = 5000.0", "rate_hz = 10.0"),
        ("delivery.rate_hz", "10 Hz", "allowed_rates_hz")),
    Bad("protocol-polarity", _protocol('polarity = "a-positive"', 'polarity = "both"'),
        ("delivery.polarity", "'both'", "'alternate'")),
    Bad("protocol-negative-current-limit", _protocol("i_max_a = 20.0", "i_max_a = -5.0"),
        ("checks.i_max_a", "-5")),
    Bad("protocol-unknown-tissue", _protocol('name = "tumour"', 'name = "brain"'),
        ("tissue.name", "'brain'", "liver")),
    Bad("protocol-not-utf8", lambda f: ["plan", _latin1(f)], ("latin1.toml:1:", "not UTF-8")),
    Bad("protocol-is-a-directory", lambda f: ["plan", f.path("") + "/"],
        ("is a directory",)),
    Bad("protocol-file-missing", _run("missing.toml"), ("missing.toml", "no such file")),
    Bad("protocol-unknown-preset", _run("nosuchpreset"),
        ("'nosuchpreset'", "esope-plates")),
    # -- needles files
    Bad("needles-only-one",
        lambda f: ["plan", *LONG[:2], f.text("one.toml", NEEDLES.split('[[needle]]\nid = "B"')[0])],
        ("one.toml:", "needle", "at least 2")),
    Bad("needles-coordinate-type", _needles("x_mm = 15.0", 'x_mm = "15"'),
        ("needle[2].x_mm", "'15'", "-1000 to 1000")),
    Bad("needles-duplicate-id", _needles('id = "B"', 'id = "A"'),
        ("needle[2].id", "'A'", "unique")),
    Bad("needles-coordinate-typo", _needles("y_mm = 15.0", "y_mm = 15000.0"),
        ("needle[3].y_mm", "15000")),
    Bad("needles-toml-syntax", _needles('id = "C"', 'id = "C'),
        ("needles.toml:", "TOML syntax error")),
    Bad("needles-file-missing", lambda f: ["plan", *LONG[:2], f.path("nope.toml")],
        ("nope.toml", "no such file")),
    Bad("needles-on-a-fixed-electrode", lambda f: ["plan", "esope-plates", *LONG[1:]],
        ("variable geometry only", "esope-plates")),
    Bad("needles-not-given", _run("long-needles"), ("--needles", "example-4-needles")),
    # -- rig files
    Bad("rig-generator-kind", _rig('kind = "firmware"', 'kind = "laser"'),
        ("rig.toml:", "generator.kind", "'laser'", "'firmware'")),
    Bad("rig-scope-kind", _rig('kind = "keysight-infiniivision"', 'kind = "tek"'),
        ("scope.kind", "'tek'", "'rigol-ds1000z'")),
    Bad("rig-same-channel", _rig("current_channel = 2", "current_channel = 1"),
        ("scope.current_channel", "already the voltage channel")),
    Bad("rig-no-limits", _rig("[limits]\nv_max_v = 3000.0\ni_max_a = 50.0\n", ""),
        ("rig.toml", "limits", "[limits] table")),
    Bad("rig-limit-out-of-range", _rig("v_max_v = 3000.0", "v_max_v = 1e9"),
        ("limits.v_max_v", "1 to 10000 V")),
    Bad("rig-baudrate-fraction", _rig('serial = "SIM-0001"', 'serial = "S"\nbaudrate = 9600.5'),
        ("generator.baudrate", "whole number", "9600.5")),
    Bad("rig-function-generator-missing",
        _rig('kind = "firmware"\nurl = "/dev/null"\nserial = "SIM-0001"',
             'kind = "function-generator"'),
        ("generator.kind", "[function_generator] table")),
    Bad("rig-unknown-table", _rig("[limits]", "[extras]\na = 1\n\n[limits]"),
        ("extras", "unknown field", "function_generator")),
    Bad("rig-trigger-source",
        _rig("[limits]", '[function_generator]\nresource = "TCPIP::h::5025::SOCKET"\n'
             'amplifier_gain = 300.0\ntrigger_source = "IMM"\n\n[limits]'),
        ("function_generator.trigger_source", "'IMM'", "'BUS'")),
    Bad("rig-toml-syntax", _rig("[limits]", "[limits"), ("rig.toml:", "TOML syntax error")),
    Bad("rig-file-missing", lambda f: ["run", "--rig", f.path("norig.toml"), "--yes"],
        ("norig.toml", "no such file")),
    Bad("rig-with-fault", lambda f: [*_rig("[rig]", "[rig]")(f), "--fault", "open"],
        ("--fault", "built-in simulator")),
    # -- command-line arguments
    Bad("rate-not-allowed", _run("--rate", "7"), ("7 Hz", "accepted 5000, 1 Hz")),
    Bad("gap-on-needle-rows", lambda f: ["plan", "esope-needle-rows", "--gap", "5"],
        ("plate electrodes only",)),
    Bad("gap-out-of-range", lambda f: ["plan", "esope-plates", "--gap", "50"],
        ("electrode.gap_mm", "50 mm", "2 to 10 mm")),
    Bad("tissue-override-unknown", lambda f: ["plan", "esope-plates", "--tissue", "brain"],
        ("'brain'", "yellow-marrow")),
    Bad("time-scale-zero", _run("--time-scale", "0"), ("--time-scale", "positive")),
    Bad("time-scale-nan", _run("--time-scale", "nan"), ("--time-scale", "positive")),
    Bad("fault-unknown-kind", _run("--fault", "bogus"), ("'bogus'", "known kinds", "link-drop")),
    Bad("fault-pulse-zero", _run("--fault", "overcurrent@0"), ("'@0'", "1 or more")),
    Bad("fault-unknown-parameter", _run("--fault", "arc:volts=3"), ("'volts=3'", "accepts us, v")),
    Bad("fault-parameter-not-a-number", _run("--fault", "link-drop:rate=abc"),
        ("rate='abc'", "not a number")),
    Bad("seed-not-an-integer", _run("--seed", "abc"), ("--seed", "invalid int")),
    Bad("drug-time-malformed", _run(*LONG, "--drug-time", "25:99"), ("'25:99'", "HH:MM")),
    Bad("drug-time-a-word", _run(*LONG, "--drug-time", "tomorrow"), ("'tomorrow'", "HH:MM")),
    Bad("drug-time-in-the-future", _run(*LONG, "--drug-time", "2999-01-01T00:00"),
        ("in the future",)),
    Bad("drug-override-without-time", _run("--drug-override", "late"), ("needs --drug-time",)),
    Bad("drug-override-without-reason",
        _run(*LONG, "--drug-time", "2020-01-01T00:00", "--drug-override", "  "),
        ("written reason",)),
    Bad("no-terminal-and-no-yes", lambda f: ["run", *f.store()], ("--yes",)),
    Bad("simulate-fault", lambda f: ["simulate", "--fault", "nope"], ("--fault", "'nope'")),
    Bad("simulate-tissue", lambda f: ["simulate", "--tissue", "nope"], ("'nope'", "liver")),
    Bad("simulate-time-scale", lambda f: ["simulate", "--time-scale", "0"], ("above 0",)),
    Bad("simulate-serial", lambda f: ["simulate", "--serial", "usb"], ("'usb'", "'tcp'")),
    Bad("simulate-needles-without-protocol", lambda f: ["simulate", "--needles", "n.toml"],
        ("--needles needs --protocol",)),
    Bad("simulate-protocol-unknown", lambda f: ["simulate", "--protocol", "nope"],
        ("--protocol", "'nope'")),
    Bad("verify-negative-limit", lambda f: ["verify", "esope-plates", "--limits-v", "-5"],
        ("--limits-v", "-5")),
    Bad("sessions-unknown-id", lambda f: ["sessions", "show", "deadbeef", *f.store()],
        ("'deadbeef'", "--store")),
    Bad("protocols-show-unknown", lambda f: ["protocols", "show", "nosuch"],
        ("'nosuch'", "presets")),
    Bad("unknown-command", lambda f: ["frobnicate"], ("'frobnicate'", "run")),
)  # fmt: skip


def _latin1(f: Files) -> str:
    path = f.folder / "latin1.toml"
    # "í" as Latin-1 writes it: one byte that is not UTF-8, on the first line.
    path.write_bytes(ROWS.encode("utf-8").replace(b"ESOPE linear", b"ESOPE l\xednear", 1))
    return str(path)


def _main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's usage errors
        return int(exit_.code or 0)


def test_the_catalogue_is_large_and_its_ids_unique() -> None:
    ids = [bad.id for bad in CATALOGUE]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("bad", CATALOGUE, ids=[bad.id for bad in CATALOGUE])
def test_bad_input_is_refused_with_a_clear_line(
    bad: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = bad.argv(Files(tmp_path))
    code = _main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("pulsehost"), last
    assert ": error: " in last
    for fragment in bad.says:
        assert fragment in last, f"{fragment!r} missing from: {last}"
    assert "Traceback" not in captured.err
    assert captured.out == ""


SUBPROCESS_CASES = (
    "protocol-width-out-of-range",
    "needles-coordinate-type",
    "rig-generator-kind",
    "fault-unknown-kind",
    "drug-time-malformed",
    "unknown-command",
)


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_no_traceback_reaches_stderr_of_the_real_command(case_id: str, tmp_path: Path) -> None:
    bad = next(b for b in CATALOGUE if b.id == case_id)
    done = subprocess.run(
        [sys.executable, "-m", "pulsehost", *bad.argv(Files(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(fragment in lines[-1] for fragment in bad.says), lines[-1]
    assert done.stdout == ""
