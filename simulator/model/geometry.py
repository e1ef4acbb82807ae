"""Electrode geometry as the load sees it: cell constant K (R = K/σ) and gap D (E = V/D)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


def needle_pair_cell_constant(
    distance_m: float, diameter_m: float, active_length_m: float
) -> float:
    """K = arccosh(D/d)/(πL) in 1/m for two parallel needles (end effects ignored)."""
    if not diameter_m > 0 or not active_length_m > 0:
        raise ValueError(
            f"needle pair: diameter ({diameter_m} m) and active length "
            f"({active_length_m} m) must be > 0"
        )
    if not distance_m > diameter_m:
        raise ValueError(
            f"needle pair: centre distance ({distance_m} m) must exceed the needle "
            f"diameter ({diameter_m} m)"
        )
    return math.acosh(distance_m / diameter_m) / (math.pi * active_length_m)


@dataclass(frozen=True)
class Pair:
    """One electrode pair: R = cell_constant/σ, and the nominal field E = V/distance."""

    cell_constant_per_m: float
    distance_m: float

    def __post_init__(self) -> None:
        if not self.cell_constant_per_m > 0 or not self.distance_m > 0:
            raise ValueError(
                f"pair: cell_constant_per_m ({self.cell_constant_per_m}) and distance_m "
                f"({self.distance_m}) must be > 0"
            )


# Two rows of needles 4 mm apart, 10 mm insertion: K ≈ 40–60 1/m (simulator-model §1).
NEEDLE_ROWS = Pair(cell_constant_per_m=50.0, distance_m=4e-3)

DEFAULT_PAIRS: Mapping[tuple[int, int], Pair] = MappingProxyType({(0, 1): NEEDLE_ROWS})
