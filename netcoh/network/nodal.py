"""Vectorised nodal dynamics ``g_i(s)``: one rational transfer function per node.

A :class:`NodalDynamics` stores the numerator and denominator coefficients of every
node as two ``(n, p)`` arrays (highest power first, zero-padded on the left), so
that ``g_i(s)`` and ``1/g_i(s)`` evaluate for all nodes and all frequencies in one
numpy call, returning shape ``(k, n)`` for ``k`` points.

The same class describes the network coupling ``f(s)`` (a single "node"): see
:func:`integrator` and :func:`static_gain`.

Examples
--------
>>> import numpy as np
>>> from netcoh import nodal
>>> g = nodal.swing(m=[1.0, 2.0], d=[0.5, 1.0])
>>> g(np.array([1j])).shape
(1, 2)
>>> np.allclose(g.inverse(np.array([1j])), [[0.5 + 1j, 1.0 + 2j]])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import _show, as_float_array, as_nonnegative, as_positive, as_real, broadcast_params
from ..exceptions import InputError, NetcohTypeError
from .rational import NodalDynamics

__all__ = [
    "NodalDynamics",
    "swing",
    "swing_turbine",
    "inverter",
    "from_tf",
    "integrator",
    "static_gain",
    "concat",
]


def swing(m, d, *, n: int | None = None) -> NodalDynamics:
    """Swing-equation nodes ``g_i(s) = 1/(m_i s + d_i)``.

    Parameters
    ----------
    m : float or array_like
        Inertia constants (positive), e.g. ``M = 2H`` in seconds on the system base.
    d : float or array_like
        Damping (non-negative).
    n : int, optional
        Number of nodes when both ``m`` and ``d`` are scalars.

    Returns
    -------
    NodalDynamics
        ``g_i(s) = 1/(m_i s + d_i)`` for every node.

    Examples
    --------
    >>> g = swing([1.0, 2.0], 0.5)
    >>> g.params["d"].tolist()
    [0.5, 0.5]
    """
    n, p = broadcast_params(n, m=m, d=d)
    as_positive(p["m"], "m")
    as_nonnegative(p["d"], "d")
    num = np.column_stack([np.zeros(n), np.ones(n)])
    den = np.column_stack([p["m"], p["d"]])
    return NodalDynamics(num, den, "swing", p)


def swing_turbine(m, d, droop, tau, *, n: int | None = None) -> NodalDynamics:
    """Swing nodes with a first-order turbine-governor.

    ``g_i(s) = 1/(m_i s + d_i + droop_i/(tau_i s + 1))``, where ``droop_i`` is the
    droop coefficient ``r_i^{-1}`` and ``tau_i`` the turbine time constant (s).

    Parameters
    ----------
    m : float or array_like, shape (n,)
        Inertia constants (positive), e.g. ``M = 2H`` in seconds on the system base.
    d : float or array_like, shape (n,)
        Damping (non-negative), power per unit frequency deviation.
    droop : float or array_like, shape (n,)
        Governor droop gain ``r_i^{-1}`` (non-negative), power per unit frequency deviation
        in steady state; the DC gain of the node is ``1/(d_i + droop_i)``.
    tau : float or array_like, shape (n,)
        Turbine time constant in seconds (positive).
    n : int, optional
        Number of nodes when all parameters are scalars.

    Returns
    -------
    NodalDynamics
        ``kind="swing_turbine"``, second order, ``params`` with keys ``m, d, droop, tau``.

    Examples
    --------
    >>> import numpy as np
    >>> g = swing_turbine(m=1.0, d=0.1, droop=2.0, tau=5.0)
    >>> bool(np.isclose(g(np.array([0.0]))[0, 0], 1 / 2.1))
    True
    """
    n, p = broadcast_params(n, m=m, d=d, droop=droop, tau=tau)
    as_positive(p["m"], "m")
    as_nonnegative(p["d"], "d")
    as_nonnegative(p["droop"], "droop")
    as_positive(p["tau"], "tau")
    m_, d_, r_, t_ = p["m"], p["d"], p["droop"], p["tau"]
    num = np.column_stack([np.zeros(n), t_, np.ones(n)])
    den = np.column_stack([m_ * t_, m_ + d_ * t_, d_ + r_])
    return NodalDynamics(num, den, "swing_turbine", p)


def inverter(k_p, tau_p, *, n: int | None = None) -> NodalDynamics:
    """Droop-controlled inverters ``g_i(s) = k_p,i / (tau_p,i s + 1)``.

    Parameters
    ----------
    k_p : float or array_like, shape (n,)
        Droop gain (positive): steady-state frequency deviation per unit power injection.
    tau_p : float or array_like, shape (n,)
        Power-measurement filter time constant in seconds (non-negative; 0 gives a static
        gain).
    n : int, optional
        Number of nodes when both parameters are scalars.

    Returns
    -------
    NodalDynamics
        ``kind="inverter"``, ``params`` with keys ``k_p, tau_p``.

    Examples
    --------
    >>> inverter([1.0, 2.0], 0.1).n
    2
    """
    n, p = broadcast_params(n, k_p=k_p, tau_p=tau_p)
    as_positive(p["k_p"], "k_p")
    as_nonnegative(p["tau_p"], "tau_p")
    num = np.column_stack([np.zeros(n), p["k_p"]])
    den = np.column_stack([p["tau_p"], np.ones(n)])
    return NodalDynamics(num, den, "inverter", p)


def from_tf(tfs=None, *, num: Sequence | None = None, den: Sequence | None = None) -> NodalDynamics:
    """Arbitrary proper rational nodes from python-control models or coefficient lists.

    Parameters
    ----------
    tfs : sequence of control.TransferFunction or control.StateSpace (SISO), optional
        One model per node.
    num, den : sequence of array_like, optional
        Per-node coefficient lists (highest power first), instead of ``tfs``.

    Examples
    --------
    >>> import control
    >>> g = from_tf([control.tf([1], [1, 1]), control.tf([2, 1], [1, 3, 2])])
    >>> g.orders.tolist()
    [1, 2]
    """
    if tfs is not None:
        if num is not None or den is not None:
            raise InputError("`tfs` must not be given together with `num`/`den`, got both")
        try:
            import control
        except ImportError as exc:  # pragma: no cover - control is a dependency
            raise NetcohTypeError("`tfs` needs python-control") from exc
        if isinstance(tfs, (control.TransferFunction, control.StateSpace)):
            tfs = [tfs]
        if not isinstance(tfs, Sequence) or isinstance(tfs, (str, bytes)):
            raise NetcohTypeError(f"`tfs` must be a sequence of control.TransferFunction or "
                                  f"StateSpace models, got {_show(tfs)}")
        nums, dens = [], []
        for i, g in enumerate(tfs):
            if isinstance(g, control.StateSpace):
                g = control.ss2tf(g)
            if not isinstance(g, control.TransferFunction):
                raise NetcohTypeError(
                    f"`tfs[{i}]` must be a control.TransferFunction or StateSpace, got {type(g).__name__}")
            if g.ninputs != 1 or g.noutputs != 1:
                raise InputError(f"`tfs[{i}]` must be SISO, got {g.noutputs}x{g.ninputs}")
            if not g.isctime(strict=False):
                raise InputError(f"`tfs[{i}]` must be a continuous-time model, got dt={g.dt}")
            nums.append(as_float_array(np.asarray(g.num[0][0]).ravel(), f"tfs[{i}]"))
            dens.append(as_float_array(np.asarray(g.den[0][0]).ravel(), f"tfs[{i}]"))
        what = "tfs"
    else:
        if num is None or den is None:
            raise InputError("`tfs`, or both `num` and `den`, must be given, got "
                             f"{'neither' if num is None and den is None else 'only one of num/den'}")
        for nm, val in (("num", num), ("den", den)):
            if not isinstance(val, Sequence) and not isinstance(val, np.ndarray) or isinstance(
                    val, (str, bytes)):
                raise NetcohTypeError(f"`{nm}` must be a sequence of coefficient arrays (one per "
                                      f"node), got {_show(val)}")
        nums = [np.atleast_1d(as_float_array(c, f"num[{i}]", ndim=None)) for i, c in enumerate(num)]
        dens = [np.atleast_1d(as_float_array(c, f"den[{i}]")) for i, c in enumerate(den)]
        for nm, cs in (("num", nums), ("den", dens)):
            for i, c in enumerate(cs):
                if c.ndim != 1:
                    raise InputError(f"`{nm}[{i}]` must be 1-D coefficients, got shape {c.shape}")
        if len(nums) != len(dens):
            raise InputError(f"`num` and `den` must have equal lengths, got {len(nums)} and {len(dens)}")
        what = "num"
    if not nums:
        raise InputError("`tfs` must hold at least one node, got none")
    for i, (a, b) in enumerate(zip(nums, dens)):
        b_nz = np.flatnonzero(b)
        if b.size == 0 or b_nz.size == 0:
            raise InputError(f"`{'den' if what == 'num' else what}[{i}]` must have a non-zero "
                             f"polynomial as denominator, got {_show(b)}")
        a_nz = np.flatnonzero(a)
        deg_a = a.size - 1 - a_nz[0] if a_nz.size else 0
        deg_b = b.size - 1 - b_nz[0]
        if deg_a > deg_b:
            raise InputError(f"`{what}[{i}]` must be proper (deg num <= deg den), got deg num = "
                             f"{deg_a} > deg den = {deg_b}")
    p = max(max(c.size for c in nums), max(c.size for c in dens))
    N = np.array([np.pad(c, (p - c.size, 0)) for c in nums])
    D = np.array([np.pad(c, (p - c.size, 0)) for c in dens])
    return NodalDynamics(N, D, "rational", {})


def integrator(gain: float = 1.0) -> NodalDynamics:
    """Coupling ``f(s) = gain / s`` (power networks: line flows integrate frequency).

    Parameters
    ----------
    gain : float, default 1.0
        Positive gain multiplying the Laplacian. A base-frequency factor ``omega_0``
        (rad/s) may go here or be folded into the Laplacian, as :mod:`netcoh.grids` does.

    Returns
    -------
    NodalDynamics
        Single "node" with ``kind="integrator"`` and ``params["gain"]``.

    Examples
    --------
    >>> complex(integrator()(1j)[0, 0])
    -1j
    """
    g = as_real(gain, "gain", low=0.0, low_open=True)
    return NodalDynamics([[0.0, g]], [[1.0, 0.0]], "integrator", {"gain": np.array([g])})


def static_gain(gain: float = 1.0) -> NodalDynamics:
    """Static coupling ``f(s) = gain`` (consensus networks).

    Parameters
    ----------
    gain : float, default 1.0
        Positive static gain multiplying the Laplacian.

    Returns
    -------
    NodalDynamics
        Single "node" with ``kind="static"`` and ``params["gain"]``.

    Examples
    --------
    >>> complex(static_gain(2.0)(1j)[0, 0])
    (2+0j)
    """
    g = as_real(gain, "gain", low=0.0, low_open=True)
    return NodalDynamics([[g]], [[1.0]], "static", {"gain": np.array([g])})


def concat(parts: Sequence[NodalDynamics]) -> NodalDynamics:
    """Stack several :class:`NodalDynamics` into one (node order kept).

    Parameters
    ----------
    parts : sequence of NodalDynamics
        Non-empty; nodes of ``parts[0]`` come first. Coefficient arrays are zero-padded
        to the largest order.

    Returns
    -------
    NodalDynamics
        ``kind`` of the parts if they all share it (with the ``params`` keys they all
        have), otherwise ``"rational"`` without ``params``.

    Examples
    --------
    >>> concat([swing(1.0, 1.0), swing_turbine(1.0, 1.0, 1.0, 1.0)]).n
    2
    """
    if isinstance(parts, NodalDynamics) or not isinstance(parts, Sequence):
        raise NetcohTypeError(f"`parts` must be a sequence of NodalDynamics, got {_show(parts)}")
    parts = list(parts)
    if not parts:
        raise InputError("`parts` must hold at least one NodalDynamics, got none")
    bad = [p for p in parts if not isinstance(p, NodalDynamics)]
    if bad:
        raise NetcohTypeError(f"`parts` must hold only NodalDynamics, got {type(bad[0]).__name__}")
    p = max(x.num.shape[1] for x in parts)
    num = np.vstack([np.pad(x.num, ((0, 0), (p - x.num.shape[1], 0))) for x in parts])
    den = np.vstack([np.pad(x.den, ((0, 0), (p - x.den.shape[1], 0))) for x in parts])
    kinds = {x.kind for x in parts}
    kind = kinds.pop() if len(kinds) == 1 else "rational"
    keys = set.intersection(*(set(x.params) for x in parts)) if kind != "rational" else set()
    params = {k: np.concatenate([x.params[k] for x in parts]) for k in keys}
    return NodalDynamics(num, den, kind, params)


def as_nodal(obj, n: int | None = None, name: str = "nodal") -> NodalDynamics:
    """Coerce ``obj`` (NodalDynamics, python-control model(s)) to :class:`NodalDynamics`."""
    if isinstance(obj, NodalDynamics):
        out = obj
    else:
        try:
            import control
        except ImportError:  # pragma: no cover
            control = None
        if control is not None and isinstance(obj, (control.TransferFunction, control.StateSpace)):
            out = from_tf([obj] * (n or 1))
        elif isinstance(obj, Sequence) and obj and control is not None and all(
                isinstance(x, (control.TransferFunction, control.StateSpace)) for x in obj):
            out = from_tf(list(obj))
        else:
            raise NetcohTypeError(
                f"`{name}` must be NodalDynamics or python-control model(s), got {type(obj).__name__}")
    if n is not None and out.n != n:
        raise InputError(f"`{name}` must describe {n} nodes (one per Laplacian row), got {out.n}")
    return out
