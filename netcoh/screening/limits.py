"""Frequency limits of a synchronous area: nadir, RoCoF and quasi-steady-state deviation.

Presets (deviations from nominal; check the current grid-code texts for your study):

* ``"gb"`` -- GB SQSS normal infeed loss: frequency not below 49.5 Hz (0.5 Hz), a
  quasi-steady state within 0.5 Hz, loss-of-mains RoCoF protection at 1 Hz/s.
* ``"gb_infrequent"`` -- GB infrequent infeed loss: 0.8 Hz (49.2 Hz), otherwise as ``"gb"``.
* ``"continental_europe"`` -- ENTSO-E reference incident: maximum instantaneous deviation
  0.8 Hz, steady-state deviation 0.2 Hz (no RoCoF limit set).
* ``"north_america"`` -- NERC BAL-003: the frequency response must keep the dip above the
  first stage of under-frequency load shedding, 59.5 Hz in the Eastern and Western
  Interconnections (0.5 Hz; no RoCoF or quasi-steady-state limit set). ERCOT's first stage
  is at 59.3 Hz and Quebec's at 58.5 Hz: give those as a number (``0.7``, ``1.5``).
* ``"auto"`` -- the preset of the grid's nominal frequency: ``"north_america"`` at 60 Hz,
  ``"continental_europe"`` otherwise (:func:`preset_for`).

Examples
--------
>>> frequency_limits("gb")
FrequencyLimits(nadir_hz=0.5, rocof_hz_per_s=1.0, qss_hz=0.5, name='gb')
>>> frequency_limits(0.3).nadir_hz
0.3
>>> frequency_limits("auto", f_hz=60.0).name
'north_america'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..exceptions import InputError

__all__ = ["FrequencyLimits", "LIMIT_PRESETS", "frequency_limits", "preset_for"]


@dataclass(frozen=True)
class FrequencyLimits:
    """Limits on the frequency deviation after a contingency (None = not checked).

    Attributes
    ----------
    nadir_hz : float or None
        Largest admissible instantaneous deviation (the worst local nadir is checked).
    rocof_hz_per_s : float or None
        Largest admissible rate of change of frequency of the centre of inertia, measured
        over a 500 ms window.
    qss_hz : float or None
        Largest admissible quasi-steady-state deviation.
    name : str
        Preset name, or ``"custom"``.

    Examples
    --------
    >>> lim = FrequencyLimits(nadir_hz=0.5, qss_hz=0.2)
    >>> lim.rocof_hz_per_s, lim.name
    (None, 'custom')
    >>> FrequencyLimits(nadir_hz=0)
    Traceback (most recent call last):
        ...
    netcoh.exceptions.InputError: `nadir_hz` must be a positive number or None, got 0
    """

    nadir_hz: float | None = None
    rocof_hz_per_s: float | None = None
    qss_hz: float | None = None
    name: str = "custom"

    def __post_init__(self):
        for field in ("nadir_hz", "rocof_hz_per_s", "qss_hz"):
            v = getattr(self, field)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0:
                raise InputError(f"`{field}` must be a positive number or None, got {v!r}")
            object.__setattr__(self, field, float(v))

    def margins(self, nadir_hz: float, rocof_hz_per_s: float, qss_hz: float) -> tuple:
        """``(limit - value)`` for nadir, RoCoF and quasi-steady state (NaN where unset).

        Parameters
        ----------
        nadir_hz, rocof_hz_per_s, qss_hz : float
            The contingency's worst local nadir, COI RoCoF and quasi-steady deviation.

        Returns
        -------
        tuple of float
            Negative entries are violations.

        Examples
        --------
        >>> FrequencyLimits(0.5, None, 0.2).margins(0.6, 1.0, 0.1)
        (-0.09999999999999998, nan, 0.1)
        """
        def m(lim, v):
            return float("nan") if lim is None else lim - float(v)

        return (m(self.nadir_hz, nadir_hz), m(self.rocof_hz_per_s, rocof_hz_per_s),
                m(self.qss_hz, qss_hz))


#: Named limit sets (see the module docstring).
LIMIT_PRESETS = {
    "gb": FrequencyLimits(0.5, 1.0, 0.5, "gb"),
    "gb_infrequent": FrequencyLimits(0.8, 1.0, 0.5, "gb_infrequent"),
    "continental_europe": FrequencyLimits(0.8, None, 0.2, "continental_europe"),
    "north_america": FrequencyLimits(0.5, None, None, "north_america"),
}


def preset_for(f_hz: float) -> str:
    """The limit preset ``"auto"`` stands for on a grid of nominal frequency ``f_hz``.

    Parameters
    ----------
    f_hz : float
        Nominal frequency of the grid, Hz.

    Returns
    -------
    str
        ``"north_america"`` at 60 Hz, ``"continental_europe"`` otherwise.

    Examples
    --------
    >>> preset_for(60.0), preset_for(50.0)
    ('north_america', 'continental_europe')
    """
    return "north_america" if abs(float(f_hz) - 60.0) < 1.0 else "continental_europe"


def frequency_limits(threshold_hz="continental_europe", limits=None,
                     f_hz: float | None = None) -> FrequencyLimits:
    """The limits of a screening from its ``threshold_hz`` and ``limits`` arguments.

    Parameters
    ----------
    threshold_hz : str, float or None
        A preset name (all three limits; ``"auto"``: the preset of ``f_hz``), a nadir
        limit in Hz, or None.
    limits : str, mapping or FrequencyLimits, optional
        A preset, ``{"nadir_hz": .., "rocof_hz_per_s": .., "qss_hz": ..}`` or limits; its
        entries override those of ``threshold_hz`` (a numeric ``threshold_hz`` still sets
        the nadir limit).
    f_hz : float, optional
        The grid's nominal frequency, Hz (needed for ``"auto"``).

    Returns
    -------
    FrequencyLimits

    Examples
    --------
    >>> frequency_limits("gb", {"rocof_hz_per_s": 0.5}).rocof_hz_per_s
    0.5
    """
    base = FrequencyLimits()
    if isinstance(threshold_hz, str):
        base = _preset(threshold_hz, "threshold_hz", f_hz)
    elif threshold_hz is not None:
        base = FrequencyLimits(nadir_hz=_positive(threshold_hz, "threshold_hz"))
    if limits is None:
        return base
    if isinstance(limits, str):
        lim = _preset(limits, "limits", f_hz)
    elif isinstance(limits, FrequencyLimits):
        lim = limits
    elif isinstance(limits, Mapping):
        bad = set(limits) - {"nadir_hz", "rocof_hz_per_s", "qss_hz"}
        if bad:
            raise InputError(f"`limits` keys must be nadir_hz, rocof_hz_per_s, qss_hz, got "
                             f"{sorted(bad)}")
        return replace(base, name="custom", **dict(limits))
    else:
        raise InputError(f"`limits` must be a preset name, a mapping or FrequencyLimits, got "
                         f"{type(limits).__name__}")
    if threshold_hz is not None and not isinstance(threshold_hz, str):
        lim = replace(lim, nadir_hz=base.nadir_hz, name="custom")
    return lim


def _positive(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise InputError(f"`{name}` must be a positive number or a preset, got {v!r}")
    return float(v)


def _preset(key: str, name: str, f_hz=None) -> FrequencyLimits:
    k = key.lower().replace(" ", "_").replace("-", "_")
    if k == "auto":
        if f_hz is None:
            raise InputError(f"`{name}='auto'` picks the preset of the grid's nominal "
                             f"frequency: give `f_hz` or a preset name")
        k = preset_for(_positive(f_hz, "f_hz"))
    if k not in LIMIT_PRESETS:
        raise InputError(f"`{name}` must be a number or one of "
                         f"{sorted(LIMIT_PRESETS) + ['auto']}, got {key!r}")
    return LIMIT_PRESETS[k]
