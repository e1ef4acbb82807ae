"""Per-pulse checks: measure raw scope codes, judge them and the firmware's summaries.

The engine's path through this package:

    raw = RawTrain.from_captures(captures)
    measurements = measure_train(raw, expectation, thresholds)
    evaluation = evaluate(measurements, expectation, thresholds, telemetry=report.pulses)

and, at 1 Hz before the next pulse, `evaluate_telemetry(summary, expectation,
thresholds)`. docs/checks.md lists every finding, its rule and its level.
"""

from pulsehost.checks.evaluate import Evaluation, PulseEvaluation, evaluate, evaluate_telemetry
from pulsehost.checks.expectation import TrainExpectation
from pulsehost.checks.findings import (
    DEFAULT_LEVELS,
    Finding,
    Level,
    Verdict,
    ecg_timeout,
    ecg_withheld,
    link_lost,
    scope_error,
    scope_timeout,
)
from pulsehost.checks.measure import MeasurementError, measure_train
from pulsehost.checks.measurements import PulseMeasurement, TrainMeasurements
from pulsehost.checks.raw import RawChannel, RawTrain, default_clip_codes
from pulsehost.checks.thresholds import ThresholdError, Thresholds

__all__ = [
    "DEFAULT_LEVELS",
    "Evaluation",
    "Finding",
    "Level",
    "MeasurementError",
    "PulseEvaluation",
    "PulseMeasurement",
    "RawChannel",
    "RawTrain",
    "ThresholdError",
    "Thresholds",
    "TrainExpectation",
    "TrainMeasurements",
    "Verdict",
    "default_clip_codes",
    "ecg_timeout",
    "ecg_withheld",
    "evaluate",
    "evaluate_telemetry",
    "link_lost",
    "measure_train",
    "scope_error",
    "scope_timeout",
]
