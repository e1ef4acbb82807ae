"""Rig files: which instruments make up the bench and how they are wired.

A rig file is TOML (see docs/rig.md). It is validated with the same reader as
protocol files, so a bad rig gets the same quality of error: file, line,
field and what would be accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import DriverError
from drivers.roles import Oscilloscope, PulseGenerator
from drivers.values import Identity
from protocols.errors import ProtocolError
from protocols.fields import TableReader
from protocols.source import SourceFile, parse_toml, read_toml
from pulsehost.limits import Limit, SafetyLimits

GENERATOR_KINDS = ("firmware", "function-generator")
SCOPE_KINDS = ("keysight-infiniivision", "rigol-ds1000z")


class RigError(Exception):
    """A rig file that cannot be used, or a rig that cannot be opened."""


@dataclass(frozen=True)
class FirmwareConfig:
    url: str  # pyserial URL or device path
    serial: str | None  # expected device serial, checked against the handshake
    baudrate: int = 115200
    timeout_s: float = 2.0


@dataclass(frozen=True)
class FunctionGeneratorConfig:
    resource: str
    amplifier_gain: float
    amplifier_v_max_v: float = 3000.0
    amplifier_i_max_a: float = 50.0
    amplifier_max_rate_hz: float = 5000.0
    trigger_source: str = "EXT"  # clinical wiring; BUS only on an HV-free bench or the simulator


@dataclass(frozen=True)
class ScopeConfig:
    kind: str
    resource: str
    voltage_channel: int = 1
    current_channel: int = 2
    hv_probe_v_per_v: float = 1000.0
    current_probe_v_per_a: float = 0.1
    sample_rate_hz: float = 50e6
    timeout_s: float = 2.0


@dataclass(frozen=True)
class RigConfig:
    name: str
    simulated: bool
    generator_kind: str
    firmware: FirmwareConfig | None
    function_generator: FunctionGeneratorConfig | None
    scope: ScopeConfig | None
    limits: SafetyLimits
    source: SourceFile | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """What the journal's start document records about the rig."""
        out: dict[str, Any] = {
            "name": self.name,
            "simulated": self.simulated,
            "generator_kind": self.generator_kind,
            "limits": {
                "v_max_v": self.limits.v_max.value,
                "i_max_a": self.limits.i_max.value,
                "source": self.limits.v_max.source,
            },
        }
        if self.firmware:
            out["firmware"] = {"url": self.firmware.url, "serial": self.firmware.serial}
        if self.function_generator:
            fg = self.function_generator
            out["function_generator"] = {
                "resource": fg.resource,
                "amplifier_gain": fg.amplifier_gain,
                "trigger_source": fg.trigger_source,
            }
        if self.scope:
            s = self.scope
            out["scope"] = {
                "kind": s.kind,
                "resource": s.resource,
                "voltage_channel": s.voltage_channel,
                "current_channel": s.current_channel,
                "hv_probe_v_per_v": s.hv_probe_v_per_v,
                "current_probe_v_per_a": s.current_probe_v_per_a,
                "sample_rate_hz": s.sample_rate_hz,
            }
        if self.source is not None:
            out["file"] = {"path": self.source.path, "sha256": self.source.sha256}
        return out


def load_rig(path: Path) -> RigConfig:
    """Read and validate a rig file. Raises RigError with file:line: field: reason."""
    try:
        source, data = read_toml(path)
        return _read(source, data)
    except ProtocolError as exc:
        raise RigError(str(exc)) from None


