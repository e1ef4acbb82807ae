"""The ECG indicator for gated protocols: the last beat decision the generator reported."""

from __future__ import annotations

from textual.widgets import Static

from pulsehost.engine.events import EcgSeen

TROUBLE = ("WITHHELD", "TIMEOUT", "LEAD_OFF")


class EcgView(Static):
    """`ECG gated R+50 ms · TRIGGER, RR 820 ms`; red while beats are withheld or lost."""

    def __init__(self, delay_ms: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._delay_ms = delay_ms
        self.last: EcgSeen | None = None

    def on_mount(self) -> None:
        self.update(f"ECG gated R+{self._delay_ms} ms · waiting for the first beat")

    def show(self, seen: EcgSeen) -> None:
        self.last = seen
        self.set_class(seen.kind in TROUBLE, "-trouble")
        reason = f" ({seen.reason.lower()})" if seen.reason else ""
        self.update(f"ECG gated R+{self._delay_ms} ms · {seen.kind}{reason}, RR {seen.rr_ms} ms")
