"""The SCPI error/event queue and the standard error codes the instruments report."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from types import MappingProxyType

# SCPI-99 standard messages for the codes these instruments emit.
STANDARD_MESSAGES: Mapping[int, str] = MappingProxyType(
    {
        0: "No error",
        -100: "Command error",
        -101: "Invalid character",
        -102: "Syntax error",
        -103: "Invalid separator",
        -104: "Data type error",
        -108: "Parameter not allowed",
        -109: "Missing parameter",
        -113: "Undefined header",
        -114: "Header suffix out of range",
        -120: "Numeric data error",
        -131: "Invalid suffix",
        -138: "Suffix not allowed",
        -141: "Invalid character data",
        -200: "Execution error",
        -211: "Trigger ignored",
        -221: "Settings conflict",
        -222: "Data out of range",
        -224: "Illegal parameter value",
        -230: "Data corrupt or stale",
        -350: "Queue overflow",
        -410: "Query INTERRUPTED",
        -420: "Query UNTERMINATED",
    }
)

# SCPI caps an error description at 255 characters.
_MAX_TEXT = 255


class ScpiError(Exception):
    """An error an instrument puts in its queue: standard code plus device detail."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(self.text)

    @property
    def text(self) -> str:
        message = STANDARD_MESSAGES.get(self.code, "Device-specific error")
        return f"{message};{self.detail}"[:_MAX_TEXT] if self.detail else message

    @property
    def is_command_error(self) -> bool:
        """Command (parser) errors end the rest of the program message."""
        return -199 <= self.code <= -100


class ErrorQueue:
    """First in, first out; when full, the newest entry becomes -350 Queue overflow."""

    def __init__(self, capacity: int = 20) -> None:
        if capacity < 2:
            raise ValueError(f"error queue capacity must be 2 or more, got {capacity}")
        self._capacity = capacity
        self._entries: deque[tuple[int, str]] = deque()

    def push(self, error: ScpiError) -> None:
        if len(self._entries) < self._capacity:
            self._entries.append((error.code, error.text))
        elif self._entries[-1][0] != -350:
            self._entries[-1] = (-350, STANDARD_MESSAGES[-350])

    def pop(self) -> tuple[int, str]:
        """The oldest entry, or (0, "No error") when empty."""
        return self._entries.popleft() if self._entries else (0, STANDARD_MESSAGES[0])

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def format_error(code: int, text: str) -> str:
    """`SYST:ERR?` reply form: `-113,"Undefined header"`, `+0,"No error"`."""
    return f'{code:+d},"{text.replace(chr(34), chr(39))}"'
