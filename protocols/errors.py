"""The one exception a protocol, electrode or needle file raises when it cannot be used."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from protocols.problems import Problem


class ProtocolError(Exception):
    """A file (or an override of it) that cannot be used as written.

    The message reads `FILE:LINE: FIELD: what is wrong and what would be accepted`.
    `field` is a dotted path (`delivery.width_us`, `needle[2].x_mm`; array indices
    count from 1, as a reader counts the `[[needle]]` blocks). `line` is None when
    the problem has no single line (a missing table, a geometry refusal).
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = []
        if self.path:
            parts.append(self.path if self.line is None else f"{self.path}:{self.line}")
        if self.field:
            parts.append(self.field)
        parts.append(self.reason)
        return ": ".join(parts)


class PlanRefused(ProtocolError):
    """The files are well formed, but the geometry cannot be treated under this protocol.

    Carries every reason at once (pairs too far apart, needles too close, voltage or
    predicted current beyond the protocol's limits) so the operator fixes them in
    one pass. A voltage is never lowered to make a plan fit.
    """

    def __init__(self, problems: tuple[Problem, ...], *, path: str | None = None) -> None:
        self.problems = problems
        reasons = "; ".join(p.message for p in problems)
        super().__init__(f"plan refused: {reasons}", path=path)
