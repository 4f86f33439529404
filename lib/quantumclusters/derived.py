"""Derived lists the paper's tables and figures use (contract section 9).

* :func:`top_collaborators` - a cluster's most collaborating members (Tables 2 and 4);
* :func:`major_clusters` - clusters whose area GDP is at least USD 750 billion (Table 2);
* :func:`collaboration_involvement` / :func:`involvement_counts` - both partners in
  clusters, exactly one, or neither (Figure 17);
* :func:`in_cluster`, :func:`funding_by_year`, :func:`funding_by_region`,
  :func:`type_shares_in_clusters` - in clusters vs not (Figures 1, 15, 16). "In a cluster"
  means status ``cluster``; quasi-clusters count as outside (the paper's footnote 28).

Every function takes a :class:`quantumclusters.pipeline.Result` (the counted database
after the cut-off and the run's assignments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from .regions import REGIONS, region_of
from .schema import DISCLOSED_FUNDING_KINDS, INDUSTRY_TYPES, INSTITUTION_TYPES, RESEARCH_TYPES

if TYPE_CHECKING:
    from .pipeline import Result

__all__ = [
    "KIND_TYPES",
    "INVOLVEMENT",
    "MAJOR_CLUSTER_MIN_GDP",
    "institution_collaborations",
    "top_collaborators",
    "major_clusters",
    "in_cluster",
    "collaboration_involvement",
    "involvement_counts",
    "funding_by_year",
    "funding_by_region",
    "funding_regions",
    "type_shares_in_clusters",
]

#: Institution types behind the two kinds of top collaborators (section 9).
KIND_TYPES: dict[str, tuple[str, ...]] = {
    "industry": INDUSTRY_TYPES,
    "research": RESEARCH_TYPES,
}
#: Figure 17 categories, in the paper's order.
INVOLVEMENT: tuple[str, ...] = ("both", "one", "neither")
MAJOR_CLUSTER_MIN_GDP: float = 750e9


def institution_collaborations(result: Result) -> pd.Series:
    """Number of counted collaborations of every counted institution (each collaboration
    counted once per partner; partner anywhere), indexed by ``institution_id``."""
    coll = result.db.collaborations
    ids = result.db.institutions["institution_id"]
    ends = pd.concat([coll["institution_a"], coll["institution_b"]], ignore_index=True)
    # a collaboration is never with oneself, so each appears once per partner
    return ends.value_counts().reindex(pd.Index(ids, name="institution_id"), fill_value=0).astype(np.int64)


def top_collaborators(
    result: Result, cluster: str, kind: Literal["industry", "research"], n: int = 3
) -> pd.DataFrame:
    """A cluster's ``n`` members of ``kind`` with most collaborations (ties by name, then
    id). Columns: institution_id, name, type, collaborations."""
    if kind not in KIND_TYPES:
        raise ValueError(f"kind must be 'industry' or 'research', not {kind!r}")
    a = result.assignments
    members = a.loc[(a["status"] == "cluster") & (a["group"] == cluster), "institution_id"]
    inst = result.db.institutions
    rows = inst[inst["institution_id"].isin(members) & inst["type"].isin(KIND_TYPES[kind])]
    counts = institution_collaborations(result)
    table = rows[["institution_id", "name", "type"]].assign(
        collaborations=counts.reindex(rows["institution_id"]).to_numpy()
    )
    table = table.sort_values(
        ["collaborations", "name", "institution_id"], ascending=[False, True, True], kind="stable"
    )
    return table.head(n).reset_index(drop=True)


def major_clusters(result: Result, min_gdp: float = MAJOR_CLUSTER_MIN_GDP) -> pd.DataFrame:
    """Clusters whose area GDP is at least ``min_gdp`` (USD), in overall-rank order, with
    their overall rank and label."""
    cl = result.clusters[result.clusters["gdp_usd"] >= min_gdp]
    ranks = result.ranking[["cluster", "overall_rank", "overall_label"]]
    out = cl.merge(ranks, on="cluster", how="left")
    return out.sort_values(["overall_rank", "cluster"], kind="stable", na_position="last").reset_index(drop=True)


def in_cluster(result: Result) -> pd.Series:
    """Boolean per counted institution: status is ``cluster`` (quasi-clusters are outside)."""
    a = result.assignments
    return pd.Series((a["status"] == "cluster").to_numpy(), index=pd.Index(a["institution_id"], name="institution_id"))


def collaboration_involvement(result: Result) -> pd.DataFrame:
    """Per counted collaboration: ``both`` partners in clusters (the same or different ones),
    exactly ``one``, or ``neither``. Columns: collaboration_id, involvement."""
    inside = in_cluster(result)
    coll = result.db.collaborations
    n_in = inside.reindex(coll["institution_a"]).to_numpy(dtype=int) + inside.reindex(
        coll["institution_b"]
    ).to_numpy(dtype=int)
    labels = np.array(["neither", "one", "both"], dtype=object)[n_in]
    return pd.DataFrame({"collaboration_id": coll["collaboration_id"].to_numpy(), "involvement": labels})


def involvement_counts(result: Result) -> pd.DataFrame:
    """Figure 17: number and share of collaborations per involvement category."""
    counts = collaboration_involvement(result)["involvement"].value_counts().reindex(list(INVOLVEMENT), fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame(
        {"collaborations": counts.astype(np.int64), "share": counts / total if total else np.nan},
        index=pd.Index(list(INVOLVEMENT), name="involvement"),
    )


def _funding_with_location(result: Result, kinds: tuple[str, ...] | None) -> pd.DataFrame:
    fund = result.db.funding
    if kinds is not None:
        fund = fund[fund["kind"].isin(kinds)]
    inst = result.db.institutions.set_index("institution_id")
    inside = in_cluster(result)
    return pd.DataFrame(
        {
            "year": fund["date"].dt.year.to_numpy(),
            "amount_usd": fund["amount_usd"].to_numpy(dtype=float),
            "in_cluster": inside.reindex(fund["institution_id"]).to_numpy(dtype=bool),
            "country": inst["country"].reindex(fund["institution_id"]).to_numpy(dtype=object),
            "type": inst["type"].reindex(fund["institution_id"]).to_numpy(dtype=object),
        }
    )


def _in_out_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    table = frame.pivot_table(index=by, columns="in_cluster", values="amount_usd", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=[True, False], fill_value=0.0)
    table.columns = ["in_clusters_usd", "outside_usd"]
    total = table["in_clusters_usd"] + table["outside_usd"]
    table["share_in_clusters"] = table["in_clusters_usd"] / total.where(total > 0)
    return table


def funding_by_year(
    result: Result, cumulative: bool = False, kinds: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Figure 1: company funding per year in clusters vs outside (all funding kinds unless
    ``kinds`` is given), indexed by year; ``cumulative=True`` gives "up to" each year.
    Columns: in_clusters_usd, outside_usd, share_in_clusters. Cluster membership is the
    run's (at its cut-off)."""
    table = _in_out_table(_funding_with_location(result, kinds), "year").sort_index()
    if cumulative:
        sums = table[["in_clusters_usd", "outside_usd"]].cumsum()
        total = sums.sum(axis=1)
        sums["share_in_clusters"] = sums["in_clusters_usd"] / total.where(total > 0)
        table = sums
    return table


