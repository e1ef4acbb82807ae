"""Payloads of firmware link v1, one frozen dataclass per message type.

Units follow the wire: mV, mA, ns, µs, µC, mJ, ms. Field order is the wire
order (docs/firmware-link.md §3); `pack()` and `unpack()` are exact inverses.
"""

from __future__ import annotations

import dataclasses
import enum
import struct
import zlib
from typing import ClassVar, Self

import numpy as np


class MsgType(enum.IntEnum):
    HELLO = 0x01
    HELLO_ACK = 0x02
    HEARTBEAT = 0x03
    STATUS = 0x04
    ACK = 0x05
    NAK = 0x06
    SET_PARAMS = 0x10
    ARM_REQUEST = 0x11
    ARM_CHALLENGE = 0x12
    ARM_CONFIRM = 0x13
    FIRE = 0x14
    ABORT = 0x15
    CLEAR_FAULT = 0x16
    GET_TRAIN = 0x17
    PULSE_SUMMARY = 0x20
    TRAIN_DONE = 0x21
    GET_WAVE = 0x22
    WAVE_CHUNK = 0x23
    ECG_EVENT = 0x24
    FAULT = 0x30


class FwState(enum.IntEnum):
    BOOT = 0
    IDLE = 1
    CHARGING = 2
    ARMED = 3
    FIRING = 4
    DONE = 5
    FAULT = 6


class Result(enum.IntEnum):
    OK = 0
    IN_PROGRESS = 1
    BAD_STATE = 16
    BAD_PARAM = 17
    OUT_OF_LIMITS = 18
    HASH_MISMATCH = 19
    TOKEN_INVALID = 20
    TOKEN_EXPIRED = 21
    INTERLOCK_OPEN = 22
    CAUSE_PRESENT = 23
    BUSY = 24
    UNSUPPORTED = 25


class FaultCode(enum.IntEnum):
    SELF_TEST = 1
    WATCHDOG = 2
    LINK_LOST = 3
    OVERVOLTAGE = 4
    CHARGE_TIMEOUT = 5
    OVERCURRENT = 6
    ARC = 7
    V_TOLERANCE = 8
    INTERLOCK = 9
    CRC_RATE = 10
    DISCHARGE_FAILED = 11
    STATE_MISMATCH = 12
    INTERNAL = 13


class PulseFlag(enum.IntFlag):
    OC = 0x01
    UV = 0x02
    ARC = 0x04
    CLIP = 0x08
    LATE = 0x10
    MISSING = 0x20


class TrainResult(enum.IntEnum):
    COMPLETE = 0
    ABORTED = 1
    FAULT = 2
    ECG_TIMEOUT = 3


class AbortReason(enum.IntEnum):
    OPERATOR = 0
    EXIT = 1
    HOST_FAULT = 2
    LINK = 3


class EcgKind(enum.IntEnum):
    TRIGGER = 0
    WITHHELD = 1
    TIMEOUT = 2
    LEAD_OFF = 3


class EcgReason(enum.IntEnum):
    NONE = 0
    RR_OUT_OF_BAND = 1
    ECTOPIC = 2
    NOISE = 3


OPTION_ECG_GATING = 0x0001
CAP_ECG_GATE = 0x0001
CAP_WAVEFORMS = 0x0002
R_TO_PULSE_UNGATED = 0xFFFFFFFF
PULSE_IDX_NONE = 0xFFFF
MAX_WAVE_SAMPLES = 498


class PayloadError(ValueError):
    """A payload has the wrong length or an impossible value for its type."""


@dataclasses.dataclass(frozen=True)
class _Fixed:
    """Base for fixed-size payloads described by one struct format."""

    TYPE: ClassVar[MsgType]
    FORMAT: ClassVar[struct.Struct]

    def pack(self) -> bytes:
        return self.FORMAT.pack(*dataclasses.astuple(self))

    @classmethod
    def unpack(cls, payload: bytes) -> Self:
        if len(payload) != cls.FORMAT.size:
            raise PayloadError(
                f"{cls.TYPE.name} payload is {len(payload)} bytes, expected {cls.FORMAT.size}"
            )
        return cls(*cls.FORMAT.unpack(payload))


@dataclasses.dataclass(frozen=True)
class Hello(_Fixed):
    TYPE = MsgType.HELLO
    FORMAT = struct.Struct("<BBHI")
    version: int
    rsv: int
    host_max_payload: int
    nonce: int


