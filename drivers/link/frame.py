"""Frame layout of firmware link v1: header, payload, CRC-32, COBS, 0x00 delimiter.

See docs/firmware-link.md §2. Integers are little-endian; the CRC is
`zlib.crc32` (CRC-32/IEEE) over header and payload.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from drivers.link.cobs import CobsError, cobs_decode, cobs_encode

VERSION = 1
MAX_PAYLOAD = 1024
HEADER = struct.Struct("<BBHHHH")
HEADER_SIZE = HEADER.size  # 10
CRC_SIZE = 4
# Longest legal encoded frame: header + payload + CRC, plus COBS overhead, plus delimiter.
MAX_WIRE = 1044

FLAG_RESP = 0x01
FLAG_ACK_REQ = 0x02
FLAG_RETX = 0x04


class FrameError(ValueError):
    """A received frame is malformed; `reason` is one of the counted rejection kinds."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    """One decoded frame. `flags` is the low nibble of `ver_flags`."""

    msg_type: int
    session: int
    seq: int
    ref_seq: int = 0
    payload: bytes = b""
    flags: int = 0
    version: int = VERSION

    @property
    def is_response(self) -> bool:
        return bool(self.flags & FLAG_RESP)

    @property
    def wants_ack(self) -> bool:
        return bool(self.flags & FLAG_ACK_REQ)

    @property
    def is_retransmission(self) -> bool:
        return bool(self.flags & FLAG_RETX)

    def with_flags(self, flags: int) -> Frame:
        return Frame(
            self.msg_type, self.session, self.seq, self.ref_seq, self.payload, flags, self.version
        )


def encode_frame(frame: Frame) -> bytes:
    """Header + payload + CRC, before COBS."""
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    header = HEADER.pack(
        ((frame.version & 0x0F) << 4) | (frame.flags & 0x0F),
        frame.msg_type,
        frame.session,
        frame.seq,
        frame.ref_seq,
        len(frame.payload),
    )
    body = header + frame.payload
    return body + struct.pack("<I", zlib.crc32(body))


def decode_frame(raw: bytes) -> Frame:
    """Parse header + payload + CRC (already COBS-decoded). Raises FrameError."""
    if len(raw) < HEADER_SIZE + CRC_SIZE:
        raise FrameError("bad_length", f"{len(raw)} bytes is shorter than a header and CRC")
    ver_flags, msg_type, session, seq, ref_seq, length = HEADER.unpack_from(raw)
    if length > MAX_PAYLOAD:
        # Short enough on the wire when the payload is mostly zeros, still illegal.
        raise FrameError("oversize", f"header says {length} payload bytes, limit {MAX_PAYLOAD}")
    if len(raw) != HEADER_SIZE + length + CRC_SIZE:
        raise FrameError(
            "bad_length", f"header says {length} payload bytes, frame has {len(raw) - 14}"
        )
    (crc,) = struct.unpack_from("<I", raw, HEADER_SIZE + length)
    if crc != zlib.crc32(raw[: HEADER_SIZE + length]):
        raise FrameError("bad_crc", f"CRC {crc:08X} does not match the frame")
    version = ver_flags >> 4
    if version != VERSION:
        raise FrameError("bad_version", f"version {version}, expected {VERSION}")
    return Frame(
        msg_type=msg_type,
        session=session,
        seq=seq,
        ref_seq=ref_seq,
        payload=bytes(raw[HEADER_SIZE : HEADER_SIZE + length]),
        flags=ver_flags & 0x0F,
        version=version,
    )


def to_wire(frame: Frame) -> bytes:
    """The bytes to write: COBS(frame) followed by the 0x00 delimiter."""
    return cobs_encode(encode_frame(frame)) + b"\x00"


def from_wire(chunk: bytes) -> Frame:
    """Decode one delimited chunk (without its 0x00). Raises FrameError."""
    if len(chunk) + 1 > MAX_WIRE:
        raise FrameError("oversize", f"{len(chunk) + 1} bytes on the wire, limit {MAX_WIRE}")
    try:
        raw = cobs_decode(chunk)
    except CobsError as exc:
        raise FrameError("bad_cobs", str(exc)) from exc
    return decode_frame(raw)


@dataclass
class FrameDecoder:
    """Splits a byte stream into frames at 0x00 and counts what it drops.

    Receivers resynchronise at the next delimiter, so one bad frame costs
    exactly that frame. Runs longer than MAX_WIRE are discarded as they grow,
    keeping memory bounded whatever arrives.
    """

    rejected: dict[str, int] = field(default_factory=dict)
    _buffer: bytearray = field(default_factory=bytearray)
    _overflowing: bool = False

    def feed(self, data: bytes) -> Iterator[Frame]:
        for byte_run in _split_keep(data):
            if byte_run == b"\x00":
                yield from self._end_of_frame()
                continue
            if self._overflowing:
                continue
            self._buffer += byte_run
            if len(self._buffer) + 1 > MAX_WIRE:
                self._buffer.clear()
                self._overflowing = True

    def _end_of_frame(self) -> Iterator[Frame]:
        if self._overflowing:
            self._overflowing = False
            self._count("oversize")
            return
        if not self._buffer:
            return  # back-to-back delimiters: nothing to decode
        chunk = bytes(self._buffer)
        self._buffer.clear()
        try:
            yield from_wire(chunk)
        except FrameError as exc:
            self._count(exc.reason)

    def _count(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def _split_keep(data: bytes) -> Iterator[bytes]:
    """Yield runs of non-zero bytes and each 0x00 on its own."""
    start = 0
    while True:
        zero = data.find(0, start)
        if zero < 0:
            if start < len(data):
                yield data[start:]
            return
        if zero > start:
            yield data[start:zero]
        yield b"\x00"
        start = zero + 1


def seq_newer(candidate: int, reference: int) -> bool:
    """True when `candidate` is 1…32767 ahead of `reference`, modulo 2**16."""
    return 0 < ((candidate - reference) & 0xFFFF) < 0x8000
