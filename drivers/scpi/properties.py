"""Declarative instrument settings: one line per setting, reading like the programming guide.

    width = Setting(
        "Pulse width.",
        query="FUNC:PULS:WIDT?", command="FUNC:PULS:WIDT {}",
        parse=parse_float, validator=Range(16e-9, 1e6), unit="s",
    )

Reading the attribute sends the query and parses the reply; assigning
validates, then sends the command. Validators say what the instrument can do,
nothing more: safety limits (site, protocol, operator) are checked elsewhere,
before a value ever reaches a driver. Every validator is strict: it refuses a
value outside its range or set, it never rounds or clamps one.

`{}` in `command` takes the value; other named fields (`{ch}`) come from the
owner's `setting_fields()`, so one declaration serves every channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar, overload

from drivers.errors import InstrumentError
from drivers.scpi.errors import InvalidSetting

T = TypeVar("T")

# SCPI represents infinity and not-a-number by these magic values (IEEE 488.2 7.7.2).
SCPI_INF = 9.9e37
SCPI_NAN = 9.91e37


class SettingOwner(Protocol):
    """What a `Setting` needs from the object it is declared on."""

    def write(self, command: str) -> None: ...

    def query(self, command: str) -> str: ...

    def setting_fields(self) -> Mapping[str, object]:
        """Named fields for command templates, e.g. {"ch": 1}."""
        ...


class Validator(Protocol[T]):
    """Checks a value against what the instrument accepts."""

    def check(self, value: T) -> T:
        """Return the value to send; raise `InvalidSetting` with the reason otherwise."""
        ...

    def describe(self) -> str:
        """What is accepted, for error messages and the meta-test."""
        ...


class Range:
    """A number from `low` to `high` inclusive, plus any of `also` (e.g. infinity)."""

    def __init__(self, low: float, high: float, also: tuple[float, ...] = ()) -> None:
        if not low <= high:
            raise ValueError(f"Range({low}, {high}): low must not exceed high")
        self.low = low
        self.high = high
        self.also = also

    def check(self, value: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSetting(f"{value!r} is not a number")
        if value in self.also:
            return float(value)
        if math.isnan(value) or not self.low <= value <= self.high:
            raise InvalidSetting(f"{value!r} is outside {self.describe()}")
        return float(value)

    def describe(self) -> str:
        extra = "".join(f" or {_number_text(v)}" for v in self.also)
        return f"{self.low:g} to {self.high:g}{extra}"


class IntRange:
    """A whole number from `low` to `high` inclusive."""

    def __init__(self, low: int, high: int) -> None:
        if not low <= high:
            raise ValueError(f"IntRange({low}, {high}): low must not exceed high")
        self.low = low
        self.high = high

    def check(self, value: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidSetting(f"{value!r} is not a whole number")
        if not self.low <= value <= self.high:
            raise InvalidSetting(f"{value} is outside {self.describe()}")
        return value

    def describe(self) -> str:
        return f"whole numbers {self.low} to {self.high}"


class Choices:
    """One of a fixed set of keywords, matched without regard to case."""

    def __init__(self, *choices: str) -> None:
        if not choices:
            raise ValueError("Choices needs at least one choice")
        self.choices = tuple(c.upper() for c in choices)

    def check(self, value: str) -> str:
        if not isinstance(value, str) or value.strip().upper() not in self.choices:
            raise InvalidSetting(f"{value!r} is not one of {self.describe()}")
        return value.strip().upper()

    def describe(self) -> str:
        return "|".join(self.choices)


class NumberChoices:
    """One of a fixed set of numbers (e.g. the probe ratios a scope offers)."""

    def __init__(self, *choices: float) -> None:
        if not choices:
            raise ValueError("NumberChoices needs at least one choice")
        self.choices = tuple(float(c) for c in choices)

    def check(self, value: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSetting(f"{value!r} is not a number")
        for choice in self.choices:
            if math.isclose(value, choice, rel_tol=1e-9):
                return choice
        raise InvalidSetting(f"{value!r} is not one of {self.describe()}")

    def describe(self) -> str:
        return ", ".join(f"{c:g}" for c in self.choices)


class Boolean:
    """True or False (sent as 1 or 0)."""

    def check(self, value: bool) -> bool:
        if not isinstance(value, bool):
            raise InvalidSetting(f"{value!r} is not True or False")
        return value

    def describe(self) -> str:
        return "True or False"


def parse_float(reply: str) -> float:
    """A SCPI number; the magic 9.9E+37 becomes infinity and 9.91E+37 not-a-number."""
    value = float(reply.strip())
    if math.isclose(abs(value), SCPI_NAN, rel_tol=1e-4):
        return math.nan
    if abs(value) >= SCPI_INF:
        return math.copysign(math.inf, value)
    return value


def parse_int(reply: str) -> int:
    """A SCPI integer (some instruments send `+8` or `8.0`)."""
    value = float(reply.strip())
    if not value.is_integer():
        raise ValueError(f"{reply.strip()!r} is not a whole number")
    return int(value)


def parse_bool(reply: str) -> bool:
    """`1`/`0` or `ON`/`OFF`."""
    text = reply.strip().upper()
    if text in ("1", "ON", "+1"):
        return True
    if text in ("0", "OFF", "+0"):
        return False
    raise ValueError(f"{reply.strip()!r} is not 1/0 or ON/OFF")


def parse_keyword(reply: str) -> str:
    """A keyword reply, upper-cased and stripped of quotes."""
    return reply.strip().strip('"').upper()


def to_text(value: object) -> str:
    """How a validated value is written in a command."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _number_text(value: float) -> str:
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return f"{value:.12g}"


