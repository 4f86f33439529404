"""The nine indicators of the Quantum Cluster Index (contract section 5).

All nine are "higher is better". An indicator that cannot be computed (no GDP or
population for an unnamed group, no research institution, no collaboration) is missing
(``NaN``), never zero.

Collaborations "of a cluster" are those with at least one partner in it, each counted once.
Everything is counted with integer codes and ``numpy.bincount`` (no loop over rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .detection import Encoded, positions
from .network import brokerage_from_codes
from .schema import DISCLOSED_FUNDING_KINDS, INDUSTRY_TYPES, RESEARCH_TYPES

__all__ = ["INDICATORS", "ClusterCodes", "cluster_codes", "cluster_collaborations", "compute_indicators"]

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



@dataclass(frozen=True)
class ClusterCodes:
    """Integer codes of a run, in the order of ``assignments``.

    ``names``: the clusters (sorted); ``member``: cluster code per institution (``-1`` when
    its status is not ``cluster``); ``types``, ``spinout``: per institution; ``coll_a``,
    ``coll_b``, ``fund_pos``: positions of collaboration partners and funded institutions.
    """

    names: pd.Index
    member: np.ndarray
    types: np.ndarray
    spinout: np.ndarray
    coll_a: np.ndarray
    coll_b: np.ndarray
    fund_pos: np.ndarray

    def of_collaborations(self) -> tuple[np.ndarray, np.ndarray]:
        """Cluster code of each collaboration's two partners (``-1``: none)."""
        ext = np.append(self.member, -1)
        return ext[self.coll_a], ext[self.coll_b]


def cluster_codes(
    institutions: pd.DataFrame,
    funding: pd.DataFrame,
    collaborations: pd.DataFrame,
    assignments: pd.DataFrame,
    names: list[str] | pd.Index | None = None,
    encoded: Encoded | None = None,
) -> ClusterCodes:
    """Encode a run once (reusing ``encoded`` when it lists the same institutions in the
    same order as ``assignments``)."""
    in_cluster = (assignments["status"] == "cluster").to_numpy()
    groups = assignments["group"].to_numpy(dtype=object)
    if names is None:
        names = sorted(set(groups[in_cluster]))
    name_index = pd.Index(list(names), dtype=object, name="cluster")
    member = np.full(len(assignments), -1, dtype=np.int64)
    member[in_cluster] = name_index.get_indexer(groups[in_cluster])
    ids = assignments["institution_id"]
    aligned = (
        encoded is not None
        and len(encoded.institutions) == len(assignments)
        and bool(np.array_equal(encoded.institutions["institution_id"].to_numpy(dtype=object), ids.to_numpy(dtype=object)))
    )
    if aligned:
        assert encoded is not None
        inst = encoded.institutions
        coll_a, coll_b, fund_pos = encoded.coll_a, encoded.coll_b, encoded.fund_pos
    else:
        inst = institutions.iloc[np.maximum(positions(institutions["institution_id"], ids), 0)]
        coll_a = positions(ids, collaborations["institution_a"])
        coll_b = positions(ids, collaborations["institution_b"])
        fund_pos = positions(ids, funding["institution_id"])
    spin = inst["spinout_of"]
    spinout = (spin.notna() & (spin.astype("string").str.len() > 0)).to_numpy(dtype=bool)
    return ClusterCodes(
        names=name_index,
        member=member,
        types=inst["type"].to_numpy(dtype=object),
        spinout=spinout,
        coll_a=coll_a,
        coll_b=coll_b,
        fund_pos=fund_pos,
    )


def cluster_collaborations(
    collaborations: pd.DataFrame, assignments: pd.DataFrame, institutions: pd.DataFrame
) -> pd.DataFrame:
    """One row per (collaboration, cluster) for every cluster the collaboration touches.

    Columns: ``row`` (position in ``collaborations``), ``cluster``, ``external`` (exactly
    one partner in this cluster), ``industry`` (a ``startup`` or ``corporate`` on at least
    one side). A collaboration inside one cluster appears once; one joining two clusters
    appears once for each (for notebooks; :func:`compute_indicators` counts directly).
    """
    empty_funding = pd.DataFrame({"institution_id": pd.Series([], dtype="string")})
    codes = cluster_codes(institutions, empty_funding, collaborations, assignments)
    ca, cb = codes.of_collaborations()
    industry = _industry(codes)
    rows = np.arange(len(collaborations))
    second = (cb >= 0) & (cb != ca)
    first = ca >= 0
    out = pd.DataFrame(
        {
            "row": np.concatenate([rows[first], rows[second]]),
            "code": np.concatenate([ca[first], cb[second]]),
            "external": np.concatenate([(ca != cb)[first], (ca != cb)[second]]),
            "industry": np.concatenate([industry[first], industry[second]]),
        }
    ).sort_values(["row", "code"], kind="stable")
    out.insert(1, "cluster", pd.array(codes.names.to_numpy()[out["code"].to_numpy()], dtype="string"))
    return out.drop(columns="code").reset_index(drop=True)


