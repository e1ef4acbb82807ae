"""`pulsehost simulate`: announces the SIMULATED bench, serves it, stops cleanly on a signal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import serial

from drivers.link.frame import FLAG_ACK_REQ, Frame, FrameDecoder, to_wire
from drivers.link.messages import Hello, HelloAck, MsgType
from pulsehost.cli.main import main

pytestmark = pytest.mark.timeout(60)
READY_LINE = "Stop with Ctrl-C."


def start_simulate(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pulsehost", "simulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[3],
    )


def read_until_ready(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> str:
    """stdout up to the ready line, read straight from the pipe (no buffered readline)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        out += chunk
        if READY_LINE.encode() in out:
            return out.decode()
    proc.kill()
    raise AssertionError(f"simulate did not get ready: {out.decode(errors='replace')}")


def hello(url: str, timeout: float = 5.0) -> HelloAck:
    """One HELLO through pyserial, as any host would start."""
    port = serial.serial_for_url(url, timeout=0.1)
    try:
        hello = Frame(MsgType.HELLO, 0, 0, 0, Hello(1, 0, 1024, 7).pack(), FLAG_ACK_REQ)
        port.write(to_wire(hello))
        decoder = FrameDecoder()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in decoder.feed(port.read(256)):
                if frame.msg_type == MsgType.HELLO_ACK:
                    return HelloAck.unpack(frame.payload)
        raise AssertionError(f"no HELLO_ACK from {url}")
    finally:
        port.close()


def stop(proc: subprocess.Popen[bytes], signum: int) -> tuple[int, str, str]:
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"simulate did not stop on signal {signum}: {err!r}") from None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(("serial", "signum"), [("tcp", signal.SIGTERM), ("pty", signal.SIGINT)])
def test_simulate_serves_the_bench_and_stops_on_a_signal(
    tmp_path: Path, serial: str, signum: int
) -> None:
    rig_path = tmp_path / "rig.toml"
    proc = start_simulate(
        "--serial", serial, "--seed", "3", "--time-scale", "20", "--rig-out", str(rig_path)
    )
    try:
        banner = read_until_ready(proc)
        assert "SIMULATED" in banner
        rig = tomllib.loads(rig_path.read_text())
        assert rig["rig"]["simulated"] is True
        url = rig["generator"]["url"]
        assert url in banner and rig["scope"]["resource"] in banner
        assert rig["function_generator"]["resource"] in banner
        assert url.startswith("socket://" if serial == "tcp" else "/dev/")
        assert hello(url).serial_text == "SIM-0001"
    finally:
        code, out, err = stop(proc, signum)
    assert code == 0, err
    assert "SIMULATED bench stopped" in out
    assert "Traceback" not in err


def test_simulate_with_faults_announces_them(tmp_path: Path) -> None:
    proc = start_simulate("--fault", "overcurrent@5", "--fault", "link-drop@10:rate=0.2")
    try:
        banner = read_until_ready(proc)
    finally:
        code, _, err = stop(proc, signal.SIGTERM)
    assert "faults: overcurrent@5, link-drop@10:rate=0.2" in banner
    assert code == 0, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "melt@2"], "known kinds: open, poor-contact"),
        (["--fault", "overcurrent@x"], "pulse number"),
        (["--tissue", "brain"], "known tissues: tumour"),
        (["--time-scale", "0"], "--time-scale 0"),
        (["--time-scale", "nan"], "--time-scale nan"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["simulate", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_fault_help_lists_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.faults import KINDS

    assert main(["simulate", "--fault", "help"]) == 0
    out = capsys.readouterr().out
    assert all(kind in out for kind in KINDS)


def test_an_unwritable_rig_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing-dir" / "rig.toml"
    assert main(["simulate", "--rig-out", str(target)]) == 2
    err = capsys.readouterr().err
    assert str(target) in err and "Traceback" not in err


def test_the_command_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, pulsehost.cli.simulate_cmd; "
        "print(sorted(m for m in ('numpy', 'simulator', 'serial') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
        env={**os.environ},
        timeout=30,
    ).stdout
    assert out.strip() == "[]"
