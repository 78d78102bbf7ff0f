"""Contingency screening of the worst-case frequency nadir (serial, processes or Dask).

>>> from netcoh.screening import screen_contingencies, ScreeningResult
"""

from .contingencies import Contingency, ScreeningContext, contingency_list
from .report import write_outputs, write_report
from .results import ScreeningResult
from .screen import screen_contingencies

__all__ = ["Contingency", "ScreeningContext", "ScreeningResult", "contingency_list",
           "screen_contingencies", "write_outputs", "write_report"]
