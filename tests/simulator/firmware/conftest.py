"""Fixtures: the simulated firmware on a real pty or TCP port, and a codec-only client."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from simulator.faults import parse_faults
from simulator.firmware import Firmware, PtyTransport, TcpTransport
from simulator.firmware.transport import FirmwareTransport
from simulator.model import LoadModel, ModelConfig, summarize, tissue
from tests.simulator.firmware.firmware_link_client import LinkClient, open_port

# Fast enough for tests: a 1 Hz train of 8 takes 7 s nominal, 0.35 s here.
TEST_TIME_SCALE = 20.0


@dataclass
class FirmwareRig:
    """A firmware, its transport and one connected test client."""

    firmware: Firmware
    transport: FirmwareTransport
    client: LinkClient
    published: list[Any] = field(default_factory=list)

    def reconnect(self, auto_ack: bool = True) -> LinkClient:
        """Close the port and open it again, as a host restarting would."""
        self.client.close()
        self.client = LinkClient(open_port(self.transport.url), auto_ack=auto_ack)
        return self.client

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        self.transport.close()


MakeRig = Callable[..., FirmwareRig]


BOTH_TRANSPORTS = pytest.mark.parametrize("serial_kind", ["pty", "tcp"])


@pytest.fixture
def serial_kind() -> str:
    """The pty by default; tests marked BOTH_TRANSPORTS run over TCP as well."""
    return "pty"


@pytest.fixture
def make_rig(serial_kind: str) -> Iterator[MakeRig]:
    """Build a firmware rig over the parametrised transport; everything is closed afterwards."""
    rigs: list[FirmwareRig] = []

    def make(
        *,
        seed: int = 0,
        faults: tuple[str, ...] = (),
        time_scale: float = TEST_TIME_SCALE,
        auto_ack: bool = True,
        tissue_name: str = "tumour",
        **firmware_kw: Any,
    ) -> FirmwareRig:
        parsed = parse_faults(faults)
        config = ModelConfig(tissue=tissue(tissue_name))
        model = LoadModel(config, seed=seed, faults=parsed)
        published: list[Any] = []
        firmware = Firmware(
            model.deliver,
            summarize,
            publish=published.append,
            seed=seed,
            faults=parsed,
            time_scale=time_scale,
            pair_known=lambda pair: pair in config.pairs or pair[::-1] in config.pairs,
            **firmware_kw,
        )
        transport: FirmwareTransport = (
            PtyTransport(firmware) if serial_kind == "pty" else TcpTransport(firmware)
        )
        transport.start()
        client = LinkClient(open_port(transport.url), auto_ack=auto_ack)
        rig = FirmwareRig(firmware, transport, client, published)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()
