"""IEEE 488.2 arbitrary blocks: `#<n><n digits of length><bytes>` and the indefinite `#0<bytes>`.

`parse_block` turns any bytes into a `Block` or one of two specific
exceptions, so a reader can tell "wait for more" (`TruncatedBlock`, which
says how many bytes are still due) from "this is not a block"
(`MalformedBlock`).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import InstrumentError


@dataclass(frozen=True)
class Block:
    """The payload of one block and where it sat in the reply."""

    data: bytes
    header_size: int  # bytes before the payload ('#', digit count, digits)


class BlockError(InstrumentError):
    """A reply that should hold an IEEE 488.2 block does not."""


class MalformedBlock(BlockError):
    """The reply is not a block: bad header, or unexpected bytes after the payload."""


class TruncatedBlock(BlockError):
    """The block ended before its announced length (or its terminator) arrived.

    `declared` is the announced payload length (None when the header itself is
    incomplete or the block is of the indefinite form), `received` the payload
    bytes present and `missing` how many more bytes a complete reply needs
    (None when that cannot be known yet).
    """

    def __init__(
        self, message: str, declared: int | None, received: int, missing: int | None
    ) -> None:
        super().__init__(message)
        self.declared = declared
        self.received = received
        self.missing = missing


def parse_block(reply: bytes | bytearray, terminator: bytes = b"\n") -> Block:
    """Parse one complete block followed by exactly `terminator`.

    Raises `TruncatedBlock` when bytes are still due and `MalformedBlock`
    when no number of further bytes could make `reply` a block.
    """
    if not reply:
        raise TruncatedBlock("empty reply where a data block was expected", None, 0, None)
    if reply[0:1] != b"#":
        raise MalformedBlock(
            f"reply starts with {_show(reply[:12])} where a data block (#…) was expected"
        )
    if len(reply) < 2:
        raise TruncatedBlock("reply ended after '#' of a data block header", None, 0, None)
    count_char = reply[1:2]
    if not count_char.isdigit():
        raise MalformedBlock(f"data block header {_show(reply[:12])}: the digit count must be 0-9")
    n_digits = int(count_char)
    if n_digits == 0:
        return _indefinite(reply, terminator)
    header_size = 2 + n_digits
    digits = reply[2:header_size]
    if not all(0x30 <= b <= 0x39 for b in digits):
        raise MalformedBlock(
            f"data block header {_show(reply[:header_size])}: the length must be "
            f"{n_digits} decimal digits"
        )
    if len(digits) < n_digits:
        raise TruncatedBlock(
            f"reply ended inside the data block header {_show(reply)}", None, 0, None
        )
    declared = int(digits)
    end = header_size + declared
    complete = end + len(terminator)
    if len(reply) < complete:
        received = max(0, min(len(reply), end) - header_size)
        raise TruncatedBlock(
            f"data block announced {declared} bytes, {received} arrived"
            + ("" if received < declared else " but no terminator followed"),
            declared,
            received,
            complete - len(reply),
        )
    if reply[end:] != terminator:
        raise MalformedBlock(
            f"data block of {declared} bytes is followed by {_show(reply[end : end + 12])}"
            f" ({len(reply) - end} bytes) instead of {_show(terminator)}"
        )
    return Block(data=bytes(reply[header_size:end]), header_size=header_size)


def _indefinite(reply: bytes | bytearray, terminator: bytes) -> Block:
    """`#0`: the payload runs to the end of the message, which the terminator marks."""
    if not terminator:
        return Block(data=bytes(reply[2:]), header_size=2)
    if len(reply) < 2 + len(terminator) or not reply.endswith(terminator):
        raise TruncatedBlock(
            "indefinite-length data block (#0) has no terminator yet",
            None,
            max(0, len(reply) - 2),
            None,
        )
    return Block(data=bytes(reply[2 : len(reply) - len(terminator)]), header_size=2)


def _show(raw: bytes | bytearray) -> str:
    """A short, printable rendering of reply bytes for an error message."""
    return repr(bytes(raw[:16])) + ("…" if len(raw) > 16 else "")
