"""Contract section 5: the nine indicators, including the missing cases.

A hand-built database with four clusters P, Q, R, S (assignments given directly) and two
outside institutions; every expected value is worked out in the comments.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import collaboration_rows, funding_row, institution, make_db

from quantumclusters.indicators import INDICATORS, cluster_collaborations, compute_indicators
from quantumclusters.network import betweenness_matrix_bfs, brokerage, cluster_graph

NAN = np.nan

# members (type, spin-out parent)
MEMBERS = {
    "P": [("p_u1", "university", None), ("p_r1", "research_institute", None), ("p_s1", "startup", "p_u1"),
          ("p_s2", "startup", None), ("p_k1", "corporate", None)],
    "Q": [("q_u1", "university", None), ("q_g1", "government", None), ("q_s1", "startup", "o1")],
    "R": [("r_g1", "government", None), ("r_g2", "government", None)],
    "S": [("s_u1", "university", None)],
}
OUTSIDE = [("o1", "university", None), ("o2", "corporate", None)]  # o1 is in a quasi-cluster


def fixture() -> tuple:
    rows, status = [], []
    for cluster, members in MEMBERS.items():
        for iid, typ, parent in members:
            rows.append(institution(iid, 0.0, 0.0, type=typ, spinout_of=parent))
            status.append((iid, "cluster", cluster))
    for iid, typ, parent in OUTSIDE:
        rows.append(institution(iid, 0.0, 0.0, type=typ, spinout_of=parent))
    status += [("o1", "quasi_cluster", "Zed"), ("o2", "none", "")]
    funding = [
        funding_row("f1", "p_s1", 3e6, "vc"),
        funding_row("f2", "p_s1", 1e6, "grant"),
        funding_row("f3", "p_s2", 2e6, "equity"),
        funding_row("f4", "p_s2", 1e6, "debt"),
        funding_row("f5", "p_k1", 10e6, "corporate"),
        funding_row("f6", "p_k1", 4e6, "vc"),  # a corporate's vc: total funding only
        funding_row("f7", "q_s1", 5e6, "vc"),
        funding_row("f8", "o2", 7e6, "vc"),  # outside every cluster
    ]
    pairs = [
        ("p_u1", "p_r1"),  # c0 P internal
        ("p_s1", "p_u1"),  # c1 P internal, industry
        ("p_u1", "q_u1"),  # c2 P-Q
        ("p_k1", "o1"),  # c3 P-outside, industry
        ("q_s1", "r_g1"),  # c4 Q-R, industry
        ("q_u1", "o1"),  # c5 Q-outside
        ("o1", "o2"),  # c6 neither
        ("r_g1", "r_g2"),  # c7 R internal
    ]
    db = make_db(rows, funding=funding, collaborations=collaboration_rows(pairs))
    assignments = pd.DataFrame(status, columns=["institution_id", "status", "group"]).astype("string")
    clusters = pd.DataFrame(
        {
            "cluster": ["P", "Q", "R", "S"],
            "population": [2e6, 1e6, NAN, 5e5],  # R is an unnamed group: no area
            "gdp_usd": [2e11, 5e11, NAN, 1e12],
        }
    )
    return db, assignments, clusters


EXPECTED = pd.DataFrame(
    {
        # P: 3+1+2+1+10+4 = 21 M; Q: 5 M; R, S: no funding rows -> 0 (computable)
        "total_funding_usd": [21e6, 5e6, 0.0, 0.0],
        # startup vc/equity/debt: P 3+2+1 = 6 M / 2e11 = 3e-5; Q 5 M / 5e11 = 1e-5;
        # R: no GDP -> missing; S: 0 / 1e12 = 0
        "startup_funding_to_gdp": [6e6 / 2e11, 5e6 / 5e11, NAN, 0.0],
        # industry collaborations: P c1, c3 = 2 / 0.2 tn = 10; Q c4 = 1 / 0.5 tn = 2;
        # R c4 = 1 / no GDP -> missing; S 0 / 1 tn = 0
        "industry_collaborations_per_tn_gdp": [10.0, 2.0, NAN, 0.0],
        # P c0 c1 c2 c3 = 4; Q c2 c4 c5 = 3; R c4 c7 = 2; S none = 0
        "collaborations": [4.0, 3.0, 2.0, 0.0],
        # exactly one partner inside: P c2 c3 = 2/4; Q all 3/3; R c4 = 1/2; S 0/0 -> missing
        "external_share": [0.5, 1.0, 0.5, NAN],
        # graph P - Q - R, S isolated, n = 4: only pair (P, R) passes through Q ->
        # Q = 1 / ((n-1)(n-2)/2) = 1/3; the others 0
        "brokerage": [0.0, 1 / 3, 0.0, 0.0],
        # members / (population / 1e6): P 5/2 = 2.5; Q 3/1 = 3; R no population; S 1/0.5 = 2
        "institutions_per_million": [2.5, 3.0, NAN, 2.0],
        # startups with a parent / research members: P p_s1 / (p_u1, p_r1) = 0.5;
        # Q q_s1 (parent outside the cluster still counts) / q_u1 = 1; R no research
        # institution -> missing; S 0 / 1 = 0
        "spinouts_per_research_institution": [0.5, 1.0, NAN, 0.0],
        # startups / members: P 2/5; Q 1/3; R 0/2 = 0; S 0/1 = 0
        "startups_per_institution": [0.4, 1 / 3, 0.0, 0.0],
    },
    index=pd.Index(["P", "Q", "R", "S"], name="cluster", dtype="string"),
)


@pytest.fixture(scope="module")
def computed() -> pd.DataFrame:
    db, assignments, clusters = fixture()
    return compute_indicators(db.institutions, db.funding, db.collaborations, assignments, clusters)


def test_indicator_columns_in_contract_order(computed: pd.DataFrame) -> None:
    assert list(computed.columns) == list(INDICATORS)
    assert len(INDICATORS) == 9


@pytest.mark.parametrize("name", INDICATORS)
def test_each_indicator_by_hand(computed: pd.DataFrame, name: str) -> None:
    pd.testing.assert_series_equal(computed[name], EXPECTED[name], check_exact=False, rtol=1e-15, atol=0)


def test_missing_is_nan_never_zero(computed: pd.DataFrame) -> None:
    # unnamed group R: no GDP, no population, no research institution
    r = computed.loc["R"]
    for name in ("startup_funding_to_gdp", "industry_collaborations_per_tn_gdp", "institutions_per_million",
                 "spinouts_per_research_institution"):
        assert np.isnan(r[name]), name
    # S: no collaboration -> external share missing, but the count is a real 0
    assert np.isnan(computed.loc["S", "external_share"])
    assert computed.loc["S", "collaborations"] == 0.0


def test_collaborations_of_a_cluster_counted_once() -> None:
    db, assignments, _ = fixture()
    links = cluster_collaborations(db.collaborations, assignments, db.institutions)
    # c2 (P-Q) appears once for P and once for Q; c0 (P internal) once for P only
    assert links[links["row"] == 2]["cluster"].tolist() == ["P", "Q"]
    assert links[links["row"] == 0]["cluster"].tolist() == ["P"]
    assert links[links["row"] == 6].empty  # o1-o2: no cluster (quasi-cluster is not one)


def test_cluster_graph_edges() -> None:
    db, assignments, _ = fixture()
    g = cluster_graph(db.collaborations, assignments)
    assert sorted(g.nodes()) == ["P", "Q", "R", "S"]
    assert sorted(tuple(sorted(e)) for e in g.edges()) == [("P", "Q"), ("Q", "R")]


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_betweenness_equals_networkx(seed: int, dense: bool) -> None:
    # random graphs, some disconnected, with isolated nodes
    g = nx.gnm_random_graph(60, 90 + 30 * seed, seed=seed)
    g.add_nodes_from(range(60, 64))
    ref = nx.betweenness_centrality(g, normalized=True)
    fast = betweenness_matrix_bfs(g, batch_cells=700, dense=dense)  # several batches
    for v in g.nodes():
        assert fast[v] == pytest.approx(ref[v], rel=1e-12, abs=1e-15)


def test_brokerage_of_a_star() -> None:
    # star: hub H joined to A, B, C. n = 4: pairs (A,B), (A,C), (B,C) all pass through H ->
    # 3 / ((4-1)(4-2)/2) = 1; leaves 0.
    g = nx.Graph([("H", "A"), ("H", "B"), ("H", "C")])
    b = brokerage(g, ["A", "B", "C", "H"])
    assert b.tolist() == [0.0, 0.0, 0.0, 1.0]
    fast = betweenness_matrix_bfs(g)
    assert fast["H"] == pytest.approx(1.0) and fast["A"] == 0.0


def test_brokerage_from_codes_matrix_path_equals_networkx(monkeypatch: pytest.MonkeyPatch) -> None:
    import quantumclusters.network as network

    g = nx.gnm_random_graph(40, 70, seed=5)
    names = [f"c{i:02d}" for i in range(40)]
    a = np.array([u for u, v in g.edges()] + [0, 0])  # a repeated edge counts once
    b = np.array([v for u, v in g.edges()] + [1, 1])
    g.add_edge(0, 1)
    ref = nx.betweenness_centrality(g, normalized=True)
    monkeypatch.setattr(network, "NETWORKX_MAX_NODES", 10)  # force the matrix path
    got = network.brokerage_from_codes(names, a, b)
    np.testing.assert_allclose(got.to_numpy(), [ref[i] for i in range(40)], rtol=1e-12, atol=1e-15)