def funding_regions(result: Result, kinds: tuple[str, ...] | None = None) -> pd.Series:
    """The region of each funding row (rows of ``kinds``, in file order): a company in a
    cluster counts in its *cluster's* region (contract section 3: a cluster's region is its
    area's, which matters for cross-border clusters); any other company in the region of
    its own country."""
    fund = result.db.funding
    if kinds is not None:
        fund = fund[fund["kind"].isin(kinds)]
    assigned = result.assignments.set_index("institution_id")
    cluster_region = result.clusters.set_index("cluster")["region"]
    group = assigned["group"].where(assigned["status"] == "cluster").reindex(fund["institution_id"])
    by_cluster = cluster_region.reindex(group.to_numpy()).to_numpy(dtype=object)
    country = result.db.institutions.set_index("institution_id")["country"].reindex(fund["institution_id"])
    own = np.array([region_of(c) for c in country.to_numpy(dtype=object)], dtype=object)
    inside = pd.notna(group.to_numpy()) & pd.notna(by_cluster)
    return pd.Series(np.where(inside, by_cluster, own), index=fund.index, name="region", dtype=object)


def funding_by_region(result: Result, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Figure 15: company funding per region in clusters vs outside, indexed by region in
    the paper's order. In-cluster funding counts in the cluster's region (its area's), other
    funding in the region of the company's country (:func:`funding_regions`)."""
    frame = _funding_with_location(result, kinds)
    frame["region"] = funding_regions(result, kinds).to_numpy(dtype=object)
    table = _in_out_table(frame, "region")
    return table.reindex([r for r in REGIONS if r in table.index])


def type_shares_in_clusters(result: Result) -> pd.DataFrame:
    """Figure 16: for each institution type, how many counted institutions there are, how
    many are in clusters and the share; plus a ``startup funding`` row (disclosed ``vc``,
    ``equity``, ``debt`` of startups, in USD)."""
    inst = result.db.institutions
    inside = in_cluster(result).reindex(inst["institution_id"]).to_numpy(dtype=bool)
    frame = pd.DataFrame({"type": inst["type"].to_numpy(dtype=object), "inside": inside})
    table = frame.groupby("type", sort=False)["inside"].agg(total="size", in_clusters="sum")
    order = list(INSTITUTION_TYPES)
    table = table.reindex([t for t in order if t in table.index]).astype(float)
    fund = _funding_with_location(result, DISCLOSED_FUNDING_KINDS)
    fund = fund[fund["type"] == "startup"]
    table.loc["startup funding"] = [fund["amount_usd"].sum(), fund.loc[fund["in_cluster"], "amount_usd"].sum()]
    table["share_in_clusters"] = table["in_clusters"] / table["total"].where(table["total"] > 0)
    table.index.name = "type"
    return table
