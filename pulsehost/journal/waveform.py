"""Waveform blocks: raw sample codes in waveforms.bin, described in the journal.

A block keeps the digitiser's own codes (8 or 16 bit) with the numbers that
turn them into physical values, `value = (code - reference) * scale + offset`,
so nothing is lost to a float conversion and the bytes are what the scope sent.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Little-endian spellings as numpy writes them; `np.dtype(name)` reads them back.
CODE_DTYPES = frozenset({"|i1", "|u1", "<i2", "<u2"})
CHANNEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,31}$")


@dataclass(frozen=True, eq=False)
class WaveformBlock:
    """One channel of one pulse as digitised: raw codes plus their scaling.

    `codes` is a 1-D array of int8, uint8, int16 or uint16 codes; sample k was
    taken at `t0_s + k * dt_s` (seconds from the pulse's nominal start).
    """

    codes: np.ndarray
    scale: float
    offset: float
    reference: float
    t0_s: float
    dt_s: float
    units: str

    def problem(self) -> str | None:
        """Why this block cannot be journalled, or None when it can."""
        codes = self.codes
        if not isinstance(codes, np.ndarray) or codes.ndim != 1:
            return "codes must be a 1-D numpy array"
        if codes.dtype.newbyteorder("<").str not in CODE_DTYPES:
            return f"codes have dtype {codes.dtype}; use int8, uint8, int16 or uint16 raw codes"
        numbers = {
            "scale": self.scale,
            "offset": self.offset,
            "reference": self.reference,
            "t0_s": self.t0_s,
            "dt_s": self.dt_s,
        }
        for name, number in numbers.items():
            if not isinstance(number, int | float | np.number) or not math.isfinite(number):
                return f"{name} must be a finite number, not {number!r}"
        if self.dt_s <= 0:
            return f"dt_s must be positive, not {self.dt_s!r}"
        if not isinstance(self.units, str):
            return f"units must be a string, not {self.units!r}"
        return None

    def raw_bytes(self) -> bytes:
        """The codes as stored: little-endian, contiguous."""
        return self.codes.astype(self.codes.dtype.newbyteorder("<"), copy=False).tobytes()

    def values(self) -> np.ndarray:
        """Physical values (float64) in `units`."""
        return (self.codes.astype(np.float64) - self.reference) * self.scale + self.offset

    def time_s(self) -> np.ndarray:
        """Sample times in seconds from the pulse's nominal start."""
        return self.t0_s + np.arange(self.codes.size, dtype=np.float64) * self.dt_s


@dataclass(frozen=True)
class BlockRef:
    """Where a block sits in waveforms.bin and how to read it (the journal's view)."""

    byte_offset: int
    byte_length: int
    samples: int
    dtype: str
    scale: float
    offset: float
    reference: float
    t0_s: float
    dt_s: float
    units: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "byte_offset": self.byte_offset,
            "byte_length": self.byte_length,
            "samples": self.samples,
            "dtype": self.dtype,
            "scale": self.scale,
            "offset": self.offset,
            "reference": self.reference,
            "t0_s": self.t0_s,
            "dt_s": self.dt_s,
            "units": self.units,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, obj: Any) -> BlockRef:
        """Parse a reference read from a journal; ValueError says what is wrong."""
        if not isinstance(obj, Mapping):
            raise ValueError("is not an object")
        ints = ("byte_offset", "byte_length", "samples")
        floats = ("scale", "offset", "reference", "t0_s", "dt_s")
        for name in ints:
            if type(obj.get(name)) is not int or obj[name] < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        for name in floats:
            if type(obj.get(name)) not in (int, float):
                raise ValueError(f"{name} must be a number")
        for name in ("dtype", "units", "sha256"):
            if not isinstance(obj.get(name), str):
                raise ValueError(f"{name} must be a string")
        if obj["dtype"] not in CODE_DTYPES:
            raise ValueError(f"dtype {obj['dtype']!r} is not one of {sorted(CODE_DTYPES)}")
        if obj["samples"] * np.dtype(obj["dtype"]).itemsize != obj["byte_length"]:
            raise ValueError("byte_length does not match samples x dtype size")
        return cls(**{name: obj[name] for name in cls.__dataclass_fields__})

    @classmethod
    def describe(cls, block: WaveformBlock, byte_offset: int, sha256: str) -> BlockRef:
        data_type = block.codes.dtype.newbyteorder("<")
        return cls(
            byte_offset=byte_offset,
            byte_length=block.codes.size * data_type.itemsize,
            samples=int(block.codes.size),
            dtype=data_type.str,
            scale=float(block.scale),
            offset=float(block.offset),
            reference=float(block.reference),
            t0_s=float(block.t0_s),
            dt_s=float(block.dt_s),
            units=block.units,
            sha256=sha256,
        )

    def block(self, data: bytes) -> WaveformBlock:
        """The block these bytes hold (already checked against `sha256`)."""
        codes = np.frombuffer(data, dtype=np.dtype(self.dtype)).astype(
            np.dtype(self.dtype).newbyteorder("="), copy=True
        )
        return WaveformBlock(
            codes=codes,
            scale=self.scale,
            offset=self.offset,
            reference=self.reference,
            t0_s=self.t0_s,
            dt_s=self.dt_s,
            units=self.units,
        )


class WaveformFile:
    """Read access to a session's waveforms.bin by byte range (a missing file is empty)."""

    def __init__(self, path: Path) -> None:
        try:
            self._fd: int | None = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            self._fd = None
        self.size = os.fstat(self._fd).st_size if self._fd is not None else 0

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer at the end of the file)."""
        if self._fd is None or length == 0:
            return b""
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WaveformFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
