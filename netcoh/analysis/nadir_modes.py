"""Modal forms of the step-response matrix used by the worst-case nadir search.

Every model writes the step-response matrix of the network (outputs ``y``, step inputs
``u``) as

``S(t) = S0 + Re(P diag(phi(t)) Q)``

with ``P`` (n, K), ``Q`` (K, n) and ``K`` scalar mode functions ``phi_k(t)``:

* :class:`SwingModes` -- proportional swing machines (EPSR24 Lemma 1 and 3):
  ``P = R^{-1/2} V``, ``Q = P^T`` and ``phi_k = h_k`` the impulse response of
  ``1/(m s^2 + d s + lambda_k)``, in a closed form that stays accurate through
  critical damping;
* :class:`PoleResidueModes` -- proportional machines with any representative unit
  ``g_o = num/den``: ``phi_k`` is the impulse response of ``num/(s den + lambda_k num)``
  in partial fractions;
* anything else (any nodal dynamics, general linear models) through one eigendecomposition
  of the state matrix: :mod:`.modal_statespace`, built on :class:`PoleResidueModes`.

Each model also bounds ``|phi_k^{(j)}|`` on time intervals (``j = 0, 1, 2``), which is
what certifies that no point between time-grid samples beats the reported nadir.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.linalg as la

from ..exceptions import InputError
from ..network.system import check_stable

__all__ = ["ModalModel", "SwingModes", "PoleResidueModes", "proportional_factors",
           "proportional_modes"]


class ModalModel(ABC):
    """Base class: ``S(t) = S0 + Re(P diag(phi(t)) Q)``; subclasses define ``phi``.

    Examples
    --------
    The step responses ``S(t) u`` and rows of ``S(t)`` agree with a direct simulation:

    >>> import numpy as np, netcoh as nc
    >>> r = np.array([1.0, 2.0, 2.0, 3.0])
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(4, 1),
    ...                                       nodal=nc.nodal.swing(r, 0.5 * r))
    >>> model = proportional_modes(sys, proportional_factors(sys))
    >>> t, u = np.linspace(0.0, 5.0, 6), np.array([0.0, -0.3, 0.0, 0.0])
    >>> y = model.response(u, t)                              # (T, n)
    >>> bool(np.allclose(y, nc.step_response(sys, u, t).outputs, rtol=0, atol=1e-12))
    True
    >>> bool(np.allclose(model.rows(np.full(6, 2), t) @ u, y[:, 2]))   # S(t_p)[2, :] u
    True
    """

    P: np.ndarray
    Q: np.ndarray
    S0: np.ndarray | None
    #: ``s`` with ``P = diag(s) V``, ``V`` orthogonal and ``Q = P^T`` (proportional models), else None
    scale: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.P.shape[0]

    @abstractmethod
    def phi(self, t: np.ndarray, deriv: int = 0) -> np.ndarray:
        """``phi_k^{(deriv)}(t)`` for every time and mode, shape (T, K)."""

    @abstractmethod
    def phi_inf(self) -> np.ndarray:
        """``phi_k`` at infinity, shape (K,)."""

    @abstractmethod
    def bound(self, a: np.ndarray, b: np.ndarray, deriv: int) -> np.ndarray:
        """Upper bound of ``|phi_k^{(deriv)}(tau)|`` for ``tau in [a, b]``, shape (len(a), K)."""

    @abstractmethod
    def tail(self, H: float) -> np.ndarray:
        """Upper bound of ``|phi_k(tau) - phi_k(inf)|`` for ``tau >= H``, shape (K,)."""

    @property
    @abstractmethod
    def decay(self) -> float:
        """Slowest decay rate (1/s) of the non-constant mode terms."""

    # -- rows of S(t) ----------------------------------------------------------------
    def rows(self, bus: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Rows ``S(t_p)[bus_p, :]`` for pairs ``(bus_p, t_p)``, shape (len(bus), n)."""
        bus = np.asarray(bus, dtype=int)
        ph = self.phi(np.asarray(t, dtype=float))
        out = _real_product(self.P[bus] * ph, self.Q)
        if self.S0 is not None:
            out = out + self.S0[bus]
        return out

    def rows_at_inf(self) -> np.ndarray:
        """``S(inf)`` (n, r, read-only): the steady state (``phi`` at infinity), computed once."""
        out = self.__dict__.get("_rows_at_inf")
        if out is None:
            pinf = self.phi_inf()
            nz = np.flatnonzero(pinf != 0)          # proportional models: the common mode only
            out = _real_product(self.P[:, nz] * pinf[nz], self.Q[nz])
            if self.S0 is not None:
                out = out + self.S0
            out.setflags(write=False)
            self._rows_at_inf = out
        return out

    def table_chunks(self, t: np.ndarray, max_bytes: float = 1.5e8):
        """Yield ``(slice, S)`` with ``S`` of shape (len(slice), n, r) = ``S(t[slice])``
        (``r`` inputs; ``r = n`` for a network, whose inputs are its nodes)."""
        n, K = self.P.shape
        r = self.Q.shape[1]
        item = 16 if np.iscomplexobj(self.P) else 8
        step = max(1, int(max_bytes // (item * n * max(r, K) * 2)))
        ph = self.phi(t)
        for s in range(0, t.size, step):
            sl = slice(s, min(t.size, s + step))
            M = self.P[None, :, :] * ph[sl, None, :]
            Y = _real_product(M.reshape(-1, K), self.Q).reshape(-1, n, r)
            if self.S0 is not None:
                Y += self.S0[None]
            yield sl, Y

    def row_norm_bound(self, t: np.ndarray, light: int, ph: np.ndarray | None = None,
                       max_bytes: float = 6.4e7) -> np.ndarray:
        """Certified upper bound of ``||S(t)[i, :]||_2`` for every bus and time, shape (n, T).

        Needs ``P = diag(s) V`` with ``V`` orthogonal and ``Q = P^T`` (:attr:`scale`). With
        ``J`` the ``light`` buses of largest ``s`` (lightest machines) and ``c`` the largest
        ``s`` outside ``J``, and ``a = V (phi o P_i)`` (so ``||a|| = ||phi o P_i||``),

        ``||S_i||^2 = sum_j s_j^2 a_j^2 <= sum_{j in J} S_ij^2 (1 - c^2/s_j^2) + c^2 ||phi o P_i||^2``,

        which costs ``T n^2 |J|`` instead of the ``T n^3`` of the exact table, and is exact
        when the machines are homogeneous (all ``s_j`` equal).

        Parameters
        ----------
        t : ndarray (T,)
            Times (s).
        light : int
            Size of ``J`` (clipped to ``[0, n-1]``).
        ph : ndarray (T, K), optional
            ``phi(t)`` when already computed.
        max_bytes : float
            Memory for the ``S(t)[:, J]`` blocks, which are computed a few times at once.

        Returns
        -------
        ndarray (n, T)

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> from netcoh.analysis.nadir import build_modal_model
        >>> m = np.array([1.0, 1.0, 1.0, 2.0, 4.0, 8.0])       # proportional: d = m / 2
        >>> sys = nc.NetworkSystem.from_laplacian(10.0 * nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(m, 0.5 * m))
        >>> model, _ = build_modal_model(sys)
        >>> t = np.linspace(0.0, 2.0, 5)
        >>> exact = np.linalg.norm([model.rows(np.arange(6), np.full(6, x)) for x in t], axis=2).T
        >>> bool(np.all(model.row_norm_bound(t, light=2) >= exact))
        True
        """
        s = self.scale
        if s is None or self.S0 is not None:
            raise InputError("row_norm_bound needs a proportional model (P = diag(s) V, Q = P^T), "
                             "got a model without `scale`")
        n, K = self.P.shape
        t = np.asarray(t, dtype=float)
        ph = np.real(self.phi(t)) if ph is None else np.real(ph)
        light = int(min(max(light, 0), n - 1))
        order = np.argsort(-s, kind="stable")
        J = order[:light]
        c = float(s[order[light]])
        out = (c * c) * ((self.P ** 2) @ (ph ** 2).T)                # c^2 ||phi o P_i||^2
        if light:
            wgt = 1.0 - (c / s[J]) ** 2                             # in [0, 1)
            PJt = self.P[J].T                                       # (K, |J|)
            step = max(1, int(max_bytes // (8 * max(n, K) * light)))
            for a in range(0, t.size, step):
                b = min(t.size, a + step)
                W = (ph[a:b, :, None] * PJt[None]).transpose(1, 0, 2).reshape(K, -1)
                SJ = (self.P @ W).reshape(n, b - a, light)          # S(t)[i, J]
                out[:, a:b] += np.einsum("itj,j->it", SJ * SJ, wgt)
        # V is orthogonal to rounding: a relative slack keeps the bound an upper bound
        return np.sqrt(out * (1.0 + 1e-9))

    def response(self, u: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``y(t) = S(t) u`` for all nodes, shape (len(t), n)."""
        qu = self.Q @ u
        y = self.shapes_product(self.phi(t) * qu[None, :])
        if self.S0 is not None:
            y = y + (self.S0 @ u)[None, :]
        return y

    def shapes_product(self, X: np.ndarray) -> np.ndarray:
        """``Re(X @ P^T)``: the outputs at every node of mode coefficients ``X``.

        One real product ``[Re X, -Im X_c] @ [Re P^T; Im P^T_c]`` over the modes ``c`` whose
        shape is not real (a network with governors has mostly real modes); the stacked
        real matrix is formed on first use and kept.

        Parameters
        ----------
        X : ndarray (T, K)
            Coefficients of the ``K`` modes (e.g. ``phi(t) * (Q @ u)``), real or complex.

        Returns
        -------
        ndarray (T, n)
        """
        if not np.iscomplexobj(self.P):
            return np.real(X) @ self.P.T
        split = self.__dict__.get("_shapes_split")
        if split is None:
            PT = self.P.T
            cplx = np.flatnonzero(np.any(PT.imag != 0, axis=1))
            split = self._shapes_split = (cplx, np.concatenate([PT.real, PT.imag[cplx]], axis=0))
        cplx, R = split
        if not np.iscomplexobj(X):
            return X @ R[:X.shape[1]]
        return np.concatenate([X.real, -X.imag[:, cplx]], axis=1) @ R

    def weights(self, dual_row_norm) -> tuple[np.ndarray, np.ndarray]:
        """``(|P|, ||Q_k||_D)`` used by the derivative bounds."""
        return np.abs(self.P), dual_row_norm(np.abs(self.Q))


def _real_product(X, Y):
    """``Re(X @ Y)`` with two real matrix products (half the work of the complex one)."""
    if not np.iscomplexobj(X):
        return X @ np.real(Y)
    if not np.iscomplexobj(Y):
        return X.real @ Y
    return X.real @ Y.real - X.imag @ Y.imag


# -- proportional machines ----------------------------------------------------------------

def proportional_factors(system, rtol: float = 1e-9):
    """Whether the machines are proportional: ``g_i = g_o / r_i`` and ``f = gain/s``.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    rtol : float
        Relative tolerance of the comparison of the nodes' coefficients.

    Returns
    -------
    tuple or None
        ``(r, num_o, den_o, gain)``: the ratios ``r`` (``mean(r) = 1``), the coefficients of
        the representative machine ``g_o`` and the coupling gain; None when the machines are
        not proportional or the coupling is not ``gain/s``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> L = nc.laplacian.ring_lattice(4, 1)
    >>> m = np.array([1.0, 2.0, 2.0, 3.0])
    >>> r, num, den, gain = proportional_factors(
    ...     nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m, 0.5 * m)))
    >>> r.tolist(), den.tolist(), gain                      # g_o = 1/(2 s + 1)
    ([0.5, 1.0, 1.0, 1.5], [2.0, 1.0], 1.0)
    >>> print(proportional_factors(nc.NetworkSystem.from_laplacian(
    ...     L, nodal=nc.nodal.swing(m, [1.0, 1.0, 1.0, 1.5]))))
    None
    """
    cpl = system.coupling
    if cpl.kind != "integrator":
        return None
    gain = float(cpl.params["gain"][0])
    num, den = np.asarray(system.nodal.num), np.asarray(system.nodal.den)
    # scale each row so that its numerator's largest coefficient is 1
    jn = np.argmax(np.abs(num), axis=1)
    a = num[np.arange(num.shape[0]), jn]
    if np.any(a == 0):
        return None
    numn = num / a[:, None]
    denn = den / a[:, None]
    if not np.allclose(numn, numn[0], rtol=rtol, atol=rtol * np.abs(numn[0]).max()):
        return None
    jd = np.argmax(np.abs(denn[0]))
    r = denn[:, jd] / denn[0, jd]
    if np.any(r <= 0) or not np.allclose(denn, r[:, None] * denn[0], rtol=rtol,
                                         atol=rtol * np.abs(denn).max()):
        return None
    scale = r.mean()
    r = r / scale
    return r, numn[0].copy(), denn[0] * scale, gain


def _scaled_eigh(system, r: np.ndarray, gain: float):
    L = system.laplacian
    L = L.toarray() if hasattr(L, "toarray") else np.asarray(L)
    s = 1.0 / np.sqrt(r)
    Ls = gain * (s[:, None] * L * s[None, :])
    lam, V = la.eigh(Ls, overwrite_a=True, check_finite=False, driver="evd")
    # the common mode is known exactly: v1 = R^{1/2} 1 / sqrt(sum r), lambda_1 = 0
    lam = np.maximum(lam, 0.0)
    lam[0] = 0.0
    V[:, 0] = np.sqrt(r) / np.sqrt(r.sum())
    return lam, V, s


class SwingModes(ModalModel):
    """Proportional swing machines: ``phi_k`` = impulse response of ``1/(m s^2 + d s + lam_k)``.

    Parameters
    ----------
    P : ndarray (n, K)
        Mode shapes (``Q = P^T``).
    lam : ndarray (K,)
        Eigenvalues of the scaled Laplacian (``lam_k = 0``: the common mode).
    m, d : float
        Inertia and damping of the representative machine.
    scale : ndarray (n,), optional
        As in :class:`PoleResidueModes`.

    Examples
    --------
    The common mode ``(1 - e^{-d t/m})/d`` and an oscillating one
    ``e^{-sigma t} sin(w t)/(m w)``, ``sigma = d/(2m)``, ``w^2 = lam/m - sigma^2``:

    >>> import numpy as np
    >>> modes = SwingModes(np.eye(2), np.array([0.0, 4.0]), m=2.0, d=1.0)
    >>> t = np.array([0.0, 1.0, 5.0])
    >>> w = np.sqrt(4.0 / 2.0 - 0.25 ** 2)
    >>> ref = np.stack([1.0 - np.exp(-0.5 * t), np.exp(-0.25 * t) * np.sin(w * t) / (2.0 * w)], 1)
    >>> bool(np.allclose(modes.phi(t), ref, rtol=0, atol=1e-14)), modes.phi_inf().tolist()
    (True, [1.0, 0.0])
    """

    def __init__(self, P, lam, m: float, d: float, scale=None):
        self.P = P
        self.Q = P.T
        self.S0 = None
        self.scale = scale
        self.lam = lam
        self.m, self.d = float(m), float(d)
        self.sigma = np.full(lam.shape, self.d / (2 * self.m))
        self.q = lam / self.m - self.sigma ** 2       # omega_d^2 (negative: overdamped)
        self.k0 = lam <= 0.0

    def phi(self, t, deriv: int = 0):
        t = np.asarray(t, dtype=float)[:, None]
        m, sig, q = self.m, self.sigma[None, :], self.q[None, :]
        lam = self.lam[None, :]
        h = self._h(t)
        if deriv == 0:
            return h
        # h is the impulse response of 1/(m s^2 + d s + lam):  m h'' + d h' + lam h = 0 (t > 0)
        hp = self._hp(t)
        if deriv == 1:
            return hp
        del sig, q
        return -(self.d * hp + lam * h) / m

    def _h(self, t):
        m, sig, q = self.m, self.sigma[None, :], self.q[None, :]
        out = np.empty(np.broadcast_shapes(t.shape, q.shape))
        k0 = np.broadcast_to(self.k0[None, :], out.shape)
        # lam = 0: (1 - e^{-d t / m}) / d
        out[k0] = np.broadcast_to(-np.expm1(-(self.d / m) * t) / self.d, out.shape)[k0]
        under = np.broadcast_to(q > 0, out.shape) & ~k0
        over = ~under & ~k0
        tt = np.broadcast_to(t, out.shape)
        qq = np.broadcast_to(q, out.shape)
        ss = np.broadcast_to(sig, out.shape)
        w = np.sqrt(np.abs(qq))
        if under.any():
            wt = w[under] * tt[under]
            out[under] = np.exp(-ss[under] * tt[under]) * tt[under] * np.sinc(wt / np.pi) / m
        if over.any():
            bt = w[over] * tt[over]
            st = ss[over] * tt[over]
            small = bt < 1e-4
            val = np.empty(bt.shape)
            val[small] = np.exp(-st[small]) * tt[over][small] * (1 + bt[small] ** 2 / 6) / m
            bb, sm = bt[~small], st[~small]
            val[~small] = (np.exp(bb - sm) - np.exp(-bb - sm)) / (2 * w[over][~small] * m)
            out[over] = val
        return out

    def _hp(self, t):
        # h' = e^{-sig t} (cos(w t) - sig t sinc(w t)) / m ; lam = 0: e^{-d t/m}/m
        m, sig, q = self.m, self.sigma[None, :], self.q[None, :]
        shape = np.broadcast_shapes(t.shape, q.shape)
        tt = np.broadcast_to(t, shape)
        ss = np.broadcast_to(sig, shape)
        qq = np.broadcast_to(q, shape)
        w = np.sqrt(np.abs(qq))
        wt = w * tt
        under = qq > 0
        c = np.where(under, np.cos(np.where(under, wt, 0.0)),
                     np.cosh(np.where(under, 0.0, np.minimum(wt, 700))))
        sincv = np.where(under, np.sinc(np.where(under, wt, 0.0) / np.pi),
                         _sinhc(np.where(under, 0.0, np.minimum(wt, 700))))
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.exp(-ss * tt) * (c - ss * tt * sincv) / m
            big = ~under & (wt > 30)
            if big.any():   # overdamped and large: combine exponents
                e1 = np.exp((w - ss) * tt)
                e2 = np.exp(-(w + ss) * tt)
                alt = ((w - ss) * e1 + (w + ss) * e2) / (2 * w * m)
                out = np.where(big, alt, out)
        k0 = np.broadcast_to(self.k0[None, :], shape)
        out = np.where(k0, np.exp(-(self.d / m) * tt) / m, out)
        return out

    def phi_inf(self):
        return np.where(self.k0, 1.0 / self.d if self.d > 0 else np.inf, 0.0)

    def _env(self, a, b, j):
        """Bound of |h^{(j)}| on [a, b] (arrays (T,1)) for every mode."""
        m, sig, q = self.m, self.sigma[None, :], self.q[None, :]
        w = np.sqrt(np.abs(q))
        under = q > 0
        # poles
        p_abs_u = np.sqrt(sig ** 2 + np.maximum(q, 0))
        p1 = -sig + w          # overdamped slow pole (<= 0)
        p2 = -sig - w          # fast pole
        with np.errstate(all="ignore"):
            kappa = np.where(under, np.arctan2(w, sig) / np.where(w > 0, w, 1.0),
                             1.0 / np.maximum(sig, 1e-300))
            bu = p_abs_u ** j * np.exp(-sig * a) * np.minimum(
                np.where(w > 0, 1.0 / (m * w), np.inf), (j * kappa + b) / m)
            bo_mvt = (j * np.abs(p2) ** max(j - 1, 0) * (j > 0) + b * np.abs(p2) ** j) * np.exp(p1 * a) / m
            bo_res = (np.abs(p1) ** j * np.exp(p1 * a) + np.abs(p2) ** j * np.exp(p2 * a)) / (
                m * np.where(w > 0, 2 * w, np.nan))
            bo = np.fmin(bo_mvt, bo_res)
            out = np.where(under, bu, bo)
        # common mode lam = 0: h = (1 - e^{-c t})/d, c = d/m
        c = self.d / m
        if j == 0:
            com = np.broadcast_to(-np.expm1(-c * b) / self.d, out.shape)
        else:
            com = np.broadcast_to(c ** (j - 1) * np.exp(-c * a) / m, out.shape)
        return np.where(self.k0[None, :], com, out)

    def bound(self, a, b, deriv):
        a = np.asarray(a, dtype=float)[:, None]
        b = np.asarray(b, dtype=float)[:, None]
        return self._env(a, b, deriv)

    def tail(self, H):
        # sup_{tau >= H} |h_k(tau) - h_k(inf)|: the j = 0 envelope is e^{-sig a}(kappa-free) times
        # min(1/(m w), b/m); the b-term grows, so use its maximum of tau e^{-sig tau} on [H, inf)
        m, sig, q = self.m, self.sigma, self.q
        w = np.sqrt(np.abs(q))
        under = q > 0
        with np.errstate(all="ignore"):
            tstar = np.maximum(H, 1.0 / np.maximum(sig, 1e-300))
            te = tstar * np.exp(-sig * tstar) / m
            bu = np.minimum(np.where(w > 0, np.exp(-sig * H) / (m * w), np.inf), te)
            p1 = -sig + w
            bo_res = np.where(w > 0, np.exp(p1 * H) / (m * 2 * w), np.inf)
            t1 = np.maximum(H, 1.0 / np.maximum(-p1, 1e-300))
            bo_mvt = t1 * np.exp(p1 * t1) / m
            bo = np.fmin(bo_res, bo_mvt)
        out = np.where(under, bu, bo)
        out = np.where(np.isnan(out), np.inf, out)
        return np.where(self.k0, np.exp(-(self.d / m) * H) / self.d, out)

    @property
    def decay(self):
        rates = np.where(self.q > 0, self.sigma, self.sigma - np.sqrt(np.abs(self.q)))
        rates = np.where(self.k0, self.d / self.m, rates)
        return float(np.min(rates))


def _sinhc(x):
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    nz = np.abs(x) > 1e-8
    out[nz] = np.sinh(x[nz]) / x[nz]
    return out


class PoleResidueModes(ModalModel):
    """``phi_k(t) = Re sum_p c_kp e^{p_kp t}`` (partial fractions, distinct poles).

    Parameters
    ----------
    P, Q, S0 : ndarray
        ``S(t) = S0 + Re(P diag(phi(t)) Q)``; ``S0`` may be None.
    poles, residues : ndarray (K, q)
        Of each mode (real parts ``<= 0``; zero poles are taken out into ``const``).
    const : ndarray (K,)
        Value at infinity of each mode's zero-pole terms.
    scale : ndarray (n,), optional
        ``s`` with ``P = diag(s) V``, ``V`` orthogonal.

    Examples
    --------
    Proportional machines with turbines; the steady state is ``1 / sum_i (d_i + droop_i)``:

    >>> import numpy as np, netcoh as nc
    >>> r = np.array([1.0, 2.0, 2.0, 3.0])
    >>> sys = nc.NetworkSystem.from_laplacian(
    ...     nc.laplacian.ring_lattice(4, 1), nodal=nc.nodal.swing_turbine(r, 0.5 * r, 20.0 * r, 0.5))
    >>> model = proportional_modes(sys, proportional_factors(sys))
    >>> type(model).__name__, bool(np.allclose(model.rows_at_inf(), 1.0 / np.sum(20.5 * r)))
    ('PoleResidueModes', True)
    >>> t, u = np.linspace(0.0, 5.0, 6), np.array([0.0, -0.3, 0.0, 0.0])
    >>> bool(np.allclose(model.response(u, t), nc.step_response(sys, u, t).outputs, atol=1e-12))
    True
    """

    def __init__(self, P, Q, S0, poles, residues, const, scale=None):
        self.P, self.Q, self.S0 = P, Q, S0
        self.scale = scale
        self.poles = poles              # (K, r) complex, Re <= 0; zero poles removed into const
        self.res = residues             # (K, r)
        self.const = const              # (K,) value at infinity of the zero-pole terms

    def phi(self, t, deriv: int = 0):
        t = np.asarray(t, dtype=float)
        e = np.exp(self.poles[None, :, :] * t[:, None, None])
        val = np.real(np.sum(self.res[None] * self.poles[None] ** deriv * e, axis=2))
        if deriv == 0:
            val = val + self.const[None, :]
        return val

    def phi_inf(self):
        return self.const.copy()

    def bound(self, a, b, deriv):
        a = np.asarray(a, dtype=float)[:, None, None]
        env = np.abs(self.res * self.poles ** deriv)[None] * np.exp(np.real(self.poles)[None] * a)
        out = np.sum(env, axis=2)
        if deriv == 0:
            out = out + np.abs(self.const)[None]
        return out

    def tail(self, H):
        return np.sum(np.abs(self.res) * np.exp(np.real(self.poles) * H), axis=1)

    @property
    def decay(self):
        re = -np.real(self.poles)
        re = re[np.abs(self.res) > 0]
        return float(re.min()) if re.size else np.inf


def proportional_modes(system, factors) -> ModalModel:
    """Modal model of a proportional network (EPSR24 Lemma 1).

    Parameters
    ----------
    system : NetworkSystem
        Proportional machines.
    factors : tuple
        ``(r, num_o, den_o, gain)`` from :func:`proportional_factors`.

    Returns
    -------
    ModalModel
        :class:`SwingModes` for swing machines, else :class:`PoleResidueModes`.

    Examples
    --------
    The steady state of swing machines is the centre of inertia's, ``1 / sum d_i``:

    >>> import numpy as np, netcoh as nc
    >>> m = np.array([1.0, 2.0, 2.0, 3.0])
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(4, 1),
    ...                                       nodal=nc.nodal.swing(m, 0.5 * m))
    >>> model = proportional_modes(sys, proportional_factors(sys))
    >>> type(model).__name__, bool(np.allclose(model.rows_at_inf(), 1.0 / np.sum(0.5 * m)))
    ('SwingModes', True)
    """
    r, num_o, den_o, gain = factors
    lam, V, s = _scaled_eigh(system, r, gain)
    P = s[:, None] * V
    numt = np.trim_zeros(num_o, "f")
    dent = np.trim_zeros(den_o, "f")
    if numt.size == 1 and dent.size == 2 and dent[1] > 0:
        # g_o = c / (a s + b)  ->  1 / ((a/c) s + b/c)
        return SwingModes(P, lam, dent[0] / numt[0], dent[1] / numt[0], scale=s)
    # phi_k: impulse response of num/(s den + lam num)
    sden = np.append(dent, 0.0)
    p = sden.size
    numpad = np.pad(numt, (p - numt.size, 0))
    D = sden[None, :] + lam[:, None] * numpad[None, :]          # (K, p)
    D = D / D[:, :1]
    q = p - 1
    # poles of each mode: eigenvalues of the companion matrices
    comp = np.zeros((lam.size, q, q))
    comp[:, 0, :] = -D[:, 1:]
    if q > 1:
        comp[:, np.arange(1, q), np.arange(q - 1)] = 1.0
    poles = np.linalg.eigvals(comp)
    sep = np.where(np.eye(q, dtype=bool)[None], np.inf, np.abs(poles[:, :, None] - poles[:, None, :]))
    scale = np.maximum(np.abs(poles).max(axis=1), 1e-12)
    bad = sep.min(axis=(1, 2)) < 1e-6 * scale
    if bad.any():
        # a (near) double pole: move lambda_k by a relative 1e-9; h changes by O(1e-9),
        # the poles separate by O(3e-5) and the residues stay accurate
        lam2 = lam.copy()
        lam2[bad] = lam[bad] * (1 + 1e-9) + 1e-12
        D[bad] = (sden[None, :] + lam2[bad, None] * numpad[None, :])
        D[bad] = D[bad] / D[bad, :1]
        comp[bad, 0, :] = -D[bad, 1:]
        poles[bad] = np.linalg.eigvals(comp[bad])
    lead = (sden[0] + lam * numpad[0])
    dD = (np.arange(q, 0, -1)[None, :] * D[:, :-1])             # derivative of monic D
    numv = np.polyval(numt, poles) if numt.size else np.zeros_like(poles)
    dDv = np.zeros_like(poles)
    for j in range(q):
        dDv = dDv * poles + dD[:, j:j + 1]
    res = numv / (dDv * lead[:, None])
    zero = np.abs(poles) < 1e-12 * np.maximum(scale[:, None], 1.0)
    const = np.real(np.sum(np.where(zero, res, 0.0), axis=1))
    res = np.where(zero, 0.0, res)
    poles = np.where(zero, -1.0, poles)
    # the one stability test (growing modes only: the consensus pole was taken out above)
    check_stable(system, strict=False, eigenvalues=poles.ravel())
    return PoleResidueModes(P, P.T, None, poles, res, const, scale=s)
