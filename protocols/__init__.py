"""Treatment protocols: what to deliver, on which electrode, within which limits.

    >>> protocol = load_protocol("esope-needle-rows")
    >>> plan = make_plan(protocol)
    >>> [(t.pair_label, t.voltage_v, t.pulses) for t in plan.trains]
    [('row 1–row 2', 400.0, 8)]
    >>> check_plan(plan, v_max_v=3000, i_max_a=50)
    []

Imports only the standard library (the package may also use numpy, and never
imports drivers, simulator or pulsehost).
"""

from protocols.bundled import list_needle_examples, list_presets
from protocols.compatibility import check_plan
from protocols.drug import DrugTiming, DrugWindow
from protocols.ecg import EcgSettings
from protocols.electrode import (
    ElectrodeGeometry,
    Hexagonal,
    Limits,
    NeedleArray,
    NeedleRows,
    Plates,
)
from protocols.errors import PlanRefused, ProtocolError
from protocols.layout import Electrode
from protocols.needles import Needle, NeedleSet, load_needles
from protocols.plan import Plan, Train, make_plan
from protocols.problems import Problem
from protocols.protocol import Delivery, TreatmentProtocol, load_protocol
from protocols.source import SourceFile
from protocols.thresholds import CheckThresholds
from protocols.tissue import TISSUES, Tissue

__all__ = [
    "TISSUES",
    "CheckThresholds",
    "Delivery",
    "DrugTiming",
    "DrugWindow",
    "EcgSettings",
    "Electrode",
    "ElectrodeGeometry",
    "Hexagonal",
    "Limits",
    "Needle",
    "NeedleArray",
    "NeedleRows",
    "NeedleSet",
    "Plan",
    "PlanRefused",
    "Plates",
    "Problem",
    "ProtocolError",
    "SourceFile",
    "Tissue",
    "Train",
    "TreatmentProtocol",
    "check_plan",
    "list_needle_examples",
    "list_presets",
    "load_needles",
    "load_protocol",
    "make_plan",
]
