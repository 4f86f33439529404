"""The cluster-cluster collaboration network and brokerage (contract section 5).

One node per cluster; an edge wherever at least one collaboration joins members of two
different clusters (edge attribute ``collaborations`` = how many; betweenness ignores it).
Brokerage = normalised, unweighted betweenness centrality of the cluster's node.

networkx computes betweenness (Brandes' algorithm) in pure Python, which takes about a
minute on a few thousand clusters. For graphs above :data:`NETWORKX_MAX_NODES` nodes
:func:`brokerage` uses :func:`betweenness_matrix_bfs`, the same algorithm run for a batch
of sources at once with sparse matrix products; the tests check it against
``networkx.betweenness_centrality`` (agreement to floating-point rounding, ~1e-15).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["NETWORKX_MAX_NODES", "cluster_graph", "brokerage", "betweenness_matrix_bfs"]

#: Largest graph for which :func:`brokerage` calls networkx directly.
NETWORKX_MAX_NODES: int = 500


def cluster_graph(collaborations: pd.DataFrame, assignments: pd.DataFrame) -> nx.Graph:
    """The cluster-cluster graph (contract section 5, brokerage).

    ``assignments`` has ``institution_id``, ``status``, ``group``; only ``status ==
    "cluster"`` counts. Every cluster is a node (sorted by name), isolated ones included.
    """
    in_cluster = assignments[assignments["status"] == "cluster"]
    member_of = pd.Series(in_cluster["group"].to_numpy(), index=in_cluster["institution_id"].to_numpy())
    ga = member_of.reindex(collaborations["institution_a"].to_numpy()).to_numpy(dtype=object)
    gb = member_of.reindex(collaborations["institution_b"].to_numpy()).to_numpy(dtype=object)
    pairs = pd.DataFrame({"a": ga, "b": gb}).dropna()
    pairs = pairs[pairs["a"] != pairs["b"]]
    lo = np.where(pairs["a"] < pairs["b"], pairs["a"], pairs["b"])
    hi = np.where(pairs["a"] < pairs["b"], pairs["b"], pairs["a"])
    edges = pd.DataFrame({"a": lo, "b": hi}).groupby(["a", "b"], sort=True).size()
    graph = nx.Graph()
    graph.add_nodes_from(sorted(member_of.unique().tolist()))
    graph.add_weighted_edges_from(
        ((a, b, int(n)) for (a, b), n in edges.items()), weight="collaborations"
    )
    return graph


def betweenness_matrix_bfs(graph: nx.Graph, batch_cells: int = 20_000_000) -> dict[object, float]:
    """Normalised unweighted betweenness (as ``networkx.betweenness_centrality`` with
    ``normalized=True``) by Brandes' algorithm, run for batches of sources at once.

    Breadth-first layers are found with sparse-dense products; path counts ``sigma`` and
    dependencies ``delta`` are accumulated layer by layer. ``batch_cells`` bounds the size
    of the (sources x nodes) work arrays.
    """
    nodes = list(graph.nodes())
    n = len(nodes)
    if n == 0:
        return {}
    index = {v: i for i, v in enumerate(nodes)}
    rows = [index[u] for u, v in graph.edges()] + [index[v] for u, v in graph.edges()]
    cols = [index[v] for u, v in graph.edges()] + [index[u] for u, v in graph.edges()]
    adj = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj.data[:] = 1.0  # collapse any duplicate entries
    total = np.zeros(n)
    batch = max(1, batch_cells // n)
    for start in range(0, n, batch):
        sources = np.arange(start, min(start + batch, n))
        s = len(sources)
        dist = np.full((s, n), -1, dtype=np.int32)
        sigma = np.zeros((s, n))
        dist[np.arange(s), sources] = 0
        sigma[np.arange(s), sources] = 1.0
        frontier = sigma.copy()
        depth = 0
        while True:
            reached = np.asarray((adj @ frontier.T).T)
            new = (reached > 0) & (dist < 0)
            if not new.any():
                break
            depth += 1
            dist[new] = depth
            sigma[new] = reached[new]
            frontier = np.where(new, reached, 0.0)
        delta = np.zeros((s, n))
        for d in range(depth - 1, -1, -1):
            at_next = dist == d + 1
            coeff = np.where(at_next, (1.0 + delta) / np.where(at_next, sigma, 1.0), 0.0)
            pulled = np.asarray((adj @ coeff.T).T)
            at_d = dist == d
            delta = np.where(at_d, delta + sigma * pulled, delta)
        delta[np.arange(s), sources] = 0.0
        total += delta.sum(axis=0)
    if n > 2:
        total = total / ((n - 1) * (n - 2))
    else:
        total = total / 2.0 * 0.0  # networkx: no rescaling for n <= 2, values are 0
    return {v: float(total[i]) for i, v in enumerate(nodes)}


def brokerage(graph: nx.Graph, clusters: pd.Series | list[str] | None = None) -> pd.Series:
    """Brokerage indicator per cluster: normalised unweighted betweenness centrality
    (contract section 5). Indexed by cluster name (``clusters`` order, or sorted nodes)."""
    if graph.number_of_nodes() <= NETWORKX_MAX_NODES:
        values = nx.betweenness_centrality(graph, normalized=True)
    else:
        values = betweenness_matrix_bfs(graph)
    names = list(clusters) if clusters is not None else sorted(graph.nodes())
    return pd.Series([float(values.get(c, 0.0)) for c in names], index=pd.Index(names, name="cluster"), name="brokerage", dtype=float)
