"""Synthetic sessions with realistic shapes, for demonstrations, benchmarks and tests.

Everything written here is marked `simulated`. The pulses follow the usual
ECT picture: a trapezoidal voltage with a little droop, a current that climbs
through the pulse as the tissue electroporates, both digitised the way a scope
returns them (8-bit unsigned voltage codes, 16-bit signed current codes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pulsehost import __version__
from pulsehost.journal.clock import JournalClock
from pulsehost.journal.waveform import WaveformBlock
from pulsehost.journal.writer import JournalWriter

PROTOCOL_TEXT = """\
# ESOPE standard operating procedure, needle row electrode
id = "esope-needle-row"
version = "2018.1"
[pulses]
field_v_per_cm = 1000
width_us = 100
count = 8
rate_hz = 5000
"""


def sample_start(trains: int, pulses_per_train: int, target_v: float = 800.0) -> dict[str, Any]:
    """A start document body like the engine writes, for a plan of equal trains."""
    labels = "ABCDEF"
    plan_trains = [
        {
            "index": t + 1,
            "pair": [t % 6, (t + 1) % 6],
            "labels": [labels[t % 6], labels[(t + 1) % 6]],
            "polarity": t % 2,
            "distance_mm": 8.0,
            "field_v_per_cm": 1000.0,
            "voltage_v": target_v,
            "pulses": pulses_per_train,
            "width_us": 100.0,
            "rate_hz": 5000.0,
            "predicted_current_a_min": 2.0,
            "predicted_current_a_max": 20.0,
        }
        for t in range(trains)
    ]
    return {
        "software": {"name": "pulsehost", "version": __version__},
        "simulated": True,
        "operator": "operator-1",
        "subject": "subject-0001",
        "protocol": {
            "id": "esope-needle-row",
            "version": "2018.1",
            "sha256": hashlib.sha256(PROTOCOL_TEXT.encode()).hexdigest(),
            "text": PROTOCOL_TEXT,
        },
        "plan": {
            "format": "pulsehost-plan/1",
            "electrode": {"kind": "needle-rows", "gap_mm": 8.0},
            "trains": plan_trains,
            "totals": {"trains": trains, "pulses": trains * pulses_per_train},
        },
        "rig": {"name": "built-in simulated bench"},
        "instruments": {
            "generator": {
                "maker": "pulsehost",
                "model": "SIM-EP",
                "serial": "0",
                "firmware": "1.0",
            },
            "scope": {"maker": "pulsehost", "model": "SIM-SCOPE", "probe_attenuation": 100},
        },
        "limits": {"v_max_v": 1300.0, "i_max_a": 50.0, "source": "site default"},
        "drug": {"agent": "bleomycin", "route": "iv", "dose_iu": 15000, "given_utc": None},
        "ecg": {"mode": "off"},
    }


def sample_pulse(
    rng: np.random.Generator,
    *,
    index: int,
    train: int,
    pulse: int,
    pair: tuple[int, int],
    target_v: float,
    samples: int,
) -> tuple[dict[str, Any], dict[str, WaveformBlock]]:
    """One pulse body with its measurements and the two digitised channels."""
    width_s = 100e-6
    dt_s = 2 * width_s / samples
    t0_s = -0.25 * width_s
    t = t0_s + np.arange(samples) * dt_s
    rise = np.clip(t / 1e-6, 0, 1) * np.clip((width_s - t) / 1e-6, 0, 1)
    voltage = target_v * (1 - 0.02 * t / width_s) * rise
    r0 = rng.uniform(90.0, 130.0)
    resistance = r0 * (1 - 0.25 * (1 - np.exp(-np.clip(t, 0, None) / 30e-6)))
    current = voltage / resistance
    voltage = voltage + rng.normal(0, 2.0, samples)
    current = current + rng.normal(0, 0.05, samples)
    v_scale, i_scale = 1250.0 / 127, 40.0 / 30000
    v_codes = np.clip(np.round(voltage / v_scale) + 128, 0, 255).astype(np.uint8)
    i_codes = np.clip(np.round(current / i_scale), -32768, 32767).astype(np.int16)
    blocks = {
        "voltage": WaveformBlock(v_codes, v_scale, 0.0, 128.0, t0_s, dt_s, "V"),
        "current": WaveformBlock(i_codes, i_scale, 0.0, 0.0, t0_s, dt_s, "A"),
    }
    v, i = blocks["voltage"].values(), blocks["current"].values()
    plateau = (t >= 0.1 * width_s) & (t <= 0.9 * width_s)
    v_mean, i_mean = float(v[plateau].mean()), float(i[plateau].mean())
    findings = []
    if abs(v_mean - target_v) > 0.1 * target_v:
        message = f"plateau {v_mean:.0f} V is more than 10 % from {target_v:.0f} V"
        findings.append({"code": "VOLTAGE_OFF", "level": "warn", "message": message})
    body = {
        "index": index,
        "train": train,
        "pulse": pulse,
        "pair": list(pair),
        "target_v": target_v,
        "voltage_v": round(v_mean, 3),
        "current_a": round(i_mean, 4),
        "width_us": round(float(plateau.sum() * dt_s / 0.8 * 1e6), 3),
        "resistance_ohm": round(v_mean / i_mean, 3),
        "energy_j": round(float(np.sum(v * i) * dt_s), 6),
        "charge_uc": round(float(np.sum(i) * dt_s * 1e6), 4),
        "v_peak_v": round(float(v.max()), 3),
        "i_peak_a": round(float(i.max()), 4),
        "verdict": "warn" if findings else "ok",
        "findings": findings,
        "source": "scope",
    }
    return body, blocks


def write_sample_session(
    store: Path,
    *,
    trains: int = 12,
    pulses_per_train: int = 8,
    samples: int = 10_000,
    outcome: str = "completed",
    stop_after: int | None = None,
    seed: int = 0,
    clock: JournalClock | None = None,
    seal_key: bytes | None = None,
    extra_start: Mapping[str, Any] | None = None,
) -> JournalWriter:
    """Write a whole session through `JournalWriter` and return the (closed) writer.

    `stop_after` ends delivery after that many pulses. `outcome="interrupted"`
    writes no stop document, as after a crash.
    """
    rng = np.random.default_rng(seed)
    target_v = 800.0
    start = {**sample_start(trains, pulses_per_train, target_v), **(extra_start or {})}
    planned = trains * pulses_per_train
    last = planned if stop_after is None else min(stop_after, planned)
    with JournalWriter.create(store, start, clock=clock, seal_key=seal_key) as writer:
        writer.event({"kind": "state", "from": "IDLE", "to": "PREFLIGHT"})
        writer.event({"kind": "state", "from": "PREFLIGHT", "to": "READY"})
        index = 0
        for train in range(1, trains + 1):
            if index >= last:
                break
            pair = ((train - 1) % 6, train % 6)
            writer.event({"kind": "operator", "action": "confirm-arm", "user": "operator-1"})
            writer.event({"kind": "state", "from": "READY", "to": "ARMED"})
            writer.intent(
                {
                    "train": train,
                    "pair": list(pair),
                    "voltage_v": target_v,
                    "count": pulses_per_train,
                }
            )
            writer.event({"kind": "state", "from": "ARMED", "to": "FIRING"})
            for pulse in range(1, pulses_per_train + 1):
                if index >= last:
                    break
                index += 1
                body, blocks = sample_pulse(
                    rng,
                    index=index,
                    train=train,
                    pulse=pulse,
                    pair=pair,
                    target_v=target_v,
                    samples=samples,
                )
                writer.pulse(body, blocks)
            writer.event({"kind": "state", "from": "FIRING", "to": "READY"})
        writer.event(
            {"kind": "link", "frames_sent": 40 * trains, "frames_lost": 0, "crc_errors": 0}
        )
        if outcome != "interrupted":
            reason = None if outcome == "completed" else "OPERATOR_ABORT"
            writer.stop(
                {
                    "outcome": outcome,
                    "reason": reason,
                    "message": "all trains delivered"
                    if reason is None
                    else "stopped by the operator",
                    "pulses_planned": planned,
                    "pulses_delivered": index,
                }
            )
    return writer
