"""The operator's two keys in the app: arm, then fire, each answered by a key press.

The engine asks on its own thread and keeps the link alive while the future is
pending; the question travels to the screen as a message and the operator's key
resolves the future on the app's thread. An answer that comes too late (the
engine gave up, or the operator stopped) is dropped, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError

from textual.message import Message

from pulsehost.engine.confirm import ArmQuestion
from pulsehost.ui.messages import ArmRequested, FireRequested


class KeyConfirmer:
    """A `Confirmer` whose questions are posted with `post` and answered by `answer`."""

    def __init__(self, post: Callable[[Message], object]) -> None:
        self._post = post

    def request(self, question: ArmQuestion) -> Future[bool]:
        pending: Future[bool] = Future()
        self._post(ArmRequested(question, pending))
        return pending

    def request_fire(self, question: ArmQuestion) -> Future[bool]:
        pending: Future[bool] = Future()
        self._post(FireRequested(question, pending))
        return pending


def answer(pending: Future[bool] | None, value: bool) -> bool:
    """Resolve a pending question; False when there was none or it was already settled."""
    if pending is None or pending.done():
        return False
    try:
        pending.set_result(value)
    except InvalidStateError:  # the engine cancelled it between the check and the answer
        return False
    return True
