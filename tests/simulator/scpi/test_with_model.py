"""Generator, load model, measurement chain and scope end to end over TCP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from simulator.model import LoadModel, MeasurementChain, ModelConfig, measure
from simulator.scpi import ScpiServer, SimulatedFunctionGenerator, SimulatedScope
from simulator.train import DeliveredTrain
from tests.simulator.scpi.conftest import drain_errors

pytestmark = pytest.mark.timeout(60)

FG_SETUP = (
    "*RST;*CLS;:OUTP:LOAD INF;:FUNC PULS;:FUNC:PULS:WIDT 100e-6;PER 2e-4;"
    ":VOLT:LOW 0;HIGH 2;:BURS:MODE TRIG;NCYC 8;STAT ON;:TRIG:SOUR BUS"
)
SCOPE_SETUP = (
    ":STOP;:TIM:SCAL 2e-5;POS 8e-5;:TRIG:EDGE:SOUR EXT;"
    ":CHAN1:DISP 1;PROB 1000;SCAL 120;OFFS 300;:CHAN2:DISP 1;PROB 10;UNIT AMP;SCAL 5;OFFS 15;"
    ":ACQ:MODE SEGM;:ACQ:SEGM:COUN 8;"
    ":WAV:FORM BYTE;UNS 1;POIN:MODE RAW;:WAV:POIN 10000"
)


class Recording:
    """The model's own `measure`, remembering the inputs it produced."""

    def __init__(self) -> None:
        self.inputs: list[tuple[DeliveredTrain, np.ndarray, np.ndarray]] = []

    def __call__(
        self,
        train: DeliveredTrain,
        chain: MeasurementChain,
        rng: np.random.Generator,
        full_scale_v: tuple[float, float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        v_in, i_in = measure(train, chain, rng, full_scale_v)
        self.inputs.append((train, v_in, i_in))
        return v_in, i_in


def test_bus_triggered_train_is_captured_segment_by_segment(connect: Callable[..., Any]) -> None:
    recording = Recording()
    scope = SimulatedScope(MeasurementChain(), seed=11, dialect="keysight", measure=recording)
    load = LoadModel(ModelConfig(), seed=7)
    generator = SimulatedFunctionGenerator(load.deliver, scope.on_train)
    with ScpiServer(generator) as fg_server, ScpiServer(scope) as scope_server:
        fg, sc = connect(fg_server), connect(scope_server)
        fg.write(FG_SETUP + ";:OUTP ON")
        sc.write(SCOPE_SETUP + ";:SING")
        assert fg.query("*OPC?") == sc.query("*OPC?") == "1"
        fg.write("*TRG")
        assert fg.query("*OPC?") == "1"
        assert drain_errors(fg.query) == [] and drain_errors(sc.query) == []
        assert sc.query(":WAV:SEGM:COUN?") == "+8"
        assert not int(sc.query(":OPER:COND?")) & 0x08
        ((train, v_in, i_in),) = recording.inputs
        assert train.request.amplitude_v == pytest.approx(600.0)
        axis = train.t0_s + np.arange(v_in.shape[1]) / train.fs_hz
        for index in (1, 5, 8):
            sc.write(f":ACQ:SEGM:IND {index}")
            tag = float(sc.query(":WAV:SEGM:TTAG?"))
            assert tag == pytest.approx(
                train.pulse_times_s[index - 1] - train.pulse_times_s[0], abs=1e-9
            )
            for channel, inputs, probe in ((1, v_in, 1000.0), (2, i_in, 10.0)):
                sc.write(f":WAV:SOUR CHAN{channel}")
                fields = [float(f) for f in sc.query(":WAV:PRE?").split(",")]
                codes = sc.query_binary_values(
                    ":WAV:DATA?", datatype="B", container=np.array, header_fmt="ieee",
                    expect_termination=True,
                )  # fmt: skip
                times = (np.arange(codes.size) - fields[6]) * fields[4] + fields[5]
                values = (codes - fields[9]) * fields[7] + fields[8]
                truth = np.interp(times, axis, inputs[index - 1]) * probe
                assert not np.isin(codes, (0x00, 0x01, 0xFF)).any()
                assert np.abs(values - truth).max() <= fields[7]


def test_chain_alone_uses_the_model_measurement(connect: Callable[..., Any]) -> None:
    scope = SimulatedScope(MeasurementChain(noise_fraction=0.02), seed=1, dialect="rigol")
    load = LoadModel(ModelConfig(), seed=2)
    generator = SimulatedFunctionGenerator(load.deliver, scope.on_train)
    with ScpiServer(scope) as server:
        sc = connect(server)
        sc.write(
            ":STOP;:TIM:MAIN:SCAL 2e-5;OFFS 1e-4;:CHAN1:PROB 1000;SCAL 100;OFFS -300;"
            ":TRIG:EDG:SOUR CHAN1;LEV 300;:WAV:MODE RAW;FORM BYTE;STAR 1;STOP 1200;:SING"
        )
        assert sc.query("*OPC?") == "1"
        generator.handle(FG_SETUP + ";:OUTP ON;*TRG")
        assert sc.query(":TRIG:STAT?") == "STOP"
        codes = sc.query_binary_values(
            ":WAV:DATA?", datatype="B", container=np.array, header_fmt="ieee",
            expect_termination=True,
        )  # fmt: skip
    # Before the pulse the chain's noise moves the baseline codes; ideal probes would not.
    assert np.unique(codes[600:1200]).size > 2
