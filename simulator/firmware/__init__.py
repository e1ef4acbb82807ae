"""Simulated pulse-generator firmware speaking firmware link v1.

`Firmware` holds the state machine; `PtyTransport` and `TcpTransport` put it
on a pseudo-terminal or a TCP port, where the production driver reaches it
through pyserial exactly as it would reach a real unit.
"""

from simulator.firmware.device import DeviceInfo, Timings
from simulator.firmware.ecg_gate import BeatDecision, EcgFeed, GateOpener
from simulator.firmware.firmware import Firmware, LoggedFrame
from simulator.firmware.ids import IdSource, SeededIds
from simulator.firmware.train_records import TrainRecord
from simulator.firmware.transport import FirmwareTransport, PtyTransport, TcpTransport

__all__ = [
    "BeatDecision",
    "DeviceInfo",
    "EcgFeed",
    "Firmware",
    "FirmwareTransport",
    "GateOpener",
    "IdSource",
    "LoggedFrame",
    "PtyTransport",
    "SeededIds",
    "TcpTransport",
    "Timings",
    "TrainRecord",
]
