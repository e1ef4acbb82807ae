"""The built-in simulated rig: a bench started in this process, wired to the plan.

This is the one place in pulsehost/ that builds the simulator. The simulated
load uses the same geometry the planner computed (cell constant and distance
of every pair), so predicted and "measured" currents are comparable, and the
rig is announced as SIMULATED everywhere it appears.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocols import Plan
from pulsehost.rig import RigConfig, RigError, ScopeConfig, parse_rig

if TYPE_CHECKING:
    from simulator.model import Pair


@dataclass(frozen=True)
class SimulatedRig:
    config: RigConfig
    bench: object  # simulator.bench.Bench; typed loosely so callers need not import it
    faults: tuple[str, ...]
    seed: int

    def describe(self) -> dict[str, object]:
        """What the journal's start document records about the simulation."""
        return {"seed": self.seed, "faults": list(self.faults)}


def check_fault_specs(specs: Sequence[str]) -> tuple[str, ...]:
    """Validate fault specs early, with the simulator's own message listing the known kinds."""
    from simulator.faults import FaultSpecError, parse_fault

    try:
        return tuple(str(parse_fault(spec)) for spec in specs)
    except FaultSpecError as exc:
        raise RigError(str(exc)) from None


def bench_pairs(plan: Plan) -> dict[tuple[int, int], Pair]:
    """The simulated load between every pair the plan drives, with the planned geometry."""
    from simulator.model import Pair

    pairs: dict[tuple[int, int], Pair] = {}
    for train in plan.trains:
        pair = Pair(
            cell_constant_per_m=train.cell_constant_per_m, distance_m=train.distance_mm / 1e3
        )
        pairs[(train.a, train.b)] = pair
        pairs[(train.b, train.a)] = pair
    return pairs


@contextmanager
def simulated_rig(
    plan: Plan,
    *,
    seed: int = 0,
    faults: Sequence[str] = (),
    tissue: str | None = None,
    time_scale: float = 1.0,
    scope_dialect: str = "keysight",
    probes: ScopeConfig | None = None,
) -> Iterator[SimulatedRig]:
    """Start a bench wired to `plan` and yield it with its rig configuration.

    `probes` takes the probe ratios of a real rig's scope, so a dry run sees the
    load through the same attenuation (and hits the same scope ranges) as that
    rig would.
    """
    from simulator.bench import Bench
    from simulator.model import MeasurementChain

    specs = check_fault_specs(faults)
    chain = None
    if probes is not None:
        chain = MeasurementChain(
            hv_probe_v_per_v=probes.hv_probe_v_per_v,
            current_probe_v_per_a=probes.current_probe_v_per_a,
        )
    with Bench(
        seed=seed,
        tissue=tissue or plan.tissue.name,
        faults=specs,
        pairs=bench_pairs(plan),
        time_scale=time_scale,
        serial="pty",
        scope_dialect=scope_dialect,
        chain=chain,
    ) as bench:
        config = parse_rig(
            bench.rig_toml(name="built-in simulated bench"), "<built-in simulated rig>"
        )
        yield SimulatedRig(config=config, bench=bench, faults=specs, seed=seed)
