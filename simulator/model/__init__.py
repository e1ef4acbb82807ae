"""Physics of the simulated bench: tissue, electrodes, generator and measurement chain.

`LoadModel.deliver` turns a train request into the true load voltage and
current; `measure` turns those into the volts at the scope's inputs; and
`summarize` gives the generator's own per-pulse view. docs/simulator.md
describes the model, its parameters and its faults.
"""

from simulator.model.config import GeneratorParams, Kinetics, ModelConfig
from simulator.model.geometry import DEFAULT_PAIRS, NEEDLE_ROWS, Pair, needle_pair_cell_constant
from simulator.model.load import LoadModel
from simulator.model.measurement import MeasurementChain, measure
from simulator.model.summary import PulseStats, summarize
from simulator.model.tissues import TISSUES, Tissue, tissue

__all__ = [
    "DEFAULT_PAIRS",
    "NEEDLE_ROWS",
    "TISSUES",
    "GeneratorParams",
    "Kinetics",
    "LoadModel",
    "MeasurementChain",
    "ModelConfig",
    "Pair",
    "PulseStats",
    "Tissue",
    "measure",
    "needle_pair_cell_constant",
    "summarize",
    "tissue",
]
