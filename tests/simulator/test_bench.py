"""The composed bench: ports real clients open, one shared load, a rig file pointing at it."""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Iterator

import pytest
import pyvisa

from drivers.link.messages import (
    OPTION_ECG_GATING,
    EcgEvent,
    EcgKind,
    Fire,
    FwState,
    MsgType,
    TrainDone,
    TrainResult,
)
from simulator.bench import Bench
from simulator.faults import FaultSpecError
from simulator.train import DeliveredTrain
from tests.simulator.firmware.firmware_link_client import LinkClient, arm, open_port, params

pytestmark = pytest.mark.timeout(60)


class Recorder:
    """A train listener on the bench's bus."""

    def __init__(self) -> None:
        self.trains: list[DeliveredTrain] = []
        self._cond = threading.Condition()

    def on_train(self, train: DeliveredTrain) -> None:
        with self._cond:
            self.trains.append(train)
            self._cond.notify_all()

    def wait(self, n: int, timeout: float = 5.0) -> list[DeliveredTrain]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.trains) >= n, timeout), self.trains
            return list(self.trains)


@pytest.fixture
def visa() -> Iterator[pyvisa.ResourceManager]:
    rm = pyvisa.ResourceManager("@py")
    yield rm
    rm.close()


def open_instrument(
    rm: pyvisa.ResourceManager, resource: str
) -> pyvisa.resources.MessageBasedResource:
    inst = rm.open_resource(resource, read_termination="\n", write_termination="\n", timeout=2000)
    assert isinstance(inst, pyvisa.resources.MessageBasedResource)
    return inst


def connect(bench: Bench) -> LinkClient:
    client = LinkClient(open_port(bench.firmware_url))
    client.hello()
    client.start_heartbeat()
    return client


@pytest.mark.parametrize(("serial", "dialect"), [("pty", "keysight"), ("tcp", "rigol")])
def test_the_rig_file_points_at_live_instruments(
    visa: pyvisa.ResourceManager, serial: str, dialect: str
) -> None:
    with Bench(seed=2, serial=serial, scope_dialect=dialect) as bench:
        rig = tomllib.loads(bench.rig_toml())
        assert rig["rig"] == {"name": "simulated bench", "simulated": True}
        assert rig["generator"] == {
            "kind": "firmware",
            "url": bench.firmware_url,
            "serial": "SIM-0001",
        }
        assert (
            rig["scope"]["kind"]
            == {
                "keysight": "keysight-infiniivision",
                "rigol": "rigol-ds1000z",
            }[dialect]
        )
        assert rig["scope"]["resource"] == bench.scope_resource
        assert (rig["scope"]["voltage_channel"], rig["scope"]["current_channel"]) == (1, 2)
        assert rig["scope"]["hv_probe_v_per_v"] == 1000.0
        assert rig["scope"]["current_probe_v_per_a"] == 0.1
        assert rig["function_generator"] == {
            "resource": bench.fg_resource,
            "amplifier_gain": 300.0,
            "trigger_source": "BUS",
        }
        assert rig["limits"] == {"v_max_v": 3000.0, "i_max_a": 50.0}
        assert bench.firmware_url.startswith("/dev/" if serial == "pty" else "socket://127.0.0.1:")

        scope = open_instrument(visa, rig["scope"]["resource"])
        assert ("KEYSIGHT" if dialect == "keysight" else "RIGOL") in scope.query("*IDN?").upper()
        fg = open_instrument(visa, rig["function_generator"]["resource"])
        assert "33521B" in fg.query("*IDN?")
        client = connect(bench)
        assert client.session != 0
        client.close()
        scope.close()
        fg.close()


def test_closing_leaves_no_threads_or_descriptors() -> None:
    threads = {t.ident for t in threading.enumerate()}
    fds = set(os.listdir("/proc/self/fd"))
    for serial in ("pty", "tcp"):
        with Bench(serial=serial) as bench:
            client = connect(bench)
            client.close()
    assert {t.ident for t in threading.enumerate()} == threads
    assert set(os.listdir("/proc/self/fd")) == fds


