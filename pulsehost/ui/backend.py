"""What the app delivers on: the built-in simulated bench or the instruments of a rig file.

The app never opens instruments itself. It is handed a backend (`make_app(backend,
config)`), asks it what the rig is, and for each session gets a `Delivery` that
opens the rig, runs the engine on the calling (worker) thread and closes the rig
again. Tests pass a `SimulatedBackend` and read its bench afterwards; the
terminal command passes whichever the operator chose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from protocols import Plan, load_protocol, make_plan
from pulsehost.engine.confirm import Confirmer
from pulsehost.engine.engine import Engine
from pulsehost.engine.events import EventSink
from pulsehost.engine.session import SessionOutcome, SessionRequest
from pulsehost.rig import RigConfig, RigError, load_rig, open_rig

# The simulated bench is built for a plan (its load uses the plan's geometry); to
# show the rig's identities before any plan exists, one is built for this preset.
PROBE_PROTOCOL = "esope-needle-rows"

RigSource = Callable[[Plan], AbstractContextManager[tuple[RigConfig, dict[str, Any]]]]


@dataclass(frozen=True)
class RigStatus:
    """What the setup screen shows about the rig: its name and each instrument's identity."""

    name: str
    simulated: bool
    instruments: tuple[str, ...] = ()
    problem: str | None = None  # why the rig could not be opened

    @property
    def ok(self) -> bool:
        return self.problem is None


class Delivery:
    """One session on a rig: `run` blocks on a worker thread, `stop` works from any thread.

    A stop asked for before the engine exists is kept and honoured by the engine
    as soon as it starts (it is handed the same flag), so no key press is lost
    while the rig is still opening.
    """

    def __init__(self, plan: Plan, source: RigSource) -> None:
        self._plan = plan
        self._source = source
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._engine: Engine | None = None

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def run(
        self, request: SessionRequest, store: Path, sink: EventSink, confirmer: Confirmer
    ) -> SessionOutcome:
        """Open the rig, deliver `request`, close the rig. Raises `RigError` when it won't open."""
        with self._source(self._plan) as (config, extra), open_rig(config) as rig:
            engine = Engine(
                rig, store, sink, confirmer, stop_requested=self._stop, start_extra=extra
            )
            with self._lock:
                self._engine = engine
            try:
                return engine.run(request)
            finally:
                with self._lock:
                    self._engine = None

    def stop(self) -> None:
        """Stop now: the engine aborts the generator and ends the session. Blocks on link I/O."""
        self._stop.set()
        with self._lock:
            engine = self._engine
        if engine is not None:
            engine.request_stop()


class Backend(Protocol):
    """The rig behind the app."""

    @property
    def simulated(self) -> bool:
        """True for the built-in simulated bench (announced as SIMULATED everywhere)."""
        ...

    def rig_status(self) -> RigStatus:
        """Open the rig briefly and read every instrument's identity. Blocking."""
        ...

    def delivery(self, plan: Plan) -> Delivery:
        """A session on this rig for `plan`."""
        ...


def _probe(source: RigSource, name: str, simulated: bool) -> RigStatus:
    try:
        plan = make_plan(load_protocol(PROBE_PROTOCOL))
        with source(plan) as (config, _extra), open_rig(config) as rig:
            return RigStatus(
                name=config.name, simulated=config.simulated, instruments=rig.describe()
            )
    except RigError as exc:
        return RigStatus(name=name, simulated=simulated, problem=str(exc))


class SimulatedBackend:
    """The built-in simulated bench, started afresh for every session.

    `last_bench` is the bench of the most recent session (a `simulator.bench.Bench`),
    kept so that tests can look at the simulated generator afterwards.
    """

    def __init__(
        self, *, seed: int = 0, faults: Sequence[str] = (), time_scale: float = 1.0
    ) -> None:
        from pulsehost.simulated_rig import check_fault_specs

        self.faults = check_fault_specs(faults)  # raises RigError naming the bad spec
        if not time_scale > 0:
            raise RigError(f"time scale must be a positive number, got {time_scale}")
        self.seed = seed
        self.time_scale = time_scale
        self.last_bench: Any = None

    @property
    def simulated(self) -> bool:
        return True

    @contextmanager
    def _source(self, plan: Plan) -> Iterator[tuple[RigConfig, dict[str, Any]]]:
        from pulsehost.simulated_rig import simulated_rig

        with simulated_rig(
            plan, seed=self.seed, faults=self.faults, time_scale=self.time_scale
        ) as sim:
            self.last_bench = sim.bench
            yield sim.config, {"simulation": sim.describe()}

    def describe(self) -> str:
        """The simulation settings in one line (seed, faults, time scale)."""
        faults = ", ".join(self.faults) or "none"
        return f"seed {self.seed}, faults {faults}, time scale {self.time_scale:g}"

    def rig_status(self) -> RigStatus:
        @contextmanager
        def probe(plan: Plan) -> Iterator[tuple[RigConfig, dict[str, Any]]]:
            from pulsehost.simulated_rig import simulated_rig

            with simulated_rig(plan, seed=self.seed) as sim:
                yield sim.config, {}

        return _probe(probe, "built-in simulated bench", True)

    def delivery(self, plan: Plan) -> Delivery:
        return Delivery(plan, self._source)


class RigFileBackend:
    """The instruments a rig file names; the file is read again for every session."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._config = load_rig(self.path)  # raises RigError with file:line: field

    @property
    def simulated(self) -> bool:
        return self._config.simulated

    @contextmanager
    def _source(self, plan: Plan) -> Iterator[tuple[RigConfig, dict[str, Any]]]:
        yield load_rig(self.path), {}

    def rig_status(self) -> RigStatus:
        return _probe(self._source, self._config.name, self._config.simulated)

    def delivery(self, plan: Plan) -> Delivery:
        return Delivery(plan, self._source)
