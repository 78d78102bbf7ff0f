"""Cauchy products through expansions around a tight cluster of real poles.

Reference: the dense products they replace, with the same rows; the points sit at the
edges of the expansions' ranges (where truncation errors are largest).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from netcoh.analysis import modal_cluster
from netcoh.analysis.modal_cluster import (
    RHO,
    cluster_of,
    far_rows_product,
    real_rows_product,
    row_kinds,
)


def _basis(seed, n_cluster=200, n_real=80, n_pairs=60, n=9):
    """Poles ordered as a reference's ``[upper, conjugates, real ascending]``: a cluster of
    ``n_cluster`` real poles within 2e-3 of -0.2, other real poles and complex pairs."""
    rng = np.random.default_rng(seed)
    cl = -0.2 + 2e-3 * (rng.random(n_cluster) - 0.5)
    other = -np.concatenate([0.5 + 3.0 * rng.random(n_real // 2),
                             0.01 + 0.05 * rng.random(n_real - n_real // 2)])
    up = -1.8 + 0.05 * rng.random(n_pairs) + 1j * (0.1 + 40.0 * rng.random(n_pairs))
    mu = np.concatenate([up, np.conj(up), np.sort(np.concatenate([cl, other]))])
    N = mu.size
    basis = SimpleNamespace(mu=mu.astype(complex), half=n_pairs, PrT=rng.standard_normal((N, n)))
    a = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    a[2 * n_pairs:] = a[2 * n_pairs:].real                  # real on the real poles
    return basis, a, rng


def _real_rows(basis, a, s):
    """``[2 Re x_up, -2 Im x_up, x_real]`` rows of ``x_jk = a_k / (s_j - mu_k)``."""
    h, mu = basis.half, basis.mu
    x = a[None, :] / (s[:, None] - mu[None, :])
    return np.hstack([2.0 * x[:, :h].real, -2.0 * x[:, :h].imag, x[:, 2 * h:].real])


def _scale(X, PrT):
    """The size of the terms of ``X @ PrT``: the rounding of the dense product is relative
    to it."""
    return np.abs(X) @ np.abs(PrT)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_real_rows_match_the_dense_product_at_the_edges_of_the_expansions(seed):
    basis, a, rng = _basis(seed)
    modal_cluster._CLUSTERS.clear()
    cl = cluster_of(basis)
    assert cl is not None
    assert cl.hi - cl.lo >= 150                                 # the cluster was found
    mu_r = basis.mu[2 * basis.half:].real
    # roots: beside every real pole, and at the edges of the far and near ranges
    out_, in_ = cl.r / RHO * (1.0 + 1e-9), 2.0 * cl.r * (1.0 - 1e-9)
    edge = np.array([cl.c - out_, cl.c + out_, cl.c - in_, cl.c + in_])
    s = np.concatenate([mu_r + 1e-7 * rng.standard_normal(mu_r.size), edge])
    h2 = 2 * basis.half
    own = np.concatenate([h2 + np.arange(mu_r.size),            # the pole each root left
                          [h2, h2],                             # far: outside the cluster
                          h2 + np.argmin(np.abs(edge[2:, None] - mu_r[None, :]), axis=1)])
    order = np.argsort(s)
    s, own = s[order], own[order]
    kinds = row_kinds(cl, s, own, basis.half)
    assert {1, 2} <= set(kinds.tolist())
    assert kinds[np.isin(s, edge[:2])].tolist() == [1, 1]        # the edges are served
    assert kinds[np.isin(s, edge[2:])].tolist() == [2, 2]        # by the expansions
    XR = _real_rows(basis, a, s)
    ref = XR @ basis.PrT
    out = real_rows_product(basis, XR, s, a, kinds)
    assert np.all(np.abs(out - ref) <= 1e-13 * _scale(XR, basis.PrT))
    # the far poles seen from the near edge are at the far edge of the local expansion
    far = np.abs(basis.mu - cl.c) >= 2.0 * cl.r / RHO
    assert np.min(np.abs(basis.mu[far] - cl.c)) >= 2.0 * cl.r / RHO


@pytest.mark.parametrize("seed", [0, 3])
def test_complex_rows_far_from_the_cluster_match_the_dense_product(seed):
    basis, a, rng = _basis(seed)
    modal_cluster._CLUSTERS.clear()
    cl = cluster_of(basis)
    h = basis.half
    s = np.concatenate([basis.mu[:h] + 1e-6, [cl.c + cl.r / RHO * (1.0 + 1e-9) * np.exp(1j * 0.3)]])
    Y = a[None, :] / (s[:, None] - basis.mu[None, :])
    up, lo = Y[:, :h], Y[:, h:2 * h]
    # the stacked real and imaginary parts over the pairs, as the modal update builds them
    X = np.vstack([np.hstack([up.real + lo.real, lo.imag - up.imag, Y[:, 2 * h:].real]),
                   np.hstack([up.imag + lo.imag, up.real - lo.real, Y[:, 2 * h:].imag])])
    Pu = basis.PrT[:h] + 1j * basis.PrT[h:2 * h]
    P = np.vstack([Pu, np.conj(Pu), basis.PrT[2 * h:]])          # P^T over [upper, conj, real]
    ref = Y @ P
    out = far_rows_product(basis, X, s, a)
    assert out is not None
    assert np.all(np.abs(out - ref) <= 1e-13 * (np.abs(Y) @ np.abs(P)))
    # a root inside the cluster: not far, the caller takes the dense product
    assert far_rows_product(basis, X, np.append(s[:-1], cl.c + 0.5 * cl.r), a) is None


def test_no_tight_cluster_no_expansion():
    rng = np.random.default_rng(5)
    mu = np.sort(-np.geomspace(0.01, 10.0, 300)).astype(complex)     # spread evenly in scale
    basis = SimpleNamespace(mu=mu, half=0, PrT=rng.standard_normal((300, 4)))
    modal_cluster._CLUSTERS.clear()
    assert cluster_of(basis) is None
    a = rng.standard_normal(300)
    s = mu.real + 1e-6
    XR = a[None, :] / (s[:, None] - mu.real[None, :])
    assert np.array_equal(real_rows_product(basis, XR, s, a, np.zeros(300, np.int8)),
                          XR @ basis.PrT)
    modal_cluster._CLUSTERS.clear()


@pytest.mark.parametrize("seed", [0, 4])
def test_secular_sums_by_the_expansions_match_direct_sums(seed):
    """The sums of the secular equation and its derivative (pairs of upper poles as twice
    the real part, ``|1/(s - mu)|^2`` for the eigenvector norms) from the cluster's moments
    (roots far from it) and from the local expansion of the far poles (roots inside it)."""
    basis, a, rng = _basis(seed)
    modal_cluster._CLUSTERS.clear()
    cl = cluster_of(basis)
    h, mu = basis.half, basis.mu
    c_up = rng.standard_normal((h, 2)) + 1j * rng.standard_normal((h, 2))
    c_re = rng.standard_normal((mu.size - 2 * h, 2))
    lo, hi = cl.lo - 2 * h, cl.hi - 2 * h
    # far roots against the cluster's poles
    s = np.array([cl.c - cl.r / RHO * (1.0 + 1e-9), cl.c + 0.3, -3.0, -0.01])
    d = s[:, None] - mu[None, cl.lo:cl.hi].real
    T = modal_cluster._moments(cl, c_re[lo:hi])
    for order in (1, 2):
        ref = (1.0 / d ** order) @ c_re[lo:hi]
        size = (1.0 / np.abs(d) ** order) @ np.abs(c_re[lo:hi])
        got = modal_cluster._cluster_sums(cl, s, T, order)
        assert np.all(np.abs(got - ref) <= 1e-14 * size)
    # roots inside the cluster against the far poles
    s = cl.c + 2.0 * cl.r * np.array([-1.0 + 1e-9, -0.3, 0.0, 0.7, 1.0 - 1e-9])
    far = np.abs(mu - cl.c) >= 2.0 * cl.r / RHO
    q = 1.0 / (s[:, None] - mu[None, :])
    q[:, ~far] = 0.0
    qu, qr = q[:, :h], q[:, 2 * h:].real
    refs = {"1": 2.0 * (qu @ c_up).real + qr @ c_re,
            "2": 2.0 * ((qu * qu) @ c_up).real + (qr * qr) @ c_re,
            "abs": 2.0 * (np.abs(qu) ** 2 @ c_up.real) + (qr * qr) @ c_re}
    sizes = {"1": 2.0 * np.abs(qu) @ np.abs(c_up) + np.abs(qr) @ np.abs(c_re),
             "2": 2.0 * np.abs(qu) ** 2 @ np.abs(c_up) + qr ** 2 @ np.abs(c_re)}
    sizes["abs"] = sizes["2"]
    for kind, ref in refs.items():
        L = modal_cluster._local_coefficients(cl, h, c_up.real if kind == "abs" else c_up, c_re, kind)
        got = modal_cluster._local_sums(cl, s, L)
        assert np.all(np.abs(got - ref) <= 1e-14 * sizes[kind]), kind
    modal_cluster._CLUSTERS.clear()
