"""`pulsehost ui`: bad options are one line on stderr; the app runs in a real terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulsehost.cli.main import main
from pulsehost.journal import Session, list_sessions

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--rig", "bench.toml", "--fault", "open"],
            "--fault works only on the built-in simulator",
        ),
        (["--fault", "bogus"], "known kinds"),
        (["--time-scale", "0"], "positive"),
        (["--rig", "no-such-rig.toml"], "no-such-rig.toml"),
        ([], "needs a terminal"),
    ],
)
def test_bad_options_and_no_terminal_are_one_line_errors(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ui", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pulsehost ui: error: ") and says in err
    assert err.count("\n") == 1


def test_the_command_module_imports_no_textual() -> None:
    probe = "import sys, pulsehost.cli.ui_cmd; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "False"


class Terminal:
    """`pulsehost ui` on a pseudo-terminal: keys in, screen bytes out."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pulsehost", "ui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                tail = self.seen[-2000:].decode(errors="replace")
                raise AssertionError(f"{text!r} never appeared; last output:\n{tail}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the app closed the terminal
                    break

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


F3, F4 = "\x1bOR", "\x1bOS"
CTRL_Q = "\x11"


def test_a_session_from_start_to_done_in_a_real_terminal(tmp_path: Path) -> None:
    store = tmp_path / "store"
    term = Terminal("--store", str(store))
    try:
        term.wait_for("SIMULATED")
        term.wait_for("scope: KEYSIGHT")  # the rig check has answered
        term.send(F3)
        term.wait_for("I band A")
        term.send(F4)
        term.wait_for("arm (charge)")
        term.send("a")
        term.wait_for("FIRE")
        term.send("f")
        term.wait_for("COMPLETED")
        term.send(CTRL_Q)
    finally:
        code = term.close()
    assert code == 0
    (summary,) = list_sessions(store)
    assert (summary.outcome, summary.pulses_delivered) == ("completed", 8)
    assert Session.read(store / summary.directory).integrity.ok
