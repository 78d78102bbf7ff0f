"""Every frozen result type netcoh returns, in one place for users and the docs.

Each result is a frozen dataclass with read-only arrays, a ``.to_frame()`` returning a
:class:`pandas.DataFrame`, and, where a picture helps, ``.plot()``.
"""

from .analysis.aggregate import AggregateDynamics
from .analysis.coherence import CoherenceResult
from .analysis.concentration import ConcentrationResult
from .analysis.frequency import FrequencyResponse
from .analysis.nadir import NadirResult
from .analysis.time import TimeResponse
from .reduction.aggregate import ReducedNetwork, ReductionError
from .reduction.clustering import ClusteringResult
from .reduction.fitting import AggregateMachineFit
from .screening.results import ScreeningResult

__all__ = ["AggregateDynamics", "CoherenceResult", "ConcentrationResult", "FrequencyResponse",
           "TimeResponse", "ClusteringResult", "ReducedNetwork", "ReductionError",
           "AggregateMachineFit", "NadirResult", "ScreeningResult"]
