"""The whole simulated bench: generator firmware, SCPI function generator and scope.

    with Bench(seed=1, faults=["overcurrent@5"]) as bench:
        print(bench.firmware_url, bench.fg_resource, bench.scope_resource)
        print(bench.rig_toml())

One load model, one ECG source and one train bus are shared: whichever
generator fires (the firmware on its pty or TCP port, or the function
generator driving the HV amplifier), the load answers with the same tissue
state and the scope sees the pulses. Everything runs on background threads
and is reached only through real transports, so production drivers run
unchanged against it.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TypeVar

import numpy as np

from drivers.link.messages import EcgReason
from simulator.ecg import EcgGate, EcgSource
from simulator.faults import Fault, parse_fault
from simulator.firmware import (
    BeatDecision,
    DeviceInfo,
    EcgFeed,
    Firmware,
    FirmwareTransport,
    PtyTransport,
    TcpTransport,
)
from simulator.model import (
    DEFAULT_PAIRS,
    LoadModel,
    MeasurementChain,
    ModelConfig,
    Pair,
    summarize,
)
from simulator.model import tissue as tissue_named
from simulator.scpi import ScpiServer, SimulatedFunctionGenerator, SimulatedScope
from simulator.train import DeliveredTrain, TrainListener, TrainRequest

SERIAL_KINDS = ("pty", "tcp")
SCOPE_KINDS: Mapping[str, str] = {
    "keysight": "keysight-infiniivision",
    "rigol": "rigol-ds1000z",
}
AMPLIFIER_GAIN = 300.0
GATE_WARMUP_S = 10.0
_T = TypeVar("_T")  # the gate has watched the monitor this long before FIRE opens it


class TrainBus:
    """Hands every delivered train to every listener, one train at a time."""

    def __init__(self) -> None:
        self._listeners: list[TrainListener] = []
        self._lock = threading.Lock()

    def add(self, listener: TrainListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: TrainListener) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def publish(self, train: DeliveredTrain) -> None:
        with self._lock:
            for listener in list(self._listeners):
                listener.on_train(train)


class EcgGateFeed:
    """The bench's ECG as the firmware's gate sees it: beats judged by an `EcgGate`.

    A fresh gate per train learns the rhythm from the beats of the last
    `GATE_WARMUP_S` before FIRE, as a generator watching the monitor would;
    the subject's ECG runs that much ahead of the firmware's clock, so even a
    FIRE right after boot finds a learned rhythm. The firmware learns of an R
    wave when the monitor's trigger reaches it.
    """

    def __init__(self, source: EcgSource, open_s: float) -> None:
        self._source = source
        self._gate = EcgGate()
        for beat in source.beats(open_s, open_s + GATE_WARMUP_S):
            self._gate.judge(beat)

    def beats(self, t0_s: float, t1_s: float) -> Iterator[BeatDecision]:
        offset = GATE_WARMUP_S
        for beat in self._source.beats(t0_s + offset, t1_s + offset):
            decision = self._gate.judge(beat)
            reason = EcgReason(int(decision.reason)) if decision.reason else EcgReason.NONE
            yield BeatDecision(
                t_r_s=beat.t_detect_s - offset,
                rr_ms=min(0xFFFF, round(beat.rr_s * 1000)),
                accepted=decision.accept,
                reason=reason,
            )


class Bench:
    """The simulated bench, started on entering the `with` block and stopped on leaving it.

    `faults` are fault specs (`"overcurrent@5"`, `"link-drop@10:rate=0.2"`) or
    parsed `Fault`s; bad specs raise `FaultSpecError` naming the known kinds.
    `time_scale` compresses the firmware's pulse periods, charging and ECG
    beats (never its safety timers); reported firmware times stay nominal.
    `chain` sets the probes the scope sees the load through (default: a
    1000:1 HV probe and a 0.1 V/A current transformer).
    """

    def __init__(
        self,
        seed: int = 0,
        tissue: str = "tumour",
        faults: Iterable[str | Fault] = (),
        pairs: Mapping[tuple[int, int], Pair] | None = None,
        time_scale: float = 1.0,
        serial: str = "pty",
        scope_dialect: str = "keysight",
        chain: MeasurementChain | None = None,
    ) -> None:
        if serial not in SERIAL_KINDS:
            raise ValueError(f"serial {serial!r} unknown; use one of: {', '.join(SERIAL_KINDS)}")
        if scope_dialect not in SCOPE_KINDS:
            raise ValueError(
                f"scope dialect {scope_dialect!r} unknown; use one of: {', '.join(SCOPE_KINDS)}"
            )
        if not (time_scale > 0 and math.isfinite(time_scale)):
            raise ValueError(f"time scale must be a positive number, got {time_scale}")
        self.seed = seed
        self.tissue_name = tissue
        self.faults = tuple(f if isinstance(f, Fault) else parse_fault(f) for f in faults)
        self.time_scale = time_scale
        self.serial = serial
        self.scope_dialect = scope_dialect
        self.device = DeviceInfo()
        # Independent streams per subsystem, all from the one bench seed.
        model_seed, scope_seed, ecg_seed = (
            int(x) for x in np.random.SeedSequence(seed).generate_state(3)
        )
        self.chain = chain or MeasurementChain()
        self.model = LoadModel(
            ModelConfig(tissue=tissue_named(tissue), pairs=pairs or DEFAULT_PAIRS),
            seed=model_seed,
            faults=self.faults,
        )
        self.ecg = EcgSource.from_faults(ecg_seed, self.faults)
        self.bus = TrainBus()
        self.scope = SimulatedScope(
            self.chain, seed=scope_seed, dialect=scope_dialect, faults=self.faults
        )
        self.bus.add(self.scope)
        self._model_lock = threading.Lock()
        self.function_generator = SimulatedFunctionGenerator(
            self._deliver,
            self.bus.publish,
            amplifier_gain=AMPLIFIER_GAIN,
            amplifier_i_max_a=self.device.i_max_a,
            v_max_v=self.device.v_max_v,
        )
        self.firmware = Firmware(
            self._deliver,
            summarize,
            publish=self.bus.publish,
            open_gate=self._open_gate,
            pair_known=self._pair_known,
            seed=seed,
            faults=self.faults,
            time_scale=time_scale,
            device=self.device,
            epoch_s=time.monotonic(),
        )
        self._transport: FirmwareTransport | None = None
        self._scope_server: ScpiServer | None = None
        self._fg_server: ScpiServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Bench:
        """Open the ports and start serving; closes whatever started if one fails."""
        if self._transport is not None:
            return self
        try:
            self._scope_server = ScpiServer(self.scope).start()
            self._fg_server = ScpiServer(self.function_generator).start()
            transport: FirmwareTransport = (
                PtyTransport(self.firmware) if self.serial == "pty" else TcpTransport(self.firmware)
            )
            self._transport = transport
            transport.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every server and thread and close every descriptor. Idempotent."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        for server in (self._fg_server, self._scope_server):
            if server is not None:
                server.close()
        self._fg_server = self._scope_server = None

    def __enter__(self) -> Bench:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ where to connect

    @property
    def firmware_url(self) -> str:
        """The pty device path or `socket://127.0.0.1:PORT`, for pyserial."""
        return _started(self._transport).url

    @property
    def fg_resource(self) -> str:
        return _started(self._fg_server).resource

    @property
    def scope_resource(self) -> str:
        return _started(self._scope_server).resource

    @property
    def transport(self) -> FirmwareTransport:
        return _started(self._transport)

    def add_listener(self, listener: TrainListener) -> None:
        """Watch every train either generator delivers (besides the scope)."""
        self.bus.add(listener)

    def rig_toml(self, name: str = "simulated bench") -> str:
        """A rig file for `pulsehost run --rig`, pointing at this bench's ports."""
        scope_kind = SCOPE_KINDS[self.scope_dialect]
        faults = ", ".join(str(f) for f in self.faults) or "none"
        return "\n".join(
            [
                f"# SIMULATED: seed {self.seed}, tissue {self.tissue_name}, faults: {faults}",
                "[rig]",
                f"name = {_toml_str(name)}",
                "simulated = true",
                "",
                "[generator]",
                'kind = "firmware"',
                f"url = {_toml_str(self.firmware_url)}",
                f"serial = {_toml_str(self.device.serial)}",
                "",
                "[scope]",
                f"kind = {_toml_str(scope_kind)}",
                f"resource = {_toml_str(self.scope_resource)}",
                "voltage_channel = 1",
                "current_channel = 2",
                f"hv_probe_v_per_v = {self.chain.hv_probe_v_per_v!r}",
                f"current_probe_v_per_a = {self.chain.current_probe_v_per_a!r}",
                "",
                "[function_generator]  # alternative generator path (FG + HV amplifier)",
                f"resource = {_toml_str(self.fg_resource)}",
                f"amplifier_gain = {AMPLIFIER_GAIN!r}",
                'trigger_source = "BUS"  # no firmware FIRE line here: the host sends *TRG',
                "",
                "[limits]",
                f"v_max_v = {self.device.v_max_v!r}",
                f"i_max_a = {self.device.i_max_a!r}",
                "",
            ]
        )

    # ------------------------------------------------------------------ internals

    def _deliver(self, request: TrainRequest) -> DeliveredTrain:
        # The firmware and the function generator fire from different threads;
        # the tissue between a pair has one state, so one train at a time.
        with self._model_lock:
            return self.model.deliver(request)

    def _open_gate(self, open_s: float) -> EcgFeed:
        return EcgGateFeed(self.ecg, open_s)

    def _pair_known(self, pair: tuple[int, int]) -> bool:
        pairs = self.model.config.pairs
        return pair in pairs or (pair[1], pair[0]) in pairs


def _started(part: _T | None) -> _T:
    if part is None:
        raise RuntimeError("the bench is not running; use it in a `with` block or start() it")
    return part


def _toml_str(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(text)
