"""Fixtures for journal tests: a store, a settable clock, sessions written through the writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pulsehost.journal.sample import write_sample_session
from pulsehost.journal.session import Session
from pulsehost.journal.waveform import WaveformBlock
from pulsehost.journal.writer import JournalWriter

T0_NS = 1_741_000_000_123_456_789  # 2025-03-03T11:06:40.123456Z


class StepClock:
    """UTC and monotonic time that advance by a fixed step at every reading."""

    def __init__(self, utc_ns: int = T0_NS, step_ns: int = 1_000_000) -> None:
        self.utc = utc_ns
        self.mono = 5_000_000_000
        self.step = step_ns

    def utc_ns(self) -> int:
        self.utc += self.step
        return self.utc

    def mono_ns(self) -> int:
        self.mono += self.step
        return self.mono


@pytest.fixture(autouse=True)
def _no_ambient_seal_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A key in the developer's environment must not change what tests see.
    monkeypatch.delenv("PULSEHOST_SEAL_KEY", raising=False)
    monkeypatch.delenv("PULSEHOST_STORE", raising=False)
    yield


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def make_session(store: Path) -> Callable[..., JournalWriter]:
    """Write a sample session (12 trains x 8 pulses by default) through the real writer."""

    def make(**options: Any) -> JournalWriter:
        options.setdefault("samples", 400)
        return write_sample_session(store, **options)

    return make


REVIEW_PROTOCOL = """\
[protocol]
id = "long-needles"
version = "1.0.0"
title = "Long needles <deep> & bone"
"""
REVIEW_NEEDLES = '[needles]\ndescription = "two needles"\n'


def review_blocks(target_v: float, amps: float) -> dict[str, WaveformBlock]:
    """A trapezoid pulse of 100 µs from -20 µs to 180 µs, 8-bit voltage and 16-bit current."""
    t = -20e-6 + np.arange(500) * 0.4e-6
    shape = np.clip(t / 2e-6, 0, 1) * np.clip((100e-6 - t) / 2e-6, 0, 1)
    volts = np.round(target_v * 0.97 * shape / 10.0) + 128
    current = np.round(amps * shape / 0.01)
    return {
        "voltage": WaveformBlock(volts.astype(np.uint8), 10.0, 0.0, 128.0, -20e-6, 0.4e-6, "V"),
        "current": WaveformBlock(current.astype(np.int16), 0.01, 0.0, 0.0, -20e-6, 0.4e-6, "A"),
    }


def review_start(simulated: bool = False) -> dict[str, Any]:
    """A start document shaped like the engine's: needles, ECG gating, a drug, two trains."""
    train = {
        "distance_mm": 15.0,
        "field_v_per_cm": 1000.0,
        "voltage_v": 1500.0,
        "pulses": 3,
        "width_us": 100.0,
        "rate_hz": 5000.0,
        "predicted_current_a_min": 8.788294597344164,
        "predicted_current_a_max": 21.97073649336041,
    }
    drug = {
        "agent": "bleomycin",
        "route": "iv",
        "dose_iu_per_m2": 15000.0,
        "window_start_min": 8.0,
        "warn_after_min": 25.0,
        "window_end_min": 28.0,
    }
    return {
        "simulated": simulated,
        "operator": "dr-a",
        "subject": "S-042",
        "software": {"name": "pulsehost", "version": "9.9"},
        "protocol": {
            "id": "long-needles",
            "version": "1.0.0",
            "title": "Long needles <deep> & bone",
            "sha256": "ab" * 32,
            "text": REVIEW_PROTOCOL,
        },
        "plan": {
            "format": "pulsehost-plan/1",
            "protocol": {"id": "long-needles", "version": "1.0.0", "text": REVIEW_PROTOCOL},
            "electrode": {"kind": "needles", "min_needles": 2, "max_needles": 6},
            "needles": {
                "description": "two needles",
                "path": "/x/two.toml",
                "text": REVIEW_NEEDLES,
            },
            "electrodes": [
                {
                    "index": 0,
                    "label": "A",
                    "x_mm": 0.0,
                    "y_mm": 0.0,
                    "z_mm": 0.0,
                    "diameter_mm": 1.2,
                    "active_length_mm": 20.0,
                },
                {
                    "index": 1,
                    "label": "B",
                    "x_mm": 15.0,
                    "y_mm": 0.0,
                    "z_mm": 0.0,
                    "diameter_mm": 1.2,
                    "active_length_mm": 20.0,
                },
            ],
            "delivery": {
                "field_v_per_cm": 1000.0,
                "pulses_per_train": 3,
                "width_us": 100.0,
                "rate_hz": 5000.0,
                "polarity": "a-positive",
            },
            "tissue": {"name": "tumour", "sigma0_s_per_m": 0.3, "sigma1_s_per_m": 0.75},
            "ecg": {"gated": True, "delay_ms": 50},
            "drug": drug,
            "limits": {"v_max_v": 3000.0, "i_max_a": 50.0},
            "checks": {"voltage_tolerance_pct": 10.0, "current_low_factor": 0.3, "i_max_a": 50.0},
            "trains": [
                {"index": 1, "pair": [0, 1], "labels": ["A", "B"], **train},
                {"index": 2, "pair": [1, 0], "labels": ["B", "A"], **train},
            ],
            "totals": {"trains": 2, "pulses": 6},
            "warnings": [],
        },
        "drug": {
            "given_at": "2025-03-03T10:55:00+00:00",
            "entered_by": "nurse-b",
            "override_reason": None,
            "protocol": drug,
        },
        "instruments": {
            "generator": {
                "maker": "ACME",
                "model": "EP-3",
                "serial": "G1",
                "firmware": "1.0.3",
                "resource": "/dev/ttyUSB0",
            },
            "scope": {
                "maker": "KEYSIGHT",
                "model": "DSOX3024T",
                "serial": "S1",
                "firmware": "07.50",
                "resource": "TCPIP::10.0.0.5::INSTR",
            },
        },
        "rig": {
            "name": "bench 2",
            "generator_kind": "firmware",
            "scope": {"hv_probe_v_per_v": 1000.0, "current_probe_v_per_a": 0.1},
        },
    }


