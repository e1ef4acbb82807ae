"""The built-in simulated rig: a bench wired to the plan, announced as SIMULATED."""

from __future__ import annotations

import pytest

from protocols import load_needles, load_protocol, make_plan
from pulsehost.engine.engine import pulse_params
from pulsehost.rig import RigError, ScopeConfig, open_rig
from pulsehost.simulated_rig import bench_pairs, check_fault_specs, simulated_rig
from simulator.bench import Bench

pytestmark = pytest.mark.timeout(60)


def test_fault_specs_are_checked_and_normalised() -> None:
    assert check_fault_specs(["overcurrent@5", " open ", "link-drop@3:rate=0.20"]) == (
        "overcurrent@5",
        "open",
        "link-drop@3:rate=0.2",
    )
    assert check_fault_specs([]) == ()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("gremlins", "known kinds"), ("arc@0", "pulse number"), ("jitter:us=fast", "not a number")],
)
def test_bad_fault_specs_say_what_is_accepted(spec: str, expected: str) -> None:
    with pytest.raises(RigError, match=expected):
        check_fault_specs([spec])


def test_every_planned_pair_is_wired_with_its_planned_geometry() -> None:
    plan = make_plan(load_protocol("esope-hexagonal"))
    pairs = bench_pairs(plan)
    for train in plan.trains:
        for key in ((train.a, train.b), (train.b, train.a)):
            assert pairs[key].cell_constant_per_m == train.cell_constant_per_m
            assert pairs[key].distance_m == pytest.approx(train.distance_mm / 1e3)
    assert len(pairs) == 2 * len({frozenset((t.a, t.b)) for t in plan.trains})


def test_simulated_rig_is_announced_and_closed() -> None:
    plan = make_plan(load_protocol("esope-plates"))
    with simulated_rig(plan, seed=7, faults=["jitter"], time_scale=5.0) as sim:
        bench = sim.bench
        assert isinstance(bench, Bench)
        config = sim.config
        assert config.simulated is True and config.name == "built-in simulated bench"
        assert config.source is not None and config.source.path == "<built-in simulated rig>"
        assert sim.describe() == {"seed": 7, "faults": ["jitter"]}
        assert bench.seed == 7 and bench.time_scale == 5.0
        assert bench.tissue_name == plan.tissue.name
        assert [str(f) for f in bench.faults] == ["jitter"]
        assert config.firmware is not None and config.firmware.url == bench.firmware_url
        assert config.firmware.serial == bench.device.serial
    with pytest.raises(RuntimeError, match="not running"):
        bench.firmware_url  # noqa: B018


def test_tissue_can_be_chosen() -> None:
    plan = make_plan(load_protocol("esope-needle-rows"))
    with simulated_rig(plan, tissue="liver") as sim:
        assert isinstance(sim.bench, Bench) and sim.bench.tissue_name == "liver"


def test_variable_geometry_pairs_are_known_to_the_simulated_generator() -> None:
    plan = make_plan(load_protocol("long-needles"), load_needles("example-4-needles"))
    with simulated_rig(plan) as sim, open_rig(sim.config) as rig:
        # The generator accepts every planned pair: SET_PARAMS carries the electrodes.
        for train in plan.trains:
            held = rig.generator.configure(pulse_params(plan, train))
            assert (held.electrode_a, held.electrode_b) == (train.a, train.b)


@pytest.mark.parametrize(
    ("dialect", "kind"), [("keysight", "keysight-infiniivision"), ("rigol", "rigol-ds1000z")]
)
def test_scope_dialect(dialect: str, kind: str) -> None:
    plan = make_plan(load_protocol("esope-needle-rows"))
    with simulated_rig(plan, scope_dialect=dialect) as sim, open_rig(sim.config) as rig:
        assert sim.config.scope is not None and sim.config.scope.kind == kind
        assert rig.scope is not None
        maker = rig.scope.identity.maker.upper()
        assert ("RIGOL" if dialect == "rigol" else "KEYSIGHT") in maker


def test_probes_of_a_rig_become_the_simulated_chain() -> None:
    plan = make_plan(load_protocol("esope-needle-rows"))
    probes = ScopeConfig(
        kind="keysight-infiniivision",
        resource="TCPIP::10.0.0.9::INSTR",
        hv_probe_v_per_v=500.0,
        current_probe_v_per_a=0.05,
    )
    with simulated_rig(plan, probes=probes) as sim:
        assert isinstance(sim.bench, Bench)
        assert sim.bench.chain.hv_probe_v_per_v == 500.0
        assert sim.bench.chain.current_probe_v_per_a == 0.05
        # The rig the host reads describes the same probes, so its scaling matches.
        assert sim.config.scope is not None
        assert sim.config.scope.hv_probe_v_per_v == 500.0
        assert sim.config.scope.current_probe_v_per_a == 0.05
