"""Small data sets for the learning checks: scikit-learn's ``load_digits`` as the MNIST stand-in.

The synthetic generators with exact separation parameters live with their papers:
:func:`netcoh.learning.relu_alignment.exact_mu_data`,
:func:`netcoh.learning.neural_collapse.orthogonally_separable_data`,
:func:`netcoh.learning.prelu.gaussian_mixture`.
"""

from __future__ import annotations

import numpy as np

from netcoh.exceptions import InputError

__all__ = ["load_digits_subset"]


def load_digits_subset(classes=(0, 1), *, center: bool = True, binary_labels: bool = True):
    """Digits of ``classes`` from :func:`sklearn.datasets.load_digits` (8x8, ships with sklearn).

    Pixels are scaled to [0, 1] and, with ``center=True``, centred by the global mean image of
    the subset (the papers' preprocessing). Labels are ``+1``/``-1`` for two classes when
    ``binary_labels`` (first class ``+1``), else indices ``0..K-1`` in the order of ``classes``.
    Needs scikit-learn (extra ``learning``); nothing is downloaded.

    Parameters
    ----------
    classes : sequence of int, default (0, 1)
        At least two distinct digits 0-9.
    center : bool, default True
        Subtract the mean image of the subset.
    binary_labels : bool, default True
        With two classes, labels ``+1`` (first class) / ``-1``; otherwise (or with more
        classes) indices ``0..K-1``.

    Returns
    -------
    X : ndarray, shape (n, 64)
        One flattened 8x8 image per row, pixels in [0, 1] (centred when ``center``).
    y : ndarray, shape (n,)
        Labels: ``+1``/``-1`` or class indices ``0..K-1``, as described above.

    Examples
    --------
    >>> X, y = load_digits_subset((0, 1))
    >>> X.shape[1], sorted(set(y.tolist())), bool(abs(X.mean(axis=0)).max() < 1e-12)
    (64, [-1.0, 1.0], True)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("load_digits_subset needs scikit-learn: pip install netcoh[learning]"
                         ) from exc
    classes = [int(c) for c in classes]
    if len(classes) < 2 or len(set(classes)) != len(classes) or not set(classes) <= set(range(10)):
        raise InputError(f"`classes` must be >= 2 distinct digits 0-9, got {classes}")
    data = load_digits()
    mask = np.isin(data.target, classes)
    X = data.data[mask] / 16.0
    t = data.target[mask]
    if center:
        X = X - X.mean(axis=0)
    if binary_labels and len(classes) == 2:
        y = np.where(t == classes[0], 1.0, -1.0)
    else:
        y = np.array([classes.index(c) for c in t])
    return X, y
