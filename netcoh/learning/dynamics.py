"""The training-dynamics abstraction shared by every paper module.

A :class:`TrainingDynamics` is a loss on a flat parameter vector ``theta`` together with its
gradient, Hessian-vector product, conserved quantities (``invariants``) and derived quantities
(``observables``). Gradient flow is ``theta' = -grad(theta)``; gradient descent is the map
``theta -> theta - eta * grad(theta)``. The simulators, linearisation, sharpness and
periodic-orbit tools in :mod:`netcoh.learning.analysis` and :mod:`netcoh.learning.simulate`
accept any subclass.

Concrete models are frozen dataclasses holding their data as read-only arrays; parameters
are never stored on the model (they are the state).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from netcoh._validation import as_float_array
from netcoh.exceptions import InputError

from .._util import readonly as _readonly

__all__ = ["TrainingDynamics", "TheoremCheck", "readonly"]


def readonly(a) -> np.ndarray:
    """Return a read-only float copy of ``a`` (complex stays complex).

    Parameters
    ----------
    a : array_like
        Any numeric array or scalar; it is copied, never modified.

    Returns
    -------
    ndarray
        ``float`` (or ``complex``) copy with ``writeable=False``.

    Examples
    --------
    >>> r = readonly([1, 2])
    >>> r.tolist(), r.flags.writeable
    ([1.0, 2.0], False)
    """
    return _readonly(a, complex if np.iscomplexobj(a) else float)


def _frozen(value):
    """``value`` with its arrays read-only copies and its mappings read-only views."""
    if isinstance(value, np.ndarray):
        return _readonly(value)
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


class TheoremCheck(NamedTuple):
    """What a theorem function returns: the bound it asserts and whether its hypotheses hold.

    Unpacks as a pair: ``bound, ok = theorem(...)``. A bound is only a claim when
    ``hypotheses_hold`` is true; tests never assert the converse. Frozen: array bounds are
    read-only and mapping bounds read-only views.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import theorem8_stabilisation
    >>> bound, ok = theorem8_stabilisation([0.0, 0.5], 1.5)
    >>> bound, ok
    (3, True)
    >>> TheoremCheck(bound=1.0, hypotheses_hold=False).hypotheses_hold
    False
    >>> TheoremCheck(np.zeros(2), True).bound.flags.writeable
    False
    """

    bound: object
    hypotheses_hold: bool


_tuple_new = TheoremCheck.__new__


def _check_new(cls, bound, hypotheses_hold):
    return _tuple_new(cls, _frozen(bound), hypotheses_hold)


# a NamedTuple's body cannot define __new__: freeze the bound on construction here
TheoremCheck.__new__ = staticmethod(_check_new)


class TrainingDynamics(ABC):
    """Base class: a loss on named parameter blocks packed into one flat vector.

    Subclasses define ``shapes`` (ordered mapping name -> shape), ``_loss(theta)`` and
    ``_grad(theta)`` and may override ``_hvp``, ``invariants``, ``observables``,
    ``switching_surfaces`` (for piecewise-smooth fields such as ReLU networks) and
    ``_grad_on_pattern``.

    Set the class attribute ``complex_step = True`` when ``_grad`` is a polynomial in
    ``theta`` written without conjugation or absolute values: the Hessian-vector product is
    then computed by the complex-step derivative of the gradient, exact to rounding.
    Otherwise a central difference of the gradient is used.

    Examples
    --------
    A quadratic loss ``|w|^2 / 2`` on one block of two parameters:

    >>> class Quadratic(TrainingDynamics):
    ...     complex_step = True
    ...     shapes = {"w": (2,)}
    ...     def _loss(self, theta):
    ...         return 0.5 * (theta @ theta)
    ...     def _grad(self, theta):
    ...         return theta
    >>> q = Quadratic()
    >>> q.size, q.loss([3.0, 4.0]), q.gd_map([3.0, 4.0], 0.5).tolist()
    (2, 12.5, [1.5, 2.0])
    """

    complex_step = False

    # ----------------------------------------------------------------- parameters
    @property
    @abstractmethod
    def shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Ordered mapping of parameter block name to shape."""

    @property
    def size(self) -> int:
        """Number of scalar parameters (length of ``theta``)."""
        return int(sum(math.prod(s) for s in self.shapes.values()))

    def pack(self, params: Mapping[str, object] | None = None, **blocks) -> np.ndarray:
        """Flatten named parameter blocks into ``theta`` (C order, blocks in ``shapes`` order).

        Parameters
        ----------
        params : mapping of str to array_like, optional
            One array per name of :attr:`shapes`, each of that shape.
        **blocks : array_like
            The same blocks as keyword arguments (merged with ``params``); together they
            must name every block exactly once.

        Returns
        -------
        ndarray, shape (size,)
            The blocks raveled and concatenated: the flat parameter vector ``theta``.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization(y=1.0).pack(u=2.0, v=3.0).tolist()
        [2.0, 3.0]
        """
        params = dict(params or {}, **blocks)
        missing = [k for k in self.shapes if k not in params]
        extra = [k for k in params if k not in self.shapes]
        if missing or extra:
            raise InputError(
                f"parameters must be exactly {list(self.shapes)}, missing {missing}, "
                f"unexpected {extra}")
        parts = []
        for name, shape in self.shapes.items():
            block = as_float_array(params[name], name)
            if block.shape != tuple(shape):
                raise InputError(f"`{name}` must have shape {tuple(shape)}, got {block.shape}")
            parts.append(block.ravel())
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, theta) -> dict[str, np.ndarray]:
        """Split ``theta`` into named blocks (views into a copy; safe to modify).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        dict of str to ndarray
            One block per name of :attr:`shapes`, with that shape.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> {k: float(v) for k, v in ScalarFactorization().unpack([2.0, 3.0]).items()}
        {'u': 2.0, 'v': 3.0}
        """
        theta = self._check_theta(theta).copy()
        return self._split(theta)

    def _split(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        out, pos = {}, 0
        for name, shape in self.shapes.items():
            k = math.prod(shape)
            out[name] = theta[pos:pos + k].reshape(shape)
            pos += k
        return out

    def _check_theta(self, theta, name: str = "theta") -> np.ndarray:
        arr = np.asarray(theta)
        if not np.iscomplexobj(arr):
            arr = as_float_array(arr, name)
        if arr.shape != (self.size,):
            raise InputError(f"`{name}` must have shape ({self.size},), got {arr.shape}")
        return arr

    # ------------------------------------------------------------------ objective
    def loss(self, theta) -> float:
        """Loss value at ``theta``.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        float
            The training loss at ``theta``.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization(y=2.0).loss([1.0, 1.0])       # (1 - 2)^2 / 2
        0.5
        """
        return float(self._loss(self._check_theta(theta)))

    def grad(self, theta) -> np.ndarray:
        """Gradient of the loss at ``theta`` (analytic).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        ndarray, shape (size,)
            The gradient of the loss with respect to ``theta``, laid out like ``theta``.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization(y=2.0).grad([1.0, 3.0]).tolist()      # (uv - y) [v, u]
        [3.0, 1.0]
        """
        return np.asarray(self._grad(self._check_theta(theta)), dtype=float)

    def hvp(self, theta, v) -> np.ndarray:
        """Hessian-vector product ``H(theta) v``.

        By complex step when the class sets ``complex_step = True`` (exact to rounding),
        otherwise by a central difference of :meth:`grad`.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Point at which the Hessian is taken.
        v : array_like, shape (size,)
            Direction.

        Returns
        -------
        ndarray, shape (size,)
            The Hessian of the loss at ``theta`` applied to ``v``.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization(y=1.0).hvp([1.0, 1.0], [1.0, 0.0]).round(12).tolist()
        [1.0, 1.0]
        """
        theta = self._check_theta(theta)
        v = self._check_theta(v, "v")
        return self._hvp(theta, v)

    def hessian(self, theta) -> np.ndarray:
        """Dense symmetric Hessian, assembled column by column from :meth:`hvp`.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        ndarray, shape (size, size)
            Symmetrised ``(H + H^T) / 2``.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ExpValley
        >>> ExpValley().hessian([0.0, 0.0]).round(12).tolist()     # sharpness 2 exp(-theta1)
        [[0.0, 0.0], [0.0, 2.0]]
        """
        theta = self._check_theta(theta)
        eye = np.eye(self.size)
        H = np.column_stack([self._hvp(theta, eye[:, k]) for k in range(self.size)])
        return 0.5 * (H + H.T)

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            return np.zeros(self.size)
        u = v / nv
        if self.complex_step:
            h = 1e-30
            return nv * np.imag(self._grad(theta + 1j * h * u)) / h
        h = 1e-6 * max(1.0, float(np.linalg.norm(theta)))
        return nv * (self._grad(theta + h * u) - self._grad(theta - h * u)) / (2 * h)

    @abstractmethod
    def _loss(self, theta):
        """Loss at a checked flat ``theta``."""

    @abstractmethod
    def _grad(self, theta):
        """Gradient at a checked flat ``theta``."""

    # ---------------------------------------------------------------------- flows
    def vector_field(self, t: float, theta) -> np.ndarray:
        """Gradient-flow field ``-grad(theta)`` (signature of ``scipy.integrate.solve_ivp``).

        Parameters
        ----------
        t : float
            Time (unused: the flow is autonomous).
        theta : array_like, shape (size,)
            Flat parameter vector (not validated, for speed inside ODE solvers).

        Returns
        -------
        ndarray, shape (size,)
            The velocity ``theta'`` of gradient flow: minus the gradient at ``theta``.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization(y=2.0).vector_field(0.0, [1.0, 3.0]).tolist()
        [-3.0, -1.0]
        """
        return -self._grad(np.asarray(theta, dtype=float))

    def gd_map(self, theta, eta: float) -> np.ndarray:
        """One gradient-descent step ``theta - eta * grad(theta)``.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Current parameters.
        eta : float
            Step size (learning rate).

        Returns
        -------
        ndarray, shape (size,)
            The parameters after the step (a new array; ``theta`` is not modified).

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization(y=2.0).gd_map([1.0, 3.0], 0.5).tolist()
        [-0.5, 2.5]
        """
        theta = self._check_theta(theta)
        return theta - float(eta) * self._grad(theta)

    # ------------------------------------------------------------------ structure
    def invariants(self, theta) -> dict[str, np.ndarray]:
        """Quantities conserved by gradient flow (imbalance, per-neuron balance, ...).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        dict of str to ndarray
            Empty for the base class; subclasses name their invariants.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> float(ScalarFactorization().invariants([2.0, 1.0])["imbalance"])   # u^2 - v^2
        3.0
        """
        return {}

    def observables(self, theta) -> dict[str, np.ndarray]:
        """Derived quantities worth tracking (end-to-end matrix, alignment, ...).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        dict of str to ndarray
            Empty for the base class; subclasses name their observables.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> float(ScalarFactorization().observables([2.0, 1.0])["gap"])        # |u - v|
        1.0
        """
        return {}

    def switching_surfaces(self, theta) -> np.ndarray | None:
        """Quantities whose signs select the smooth piece of a piecewise-smooth field.

        ``None`` (the default) means the field is smooth. ReLU models return the
        pre-activations; :func:`~netcoh.learning.simulate.simulate_gf` then integrates one
        activation pattern at a time and restarts at each sign change (an event).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameter vector.

        Returns
        -------
        ndarray or None
            The switching quantities at ``theta`` (the pre-activations, for ReLU models);
            ``None`` when the field is smooth.

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization().switching_surfaces([1.0, 1.0]) is None
        True
        """
        return None

    def _grad_on_pattern(self, theta: np.ndarray, pattern: np.ndarray) -> np.ndarray:
        """Gradient of the smooth piece selected by ``pattern`` (boolean, like the surfaces)."""
        return self._grad(theta)

    def closed_form(self, theta0, t) -> np.ndarray | None:
        """Exact gradient-flow solution ``theta(t)`` from ``theta0`` where known, else None.

        Parameters
        ----------
        theta0 : array_like, shape (size,)
            Initial parameters at ``t = 0``.
        t : array_like, shape (k,)
            Times (non-negative) at which to evaluate the solution.

        Returns
        -------
        ndarray, shape (k, size), or None
            ``theta(t)`` row by row; ``None`` when the model has no closed form (the base
            class).

        Examples
        --------
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ScalarFactorization().closed_form([1.0, 1.0], [0.0, 1.0]) is None
        True
        """
        return None
