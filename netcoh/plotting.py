"""Matplotlib figures for netcoh results (matplotlib is imported only when plotting)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_frequency_response", "plot_coherence", "plot_time_response"]


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.0))
    return ax


def plot_frequency_response(resp, outputs=None, input=0, ax=None):
    """Bode magnitude ``|T_ij(j omega)|`` of chosen outputs for one input column."""
    ax = _axes(ax)
    rows = range(resp.values.shape[1]) if outputs is None else outputs
    for i in rows:
        ax.loglog(resp.omega, np.abs(resp.values[:, i, input]), lw=0.8,
                  label=str(resp.labels[i]))
    ax.set_xlabel("frequency (rad/s)")
    ax.set_ylabel(f"|T(jω)| from node {resp.labels[resp.inputs[input]]}")
    if len(list(rows)) <= 10:
        ax.legend(fontsize="small")
    return ax


def plot_coherence(res, ax=None):
    """Incoherence and the Lemma bound against frequency."""
    ax = _axes(ax)
    ax.loglog(res.omega, res.incoherence, label=r"$\|T - \hat g\,11^T\|$")
    if np.any(res.bound_holds):
        ax.loglog(res.omega, res.bound, "--", label="Lemma bound")
    ax.loglog(res.omega, res.relative_incoherence, ":", label="relative incoherence")
    if res.bandwidth_rad_s > 0:
        ax.axvline(res.bandwidth_rad_s, color="grey", lw=0.8,
                   label=f"bandwidth (tol {res.tol:g})")
    ax.set_xlabel("frequency (rad/s)")
    ax.set_ylabel("incoherence")
    ax.legend(fontsize="small")
    return ax


def plot_time_response(resp, ax=None):
    """Node responses (thin grey), the COI (blue) and the aggregate model (red dashed)."""
    ax = _axes(ax)
    ax.plot(resp.t, resp.outputs, color="0.6", lw=0.6)
    ax.plot(resp.t, resp.coi, color="tab:blue", lw=1.6, label="centre of inertia")
    ax.plot(resp.t, resp.aggregate, "--", color="tab:red", lw=1.6, label=r"aggregate $\hat g$")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("output (frequency deviation)")
    ax.legend(fontsize="small")
    return ax
