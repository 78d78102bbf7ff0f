"""Modal form of the step-response matrix from one eigendecomposition of a state matrix.

For networks whose machines are not proportional (no closed form in :mod:`.nadir_modes`)
and for general linear models (:mod:`.lti`), the step-response matrix

``S(t) = D + C A^{-1}(e^{At} - I) B``

is written in the modal form of :class:`~netcoh.analysis.nadir_modes.ModalModel` through
``A = W diag(mu) W^{-1}``: ``P = C W``, ``Q = W^{-1} B``, ``phi_k = (e^{mu_k t} - 1)/mu_k``
(complex pairs kept once with a factor 2, so that ``Re(...)`` is exact). A network's
decomposition can be kept as the reference of its branch outages and unit trips
(:func:`pin_reference`, :mod:`.modal_update`). A state matrix whose eigenvector basis is too
ill-conditioned is refused with :class:`~netcoh.exceptions.SolverError`; the
eigen-free searches (:mod:`.nadir_timedomain`, :mod:`.lti_timedomain`) take such models.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.linalg as la

from .._validation import as_real
from ..network.system import _check_system, check_stable
from . import modal_update as _modal_update
from .modal_reference import conditioned_lu
from .nadir_modes import PoleResidueModes, proportional_factors

__all__ = ["statespace_modes", "lti_modes", "pin_reference"]

#: largest state dimension whose dense decomposition is kept as a reference for updates
_REUSE_MAX_STATES = 4000


def _reuse_mode(reuse) -> str:
    if reuse is None:
        env = os.environ.get("NETCOH_MODAL_UPDATE", "")
        return {"0": "off", "auto": "recent"}.get(env, "pinned")
    return "recent" if reuse else "off"


def statespace_modes(system, cond_max: float = 1e10, reuse: bool | None = None) -> PoleResidueModes:
    """Modal model from the grounded realisation (any nodal dynamics and coupling).

    ``S(t) = D + C A^{-1}(e^{At} - I) B`` with ``A = W diag(mu) W^{-1}``; complex pairs are
    kept once with a factor 2 so that ``Re(...)`` is exact.

    A network whose state matrix differs from a reference's by a matrix of rank two or
    less (one or two branch outages) is updated from the reference's decomposition
    (:func:`~netcoh.analysis.modal_update.update_basis`, checked mode by mode; the dense
    eigenproblem when a check fails). References: the networks given to
    :func:`pin_reference` (default, ``reuse=None``), with ``reuse=True`` also the last
    networks decomposed densely in this process (faster for a sequence of outages, but
    the last digits then depend on what was decomposed before), ``reuse=False`` none.
    The environment variable ``NETCOH_MODAL_UPDATE`` changes the default: ``0`` as
    ``False``, ``auto`` as ``True``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> row = statespace_modes(sys).rows(np.array([0]), np.array([0.5]))[0]  # row 0 of S(0.5)
    >>> step = nc.step_response(sys, np.eye(3)[0], [0.5]).outputs[0]      # column 0 of S(0.5)
    >>> bool(np.allclose(row, step, atol=1e-12))      # S is symmetric here
    True
    """
    mode = _reuse_mode(reuse)
    if mode == "pinned":
        # from the Laplacian change alone, when the structure allows (no realisation built)
        out = _modal_update.update_structured(system, cond_max)
        if out is not None and not isinstance(out, str):
            return _updated_modes(system, out, None)
        if out is None:           # a check failed: dense
            mode = "off"
    real = system.realization()
    S0 = real.D.toarray() if real.D.nnz else None
    if mode != "off":
        basis = _modal_update.lookup(real, recent=mode == "recent")
        usable = basis is not None and basis.cond <= cond_max
        out = _modal_update.update_basis(basis, system, real) if usable else None
        if basis is None:         # a unit trip of a reference network (one node fewer)?
            for ref in _modal_update.pinned():
                if ref.system is not None and ref.system.n == system.n + 1 \
                        and ref.cond <= cond_max:
                    out = _modal_update.update_trip(ref, system, real)
                    if out is not None:
                        break
        if out is not None:
            return _updated_modes(system, out, S0)
    basis = _modal_update.decompose(system, cond_max)
    if mode == "recent" and basis.n_states <= _REUSE_MAX_STATES:
        _modal_update.remember(basis)
    return _with_steady_state(system, _basis_modes(basis, S0))


def lti_modes(model, cond_max: float = 1e10) -> PoleResidueModes:
    """Modal model of a general stable linear model (the dense branch of :func:`statespace_modes`).

    Parameters
    ----------
    model : LTIModel
        From :func:`netcoh.analysis.lti.as_lti` (a ``control.StateSpace`` whose inputs
        are bus injections and outputs machine frequencies; inputs and outputs may differ
        in number).
    cond_max : float, default 1e10
        Largest eigenvector condition number accepted.

    Returns
    -------
    PoleResidueModes
        ``S(t) = D + C A^{-1}(e^{At} - I) B`` in modal form, shape (outputs, inputs).

    Raises
    ------
    SolverError
        The eigenvector condition number exceeds ``cond_max`` (a nearly defective state
        matrix); :mod:`.lti_timedomain` searches such models.

    Examples
    --------
    >>> import control
    >>> from netcoh.analysis.lti import as_lti
    >>> m = lti_modes(as_lti(control.ss([[-2.0]], [[1.0, 3.0]], [[1.0]], [[0.0, 0.0]])))
    >>> m.rows_at_inf().round(6).tolist()        # the DC gain C (-A)^-1 B
    [[0.5, 1.5]]
    """
    real = model.realization()
    mu, W = la.eig(model.A, check_finite=False)
    lu, piv, cond = conditioned_lu(W, cond_max, hint="; worst_case_nadir's method='auto' "
                                   "or 'timedomain' searches without it")
    basis = _modal_update.dense_basis(real, mu, W, (lu, piv), cond)
    return _basis_modes(basis, real.D.toarray() if real.D.nnz else None)


def _basis_modes(basis, S0) -> PoleResidueModes:
    """``S(t)`` from a dense eigendecomposition ``A = W diag(mu) W^{-1}``."""
    mu = basis.mu                           # the basis orders the modes (pairs first)
    keep = mu.imag >= 0
    factor = np.where(mu.imag > 0, 2.0, 1.0)
    mu_k, Q = mu[keep], basis.Q[keep] * factor[keep, None]
    P = basis.P[:, keep].astype(complex)
    # phi_k = (e^{mu t} - 1)/mu = -1/mu + e^{mu t}/mu
    poles = mu_k[:, None]
    res = (1.0 / mu_k)[:, None]
    const = -1.0 / mu_k
    return _ComplexConstModes(P, Q, S0, poles, res.astype(complex), const)


def _updated_modes(system, out, S0):
    s, P, Q = out
    check_stable(system, eigenvalues=s)
    return _with_steady_state(system, _ComplexConstModes(
        P.astype(complex, copy=False), Q, S0, s[:, None], (1.0 / s)[:, None].astype(complex), -1.0 / s))


def _with_steady_state(system, model):
    """``model`` with its steady state ``S(inf)`` in closed form, when the coupling is
    ``f = gain/s``, the nodes have no feedthrough and finite non-zero DC gains: every bus
    settles at ``sum(u) / sum_i (1/g_i(0))`` (the input shared by the droops and
    dampings), so ``S(inf) = 1 1^T / sum_i (1/g_i(0))`` (no product over the modes)."""
    if system.coupling.kind != "integrator" or model.S0 is not None:
        return model
    inv0 = np.real(system.nodal.inverse(np.zeros(1)))[0]
    total = float(np.sum(inv0))
    if not (np.all(np.isfinite(inv0)) and total > 0):
        return model
    Sinf = np.full((system.n, system.n), 1.0 / total)
    Sinf.setflags(write=False)
    model._rows_at_inf = Sinf
    return model


def pin_reference(system, cond_max: float = 1e10) -> bool:
    """Decompose ``system`` once and keep it as the reference for its branch outages.

    Later calls of :func:`statespace_modes` (so :func:`~netcoh.worst_case_nadir` and
    contingency screening) on networks one or two branch outages away from ``system``, or
    with one machine tripped (a machine joined by its own branch), update its modes
    instead of solving the dense eigenproblem (checked; dense when a check fails).
    Updates depend only on the reference and the network, so every process that
    pins the same network gets the same digits. Networks of proportional machines take
    the closed form and need no reference.

    Parameters
    ----------
    system : NetworkSystem
        The reference network (for screening: the intact one).
    cond_max : float, default 1e10
        Largest eigenvector condition number accepted, as in :func:`statespace_modes`.

    Returns
    -------
    bool
        True if a reference was kept, False if ``system`` takes the proportional closed
        form or is too large (more than 4,000 states) to keep.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis import modal_update
    >>> L = 5.0 * nc.laplacian.ring_lattice(6, 2)
    >>> nodal = nc.nodal.swing_turbine(np.arange(1.0, 7.0), 1.0, 2.0, 5.0)
    >>> pin_reference(nc.NetworkSystem.from_laplacian(L, nodal=nodal))
    True
    >>> L2 = L.copy(); L2[0, 1] = L2[1, 0] = 0.0; L2[0, 0] = L2[1, 1] = 15.0  # a line out
    >>> model = statespace_modes(nc.NetworkSystem.from_laplacian(L2, nodal=nodal))
    >>> modal_update.last_failure[0] == ""                 # updated, not recomputed
    True
    >>> modal_update.clear()
    """
    _check_system(system)
    as_real(cond_max, "cond_max", low=1.0)
    if proportional_factors(system) is not None:
        return False
    if system.realization().A.shape[0] > _REUSE_MAX_STATES:
        return False
    _modal_update.pin(_modal_update.decompose(system, cond_max))
    return True


class _ComplexConstModes(PoleResidueModes):
    """Pole-residue modes whose constant term is complex (state-space modal form)."""

    def phi(self, t, deriv: int = 0):
        t = np.asarray(t, dtype=float)
        e = np.exp(self.poles[None, :, 0] * t[:, None])
        val = self.res[None, :, 0] * self.poles[None, :, 0] ** deriv * e
        if deriv == 0:
            val = val + self.const[None, :]
        return val

    def phi_inf(self):
        return self.const.astype(complex)
