"""Meta-tests over every SCPI driver: documented settings, validated setters, construction
from a transport without talking, and the role interfaces they claim to fill."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import drivers.scpi
from drivers.roles import Oscilloscope, PulseGenerator
from drivers.scpi.base import ScpiChannel, ScpiInstrument
from drivers.scpi.fg_pulser import Amplifier, FunctionGeneratorPulser
from drivers.scpi.infiniivision import InfiniiVision
from drivers.scpi.keysight33500 import Keysight33500
from drivers.scpi.properties import declared_settings
from drivers.scpi.rigol_ds1000z import RigolDS1000Z
from tests.drivers.conversation import Conversation


def _all_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(drivers.scpi.__path__, "drivers.scpi."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


CLASSES = _all_classes()
INSTRUMENTS = [c for c in CLASSES if issubclass(c, ScpiInstrument)]
CHANNELS = [c for c in CLASSES if issubclass(c, ScpiChannel) and c is not ScpiChannel]
DRIVERS = [c for c in INSTRUMENTS if declared_settings(c)]
SETTINGS = [
    pytest.param(cls, name, setting, id=f"{cls.__name__}.{name}")
    for cls in DRIVERS + CHANNELS
    for name, setting in declared_settings(cls).items()
]


def test_the_walk_finds_the_drivers() -> None:
    assert {Keysight33500, InfiniiVision, RigolDS1000Z} <= set(DRIVERS)
    assert len(CHANNELS) >= 2


@pytest.mark.parametrize(("cls", "name", "setting"), SETTINGS)
def test_every_setting_has_a_docstring(cls: type, name: str, setting) -> None:
    assert setting.__doc__ and len(setting.__doc__.strip()) > 8, f"{cls.__name__}.{name}"


@pytest.mark.parametrize(("cls", "name", "setting"), SETTINGS)
def test_every_setter_has_a_validator(cls: type, name: str, setting) -> None:
    if setting.command is not None:
        assert setting.validator is not None
        assert setting.validator.describe()
    else:
        assert setting.query is not None, f"{cls.__name__}.{name} neither reads nor writes"


@pytest.mark.parametrize(("cls", "name", "setting"), SETTINGS)
def test_query_and_command_address_the_same_header(cls: type, name: str, setting) -> None:
    if setting.command is not None and setting.query is not None:
        assert setting.query == setting.command.split(" ")[0] + "?"


@pytest.mark.parametrize("cls", INSTRUMENTS, ids=lambda c: c.__name__)
def test_every_instrument_constructs_from_a_transport_without_talking(cls: type) -> None:
    with Conversation([]) as conv:
        instrument = cls(conv)
    assert isinstance(instrument, ScpiInstrument)
    assert instrument.kind and instrument.__doc__


@pytest.mark.parametrize("cls", INSTRUMENTS, ids=lambda c: c.__name__)
def test_every_instrument_says_what_it_is_in_messages(cls: type) -> None:
    with Conversation([], "TCPIP::10.0.0.7::5025::SOCKET") as conv:
        assert cls(conv).label.endswith("at TCPIP::10.0.0.7::5025::SOCKET")


def _role_members(role: type) -> list[str]:
    return [n for n in vars(role) if not n.startswith("_")]


@pytest.mark.parametrize(
    ("cls", "role"),
    [
        (InfiniiVision, Oscilloscope),
        (RigolDS1000Z, Oscilloscope),
        (FunctionGeneratorPulser, PulseGenerator),
    ],
    ids=["InfiniiVision", "RigolDS1000Z", "FunctionGeneratorPulser"],
)
def test_role_members_are_present_with_the_same_parameters(cls: type, role: type) -> None:
    for name in _role_members(role):
        assert hasattr(cls, name), f"{cls.__name__} lacks {name}"
        wanted = getattr(role, name)
        if isinstance(wanted, property):
            assert isinstance(getattr(cls, name), property), f"{cls.__name__}.{name}"
            continue
        got = list(inspect.signature(getattr(cls, name)).parameters)
        assert got == list(inspect.signature(wanted).parameters), f"{cls.__name__}.{name}"


def test_generator_rig_constructs_from_a_generator_without_talking() -> None:
    with Conversation([]) as conv:
        FunctionGeneratorPulser(
            Keysight33500(conv),
            Amplifier(gain=100.0, v_max_v=1000.0, i_max_a=10.0, max_rate_hz=5e3),
        )
