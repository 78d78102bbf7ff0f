"""Dynamics concentration: the harmonic mean of random nodes versus its expectation.

For i.i.d. random nodes ``g_i(s) = g(s, w_i)`` the harmonic mean
``g_bar_n(s) = ((1/n) sum_i 1/g_i(s))^{-1}`` converges to the *harmonic expectation*
``g_E(s) = (E[1/g(s, w)])^{-1}`` (Min & Mallada, CDC 2019; Automatica 2025, Thm 14),
at the Monte-Carlo rate ``O(1/sqrt(n))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import _show, as_complex_points, as_int, as_rng
from ..exceptions import InputError, NetcohTypeError
from ..network.nodal import NodalDynamics

__all__ = ["harmonic_mean", "harmonic_expectation", "ConcentrationResult", "concentration"]

Sampler = Callable[[int, np.random.Generator], NodalDynamics]


def harmonic_mean(nodal: NodalDynamics, s) -> np.ndarray:
    """``g_bar_n(s) = ((1/n) sum_i 1/g_i(s))^{-1}`` at points ``s``; shape ``(k,)``.

    This is ``n`` times the aggregate ``g_hat`` of :func:`netcoh.aggregate_dynamics`.

    Parameters
    ----------
    nodal : NodalDynamics
        The ``n`` nodes.
    s : complex or array_like of complex, shape (k,)
        Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.

    Returns
    -------
    ndarray of complex, shape (k,)
        ``ḡ_n(s) = n (Σ_i 1/g_i(s))^-1`` at each point of ``s``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> g = nc.nodal.from_tf(num=[[1.0], [3.0]], den=[[1.0], [1.0]])   # static gains 1 and 3
    >>> complex(harmonic_mean(g, [1j])[0])      # 2 / (1 + 1/3)
    (1.5+0j)
    """
    if not isinstance(nodal, NodalDynamics):
        raise NetcohTypeError(f"`nodal` must be NodalDynamics, got {type(nodal).__name__}")
    s = as_complex_points(s, "s")
    return 1.0 / np.mean(nodal.inverse(s), axis=1)


def _sample(sampler: Sampler, n: int, rng) -> NodalDynamics:
    nd = sampler(n, rng)
    if not isinstance(nd, NodalDynamics):
        raise NetcohTypeError(f"`sampler(n, rng)` must return NodalDynamics, got "
                              f"{type(nd).__name__}")
    if nd.n != n:
        raise InputError(f"`sampler(n, rng)` must return NodalDynamics of n = {n} nodes, "
                         f"got {nd.n}")
    return nd


def _check_sampler(sampler) -> None:
    if not callable(sampler):
        raise NetcohTypeError(f"`sampler` must be callable as sampler(n, rng) -> NodalDynamics, "
                              f"got {_show(sampler)}")


def harmonic_expectation(sampler: Sampler, s, *, n_samples: int = 200_000, rng=None,
                         batch: int = 50_000) -> np.ndarray:
    """Monte-Carlo estimate of ``(E[1/g(s, w)])^{-1}`` at points ``s``.

    Parameters
    ----------
    sampler : callable ``(n, rng) -> NodalDynamics``
        Draws ``n`` i.i.d. random nodes.
    s : complex or array_like of complex, shape (k,)
        Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.
    n_samples : int, default 200000
        Number of random nodes averaged.
    rng : numpy.random.Generator or int, optional
        Random generator or seed, passed to ``sampler``.
    batch : int, default 50000
        Nodes drawn per ``sampler`` call, bounding memory to ``batch * k`` complex values.

    Returns
    -------
    ndarray of complex, shape (k,)
        The estimate of ``g_E(s)``; ``inf`` where ``E[1/g(s, w)] = 0`` (a pole of ``g_E``).

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> def consensus(n, rng):
    ...     k = rng.uniform(1, 5, n)
    ...     return nc.nodal.from_tf(num=np.c_[0 * k, k], den=np.c_[1 + 0 * k, 0 * k])
    >>> gE = harmonic_expectation(consensus, [1j], n_samples=100_000, rng=0)
    >>> bool(abs(gE[0] * 1j - 4 / np.log(5)) < 0.01)     # g_E(s) = (4 / ln 5) / s
    True
    """
    _check_sampler(sampler)
    n_samples = as_int(n_samples, "n_samples", minimum=1)
    batch = as_int(batch, "batch", minimum=1)
    rng = as_rng(rng, "rng")
    s = as_complex_points(s, "s")
    total = np.zeros(s.size, dtype=complex)
    done = 0
    while done < n_samples:
        m = min(batch, n_samples - done)
        total += _sample(sampler, m, rng).inverse(s).sum(axis=1)
        done += m
    mean = total / n_samples
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 / mean
    out[mean == 0] = np.inf          # a pole of g_E (complex division would give inf + nan j)
    return out


@dataclass(frozen=True, eq=False)
class ConcentrationResult:
    """Deviation of the harmonic mean of ``n`` random nodes from the harmonic expectation.

    Attributes
    ----------
    sizes : ndarray (p,)
        Network sizes ``n``.
    s : ndarray (k,)
        Complex evaluation points.
    deviation : ndarray (p, r)
        ``sup_s |g_bar_n(s) - g_E(s)|`` for each size and each of ``r`` repeats.
    expectation : ndarray (k,)
        The harmonic expectation ``g_E(s)`` (Monte Carlo on a large sample).

    Examples
    --------
    >>> import netcoh as nc
    >>> def swing(n, rng):
    ...     return nc.nodal.swing(rng.uniform(1, 2, n), rng.uniform(0.5, 1, n))
    >>> res = nc.concentration(swing, [10, 100], [0.5j], n_repeats=4, rng=0)
    >>> res.deviation.shape          # (sizes, repeats)
    (2, 4)
    """

    sizes: np.ndarray
    s: np.ndarray
    deviation: np.ndarray
    expectation: np.ndarray

    def __post_init__(self):
        for name in ("sizes", "s", "deviation", "expectation"):
            getattr(self, name).setflags(write=False)

    @property
    def mean_deviation(self) -> np.ndarray:
        """Mean over repeats, per size."""
        return self.deviation.mean(axis=1)

    @property
    def rate(self) -> float:
        """Fitted log-log slope of the mean deviation against ``n`` (about -0.5); NaN with
        fewer than two distinct sizes (no slope to fit)."""
        if np.unique(self.sizes).size < 2:
            return float("nan")
        return float(np.polyfit(np.log(self.sizes), np.log(self.mean_deviation), 1)[0])

    def to_frame(self):
        """One row per size: mean and standard deviation over repeats."""
        import pandas as pd

        return pd.DataFrame({"n": self.sizes, "mean_deviation": self.mean_deviation,
                             "std_deviation": self.deviation.std(axis=1)})


def concentration(sampler: Sampler, sizes: Sequence[int], s, *, n_repeats: int = 20,
                  n_reference: int = 200_000, rng=None) -> ConcentrationResult:
    """How fast the harmonic mean of ``n`` random nodes concentrates on its expectation.

    For each size ``n`` and repeat, draws ``n`` nodes and records
    ``sup_s |g_bar_n(s) - g_E(s)|`` over the points ``s``; ``g_E`` is estimated once
    by :func:`harmonic_expectation` from the same generator.

    Parameters
    ----------
    sampler : callable ``(n, rng) -> NodalDynamics``
        Draws ``n`` i.i.d. random nodes.
    sizes : sequence of int
        Network sizes ``n`` (positive), e.g. a geometric grid.
    s : complex or array_like of complex, shape (k,)
        Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.
    n_repeats : int, default 20
        Independent draws per size.
    n_reference : int, default 200000
        Sample size of the Monte-Carlo reference ``g_E(s)``; keep it well above
        ``max(sizes)``, since its own error is about ``1/sqrt(n_reference)``.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    ConcentrationResult
        ``deviation`` of shape ``(len(sizes), n_repeats)``; ``rate`` is close to -0.5.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> def swing(n, rng):
    ...     return nc.nodal.swing(rng.uniform(1, 2, n), rng.uniform(0.5, 1, n))
    >>> res = concentration(swing, [10, 1000], [0.5j], n_repeats=10, rng=1)
    >>> bool(res.mean_deviation[1] < res.mean_deviation[0])
    True
    """
    _check_sampler(sampler)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise NetcohTypeError(f"`sizes` must be a sequence of network sizes, got {_show(sizes)}")
    sizes = np.asarray([as_int(x, "sizes", minimum=1) for x in sizes], dtype=int)
    if sizes.size == 0:
        raise InputError("`sizes` must hold at least one network size, got none")
    n_repeats = as_int(n_repeats, "n_repeats", minimum=1)
    n_reference = as_int(n_reference, "n_reference", minimum=1)
    rng = as_rng(rng, "rng")
    s = as_complex_points(s, "s")
    gE = harmonic_expectation(sampler, s, n_samples=n_reference, rng=rng)
    dev = np.empty((sizes.size, n_repeats))
    for a, n in enumerate(sizes):
        for r in range(n_repeats):
            dev[a, r] = np.max(np.abs(harmonic_mean(_sample(sampler, int(n), rng), s) - gE))
    return ConcentrationResult(sizes=sizes, s=s, deviation=dev, expectation=gE)
