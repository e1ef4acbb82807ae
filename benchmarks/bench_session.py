"""Whole sessions on the built-in simulated rig: what the host adds to the pulses.

The clock runs from connecting to the rig (opening the firmware link and the
scope, reading identities) to the session's verdict (stop document written),
as an operator waits for it; starting the simulated bench itself is not
counted, a real bench is already powered.

- 1 Hz, 8 x 100 us (esope-needle-rows --rate 1): the pulses alone take
  7 s + 100 us, the ideal. The figures are the session against that ideal and
  the host's overhead (everything else: handshake, preflight, configure and
  arm, charging, fetching and checking, journalling) against 1 s, an
  interactive answer. The full run paces the pulses in real time; the quick
  run compresses pacing and charging 10 times (the figure says so), so its
  overhead is the host's own with a tenth of the charging time.
- 5 kHz, 8 x 100 us (the standard protocol): connect to verdict against 2 s,
  the time within which pressing the key and seeing the verdict still feels
  like one action. Median of several sessions, each on a fresh bench.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.figure import Figure
from protocols import Plan, load_protocol, make_plan
from pulsehost.engine.confirm import AlwaysConfirm
from pulsehost.engine.engine import Engine
from pulsehost.engine.events import EngineEvent
from pulsehost.engine.session import SessionRequest
from pulsehost.rig import open_rig
from pulsehost.simulated_rig import simulated_rig

OVERHEAD_BOUND_S = 1.0
INTERACTIVE_5KHZ_S = 2.0
QUICK_TIME_SCALE = 10.0


def _plan(rate_hz: float | None) -> Plan:
    return make_plan(load_protocol("esope-needle-rows", rate_hz=rate_hz))


def _connect_to_verdict(plan: Plan, store: Path, time_scale: float) -> float:
    """Seconds from opening the rig to the session's verdict; the session must complete."""
    request = SessionRequest(plan=plan, operator="benchmark", subject="SIM-BENCH")
    with simulated_rig(plan, seed=1, time_scale=time_scale) as sim:
        started = time.perf_counter()
        with open_rig(sim.config) as rig:
            engine = Engine(rig, store, _ignore, AlwaysConfirm())
            outcome = engine.run(request)
            elapsed = time.perf_counter() - started
    if outcome.outcome != "completed":
        raise RuntimeError(f"benchmark session ended {outcome.outcome}: {outcome.message}")
    return elapsed


def _ignore(event: EngineEvent) -> None:
    pass


def measure(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pulsehost-bench-session-") as tmp:
        store = Path(tmp)
        slow = _plan(1.0)
        train = slow.trains[0]
        time_scale = QUICK_TIME_SCALE if quick else 1.0
        ideal = (train.pulses - 1) * train.period_us * 1e-6 / time_scale + train.width_us * 1e-6
        paced = f" (pace x{time_scale:g})" if quick else ""
        session = _connect_to_verdict(slow, store, time_scale)
        figures.append(
            Figure(
                name=f"1 Hz session, connect to verdict{paced}",
                value=session,
                unit="s",
                bound=ideal,
                bound_label="ideal: the pulses alone (7 s + width, scaled)",
                higher_is_better=False,
            )
        )
        figures.append(
            Figure(
                name=f"1 Hz session: host overhead{paced}",
                value=session - ideal,
                unit="s",
                bound=OVERHEAD_BOUND_S,
                bound_label="interactive answer",
                higher_is_better=False,
            )
        )
        fast = _plan(None)
        _connect_to_verdict(fast, store, 1.0)  # imports, FFT plans, first socket
        times = [_connect_to_verdict(fast, store, 1.0) for _ in range(3 if quick else 10)]
        figures.append(
            Figure(
                name=f"5 kHz session, connect to verdict, median of {len(times)}",
                value=statistics.median(times),
                unit="s",
                bound=INTERACTIVE_5KHZ_S,
                bound_label="key press to verdict as one action",
                higher_is_better=False,
            )
        )
    return figures
