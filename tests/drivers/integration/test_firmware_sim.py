"""FirmwareGenerator against the simulated firmware, through a real pty (and TCP).

Every link fault must end in a recovered exchange or a specific exception,
within the configured timeouts, and FIRE must never run twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

pytest.importorskip("simulator.firmware", reason="the simulated firmware is not in this tree")

from drivers.errors import DriverError, LinkLost
from drivers.firmware_generator import FaultReported, FirmwareGenerator
from drivers.link.messages import FaultCode, FwState, MsgType
from drivers.values import PulseParams, PulseTelemetry, TrainReport
from simulator.faults import parse_faults
from simulator.firmware import Firmware, PtyTransport, TcpTransport
from simulator.model import LoadModel, ModelConfig, summarize, tissue

pytestmark = pytest.mark.timeout(60)

# A 1 Hz train of 8 takes 7 s nominal, 0.35 s here; safety timers stay real.
TIME_SCALE = 20.0
ONE_HZ = PulseParams(
    amplitude_v=400.0, width_us=100.0, count=8, period_us=1_000_000.0, i_limit_a=40.0
)
FIVE_KHZ = PulseParams(amplitude_v=400.0, width_us=100.0, count=8, period_us=200.0, i_limit_a=40.0)
TRAIN_TIMEOUT_S = 10.0
# Whatever the line does, a whole cycle must end inside this (a hang guard, not a speed check).
CYCLE_BOUND_S = 30


@dataclass
class Sim:
    firmware: Firmware
    transport: PtyTransport | TcpTransport
    published: list[object] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.transport.url


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Sim]]:
    sims: list[Sim] = []

    def make(*, faults: tuple[str, ...] = (), seed: int = 0, tcp: bool = False) -> Sim:
        parsed = parse_faults(faults)
        config = ModelConfig(tissue=tissue("tumour"))
        model = LoadModel(config, seed=seed, faults=parsed)
        published: list[object] = []
        firmware = Firmware(
            model.deliver,
            summarize,
            publish=published.append,
            seed=seed,
            faults=parsed,
            time_scale=TIME_SCALE,
            pair_known=lambda pair: pair in config.pairs or pair[::-1] in config.pairs,
        )
        transport = TcpTransport(firmware) if tcp else PtyTransport(firmware)
        transport.start()
        sim = Sim(firmware, transport, published)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.transport.close()


def run_cycle(
    gen: FirmwareGenerator,
    params: PulseParams,
    train_id: int = 1,
    on_pulse: Callable[[PulseTelemetry], None] | None = None,
) -> TrainReport:
    held = gen.configure(params)
    assert held == params
    offer = gen.request_arm()
    assert offer.params == params  # what the operator would confirm
    gen.confirm_arm(offer)
    gen.fire(train_id)
    return gen.wait_train(train_id, TRAIN_TIMEOUT_S, on_pulse=on_pulse)


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_full_train_at_one_hz(make_sim: Callable[..., Sim]) -> None:
    sim = make_sim()
    log: list[tuple[str, bytes, float]] = []
    gen = FirmwareGenerator.open(
        sim.url, expected_serial="SIM-0001", traffic_log=lambda d, w, t: log.append((d, w, t))
    )
    try:
        assert gen.limits.v_max_v == 3000.0 and gen.limits.waveforms
        streamed: list[PulseTelemetry] = []
        report = run_cycle(gen, ONE_HZ, on_pulse=streamed.append)
        assert report.result == "COMPLETE"
        assert (report.n_requested, report.n_delivered) == (8, 8)
        assert [p.pulse_idx for p in report.pulses] == list(range(8))
        assert streamed == list(report.pulses)
        i_mean = np.array([p.i_mean_a for p in report.pulses])
        assert np.all((i_mean > 1.0) & (i_mean < 40.0)), i_mean
        assert sim.firmware.fire_executions == 1
        assert sim.firmware.pulses_delivered == 8
        # The firmware's record of the train agrees with what was collected.
        record = gen.train_record(1)
        assert record is not None and record.n_delivered == 8 and record.result == "COMPLETE"
        assert gen.train_record(99) is None
        codes, dt_s, lsb = gen.fetch_wave(1, 0, "voltage")
        assert codes.dtype == np.int16 and codes.size > 10 and dt_s > 0 and lsb > 0
        assert float(codes.max()) * lsb == pytest.approx(report.pulses[0].v_peak_v, rel=0.1)
        # Every frame both ways went through the traffic log.
        assert {d for d, _, _ in log} == {"tx", "rx"}
        assert all(w.endswith(b"\x00") for _, w, _ in log)
        fit = gen._link.time_fit()
        assert fit is not None and fit.pairs >= 2
    finally:
        gen.close()
    assert wait_for(lambda: sim.firmware.discharged, 2.0)


def test_buffered_train_at_five_khz_over_tcp(make_sim: Callable[..., Sim]) -> None:
    sim = make_sim(tcp=True)
    gen = FirmwareGenerator.open(sim.url)
    try:
        report = run_cycle(gen, FIVE_KHZ)
        assert report.result == "COMPLETE" and len(report.pulses) == 8
        assert sim.firmware.fire_executions == 1
    finally:
        gen.close()


def test_record_survives_a_reconnect(make_sim: Callable[..., Sim]) -> None:
    sim = make_sim()
    first = FirmwareGenerator.open(sim.url)
    try:
        report = run_cycle(first, ONE_HZ, train_id=41)
    finally:
        first.close()
    second = FirmwareGenerator.open(sim.url)
    try:
        assert second.session != first.session
        record = second.train_record(0)
        assert record is not None
        assert (record.train_id, record.n_delivered) == (41, report.n_delivered)
    finally:
        second.close()


def test_silent_host_disarms_the_firmware(make_sim: Callable[..., Sim]) -> None:
    # A stuck control loop stops heartbeats: the firmware faults and discharges on its own.
    sim = make_sim()
    gen = FirmwareGenerator.open(sim.url)
    try:
        gen.configure(ONE_HZ)
        gen.confirm_arm(gen.request_arm())
        assert sim.firmware.state == FwState.ARMED
        assert wait_for(lambda: sim.firmware.state == FwState.FAULT, 2.0)
        assert FaultCode.LINK_LOST in sim.firmware.latched_faults
        assert wait_for(lambda: sim.firmware.discharged, 2.0)
        with pytest.raises((FaultReported, LinkLost)):
            gen.service("ARMED")
    finally:
        gen.close()


def test_abort_while_armed(make_sim: Callable[..., Sim]) -> None:
    sim = make_sim()
    gen = FirmwareGenerator.open(sim.url)
    try:
        gen.configure(ONE_HZ)
        gen.confirm_arm(gen.request_arm())
        gen.abort("operator")
        assert wait_for(lambda: sim.firmware.discharged, 2.0)
        assert sim.firmware.state in (FwState.DONE, FwState.IDLE)
        assert sim.firmware.fire_executions == 0
    finally:
        gen.close()


LINK_FAULTS = [
    "link-drop:rate=0.3",
    "link-corrupt:rate=0.3",
    "link-duplicate:rate=0.5",
    "link-delay:ms=20",
    "link-delay:ms=80",
    "link-silent@6",
]


@pytest.mark.timeout(CYCLE_BOUND_S)
@pytest.mark.parametrize("fault", LINK_FAULTS)
def test_link_fault_ends_recovered_or_in_a_specific_error(
    make_sim: Callable[..., Sim], fault: str
) -> None:
    sim = make_sim(faults=(fault,), seed=3)
    outcome: TrainReport | DriverError
    gen: FirmwareGenerator | None = None
    try:
        gen = FirmwareGenerator.open(sim.url, timeout_s=2.0)
        outcome = run_cycle(gen, ONE_HZ)
    except DriverError as exc:
        outcome = exc
    finally:
        stats = gen.link_stats() if gen is not None else {}
        if gen is not None:
            gen.close()
    assert sim.firmware.fire_executions <= 1
    if isinstance(outcome, TrainReport):
        # Recovered: every pulse exactly once, whatever was lost, corrupted or doubled.
        assert sim.firmware.fire_executions == 1
        assert [p.pulse_idx for p in outcome.pulses] == list(range(8)), outcome.pulses
        assert outcome.result == "COMPLETE"
    else:
        assert isinstance(outcome, LinkLost | FaultReported), repr(outcome)
        # The firmware takes the energy off by itself.
        assert wait_for(lambda: sim.firmware.discharged, 2.0)
    kind = fault.split(":")[0].split("@")[0]
    line = sim.firmware.link_stats
    if kind == "link-corrupt":
        assert line["line_corrupted"] > 0 and stats.get("bad_crc", 0) > 0
    elif kind == "link-duplicate":
        assert line["line_duplicated"] > 0
        assert stats.get("duplicate", 0) + stats.get("stale", 0) > 0
    elif kind == "link-drop":
        assert line["line_dropped"] > 0
    elif kind == "link-silent":
        assert isinstance(outcome, LinkLost | FaultReported)
    elif fault == "link-delay:ms=80":
        # Replies come after the 50 ms deadline: retried under the same seq, answered
        # from the firmware's cache, never executed again.
        assert stats.get("retries", 0) > 0
        assert isinstance(outcome, TrainReport)


@pytest.mark.timeout(10)
def test_open_on_a_silent_line_is_link_lost(make_sim: Callable[..., Sim]) -> None:
    sim = make_sim(faults=("link-silent@1",))
    with pytest.raises(LinkLost, match="no HELLO_ACK"):
        FirmwareGenerator.open(sim.url, timeout_s=0.5)
    assert sim.firmware.session is None


def test_wrong_serial_is_refused_before_anything_is_sent(make_sim: Callable[..., Sim]) -> None:
    sim = make_sim()
    with pytest.raises(DriverError, match="SIM-0001"):
        FirmwareGenerator.open(sim.url, expected_serial="UNIT-0042")
    received = [f.frame.msg_type for f in sim.firmware.frame_log() if f.direction == "rx"]
    assert received == [MsgType.HELLO]
