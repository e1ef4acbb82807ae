"""Every line the writer produces satisfies the published JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from pulsehost.journal import JournalWriter, WaveformBlock
from pulsehost.journal.sample import sample_start
from pulsehost.journal.schema import load_schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def journal_lines(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "journal.jsonl").read_bytes().splitlines()]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"outcome": "aborted", "stop_after": 13},
        {"outcome": "interrupted", "stop_after": 40},
        {"seal_key": b"site key"},
    ],
    ids=["completed", "aborted", "interrupted", "sealed"],
)
def test_every_line_of_a_sample_session_is_valid(
    make_session: Callable[..., JournalWriter],
    validator: jsonschema.Draft202012Validator,
    options: dict,
) -> None:
    writer = make_session(**options)
    lines = journal_lines(writer.directory)
    assert len(lines) > 20
    for number, document in enumerate(lines, start=1):
        errors = [e.message for e in validator.iter_errors(document)]
        assert not errors, f"line {number} ({document['kind']}): {errors}"


def test_unmeasured_pulses_with_null_numbers_and_firmware_telemetry_are_valid(
    store: Path, validator: jsonschema.Draft202012Validator
) -> None:
    with JournalWriter.create(store, sample_start(1, 1)) as writer:
        body = {
            "index": 1,
            "train": 1,
            "pulse": 1,
            "pair": [0, 1],
            "target_v": 800.0,
            "voltage_v": float("nan"),
            "current_a": None,
            "verdict": "unmeasured",
            "findings": [{"code": "CLIP", "level": "warn", "message": "scope clipped"}],
            "firmware": {"flags": ["CLIP"], "v_peak_v": 812.5, "t_start_us": 1200},
        }
        codes = np.full(8, 127, dtype=np.int8)
        writer.pulse(body, {"voltage": WaveformBlock(codes, 10.0, 0.0, 0.0, 0.0, 1e-7, "V")})
        writer.stop({"outcome": "fault", "reason": "CLIP", "pulses_delivered": 1})
    for document in journal_lines(writer.directory):
        assert not list(validator.iter_errors(document))


@pytest.mark.parametrize(
    ("line", "change"),
    [
        (0, {"simulated": "yes"}),
        (0, {"seq": 1}),
        (1, {"utc": "2025-03-03 11:06:40Z"}),
        (1, {"prev": "abc"}),
        (2, {"kind": "pulse", "verdict": "fine"}),
        (2, {"kind": "stop", "outcome": "done"}),
    ],
)
def test_the_schema_rejects_documents_outside_the_format(
    make_session: Callable[..., JournalWriter],
    validator: jsonschema.Draft202012Validator,
    line: int,
    change: dict,
) -> None:
    document = journal_lines(make_session(trains=1).directory)[line]
    assert validator.is_valid(document)
    assert not validator.is_valid({**document, **change})
