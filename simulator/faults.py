"""Fault injection specs: `KIND[@PULSE][:KEY=VALUE,...]`, one fault per spec.

Examples: `open`, `overcurrent@5`, `link-corrupt:rate=0.2`, `arc@3:v=60`.
Pulse numbers are 1-based, as an operator counts them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# kind -> (what it does, accepted keys). The description is shown by the CLI.
KINDS: Mapping[str, tuple[str, frozenset[str]]] = MappingProxyType(
    {
        "open": ("electrode not in contact: load of about 1 MOhm", frozenset()),
        "poor-contact": (
            "series contact resistance; current 5-10 % of expected",
            frozenset({"ohm"}),
        ),
        "short": (
            "electrodes touching: load of a few ohms, current limit trips",
            frozenset({"ohm"}),
        ),
        "overcurrent": (
            "conductivity runs away at pulse N; current crosses the limit late in the pulse",
            frozenset(),
        ),
        "arc": ("arc at pulse N: voltage collapses, current spikes, trip", frozenset({"v", "us"})),
        "missing": ("pulse N is not delivered (empty slot)", frozenset()),
        "jitter": ("pulse start jitter and width error", frozenset({"us", "width_pct"})),
        "droop": ("small bank: plateau droops within and across pulses", frozenset({"uf"})),
        "clip": ("scope range too small: samples at the clip codes", frozenset({"fraction"})),
        "link-drop": ("firmware link drops frames from host frame N on", frozenset({"rate"})),
        "link-corrupt": ("firmware link corrupts bytes (bad CRC)", frozenset({"rate"})),
        "link-duplicate": ("firmware link delivers frames twice", frozenset({"rate"})),
        "link-delay": ("firmware link delays every frame", frozenset({"ms"})),
        "link-silent": ("firmware stops answering from host frame N on", frozenset()),
        "scope-timeout": ("scope does not answer the fetch of acquisition N", frozenset()),
        "scope-truncated": ("scope sends a short data block on acquisition N", frozenset()),
        "ecg-arrhythmia": ("irregular heart rhythm: beats withheld", frozenset({"cv"})),
        "ecg-none": ("no R waves (lead off / no ECG)", frozenset()),
    }
)

_SPEC = re.compile(
    r"^(?P<kind>[a-z][a-z-]*)(?:@(?P<pulse>[^:]*))?(?::(?P<params>.*))?$",
)


class FaultSpecError(ValueError):
    """A fault spec could not be parsed; the message lists what is accepted."""


@dataclass(frozen=True)
class Fault:
    kind: str
    at: int | None = None  # 1-based pulse (or frame/acquisition) number
    params: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, key: str, default: float) -> float:
        return float(self.params.get(key, default))

    def __str__(self) -> str:
        text = self.kind + (f"@{self.at}" if self.at is not None else "")
        if self.params:
            text += ":" + ",".join(f"{k}={_number(v)}" for k, v in sorted(self.params.items()))
        return text


def parse_fault(spec: str) -> Fault:
    match = _SPEC.match(spec.strip())
    kind = match.group("kind") if match else spec.strip()
    if not match or kind not in KINDS:
        raise FaultSpecError(f"unknown fault {kind!r} in {spec!r}; known kinds: {', '.join(KINDS)}")
    at: int | None = None
    if match.group("pulse") is not None:
        text = match.group("pulse")
        # isdigit() alone accepts "²" and other digits int() cannot read.
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise FaultSpecError(
                f"fault {spec!r}: '@{text}' must be a pulse number of 1 or more, as in {kind}@3"
            )
        at = int(text)
    allowed = KINDS[kind][1]
    params: dict[str, float] = {}
    if match.group("params"):
        for item in match.group("params").split(","):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in allowed:
                accepted = ", ".join(sorted(allowed)) or "no parameters"
                raise FaultSpecError(
                    f"fault {spec!r}: parameter {item!r} not accepted for {kind} "
                    f"(accepts {accepted}; write KEY=VALUE)"
                )
            try:
                params[key] = float(value)
            except ValueError:
                raise FaultSpecError(f"fault {spec!r}: {key}={value!r} is not a number") from None
            if not math.isfinite(params[key]):
                raise FaultSpecError(
                    f"fault {spec!r}: {key}={value.strip()} must be a finite number"
                )
    return Fault(kind=kind, at=at, params=MappingProxyType(params))


def _number(value: float) -> str:
    """Short where that loses nothing (`3`, `0.2`), every digit where it would."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def parse_faults(specs: Iterable[str]) -> tuple[Fault, ...]:
    return tuple(parse_fault(s) for s in specs)


def find(faults: Iterable[Fault], kind: str) -> Fault | None:
    return next((f for f in faults if f.kind == kind), None)
