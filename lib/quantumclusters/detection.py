"""Cluster and quasi-cluster detection (contract section 4; paper Annex 1).

The steps, each a function a notebook can call on its own:

1. :func:`dbscan_groups` - DBSCAN with the haversine metric on (lat, lon) in radians,
   ``eps`` in km on a sphere of radius :data:`EARTH_RADIUS_KM`, institutions taken in
   ``institution_id`` order (step 1-2).
2. :func:`merge_groups` - merge neighbouring DBSCAN groups that are joined by
   collaborations, closest pair first (step 3).
3. :func:`name_groups` - name each group after the area most of its members vote for
   (step 4).
4. :func:`cluster_qualifies` / :func:`quasi_cluster_qualifies` - the thresholds of steps
   5 and 6; :func:`unique_names` - the `` (2)`` suffixes of step 7.
5. :func:`detect` - all of it: clusters first, then quasi-clusters among the counted
   institutions that are in no cluster.

Scalability (issue 2). scikit-learn's DBSCAN on raw haversine coordinates materialises
every neighbourhood, which exhausts memory on dense data. :func:`dbscan_groups` therefore
runs scikit-learn's DBSCAN on the *distinct* coordinates, with the number of institutions
at each coordinate as ``sample_weight`` (so ``min_samples`` still counts institutions,
the point itself included), over a sparse radius graph built in chunks with a haversine
``BallTree``. The result is identical to plain ``DBSCAN(metric="haversine")`` on the
institutions in ``institution_id`` order: institutions at one coordinate have the same
neighbourhood, so the same core status, and the distinct coordinates are kept in order of
first appearance, so clusters are expanded in the same order and border points go to the
same cluster (the one whose earliest core point comes first). The test suite checks this
against plain scikit-learn on random data with duplicates and border points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.cluster import DBSCAN
from sklearn.neighbors import BallTree

from .regions import region_of

if TYPE_CHECKING:
    from .schema import Database

__all__ = [
    "EARTH_RADIUS_KM",
    "NOISE",
    "Params",
    "Detection",
    "GroupFinding",
    "km_to_radians",
    "unit_vectors",
    "great_circle_km",
    "sort_institutions",
    "dbscan_groups",
    "group_centroids",
    "collaboration_links",
    "merge_groups",
    "nearest_areas",
    "name_groups",
    "unnamed_label",
    "unique_names",
    "startup_disclosed_funding",
    "group_funding_summary",
    "cluster_qualifies",
    "quasi_cluster_qualifies",
    "find_groups",
    "detect",
]

#: Mean Earth radius in km (IUGG), the contract's sphere for the haversine metric.
EARTH_RADIUS_KM: float = 6371.0088
#: DBSCAN's label for an institution in no group.
NOISE: int = -1

_DISCLOSED = ("vc", "equity", "debt")
_RESEARCH = ("university", "research_institute")


@dataclass(frozen=True)
class Params:
    """Every number of contract section 4 (the paper's values are the defaults)."""

    eps_km: float = 20.0
    min_samples: int = 10
    quasi_min_samples: int = 5
    merge_km: float = 20.0
    merge_min_links: int = 5
    merge_min_share: float = 0.2
    naming_km: float = 50.0
    min_institutions: int = 5
    cluster_min_funded_startups: int = 2
    cluster_min_combined_usd: float = 10e6
    cluster_min_single_usd: float = 25e6
    quasi_min_institutions: int = 5
    quasi_min_collaborations: int = 50
    tier1_exceeding_usd: float = 5e6


@dataclass(frozen=True)
class GroupFinding:
    """Steps 2-4 of one pass: DBSCAN labels, merged labels and the named groups.

    ``dbscan`` and ``merged`` are indexed by ``institution_id`` (sorted), ``-1`` = noise.
    ``groups`` is indexed by merged label with columns ``area_id``, ``area`` (area name
    or the ``Unnamed (lat, lon)`` label), ``lat``, ``lon`` (centroid), ``institutions``.
    """

    dbscan: pd.Series
    merged: pd.Series
    groups: pd.DataFrame


@dataclass(frozen=True)
class Detection:
    """Everything contract section 4 produces.

    * ``assignments``: institution_id, status (``cluster``/``quasi_cluster``/``none``),
      group (final name or empty), sorted by institution_id;
    * ``clusters``: one row per cluster (contract section 8 columns + population, gdp_usd);
    * ``quasi_clusters``: one row per quasi-cluster (section 8 columns);
    * ``cluster_pass`` / ``quasi_pass``: the intermediate :class:`GroupFinding` of each
      pass, for notebooks that show the steps;
    * ``candidates``: every group of both passes with its threshold figures and verdict.
    """

    assignments: pd.DataFrame
    clusters: pd.DataFrame
    quasi_clusters: pd.DataFrame
    cluster_pass: GroupFinding
    quasi_pass: GroupFinding
    candidates: pd.DataFrame = field(repr=False)


# --------------------------------------------------------------------------- geometry


def km_to_radians(km: float) -> float:
    """A great-circle distance in km as an angle in radians on the contract's sphere."""
    return km / EARTH_RADIUS_KM


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors of points given in degrees."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def _vectors_to_latlon(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of the directions of (n, 3) vectors."""
    x, y, z = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon


def _angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle (radians) between rows of u and v (any lengths), accurate at small angles."""
    cross = np.linalg.norm(np.cross(u, v), axis=1)
    dot = np.einsum("ij,ij->i", u, v)
    return np.arctan2(cross, dot)


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine distance in km between points given in degrees (contract section 4.2)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


# --------------------------------------------------------------------------- DBSCAN


def sort_institutions(institutions: pd.DataFrame) -> pd.DataFrame:
    """Institutions in ``institution_id`` order (contract section 4.1), fresh index."""
    return institutions.sort_values("institution_id", kind="stable").reset_index(drop=True)


def _radius_graph(points_rad: np.ndarray, radius: float, chunk_pairs: int = 20_000_000) -> sparse.csr_matrix:
    """Sparse (n, n) graph with a 1 wherever two points are within ``radius`` (haversine).

    Built in chunks of query points so that only one chunk of neighbour lists is held in
    Python objects at a time.
    """
    n = len(points_rad)
    tree = BallTree(points_rad, metric="haversine")
    counts = tree.query_radius(points_rad, r=radius, count_only=True)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    start = 0
    while start < n:
        # as many query points as fit in the pair budget (at least one)
        stop = int(np.searchsorted(indptr, indptr[start] + chunk_pairs, side="right")) - 1
        stop = max(stop, start + 1)
        stop = min(stop, n)
        neighbours = tree.query_radius(points_rad[start:stop], r=radius)
        if len(neighbours):
            indices[indptr[start] : indptr[stop]] = np.concatenate(neighbours)
        start = stop
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, n))


def dbscan_groups(
    institutions: pd.DataFrame, eps_km: float = 20.0, min_samples: int = 10
) -> pd.Series:
    """DBSCAN labels per institution (contract section 4, steps 1-2).

    Haversine metric on (lat, lon) in radians, ``eps_km`` on a sphere of radius
    :data:`EARTH_RADIUS_KM`, ``min_samples`` counting the point itself, institutions in
    ``institution_id`` order. Returns an ``int64`` Series indexed by ``institution_id``
    (sorted), ``-1`` for noise; groups are numbered in the order scikit-learn finds them.

    Identical to ``DBSCAN(eps=eps_km / EARTH_RADIUS_KM, min_samples=min_samples,
    metric="haversine").fit_predict(radians)`` on the sorted institutions, but computed on
    distinct coordinates with ``sample_weight`` (see the module docstring).
    """
    inst = sort_institutions(institutions)
    ids = pd.Index(inst["institution_id"], name="institution_id")
    if len(inst) == 0:
        return pd.Series(np.zeros(0, dtype=np.int64), index=ids, name="label")
    coords = np.radians(inst[["lat", "lon"]].to_numpy(dtype=float))
    # distinct coordinates in order of first appearance
    codes, distinct = pd.factorize(pd.MultiIndex.from_arrays([coords[:, 0], coords[:, 1]]), sort=False)
    points = np.column_stack([distinct.get_level_values(0), distinct.get_level_values(1)]).astype(float)
    weights = np.bincount(codes, minlength=len(points)).astype(float)
    graph = _radius_graph(points, km_to_radians(eps_km))
    # the graph holds 1.0 for every neighbour pair; eps=1.0 keeps all of them
    model = DBSCAN(eps=1.0, min_samples=min_samples, metric="precomputed")
    labels = model.fit_predict(graph, sample_weight=weights)
    return pd.Series(labels[codes].astype(np.int64), index=ids, name="label")


# --------------------------------------------------------------------------- merging


def group_centroids(institutions: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Centroid of each group: the direction of the mean of its members' unit vectors.

    Returns a frame indexed by label (noise excluded) with ``lat``, ``lon`` (degrees),
    ``institutions`` and the vector sums ``x``, ``y``, ``z``.
    """
    lab = labels[labels != NOISE]
    inst = institutions.set_index("institution_id").loc[lab.index]
    vec = unit_vectors(inst["lat"].to_numpy(), inst["lon"].to_numpy())
    frame = pd.DataFrame(vec, columns=["x", "y", "z"])
    frame["label"] = lab.to_numpy()
    sums = frame.groupby("label", sort=True)[["x", "y", "z"]].sum()
    sums["institutions"] = frame.groupby("label", sort=True).size()
    lat, lon = _vectors_to_latlon(sums[["x", "y", "z"]].to_numpy())
    sums["lat"] = lat
    sums["lon"] = lon
    return sums[["lat", "lon", "institutions", "x", "y", "z"]]


def collaboration_links(collaborations: pd.DataFrame, labels: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Internal collaborations per group and joining collaborations per pair of groups.

    Returns ``(internal, links)``: ``internal`` indexed by label (collaborations with both
    partners in the group); ``links`` with columns ``a < b`` and ``links`` (collaborations
    joining a member of ``a`` with a member of ``b``). Vectorised.
    """
    la = labels.reindex(collaborations["institution_a"]).to_numpy()
    lb = labels.reindex(collaborations["institution_b"]).to_numpy()
    la = np.where(np.isnan(la.astype(float)), NOISE, la).astype(np.int64)
    lb = np.where(np.isnan(lb.astype(float)), NOISE, lb).astype(np.int64)
    both = (la != NOISE) & (lb != NOISE)
    la, lb = la[both], lb[both]
    same = la == lb
    internal = pd.Series(la[same]).value_counts().sort_index()
    lo, hi = np.minimum(la[~same], lb[~same]), np.maximum(la[~same], lb[~same])
    links = (
        pd.DataFrame({"a": lo, "b": hi}).groupby(["a", "b"], sort=True).size().rename("links").reset_index()
    )
    return internal, links


def merge_groups(
    institutions: pd.DataFrame,
    labels: pd.Series,
    collaborations: pd.DataFrame,
    merge_km: float = 20.0,
    min_links: int = 5,
    min_share: float = 0.2,
) -> pd.Series:
    """Merge DBSCAN groups joined by collaborations (contract section 4, step 3).

    Two groups qualify when (i) their centroids (mean of members' unit vectors) are within
    ``merge_km`` (inclusive), (ii) at least ``min_links`` collaborations join members of the
    two, and (iii) those joining collaborations are at least ``min_share`` of the internal
    collaborations of either group. The qualifying pair with the closest centroids is merged
    first (ties: smaller labels first), figures are recomputed, and this repeats until no pair
    qualifies. Returns labels indexed like ``labels``; merged groups take the smaller label and
    the result is renumbered 0, 1, ... in order of the smallest original label.
    """
    labels = labels.astype(np.int64)
    if (labels != NOISE).sum() == 0:
        return labels.copy()
    cent = group_centroids(institutions, labels)
    n_groups = int(cent.index.max()) + 1
    vec = np.zeros((n_groups, 3))
    vec[cent.index.to_numpy()] = cent[["x", "y", "z"]].to_numpy()
    internal_s, links_df = collaboration_links(collaborations, labels)
    internal = np.zeros(n_groups, dtype=np.int64)
    internal[internal_s.index.to_numpy(dtype=np.int64)] = internal_s.to_numpy()
    a = links_df["a"].to_numpy(dtype=np.int64)
    b = links_df["b"].to_numpy(dtype=np.int64)
    n = links_df["links"].to_numpy(dtype=np.int64)
    parent = np.arange(n_groups)
    max_angle = km_to_radians(merge_km)
    while len(a):
        cand = np.flatnonzero(n >= min_links)
        if len(cand) == 0:
            break
        ca, cb, cn = a[cand], b[cand], n[cand]
        angle = _angle_between(vec[ca], vec[cb])
        with np.errstate(divide="ignore", invalid="ignore"):
            share_a = np.where(internal[ca] > 0, cn / np.maximum(internal[ca], 1), np.inf)
            share_b = np.where(internal[cb] > 0, cn / np.maximum(internal[cb], 1), np.inf)
        ok = (angle <= max_angle) & ((share_a >= min_share) | (share_b >= min_share))
        if not ok.any():
            break
        ok_idx = np.flatnonzero(ok)
        # closest centroids first; ties by (a, b)
        best = ok_idx[np.lexsort((cb[ok_idx], ca[ok_idx], angle[ok_idx]))[0]]
        keep, drop = int(ca[best]), int(cb[best])
        internal[keep] += internal[drop] + int(cn[best])
        internal[drop] = 0
        vec[keep] += vec[drop]
        vec[drop] = 0.0
        parent[parent == drop] = keep
        # relabel the pair table and re-aggregate
        a = np.where(a == drop, keep, a)
        b = np.where(b == drop, keep, b)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        not_self = lo != hi
        pairs = pd.DataFrame({"a": lo[not_self], "b": hi[not_self], "n": n[not_self]})
        pairs = pairs.groupby(["a", "b"], sort=True)["n"].sum().reset_index()
        a = pairs["a"].to_numpy(dtype=np.int64)
        b = pairs["b"].to_numpy(dtype=np.int64)
        n = pairs["n"].to_numpy(dtype=np.int64)
    raw = labels.to_numpy()
    merged = np.where(raw == NOISE, NOISE, parent[np.where(raw == NOISE, 0, raw)])
    # renumber in order of smallest original label (= parent id, which is the smallest)
    survivors = np.unique(merged[merged != NOISE])
    renumber = np.full(n_groups, NOISE, dtype=np.int64)
    renumber[survivors] = np.arange(len(survivors))
    out = np.where(merged == NOISE, NOISE, renumber[np.where(merged == NOISE, 0, merged)])
    return pd.Series(out.astype(np.int64), index=labels.index, name="label")


# --------------------------------------------------------------------------- naming


def nearest_areas(institutions: pd.DataFrame, areas: pd.DataFrame, naming_km: float = 50.0) -> pd.Series:
    """Each institution's vote: the ``area_id`` of its nearest area centre within
    ``naming_km`` (inclusive), or missing (contract section 4, step 4).

    Equal distances go to the smaller ``area_id``. Indexed by ``institution_id``.
    """
    ids = pd.Index(institutions["institution_id"], name="institution_id")
    out = pd.Series(pd.NA, index=ids, dtype="string", name="area_id")
    if len(areas) == 0 or len(institutions) == 0:
        return out
    ar = areas.sort_values("area_id", kind="stable").reset_index(drop=True)
    tree = BallTree(np.radians(ar[["lat", "lon"]].to_numpy(dtype=float)), metric="haversine")
    pts = np.radians(institutions[["lat", "lon"]].to_numpy(dtype=float))
    k = min(2, len(ar))
    dist, idx = tree.query(pts, k=k)
    choice = idx[:, 0]
    if k == 2:
        tie = dist[:, 1] == dist[:, 0]
        choice = np.where(tie, np.minimum(idx[:, 0], idx[:, 1]), choice)
    within = dist[:, 0] <= km_to_radians(naming_km)
    area_ids = ar["area_id"].to_numpy(dtype=object)[choice]
    out[:] = np.where(within, area_ids, None)
    return out


def unnamed_label(lat: float, lon: float) -> str:
    """Name of a group no member votes for: ``Unnamed (lat, lon)``, centroid to 2 decimals."""
    return f"Unnamed ({lat:.2f}, {lon:.2f})"


def name_groups(
    institutions: pd.DataFrame, labels: pd.Series, areas: pd.DataFrame, naming_km: float = 50.0
) -> pd.DataFrame:
    """The area each group is named after (contract section 4, step 4).

    Every member votes for its nearest area centre within ``naming_km``; the group takes
    the area with most votes (ties: the area centre nearer the group centroid, then the
    smaller ``area_id``). A group without votes is ``Unnamed (lat, lon)`` with no area.
    Returns a frame indexed by label: ``area_id`` (missing when unnamed), ``area`` (the
    base name, before `` (2)`` suffixes), ``lat``, ``lon`` (centroid), ``institutions``.
    """
    cent = group_centroids(institutions, labels)
    groups = cent[["lat", "lon", "institutions"]].copy()
    groups.insert(0, "area_id", pd.Series(pd.NA, index=groups.index, dtype="string"))
    groups.insert(1, "area", pd.Series("", index=groups.index, dtype="string"))
    if len(groups) == 0:
        return groups
    members = labels[labels != NOISE]
    inst = institutions.set_index("institution_id").loc[members.index].reset_index()
    votes = nearest_areas(inst, areas, naming_km)
    tally = (
        pd.DataFrame({"label": members.to_numpy(), "area_id": votes.to_numpy()})
        .dropna(subset=["area_id"])
        .groupby(["label", "area_id"], sort=True)
        .size()
        .rename("votes")
        .reset_index()
    )
    if len(tally):
        ar = areas.set_index("area_id")
        tally["distance_km"] = great_circle_km(
            groups.loc[tally["label"], "lat"].to_numpy(),
            groups.loc[tally["label"], "lon"].to_numpy(),
            ar.loc[tally["area_id"], "lat"].to_numpy(dtype=float),
            ar.loc[tally["area_id"], "lon"].to_numpy(dtype=float),
        )
        tally = tally.sort_values(
            ["label", "votes", "distance_km", "area_id"], ascending=[True, False, True, True], kind="stable"
        )
        winner = tally.drop_duplicates("label", keep="first").set_index("label")
        groups.loc[winner.index, "area_id"] = winner["area_id"].astype("string")
        groups.loc[winner.index, "area"] = ar.loc[winner["area_id"], "name"].astype("string").to_numpy()
    unnamed = groups["area_id"].isna()
    if unnamed.any():
        groups.loc[unnamed, "area"] = [
            unnamed_label(la, lo) for la, lo in zip(groups.loc[unnamed, "lat"], groups.loc[unnamed, "lon"])
        ]
    return groups


def unique_names(base: pd.Series, size: pd.Series, tiebreak: pd.Series, taken: frozenset[str] = frozenset()) -> pd.Series:
    """Final names (contract section 4, step 7): groups sharing a base name keep it, told
    apart by `` (2)``, `` (3)`` ... in order of decreasing ``size`` (ties: ascending
    ``tiebreak``). Names in ``taken`` (already used by clusters, when naming quasi-clusters)
    are skipped, so the numbering continues after them.
    """
    frame = pd.DataFrame({"base": base, "size": size, "tiebreak": tiebreak})
    order = frame.sort_values(["base", "size", "tiebreak"], ascending=[True, False, True], kind="stable")
    names: dict[object, str] = {}
    used = set(taken)
    for base_name, group in order.groupby("base", sort=False):
        k = 1
        for key in group.index:
            candidate = str(base_name) if k == 1 else f"{base_name} ({k})"
            while candidate in used:
                k += 1
                candidate = f"{base_name} ({k})"
            names[key] = candidate
            used.add(candidate)
            k += 1
    return pd.Series([names[k] for k in frame.index], index=frame.index, dtype="string", name="name")


# --------------------------------------------------------------------------- thresholds


def startup_disclosed_funding(institutions: pd.DataFrame, funding: pd.DataFrame) -> pd.Series:
    """Disclosed funding (``vc``, ``equity``, ``debt``) per startup, indexed by id (0 if none)."""
    startups = institutions.loc[institutions["type"] == "startup", "institution_id"]
    disclosed = funding[funding["kind"].isin(_DISCLOSED)]
    sums = disclosed.groupby("institution_id", sort=True)["amount_usd"].sum()
    return sums.reindex(pd.Index(startups, name="institution_id"), fill_value=0.0).astype(float)


def group_funding_summary(
    institutions: pd.DataFrame, funding: pd.DataFrame, labels: pd.Series
) -> pd.DataFrame:
    """Per group: ``funded_startups`` (startups with disclosed funding > 0),
    ``combined_usd`` (their total) and ``largest_usd`` (the best-funded startup)."""
    per_startup = startup_disclosed_funding(institutions, funding)
    per_startup = per_startup[per_startup > 0]
    lab = labels.reindex(per_startup.index)
    frame = pd.DataFrame({"label": lab.to_numpy(), "usd": per_startup.to_numpy()})
    frame = frame[frame["label"].notna() & (frame["label"] != NOISE)]
    grouped = frame.groupby("label", sort=True)["usd"]
    out = pd.DataFrame(
        {"funded_startups": grouped.size(), "combined_usd": grouped.sum(), "largest_usd": grouped.max()}
    )
    all_labels = pd.Index(np.unique(labels[labels != NOISE].to_numpy()), name="label")
    out = out.reindex(all_labels)
    out["funded_startups"] = out["funded_startups"].fillna(0).astype(np.int64)
    return out.fillna({"combined_usd": 0.0, "largest_usd": 0.0})


def cluster_qualifies(
    institutions_n: pd.Series | np.ndarray,
    funded_startups: pd.Series | np.ndarray,
    combined_usd: pd.Series | np.ndarray,
    largest_usd: pd.Series | np.ndarray,
    params: Params = Params(),
) -> np.ndarray:
    """Contract section 4, step 5: at least ``min_institutions`` members and either two
    funded startups with combined disclosed funding >= USD 10 M or one >= USD 25 M."""
    size_ok = np.asarray(institutions_n) >= params.min_institutions
    pair_ok = (np.asarray(funded_startups) >= params.cluster_min_funded_startups) & (
        np.asarray(combined_usd, dtype=float) >= params.cluster_min_combined_usd
    )
    single_ok = np.asarray(largest_usd, dtype=float) >= params.cluster_min_single_usd
    return size_ok & (pair_ok | single_ok)


def quasi_cluster_qualifies(
    institutions_n: pd.Series | np.ndarray, collaborations_n: pd.Series | np.ndarray, params: Params = Params()
) -> np.ndarray:
    """Contract section 4, step 6: at least 5 institutions and at least 50 collaborations."""
    return (np.asarray(institutions_n) >= params.quasi_min_institutions) & (
        np.asarray(collaborations_n) >= params.quasi_min_collaborations
    )


def _collaborations_touching(collaborations: pd.DataFrame, labels: pd.Series) -> pd.Series:
    """Per group, collaborations with at least one partner in it (each counted once)."""
    la = labels.reindex(collaborations["institution_a"]).to_numpy(dtype=float)
    lb = labels.reindex(collaborations["institution_b"]).to_numpy(dtype=float)
    idx = np.arange(len(collaborations))
    long = pd.DataFrame({"c": np.concatenate([idx, idx]), "label": np.concatenate([la, lb])})
    long = long[long["label"].notna() & (long["label"] != NOISE)].drop_duplicates()
    counts = long.groupby("label", sort=True).size()
    counts.index = counts.index.astype(np.int64)
    return counts


# --------------------------------------------------------------------------- passes


def find_groups(
    institutions: pd.DataFrame,
    collaborations: pd.DataFrame,
    areas: pd.DataFrame,
    min_samples: int,
    params: Params = Params(),
) -> GroupFinding:
    """Steps 2-4 of contract section 4 over ``institutions``: DBSCAN, merge, name."""
    inst = sort_institutions(institutions)
    raw = dbscan_groups(inst, params.eps_km, min_samples)
    merged = merge_groups(inst, raw, collaborations, params.merge_km, params.merge_min_links, params.merge_min_share)
    groups = name_groups(inst, merged, areas, params.naming_km)
    return GroupFinding(dbscan=raw, merged=merged, groups=groups)


def _area_columns(groups: pd.DataFrame, areas: pd.DataFrame, members: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """country, region, population, gdp_usd per group (from its area; an unnamed group takes
    its members' most common country, ties alphabetical, and has no population or GDP)."""
    ar = areas.set_index("area_id")
    out = pd.DataFrame(index=groups.index)
    named = groups["area_id"].notna()
    country = pd.Series("", index=groups.index, dtype="string")
    population = pd.Series(np.nan, index=groups.index, dtype=float)
    gdp = pd.Series(np.nan, index=groups.index, dtype=float)
    if named.any():
        ids = groups.loc[named, "area_id"].astype(str)
        country[named] = ar.loc[ids, "country"].astype("string").to_numpy()
        population[named] = ar.loc[ids, "population"].to_numpy(dtype=float)
        gdp[named] = ar.loc[ids, "gdp_usd"].to_numpy(dtype=float)
    if (~named).any():
        lab = labels[labels != NOISE]
        mem = members.set_index("institution_id").loc[lab.index, ["country"]].copy()
        mem["label"] = lab.to_numpy()
        tally = mem.groupby(["label", "country"], sort=True).size().rename("n").reset_index()
        tally = tally.sort_values(["label", "n", "country"], ascending=[True, False, True], kind="stable")
        top = tally.drop_duplicates("label").set_index("label")["country"]
        unnamed_idx = groups.index[~named]
        country[unnamed_idx] = top.reindex(unnamed_idx).astype("string").to_numpy()
    out["country"] = country
    out["region"] = pd.Series([region_of(c) if c else "" for c in country], index=groups.index, dtype="string")
    out["population"] = population
    out["gdp_usd"] = gdp
    return out


def detect(db: Database, params: Params = Params()) -> Detection:
    """Clusters and quasi-clusters of the counted database ``db`` (contract section 4).

    ``db`` must already be cut off (:func:`quantumclusters.schema.apply_cutoff`).

    Pass 1: DBSCAN (``min_samples``), merge, name; a group is a cluster when it meets
    :func:`cluster_qualifies`. Pass 2: the same steps with ``quasi_min_samples`` over the
    counted institutions in no cluster; a group is a quasi-cluster when it meets
    :func:`quasi_cluster_qualifies`; Tier 1 when one of its startups' disclosed funding
    exceeds USD 5 M. Names get `` (2)`` suffixes by decreasing size, clusters first, then
    quasi-clusters (numbering continues after the clusters' names, so every name is unique).
    """
    funding, collaborations, areas = db.funding, db.collaborations, db.areas
    inst = sort_institutions(db.institutions)
    types = inst.set_index("institution_id")["type"]

    # pass 1: clusters
    p1 = find_groups(inst, collaborations, areas, params.min_samples, params)
    fund1 = group_funding_summary(inst, funding, p1.merged)
    g1 = p1.groups.join(fund1)
    g1["is_cluster"] = cluster_qualifies(
        g1["institutions"], g1["funded_startups"], g1["combined_usd"], g1["largest_usd"], params
    )
    cluster_labels = g1.index[g1["is_cluster"]]
    in_cluster = p1.merged.isin(cluster_labels) & (p1.merged != NOISE)

    # pass 2: quasi-clusters among the rest
    rest = inst[~inst["institution_id"].isin(in_cluster.index[in_cluster.to_numpy()])]
    p2 = find_groups(rest, collaborations, areas, params.quasi_min_samples, params)
    g2 = p2.groups.copy()
    g2["collaborations"] = _collaborations_touching(collaborations, p2.merged).reindex(g2.index, fill_value=0)
    g2["collaborations"] = g2["collaborations"].astype(np.int64)
    per_startup = startup_disclosed_funding(inst, funding)
    lab2 = p2.merged.reindex(per_startup.index)
    top_funding = (
        pd.DataFrame({"label": lab2.to_numpy(), "usd": per_startup.to_numpy()})
        .dropna(subset=["label"])
        .groupby("label")["usd"]
        .max()
    )
    top_funding.index = top_funding.index.astype(np.int64)
    g2["largest_usd"] = top_funding.reindex(g2.index, fill_value=0.0).astype(float)
    g2["is_quasi_cluster"] = quasi_cluster_qualifies(g2["institutions"], g2["collaborations"], params)
    g2["tier"] = np.where(g2["largest_usd"] > params.tier1_exceeding_usd, 1, 2).astype(np.int64)

    # names: clusters first, then quasi-clusters
    first_member = lambda labels: (  # noqa: E731 - smallest member id per group, the size tie-break
        labels[labels != NOISE].reset_index().groupby("label")["institution_id"].min()
    )
    cl = g1[g1["is_cluster"]].copy()
    cl["name"] = unique_names(cl["area"], cl["institutions"], first_member(p1.merged).reindex(cl.index))
    qc = g2[g2["is_quasi_cluster"]].copy()
    qc["name"] = unique_names(
        qc["area"], qc["institutions"], first_member(p2.merged).reindex(qc.index), frozenset(cl["name"])
    )

    # assignments
    status = pd.Series("none", index=inst["institution_id"], dtype="string")
    group = pd.Series("", index=inst["institution_id"], dtype="string")
    lab1 = p1.merged.reindex(status.index)
    is_cl = lab1.isin(cl.index) & (lab1 != NOISE)
    status[is_cl.to_numpy()] = "cluster"
    group[is_cl.to_numpy()] = cl["name"].reindex(lab1[is_cl]).to_numpy()
    lab2_all = p2.merged.reindex(status.index)
    is_qc = lab2_all.isin(qc.index) & (lab2_all != NOISE) & lab2_all.notna()
    status[is_qc.to_numpy()] = "quasi_cluster"
    group[is_qc.to_numpy()] = qc["name"].reindex(lab2_all[is_qc].astype(np.int64)).to_numpy()
    assignments = pd.DataFrame(
        {"institution_id": status.index.astype("string"), "status": status.to_numpy(), "group": group.to_numpy()}
    ).reset_index(drop=True)

    # clusters table
    cl = cl.join(_area_columns(cl, areas, inst, p1.merged))
    members1 = pd.DataFrame({"label": p1.merged.to_numpy(), "type": types.reindex(p1.merged.index).to_numpy()})
    members1 = members1[members1["label"].isin(cl.index)]
    cl["startups"] = members1[members1["type"] == "startup"].groupby("label").size().reindex(cl.index, fill_value=0)
    cl["research_institutions"] = (
        members1[members1["type"].isin(_RESEARCH)].groupby("label").size().reindex(cl.index, fill_value=0)
    )
    clusters = pd.DataFrame(
        {
            "cluster": cl["name"].astype("string"),
            "area_id": cl["area_id"].astype("string"),
            "country": cl["country"],
            "region": cl["region"],
            "lat": cl["lat"].astype(float),
            "lon": cl["lon"].astype(float),
            "institutions": cl["institutions"].astype(np.int64),
            "startups": cl["startups"].astype(np.int64),
            "research_institutions": cl["research_institutions"].astype(np.int64),
            "population": cl["population"],
            "gdp_usd": cl["gdp_usd"],
        }
    )
    clusters = clusters.sort_values("cluster", kind="stable").reset_index(drop=True)

    qc = qc.join(_area_columns(qc, areas, inst, p2.merged))
    quasi = pd.DataFrame(
        {
            "quasi_cluster": qc["name"].astype("string"),
            "area_id": qc["area_id"].astype("string"),
            "country": qc["country"],
            "region": qc["region"],
            "tier": qc["tier"].astype(np.int64),
            "institutions": qc["institutions"].astype(np.int64),
            "collaborations": qc["collaborations"].astype(np.int64),
        }
    )
    quasi = quasi.sort_values("quasi_cluster", kind="stable").reset_index(drop=True)

    cand1 = g1.assign(pass_="cluster", qualifies=g1["is_cluster"]).drop(columns=["is_cluster"])
    cand2 = g2.assign(pass_="quasi_cluster", qualifies=g2["is_quasi_cluster"]).drop(columns=["is_quasi_cluster"])
    candidates = pd.concat([cand1, cand2], keys=["cluster", "quasi_cluster"], names=["pass", "label"]).drop(
        columns=["pass_"]
    )
    return Detection(
        assignments=assignments,
        clusters=clusters,
        quasi_clusters=quasi,
        cluster_pass=p1,
        quasi_pass=p2,
        candidates=candidates,
    )