def test_both_generators_feed_the_same_load_and_the_scope(visa: pyvisa.ResourceManager) -> None:
    recorder = Recorder()
    with Bench(seed=4, time_scale=20) as bench:
        bench.add_listener(recorder)
        client = connect(bench)
        challenge = arm(client, params(amplitude_v=400, count=8, period_us=200))
        start = client.mark()
        client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
        client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
        from_firmware = recorder.wait(1)[0]
        assert from_firmware.voltage_v.shape[0] == 8

        fg = open_instrument(visa, bench.fg_resource)
        for command in (
            "OUTP:LOAD INF",
            "FUNC PULS",
            "FUNC:PULS:PER 0.0002",
            "FUNC:PULS:WIDT 0.0001",
            "VOLT:LOW 0",
            f"VOLT:HIGH {400 / 300:.6f}",
            "BURS:MODE TRIG",
            "BURS:NCYC 8",
            "BURS:STAT ON",
            "TRIG:SOUR BUS",
            "OUTP ON",
            "*TRG",
        ):
            fg.write(command)
        assert fg.query("SYST:ERR?").startswith("+0") or fg.query("SYST:ERR?").startswith("0")
        from_fg = recorder.wait(2)[1]
        fg.close()
        client.close()
    assert from_fg.request.count == 8
    # One tissue: the second train finds it already electroporated by the first.
    i_first = float(abs(from_firmware.current_a[0]).max())
    i_second = float(abs(from_fg.current_a[0]).max())
    assert i_second > i_first


def test_gated_trains_follow_the_bench_ecg() -> None:
    with Bench(seed=5, time_scale=20) as bench:
        client = connect(bench)
        challenge = arm(client, params(count=2, period_us=1_000_000, options=OPTION_ECG_GATING))
        start = client.mark()
        client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
        done = client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
        events = [EcgEvent.unpack(f.payload) for f in client.events(MsgType.ECG_EVENT, start)]
        client.close()
    assert TrainDone.unpack(done.payload).result == TrainResult.COMPLETE
    triggers = [e for e in events if e.kind == EcgKind.TRIGGER]
    assert len(triggers) == 2
    # Consecutive accepted beats are a heartbeat apart (0.3-2 s), on the nominal clock.
    assert 300_000 < triggers[1].t_r_us - triggers[0].t_r_us < 2_000_000


def test_no_ecg_times_the_gated_train_out() -> None:
    with Bench(seed=5, time_scale=20, faults=["ecg-none"]) as bench:
        client = connect(bench)
        challenge = arm(client, params(count=2, period_us=1_000_000, options=OPTION_ECG_GATING))
        start = client.mark()
        client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
        done = client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
        client.wait_status(lambda s: s.state == FwState.IDLE)
        client.close()
    assert TrainDone.unpack(done.payload).result == TrainResult.ECG_TIMEOUT
    assert bench.firmware.pulses_delivered == 0


def test_the_same_seed_gives_the_same_bench() -> None:
    sessions = []
    for seed in (8, 8, 9):
        with Bench(seed=seed) as bench:
            client = connect(bench)
            sessions.append(client.session)
            client.close()
    assert sessions[0] == sessions[1] != sessions[2]


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"serial": "usb"}, ValueError, "pty, tcp"),
        ({"scope_dialect": "tek"}, ValueError, "keysight, rigol"),
        ({"tissue": "brain"}, ValueError, "tumour"),
        ({"time_scale": 0}, ValueError, "positive"),
        ({"faults": ["melt@2"]}, FaultSpecError, "link-drop"),
    ],
)
def test_bad_settings_are_refused_with_what_is_known(
    kwargs: dict[str, object], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        Bench(**kwargs)  # type: ignore[arg-type]


def test_the_bench_is_not_reachable_before_it_starts() -> None:
    bench = Bench()
    with pytest.raises(RuntimeError, match="not running"):
        _ = bench.firmware_url
