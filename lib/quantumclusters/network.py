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

__all__ = [
    "NETWORKX_MAX_NODES",
    "DENSE_MAX_NODES",
    "graph_from_edges",
    "cluster_graph",
    "betweenness_of_adjacency",
    "brokerage_from_codes",
    "brokerage",
    "betweenness_matrix_bfs",
]

#: Largest graph for which :func:`brokerage` calls networkx directly.
NETWORKX_MAX_NODES: int = 500
#: Up to this many nodes :func:`betweenness_matrix_bfs` uses a dense adjacency matrix.
DENSE_MAX_NODES: int = 6000


def graph_from_edges(names: list[str], code_a: np.ndarray, code_b: np.ndarray) -> nx.Graph:
    """The cluster-cluster graph from the cluster codes (positions in ``names``) of the two
    partners of every collaboration joining two different clusters. Every cluster is a
    node (in ``names`` order), isolated ones included; edge attribute ``collaborations``."""
    k = max(len(names), 1)
    lo, hi = np.minimum(code_a, code_b), np.maximum(code_a, code_b)
    keys, n = np.unique(lo.astype(np.int64) * k + hi, return_counts=True)
    graph = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_weighted_edges_from(
        zip([names[i] for i in keys // k], [names[i] for i in keys % k], n.tolist()), weight="collaborations"
    )
    return graph


def cluster_graph(collaborations: pd.DataFrame, assignments: pd.DataFrame) -> nx.Graph:
    """The cluster-cluster graph (contract section 5, brokerage).

    ``assignments`` has ``institution_id``, ``status``, ``group``; only ``status ==
    "cluster"`` counts. Every cluster is a node (sorted by name), isolated ones included.
    """
    in_cluster = (assignments["status"] == "cluster").to_numpy()
    groups = assignments["group"].to_numpy(dtype=object)
    names = sorted(set(groups[in_cluster]))
    member = np.full(len(assignments) + 1, -1, dtype=np.int64)
    member[:-1][in_cluster] = pd.Index(names, dtype=object).get_indexer(groups[in_cluster])
    ids = assignments["institution_id"].to_numpy(dtype=object)
    index = pd.Index(ids, dtype=object)
    ca = member[index.get_indexer(collaborations["institution_a"].to_numpy(dtype=object))]
    cb = member[index.get_indexer(collaborations["institution_b"].to_numpy(dtype=object))]
    cross = (ca >= 0) & (cb >= 0) & (ca != cb)
    return graph_from_edges(names, ca[cross], cb[cross])


def betweenness_matrix_bfs(
    graph: nx.Graph, batch_cells: int = 20_000_000, dense: bool | None = None
) -> dict[object, float]:
    """Normalised unweighted betweenness (as ``networkx.betweenness_centrality`` with
    ``normalized=True``) by Brandes' algorithm, run for batches of sources at once
    (:func:`betweenness_of_adjacency`). Returns ``{node: value}``."""
    nodes = list(graph.nodes())
    n = len(nodes)
    if n == 0:
        return {}
    index = {v: i for i, v in enumerate(nodes)}
    codes = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    values = betweenness_of_adjacency(_adjacency(n, codes[:, 0], codes[:, 1]), batch_cells, dense)
    return {v: float(values[i]) for i, v in enumerate(nodes)}


def _adjacency(n: int, code_a: np.ndarray, code_b: np.ndarray) -> sparse.csr_matrix:
    """Symmetric 0/1 adjacency matrix of the undirected edges (code_a[i], code_b[i])."""
    rows = np.concatenate([code_a, code_b])
    cols = np.concatenate([code_b, code_a])
    adj = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0  # collapse repeated edges
    return adj


def betweenness_of_adjacency(
    adjacency: sparse.csr_matrix, batch_cells: int = 20_000_000, dense: bool | None = None
) -> np.ndarray:
    """Normalised unweighted betweenness of every node of a symmetric 0/1 adjacency matrix.

    Brandes' algorithm for a batch of sources at once: breadth-first layers are found with
    matrix products (dense BLAS up to :data:`DENSE_MAX_NODES` nodes, sparse above; ``dense``
    forces either), path counts ``sigma`` go forward layer by layer and dependencies
    ``delta`` backward. ``batch_cells`` bounds the (sources x nodes) work arrays.
    """
    n = adjacency.shape[0]
    adj: sparse.csr_matrix | np.ndarray = adjacency
    if (n <= DENSE_MAX_NODES) if dense is None else dense:
        adj = adjacency.toarray()  # dense products use BLAS (multi-threaded)
    total = np.zeros(n)
    batch = max(1, batch_cells // max(n, 1))
    for start in range(0, n, batch):
        sources = np.arange(start, min(start + batch, n))
        s = len(sources)
        dist = np.full((s, n), -1, dtype=np.int32)
        sigma = np.zeros((s, n))
        dist[np.arange(s), sources] = 0
        sigma[np.arange(s), sources] = 1.0
        # layer 1: the sources' neighbours (one path each); no product needed
        first = adj[sources]
        reached = first.toarray() if sparse.issparse(first) else np.array(first, dtype=float)
        new = (reached > 0) & (dist < 0)
        depth = 0
        while new.any():
            depth += 1
            dist[new] = depth
            sigma[new] = reached[new]
            if not (dist < 0).any():
                break  # every node reached: no further layer
            frontier = np.where(new, reached, 0.0)
            reached = np.asarray(adj @ frontier.T).T
            new = (reached > 0) & (dist < 0)
        delta = np.zeros((s, n))
        # dependencies, deepest layer first; layer 0 (the source) is not needed
        for d in range(depth - 1, 0, -1):
            at_next = dist == d + 1
            coeff = np.where(at_next, (1.0 + delta) / np.where(at_next, sigma, 1.0), 0.0)
            pulled = np.asarray(adj @ coeff.T).T
            at_d = dist == d
            delta = np.where(at_d, delta + sigma * pulled, delta)
        delta[np.arange(s), sources] = 0.0
        total += delta.sum(axis=0)
    if n > 2:  # networkx's normalisation for undirected graphs (sum over ordered pairs)
        total = total / ((n - 1) * (n - 2))
    return total


def brokerage_from_codes(names: list[str], code_a: np.ndarray, code_b: np.ndarray) -> pd.Series:
    """Brokerage per cluster from the cluster codes of the partners of every collaboration
    joining two different clusters: networkx on small graphs, the matrix form (no networkx
    graph built) above :data:`NETWORKX_MAX_NODES` clusters."""
    if len(names) <= NETWORKX_MAX_NODES:
        return brokerage(graph_from_edges(names, code_a, code_b), names)
    values = betweenness_of_adjacency(_adjacency(len(names), code_a, code_b))
    return pd.Series(values, index=pd.Index(names, name="cluster"), name="brokerage", dtype=float)


def brokerage(graph: nx.Graph, clusters: pd.Series | list[str] | None = None) -> pd.Series:
    """Brokerage indicator per cluster: normalised unweighted betweenness centrality
    (contract section 5). Indexed by cluster name (``clusters`` order, or sorted nodes)."""
    if graph.number_of_nodes() <= NETWORKX_MAX_NODES:
        values = nx.betweenness_centrality(graph, normalized=True)
    else:
        values = betweenness_matrix_bfs(graph)
    names = list(clusters) if clusters is not None else sorted(graph.nodes())
    return pd.Series([float(values.get(c, 0.0)) for c in names], index=pd.Index(names, name="cluster"), name="brokerage", dtype=float)
