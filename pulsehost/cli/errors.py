"""Errors a command reports as one clear line and an exit code, never a traceback."""

from __future__ import annotations

from pulsehost.cli import exit_codes


class CliError(Exception):
    """An expected failure: print the message, exit with `code`."""

    def __init__(self, message: str, code: int = exit_codes.BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code
