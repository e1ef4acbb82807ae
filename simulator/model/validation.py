"""Range checks for parameter objects; the message names the owner, the field and the value."""

from __future__ import annotations


def require_positive(owner: str, **values: float) -> None:
    """ValueError unless every value is > 0 (NaN fails too)."""
    for label, value in values.items():
        if not value > 0:
            raise ValueError(f"{owner}: {label} must be > 0, got {value}")


def require_non_negative(owner: str, **values: float) -> None:
    """ValueError unless every value is >= 0 (NaN fails too)."""
    for label, value in values.items():
        if not value >= 0:
            raise ValueError(f"{owner}: {label} must be >= 0, got {value}")
