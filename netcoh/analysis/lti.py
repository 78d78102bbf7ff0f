"""General linear models as inputs of the time-domain and nadir analyses.

:func:`netcoh.step_response` and :func:`netcoh.worst_case_nadir` accept, besides a
:class:`~netcoh.NetworkSystem`, any stable continuous-time ``control.StateSpace`` whose inputs
are power injections (p.u., one per bus) and whose outputs are frequency deviations (one per
machine), such as :func:`netcoh.grids.andes_linear.linearize` returns. :func:`as_lti` wraps it
in an :class:`LTIModel` that offers what the state-space machinery of those analyses reads (the
realisation, the numbers and labels of inputs and outputs, the nominal frequency), so the same
solvers run on both.

Examples
--------
>>> import control, netcoh as nc
>>> from netcoh.analysis.lti import as_lti
>>> m = as_lti(control.ss([[-1.0]], [[1.0, 2.0]], [[1.0]], [[0.0, 0.0]]), f_hz=50.0)
>>> m.n, m.n_inputs, m.labels, m.input_labels, m.f_hz
(1, 2, ('y[0]',), ('u[0]', 'u[1]'), 50.0)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from .._util import readonly as _readonly
from .._validation import as_real
from ..exceptions import InputError, NetcohTypeError, UnstableError
from ..network.system import Realization

__all__ = ["LTIModel", "as_lti", "is_lti"]


def is_lti(obj) -> bool:
    """Whether ``obj`` is a ``control.StateSpace`` or an :class:`LTIModel`.

    Parameters
    ----------
    obj : object
        Anything.

    Returns
    -------
    bool
        True for a state-space model the analyses accept as a general linear model.

    Examples
    --------
    >>> import netcoh as nc
    >>> is_lti(nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
    ...                                        nodal=nc.nodal.swing(1.0, 1.0, n=2)))
    False
    """
    if isinstance(obj, LTIModel):
        return True
    ctl = sys.modules.get("control")       # a StateSpace exists only if control is imported
    return ctl is not None and isinstance(obj, ctl.StateSpace)


@dataclass(frozen=True, eq=False)
class LTIModel:
    """A stable linear model ``x' = A x + B u``, ``y = C x + D u`` with labelled inputs and outputs.

    Attributes
    ----------
    A, B, C, D : ndarray
        Dense state-space matrices (read-only).
    labels : tuple of str
        Output names (machines).
    input_labels : tuple of str
        Input names (buses).
    f_hz : float or None
        Nominal frequency (Hz), for reporting p.u. outputs in Hz; None if unknown.
    coi_weights : ndarray or None
        Weights of the outputs in a centre of inertia (e.g. machine inertias); None: equal.
    eigenvalues : ndarray
        Eigenvalues of ``A`` (all with negative real part).

    Examples
    --------
    >>> import control
    >>> m = as_lti(control.ss([[-1.0]], [[1.0, 1.0]], [[1.0], [2.0]], [[0.0, 0.0], [0.0, 0.0]],
    ...                       inputs=["bus1", "bus2"], outputs=["g1", "g2"]))
    >>> m.labels, m.input_labels, m.inertia_weights.tolist()   # equal COI weights by default
    (('g1', 'g2'), ('bus1', 'bus2'), [0.5, 0.5])
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray
    labels: tuple
    input_labels: tuple
    f_hz: float | None
    coi_weights: np.ndarray | None
    eigenvalues: np.ndarray

    @property
    def n(self) -> int:
        """Number of outputs (the rows of every result)."""
        return self.C.shape[0]

    @property
    def n_inputs(self) -> int:
        """Number of inputs (the entries of a disturbance)."""
        return self.B.shape[1]

    @property
    def inertia_weights(self) -> np.ndarray:
        """Centre-of-inertia weights of the outputs, summing to 1."""
        w = np.ones(self.n) if self.coi_weights is None else np.asarray(self.coi_weights)
        return w / w.sum()

    def realization(self) -> Realization:
        """The matrices in the sparse form of ``NetworkSystem.realization()``.

        Returns
        -------
        Realization
            ``(A, B, C, D)`` as CSR matrices.
        """
        return Realization(*(sp.csr_matrix(M) for M in (self.A, self.B, self.C, self.D)))


