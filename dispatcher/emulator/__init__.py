"""A local fake of kie.ai, foxapi and toapis for tests, benchmarks and demos."""

from __future__ import annotations

from dispatcher.emulator.app import create_emulator_app
from dispatcher.emulator.config import EmulatorConfig
from dispatcher.emulator.faults import Fault
from dispatcher.emulator.kie import signature_headers

__all__ = ["EmulatorConfig", "Fault", "create_emulator_app", "signature_headers"]
