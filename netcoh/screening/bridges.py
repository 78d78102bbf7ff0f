"""Bridges of the bus network: the branch outages that cut the network in two.

Found once per grid, in O(N) after networkx's bridge search: the side a bridge cuts off
is a subtree of any spanning tree, so the subtree sizes of one breadth-first tree give
every side. An outage that only cuts off machine-free buses de-energises them; one with
machines on both sides splits the grid into islands.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

__all__ = ["bridge_status"]


def bridge_status(N, f, t, nm) -> dict:
    """What the outage of each bridge edge cuts off.

    A bridge is an edge whose removal disconnects the graph; an edge with a parallel
    twin is never one.

    Parameters
    ----------
    N : int
        Number of nodes.
    f, t : ndarray of int
        End nodes of each edge (parallel edges allowed).
    nm : int
        Number of machine nodes: nodes ``0 .. nm-1`` hold machines.

    Returns
    -------
    dict
        Edge index (into ``f``/``t``) -> ``"dead:<k>"`` if removing the edge cuts off ``k``
        machine-free nodes, ``"split"`` if machines end up on both sides; edges that are
        not bridges are absent.

    Examples
    --------
    Two machines (nodes 0, 1) joined through bus 2, which also feeds bus 3:

    >>> import numpy as np
    >>> bridge_status(4, np.array([0, 2, 2]), np.array([2, 1, 3]), nm=2)
    {0: 'split', 1: 'split', 2: 'dead:1'}
    """
    import networkx as nx  # loaded on first use: ``import netcoh`` does not need it

    mult: dict = {}
    for k, (u, v) in enumerate(zip(f.tolist(), t.tolist())):
        mult.setdefault((min(u, v), max(u, v)), []).append(k)
    simple = nx.Graph()
    simple.add_nodes_from(range(N))
    simple.add_edges_from(mult)
    bridges = [e for e in nx.bridges(simple) if len(mult[(min(e), max(e))]) == 1]
    if not bridges:
        return {}
    # a bridge is an edge of every spanning tree: the side it cuts off is the subtree of
    # its child end, so subtree sizes of one BFS tree give every side in O(N)
    ij = np.array(list(mult), dtype=int).reshape(-1, 2)
    adj = sp.coo_matrix((np.ones(len(ij)), (ij[:, 0], ij[:, 1])), shape=(N, N)).tocsr()
    pred = np.full(N, -9999)
    comp_size = np.zeros(N, dtype=int)
    comp_nm = np.zeros(N, dtype=int)
    size = np.ones(N, dtype=int)
    mach = (np.arange(N) < nm).astype(int)
    for root in range(N):
        if pred[root] != -9999:
            continue
        order, p = breadth_first_order(adj, root, directed=False, return_predecessors=True)
        pred[order] = p[order]
        for x in order[::-1][:-1]:          # children before parents; the root last
            size[pred[x]] += size[x]
            mach[pred[x]] += mach[x]
        comp_size[order], comp_nm[order] = size[root], mach[root]
    out = {}
    for u, v in bridges:
        child = v if pred[v] == u else u
        side, nm_side = int(size[child]), int(mach[child])
        other, nm_other = int(comp_size[child]) - side, int(comp_nm[child]) - nm_side
        k = mult[(min(u, v), max(u, v))][0]
        if nm_side == 0:
            out[k] = f"dead:{side}"
        elif nm_other == 0:
            out[k] = f"dead:{other}"
        else:
            out[k] = "split"
    return out
