"""Declarative settings: validators, reply parsers, and the Setting descriptor."""

from __future__ import annotations

import math

import pytest

from drivers.errors import InstrumentError
from drivers.scpi.base import ScpiInstrument
from drivers.scpi.errors import InvalidSetting
from drivers.scpi.properties import (
    Boolean,
    Choices,
    IntRange,
    NumberChoices,
    Range,
    Setting,
    declared_settings,
    parse_bool,
    parse_float,
    parse_int,
    parse_keyword,
    to_text,
)
from tests.drivers.conversation import Conversation


class Toy(ScpiInstrument):
    level = Setting(
        "A level.",
        query="LEV?",
        command="LEV {}",
        parse=parse_float,
        validator=Range(-1.0, 1.0),
        unit="V",
    )
    mode = Setting(
        "A mode.",
        query="MODE?",
        command="MODE {}",
        parse=parse_keyword,
        validator=Choices("A", "B"),
    )
    count = Setting("Read only.", query="COUN?", parse=parse_int)
    poke = Setting("Write only.", command="POKE {}", parse=parse_bool, validator=Boolean())


@pytest.mark.parametrize(
    ("validator", "good", "sent"),
    [
        (Range(0, 10), 5, 5.0),
        (Range(0, 10), 0, 0.0),
        (Range(0, 10), 10.0, 10.0),
        (Range(1, 10, also=(math.inf,)), math.inf, math.inf),
        (IntRange(1, 8), 8, 8),
        (Choices("POS", "NEG"), " neg ", "NEG"),
        (NumberChoices(1, 10, 100), 10.0000000001, 10.0),
        (Boolean(), False, False),
    ],
)
def test_validators_accept_and_normalise(validator, good, sent) -> None:
    assert validator.check(good) == sent


@pytest.mark.parametrize(
    ("validator", "bad"),
    [
        (Range(0, 10), 10.0001),
        (Range(0, 10), -1e-12),
        (Range(0, 10), math.nan),
        (Range(0, 10), math.inf),
        (Range(0, 10), "5"),
        (Range(0, 10), True),
        (IntRange(1, 8), 9),
        (IntRange(1, 8), 2.0),
        (IntRange(1, 8), True),
        (Choices("POS", "NEG"), "EITHER"),
        (Choices("POS", "NEG"), 1),
        (NumberChoices(1, 10, 100), 20),
        (Boolean(), 1),
    ],
)
def test_validators_refuse_without_rounding(validator, bad) -> None:
    with pytest.raises(InvalidSetting):
        validator.check(bad)


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("+1.00000000E-04\n", 1e-4),
        ("9.9E+37", math.inf),
        ("-9.9E+37", -math.inf),
        ("42", 42.0),
    ],
)
def test_parse_float(reply: str, value: float) -> None:
    assert parse_float(reply) == value


def test_parse_float_not_a_number_code() -> None:
    assert math.isnan(parse_float("9.91E+37"))


@pytest.mark.parametrize(("reply", "value"), [("+8", 8), ("8.0", 8), ("100000000", 100_000_000)])
def test_parse_int(reply: str, value: int) -> None:
    assert parse_int(reply) == value


@pytest.mark.parametrize("reply", ["8.5", "eight", ""])
def test_parse_int_refuses(reply: str) -> None:
    with pytest.raises(ValueError):
        parse_int(reply)


@pytest.mark.parametrize(
    ("reply", "value"), [("1", True), ("ON", True), ("0", False), ("off", False)]
)
def test_parse_bool(reply: str, value: bool) -> None:
    assert parse_bool(reply) is value


def test_parse_bool_refuses_other_text() -> None:
    with pytest.raises(ValueError):
        parse_bool("2")


def test_parse_keyword_strips_quotes_and_case() -> None:
    assert parse_keyword(' "chan1"\n') == "CHAN1"


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "1"), (False, "0"), (1e-4, "0.0001"), (math.inf, "INF"), ("BUS", "BUS")],
)
def test_to_text(value: object, text: str) -> None:
    assert to_text(value) == text


def test_setting_round_trip() -> None:
    with Conversation([("LEV 0.25", None), ("LEV?", "+2.5E-01")]) as conv:
        toy = Toy(conv)
        toy.level = 0.25
        assert toy.level == 0.25


def test_refused_value_sends_nothing_and_names_the_setting() -> None:
    with Conversation([]) as conv:
        toy = Toy(conv)
        with pytest.raises(InvalidSetting, match=r"level = 2 refused.*-1 to 1 V"):
            toy.level = 2


def test_read_only_and_write_only() -> None:
    with Conversation([("POKE 1", None)]) as conv:
        toy = Toy(conv)
        toy.poke = True
        with pytest.raises(AttributeError, match="write-only"):
            _ = toy.poke
        with pytest.raises(AttributeError, match="read-only"):
            toy.count = 3  # type: ignore[misc]


def test_unreadable_reply_names_command_and_setting() -> None:
    with Conversation([("LEV?", "banana")]) as conv:
        toy = Toy(conv)
        with pytest.raises(InstrumentError, match=r"'LEV\?' \(level\)"):
            _ = toy.level


def test_snapshot_reads_every_readable_setting_in_order() -> None:
    with Conversation([("LEV?", "9.9E+37"), ("MODE?", "A"), ("COUN?", "+3")]) as conv:
        assert Toy(conv).snapshot() == {"level": "INF", "mode": "A", "count": 3}


def test_declared_settings_and_docs() -> None:
    settings = declared_settings(Toy)
    assert list(settings) == ["level", "mode", "count", "poke"]
    assert Toy.level.__doc__ == "A level. [V]"


def test_a_settable_setting_needs_a_validator() -> None:
    with pytest.raises(ValueError, match="needs a validator"):
        Setting("x", command="X {}", parse=parse_float)
