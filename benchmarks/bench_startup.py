"""How long `pulsehost --help` takes to start: what every command pays before it does anything.

Measured as a subprocess, median of several runs, against 0.5 s: beyond that
a command-line tool feels sluggish. The bare interpreter's own start-up is
measured in the same run and named in the bound's label, so the part that is
pulsehost's is visible. Command modules import only light things at import
time (argparse, pathlib); numpy, rich, the drivers and the simulator are
imported inside the command that needs them.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.figure import Figure

BOUND_S = 0.5


def _command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m pulsehost`."""
    script = Path(sys.executable).with_name("pulsehost")
    if script.exists():
        return [str(script)]
    found = shutil.which("pulsehost")
    return [found] if found else [sys.executable, "-m", "pulsehost"]


def _median_run(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, timeout=60)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]!r}")
    return statistics.median(times)


def measure(quick: bool) -> list[Figure]:
    repeats = 5 if quick else 21
    bare = _median_run([sys.executable, "-c", "pass"], repeats)
    command = _command()
    help_s = _median_run([*command, "--help"], repeats)
    return [
        Figure(
            name=f"pulsehost --help start-up, median of {repeats}",
            value=help_s,
            unit="s",
            bound=BOUND_S,
            bound_label=f"a responsive CLI (bare python: {bare:.3f} s)",
            higher_is_better=False,
        )
    ]
