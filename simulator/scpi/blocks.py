"""IEEE 488.2 definite-length arbitrary blocks: `#`, n, n length digits, the bytes."""

from __future__ import annotations


def definite_block(payload: bytes, digits: int | None = None) -> bytes:
    """Wrap `payload`; `digits` pads the length field (Keysight uses 8, Rigol 9)."""
    length = str(len(payload))
    if digits is not None:
        if not 1 <= digits <= 9 or len(length) > digits:
            raise ValueError(f"a block of {len(payload)} bytes does not fit {digits} length digits")
        length = length.zfill(digits)
    return b"#" + str(len(length)).encode() + length.encode() + payload


def short_block(payload: bytes, digits: int | None = None) -> bytes:
    """A block whose header promises all of `payload` but which carries only half of it."""
    whole = definite_block(payload, digits)
    return whole[: len(whole) - len(payload) + len(payload) // 2]