def _industry(codes: ClusterCodes) -> np.ndarray:
    """Per collaboration: a startup or corporate on at least one side."""
    is_industry = np.append(np.isin(codes.types, INDUSTRY_TYPES), False)
    return is_industry[codes.coll_a] | is_industry[codes.coll_b]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, missing where den is missing or 0 (never a fake 0)."""
    den = np.asarray(den, dtype=float)
    ok = np.isfinite(den) & (den > 0)
    return np.where(ok, np.asarray(num, dtype=float) / np.where(ok, den, 1.0), np.nan)


def compute_indicators(
    institutions: pd.DataFrame,
    funding: pd.DataFrame,
    collaborations: pd.DataFrame,
    assignments: pd.DataFrame,
    clusters: pd.DataFrame,
    encoded: Encoded | None = None,
) -> pd.DataFrame:
    """The nine indicators per cluster (contract section 5), index = cluster name (sorted).

    ``clusters`` needs ``cluster``, ``population`` and ``gdp_usd`` (missing for unnamed
    groups); ``assignments`` the detection's ``institution_id``, ``status``, ``group``;
    ``encoded`` (optional) the run's :class:`~quantumclusters.detection.Encoded`.
    """
    names = pd.Index(sorted(clusters["cluster"].astype(str)), dtype=object, name="cluster")
    k = len(names)
    info = clusters.assign(cluster=clusters["cluster"].astype(str)).set_index("cluster").reindex(names)
    gdp = info["gdp_usd"].to_numpy(dtype=float)
    population = info["population"].to_numpy(dtype=float)
    codes = cluster_codes(institutions, funding, collaborations, assignments, names, encoded)
    member = codes.member

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(member[mask & (member >= 0)], minlength=k).astype(float)

    everyone = np.ones(len(member), dtype=bool)
    is_startup = codes.types == "startup"
    n_members = count(everyone)
    n_startups = count(is_startup)
    n_research = count(np.isin(codes.types, RESEARCH_TYPES))
    n_spinouts = count(is_startup & codes.spinout)

    fund_cluster = np.append(member, -1)[codes.fund_pos]
    amount = funding["amount_usd"].to_numpy(dtype=float)
    in_cl = fund_cluster >= 0
    total_funding = np.bincount(fund_cluster[in_cl], weights=amount[in_cl], minlength=k)
    fund_type = np.append(codes.types, None)[codes.fund_pos]
    disclosed = in_cl & funding["kind"].isin(DISCLOSED_FUNDING_KINDS).to_numpy() & (fund_type == "startup")
    startup_funding = np.bincount(fund_cluster[disclosed], weights=amount[disclosed], minlength=k)

    ca, cb = codes.of_collaborations()
    industry = _industry(codes)
    first = ca >= 0
    second = (cb >= 0) & (cb != ca)  # a collaboration inside one cluster counts once

    def per_cluster(mask: np.ndarray) -> np.ndarray:
        return (np.bincount(ca[first & mask], minlength=k) + np.bincount(cb[second & mask], minlength=k)).astype(float)

    n_collab = per_cluster(np.ones(len(ca), dtype=bool))
    n_external = per_cluster(ca != cb)
    n_industry = per_cluster(industry)

    cross = (ca >= 0) & (cb >= 0) & (ca != cb)
    broker = brokerage_from_codes(list(names), ca[cross], cb[cross]).to_numpy(dtype=float)

    out = pd.DataFrame(
        {
            "total_funding_usd": total_funding,
            "startup_funding_to_gdp": _ratio(startup_funding, gdp),
            "industry_collaborations_per_tn_gdp": _ratio(n_industry, gdp / 1e12),
            "collaborations": n_collab,
            "external_share": _ratio(n_external, n_collab),
            "brokerage": broker,
            "institutions_per_million": _ratio(n_members, population / 1e6),
            "spinouts_per_research_institution": _ratio(n_spinouts, n_research),
            "startups_per_institution": _ratio(n_startups, n_members),
        },
        index=pd.Index(names.astype(str), name="cluster", dtype="string"),
    )
    return out[list(INDICATORS)]
