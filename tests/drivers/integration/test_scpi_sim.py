"""The SCPI drivers, unchanged, against the simulated instruments over TCP and pyvisa-py.

A bench per test: load model -> simulated 33500 (HV amplifier) -> simulated scope
in the Keysight or Rigol dialect, each on its own SCPI server on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import math
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
import pyvisa

from drivers.errors import InstrumentTimeout, Refused
from drivers.scpi.block import TruncatedBlock
from drivers.scpi.errors import InstrumentLost
from drivers.scpi.fg_pulser import Amplifier, FunctionGeneratorPulser
from drivers.scpi.infiniivision import InfiniiVision
from drivers.scpi.keysight33500 import Keysight33500
from drivers.scpi.rigol_ds1000z import RigolDS1000Z
from drivers.scpi.scope import ScpiScope
from drivers.values import PulseParams, ScopeChannel, ScopeSetup
from simulator.faults import parse_faults
from simulator.model import LoadModel, MeasurementChain, ModelConfig
from simulator.scpi.function_generator import SimulatedFunctionGenerator
from simulator.scpi.scope import SimulatedScope
from simulator.scpi.server import ScpiServer

pytestmark = pytest.mark.timeout(60)

GAIN = 300.0
AMPLIFIER = Amplifier(gain=GAIN, v_max_v=3000.0, i_max_a=50.0, max_rate_hz=5000.0, model="sim")
TRAIN = PulseParams(amplitude_v=900.0, width_us=100.0, count=8, period_us=200.0, i_limit_a=40.0)
SETUP = ScopeSetup(
    voltage=ScopeChannel(1, "voltage", 1000.0, 1000.0),  # 1000:1 HV probe
    current=ScopeChannel(2, "current", 10.0, 20.0),  # 0.1 V/A current monitor
    sample_rate_hz=50e6,
    pre_trigger_s=10e-6,
    post_trigger_s=190e-6,
    trigger_level=100.0,
)
DRIVERS: dict[str, type[ScpiScope]] = {"keysight": InfiniiVision, "rigol": RigolDS1000Z}


@dataclass
class Bench:
    generator_sim: SimulatedFunctionGenerator
    scope_sim: SimulatedScope
    pulser: FunctionGeneratorPulser
    scope: ScpiScope


@pytest.fixture
def manager() -> Iterator[pyvisa.ResourceManager]:
    rm = pyvisa.ResourceManager("@py")
    yield rm
    rm.close()


@contextmanager
def make_bench(
    manager: pyvisa.ResourceManager,
    dialect: str,
    faults: tuple[str, ...] = (),
    trigger_source: str = "BUS",
    scope_timeout_s: float = 2.0,
) -> Iterator[Bench]:
    model = LoadModel(ModelConfig(), seed=1)
    scope_sim = SimulatedScope(
        MeasurementChain(), seed=2, dialect=dialect, faults=parse_faults(faults)
    )
    generator_sim = SimulatedFunctionGenerator(
        model.deliver, scope_sim.on_train, amplifier_gain=GAIN, v_max_v=3000.0
    )
    with ScpiServer(generator_sim) as fg_server, ScpiServer(scope_sim) as scope_server:
        generator = Keysight33500.open(fg_server.resource, resource_manager=manager)
        scope = DRIVERS[dialect].open(
            scope_server.resource, resource_manager=manager, timeout_s=scope_timeout_s
        )
        pulser = FunctionGeneratorPulser(generator, AMPLIFIER, trigger_source=trigger_source)
        try:
            yield Bench(generator_sim, scope_sim, pulser, scope)
        finally:
            pulser.close()
            scope.close()
    assert not generator_sim.output_on


@pytest.fixture
def keysight(manager: pyvisa.ResourceManager) -> Iterator[Bench]:
    with make_bench(manager, "keysight") as bench:
        yield bench


@pytest.fixture(params=["keysight", "rigol"])
def any_scope(request: pytest.FixtureRequest, manager: pyvisa.ResourceManager) -> Iterator[Bench]:
    with make_bench(manager, request.param) as bench:
        yield bench


def fire(bench: Bench, params: PulseParams = TRAIN, train_id: int = 1) -> None:
    bench.pulser.configure(params)
    bench.pulser.confirm_arm(bench.pulser.request_arm())
    bench.pulser.fire(train_id)
    bench.pulser.wait_train(train_id, timeout_s=5.0)


def test_generator_configures_with_high_impedance_load_and_delivers_the_amplitude(
    keysight: Bench,
) -> None:
    held = keysight.pulser.configure(TRAIN)
    assert held == TRAIN
    state = keysight.generator_sim.state
    assert math.isinf(state.load_ohm)
    assert state.high_v == pytest.approx(3.0)  # the EMF, not doubled by a 50 ohm setting
    assert state.trigger_source == "BUS" and not state.output_on
    keysight.pulser.confirm_arm(keysight.pulser.request_arm())
    assert keysight.generator_sim.output_on
    keysight.pulser.fire(1)
    report = keysight.pulser.wait_train(1, timeout_s=5.0)
    assert (report.n_requested, report.result, report.pulses) == (8, "COMPLETE", ())
    (request,) = keysight.generator_sim.requests
    assert request.amplitude_v == pytest.approx(900.0)
    assert (request.count, request.width_s, request.period_s) == (8, 100e-6, 200e-6)
    assert not keysight.generator_sim.output_on  # off again after the train


def test_snapshot_of_the_generator_reads_back_what_configure_set(keysight: Bench) -> None:
    keysight.pulser.configure(TRAIN)
    snap = keysight.pulser.snapshot()
    fg = snap["function_generator"]
    assert isinstance(fg, dict)
    assert fg["output_load"] == "INF"
    assert fg["burst_count"] == 8
    assert fg["voltage_high"] == pytest.approx(3.0)
    assert snap["hardware_arming"] is False


def test_external_trigger_rig_refuses_to_fire_from_the_host(manager) -> None:
    with make_bench(manager, "keysight", trigger_source="EXT") as bench:
        bench.pulser.configure(TRAIN)
        bench.pulser.confirm_arm(bench.pulser.request_arm())
        with pytest.raises(Refused, match="UNSUPPORTED"):
            bench.pulser.fire(1)
        assert bench.generator_sim.requests == ()
        assert bench.generator_sim.fire_external() is not None  # the firmware FIRE line works
        bench.pulser.abort()
        assert not bench.generator_sim.output_on


def test_single_capture_matches_the_delivered_pulse(any_scope: Bench) -> None:
    bench = any_scope
    bench.scope.configure(SETUP)
    bench.scope.arm()
    fire(bench, dataclasses.replace(TRAIN, count=1))
    assert bench.scope.wait_complete(2.0) == 1
    (capture,) = bench.scope.fetch()
    v, i = capture.voltage, capture.current
    assert (v.units, i.units) == ("V", "A")
    assert v.values.size == v.codes.size > 1000
    assert -10e-6 - v.dt_s <= v.t0_s <= -10e-6 + v.dt_s
    plateau = (v.times > 20e-6) & (v.times < 80e-6)
    train = bench.generator_sim.last_train
    assert train is not None
    true_plateau = float(np.median(train.voltage_v[0][(train.voltage_v[0] > 0.5 * 900)]))
    assert float(np.median(v.values[plateau])) == pytest.approx(true_plateau, rel=0.03)
    assert float(np.median(i.values[plateau])) == pytest.approx(
        float(np.median(train.current_a[0][train.voltage_v[0] > 0.5 * 900])), rel=0.05
    )
    assert abs(float(np.median(v.values[v.times < -2e-6]))) < 30.0  # baseline before the pulse
    assert not v.clipped and not i.clipped


def test_segmented_capture_reads_every_pulse_with_time_tags(keysight: Bench) -> None:
    setup = dataclasses.replace(SETUP, segments=8)
    keysight.scope.configure(setup)
    keysight.scope.arm()
    fire(keysight)
    assert keysight.scope.wait_complete(2.0) == 8
    captures = keysight.scope.fetch()
    assert [c.index for c in captures] == list(range(8))
    tags = np.array([c.time_tag_s for c in captures])
    np.testing.assert_allclose(tags, 200e-6 * np.arange(8), atol=3e-6)
    train = keysight.generator_sim.last_train
    assert train is not None
    for capture, true_v in zip(captures, train.voltage_v, strict=True):
        plateau = (capture.voltage.times > 20e-6) & (capture.voltage.times < 80e-6)
        expected = float(np.median(true_v[true_v > 0.5 * 900]))
        assert float(np.median(capture.voltage.values[plateau])) == pytest.approx(
            expected, rel=0.03
        )


def test_a_train_that_stops_early_returns_the_segments_caught(keysight: Bench) -> None:
    keysight.scope.configure(dataclasses.replace(SETUP, segments=8))
    keysight.scope.arm()
    fire(keysight, dataclasses.replace(TRAIN, count=5))
    assert keysight.scope.wait_complete(0.3) == 5
    assert len(keysight.scope.fetch()) == 5


def test_no_pulse_means_a_timeout_not_a_hang(any_scope: Bench) -> None:
    any_scope.scope.configure(SETUP)
    any_scope.scope.arm()
    started = time.monotonic()
    with pytest.raises(InstrumentTimeout, match="trigger level"):
        any_scope.scope.wait_complete(0.3)
    assert time.monotonic() - started < 5.0


def test_too_small_a_range_shows_as_clipping(any_scope: Bench) -> None:
    small = dataclasses.replace(SETUP, voltage=ScopeChannel(1, "voltage", 1000.0, 300.0))
    any_scope.scope.configure(small)
    any_scope.scope.arm()
    fire(any_scope, dataclasses.replace(TRAIN, count=1))
    any_scope.scope.wait_complete(2.0)
    (capture,) = any_scope.scope.fetch()
    assert capture.voltage.clipped
    assert not capture.current.clipped


@pytest.mark.parametrize("dialect", ["keysight", "rigol"])
@pytest.mark.parametrize(
    ("fault", "error"),
    [("scope-timeout@1", InstrumentTimeout), ("scope-truncated@1", TruncatedBlock)],
)
def test_fetch_faults_end_in_a_specific_error_and_a_resynced_scope(
    manager, dialect: str, fault: str, error: type[Exception]
) -> None:
    with make_bench(manager, dialect, faults=(fault,), scope_timeout_s=0.5) as bench:
        bench.scope.configure(SETUP)
        bench.scope.arm()
        fire(bench, dataclasses.replace(TRAIN, count=1))
        bench.scope.wait_complete(2.0)
        started = time.monotonic()
        with pytest.raises(error, match="resynchronised"):
            bench.scope.fetch()
        assert time.monotonic() - started < 5.0
        bench.scope.check_errors("the resync")  # nothing left over, queue clean
        (capture,) = bench.scope.fetch()  # the fault fired once; the data is still there
        assert capture.voltage.values.size > 1000


def test_open_with_its_own_resource_manager_and_close() -> None:
    generator_sim = SimulatedFunctionGenerator(lambda r: None, lambda t: None)  # type: ignore[arg-type, return-value]
    with ScpiServer(generator_sim) as server:
        with Keysight33500.open(server.resource, timeout_s=2.0) as generator:
            assert generator.identity.model == "33521B"
            generator.output = True
        assert not generator_sim.output_on  # closing turned it off
        assert generator.closed


def test_nothing_listening_is_instrument_lost_not_a_hang() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    address = f"TCPIP::127.0.0.1::{port}::SOCKET"
    with pytest.raises(InstrumentLost, match=f"127.0.0.1::{port}::SOCKET.*refused"):
        generator = Keysight33500.open(address, timeout_s=0.5)
        try:
            _ = generator.identity
        finally:
            generator.close()
    assert time.monotonic() - started < 5.0
