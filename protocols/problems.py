"""Why a plan cannot be delivered, or what to watch when it is."""

from __future__ import annotations

from dataclasses import dataclass

REFUSE = "refuse"
WARN = "warn"


@dataclass(frozen=True)
class Problem:
    """One reason, with a stable `code` for programs and a `message` for people.

    `level` is "refuse" (the plan must not be delivered as it stands) or "warn"
    (deliverable; the operator should know). `train` is the 1-based train the
    problem concerns, `pair` its electrode labels, when there is one.
    """

    code: str
    level: str
    message: str
    train: int | None = None
    pair: tuple[str, str] | None = None

    @property
    def blocking(self) -> bool:
        return self.level == REFUSE

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "level": self.level,
            "message": self.message,
            "train": self.train,
            "pair": list(self.pair) if self.pair else None,
        }
