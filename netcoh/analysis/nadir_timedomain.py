"""Worst-case nadir over a finite window by sparse time propagation (no eigenproblem).

The modal search of :mod:`.nadir_search` needs one eigendecomposition of the grounded
realisation, ``O(N^3)`` for ``N`` states: minutes at a few thousand non-proportional
machines, out of memory at ten thousand. Over a finite window the rows of the
step-response matrix

``S(t) = D + C A^{-1}(e^{At} - I) B``

follow from the adjoint system with sparse products only: row ``i`` is
``r_i(t) = D^T e_i + int_0^t B^T z(tau) dtau`` with ``z' = A^T z``, ``z(0) = C^T e_i``.
Blocks of buses are carried together (a dense ``N x b`` block times the sparse ``A^T``)
through truncated Taylor steps whose degree and number follow Al-Mohy and Higham (the
plan of :func:`~netcoh.analysis.time.simulate_lti`), on the realisation that keeps
every node's coupling state (as sparse as the network; its consensus mode is not seen at
the outputs) balanced by a diagonal similarity.

The propagation lives in :mod:`.nadir_adjoint`. The same Taylor terms bound the
derivatives of ``r_i`` on every step: with ``v_k = (delta A^T)^k z / k!``,

``sup_[a, a+delta] ||r_i'||_D <= sum_k ||B^T v_k||_D``,
``sup_[a, a+delta] ||r_i''||_D <= sum_k k ||B^T v_k||_D / delta``,

with the neglected terms bounded through ``||A||_1`` (a geometric tail). These bound
``F_i(t) = sup_u |r_i(t) . u|`` between samples exactly as the modal derivative bounds
do, so the search (grid table, Brent refinement of the best buses, bisection of every
interval that could still beat the best) is certified in continuous time as the modal one.
Brent's method evaluates a row between grid points from the Taylor polynomials of its
sub-steps, without further sparse products.

A finite window does not show whether the response keeps growing, so the search first
tests stability as the eigenvalue paths do
(:func:`~netcoh.analysis.sparse_stability.check_stable_sparse`): the passivity certificate
(no eigenvalues) for passive nodes, else the rightmost eigenvalues, dense up to a few
thousand states and by a sparse Cayley-transform iteration above.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import minimize_scalar

from .._util import readonly, threaded_in_order
from .._validation import as_bool, as_int
from ..exceptions import AccuracyWarning, InputError
from .nadir_adjoint import AdjointRows, interval_bound
from .nadir_energy import EnergyRows, energy_form, energy_search, set_sup2
from .nadir_modes import proportional_factors
from .nadir_result import NadirResult, SearchTables, bus_summary
from .nadir_search import time_grid
from .nadir_sets import BudgetBox, FixedStep, NormBall, SingleInfeedLoss, coordinate_sups
from .sparse_stability import check_stable_sparse
from .time import _balance, simulate_lti

__all__ = ["timedomain_search", "timedomain_nadir", "prefer_timedomain", "default_block",
           "AUTO_MIN_STATES", "AUTO_MIN_STATES_ENERGY"]


def _halves(rows, Z, R, half: float, chunk: int):
    """Bisect intervals of length ``2 half`` from their states ``(Z, R)``: the midpoint
    states and values and the bounds of ``F`` on both halves, ``chunk`` columns at a time
    (sparse products with a few dozen columns run fastest)."""
    out = []
    for a in range(0, Z.shape[1], chunk):
        Zm, Rm, FsL, K1L, K2L, dL = rows.advance(Z[:, a:a + chunk], R[:, a:a + chunk], half,
                                                 bounds=True)
        _, _, FsR, K1R, K2R, dR = rows.advance(Zm, Rm, half, bounds=True)
        out.append((Zm, Rm, FsL[-1], interval_bound(FsL, K1L, K2L, dL),
                    interval_bound(FsR, K1R, K2R, dR)))
    if len(out) == 1:
        return out[0]
    return tuple(np.concatenate(parts, axis=-1) for parts in zip(*out))


#: bytes of one propagated block of adjoint states (``N x b`` float64) aimed at
_BLOCK_BYTES = 4e6


def default_block(N: int, T: int) -> int:
    """Buses propagated together by :func:`timedomain_search` for ``N`` states, ``T`` times.

    64 columns (sparse products with a few dozen columns run fastest), fewer when the
    grid states of a block would pass about 640 MB, and fewer when one block of states
    would pass about 4 MB: the products then stream a block that no longer stays in
    cache, and a smaller block is the faster per bus (measured on swing-turbine networks
    with 30,000 states: ``benchmarks/nadir_large.py --estimate``), at least 8.

    Examples
    --------
    >>> default_block(3000, 11), default_block(30000, 11)
    (64, 16)
    """
    N = max(int(N), 1)
    return int(np.clip(min(8e7 // (N * (T + 4)), _BLOCK_BYTES // (8 * N)), 8, 64))


def timedomain_search(rows: AdjointRows, n: int, t: np.ndarray, rtol: float, n_refine: int,
                      block: int | None = None, max_rounds: int = 60,
                      max_open: int | None = None, workers: int | None = None,
                      level: float | None = None, refine: bool = True):
    """Supremum of ``F`` over buses and ``[t[0], t[-1]]``, certified, by propagation.

    Parameters
    ----------
    rows : AdjointRows
        The propagator of the rows of ``S(t)`` and the disturbance set's functional.
    n : int
        Number of buses.
    t : ndarray (T,)
        Grid, ``t[0] = 0``, uniform.
    rtol : float
        Relative tolerance of the refinement and the certificate.
    n_refine : int
        Best buses of each block whose grid maximum is refined by Brent's method.
    block : int, optional
        Buses propagated together (default :func:`default_block`): sparse products with a
        few dozen columns run fastest.
    max_rounds, max_open : int
        Limits of the interval bisection (rounds, and intervals open at once: default
        what keeps their states within about 1.6 GB); beyond them the result is reported
        uncertified with the bound reached.
    workers : int, optional
        Threads propagating blocks concurrently (the sparse products release the GIL);
        default the number of CPUs, at most 8. The refinement and the certificate run
        block after block in a fixed order, so the result does not depend on it.
    level : float, optional
        A threshold (the units of ``F``): also decide which buses' supremum over the window
        exceeds it, as the modal search's flags do. A bus is above when a value computed for
        it is (a grid value or a bisection midpoint), below when the bounds of every
        interval are at most ``level (1 + rtol)``; a bus still open after ``max_rounds``
        halvings is counted above.
    refine : bool, default True
        Refine and certify the supremum. ``False`` (a window searched for the flags alone):
        the value is the grid maximum and the upper bound the largest interval bound, with
        no Brent refinement and no bisection.

    Returns
    -------
    tuple
        ``(F, grid_value, value, bus, time, upper)``: the whole grid table (n, T), its
        maximum, the refined supremum with its bus and time, and the certified upper bound;
        with ``level`` one more entry, the buses above it (n,) of bool.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    >>> F, grid, value, bus, time, upper = timedomain_search(
    ...     rows, 3, np.linspace(0.0, 1.0, 11), 1e-6, 2)
    >>> bool(grid <= value <= upper <= value * (1 + 1e-6)), bus
    (True, 2)
    """
    n_refine = as_int(n_refine, "n_refine", minimum=1)
    refine = as_bool(refine, "refine")
    T = t.size
    if T < 2:
        raise InputError(f"`t` must hold at least two times, got {T}")
    h = float(t[1] - t[0])
    N = max(rows.N, 1)
    if block is None:
        block = default_block(N, T)
    if max_open is None:
        max_open = int(max(1000, 2e8 // N))
    # likely worst buses first (largest initial slope ||r_i'(0)||: the lightest machines),
    # so that the best value is known early and later blocks close their intervals fast
    slope = np.empty(n)
    for a in range(0, n, 512):
        cols = np.arange(a, min(n, a + 512))
        slope[cols] = rows.termvalue(sp.csr_matrix(rows.Bt @ rows.Z0[:, cols]).toarray())
    order = np.argsort(-slope, kind="stable")
    F = np.empty((n, T))
    above = np.zeros(n, dtype=bool)
    best = [-np.inf, 0, 0.0]            # value, bus, time
    open_ub = []

    def brent(i, z, r, a, b):
        """Best ``(time, F)`` of bus ``i`` on ``[a, b]`` from its state ``(z, r)`` at ``a``:
        Brent's method on the row's piecewise Taylor polynomials (no sparse products)."""
        fa = float(rows.F(r[:, None])[0])
        if b <= a:
            return a, fa
        pcs = rows.pieces(z, r, b - a)

        def evaluate(x):
            return float(rows.F(rows.at(pcs, x - a)[:, None])[0])

        res = minimize_scalar(lambda x: -evaluate(x), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-10 * max(1.0, b)})
        tt, v = float(res.x), float(-res.fun)
        for x, vx in ((a, fa), (b, evaluate(b))):
            if vx > v:
                tt, v = x, vx
        return tt, v

    def offer(v, i, tt):
        if v > best[0]:
            best[:] = [v, int(i), float(tt)]

    def grid_pass(bus):
        """Grid values, interval bounds and grid states of one block (independent of the
        best value, so blocks run concurrently and the answer does not depend on it)."""
        Z, R = rows.start(bus)
        Zs, Rs = [Z], [R]
        Fb = np.empty((bus.size, T))
        Fb[:, 0] = rows.F(R)
        ub = np.empty((bus.size, T - 1))
        for k in range(T - 1):
            Z, R, Fs, K1, K2, d = rows.advance(Z, R, h, bounds=True)
            Fb[:, k + 1] = Fs[-1]
            ub[:, k] = interval_bound(Fs, K1, K2, d)
            Zs.append(Z)
            Rs.append(R)
        return bus, Fb, ub, Zs, Rs

    blocks = [order[a0:a0 + block] for a0 in range(0, n, block)]
    # the refinement runs block after block in a fixed order, so the answer is the same
    # for any number of workers
    for bus, Fb, ub, Zs, Rs in threaded_in_order(grid_pass, blocks, workers):
        F[bus] = Fb
        jmax = np.argmax(Fb, axis=1)
        gmax = Fb[np.arange(bus.size), jmax]
        top = np.argsort(-gmax, kind="stable")[:n_refine]
        if gmax[top[0]] > best[0]:
            offer(gmax[top[0]], bus[top[0]], t[jmax[top[0]]])
        if level is not None:
            above[bus] = _above_level(rows, Fb, ub, Zs, Rs, t, level, rtol, block,
                                      max_rounds)
        if not refine:
            open_ub.append(float(ub.max()))
            continue
        for p in top:
            if ub[p].max() <= best[0] * (1 + rtol):
                continue
            j = jmax[p]
            lo, hi = max(j - 1, 0), min(j + 1, T - 1)
            tt, v = brent(bus[p], Zs[lo][:, p], Rs[lo][:, p], t[lo], t[hi])
            offer(v, bus[p], tt)
        # certification: bisect every interval that could still beat the best
        pi, pk = np.nonzero(ub > best[0] + rtol * abs(best[0]))
        if pi.size == 0:
            continue
        Zo = np.stack([Zs[k][:, p] for p, k in zip(pi, pk)], axis=1)
        Ro = np.stack([Rs[k][:, p] for p, k in zip(pi, pk)], axis=1)
        del Zs, Rs
        ob, oa = bus[pi], t[pk]
        ouo = ub[pi, pk]
        width = h
        rounds = 0
        while ob.size and rounds < max_rounds and ob.size <= max_open:
            rounds += 1
            half = 0.5 * width
            Zm, Rm, Fm, uL, uR = _halves(rows, Zo, Ro, half, block)
            k = int(np.argmax(Fm))
            if Fm[k] > best[0]:
                tt, v = brent(ob[k], Zo[:, k], Ro[:, k], oa[k], oa[k] + width)
                if Fm[k] > v:
                    tt, v = oa[k] + half, float(Fm[k])
                offer(v, ob[k], tt)
            lim = best[0] + rtol * abs(best[0])
            kL, kR = uL > lim, uR > lim
            ob = np.concatenate([ob[kL], ob[kR]])
            ouo = np.concatenate([uL[kL], uR[kR]])
            Zo = np.concatenate([Zo[:, kL], Zm[:, kR]], axis=1)
            Ro = np.concatenate([Ro[:, kL], Rm[:, kR]], axis=1)
            oa = np.concatenate([oa[kL], oa[kR] + half])
            width = half
        if ob.size:
            open_ub.append(float(ouo.max()))
    grid_value = float(F.max())
    value, bus_i, time = best
    if grid_value > value:              # cannot happen (the grid is searched), kept honest
        i, j = np.unravel_index(int(np.argmax(F)), F.shape)
        value, bus_i, time = grid_value, int(i), float(t[j])
    upper = max([value] + open_ub)
    out = (F, grid_value, float(value), int(bus_i), float(time), float(upper))
    return out if level is None else (*out, above)


def _above_level(rows, Fb, ub, Zs, Rs, t, level: float, rtol: float, chunk: int,
                 max_rounds: int) -> np.ndarray:
    """Which buses of one block exceed ``level`` somewhere in the window (see the ``level``
    of :func:`timedomain_search`): grid values first, then the intervals whose bound passes
    ``level (1 + rtol)`` are halved from their grid states until each bus is decided."""
    above = Fb.max(axis=1) > level
    lim = level * (1 + rtol)
    qi, qk = np.nonzero((ub > lim) & ~above[:, None])
    if qi.size == 0:
        return above
    Zq = np.stack([Zs[k][:, p] for p, k in zip(qi, qk)], axis=1)
    Rq = np.stack([Rs[k][:, p] for p, k in zip(qi, qk)], axis=1)
    width = float(t[1] - t[0])
    rounds = 0
    while qi.size and rounds < max_rounds:
        rounds += 1
        half = 0.5 * width
        Zm, Rm, Fm, uL, uR = _halves(rows, Zq, Rq, half, chunk)
        above[qi[Fm > level]] = True
        kL = (uL > lim) & ~above[qi]
        kR = (uR > lim) & ~above[qi]
        qi = np.concatenate([qi[kL], qi[kR]])
        Zq = np.concatenate([Zq[:, kL], Zm[:, kR]], axis=1)
        Rq = np.concatenate([Rq[:, kL], Rm[:, kR]], axis=1)
        width = half
    above[qi] = True                    # undecided: its supremum could not be shown below
    return above


#: longest expansion (terms per bus) of :mod:`.nadir_energy` the search takes; a window
#: needing more (about ``gamma * horizon`` terms, ``gamma`` the highest swing frequency)
#: stores too many terms per bus and takes the Taylor steps
MAX_EXPANSION_DEGREE = 600

#: ``method="auto"`` takes the time-domain search from this many states (with a horizon)
AUTO_MIN_STATES = 1500
#: the same for swing and swing-turbine networks, expanded in the energy norm
#: (:mod:`.nadir_energy`): 2.1 times faster than the eigenproblem at 200 machines and a
#: 1 s window (``benchmarks/nadir_large.py --n 200 --baseline --method timedomain``)
AUTO_MIN_STATES_ENERGY = 600

_METHODS = ("auto", "modal", "chebyshev", "statespace", "timedomain")


def prefer_timedomain(system, method: str, horizon, dset=None) -> bool:
    """Whether :func:`~netcoh.analysis.nadir.worst_case_nadir` takes the time-domain search.

    ``method="timedomain"`` forces it (a finite ``horizon`` is required). ``"auto"`` takes
    it for networks that are not proportional (no closed form) with a finite ``horizon``,
    at least :data:`AUTO_MIN_STATES` states and ``n >= 2 ||A||_1 horizon`` (``A`` the
    balanced sparse realisation): propagating ``n`` rows costs about ``n^2 ||A|| H``
    sparse operations against ``(3n)^3`` for the eigenproblem, and measured on
    swing-turbine networks the propagation is the faster from ``n ~ 2 ||A||_1 H``
    (about 150 machines for a 1 s window). Swing and swing-turbine networks, whose rows
    come from one expansion per bus (:mod:`.nadir_energy`), take it from
    :data:`AUTO_MIN_STATES_ENERGY` states when ``N^3 >= 2 n K nnz`` (``K`` terms of the
    expansion, ``nnz`` of its sparse matrix): sparse networks, not a dense Kron-reduced one.
    A given step (one input direction) stays on
    the modal search, whose single column of ``S(t)`` costs no more than its bounds.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    method : {"auto", "modal", "chebyshev", "statespace", "timedomain"}
        The ``method`` argument of ``worst_case_nadir``.
    horizon : float or None
        The window (s).
    dset : optional
        The disturbance set: ``"auto"`` takes norm balls and loss sets only (a given
        step is one column of the modal model; general polytopes solve a linear program
        per table entry, which the modal search's pruning keeps few).

    Returns
    -------
    bool

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
    >>> prefer_timedomain(sys, "auto", 1.0), prefer_timedomain(sys, "timedomain", 1.0)
    (False, True)
    """
    if not isinstance(method, str) or method not in _METHODS:
        raise InputError(f"`method` must be one of {', '.join(map(repr, _METHODS))}, "
                         f"got {method!r}")
    if not hasattr(system, "nodal"):            # a general state-space model
        if method == "timedomain":
            raise InputError("`method='timedomain'` needs a NetworkSystem, got a state-space "
                             "model (use method='auto' or 'statespace')")
        return False
    if method == "timedomain":
        if horizon is None:
            raise InputError("`method='timedomain'` searches a finite window: give `horizon` "
                             "(s), got horizon=None")
        return True
    if method != "auto" or horizon is None:
        return False
    if dset is not None and not isinstance(dset, (NormBall, BudgetBox, SingleInfeedLoss)):
        return False                # given steps: one column; linear programs: per entry
    spec = dset.inputs() if callable(getattr(dset, "inputs", None)) else None
    if spec is not None and spec[0] == "matrix":
        return False
    N = system.realization().A.shape[0]
    if N < min(AUTO_MIN_STATES, AUTO_MIN_STATES_ENERGY) or proportional_factors(system) is not None:
        return False                # small, or a closed form (proportional machines)
    if energy_form(system) is not None:
        # the expansion costs about n * terms * nnz sparse operations, the eigenproblem
        # N^3: measured break-even near a ratio of 1.4 (a dense Kron-reduced network with
        # 394 machines stays on the eigenproblem, 1.3-1.6x faster there)
        rows = EnergyRows(system, horizon=float(horizon), value=np.abs, sup2=1.0)
        return float(N) ** 3 >= 2.0 * system.n * (rows.degree + 1) * rows.op.nnz
    if N < AUTO_MIN_STATES:
        return False
    A = sp.csr_matrix(system._build_realization(grounded=False).A, dtype=float)
    sc = _balance(A)
    norm1 = float(spla.norm(sp.diags(1.0 / sc) @ A @ sp.diags(sc), 1))
    return system.n >= 2.0 * norm1 * float(horizon)


def _unit_sup(value, r: int) -> float:
    """``sup_u ||u||_inf`` over a set from its functional: ``max_j value(e_j)``."""
    return float(coordinate_sups(value, r).max(initial=0.0))



def input_map(dset, n_inputs: int):
    """How a disturbance set reaches the inputs: ``(M, set, r, cheap)``.

    A set over a few columns or a combination of the inputs (``dset.inputs()``) is searched
    as ``set`` over ``r`` variables mapped by ``M`` (``n_inputs x r``; None: the inputs
    themselves). ``cheap``: the set's value is closed form (not a linear program), so every
    Taylor term's derivative bound may use it.

    Examples
    --------
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> M, s, r, cheap = input_map(NormBall(1.0, 2), 4)
    >>> M is None, r, cheap
    (True, 4, True)
    """
    spec = dset.inputs() if callable(getattr(dset, "inputs", None)) else None
    M, sset = None, dset
    if spec is not None:
        kind, Mi, sset = spec
        if kind == "cols":
            M = np.zeros((n_inputs, len(Mi)))
            M[np.asarray(Mi, dtype=int), np.arange(len(Mi))] = 1.0
        else:
            M = np.asarray(Mi, dtype=float)
    r = n_inputs if M is None else M.shape[1]
    cheap = isinstance(sset, (NormBall, BudgetBox, SingleInfeedLoss, FixedStep))
    return M, sset, r, cheap

def timedomain_nadir(system, dset, *, dt: float, horizon: float, rtol: float, n_refine: int,
                     f_hz, scale_hz: float, threshold_hz):
    """Worst-case nadir over ``[0, horizon]`` by :func:`timedomain_search`, as a NadirResult.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    dset : set
        A disturbance set of :mod:`netcoh.analysis.nadir_sets` (not unit trips, which
        :func:`~netcoh.analysis.nadir.worst_case_nadir` splits into given steps).
    dt, horizon : float
        Grid step and window (s).
    rtol : float
        Relative tolerance of the certificate.
    n_refine : int
        Best buses of each block refined by Brent's method.
    f_hz : float or None
        Nominal frequency.
    scale_hz : float
        Hz per unit of the output.
    threshold_hz : float or None
        Flagging threshold (Hz).

    Returns
    -------
    NadirResult
        As :func:`~netcoh.analysis.nadir.worst_case_nadir`, ``method="timedomain"``.

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> res = timedomain_nadir(sys, NormBall(0.5, 2), dt=0.1, horizon=1.0, rtol=1e-6,
    ...                        n_refine=2, f_hz=None, scale_hz=float("nan"), threshold_hz=None)
    >>> res.method, res.bus, res.certified
    ('timedomain', '2', True)
    """

    check_stable_sparse(system)
    n = system.n
    M, sset, r, cheap = input_map(dset, n)
    ball2 = sset.rho if isinstance(sset, NormBall) and sset.p == 2 else None
    t = time_grid(dt, horizon, False)
    H = float(t[-1])
    # machines with an energy function: one expansion per bus over the whole window
    rows = None
    if energy_form(system) is not None:
        rows = EnergyRows(system, M, horizon=H, value=sset.value, sup2=set_sup2(sset, r),
                          ball2=ball2)
        if rows.degree > MAX_EXPANSION_DEGREE:      # a long window: Taylor steps instead
            rows = None
    energy = rows is not None
    if energy:
        search = energy_search
    else:
        rows = AdjointRows(system, M, value=sset.value, unit_sup=_unit_sup(sset.value, r),
                           ball2=ball2, cheap=cheap)
        search = timedomain_search
    # sets solved by linear programs stay on one thread (the solver is not shared safely)
    level = threshold_hz / scale_hz if threshold_hz is not None and np.isfinite(scale_hz) \
        else None
    F, grid_value, best_v, best_i, best_t, upper, *flags = search(
        rows, n, t, rtol, n_refine, workers=None if cheap else 1, level=level)
    certified = bool(upper <= best_v * (1 + rtol) * (1 + 1e-12))
    if not certified:
        warnings.warn(f"the worst-case nadir could not be certified: value {best_v:.6g}, upper "
                      f"bound {upper:.6g}", AccuracyWarning, stacklevel=3)
    if best_t >= H - 0.5 * dt:
        warnings.warn(
            f"the worst nadir is at the end of the window (t = {best_t:g} s = horizon): the true "
            "nadir may be later; increase `horizon` or use horizon=None", AccuracyWarning,
            stacklevel=3)
    if energy:
        s = rows.rows(rows.expand([best_i]), [best_t])[0, 0]
    else:
        z, rr = rows.start([best_i])
        _, rr = rows.advance(z, rr, best_t)
        s = rr[:, 0]
    zu = np.asarray(sset.maximiser(s), dtype=float)
    u = zu if M is None else M @ zu
    A, B, C, D = system._build_realization(grounded=False)
    traj = simulate_lti(A, B, C, D, u, t)
    per_bus, per_bus_time = bus_summary(F, t, None, best_i, best_v)
    tables = SearchTables(None, None, t, None, best_i, best_v, np.ones(F.shape, dtype=bool),
                          (per_bus, per_bus_time), full_table=F)
    flagged = () if level is None else tuple(system.labels[i]
                                             for i in np.flatnonzero(flags[0]))
    return NadirResult(
        value=float(best_v), value_hz=float(best_v * scale_hz), bus=system.labels[best_i],
        bus_index=int(best_i), time=float(best_t), disturbance=readonly(u), times=readonly(t),
        trajectory=readonly(traj), upper_bound=float(upper), certified=certified, horizon=H,
        grid_value=grid_value, labels=system.labels, disturbance_set=dset.description,
        method="timedomain", f_hz=float("nan") if f_hz is None else float(f_hz),
        hz_per_unit=scale_hz, threshold_hz=threshold_hz, flagged=flagged, _tables=tables)
