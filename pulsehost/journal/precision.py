"""How numbers read in the session views: units, decimals, times and ranges.

A measurement is shown with the decimals its instrument chain can stand
behind (V to 0.1, A to 0.01, µs to 0.1, Ω to 0.1, J to 0.001, µC to 0.1), so a
reviewer never reads noise digits. A setting (a set voltage, a rate) is shown
as it was set, without invented decimals.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

MISSING = "—"

# Display unit -> decimals of a measured value.
DECIMALS: MappingProxyType[str, int] = MappingProxyType(
    {
        "V": 1,
        "A": 2,
        "µs": 1,
        "Ω": 1,
        "J": 3,
        "µC": 1,
        "mm": 1,
        "%": 1,
        "ms": 1,
        "s": 3,
        "min": 1,
        "V/cm": 0,
        "S/m": 2,
    }
)

# Journal key suffix -> display unit (keys follow `<name>_<unit>`, e.g. `voltage_v`).
SUFFIX_UNITS: MappingProxyType[str, str] = MappingProxyType(
    {
        "v_per_cm": "V/cm",
        "v_per_a": "V/A",
        "v_per_v": "V/V",
        "s_per_m": "S/m",
        "ohm": "Ω",
        "uc": "µC",
        "us": "µs",
        "ms": "ms",
        "mm": "mm",
        "pct": "%",
        "hz": "Hz",
        "min": "min",
        "v": "V",
        "a": "A",
        "j": "J",
        "s": "s",
    }
)
_SUFFIX = re.compile(
    r"_(" + "|".join(sorted(SUFFIX_UNITS, key=len, reverse=True)) + r")$", re.IGNORECASE
)


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def fixed(value: Any, decimals: int) -> str:
    """`value` with exactly `decimals` decimals; a dash when it is not a number."""
    if not is_number(value):
        return MISSING
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text  # no "-0.0"


def setting(value: Any) -> str:
    """A value as it was set: whole numbers without decimals, others to at most 3."""
    if not is_number(value):
        return MISSING
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def measured(value: Any, unit: str) -> str:
    """A measured value to the decimals of its unit (no unit appended)."""
    decimals = DECIMALS.get(unit)
    return fixed(value, decimals) if decimals is not None else setting(value)


def with_unit(text: str, unit: str) -> str:
    """`text unit` with a thin no-break space, or the bare dash when missing."""
    if text == MISSING or not unit:
        return text
    return f"{text}\u202f{unit}" if unit != "%" else f"{text}\u202f%"


def unit_of(key: str) -> str | None:
    """The display unit a journal key's suffix names (`width_us` -> `µs`), if any."""
    match = _SUFFIX.search(key)
    return SUFFIX_UNITS[match[1].lower()] if match else None


def label_of(key: str) -> str:
    """A journal key in words without its unit suffix: `hv_bank_v` -> `hv bank`."""
    stem = _SUFFIX.sub("", key) or key
    return stem.replace("_", " ").replace("-", " ")


def keyed(key: str, value: Any) -> str:
    """A value read by its key: numbers to their unit's decimals with the unit."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return MISSING
    if is_number(value):
        unit = unit_of(key)
        if unit is None:
            return setting(value)
        return with_unit(measured(value, unit), unit)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(keyed(key, item) for item in value) or MISSING
    return str(value)


def band(low: Any, high: Any, decimals: int = 1) -> str:
    """A range `low–high`, or a dash when either end is missing."""
    if not (is_number(low) and is_number(high)):
        return MISSING
    a, b = fixed(low, decimals), fixed(high, decimals)
    return a if a == b else f"{a}–{b}"


def parse_utc(text: Any) -> datetime | None:
    """An ISO time stamp (`...Z` or with an offset) as an aware UTC datetime."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_text(text: Any, *, date: bool = True) -> str:
    """`2025-03-03 11:06:40 UTC` (or `11:06:40 UTC`); the raw text if it is no time."""
    moment = parse_utc(text)
    if moment is None:
        return MISSING if text is None else str(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if date else "%H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """`0.8 s`, `42 s`, `3 min 05 s`, `1 h 02 min`."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return MISSING
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def offset(seconds: float | None) -> str:
    """Time since the session started, `+m:ss.sss` (`+h:mm:ss` past an hour)."""
    if seconds is None or not math.isfinite(seconds):
        return MISSING
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    minutes, secs = divmod(seconds, 60.0)
    if minutes >= 60:
        hours, minutes = divmod(int(minutes), 60)
        return f"{sign}{hours}:{minutes:02d}:{int(secs):02d}"
    return f"{sign}{int(minutes)}:{secs:06.3f}"


def ranges(numbers: list[int]) -> str:
    """`1–8, 12, 14–15` for a list of integers."""
    if not numbers:
        return ""
    ordered = sorted(set(numbers))
    parts = []
    first = last = ordered[0]
    for n in ordered[1:]:
        if n == last + 1:
            last = n
            continue
        parts.append(str(first) if first == last else f"{first}–{last}")
        first = last = n
    parts.append(str(first) if first == last else f"{first}–{last}")
    return ", ".join(parts)
