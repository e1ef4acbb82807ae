"""Program data: how each kind of SCPI parameter is parsed and each reply formatted.

Numbers take an optional SI multiplier and unit (`100US`, `100 us`, `5KHZ`,
`2MV`, `1 MOHM`), the names `MINimum`, `MAXimum`, `DEFault`, and any named
specials a setting accepts (`INFinity`). SCPI reads `M` as milli and `MA` as
mega, except in `MHZ` and `MOHM`, which mean mega for historical reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from simulator.scpi.error_queue import ScpiError
from simulator.scpi.headers import Node, compile_pattern

if TYPE_CHECKING:
    from simulator.scpi.commands import Call

# A limit, fixed or worked out from the instrument's state for this call
# (a channel's probe factor, the generator's load setting).
Bound = float | Callable[["Call"], float]

_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)$")
_MNEMONIC = re.compile(r"^([A-Za-z][A-Za-z_]*?)(\d*)$")
_MULTIPLIERS: Mapping[str, float] = MappingProxyType(
    {
        "EX": 1e18,
        "PE": 1e15,
        "T": 1e12,
        "G": 1e9,
        "MA": 1e6,
        "K": 1e3,
        "M": 1e-3,
        "U": 1e-6,
        "N": 1e-9,
        "P": 1e-12,
        "F": 1e-15,
        "A": 1e-18,
    }
)
_MEGA_UNITS = frozenset({"MHZ", "MOHM"})
# SCPI's stand-in for infinity in replies.
SCPI_INFINITY = 9.9e37


def _value(bound: Bound, call: Call) -> float:
    return bound(call) if callable(bound) else bound


def _word_matches(text: str, word: str) -> bool:
    """`MIN` or `MINIMUM` for the mnemonic `MINimum`, in any case."""
    short = "".join(ch for ch in word if ch.isupper())
    return text.upper() in (short, word.upper())


@dataclass(frozen=True)
class Number:
    """A decimal setting with its range, unit and reply format."""

    low: Bound
    high: Bound
    unit: str = ""  # the SI unit a suffix may name: S, HZ, V, A, OHM
    default: Bound | None = None
    specials: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    integer: bool = False
    fmt: str = "{:+.9E}"

    def bound(self, which: str, call: Call) -> float | None:
        """The value of MIN, MAX or DEF (None when `which` names none of them)."""
        if _word_matches(which, "MINimum"):
            return _value(self.low, call)
        if _word_matches(which, "MAXimum"):
            return _value(self.high, call)
        if _word_matches(which, "DEFault") and self.default is not None:
            return _value(self.default, call)
        return None

    def parse(self, text: str, call: Call) -> float:
        where = call.header
        named = self.bound(text, call)
        if named is not None:
            return named
        for word, special in self.specials.items():
            if _word_matches(text, word):
                return special
        match = _NUMBER.match(text)
        if not match:
            raise ScpiError(-104, f"{where}: {text!r} is not a number")
        value = float(match.group(1)) * self._multiplier(match.group(2), where)
        if abs(value) >= SCPI_INFINITY:
            value = math.copysign(math.inf, value)
        if self.integer and math.isfinite(value):
            value = float(round(value))
        if math.isinf(value) and value in self.specials.values():
            return value
        low, high = _value(self.low, call), _value(self.high, call)
        if not low <= value <= high:
            raise ScpiError(
                -222,
                f"{where} {value:g}{self.unit and ' ' + self.unit} outside "
                f"{low:g}..{high:g}{self.unit and ' ' + self.unit}",
            )
        return value

    def format(self, value: float) -> str:
        if math.isinf(value):
            value = math.copysign(SCPI_INFINITY, value)
        if self.integer and abs(value) < SCPI_INFINITY:
            return f"{int(value):+d}" if self.fmt.startswith("{:+") else f"{int(value)}"
        return self.fmt.format(value)

    def _multiplier(self, suffix: str, where: str) -> float:
        if not suffix:
            return 1.0
        upper = suffix.upper()
        if not self.unit:
            raise ScpiError(-138, f"{where}: no unit accepted, got {suffix!r}")
        if upper in _MEGA_UNITS and upper.endswith(self.unit):
            return 1e6
        prefix = upper[: -len(self.unit)] if upper.endswith(self.unit) else upper
        if not prefix:
            return 1.0
        if prefix in _MULTIPLIERS:
            return _MULTIPLIERS[prefix]
        raise ScpiError(-131, f"{where}: suffix {suffix!r} is not a multiple of {self.unit}")


@dataclass(frozen=True)
class Flag:
    """ON|OFF|1|0 (any non-zero number is ON); replies 1 or 0."""

    def parse(self, text: str, call: Call) -> bool:
        where = call.header
        upper = text.upper()
        if upper in ("ON", "OFF"):
            return upper == "ON"
        match = _NUMBER.match(text)
        if not match or match.group(2):
            raise ScpiError(-224, f"{where}: {text!r} is not ON, OFF, 1 or 0")
        return round(float(match.group(1))) != 0

    def format(self, value: bool) -> str:
        return "1" if value else "0"


@dataclass(frozen=True)
class Choice:
    """One of a few mnemonics (`POSitive|NEGative`, `CHANnel<1-4>`); replies the short form.

    An option that is not a mnemonic (Rigol's `20M`) must be typed as written.
    """

    options: tuple[str, ...]
    nodes: tuple[Node, ...] = field(init=False, repr=False, compare=False)
    literals: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = [o for o in self.options if o[:1].isalpha()]
        object.__setattr__(self, "nodes", tuple(compile_pattern(o)[0] for o in words))
        object.__setattr__(self, "literals", frozenset(o for o in self.options if o not in words))

    def parse(self, text: str, call: Call) -> str:
        where = call.header
        if text.upper() in self.literals:
            return text.upper()
        match = _MNEMONIC.match(text)
        if match:
            alpha, digits = match.group(1).upper(), match.group(2)
            for node in self.nodes:
                if not node.accepts(alpha):
                    continue
                if node.suffix is None and not digits:
                    return node.short
                if node.suffix is not None:
                    number = int(digits) if digits else node.suffix[0]
                    if node.suffix[0] <= number <= node.suffix[1]:
                        return f"{node.short}{number}"
        accepted = "|".join(o.replace("<", "").replace(">", "") for o in self.options)
        raise ScpiError(-224, f"{where}: {text!r} is not one of {accepted}")

    def format(self, value: str) -> str:
        return value
