"""Operator confirmation: the second key of the two-step arm.

The engine asks and keeps servicing the generator link while a person
decides, so a confirmation is a future, not a blocking call: the CLI answers
it from a prompt thread, the UI from its own thread, `--yes` at once.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, TextIO

from drivers.values import ArmOffer
from pulsehost.engine.events import TrainArming


@dataclass(frozen=True)
class ArmQuestion:
    """What the operator is asked to confirm: the train and the generator's own echo."""

    arming: TrainArming
    offer: ArmOffer

    def describe(self) -> str:
        p = self.offer.params
        rate_hz = 1e6 / p.period_us if p.period_us else 0.0
        gate = f", ECG-gated R+{p.ecg_delay_ms} ms" if p.ecg_gated else ""
        return (
            f"train {self.arming.train}/{self.arming.trains}: electrodes "
            f"{p.electrode_a}-{p.electrode_b}, {p.amplitude_v:g} V, {p.count} x {p.width_us:g} us "
            f"at {rate_hz:g} Hz, current limit {p.i_limit_a:g} A{gate} "
            f"(generator holds hash {self.offer.param_hash:08X})"
        )


class Confirmer(Protocol):
    """The operator's two keys: arm (charge) and then fire.

    The engine asks for each in turn and keeps servicing the link while the
    futures are pending. A UI shows the generator's echoed parameters with
    the arm question and offers fire only once the generator is ARMED.
    """

    def request(self, question: ArmQuestion) -> Future[bool]:
        """Start asking to arm; the future resolves True to charge, False to decline."""
        ...

    def request_fire(self, question: ArmQuestion) -> Future[bool]:
        """The generator is ARMED: resolve True to fire, False to stand down."""
        ...


def _answered(value: bool) -> Future[bool]:
    answer: Future[bool] = Future()
    answer.set_result(value)
    return answer


class AlwaysConfirm:
    """`--yes`: the operator confirmed the whole plan when starting the run."""

    def request(self, question: ArmQuestion) -> Future[bool]:
        return _answered(True)

    def request_fire(self, question: ArmQuestion) -> Future[bool]:
        return _answered(True)


class PromptConfirm:
    """Asks on a terminal, on a thread of its own so the engine keeps the link alive."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout

    def request(self, question: ArmQuestion) -> Future[bool]:
        answer: Future[bool] = Future()

        def ask() -> None:
            self._stdout.write(
                f"\nThe generator is ready to arm {question.describe()}\n"
                "Type 'arm' and Enter to charge and fire, anything else to stop: "
            )
            self._stdout.flush()
            line = self._stdin.readline()
            if not answer.done():
                answer.set_result(line.strip().lower() == "arm")

        threading.Thread(target=ask, name="arm-prompt", daemon=True).start()
        return answer

    def request_fire(self, question: ArmQuestion) -> Future[bool]:
        # The terminal prompt asked once to "charge and fire": one typed word, two steps
        # in the generator (ARM_CONFIRM, then FIRE with the token).
        return _answered(True)