@dataclasses.dataclass(frozen=True)
class HelloAck(_Fixed):
    TYPE = MsgType.HELLO_ACK
    FORMAT = struct.Struct("<BBHIBBH16sIIIHHQ")
    version: int
    rsv: int
    session: int
    nonce: int
    fw_major: int
    fw_minor: int
    fw_patch: int
    serial: bytes  # 16 bytes, ASCII, NUL-padded
    v_max_mv: int
    i_max_ma: int
    max_rate_hz: int
    max_count: int
    caps: int
    fw_time_us: int

    @property
    def serial_text(self) -> str:
        return self.serial.rstrip(b"\x00").decode("ascii", errors="replace")


@dataclasses.dataclass(frozen=True)
class Heartbeat(_Fixed):
    TYPE = MsgType.HEARTBEAT
    FORMAT = struct.Struct("<BBHQ")
    host_view: int
    rsv: int
    last_fw_seq: int
    host_mono_us: int


@dataclasses.dataclass(frozen=True)
class Status(_Fixed):
    TYPE = MsgType.STATUS
    FORMAT = struct.Struct("<BBHIiHHHHIQ")
    state: int
    hv_stage: int
    interlocks: int
    faults: int
    hv_bank_mv: int
    last_host_seq: int
    crc_errors: int
    retx_seen: int
    dropped: int
    param_hash: int
    fw_time_us: int


@dataclasses.dataclass(frozen=True)
class Ack(_Fixed):
    TYPE = MsgType.ACK
    FORMAT = struct.Struct("<BBHI")
    result: int
    state: int
    rsv: int = 0
    detail: int = 0


@dataclasses.dataclass(frozen=True)
class Nak(Ack):
    TYPE = MsgType.NAK


@dataclasses.dataclass(frozen=True)
class SetParams(_Fixed):
    """Pulse parameters. v1 extends the draft with the electrode pair and polarity
    (bytes 24-27) so that the arm token binds to the pair the HV switch selects."""

    TYPE = MsgType.SET_PARAMS
    FORMAT = struct.Struct("<IIHHIIHHBBBB")
    amplitude_mv: int
    width_ns: int
    count: int
    options: int
    period_us: int
    i_limit_ma: int
    v_tol_permille: int
    ecg_delay_ms: int = 50
    electrode_a: int = 0
    electrode_b: int = 1
    polarity: int = 0  # 0: a positive, 1: b positive
    rsv: int = 0

    @property
    def param_hash(self) -> int:
        return zlib.crc32(self.pack())


@dataclasses.dataclass(frozen=True)
class ArmRequest(_Fixed):
    TYPE = MsgType.ARM_REQUEST
    FORMAT = struct.Struct("<I")
    param_hash: int


@dataclasses.dataclass(frozen=True)
class ArmChallenge:
    TYPE: ClassVar[MsgType] = MsgType.ARM_CHALLENGE
    HEAD: ClassVar[struct.Struct] = struct.Struct("<III")
    token: int
    expires_in_ms: int
    param_hash: int
    params: SetParams

    def pack(self) -> bytes:
        return self.HEAD.pack(self.token, self.expires_in_ms, self.param_hash) + self.params.pack()

    @classmethod
    def unpack(cls, payload: bytes) -> ArmChallenge:
        size = cls.HEAD.size + SetParams.FORMAT.size
        if len(payload) != size:
            raise PayloadError(f"ARM_CHALLENGE payload is {len(payload)} bytes, expected {size}")
        token, expires, param_hash = cls.HEAD.unpack_from(payload)
        return cls(token, expires, param_hash, SetParams.unpack(payload[cls.HEAD.size :]))


@dataclasses.dataclass(frozen=True)
class ArmConfirm(_Fixed):
    TYPE = MsgType.ARM_CONFIRM
    FORMAT = struct.Struct("<II")
    token: int
    param_hash: int


@dataclasses.dataclass(frozen=True)
class Fire(_Fixed):
    TYPE = MsgType.FIRE
    FORMAT = struct.Struct("<II")
    token: int
    train_id: int


@dataclasses.dataclass(frozen=True)
class Abort(_Fixed):
    TYPE = MsgType.ABORT
    FORMAT = struct.Struct("<B")
    reason: int


@dataclasses.dataclass(frozen=True)
class ClearFault(_Fixed):
    TYPE = MsgType.CLEAR_FAULT
    FORMAT = struct.Struct("<H")
    code: int


@dataclasses.dataclass(frozen=True)
class GetTrain(_Fixed):
    """Ask for the record of a train (0 = the last one); answered by TRAIN_DONE as a reply.

    Lets a host that lost its link reconcile what was delivered.
    """

    TYPE = MsgType.GET_TRAIN
    FORMAT = struct.Struct("<I")
    train_id: int


