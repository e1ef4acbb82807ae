"""Rig files: every field read with its default, errors that name file, line and field,
and opening a rig through the production drivers against the simulated bench."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.values import PulseParams
from pulsehost.rig import GENERATOR_KINDS, SCOPE_KINDS, RigError, load_rig, open_rig, parse_rig
from simulator.bench import Bench

pytestmark = pytest.mark.timeout(60)

MINIMAL = """\
[rig]
name = "bench 2"

[generator]
kind = "firmware"
url = "/dev/ttyACM0"

[limits]
v_max_v = 1000.0
i_max_a = 20.0
"""

FULL = """\
[rig]
name = "theatre 3"
simulated = false

[generator]
kind = "firmware"
url = "socket://10.0.0.7:4000"
serial = "G-17"
baudrate = 230400
timeout_s = 5.0

[function_generator]
resource = "TCPIP::10.0.0.8::INSTR"
amplifier_gain = 250.0
amplifier_v_max_v = 2500.0
amplifier_i_max_a = 40.0
amplifier_max_rate_hz = 2000.0
trigger_source = "BUS"

[scope]
kind = "rigol-ds1000z"
resource = "TCPIP::10.0.0.9::INSTR"
voltage_channel = 3
current_channel = 4
hv_probe_v_per_v = 500.0
current_probe_v_per_a = 0.05
sample_rate_hz = 1e8
timeout_s = 4.0

