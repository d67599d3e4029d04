"""A local emulator of the Pixop API (aiohttp.web) for tests, demos and users' own tests.

The SDK never imports this package; it is a server of its own.
"""

from .config import EmulatorConfig
from .faults import Fault, FaultPlan
from .server import EmulatorServer
from .state import EmulatorState

__all__ = ["EmulatorConfig", "EmulatorServer", "EmulatorState", "Fault", "FaultPlan"]