def _labels(obj, attr: str, n: int, prefix: str) -> tuple:
    lab = getattr(obj, attr, None)
    if lab is None or len(lab) != n:
        return tuple(f"{prefix}[{i}]" for i in range(n))
    return tuple(str(x) for x in lab)


def as_lti(model, *, f_hz: float | None = None) -> LTIModel:
    """Check a ``control.StateSpace`` (stable, continuous time) and wrap it as an :class:`LTIModel`.

    Parameters
    ----------
    model : control.StateSpace or LTIModel
        Inputs: power injections (p.u.); outputs: frequency deviations. Its
        ``input_labels``/``output_labels`` name the buses and machines; optional attributes
        ``f_hz`` (nominal frequency) and ``coi_weights`` (one per output) are carried over.
    f_hz : float, optional
        Nominal frequency (Hz); overrides the model's own ``f_hz`` attribute.

    Returns
    -------
    LTIModel
        The checked model with its labels, nominal frequency and eigenvalues.

    Raises
    ------
    NetcohTypeError
        ``model`` is not a state-space model.
    InputError
        A discrete-time model, non-finite matrices, or ``coi_weights`` of the wrong size.
    UnstableError
        An eigenvalue of ``A`` has a non-negative real part.

    Examples
    --------
    >>> import control
    >>> as_lti(control.ss([[0.5]], [[1.0]], [[1.0]], [[0.0]]))
    Traceback (most recent call last):
    ...
    netcoh.exceptions.UnstableError: the state-space model is not asymptotically stable: ...
    """
    if isinstance(model, LTIModel):
        if f_hz is None:
            return model
        return LTIModel(model.A, model.B, model.C, model.D, model.labels, model.input_labels,
                        float(as_real(f_hz, "f_hz", low=0.0, low_open=True)), model.coi_weights,
                        model.eigenvalues)
    if not is_lti(model):
        raise NetcohTypeError(f"`system` must be a NetworkSystem or a control.StateSpace, got "
                              f"{type(model).__name__}")
    if getattr(model, "dt", 0) not in (0, None):
        raise InputError(f"`system` must be a continuous-time StateSpace, got dt={model.dt!r}")
    A, B, C, D = (np.array(getattr(model, k), dtype=float) for k in "ABCD")
    if not all(np.all(np.isfinite(M)) for M in (A, B, C, D)):
        raise InputError("`system` must have finite state-space matrices, got NaN or inf")
    if C.shape[0] == 0 or B.shape[1] == 0:
        raise InputError(f"`system` must have inputs and outputs, got {B.shape[1]} inputs and "
                         f"{C.shape[0]} outputs")
    if f_hz is None:
        f_hz = getattr(model, "f_hz", None)
    f_hz = None if f_hz is None else float(as_real(f_hz, "f_hz", low=0.0, low_open=True))
    w = getattr(model, "coi_weights", None)
    if w is not None:
        w = np.asarray(w, dtype=float)
        if w.shape != (C.shape[0],) or np.any(w < 0) or not w.sum() > 0:
            raise InputError(f"`system.coi_weights` must be {C.shape[0]} non-negative weights "
                             f"(one per output), got shape {w.shape}")
    mu = la.eigvals(A) if A.size else np.zeros(0, dtype=complex)
    if mu.size and mu.real.max() >= -1e-12 * max(1.0, float(np.abs(mu).max())):
        worst = mu[np.argmax(mu.real)]
        val = f"{worst.real:.6g}" if worst.imag == 0 else f"{worst:.6g}"
        raise UnstableError(f"the state-space model is not asymptotically stable: eigenvalue "
                            f"{val} has a non-negative real part")
    return LTIModel(_readonly(A), _readonly(B), _readonly(C), _readonly(D),
                    _labels(model, "output_labels", C.shape[0], "y"),
                    _labels(model, "input_labels", B.shape[1], "u"), f_hz,
                    None if w is None else _readonly(w), _readonly(mu))