@dataclasses.dataclass(frozen=True)
class PulseSummary(_Fixed):
    TYPE = MsgType.PULSE_SUMMARY
    FORMAT = struct.Struct("<IHHQIiiiiiII")
    train_id: int
    pulse_idx: int
    flags: int
    t_start_us: int
    width_ns: int
    v_peak_mv: int
    v_mean_mv: int
    i_peak_ma: int
    i_mean_ma: int
    charge_uc: int
    energy_mj: int
    r_to_pulse_us: int = R_TO_PULSE_UNGATED


@dataclasses.dataclass(frozen=True)
class TrainDone(_Fixed):
    TYPE = MsgType.TRAIN_DONE
    FORMAT = struct.Struct("<IHHBBHHHQ")
    train_id: int
    n_requested: int
    n_delivered: int
    result: int
    rsv: int
    flags_or: int
    withheld: int
    waves_stored: int
    t_end_us: int


@dataclasses.dataclass(frozen=True)
class GetWave(_Fixed):
    TYPE = MsgType.GET_WAVE
    FORMAT = struct.Struct("<IHBBIH")
    train_id: int
    pulse_idx: int
    channel: int  # 0 voltage, 1 current
    rsv: int
    offset: int
    max_samples: int


@dataclasses.dataclass(frozen=True)
class WaveChunk:
    TYPE: ClassVar[MsgType] = MsgType.WAVE_CHUNK
    HEAD: ClassVar[struct.Struct] = struct.Struct("<IHBBIIIiHH")
    train_id: int
    pulse_idx: int
    channel: int
    format: int  # 0 = i16
    offset: int
    total: int
    dt_ns: int
    lsb: int  # µV or µA per count
    samples: tuple[int, ...]

    def pack(self) -> bytes:
        n = len(self.samples)
        if n > MAX_WAVE_SAMPLES:
            raise PayloadError(f"WAVE_CHUNK carries at most {MAX_WAVE_SAMPLES} samples, got {n}")
        head = self.HEAD.pack(
            self.train_id,
            self.pulse_idx,
            self.channel,
            self.format,
            self.offset,
            self.total,
            self.dt_ns,
            self.lsb,
            n,
            0,
        )
        return head + np.asarray(self.samples, dtype="<i2").tobytes()

    @classmethod
    def unpack(cls, payload: bytes) -> WaveChunk:
        if len(payload) < cls.HEAD.size:
            raise PayloadError(f"WAVE_CHUNK payload is {len(payload)} bytes, shorter than header")
        train_id, pulse_idx, channel, fmt, offset, total, dt_ns, lsb, n, _ = cls.HEAD.unpack_from(
            payload
        )
        if n > MAX_WAVE_SAMPLES or len(payload) != cls.HEAD.size + 2 * n:
            raise PayloadError(f"WAVE_CHUNK says {n} samples but carries {len(payload)} bytes")
        samples = tuple(int(x) for x in np.frombuffer(payload, dtype="<i2", offset=cls.HEAD.size))
        return cls(train_id, pulse_idx, channel, fmt, offset, total, dt_ns, lsb, samples)


@dataclasses.dataclass(frozen=True)
class EcgEvent(_Fixed):
    TYPE = MsgType.ECG_EVENT
    FORMAT = struct.Struct("<IBBHQHH")
    train_id: int
    kind: int
    reason: int
    rr_ms: int
    t_r_us: int
    next_pulse: int
    rsv: int = 0


@dataclasses.dataclass(frozen=True)
class FaultReport(_Fixed):
    TYPE = MsgType.FAULT
    FORMAT = struct.Struct("<HBBiIHHQ")
    code: int
    latched: int
    state_before: int
    hv_mv: int
    train_id: int
    pulse_idx: int
    detail: int
    fw_time_us: int


Message = (
    Hello
    | HelloAck
    | Heartbeat
    | Status
    | Ack
    | Nak
    | SetParams
    | ArmRequest
    | ArmChallenge
    | ArmConfirm
    | Fire
    | Abort
    | ClearFault
    | GetTrain
    | PulseSummary
    | TrainDone
    | GetWave
    | WaveChunk
    | EcgEvent
    | FaultReport
)

PAYLOAD_CLASSES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Hello,
        HelloAck,
        Heartbeat,
        Status,
        Ack,
        Nak,
        SetParams,
        ArmRequest,
        ArmChallenge,
        ArmConfirm,
        Fire,
        Abort,
        ClearFault,
        GetTrain,
        PulseSummary,
        TrainDone,
        GetWave,
        WaveChunk,
        EcgEvent,
        FaultReport,
    )
}


def decode_payload(msg_type: int, payload: bytes) -> Message:
    """Raise KeyError for an unknown type, PayloadError for a wrong length."""
    return PAYLOAD_CLASSES[msg_type].unpack(payload)