def parse_rig(text: str, name: str = "<rig>") -> RigConfig:
    """Validate rig text that is not (yet) in a file, e.g. the built-in simulated rig."""
    import hashlib

    source = SourceFile(path=name, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
    try:
        return _read(source, parse_toml(source))
    except ProtocolError as exc:
        raise RigError(str(exc)) from None


def _read(source: SourceFile, data: dict[str, Any]) -> RigConfig:
    root = TableReader(source, "", data)
    rig = root.table("rig")
    name = rig.text("name", meaning="a name for this bench")
    simulated = rig.flag("simulated", False)
    rig.finish("in [rig]")

    generator = root.table("generator")
    kind = generator.text("kind", choices=GENERATOR_KINDS)
    firmware: FirmwareConfig | None = None
    if kind == "firmware":
        firmware = FirmwareConfig(
            url=generator.text("url", meaning="a serial device path or pyserial URL"),
            serial=generator.text("serial", "") or None,
            baudrate=generator.integer("baudrate", 300, 10_000_000, 115200),
            timeout_s=generator.number("timeout_s", "s", 0.1, 60.0, 2.0),
        )
    generator.finish("in [generator]")

    fg_table = root.optional_table("function_generator")
    function_generator: FunctionGeneratorConfig | None = None
    if fg_table is not None:
        function_generator = FunctionGeneratorConfig(
            resource=fg_table.text("resource", meaning="a VISA resource name"),
            amplifier_gain=fg_table.number("amplifier_gain", "V/V", 1.0, 10_000.0),
            amplifier_v_max_v=fg_table.number("amplifier_v_max_v", "V", 1.0, 10_000.0, 3000.0),
            amplifier_i_max_a=fg_table.number("amplifier_i_max_a", "A", 0.1, 500.0, 50.0),
            amplifier_max_rate_hz=fg_table.number(
                "amplifier_max_rate_hz", "Hz", 0.1, 100_000.0, 5000.0
            ),
            trigger_source=fg_table.text("trigger_source", "EXT", choices=("EXT", "BUS")),
        )
        fg_table.finish("in [function_generator]")
    if kind == "function-generator" and function_generator is None:
        raise generator.error(
            "kind",
            "kind 'function-generator' needs a [function_generator] table with resource and "
            "amplifier_gain",
        )

    scope_table = root.optional_table("scope")
    scope: ScopeConfig | None = None
    if scope_table is not None:
        scope = ScopeConfig(
            kind=scope_table.text("kind", choices=SCOPE_KINDS),
            resource=scope_table.text("resource", meaning="a VISA resource name"),
            voltage_channel=scope_table.integer("voltage_channel", 1, 4, 1),
            current_channel=scope_table.integer("current_channel", 1, 4, 2),
            hv_probe_v_per_v=scope_table.number("hv_probe_v_per_v", "V/V", 1.0, 100_000.0, 1000.0),
            current_probe_v_per_a=scope_table.number(
                "current_probe_v_per_a", "V/A", 1e-4, 10.0, 0.1
            ),
            sample_rate_hz=scope_table.number("sample_rate_hz", "Hz", 1e6, 20e9, 50e6),
            timeout_s=scope_table.number("timeout_s", "s", 0.1, 60.0, 2.0),
        )
        if scope.voltage_channel == scope.current_channel:
            raise scope_table.error(
                "current_channel",
                f"channel {scope.current_channel} is already the voltage channel; "
                "use another input",
            )
        scope_table.finish("in [scope]")

    limits_table = root.table("limits")
    where = f"rig file {source.path} [limits]"
    limits = SafetyLimits(
        v_max=Limit(limits_table.number("v_max_v", "V", 1.0, 10_000.0), "V", where),
        i_max=Limit(limits_table.number("i_max_a", "A", 0.1, 500.0), "A", where),
        version=limits_table.text("version", "1"),
    )
    limits_table.finish("in [limits]")
    root.finish("at the top level")
    return RigConfig(
        name=name,
        simulated=simulated,
        generator_kind=kind,
        firmware=firmware,
        function_generator=function_generator,
        scope=scope,
        limits=limits,
        source=source,
    )


@dataclass
class OpenRig:
    """Instruments of a rig, open and identified. Close with `close()` (safe-off first)."""

    config: RigConfig
    generator: PulseGenerator
    scope: Oscilloscope | None
    _stack: ExitStack = field(repr=False)

    @property
    def identities(self) -> tuple[Identity, ...]:
        found = [self.generator.identity]
        if self.scope is not None:
            found.append(self.scope.identity)
        return tuple(found)

    def describe(self) -> tuple[str, ...]:
        roles = ["generator", "scope"]
        return tuple(
            f"{role}: {i.maker} {i.model} serial {i.serial} firmware {i.firmware} at {i.resource}"
            for role, i in zip(roles, self.identities, strict=False)
        )

    def close(self) -> None:
        self._stack.close()


@contextmanager
def open_rig(config: RigConfig, *, traffic_log: Any = None) -> Iterator[OpenRig]:
    """Open and identify every instrument; whatever opened is closed on the way out.

    The generator's own `close()` removes energy (ABORT / output off) before
    the port closes, so leaving this block is always a safe-off. The generator
    is closed first: the other instruments may share its VISA resource
    manager, and closing theirs must not cut the line its output-off needs.
    """
    with ExitStack() as stack:
        try:
            with ExitStack() as opening:
                generator = _open_generator(config, opening, traffic_log)
                scope = _open_scope(config.scope, stack) if config.scope else None
                # Reading identities here proves each instrument answers before anything
                # is armed.
                rig = OpenRig(config, generator, scope, stack)
                rig.identities  # noqa: B018
                stack.push(opening.pop_all())
        except DriverError as exc:
            raise RigError(f"rig '{config.name}': {exc}") from exc
        yield rig


def _open_generator(config: RigConfig, stack: ExitStack, traffic_log: Any) -> PulseGenerator:
    if config.generator_kind == "firmware":
        from drivers.firmware_generator import FirmwareGenerator

        assert config.firmware is not None
        fw = FirmwareGenerator.open(
            config.firmware.url,
            expected_serial=config.firmware.serial,
            timeout_s=config.firmware.timeout_s,
            traffic_log=traffic_log,
        )
        stack.callback(fw.close)
        return fw
    from drivers.scpi.fg_pulser import Amplifier, FunctionGeneratorPulser
    from drivers.scpi.keysight33500 import Keysight33500

    fg_config = config.function_generator
    assert fg_config is not None
    fg = Keysight33500.open(fg_config.resource)
    try:
        pulser = FunctionGeneratorPulser(
            fg,
            Amplifier(
                gain=fg_config.amplifier_gain,
                v_max_v=fg_config.amplifier_v_max_v,
                i_max_a=fg_config.amplifier_i_max_a,
                max_rate_hz=fg_config.amplifier_max_rate_hz,
            ),
            trigger_source=fg_config.trigger_source,
        )
    except BaseException:
        fg.close()
        raise
    # The pulser's close turns the output off and closes the generator with it.
    stack.callback(pulser.close)
    return pulser


def _open_scope(config: ScopeConfig, stack: ExitStack) -> Oscilloscope:
    from drivers.scpi.infiniivision import InfiniiVision
    from drivers.scpi.rigol_ds1000z import RigolDS1000Z

    cls = InfiniiVision if config.kind == "keysight-infiniivision" else RigolDS1000Z
    scope = cls.open(config.resource, timeout_s=config.timeout_s)
    stack.callback(scope.close)
    return scope
