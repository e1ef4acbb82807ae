"""Waveform fetch throughput: the scope drivers through pyvisa-py against a raw socket.

The simulated scope serves one acquisition; the production driver's `fetch()`
reads it over TCP through pyvisa-py, and a bare socket then asks the same
server the same questions and reads the same blocks with nothing in between.
The ratio is what the VISA layer and the driver cost. The server's own time is
in both, so the bound is the best any client of this server could do.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyvisa

from benchmarks.figure import Figure
from drivers.scpi.infiniivision import InfiniiVision
from drivers.scpi.rigol_ds1000z import MAX_POINTS_PER_READ, RigolDS1000Z
from drivers.scpi.scope import ScpiScope
from drivers.values import ScopeChannel, ScopeSetup
from simulator.model import LoadModel, MeasurementChain, ModelConfig
from simulator.scpi.scope import SimulatedScope
from simulator.scpi.server import ScpiServer
from simulator.train import TrainRequest

SETUP = ScopeSetup(
    voltage=ScopeChannel(1, "voltage", 1000.0, 1000.0),
    current=ScopeChannel(2, "current", 10.0, 20.0),
    sample_rate_hz=100e6,  # 200 µs window: 20 000 points a channel on the Keysight
    pre_trigger_s=10e-6,
    post_trigger_s=190e-6,
    trigger_level=100.0,
    segments=8,
)
# Rigol: one long record, 600 000 points a channel (2.4 ms at 250 MSa/s), read in windows.
RIGOL_SETUP = dataclasses.replace(
    SETUP, sample_rate_hz=250e6, pre_trigger_s=0.4e-3, post_trigger_s=2.0e-3, segments=1
)


def measure(quick: bool) -> list[Figure]:
    repeats = 5 if quick else 20
    return [
        _figure(
            "fetch 8 seg x 2 ch x 20k BYTE (InfiniiVision)",
            "keysight",
            InfiniiVision,
            SETUP,
            8,
            repeats,
            _keysight_questions,
        ),
        _figure(
            "fetch 1 x 2 ch x 600k BYTE (DS1000Z windows)",
            "rigol",
            RigolDS1000Z,
            RIGOL_SETUP,
            1,
            repeats,
            _rigol_questions,
        ),
    ]


def _figure(
    name: str,
    dialect: str,
    driver: type[ScpiScope],
    setup: ScopeSetup,
    pulses: int,
    repeats: int,
    questions: Callable[[ScpiScope], list[tuple[str, bool]]],
) -> Figure:
    with _acquired(dialect, driver, setup, pulses) as (scope, port):
        scope.fetch()  # the server encodes each block once; time the transfers only
        started = time.perf_counter()
        for _ in range(repeats):
            captures = scope.fetch()
        visa_s = time.perf_counter() - started
        size = sum(c.voltage.codes.nbytes + c.current.codes.nbytes for c in captures)
        asked = questions(scope)
        raw_s, raw_size = _raw_socket(port, asked, repeats)
    if raw_size != size:
        raise RuntimeError(f"raw socket read {raw_size} bytes, the driver {size}")
    return Figure(
        name=name,
        value=size * repeats / visa_s / 1e6,
        unit="MB/s",
        bound=size * repeats / raw_s / 1e6,
        bound_label="raw socket, same server",
        higher_is_better=True,
    )


@contextmanager
def _acquired(
    dialect: str, driver: type[ScpiScope], setup: ScopeSetup, pulses: int
) -> Iterator[tuple[ScpiScope, int]]:
    """A simulated scope holding one acquisition of `pulses` triggers, and a driver on it."""
    simulated = SimulatedScope(MeasurementChain(), seed=3, dialect=dialect)
    train = LoadModel(ModelConfig(), seed=3).deliver(
        TrainRequest(amplitude_v=900.0, width_s=100e-6, count=pulses, period_s=200e-6, i_limit_a=50)
    )
    manager = pyvisa.ResourceManager("@py")
    try:
        with ScpiServer(simulated) as server:
            scope = driver.open(server.resource, resource_manager=manager, timeout_s=10.0)
            try:
                scope.configure(setup)
                scope.arm()
                simulated.on_train(train)
                scope.wait_complete(5.0)
                yield scope, server.port
            finally:
                scope.close()
    finally:
        manager.close()


def _keysight_questions(scope: ScpiScope) -> list[tuple[str, bool]]:
    """What `InfiniiVision.fetch` asks for the data, as (message, answered by a block)."""
    assert scope.setup is not None
    asked: list[tuple[str, bool]] = []
    for k in range(1, scope.acquired() + 1):
        asked.append((f":ACQ:SEGM:IND {k}", False))
        for channel in (scope.setup.voltage, scope.setup.current):
            asked += [(f":WAV:SOUR CHAN{channel.number}", False), (":WAV:DATA?", True)]
    return asked


def _rigol_questions(scope: ScpiScope) -> list[tuple[str, bool]]:
    """What `RigolDS1000Z.fetch` asks for the data, window by window."""
    assert scope.setup is not None
    asked: list[tuple[str, bool]] = []
    for channel in (scope.setup.voltage, scope.setup.current):
        asked.append((f":WAV:SOUR CHAN{channel.number}", False))
        points = int(scope.query(":WAV:PRE?").split(",")[2])
        for start in range(1, points + 1, MAX_POINTS_PER_READ):
            stop = min(start + MAX_POINTS_PER_READ - 1, points)
            asked += [(f":WAV:STAR {start}", False), (f":WAV:STOP {stop}", False)]
            asked.append((":WAV:DATA?", True))
    return asked


def _raw_socket(port: int, asked: list[tuple[str, bool]], repeats: int) -> tuple[float, int]:
    """Ask the same questions over a bare socket; return (seconds, payload bytes per pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10.0) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        size = 0
        started = time.perf_counter()
        for _ in range(repeats):
            size = 0
            for message, block in asked:
                sock.sendall(message.encode() + b"\n")
                if block:
                    size += _read_block(sock)
        return time.perf_counter() - started, size


def _read_block(sock: socket.socket) -> int:
    """Read `#<n><len><data>\\n` into one buffer; return the data length."""
    head = _read_exactly(sock, 2)
    digits = int(head[1:2])
    length = int(_read_exactly(sock, digits))
    _read_exactly(sock, length + 1)
    return length


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    buffer = bytearray(count)
    view = memoryview(buffer)
    got = 0
    while got < count:
        n = sock.recv_into(view[got:], count - got)
        if n == 0:
            raise ConnectionError("the simulated scope closed the connection")
        got += n
    return bytes(buffer)
