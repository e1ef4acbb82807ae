"""The Textual terminal UI: set up, plan, deliver and review sessions in one app.

    app = make_app(SimulatedBackend(), UiConfig(store=Path("sessions")))
    app.run()

The app talks to the engine and the journal; instruments are reached only
through the injected backend (`pulsehost.ui.backend`).
"""

from pulsehost.ui.app import PulsehostApp, make_app
from pulsehost.ui.backend import Backend, Delivery, RigFileBackend, RigStatus, SimulatedBackend
from pulsehost.ui.config import UiConfig

__all__ = [
    "Backend",
    "Delivery",
    "PulsehostApp",
    "RigFileBackend",
    "RigStatus",
    "SimulatedBackend",
    "UiConfig",
    "make_app",
]