[limits]
v_max_v = 2800.0
i_max_a = 45.0
version = "site-2026-11"
"""


def test_minimal_rig_takes_the_documented_defaults() -> None:
    rig = parse_rig(MINIMAL, "bench2.toml")
    assert rig.name == "bench 2" and rig.simulated is False
    assert rig.generator_kind == "firmware"
    assert rig.firmware is not None
    assert (rig.firmware.url, rig.firmware.serial) == ("/dev/ttyACM0", None)
    assert (rig.firmware.baudrate, rig.firmware.timeout_s) == (115200, 2.0)
    assert rig.function_generator is None and rig.scope is None
    assert (rig.limits.v_max.value, rig.limits.i_max.value) == (1000.0, 20.0)
    assert rig.limits.version == "1"
    assert rig.limits.v_max.source == "rig file bench2.toml [limits]"


def test_every_field_is_read() -> None:
    rig = parse_rig(FULL, "theatre3.toml")
    assert rig.firmware is not None and rig.function_generator is not None
    assert rig.scope is not None
    fw, fg, scope = rig.firmware, rig.function_generator, rig.scope
    assert (fw.url, fw.serial, fw.baudrate, fw.timeout_s) == (
        "socket://10.0.0.7:4000",
        "G-17",
        230400,
        5.0,
    )
    assert (fg.resource, fg.amplifier_gain, fg.trigger_source) == (
        "TCPIP::10.0.0.8::INSTR",
        250.0,
        "BUS",
    )
    assert (fg.amplifier_v_max_v, fg.amplifier_i_max_a, fg.amplifier_max_rate_hz) == (
        2500.0,
        40.0,
        2000.0,
    )
    assert (scope.kind, scope.voltage_channel, scope.current_channel) == ("rigol-ds1000z", 3, 4)
    assert (scope.hv_probe_v_per_v, scope.current_probe_v_per_a) == (500.0, 0.05)
    assert (scope.sample_rate_hz, scope.timeout_s) == (1e8, 4.0)
    assert rig.limits.version == "site-2026-11"


def test_function_generator_defaults() -> None:
    text = (
        MINIMAL.replace('kind = "firmware"\nurl = "/dev/ttyACM0"', 'kind = "function-generator"')
        + '\n[function_generator]\nresource = "TCPIP::1.2.3.4::INSTR"\namplifier_gain = 300.0\n'
    )
    rig = parse_rig(text, "fg.toml")
    fg = rig.function_generator
    assert rig.generator_kind == "function-generator" and rig.firmware is None
    assert fg is not None
    assert (fg.amplifier_v_max_v, fg.amplifier_i_max_a, fg.amplifier_max_rate_hz) == (
        3000.0,
        50.0,
        5000.0,
    )
    assert fg.trigger_source == "EXT"  # clinical wiring unless the file says otherwise


def test_scope_defaults() -> None:
    text = MINIMAL + '\n[scope]\nkind = "keysight-infiniivision"\nresource = "TCPIP::x::INSTR"\n'
    scope = parse_rig(text, "s.toml").scope
    assert scope is not None
    assert (scope.voltage_channel, scope.current_channel) == (1, 2)
    assert (scope.hv_probe_v_per_v, scope.current_probe_v_per_a) == (1000.0, 0.1)
    assert (scope.sample_rate_hz, scope.timeout_s) == (50e6, 2.0)


def test_journal_record_of_the_rig() -> None:
    rig = parse_rig(FULL, "theatre3.toml")
    record = rig.to_dict()
    assert record["name"] == "theatre 3" and record["generator_kind"] == "firmware"
    assert record["limits"] == {
        "v_max_v": 2800.0,
        "i_max_a": 45.0,
        "source": "rig file theatre3.toml [limits]",
    }
    assert record["firmware"] == {"url": "socket://10.0.0.7:4000", "serial": "G-17"}
    assert record["scope"]["kind"] == "rigol-ds1000z"
    assert record["file"]["path"] == "theatre3.toml" and len(record["file"]["sha256"]) == 64


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('kind = "firmware"', 'kind = "laser"'), ":5: generator.kind: 'laser' is not known"),
        (('name = "bench 2"\n', ""), ":1: rig.name: missing required field"),
        (("v_max_v = 1000.0", 'v_max_v = "lots"'), ":9: limits.v_max_v: expected a number"),
        (("v_max_v = 1000.0", "v_max_v = 20000.0"), ":9: limits.v_max_v: 20000 is out of range"),
        (("i_max_a = 20.0", "i_max_a = 0.0"), ":10: limits.i_max_a: 0 is out of range"),
        (('url = "/dev/ttyACM0"', ""), "generator.url: missing required field"),
        (
            ('url = "/dev/ttyACM0"', 'url = "/dev/ttyACM0"\nbaud = 9600'),
            ":7: generator.baud: unknown field 'baud' in [generator]",
        ),
        (("[rig]", "[rig]\nsimulated = 1"), ":2: rig.simulated: expected true or false"),
        (("[limits]\nv_max_v = 1000.0\ni_max_a = 20.0\n", ""), ": limits: missing required"),
        (("v_max_v = 1000.0", "v_max_v = "), ":9: TOML syntax error"),
    ],
)
def test_bad_rig_files_name_line_and_field(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(RigError) as raised:
        parse_rig(MINIMAL.replace(old, new, 1), "bench2.toml")
    message = str(raised.value)
    assert message.startswith("bench2.toml"), message
    assert expected in message, message


def test_kind_errors_list_what_is_accepted() -> None:
    with pytest.raises(RigError) as raised:
        parse_rig(MINIMAL.replace('kind = "firmware"', 'kind = "laser"'), "b.toml")
    assert all(kind in str(raised.value) for kind in GENERATOR_KINDS)
    text = MINIMAL + '\n[scope]\nkind = "tektronix"\nresource = "x"\n'
    with pytest.raises(RigError) as raised:
        parse_rig(text, "b.toml")
    assert all(kind in str(raised.value) for kind in SCOPE_KINDS)


def test_one_input_cannot_be_both_channels() -> None:
    text = MINIMAL + '\n[scope]\nkind = "rigol-ds1000z"\nresource = "x"\ncurrent_channel = 1\n'
    with pytest.raises(RigError, match=r"scope\.current_channel: channel 1 is already"):
        parse_rig(text, "b.toml")


def test_function_generator_kind_needs_its_table() -> None:
    text = MINIMAL.replace('kind = "firmware"\nurl = "/dev/ttyACM0"', 'kind = "function-generator"')
    with pytest.raises(RigError, match=r"needs a \[function_generator\] table"):
        parse_rig(text, "b.toml")


def test_load_rig_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    rig = load_rig(path)
    assert rig.source is not None and rig.source.path == str(path)
    assert rig.limits.v_max.source == f"rig file {path} [limits]"
    with pytest.raises(RigError, match=r"nowhere\.toml"):
        load_rig(tmp_path / "nowhere.toml")


# -- opening a rig ---------------------------------------------------------------------


@pytest.fixture
def bench() -> Iterator[Bench]:
    with Bench(seed=2) as running:
        yield running


def test_simulator_rig_file_opens_and_identifies(bench: Bench) -> None:
    config = parse_rig(bench.rig_toml(), "bench.toml")
    assert config.simulated is True
    with open_rig(config) as rig:
        gen, scope = rig.identities
        assert gen.serial == bench.device.serial and gen.resource == bench.firmware_url
        port = bench.scope_resource.split("::")[2]
        assert scope.resource.startswith("TCPIP") and f"::{port}::" in scope.resource
        assert rig.generator.limits.v_max_v == bench.device.v_max_v
        lines = rig.describe()
        assert lines[0].startswith("generator: ") and bench.device.serial in lines[0]
        assert lines[1].startswith("scope: ")
        assert bench.firmware.session is not None
    assert bench.firmware.state.name == "IDLE"


def test_wrong_generator_serial_is_refused(bench: Bench) -> None:
    text = bench.rig_toml().replace(f'serial = "{bench.device.serial}"', 'serial = "G-99"')
    with pytest.raises(RigError) as raised, open_rig(parse_rig(text, "bench.toml")):
        pass
    assert "G-99" in str(raised.value) and str(raised.value).startswith("rig 'simulated bench'")


def test_unreachable_scope_closes_the_generator_it_opened(bench: Bench) -> None:
    text = re.sub(
        r'resource = "TCPIP::127\.0\.0\.1::\d+::SOCKET"\nvoltage',
        'resource = "TCPIP::127.0.0.1::1::SOCKET"\nvoltage',
        bench.rig_toml(),
    )
    with pytest.raises(RigError, match="rig 'simulated bench'"), open_rig(parse_rig(text, "b")):
        pass
    # The generator it had opened was closed again: a new host can open it at once.
    with open_rig(parse_rig(bench.rig_toml(), "bench.toml")) as rig:
        assert rig.generator.status().state == "IDLE"


def test_function_generator_rig_turns_the_output_off_on_close(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """The scope shares pyvisa's resource manager; closing it first would cut the line."""
    text = bench.rig_toml().replace('kind = "firmware"', 'kind = "function-generator"')
    text = re.sub(r"\nurl = .*\nserial = .*\n", "\n", text)
    config = parse_rig(text, "fg-bench.toml")
    params = PulseParams(
        amplitude_v=400.0,
        width_us=100.0,
        count=8,
        period_us=1_000_000.0,
        i_limit_a=20.0,
        v_tolerance=0.1,
        ecg_gated=False,
        ecg_delay_ms=0,
        electrode_a=0,
        electrode_b=1,
        polarity=0,
    )
    with caplog.at_level(logging.WARNING), open_rig(config) as rig:
        assert type(rig.generator).__name__ == "FunctionGeneratorPulser"
        rig.generator.configure(params)
        rig.generator.confirm_arm(rig.generator.request_arm())
        assert bench.function_generator.output_on
        # Leave without disarming: closing the rig must remove the output.
    assert not bench.function_generator.output_on
    assert not [r for r in caplog.records if "output OFF failed" in r.getMessage()]


# -- docs/rig.md -----------------------------------------------------------------------

DOC = Path(__file__).parents[2] / "docs" / "rig.md"


def test_documented_example_is_a_valid_rig_file() -> None:
    text = DOC.read_text(encoding="utf-8")
    [example] = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    rig = parse_rig(example, "docs/rig.md")
    assert rig.name == "theatre 3" and rig.scope is not None


def test_every_field_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.M))
    used = set(re.findall(r"^([a-z_]+) = ", FULL, re.M)) | {"kind", "simulated"}
    assert used <= documented, used - documented
