"""One measured number with the bound it is judged against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    bound: float  # the figure to compare against, measured in the same run where possible
    bound_label: str  # what the bound is, e.g. "5 kHz need" or "np.sum pass"
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        """How many times better than the bound (> 1 is good)."""
        if self.higher_is_better:
            return self.value / self.bound if self.bound else float("inf")
        return self.bound / self.value if self.value else float("inf")
