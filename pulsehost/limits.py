"""Safety limits, kept apart from what instruments can do.

Three independent ceilings meet here: the protocol's (clinical), the site's
(rig file), and the generator's own (reported at connect time). The effective
limit is the lowest, and a refusal always names which one bit and where it
was set, so an operator knows whom to ask.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str
    source: str  # e.g. "rig file bench.toml [limits] v_max_v", "generator SIM-0001 handshake"

    def describe(self) -> str:
        return f"{self.value:g} {self.unit} ({self.source})"


@dataclass(frozen=True)
class SafetyLimits:
    """Site limits from the rig file; versioned so the journal can say which applied."""

    v_max: Limit
    i_max: Limit
    version: str = "1"


def lowest(*limits: Limit) -> Limit:
    """The binding limit among several ceilings for the same quantity."""
    return min(limits, key=lambda limit: limit.value)


@dataclass(frozen=True)
class LimitProblem:
    """A planned value beyond a limit, phrased for the operator."""

    train: int
    quantity: str
    planned: float
    limit: Limit

    def __str__(self) -> str:
        return (
            f"train {self.train}: planned {self.quantity} {self.planned:g} {self.limit.unit} "
            f"exceeds the limit {self.limit.describe()}"
        )
