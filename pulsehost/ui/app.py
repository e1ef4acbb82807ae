"""The Textual app: plan, deliver and review in one place.

`make_app(backend, config)` builds it; the backend decides which rig the
sessions run on (the built-in simulated bench or a rig file), so tests and the
command line build the same app. Two modes keep their own screen stacks:
`session` (setup → plan → deliver) and `review` (sessions → one session).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType

from pulsehost.ui.backend import Backend
from pulsehost.ui.config import UiConfig
from pulsehost.ui.screens.help import HelpScreen
from pulsehost.ui.screens.review import ReviewScreen
from pulsehost.ui.screens.setup import SetupScreen

if TYPE_CHECKING:
    from pulsehost.ui.screens.deliver import DeliverScreen

SESSION_MODE = "session"
SHORT_LINES = 30  # below this many lines the layout tightens (readable down to 80×24)
REVIEW_MODE = "review"


class PulsehostApp(App[None]):
    """pulsehost's terminal UI. Build it with `make_app`."""

    CSS_PATH = "pulsehost.tcss"
    TITLE = "pulsehost"
    # Every action has its key in the footer; a palette of further commands is not wanted
    # beside an arm key.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("f2", "show_session", "Session"),
        Binding("f5", "show_review", "Review"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, backend: Backend, config: UiConfig) -> None:
        super().__init__()
        self.backend = backend
        self.config = config
        self.active_delivery: DeliverScreen | None = None
        self._quit_when_safe = False

    def on_mount(self) -> None:
        if self.backend.simulated:
            self.title = "pulsehost · SIMULATED"
        self.add_mode(SESSION_MODE, lambda: SetupScreen(self.backend, self.config))
        self.add_mode(REVIEW_MODE, lambda: ReviewScreen(self.config))
        self.switch_mode(SESSION_MODE)

    def on_resize(self, event: events.Resize) -> None:
        # Fewer lines: the logs give up rows to the tables and plots.
        self.set_class(event.size.height < SHORT_LINES, "-short")

    # -- a session in progress pins the operator to its screen -----------------------------

    def delivery_began(self, screen: DeliverScreen) -> None:
        self.active_delivery = screen
        self.refresh_bindings()

    def delivery_ended(self, screen: DeliverScreen) -> None:
        if self.active_delivery is screen:
            self.active_delivery = None
        self.refresh_bindings()
        if self._quit_when_safe:
            self.exit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("show_session", "show_review") and self.active_delivery is not None:
            return None  # shown, greyed: leave the session's screen only once it has ended
        return True

    async def action_quit(self) -> None:
        """Quit; during a session stop it first and close once the stop document is written."""
        delivery = self.active_delivery
        if delivery is None:
            self.exit()
            return
        self._quit_when_safe = True
        self.notify("Stopping the session; the app closes once the generator is safe.")
        delivery.action_stop()

    def on_unmount(self) -> None:
        # Leaving any other way (an error, a signal) must not leave a session running.
        if self.active_delivery is not None:
            self.active_delivery.delivery.stop()

    # -- navigation --------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_session(self) -> None:
        self.switch_mode(SESSION_MODE)

    def action_show_review(self) -> None:
        self.switch_mode(REVIEW_MODE)

    def back_to_setup(self) -> None:
        """From a finished session back to the setup form (kept as it was filled in)."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def review_session(self, directory: Path) -> None:
        """Switch to review and open the session in `directory`."""
        self.switch_mode(REVIEW_MODE)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        review = self.screen_stack[0] if self.screen_stack else None
        if isinstance(review, ReviewScreen):
            review.open_session(directory)


def make_app(backend: Backend, config: UiConfig) -> PulsehostApp:
    """The app on `backend`, with sessions kept in `config.store`."""
    return PulsehostApp(backend, config)
