"""Typed reading of one TOML table, with errors that name the file, line and field.

A `TableReader` remembers which keys were asked for, so `finish()` can reject any
key the schema does not know (a misspelt `widht_us` must not be silently ignored).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from protocols.errors import ProtocolError
from protocols.source import SourceFile


def describe(value: object) -> str:
    """How a TOML value's type reads in an error message."""
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.date | dt.time):
        return f"a date/time ({value})"
    return type(value).__name__


def fmt(value: float) -> str:
    """A number as people write it: 3000, 0.75, 1e-05."""
    return f"{value:g}"


class TableReader:
    """Reads fields of one table; `prefix` is the table's dotted path ("" for the root)."""

    def __init__(self, source: SourceFile, prefix: str, table: Mapping[str, Any]) -> None:
        self.source = source
        self.prefix = prefix
        self._table = table
        self._asked: list[str] = []

    # -- errors -----------------------------------------------------------------

    def field(self, key: str) -> str:
        """The dotted path of `key` in this table."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str | None, reason: str) -> ProtocolError:
        """An error located at `key` (or at the table itself when `key` is None)."""
        name = self.field(key) if key else self.prefix or None
        line = self.source.line_of(name) if name else None
        return ProtocolError(reason, path=self.source.path, line=line, field=name)

    # -- presence -----------------------------------------------------------------

    def has(self, key: str) -> bool:
        """Whether the table sets `key` (asking counts as knowing the key)."""
        self._note(key)
        return key in self._table

    def _note(self, key: str) -> None:
        if key not in self._asked:
            self._asked.append(key)

    def _get(self, key: str, expected: str) -> Any:
        self._note(key)
        if key not in self._table:
            # line_of falls back to the enclosing table's header line.
            raise self.error(key, f"missing required field: expected {expected}")
        return self._table[key]

    # -- scalar fields --------------------------------------------------------------

    def number(
        self,
        key: str,
        unit: str,
        low: float,
        high: float,
        default: float | None = None,
        *,
        above: bool = False,
    ) -> float:
        """A finite number in [low, high] (or (low, high] with `above`). Integers are accepted."""
        span = f"{'above ' + fmt(low) if above else fmt(low)} to {fmt(high)}"
        expected = f"a number {span} {unit}".rstrip()
        if default is not None and key not in self._table:
            self._note(key)
            return default
        value = self._get(key, expected)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected {expected}, got {describe(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(key, f"expected {expected}, got {fmt(number)}")
        if number < low or number > high or (above and number <= low):
            raise self.error(key, f"{fmt(number)} is out of range: accepted {span} {unit}".rstrip())
        return number

    def optional_number(
        self, key: str, unit: str, low: float, high: float, *, above: bool = False
    ) -> float | None:
        """Like `number`, but None when absent."""
        if not self.has(key):
            return None
        return self.number(key, unit, low, high, above=above)

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        """A whole number in [low, high]; `8.0` is refused so a count is always exact."""
        expected = f"a whole number from {low} to {high}"
        if default is not None and key not in self._table:
            self._note(key)
            return default
        value = self._get(key, expected)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected {expected}, got {describe(value)}")
        if value < low or value > high:
            raise self.error(key, f"{value} is out of range: accepted {low} to {high}")
        return value

    def text(
        self,
        key: str,
        default: str | None = None,
        *,
        choices: Sequence[str] | None = None,
        pattern: str | None = None,
        meaning: str = "a string",
    ) -> str:
        """A string, optionally one of `choices` or matching `pattern` (a full match)."""
        expected = meaning
        if choices is not None:
            expected = "one of " + ", ".join(f"'{c}'" for c in choices)
        if default is not None and key not in self._table:
            self._note(key)
            return default
        value = self._get(key, expected)
        if not isinstance(value, str):
            raise self.error(key, f"expected {expected}, got {describe(value)}")
        if choices is not None and value not in choices:
            raise self.error(key, f"'{value}' is not known: expected {expected}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.error(key, f"{value!r} is not valid: expected {expected}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        """A TOML boolean (`true`/`false`)."""
        if key not in self._table:
            self._note(key)
            return default
        value = self._get(key, "true or false")
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {describe(value)}")
        return value

    def texts(self, key: str, *, min_items: int = 0) -> tuple[str, ...]:
        """An array of non-empty strings."""
        expected = f"an array of at least {min_items} non-empty strings"
        if min_items == 0 and key not in self._table:
            self._note(key)
            return ()
        value = self._get(key, expected)
        if not isinstance(value, list) or len(value) < min_items:
            raise self.error(key, f"expected {expected}, got {describe(value)}")
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                raise self.error(
                    key, f"item {position}: expected a non-empty string, got {describe(item)}"
                )
        return tuple(value)

    def numbers(
        self, key: str, unit: str, low: float, high: float, *, above: bool = False
    ) -> tuple[float, ...]:
        """A non-empty array of numbers, each in range, without repeats."""
        span = f"{'above ' + fmt(low) if above else fmt(low)} to {fmt(high)}"
        expected = f"a non-empty array of numbers {span} {unit}".rstrip()
        value = self._get(key, expected)
        if not isinstance(value, list) or not value:
            raise self.error(key, f"expected {expected}, got {describe(value)}")
        out: list[float] = []
        for position, item in enumerate(value, start=1):
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise self.error(key, f"item {position}: expected a number, got {describe(item)}")
            number = float(item)
            if (
                not math.isfinite(number)
                or number < low
                or number > high
                or (above and number <= low)
            ):
                accepted = f"accepted {span} {unit}".rstrip()
                raise self.error(key, f"item {position}: {fmt(number)} is out of range: {accepted}")
            if number in out:
                raise self.error(key, f"item {position}: {fmt(number)} is listed twice")
            out.append(number)
        return tuple(out)

    # -- nested tables ------------------------------------------------------------------

    def table(self, key: str) -> TableReader:
        """A required sub-table (`[key]`)."""
        value = self._get(key, f"a [{self.field(key)}] table")
        if not isinstance(value, dict):
            raise self.error(key, f"expected a [{self.field(key)}] table, got {describe(value)}")
        return TableReader(self.source, self.field(key), value)

    def optional_table(self, key: str) -> TableReader | None:
        """A sub-table, or None when absent."""
        if not self.has(key):
            return None
        return self.table(key)

    def tables(self, key: str, *, min_items: int = 0) -> list[TableReader]:
        """An array of tables (`[[key]]` blocks), each with its 1-based index in the path."""
        expected = f"at least {min_items} [[{self.field(key)}]] blocks"
        if key not in self._table:
            self._note(key)
            if min_items:
                raise self.error(key, f"missing required field: expected {expected}")
            return []
        value = self._get(key, expected)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(key, f"expected {expected}, got {describe(value)}")
        if len(value) < min_items:
            raise self.error(key, f"found {len(value)}, expected {expected}")
        return [
            TableReader(self.source, f"{self.field(key)}[{position}]", item)
            for position, item in enumerate(value, start=1)
        ]

    def finish(self, context: str = "") -> None:
        """Refuse keys the schema does not know, listing the ones it does."""
        for key in self._table:
            if key not in self._asked:
                known = ", ".join(self._asked) or "none"
                where = f" {context}" if context else ""
                raise self.error(key, f"unknown field '{key}'{where}; accepted fields: {known}")
