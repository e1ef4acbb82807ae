"""Scope waveform preambles and each vendor's own scaling from codes to values.

Both InfiniiVision and DS1000Z send the same ten preamble fields in the same
order, but scale differently:

- Keysight: V = (code - yreference) * yincrement + yorigin
- Rigol:    V = (code - yorigin - yreference) * yincrement

and both: t = (i - xreference) * xincrement + xorigin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers.errors import InstrumentError
from drivers.values import Waveform

BYTE_FORMAT = 0

# BYTE codes that carry no sample sit at the ends of the code range: Keysight marks a
# hole 0x00, clipped low 0x01 and clipped high 0xFF; a Rigol ADC at either rail reads
# 0x00 or 0xFF. (lowest valid code, highest valid code), each vendor:
KEYSIGHT_VALID_CODES = (0x02, 0xFE)
RIGOL_VALID_CODES = (0x01, 0xFE)


@dataclass(frozen=True)
class Preamble:
    """`:WAV:PRE?`: how to turn the codes of the current source into time and values."""

    format: int  # 0 BYTE, 1 WORD, then ASCii (4 on Keysight, 2 on Rigol)
    type: int  # 0 NORMal, 1 PEAK, 2 AVERage, 3 HRESolution (Keysight)
    points: int
    count: int
    x_increment: float
    x_origin: float
    x_reference: float
    y_increment: float
    y_origin: float
    y_reference: float

    @classmethod
    def parse(cls, reply: str, source: str = "the scope") -> Preamble:
        """Parse the ten comma-separated fields; an odd reply raises `InstrumentError`."""
        fields = [f.strip() for f in reply.strip().split(",")]
        if len(fields) != 10:
            raise InstrumentError(
                f"{source} sent a waveform preamble of {len(fields)} fields ({reply[:80]!r}); "
                "expected 10: format,type,points,count,xinc,xorg,xref,yinc,yorg,yref"
            )
        try:
            ints = [int(float(f)) for f in fields[:4]]
            floats = [float(f) for f in fields[4:]]
        except ValueError:
            raise InstrumentError(
                f"{source} sent a waveform preamble that is not all numbers: {reply[:80]!r}"
            ) from None
        preamble = cls(*ints, *floats)
        if preamble.points < 0 or not np.all(np.isfinite(floats)) or preamble.x_increment <= 0:
            raise InstrumentError(f"{source} sent an impossible waveform preamble: {reply!r}")
        return preamble


def keysight_waveform(preamble: Preamble, codes: np.ndarray, quantity: str, units: str) -> Waveform:
    """InfiniiVision BYTE data: V = (code - yref) * yinc + yorg."""
    return _waveform(
        preamble,
        codes,
        quantity,
        units,
        scale=preamble.y_increment,
        offset=preamble.y_origin,
        reference=preamble.y_reference,
        valid=KEYSIGHT_VALID_CODES,
    )


def rigol_waveform(preamble: Preamble, codes: np.ndarray, quantity: str, units: str) -> Waveform:
    """DS1000Z BYTE data: V = (code - yorigin - yreference) * yinc."""
    return _waveform(
        preamble,
        codes,
        quantity,
        units,
        scale=preamble.y_increment,
        offset=0.0,
        reference=preamble.y_origin + preamble.y_reference,
        valid=RIGOL_VALID_CODES,
    )


def _waveform(
    preamble: Preamble,
    codes: np.ndarray,
    quantity: str,
    units: str,
    *,
    scale: float,
    offset: float,
    reference: float,
    valid: tuple[int, int],
) -> Waveform:
    # BYTE codes have 256 values: scale them once, then look every sample up.
    table = ((np.arange(256, dtype=np.float64) - reference) * scale + offset).astype(np.float32)
    clipped = codes.size > 0 and (int(codes.min()) < valid[0] or int(codes.max()) > valid[1])
    return Waveform(
        quantity=quantity,
        units=units,
        t0_s=(0.0 - preamble.x_reference) * preamble.x_increment + preamble.x_origin,
        dt_s=preamble.x_increment,
        values=table[codes],
        codes=codes,
        clipped=clipped,
        scale=scale,
        offset=offset,
        reference=reference,
    )
