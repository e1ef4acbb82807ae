"""SCPI instruments of the simulated bench, served over TCP on 127.0.0.1.

`SimulatedFunctionGenerator` speaks the Keysight 33500 dialect and drives the
HV amplifier and load model; `SimulatedScope` digitises what the load did in
the Keysight InfiniiVision or Rigol DS1000Z dialect; `ScpiServer` puts either
on a raw socket that pyvisa-py opens as `TCPIP::127.0.0.1::PORT::SOCKET`.
"""

from simulator.scpi.error_queue import ErrorQueue, ScpiError
from simulator.scpi.function_generator import GeneratorState, SimulatedFunctionGenerator
from simulator.scpi.instrument import ScpiInstrument
from simulator.scpi.scope import SimulatedScope
from simulator.scpi.server import Exchange, ScpiServer

__all__ = [
    "ErrorQueue",
    "Exchange",
    "GeneratorState",
    "ScpiError",
    "ScpiInstrument",
    "ScpiServer",
    "SimulatedFunctionGenerator",
    "SimulatedScope",
]
