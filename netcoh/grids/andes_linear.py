"""The exact linearisation of an ANDES case at its operating point, as a ``control.StateSpace``.

:meth:`Grid.to_system <netcoh.grids.Grid.to_system>` (``model="case"``) keeps each machine's
internal EMF constant: exciters and stabilisers act on field voltages, couple machines through
bus voltages, and so cannot be written as a scalar nodal model times a Laplacian. This module
takes the whole model instead, from ANDES's own differential-algebraic equations
``T x' = f(x, y)``, ``0 = g(x, y)``: machines with their damper windings and flux dynamics,
exciters, stabilisers, governors, the AC network and constant-power loads. It runs ANDES's
power flow and time-domain initialisation (ANDES is used at run time only, nothing of it is
copied), reads the Jacobians ``f_x, f_y, g_x, g_y`` and the time constants ``T`` at the
operating point and eliminates the algebraic variables:

``A = T^-1 (f_x - f_y g_y^-1 g_x)``,  ``B = T^-1 f_y g_y^-1 E``,  ``C`` = machine speeds,

where ``E`` places a power injection (p.u. on the system base; a load increase is a negative
input) in each bus's active-power balance. ``g_y`` is factorised once by a sparse LU.

Three kinds of equations need care before that Schur complement:

* states with a zero time constant (``T_i = 0``, e.g. an exciter's transducer lag with
  ``TR = 0``) satisfy ``0 = f_i(x, y)``: they join the algebraic variables, not divided by 0;
* a zero-``T`` state that appears in no algebraic equation and only in the derivative of one
  other state (a second-order filter with both time constants zero, as in ANDES's ``IEEEST``
  stabiliser of ieee39_full: ``y' = x``, ``0 = u - y``) leaves ``g_y`` singular; its
  equation constrains that other state, which is made algebraic in its place (the filter is
  then the identity it is meant to be). ANDES's eigenvalue routine regularises such variables
  instead, and reports eigenvalues near ``+1`` on that case which its own time-domain
  simulation does not show;
* the rotor angles have no reference: a uniform shift of every angle is an equilibrium, a zero
  eigenvalue that the speeds do not see. It is removed exactly (one state fewer; the model
  is asymptotically stable when the case is).

A unit trip (``trips=``) is linearised where it starts: the case initialised intact, the
machine (and ANDES's devices that depend on it) taken out of service, and the equations
evaluated again at that pre-trip state; their residuals there (the lost active and reactive
power) form one more input, ``"trip"``. A line in ``trips`` is the same event for a branch:
when its loss cuts buses off, they leave with everything on them and the ``"trip"`` input
carries the flow the main island loses. A branch outage after which the grid settles
(``outages=``) is linearised at the post-outage operating point instead (power flow re-run).

Examples
--------
>>> import netcoh as nc
>>> from netcoh.grids.andes_linear import linearize
>>> lin = linearize("ieee39/ieee39_full.xlsx")                # doctest: +SKIP
>>> nc.step_response(lin, {"20": -0.5856}, [0.0, 3.0]).outputs.min()  # doctest: +SKIP
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from .._validation import as_bool
from ..exceptions import InputError, NetcohTypeError, SolverError
from ..validate import andes_variant
from . import andes as _an

__all__ = ["linearize", "OUTPUTS"]

#: Units of the outputs of :func:`~netcoh.grids.andes_linear.linearize`: speed deviation in Hz,
#: p.u. of nominal, or rad/s.
OUTPUTS = ("hz", "pu", "rad/s")
_TOL = 1e-9          # |entry| below which a Jacobian column counts as empty
_BLOCK = 512         # right-hand sides per sparse triangular solve


def _csc(M) -> sp.csc_matrix:
    """A kvxopt sparse matrix (ANDES's Jacobians) as scipy CSC."""
    rows, cols = M.size
    return sp.csc_matrix((np.array(M.V, dtype=float).ravel(),
                          (np.array(M.I, dtype=int).ravel(), np.array(M.J, dtype=int).ravel())),
                         shape=(rows, cols))


def _offline(ss) -> np.ndarray:
    """Indices into the stacked ``(x, y)`` of the variables of devices that are out of service.

    ANDES keeps an offline device's variables in the equations, multiplied by its effective
    status ``ue = 0``: they are decoupled from the rest and are left out of the model. Static
    generators replaced by machines in the dynamics are also marked offline, but their
    variable addresses are the machines' own: an address any in-service device uses stays.
    """
    n = ss.dae.n
    off, alive = [], []
    for mdl in ss.models.values():
        if not mdl.n or not hasattr(mdl, "ue"):
            continue
        down = np.asarray(mdl.ue.v, dtype=float) == 0
        for k, shift in ((mdl.states, 0), (mdl.algebs, n)):
            for var in k.values():
                a = np.asarray(var.a, dtype=int) + shift
                off.extend(a[down])
                alive.extend(a[~down])
    return np.setdiff1d(np.asarray(off, dtype=int), np.asarray(alive, dtype=int))


def _partition(J: sp.csc_matrix, Tf: np.ndarray, names: list, drop=()):
    """Differential and algebraic unknowns of ``J = [[f_x, f_y], [g_x, g_y]]``.

    Returns ``(diff, alg, eqs)``: indices into the stacked ``(x, y)`` of the unknowns kept as
    states (their own equations), of the algebraic unknowns, and of the algebraic equations
    (same length as ``alg``); the variables ``drop`` (and their equations) are left out.
    """
    n = Tf.size
    m = J.shape[0] - n
    keep = np.ones(n + m, dtype=bool)
    keep[np.asarray(drop, dtype=int)] = False
    diff = np.flatnonzero((Tf != 0) & keep[:n])
    alg = np.concatenate([np.flatnonzero((Tf == 0) & keep[:n]), n + np.flatnonzero(keep[n:])])
    eqs = alg.copy()
    Jr = J.tocsr()
    while True:
        Jaa = Jr[eqs][:, alg]
        empty = np.flatnonzero(abs(Jaa).max(axis=0).toarray().ravel() < _TOL)
        if empty.size == 0:
            return diff, alg, eqs
        j = alg[empty[0]]
        col = np.abs(Jr[diff][:, [j]].toarray().ravel())
        feeds = diff[col >= _TOL]
        if feeds.size != 1:
            raise SolverError(
                f"the ANDES model's algebraic Jacobian is singular: {names[j]!r} appears in no "
                f"algebraic equation and in the derivatives of "
                f"{[names[i] for i in feeds] or 'no state'}; netcoh cannot eliminate it")
        i = feeds[0]
        alg = np.where(alg == j, i, alg)     # x_i becomes algebraic, j's unknown drops out
        diff = diff[diff != i]


def _schur(J: sp.csc_matrix, diff, alg, eqs, P: np.ndarray, Q: sp.csc_matrix):
    """Eliminate the algebraic unknowns of ``T x' = F_x x + F_y y + P w``, ``0 = G_x x + G_y y
    + Q w``: returns ``(F_x - F_y G_y^-1 G_x, P - F_y G_y^-1 Q)`` (dense)."""
    Jr = J.tocsr()
    Fx = Jr[diff][:, diff]
    Fy = Jr[diff][:, alg]
    Gx = Jr[eqs][:, diff].tocsc()
    Gy = Jr[eqs][:, alg].tocsc()
    try:
        lu = spla.splu(Gy)
    except RuntimeError as exc:
        raise SolverError(f"the ANDES model's algebraic Jacobian g_y is singular ({exc}); "
                          "the operating point has no unique linearisation") from exc

    def fy_solve(R):
        out = np.empty((Fy.shape[0], R.shape[1]))
        for a in range(0, R.shape[1], _BLOCK):
            out[:, a:a + _BLOCK] = Fy @ lu.solve(R[:, a:a + _BLOCK].toarray())
        return out

    return Fx.toarray() - fy_solve(Gx), P - fy_solve(Q.tocsc())


def _drop_zero_mode(A, B, C, names):
    """Remove the angle-reference eigenvalue 0 (a mode the outputs do not see), if present.

    With ``A v = 0`` and ``C v = 0``, ``x = V z + v x_k`` (``V`` the identity without column
    ``k``, ``v_k = 1``) gives ``z' = P (I - v e_k^T)(A V z + B u)``, ``y = C V z``, ``P``
    deleting row ``k``: the other eigenvalues are unchanged and the zero one is gone.
    """
    N = A.shape[0]
    if N < 2:
        return A, B, C, names
    # one step of inverse iteration from a fixed random vector: when A is singular (to
    # rounding) the solution is dominated by its kernel direction
    a = np.random.default_rng(0).standard_normal(N)
    scale = max(float(np.abs(A).max()), 1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", la.LinAlgWarning)
        try:
            x = la.solve(A, a)
        except la.LinAlgError:
            x = la.null_space(A)[:, 0]
    if not np.all(np.isfinite(x)):
        return A, B, C, names
    k = int(np.argmax(np.abs(x)))
    v = x / x[k]
    if np.abs(A @ v).max() > 1e-9 * scale:
        return A, B, C, names                       # no zero eigenvalue
    if np.abs(C @ v).max() > 1e-8 * max(float(np.abs(C).max()), 1e-300):
        return A, B, C, names                       # the outputs see it: keep it
    keep = np.delete(np.arange(N), k)
    Pr = np.eye(N)[keep] - np.outer(v[keep], np.eye(N)[k])      # P (I - v e_k^T)
    return Pr @ A[:, keep], Pr @ B, C[:, keep], [names[i] for i in keep]


def _machines(ss):
    """In-service synchronous machines: ``[(model, idx, omega address, M sys-base)]``."""
    out = []
    for name in _an.MACHINE_MODELS:
        mdl = getattr(ss, name)
        if not mdl.n:
            continue
        on = np.asarray(mdl.u.v, dtype=float) * np.asarray(mdl.ue.v, dtype=float) > 0
        for k in np.flatnonzero(on):
            # ANDES holds M on the system base already (its swing equation is
            # M omega' = tm - te - D (omega - 1) with tm and te on the system base)
            out.append((name, str(mdl.idx.v[k]), int(mdl.omega.a[k]), float(mdl.M.v[k])))
    return out


def _elements(ss) -> dict:
    """``{id: (model, idx)}`` of the machines and lines of ``ss`` that events can name."""
    out = {}
    for name in (*_an.MACHINE_MODELS, "Line"):
        mdl = getattr(ss, name)
        for idx in (mdl.idx.v if mdl.n else ()):
            out[str(idx)] = (name, idx)
    return out


def _line_islands(ss) -> tuple:
    """Bus indices of the in-service lines' islands: ``(labels per bus, main label)``; the main
    island holds the most machine inertia (the most buses on a tie)."""
    nb = ss.Bus.n
    on = np.asarray(ss.Line.u.v, dtype=float) > 0
    b1 = np.asarray(ss.Bus.idx2uid(ss.Line.bus1.v), dtype=int)[on]
    b2 = np.asarray(ss.Bus.idx2uid(ss.Line.bus2.v), dtype=int)[on]
    adj = sp.coo_matrix((np.ones(b1.size), (b1, b2)), shape=(nb, nb))
    _, lab = connected_components(adj, directed=False)
    weight = np.zeros(lab.max() + 1)
    for name in _an.MACHINE_MODELS:
        mdl = getattr(ss, name)
        if mdl.n:
            on = np.asarray(mdl.u.v, dtype=float) > 0
            m = np.asarray(mdl.M.v, dtype=float)
            np.add.at(weight, lab[np.asarray(ss.Bus.idx2uid(mdl.bus.v), dtype=int)[on]], m[on])
    size = np.bincount(lab, minlength=weight.size)
    main = max(range(weight.size), key=lambda k: (weight[k], size[k]))
    return lab, main


def _cut_off(ss) -> np.ndarray:
    """Take every device on the buses cut off from the main island out of service (ANDES takes
    a machine's exciter, governor and stabiliser with it); returns those buses' indices."""
    lab, main = _line_islands(ss)
    cut = np.flatnonzero(lab != main)
    if cut.size == 0:
        return cut
    ids = set(np.asarray(ss.Bus.idx.v, dtype=object)[cut].tolist())
    for name, mdl in ss.models.items():
        if name == "Bus" or not mdl.n or "bus" not in mdl.params or not hasattr(mdl, "ue"):
            continue
        for idx, bus, u in zip(mdl.idx.v, mdl.bus.v, mdl.u.v):
            if bus in ids and u:
                ss.set_status(name, idx, 0)
    return cut


def _trip(ss, trips) -> np.ndarray:
    """Take the machines and lines ``trips`` out of service in the initialised system (ANDES
    takes a machine's exciter, governor and stabiliser with it), and every device on buses
    that the lost lines cut off from the main island; evaluate the equations and Jacobians
    again at the same, pre-trip, state. Returns the cut-off buses' indices."""
    known = _elements(ss)
    for eid in trips:
        if str(eid) not in known:
            raise InputError(f"`trips` must name machines or lines of the case, got {eid!r} "
                             f"(machines: {sorted(k for k, v in known.items() if v[0] != 'Line')})")
        ss.set_status(*known[str(eid)], 0)
    cut = _cut_off(ss)
    if not _machines(ss):
        raise InputError(f"`trips` {list(trips)} leave no machine in service")
    ss.TDS.fg_update(ss.exist.pflow_tds)
    ss.j_update(models=ss.exist.pflow_tds)
    return cut


def _outage(ss, outages) -> None:
    """Take the lines ``outages`` out of service before the power flow (the operating point
    after the outage); an outage that splits the network is refused."""
    known = _elements(ss)
    for lid in outages:
        if known.get(str(lid), ("",))[0] != "Line":
            raise InputError(f"`outages` must name lines of the case, got {lid!r}")
        ss.set_status("Line", known[str(lid)][1], 0)
    lab, _ = _line_islands(ss)
    if lab.max() > 0:
        raise InputError(f"`outages` {list(outages)} split the network into {lab.max() + 1} "
                         "islands; a split is an event at the pre-outage state: pass the "
                         "lines as `trips`")


def linearize(case, *, output: str = "hz", trips=(), outages=(), mechanical: bool = False):
    """The linearised ANDES case (machines, exciters, stabilisers, governors, network).

    Parameters
    ----------
    case : str or path-like
        ANDES case file or shipped case name (e.g. ``"ieee39/ieee39_full.xlsx"``), loaded as
        :func:`netcoh.validate.andes_variant` does for the comparisons: timed events dropped,
        loads at constant power in the dynamics.
    output : {"hz", "pu", "rad/s"}
        Unit of the outputs, the machines' speed deviations.
    trips : sequence of str
        Machine ids (``GENROU``/``GENCLS``) or line ids disconnected: the case is initialised
        intact, the elements (a machine with its exciter, governor and stabiliser) are taken
        out of service, and the equations are linearised at that pre-trip state, where the
        trip starts. Lines whose loss cuts buses off from the main island (the island with
        the most machine inertia) take those buses and everything on them out too: the model
        is the main island. The model then has one more input, ``"trip"``: the residuals of
        the pre-trip state in the post-trip equations (the lost active and reactive power,
        the flows of lost lines), so a unit step of it is the trip.
    outages : sequence of str
        Line ids out of service before the power flow: the model is linearised at the
        operating point after the outage (the network must stay in one piece).
    mechanical : bool
        Add one input per machine, ``"pm:<id>"``: its mechanical power (p.u. on the case
        base, in its swing equation ``M omega' = t_m - t_e - D (omega - 1)``), so that a
        loss of a unit's output while it stays connected is a step of ``-P`` there (the
        ``"case"`` model's reading of the reference incident).

    Returns
    -------
    control.StateSpace
        ``x' = A x + B u``, ``y = C x`` (``D = 0``): inputs are active-power injections at
        every bus (p.u. on the case base, a load increase is negative; labelled with the
        ANDES bus ids), outputs every in-service ``GENCLS``/``GENROU`` machine's speed
        deviation (labelled with its id), states named after ANDES's variables. Extra
        attributes: ``f_hz`` (nominal frequency), ``base_mva`` (the power base of the
        inputs), ``output_unit`` (``output``) and
        ``coi_weights`` (each machine's ``M = 2H`` on the case base, for a centre of
        inertia). :func:`netcoh.step_response` and :func:`netcoh.worst_case_nadir` accept it.

    Raises
    ------
    InputError
        ``output`` is not one of ``OUTPUTS``; ``trips`` or ``outages`` name unknown elements,
        ``outages`` split the network, or ``trips`` leave no machine.
    NetcohTypeError
        ``trips`` or ``outages`` is not a sequence of ids (a single id string is refused), or
        ``mechanical`` is not a bool.
    SolverError
        ANDES's power flow does not converge, or its algebraic Jacobian is singular in a way
        netcoh cannot resolve.

    Examples
    --------
    >>> linearize("kundur/kundur_full.xlsx", output="mHz")
    Traceback (most recent call last):
    ...
    netcoh.exceptions.InputError: `output` must be one of ('hz', 'pu', 'rad/s'), got 'mHz'
    >>> lin = linearize("kundur/kundur_full.xlsx")
    >>> lin.nstates, lin.input_labels[:3], lin.output_labels, lin.f_hz
    (51, ['1', '2', '3'], ['1', '2', '3', '4'], 60.0)
    """
    if output not in OUTPUTS:
        raise InputError(f"`output` must be one of {OUTPUTS}, got {output!r}")
    import control

    for name, ids in (("trips", trips), ("outages", outages)):
        if isinstance(ids, str) or not hasattr(ids, "__iter__"):
            raise NetcohTypeError(f"`{name}` must be a sequence of element ids, got {ids!r}")
    trips, outages = tuple(trips), tuple(outages)
    mechanical = as_bool(mechanical, "mechanical")
    ss = andes_variant(case, classical=False)
    if outages:
        _outage(ss, outages)
    ss.PFlow.run()
    if not ss.PFlow.converged:
        raise SolverError(f"{case}: ANDES power flow did not converge")
    ss.TDS.init()
    ss.TDS.itm_step()           # assembles the Jacobians at the initial point
    cut = _trip(ss, trips) if trips else np.zeros(0, dtype=int)
    dae = ss.dae
    fx, fy, gx, gy = (_csc(getattr(dae, k)) for k in ("fx", "fy", "gx", "gy"))
    J = sp.bmat([[fx, fy], [gx, gy]]).tocsc()
    n = dae.n
    Tf = np.asarray(dae.Tf, dtype=float).copy()
    names = list(dae.x_name) + list(dae.y_name)
    # buses cut off from the main island leave the model with their devices
    live = np.setdiff1d(np.arange(ss.Bus.n), cut)
    dead = n + np.concatenate([np.asarray(ss.Bus.a.a, dtype=int)[cut],
                               np.asarray(ss.Bus.v.a, dtype=int)[cut]])
    diff, alg, eqs = _partition(J, Tf, names, np.union1d(_offline(ss), dead))
    bus_rows = n + np.asarray(ss.Bus.a.a, dtype=int)[live]
    pos = {int(e): r for r, e in enumerate(eqs)}
    nb = bus_rows.size
    # an injection u at bus b enters its active-power balance (ANDES: power drawn) as -u
    Q = sp.csc_matrix((-np.ones(nb), ([pos[int(b)] for b in bus_rows], np.arange(nb))),
                      shape=(eqs.size, nb))
    P = np.zeros((diff.size, nb))
    inputs = [str(ss.Bus.idx.v[k]) for k in live]
    if trips:
        # the trip itself: the residuals of the pre-trip state in the post-trip equations
        # (the lost active and reactive power at the machines' buses), one more input
        res = np.concatenate([np.asarray(dae.f, dtype=float), np.asarray(dae.g, dtype=float)])
        P = np.column_stack([P, res[diff]])
        Q = sp.hstack([Q, sp.csc_matrix(res[eqs][:, None])]).tocsc()
        inputs.append("trip")
    mach = _machines(ss)
    col = {int(x): k for k, x in enumerate(diff)}
    if mechanical:
        Pm = np.zeros((diff.size, len(mach)))
        for k, (_, _, addr, _) in enumerate(mach):
            Pm[col[addr], k] = 1.0
        P = np.column_stack([P, Pm])
        Q = sp.hstack([Q, sp.csc_matrix((eqs.size, len(mach)))]).tocsc()
        inputs.extend(f"pm:{m[1]}" for m in mach)
    As, Bs = _schur(J, diff, alg, eqs, P, Q)
    T = Tf[diff]
    A = As / T[:, None]
    B = Bs / T[:, None]
    f_hz = float(ss.config.freq)
    unit = {"hz": f_hz, "pu": 1.0, "rad/s": 2.0 * np.pi * f_hz}[output]
    C = np.zeros((len(mach), diff.size))
    for k, (_, _, addr, _) in enumerate(mach):
        C[k, col[addr]] = unit
    A, B, C, states = _drop_zero_mode(A, B, C, [names[i] for i in diff])
    model = control.ss(A, B, C, np.zeros((C.shape[0], B.shape[1])),
                       inputs=inputs, outputs=[m[1] for m in mach], states=states,
                       name=f"{_an._split_case(case)[0].stem}_linear")
    model.f_hz = f_hz
    model.base_mva = float(ss.config.mva)
    model.output_unit = output
    model.coi_weights = np.array([m[3] for m in mach])
    return model
