"""Exact time-domain responses of the network, its centre of inertia and its aggregate.

Responses to steps, impulses and sinusoids are computed exactly at the requested
times with matrix exponentials of the state-space realisation augmented by the
input's own generator (constant or harmonic oscillator); no ODE tolerance is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import as_float_array, as_real
from ..exceptions import InputError
from ..network.system import _check_system, check_stable
from .aggregate import aggregate_dynamics
from .lti import as_lti, is_lti

__all__ = ["TimeResponse", "step_response", "impulse_response", "sine_response", "simulate_lti"]


def _as_times(t) -> np.ndarray:
    t = np.atleast_1d(as_float_array(t, "t"))
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"`t` must be a non-empty 1-D array of times, got shape {t.shape}")
    if np.any(t < 0):
        raise InputError(f"`t` must be non-negative, got {t.min()}")
    if np.any(np.diff(t) <= 0):
        k = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise InputError(f"`t` must be strictly increasing, got t[{k}] = {t[k]:g} followed by "
                         f"{t[k + 1]:g}")
    return t


def _as_disturbance(system, disturbance) -> np.ndarray:
    # a general linear model's inputs (buses) differ from its outputs (machines)
    n = getattr(system, "n_inputs", system.n)
    if isinstance(disturbance, dict):
        u = np.zeros(n)
        pos = {lab: i for i, lab in enumerate(getattr(system, "input_labels", system.labels))}
        for k, v in disturbance.items():
            if str(k) not in pos:
                raise InputError(f"`disturbance` names an unknown node {k!r}")
            u[pos[str(k)]] = float(v)
        return u
    u = as_float_array(disturbance, "disturbance")
    if u.shape != (n,):
        what = "input" if hasattr(system, "n_inputs") else "node"
        raise InputError(f"`disturbance` must have shape ({n},) (one value per {what}), got {u.shape}")
    return u


def _augment(A, bu, du, C, kind, omega_rad_s):
    """State matrix, initial state and output matrix of the system driven by its input generator.

    The input ``u0 w(t)`` comes from ``w`` = a constant state (step), nothing (impulse: the
    initial state ``B u0``) or a harmonic oscillator ``(sin, cos)`` (sine); ``A``/``C`` may be
    sparse, and the result is sparse when they are.
    """
    N = A.shape[0]
    sparse = sp.issparse(A)
    if kind == "impulse":
        return A, bu.copy(), C
    if kind == "step":
        g = sp.csr_matrix((1, 1)) if sparse else np.zeros((1, 1))
        x0 = np.zeros(N + 1)
        x0[N] = 1.0
        cg = du[:, None]
    elif kind == "sine":
        a = as_real(omega_rad_s, "omega_rad_s", low=0.0, low_open=True)
        g = np.array([[0.0, a], [-a, 0.0]])
        x0 = np.zeros(N + 2)
        x0[N + 1] = 1.0          # w = (sin, cos); w(0) = (0, 1)
        cg = np.column_stack([du, np.zeros_like(du)])
    else:
        raise InputError(f"`kind` must be 'step', 'impulse' or 'sine', got {kind!r}")
    q = g.shape[0]
    top = np.zeros((N, q))
    top[:, 0] = bu
    if sparse:
        Aa = sp.bmat([[A, sp.csr_matrix(top)], [None, sp.csr_matrix(g)]], format="csr")
        Ca = sp.hstack([sp.csr_matrix(C), sp.csr_matrix(cg)], format="csr")
    else:
        Aa = np.block([[A, top], [np.zeros((q, N)), g]])
        Ca = np.hstack([C, cg])
    return Aa, x0, Ca


def _uniform_step(t: np.ndarray) -> float | None:
    """The step ``h`` when ``t[k] = t[0] + k h`` to rounding (1e-12 of the span), else None."""
    if t.size < 2:
        return None
    h = (t[-1] - t[0]) / (t.size - 1)
    dev = np.max(np.abs(t - (t[0] + h * np.arange(t.size))))
    return float(h) if dev <= 1e-12 * max(abs(t[-1]), h) else None


def _propagate_dense(Aa: np.ndarray, x0: np.ndarray, Ca: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``Ca expm(Aa t_k) x0`` for every ``t_k``, shape ``(len(t), p)``.

    The state is first balanced by a diagonal similarity (powers of two, LAPACK ``gebal``),
    which lowers the norm and so the cost and rounding of the matrix exponential. On a
    uniform grid the samples are taken in blocks of ``b`` (a power of two):
    ``y(t_{qb+j}) = (Ca Phi^j)(Phi^{b q} x0)`` with ``Phi = expm(Aa h)``, so one exponential,
    ``log2 b`` squarings, ``b`` output maps, ``T/b`` products with ``Phi^b`` and one matrix
    product give all samples, instead of ``T`` sequential products with an ``N x N`` matrix.
    """
    T = t.size
    gebal = la.get_lapack_funcs("gebal", (Aa,))
    sc = gebal(Aa, scale=1, permute=0)[3]          # scaling only: D^-1 Aa D
    As = Aa * (sc[None, :] / sc[:, None])
    Cs = Ca * sc[None, :]
    x = x0 / sc
    if t[0] > 0:
        x = la.expm(As * t[0]) @ x
    h = _uniform_step(t)
    if h is None:
        X = np.empty((T, As.shape[0]))
        X[0] = x
        cache: dict[float, np.ndarray] = {}
        for i, step in enumerate(np.diff(t)):
            Phi = cache.get(float(step))
            if Phi is None:
                Phi = cache[float(step)] = la.expm(As * step)
            x = Phi @ x
            X[i + 1] = x
        return X @ Cs.T
    p = Cs.shape[0]
    # b minimises b p N^2 (output maps) + (T / b) N^2 (block starts), rounded to a power of 2
    b = int(min(2 ** round(np.log2(max(1.0, np.sqrt(T / max(p, 1))))), T))
    nq = -(-T // b)
    O = np.empty((b, p, As.shape[0]))
    O[0] = Cs
    Phib = la.expm(As * h) if T > 1 else None
    for j in range(1, b):
        O[j] = O[j - 1] @ Phib
    for _ in range(b.bit_length() - 1):           # Phi^b by squaring
        Phib = Phib @ Phib
    Xs = np.empty((As.shape[0], nq))
    Xs[:, 0] = x
    for q in range(1, nq):
        Xs[:, q] = Phib @ Xs[:, q - 1]
    Y = (O.reshape(b * p, -1) @ Xs).reshape(b, p, nq)
    return Y.transpose(2, 0, 1).reshape(nq * b, p)[:T]


def _balance(A: sp.csr_matrix, sweeps: int = 30) -> np.ndarray:
    """Diagonal scaling ``s`` (powers of 2) that makes ``diag(s)^-1 A diag(s)`` balanced.

    Damped Jacobi-style Osborne sweeps equalise each state's off-diagonal row and column 1-norms;
    for swing networks this brings ``||A||_1`` from ``max(L_ii / m_i)`` down to about the
    highest oscillation frequency, which is what the cost of a Taylor/Krylov exponential
    scales with.
    """
    M = abs(A).tocsr()
    M.setdiag(0)
    M.eliminate_zeros()
    s = np.ones(A.shape[0])
    for _ in range(sweeps):
        Ms = sp.diags(1.0 / s) @ M @ sp.diags(s)
        r = np.asarray(Ms.sum(axis=1)).ravel()
        c = np.asarray(Ms.sum(axis=0)).ravel()
        ok = (r > 0) & (c > 0)
        f = np.ones_like(s)
        # half the Osborne step: all states move at once, and the full step overshoots
        # (an angle and its frequency would swap imbalances)
        f[ok] = np.exp2(np.round(0.25 * np.log2(r[ok] / c[ok])))
        if np.all(f == 1.0):
            break
        s *= f
    return s


#: Al-Mohy and Higham (SIAM J. Sci. Comput. 33(2), 2011, Table 3.1): ``theta_m`` such that a
#: degree-``m`` Taylor step of ``expm(X) v`` with ``||X||_1 <= theta_m`` has a relative backward
#: error below the double-precision unit roundoff ``2^-53``.
_THETA = {5: 2.40e-3, 6: 9.07e-3, 7: 2.38e-2, 8: 5.00e-2, 9: 8.96e-2, 10: 1.44e-1,
          11: 2.14e-1, 12: 3.00e-1, 13: 4.00e-1, 14: 5.14e-1, 15: 6.41e-1, 16: 7.81e-1,
          17: 9.31e-1, 18: 1.09, 19: 1.26, 20: 1.44, 21: 1.62, 22: 1.82, 23: 2.01, 24: 2.22,
          25: 2.43, 26: 2.64, 27: 2.86, 28: 3.08, 29: 3.31, 30: 3.54, 35: 4.7, 40: 6.0,
          45: 7.2, 50: 8.5, 55: 9.9}


def _taylor_plan(norm: float) -> tuple[int, int]:
    """Degree ``m`` and number of sub-steps ``s`` for ``expm(X) v`` with ``||X||_1 = norm``:
    the fewest products ``m s`` with ``norm / s <= theta_m``."""
    best = (5, max(1, int(np.ceil(norm / _THETA[5]))))
    for m, th in _THETA.items():
        s = max(1, int(np.ceil(norm / th)))
        if m * s < best[0] * best[1]:
            best = (m, s)
    return best


def _propagate_sparse(Aa: sp.csr_matrix, x0: np.ndarray, Ca, t: np.ndarray) -> np.ndarray:
    """``Ca expm(Aa t_k) x0`` with sparse matrices only.

    The state is balanced by a diagonal similarity and shifted by the mean eigenvalue
    ``trace / N``; each interval between samples is then covered by ``s`` truncated Taylor
    steps of degree ``m`` chosen from the 1-norm (the algorithm of Al-Mohy and Higham behind
    :func:`scipy.sparse.linalg.expm_multiply`, with the degree fixed once for a uniform grid),
    so every step has a backward error below the unit roundoff.
    """
    N = Aa.shape[0]
    sc = _balance(Aa)
    As = (sp.diags(1.0 / sc) @ Aa @ sp.diags(sc)).tocsr()
    mu = float(As.diagonal().sum()) / N
    shifted = (As - mu * sp.identity(N, format="csr")).tocsr()
    if spla.norm(shifted, 1) < spla.norm(As, 1):
        As = shifted
    else:
        mu = 0.0
    norm1 = float(spla.norm(As, 1))
    Cs = (sp.csr_matrix(Ca) @ sp.diags(sc)).tocsr()
    x = x0 / sc

    def advance(x, h):
        m, s = _taylor_plan(norm1 * h)
        scale = np.exp(mu * h / s)
        for _ in range(s):
            v = x
            acc = x.copy()
            for k in range(1, m + 1):
                v = As @ v
                v *= h / (s * k)
                acc += v
            x = acc * scale
        return x

    if t[0] > 0:
        x = advance(x, float(t[0]))
    out = np.empty((t.size, Cs.shape[0]))
    out[0] = Cs @ x
    h = _uniform_step(t)
    for i, step in enumerate(np.diff(t)):
        x = advance(x, h if h is not None else float(step))
        out[i + 1] = Cs @ x
    return out


#: Above this many states a sparse realisation is simulated without dense matrices.
DENSE_STATES = 1500


def simulate_lti(A, B, C, D, u0, t, *, kind: str = "step", omega_rad_s: float | None = None):
    """Exact response ``y(t)`` of ``x' = Ax + Bu, y = Cx + Du`` from rest.

    The input is ``u(t) = u0 * w(t)`` with ``w`` a unit step (``kind="step"``), a Dirac
    impulse (``"impulse"``, the feedthrough's Dirac part is dropped) or
    ``sin(omega_rad_s t)`` (``"sine"``). The input generator is appended to the state, so
    the samples are ``C_a expm(A_a t) x_a(0)`` without any time-stepping error: dense
    systems use matrix exponentials of the step (in blocks of samples on a uniform grid);
    sparse ones with more than :data:`DENSE_STATES` states use
    :func:`scipy.sparse.linalg.expm_multiply` and stay sparse.

    Parameters
    ----------
    A, B, C, D : array_like or scipy.sparse matrix
        State-space matrices, shapes ``(N, N)``, ``(N, m)``, ``(p, N)``, ``(p, m)``.
    u0 : array_like, shape (m,)
        Input amplitudes.
    t : array_like
        Strictly increasing, non-negative sample times (s).
    kind : {"step", "impulse", "sine"}, default "step"
        Input waveform.
    omega_rad_s : float, optional
        Angular frequency of the sine (rad/s); required for ``kind="sine"``.

    Returns
    -------
    ndarray, shape (len(t), p)
        The output samples.

    Examples
    --------
    >>> import numpy as np
    >>> y = simulate_lti([[-1.0]], [[1.0]], [[1.0]], [[0.0]], [1.0], [0.0, 1.0])
    >>> np.allclose(y[:, 0], [0.0, 1 - np.exp(-1)])
    True
    """
    sparse = sp.issparse(A) and A.shape[0] > DENSE_STATES
    conv = (lambda M: sp.csr_matrix(M, dtype=float)) if sparse else \
        (lambda M: M.toarray().astype(float) if sp.issparse(M) else np.asarray(M, dtype=float))
    A, B, C, D = (conv(M) for M in (A, B, C, D))
    u0 = np.asarray(u0, dtype=float)
    t = _as_times(t)
    bu = np.asarray(B @ u0).ravel()
    du = np.asarray(D @ u0).ravel()
    Aa, x0, Ca = _augment(A, bu, du, C, kind, omega_rad_s)
    if sparse:
        return _propagate_sparse(Aa, x0, Ca, t)
    return _propagate_dense(Aa, x0, Ca, t)


@dataclass(frozen=True, eq=False)
class TimeResponse:
    """Time response of every node, the centre of inertia and the aggregate model.

    Attributes
    ----------
    t : ndarray (k,)
        Times in s.
    outputs : ndarray (k, n)
        Node outputs ``y_i(t)`` (frequency deviations).
    coi : ndarray (k,)
        Centre-of-inertia output ``sum_i w_i y_i`` with ``w = m / sum(m)`` (for a
        ``control.StateSpace``: its ``coi_weights``, equal weights without them).
    aggregate : ndarray (k,)
        Response of ``g_hat`` to the total input ``sum_i u_i`` (NaN for a
        ``control.StateSpace``, which has no aggregate model).
    disturbance : ndarray (n,)
        The input amplitudes ``u0`` (one per input of a ``control.StateSpace``).
    kind : str
        ``"step"``, ``"impulse"`` or ``"sine"``.
    labels : tuple of str

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> r = nc.step_response(sys, [0.0, -0.3, 0.0], np.linspace(0, 10, 101))
    >>> r.outputs.shape, r.coi.shape      # every node, and the centre of inertia
    ((101, 3), (101,))
    """

    t: np.ndarray
    outputs: np.ndarray
    coi: np.ndarray
    aggregate: np.ndarray
    disturbance: np.ndarray
    kind: str
    labels: tuple

    def __post_init__(self):
        for name in ("t", "outputs", "coi", "aggregate", "disturbance"):
            getattr(self, name).setflags(write=False)

    @property
    def incoherence(self) -> float:
        """``max_i sup_t |y_i(t) - y_aggregate(t)|`` over the sampled times."""
        return float(np.max(np.abs(self.outputs - self.aggregate[:, None])))

    def to_frame(self):
        """Wide table indexed by ``t_s``: one column per node plus ``coi`` and ``aggregate``."""
        import pandas as pd

        df = pd.DataFrame(self.outputs, columns=list(self.labels))
        df["coi"] = self.coi
        df["aggregate"] = self.aggregate
        df.index = pd.Index(self.t, name="t_s")
        return df

    def plot(self, ax=None):
        """Every node (thin), the COI (solid) and the aggregate model (dashed).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
        ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
        >>> ax = nc.step_response(sys, [-0.1, 0.0], np.linspace(0, 5, 11)).plot()
        >>> len(ax.lines)                 # 2 nodes + COI + aggregate
        4
        """
        from ..plotting import plot_time_response

        return plot_time_response(self, ax=ax)


def _respond_lti(model, disturbance, t, kind, omega_rad_s) -> TimeResponse:
    """A general linear model: its outputs, their weighted mean as the COI, no aggregate."""
    u0 = _as_disturbance(model, disturbance)
    t = _as_times(t)
    y = simulate_lti(model.A, model.B, model.C, model.D, u0, t, kind=kind,
                     omega_rad_s=omega_rad_s)
    return TimeResponse(t=t.copy(), outputs=y, coi=y @ model.inertia_weights,
                        aggregate=np.full(t.size, np.nan), disturbance=u0.copy(), kind=kind,
                        labels=model.labels)


def _respond(system, disturbance, t, kind, omega_rad_s=None) -> TimeResponse:
    if is_lti(system):
        return _respond_lti(as_lti(system), disturbance, t, kind, omega_rad_s)
    system = _check_system(system)
    u0 = _as_disturbance(system, disturbance)
    t = _as_times(t)
    check_stable(system, strict=False)
    A, B, C, D = system.realization()
    if system.is_sparse and A.shape[0] > DENSE_STATES:
        # the ungrounded realisation is as sparse as L (see simulate_lti's sparse path)
        A, B, C, D = system._build_realization(grounded=False)
    y = simulate_lti(A, B, C, D, u0, t, kind=kind, omega_rad_s=omega_rad_s)
    gh = aggregate_dynamics(system)
    # a large aggregate (many distinct turbine time constants) keeps its sparse form
    Aa, Ba, Ca, Da = gh.realization(sparse=gh.order > DENSE_STATES)
    ya = simulate_lti(Aa, Ba, Ca, Da, [u0.sum()], t, kind=kind, omega_rad_s=omega_rad_s)[:, 0]
    coi = y @ system.inertia_weights
    return TimeResponse(t=t.copy(), outputs=y, coi=coi, aggregate=ya, disturbance=u0.copy(),
                        kind=kind, labels=system.labels)


def step_response(system, disturbance, t) -> TimeResponse:
    """Exact response to a step ``u(t) = u0`` applied at ``t = 0`` from rest.

    Parameters
    ----------
    system : NetworkSystem or control.StateSpace
        The network, or a stable linear model whose inputs are bus injections and outputs
        machine frequencies (e.g. :func:`netcoh.grids.andes_linear.linearize`); for the
        latter the disturbance has one entry per input (``{input label: value}`` as a
        dict), the outputs are in the model's own unit and ``aggregate`` is NaN.
    disturbance : array_like (n,) or dict
        Step amplitude per node (a power injection; a load increase is negative), or
        ``{label: amplitude}``.
    t : array_like
        Strictly increasing, non-negative sample times (s).

    Returns
    -------
    TimeResponse
        Every node's output, the centre of inertia and the aggregate model's response at
        the times ``t``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> r = nc.step_response(sys, [0.0, -0.3, 0.0], np.linspace(0, 100, 501))
    >>> bool(np.allclose(r.outputs[-1], -0.3 / 3.0, atol=1e-8))   # g_hat(0) * sum(u)
    True

    A ``control.StateSpace`` with two inputs and one output:

    >>> import control
    >>> lin = control.ss([[-2.0]], [[1.0, 1.0]], [[1.0]], [[0.0, 0.0]], inputs=["a", "b"])
    >>> float(nc.step_response(lin, {"b": -1.0}, [0.0, 50.0]).outputs[-1, 0])   # -1 / 2
    -0.5
    """
    return _respond(system, disturbance, t, "step")


def impulse_response(system, disturbance, t) -> TimeResponse:
    """Exact response to an impulse ``u(t) = u0 delta(t)``.

    Parameters
    ----------
    system : NetworkSystem or control.StateSpace
        The network, or a stable linear model whose inputs are bus injections and outputs
        machine frequencies (e.g. :func:`netcoh.grids.andes_linear.linearize`); for the
        latter the disturbance has one entry per input (``{input label: value}`` as a
        dict), the outputs are in the model's own unit and ``aggregate`` is NaN.
    disturbance : array_like (n,) or dict
        Impulse weight per node (an injected energy, power times seconds; a load
        increase is negative), or ``{label: weight}``.
    t : array_like
        Strictly increasing, non-negative sample times (s); the state just after the
        impulse is the value at ``t = 0``.

    Returns
    -------
    TimeResponse
        Every node's output, the centre of inertia and the aggregate model's response at
        the times ``t``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
    >>> r = nc.impulse_response(sys, [1.0, 1.0], [0.0, 1.0])
    >>> bool(np.allclose(r.outputs[1], np.exp(-1.0)))
    True
    """
    return _respond(system, disturbance, t, "impulse")


def sine_response(system, disturbance, t, omega_rad_s: float) -> TimeResponse:
    """Exact response to ``u(t) = u0 sin(omega_rad_s t)`` from rest.

    Parameters
    ----------
    system : NetworkSystem or control.StateSpace
        The network, or a stable linear model whose inputs are bus injections and outputs
        machine frequencies (e.g. :func:`netcoh.grids.andes_linear.linearize`); for the
        latter the disturbance has one entry per input (``{input label: value}`` as a
        dict), the outputs are in the model's own unit and ``aggregate`` is NaN.
    disturbance : array_like (n,) or dict
        Sine amplitude ``u0`` per node (a power injection), or ``{label: amplitude}``.
    t : array_like
        Strictly increasing, non-negative sample times (s).
    omega_rad_s : float
        Angular frequency of the sinusoid in rad/s.

    Returns
    -------
    TimeResponse
        Includes the transient from rest, not only the steady-state oscillation.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
    >>> nc.sine_response(sys, [1.0, 0.0], np.linspace(0, 10, 11), 0.1).outputs.shape
    (11, 2)
    """
    return _respond(system, disturbance, t, "sine",
                    as_real(omega_rad_s, "omega_rad_s", low=0.0, low_open=True))
