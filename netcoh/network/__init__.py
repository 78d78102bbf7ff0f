"""The network model: nodal dynamics, Laplacians and the coupled system."""

from . import laplacian, nodal
from .nodal import NodalDynamics
from .system import NetworkSystem, Realization

__all__ = ["laplacian", "nodal", "NodalDynamics", "NetworkSystem", "Realization"]
