"""Consistent Overhead Byte Stuffing: frames contain no 0x00, so 0x00 ends a frame."""

from __future__ import annotations


class CobsError(ValueError):
    """The bytes between two delimiters are not a valid COBS encoding."""


def cobs_encode(data: bytes) -> bytes:
    """Canonical COBS (Cheshire and Baker 1999).

    A 254-byte zero-free run is a complete block; when the data ends right
    after one, no empty block follows, so the wire matches other canonical
    encoders (firmware, the golden vectors) byte for byte.
    """
    out = bytearray()
    block = bytearray()
    ended_on_full_block = False
    for byte in data:
        ended_on_full_block = False
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
                ended_on_full_block = True
    if not ended_on_full_block:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise CobsError(f"zero byte inside the encoded frame at offset {i}")
        end = i + code
        if end > n:
            raise CobsError(f"block at offset {i} claims {code - 1} bytes, only {n - i - 1} left")
        block = data[i + 1 : end]
        if 0 in block:
            raise CobsError(f"zero byte inside the encoded frame near offset {i}")
        out += block
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)