# Per pulse: (train, pulse, voltage, current, width, resistance, energy, charge, verdict, codes)
REVIEW_PULSES = (
    (1, 1, 1456.6449, 19.42019, 108.0123, 75.0053, 2.769174, 1911.5432, "warn", ("width",)),
    (1, 2, 1441.8851, 21.45601, 108.0456, 67.2022, 3.060521, 2139.4567, "warn", ("width",)),
    (
        1,
        3,
        1430.2796,
        21.97044,
        108.0789,
        65.1003,
        3.110263,
        2191.9999,
        "warn",
        ("width", "timing"),
    ),
    (2, 1, 1457.0501, 19.40782, 99.99871, 75.0588, 2.767801, 1911.0501, "ok", ()),
    (2, 2, 1367.838, 9.613, 74.74, 38.26464, 0.275, 772.0, "stop", ("overcurrent",)),
)


def review_findings(index: int, codes: tuple[str, ...]) -> list[dict[str, str]]:
    texts = {
        "width": (
            "warn",
            "width-deviation",
            f"Pulse {index}: width 108.0 µs (+8.0 %) for 100.0 µs set (tolerance ±5 %).",
        ),
        "timing": (
            "warn",
            "timing-deviation",
            f"Pulse {index}: started +17.4 µs from its planned time (tolerance ±10.0 µs).",
        ),
        "overcurrent": (
            "stop",
            "overcurrent",
            f"Pulse {index}: peak current 21.4 A reached the 20.0 A limit.",
        ),
    }
    return [{"level": texts[c][0], "code": texts[c][1], "message": texts[c][2]} for c in codes]


@pytest.fixture
def review_session(store: Path, clock: StepClock) -> Session:
    """An aborted session with merged and distinct findings, ECG, drug, an alarm."""
    start = review_start()
    with JournalWriter.create(store, start, clock=clock) as writer:
        writer.event({"kind": "preflight", "generator_state": "IDLE", "hv_bank_v": 0.12})
        writer.event(
            {
                "kind": "drug",
                "given_at": "2025-03-03T10:55:00+00:00",
                "entered_by": "nurse-b",
                "minutes_since": 11.6789,
                "window": "open",
            }
        )
        writer.event(
            {
                "kind": "state",
                "state": "READY",
                "previous": "PREFLIGHT",
                "reason": "preflight passed",
            }
        )
        index = 0
        for train in (1, 2):
            writer.intent(
                {
                    "train": train,
                    "pair": [0, 1] if train == 1 else [1, 0],
                    "target_v": 1500.0,
                    "pulses": 3,
                    "width_us": 100.0,
                    "ecg_gated": True,
                    "confirmed_by": "dr-a",
                }
            )
            writer.event(
                {
                    "kind": "state",
                    "state": "FIRING",
                    "previous": "ARMED",
                    "reason": f"train {train} fired",
                }
            )
            writer.event(
                {
                    "kind": "ecg",
                    "train": train,
                    "ecg_kind": "TRIGGER",
                    "reason": "NONE",
                    "rr_ms": 818,
                    "t_r_us": 5,
                    "next_pulse": 0,
                }
            )
            if train == 2:
                writer.event(
                    {
                        "kind": "alarm",
                        "train": 2,
                        "source": "generator",
                        "fault": "OVERCURRENT",
                        "latched": True,
                        "pulse": 1,
                    }
                )
            for row in REVIEW_PULSES:
                if row[0] != train:
                    continue
                index += 1
                _, pulse, v, i, w, r, e, q, verdict, codes = row
                writer.pulse(
                    {
                        "index": index,
                        "train": train,
                        "pulse": pulse,
                        "pair": [0, 1] if train == 1 else [1, 0],
                        "target_v": 1500.0,
                        "voltage_v": v,
                        "current_a": i,
                        "width_us": w,
                        "resistance_ohm": r,
                        "energy_j": e,
                        "charge_uc": q,
                        "verdict": verdict,
                        "findings": review_findings(index, codes),
                        "source": "firmware" if verdict == "stop" else "scope",
                    },
                    review_blocks(1500.0, i),
                )
        writer.event({"kind": "safe-off", "action": "abort sent to the generator"})
        writer.stop(
            {
                "outcome": "aborted",
                "reason": "overcurrent",
                "message": "Pulse 5: peak current 21.4 A reached the 20.0 A limit.",
                "pulses_planned": 6,
                "pulses_delivered": 5,
            }
        )
    return Session.read(writer.directory)
