"""A deterministic synthetic CGM and pump: the demo source, and what tests and benchmarks run on."""

from nightbridge.sources.simulator.settings import SimulatorSettings
from nightbridge.sources.simulator.source import SimulatorSource

__all__ = ["SimulatorSettings", "SimulatorSource"]