class Setting(Generic[T]):
    """One instrument setting: query, command, reply parser, validator, unit, docstring.

    A setting without `command` is read-only; one without `query` is write-only
    and stays out of snapshots.
    """

    def __init__(
        self,
        doc: str,
        *,
        parse: Callable[[str], T],
        query: str | None = None,
        command: str | None = None,
        validator: Validator[T] | None = None,
        unit: str = "",
    ) -> None:
        if command is not None and validator is None:
            raise ValueError(f"setting {command!r} needs a validator")
        self.__doc__ = doc + (f" [{unit}]" if unit else "")
        self.query = query
        self.command = command
        self.parse = parse
        self.validator = validator
        self.unit = unit
        self.name = "?"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> Setting[T]: ...

    @overload
    def __get__(self, obj: SettingOwner, objtype: type | None = None) -> T: ...

    def __get__(self, obj: SettingOwner | None, objtype: type | None = None) -> Setting[T] | T:
        if obj is None:
            return self
        return self.read(obj)

    def __set__(self, obj: SettingOwner, value: T) -> None:
        if self.command is None or self.validator is None:
            raise AttributeError(f"{self.name} is read-only")
        try:
            checked = self.validator.check(value)
        except InvalidSetting as exc:
            raise InvalidSetting(
                f"{self.name} = {value!r} refused: {exc}; the instrument accepts "
                f"{self.validator.describe()}{f' {self.unit}' if self.unit else ''}"
            ) from None
        obj.write(self.command.format(to_text(checked), **obj.setting_fields()))

    def read(self, obj: SettingOwner) -> T:
        """Query the instrument and parse its reply."""
        if self.query is None:
            raise AttributeError(f"{self.name} is write-only")
        command = self.query.format(**obj.setting_fields())
        reply = obj.query(command)
        try:
            return self.parse(reply)
        except ValueError as exc:
            raise InstrumentError(
                f"reply {reply!r} to {command!r} ({self.name}) cannot be read: {exc}"
            ) from None


def declared_settings(cls: type) -> dict[str, Setting[Any]]:
    """Every `Setting` declared on `cls` and its bases, in declaration order."""
    found: dict[str, Setting[Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Setting):
                found[name] = value
    return found


def snapshot(owner: SettingOwner) -> dict[str, str | float | int | bool]:
    """Every readable setting of `owner`, read now, as JSON-ready values.

    Non-finite numbers become the strings "INF", "-INF" and "NAN" so that
    strict JSON can hold them.
    """
    values: dict[str, str | float | int | bool] = {}
    for name, setting in _readable(type(owner)):
        value = setting.read(owner)
        if isinstance(value, float) and not math.isfinite(value):
            value = "NAN" if math.isnan(value) else _number_text(value)
        values[name] = value
    return values


def _readable(cls: type) -> Iterator[tuple[str, Setting[Any]]]:
    for name, setting in declared_settings(cls).items():
        if setting.query is not None:
            yield name, setting
