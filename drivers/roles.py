"""Role interfaces the engine talks to; any hardware or the simulator fills them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from drivers.values import (
    ArmOffer,
    Capture,
    GeneratorLimits,
    GeneratorStatus,
    Identity,
    PulseParams,
    PulseTelemetry,
    ScopeSetup,
    TrainReport,
)


class PulseGenerator(Protocol):
    """A high-voltage pulse generator with two-step arming.

    The owner's control loop drives the link: it calls `service()` at least
    every 100 ms while a session is open, which sends the heartbeat and
    processes what arrived. A stuck control loop therefore silences the link
    and the generator disarms on its own.
    """

    @property
    def identity(self) -> Identity: ...

    @property
    def limits(self) -> GeneratorLimits: ...

    def configure(self, params: PulseParams) -> PulseParams:
        """Send parameters; return them as the generator holds them."""
        ...

    def request_arm(self) -> ArmOffer:
        """Step one: ask to arm and get back the parameters to show the operator."""
        ...

    def confirm_arm(self, offer: ArmOffer) -> None:
        """Step two, after explicit operator confirmation: charge to ARMED."""
        ...

    def fire(self, train_id: int) -> None:
        """Start the armed train. Never retried under a new sequence number."""
        ...

    def wait_train(
        self,
        train_id: int,
        timeout_s: float,
        on_pulse: Callable[[PulseTelemetry], None] | None = None,
    ) -> TrainReport:
        """Service the link until the train ends; `on_pulse` sees streamed summaries."""
        ...

    def service(self, host_view: str) -> None:
        """Heartbeat (if due) and process received frames; called from the control loop."""
        ...

    def status(self) -> GeneratorStatus: ...

    def abort(self, reason: str = "operator") -> None:
        """Remove energy now. Best effort even when the link looks dead; never raises.

        May be called from any thread (a stop key) while the control loop is
        waiting on the generator: implementations make that safe (the firmware
        link lets ABORT overtake; SCPI instruments serialise their exchanges).
        """
        ...

    def clear_fault(self, code: str) -> None: ...

    def close(self) -> None: ...


class Oscilloscope(Protocol):
    """A digitising scope watching the load voltage and current."""

    @property
    def identity(self) -> Identity: ...

    def configure(self, setup: ScopeSetup) -> None: ...

    def arm(self) -> None:
        """Arm a single (or segmented, per setup) acquisition and return once armed."""
        ...

    def wait_complete(self, timeout_s: float) -> int:
        """Block until the acquisition is complete; return the number of captures."""
        ...

    def fetch(self) -> tuple[Capture, ...]:
        """Read every capture of the last acquisition."""
        ...

    def close(self) -> None: ...
