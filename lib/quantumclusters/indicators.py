"""The nine indicators of the Quantum Cluster Index (contract section 5).

All nine are "higher is better". An indicator that cannot be computed (no GDP or
population for an unnamed group, no research institution, no collaboration) is missing
(``NaN``), never zero.

Collaborations "of a cluster" are those with at least one partner in it, each counted once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .network import brokerage, cluster_graph

__all__ = ["INDICATORS", "cluster_collaborations", "compute_indicators"]

#: The nine indicator columns, in the contract's order (three per dimension).
INDICATORS: tuple[str, ...] = (
    "total_funding_usd",
    "startup_funding_to_gdp",
    "industry_collaborations_per_tn_gdp",
    "collaborations",
    "external_share",
    "brokerage",
    "institutions_per_million",
    "spinouts_per_research_institution",
    "startups_per_institution",
)

_DISCLOSED = ("vc", "equity", "debt")
_RESEARCH = ("university", "research_institute")
_INDUSTRY = ("startup", "corporate")


def _cluster_of(assignments: pd.DataFrame) -> pd.Series:
    """institution_id -> cluster name, for institutions whose status is ``cluster``."""
    inside = assignments[assignments["status"] == "cluster"]
    return pd.Series(inside["group"].to_numpy(), index=inside["institution_id"].to_numpy(), dtype=object)


def cluster_collaborations(
    collaborations: pd.DataFrame, assignments: pd.DataFrame, institutions: pd.DataFrame
) -> pd.DataFrame:
    """One row per (collaboration, cluster) for every cluster the collaboration touches.

    Columns: ``row`` (position in ``collaborations``), ``cluster``, ``external`` (exactly
    one partner in this cluster), ``industry`` (a ``startup`` or ``corporate`` on at least
    one side). A collaboration inside one cluster appears once; one joining two clusters
    appears once for each.
    """
    cluster_of = _cluster_of(assignments)
    type_of = pd.Series(institutions["type"].to_numpy(), index=institutions["institution_id"].to_numpy())
    ca = cluster_of.reindex(collaborations["institution_a"].to_numpy()).to_numpy(dtype=object)
    cb = cluster_of.reindex(collaborations["institution_b"].to_numpy()).to_numpy(dtype=object)
    ta = type_of.reindex(collaborations["institution_a"].to_numpy()).to_numpy(dtype=object)
    tb = type_of.reindex(collaborations["institution_b"].to_numpy()).to_numpy(dtype=object)
    industry = np.isin(ta, _INDUSTRY) | np.isin(tb, _INDUSTRY)
    rows = np.arange(len(collaborations))
    same = pd.Series(ca).eq(pd.Series(cb)).to_numpy() & pd.notna(ca)
    long = pd.DataFrame(
        {
            "row": np.concatenate([rows, rows]),
            "cluster": np.concatenate([ca, cb]),
            "external": np.concatenate([~same, ~same]),
            "industry": np.concatenate([industry, industry]),
        }
    )
    long = long[long["cluster"].notna()]
    long = long.drop_duplicates(subset=["row", "cluster"]).reset_index(drop=True)
    long["cluster"] = long["cluster"].astype("string")
    return long


def compute_indicators(
    institutions: pd.DataFrame,
    funding: pd.DataFrame,
    collaborations: pd.DataFrame,
    assignments: pd.DataFrame,
    clusters: pd.DataFrame,
) -> pd.DataFrame:
    """The nine indicators per cluster (contract section 5), index = cluster name (sorted).

    ``clusters`` needs ``cluster``, ``population`` and ``gdp_usd`` (missing for unnamed
    groups); ``assignments`` the detection's ``institution_id``, ``status``, ``group``.
    """
    names = pd.Index(sorted(clusters["cluster"].astype(str)), name="cluster", dtype="string")
    info = clusters.assign(cluster=clusters["cluster"].astype("string")).set_index("cluster").reindex(names)
    gdp = info["gdp_usd"].astype(float)
    population = info["population"].astype(float)

    cluster_of = _cluster_of(assignments)
    members = institutions[institutions["institution_id"].isin(cluster_of.index)].copy()
    members["cluster"] = cluster_of.reindex(members["institution_id"].to_numpy()).to_numpy()
    by_cluster = members.groupby("cluster", sort=True)
    n_members = by_cluster.size().reindex(names, fill_value=0).astype(float)
    is_startup = members["type"] == "startup"
    n_startups = members[is_startup].groupby("cluster").size().reindex(names, fill_value=0).astype(float)
    n_research = members[members["type"].isin(_RESEARCH)].groupby("cluster").size().reindex(names, fill_value=0)
    has_parent = members["spinout_of"].notna() & (members["spinout_of"].astype("string").str.len() > 0)
    n_spinouts = members[is_startup & has_parent].groupby("cluster").size().reindex(names, fill_value=0)

    fund = funding.merge(members[["institution_id", "cluster", "type"]], on="institution_id", how="inner")
    total_funding = fund.groupby("cluster")["amount_usd"].sum().reindex(names, fill_value=0.0)
    disclosed = fund[(fund["type"] == "startup") & fund["kind"].isin(_DISCLOSED)]
    startup_funding = disclosed.groupby("cluster")["amount_usd"].sum().reindex(names, fill_value=0.0)

    links = cluster_collaborations(collaborations, assignments, institutions)
    grouped = links.groupby("cluster", sort=True)
    n_collab = grouped.size().reindex(names, fill_value=0).astype(float)
    n_external = grouped["external"].sum().reindex(names, fill_value=0).astype(float)
    n_industry = grouped["industry"].sum().reindex(names, fill_value=0).astype(float)

    graph = cluster_graph(collaborations, assignments)
    broker = brokerage(graph, list(names.astype(str)))
    broker.index = names

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        den = den.astype(float)
        return (num.astype(float) / den.where(den > 0)).astype(float)

    out = pd.DataFrame(
        {
            "total_funding_usd": total_funding.astype(float),
            "startup_funding_to_gdp": ratio(startup_funding, gdp),
            "industry_collaborations_per_tn_gdp": ratio(n_industry, gdp / 1e12),
            "collaborations": n_collab,
            "external_share": ratio(n_external, n_collab),
            "brokerage": broker.astype(float),
            "institutions_per_million": ratio(n_members, population / 1e6),
            "spinouts_per_research_institution": ratio(n_spinouts, n_research),
            "startups_per_institution": ratio(n_startups, n_members),
        },
        index=names,
    )
    return out[list(INDICATORS)]
