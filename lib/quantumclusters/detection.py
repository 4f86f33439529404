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

A run hashes the string identifiers once (:func:`encode`: institutions sorted, partners and
funded institutions as integer positions); every later step counts with ``numpy``.
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
from .schema import DISCLOSED_FUNDING_KINDS, RESEARCH_TYPES

if TYPE_CHECKING:
    from .schema import Database

__all__ = [
    "EARTH_RADIUS_KM",
    "NOISE",
    "Params",
    "Detection",
    "GroupFinding",
    "Encoded",
    "encode",
    "positions",
    "dbscan_labels",
    "merge_labels",
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


# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class Encoded:
    """A counted database with identifiers replaced by positions, computed once per run.

    ``institutions`` is sorted by ``institution_id`` (contract section 4.1) with a fresh
    index; ``coll_a``, ``coll_b`` and ``fund_pos`` are the positions in it of the
    collaboration partners and of the funded institutions (``-1`` when not counted).
    Hashing a few million string identifiers is the costliest step of a large run, so
    :func:`detect`, :func:`quantumclusters.indicators.compute_indicators` and the network
    share this encoding instead of looking identifiers up again.
    """

    institutions: pd.DataFrame
    coll_a: np.ndarray
    coll_b: np.ndarray
    fund_pos: np.ndarray

    @property
    def ids(self) -> pd.Index:
        """The sorted institution ids (an ``Index`` named ``institution_id``)."""
        return pd.Index(self.institutions["institution_id"], name="institution_id")


def sort_institutions(institutions: pd.DataFrame) -> pd.DataFrame:
    """Institutions in ``institution_id`` order (contract section 4.1), fresh index.

    Identifiers are compared as Python strings (code point order)."""
    ids = institutions["institution_id"]
    if ids.is_monotonic_increasing:
        return institutions.reset_index(drop=True)
    order = np.argsort(ids.to_numpy(dtype=object), kind="stable")
    return institutions.iloc[order].reset_index(drop=True)


def _id_index(ids: pd.Series | pd.Index) -> pd.Index:
    """An object ``Index`` of identifiers (its hash table is built once, on first lookup)."""
    return pd.Index(np.asarray(ids, dtype=object), dtype=object)


def positions(ids: pd.Series | pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each of ``values`` in ``ids`` (``-1`` when absent), as int64."""
    index = ids if isinstance(ids, pd.Index) and ids.dtype == object else _id_index(ids)
    return index.get_indexer(np.asarray(values, dtype=object)).astype(np.int64)


def encode(db: Database) -> Encoded:
    """The :class:`Encoded` form of a (counted) database."""
    inst = sort_institutions(db.institutions)
    index = _id_index(inst["institution_id"])  # one hash table for the three look-ups
    return Encoded(
        institutions=inst,
        coll_a=positions(index, db.collaborations["institution_a"]),
        coll_b=positions(index, db.collaborations["institution_b"]),
        fund_pos=positions(index, db.funding["institution_id"]),
    )


def _lookup(labels: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``labels[pos]`` with position ``-1`` (not counted) giving :data:`NOISE`."""
    return np.append(labels, NOISE)[pos]


# --------------------------------------------------------------------------- DBSCAN


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
        stop = min(max(stop, start + 1), n)
        neighbours = tree.query_radius(points_rad[start:stop], r=radius)
        if len(neighbours):
            indices[indptr[start] : indptr[stop]] = np.concatenate(neighbours)
        start = stop
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, n))


def _distinct_points(lat_deg: np.ndarray, lon_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (lat, lon) pairs in order of first appearance: (codes per point, (k, 2)
    distinct coordinates in degrees). Pairs are hashed as complex numbers lat + i*lon."""
    pair = np.empty(len(lat_deg), dtype=np.complex128)
    pair.real = np.asarray(lat_deg, dtype=float)
    pair.imag = np.asarray(lon_deg, dtype=float)
    codes, distinct = pd.factorize(pair, sort=False)
    points = np.column_stack([distinct.real, distinct.imag]).astype(float)
    return codes.astype(np.int64), points


def dbscan_labels(lat_deg: np.ndarray, lon_deg: np.ndarray, eps_km: float = 20.0, min_samples: int = 10) -> np.ndarray:
    """DBSCAN labels of points given in ``institution_id`` order (contract section 4.2).

    Runs scikit-learn's DBSCAN on the distinct coordinates (radians) with the number of
    points at each as ``sample_weight``, over a haversine radius graph; identical to plain
    ``DBSCAN(metric="haversine")`` on all points (module docstring)."""
    if len(lat_deg) == 0:
        return np.zeros(0, dtype=np.int64)
    codes, points = _distinct_points(lat_deg, lon_deg)
    weights = np.bincount(codes, minlength=len(points)).astype(float)
    graph = _radius_graph(np.radians(points), km_to_radians(eps_km))
    # the graph holds 1.0 for every neighbour pair; eps=1.0 keeps all of them
    model = DBSCAN(eps=1.0, min_samples=min_samples, metric="precomputed")
    labels = model.fit_predict(graph, sample_weight=weights)
    return labels[codes].astype(np.int64)


def dbscan_groups(institutions: pd.DataFrame, eps_km: float = 20.0, min_samples: int = 10) -> pd.Series:
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
    labels = dbscan_labels(inst["lat"].to_numpy(float), inst["lon"].to_numpy(float), eps_km, min_samples)
    return pd.Series(labels, index=pd.Index(inst["institution_id"], name="institution_id"), name="label")


# --------------------------------------------------------------------------- merging


def _n_groups(labels: np.ndarray) -> int:
    return int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0


def _group_sums(labels: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(k, 3) sums of members' unit vectors and (k,) member counts per label."""
    member = labels >= 0
    lab = labels[member]
    sums = np.column_stack([np.bincount(lab, weights=vectors[member, j], minlength=k) for j in range(3)])
    return sums, np.bincount(lab, minlength=k)


def _centroid_table(labels: np.ndarray, vectors: np.ndarray) -> pd.DataFrame:
    k = _n_groups(labels)
    sums, counts = _group_sums(labels, vectors, k)
    lat, lon = _vectors_to_latlon(sums) if k else (np.zeros(0), np.zeros(0))
    frame = pd.DataFrame(
        {"lat": lat, "lon": lon, "institutions": counts.astype(np.int64), "x": sums[:, 0], "y": sums[:, 1], "z": sums[:, 2]},
        index=pd.Index(np.arange(k, dtype=np.int64), name="label"),
    )
    return frame[frame["institutions"] > 0]


def _aligned_labels(institutions: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """Sorted institutions and their labels as an array (``NOISE`` where unlabelled)."""
    inst = sort_institutions(institutions)
    pos = positions(labels.index, inst["institution_id"])
    lab = np.append(labels.to_numpy(dtype=np.int64), NOISE)[pos]
    return inst, lab


def group_centroids(institutions: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Centroid of each group: the direction of the mean of its members' unit vectors.

    Returns a frame indexed by label (noise excluded) with ``lat``, ``lon`` (degrees),
    ``institutions`` and the vector sums ``x``, ``y``, ``z``.
    """
    inst, lab = _aligned_labels(institutions, labels)
    return _centroid_table(lab, unit_vectors(inst["lat"].to_numpy(float), inst["lon"].to_numpy(float)))


def _links(labels: np.ndarray, coll_a: np.ndarray, coll_b: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(internal (k,), a, b, n): internal collaborations per group and the joining
    collaborations per pair of groups a < b."""
    la, lb = _lookup(labels, coll_a), _lookup(labels, coll_b)
    both = (la >= 0) & (lb >= 0)
    la, lb = la[both], lb[both]
    same = la == lb
    internal = np.bincount(la[same], minlength=k).astype(np.int64)
    lo, hi = np.minimum(la[~same], lb[~same]), np.maximum(la[~same], lb[~same])
    keys, n = np.unique(lo * max(k, 1) + hi, return_counts=True)
    return internal, keys // max(k, 1), keys % max(k, 1), n.astype(np.int64)


def collaboration_links(collaborations: pd.DataFrame, labels: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Internal collaborations per group and joining collaborations per pair of groups.

    Returns ``(internal, links)``: ``internal`` indexed by label (collaborations with both
    partners in the group); ``links`` with columns ``a < b`` and ``links`` (collaborations
    joining a member of ``a`` with a member of ``b``). Vectorised.
    """
    lab = labels.to_numpy(dtype=np.int64)
    k = _n_groups(lab)
    internal, a, b, n = _links(
        lab, positions(labels.index, collaborations["institution_a"]), positions(labels.index, collaborations["institution_b"]), k
    )
    internal_s = pd.Series(internal, index=pd.Index(np.arange(k), name="label"))
    return internal_s[internal_s > 0], pd.DataFrame({"a": a, "b": b, "links": n})


def merge_labels(
    labels: np.ndarray,
    vectors: np.ndarray,
    coll_a: np.ndarray,
    coll_b: np.ndarray,
    merge_km: float = 20.0,
    min_links: int = 5,
    min_share: float = 0.2,
) -> np.ndarray:
    """Positional core of :func:`merge_groups` (labels and unit vectors in the same order,
    collaboration partners as positions)."""
    labels = np.asarray(labels, dtype=np.int64)
    k = _n_groups(labels)
    if k == 0:
        return labels.copy()
    vec, _ = _group_sums(labels, vectors, k)
    internal, a, b, n = _links(labels, coll_a, coll_b, k)
    parent = np.arange(k)
    max_angle = km_to_radians(merge_km)
    while len(a):
        cand = np.flatnonzero(n >= min_links)
        if len(cand) == 0:
            break
        ca, cb, cn = a[cand], b[cand], n[cand]
        angle = _angle_between(vec[ca], vec[cb])
        with np.errstate(divide="ignore", invalid="ignore"):
            # "at least 20% of the internal collaborations of either group"; a group without
            # internal collaborations is always met (any joining share is >= 20% of 0)
            share_a = np.where(internal[ca] > 0, cn / np.maximum(internal[ca], 1), np.inf)
            share_b = np.where(internal[cb] > 0, cn / np.maximum(internal[cb], 1), np.inf)
        ok = np.flatnonzero((angle <= max_angle) & ((share_a >= min_share) | (share_b >= min_share)))
        if len(ok) == 0:
            break
        # closest centroids first; ties by (a, b)
        best = ok[np.lexsort((cb[ok], ca[ok], angle[ok]))[0]]
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
        keys, inverse = np.unique(lo[not_self] * k + hi[not_self], return_inverse=True)
        n = np.bincount(inverse, weights=n[not_self], minlength=len(keys)).astype(np.int64)
        a, b = keys // k, keys % k
    merged = np.where(labels == NOISE, NOISE, parent[np.maximum(labels, 0)])
    # renumber 0, 1, ... in order of the smallest original label (the surviving parent)
    survivors = np.unique(merged[merged != NOISE])
    renumber = np.full(k, NOISE, dtype=np.int64)
    renumber[survivors] = np.arange(len(survivors))
    return np.where(merged == NOISE, NOISE, renumber[np.maximum(merged, 0)]).astype(np.int64)


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
    collaborations of either group (a group without internal collaborations meets (iii):
    any number is at least 20% of 0). The qualifying pair with the closest centroids is
    merged first (ties: smaller labels first), figures are recomputed, and this repeats
    until no pair qualifies. Returns labels indexed like ``labels`` (sorted ids); merged groups take the
    smaller label and the result is renumbered 0, 1, ... in order of the smallest original
    label.
    """
    inst, lab = _aligned_labels(institutions, labels)
    ids = inst["institution_id"]
    merged = merge_labels(
        lab,
        unit_vectors(inst["lat"].to_numpy(float), inst["lon"].to_numpy(float)),
        positions(ids, collaborations["institution_a"]),
        positions(ids, collaborations["institution_b"]),
        merge_km,
        min_links,
        min_share,
    )
    out = pd.Series(merged, index=pd.Index(ids, name="institution_id"), name="label")
    return out.reindex(labels.index)


# --------------------------------------------------------------------------- naming


def _nearest_area_index(lat_deg: np.ndarray, lon_deg: np.ndarray, areas_sorted: pd.DataFrame, naming_km: float) -> np.ndarray:
    """Row in ``areas_sorted`` (sorted by area_id) of each point's nearest area centre
    within ``naming_km`` (inclusive), ``-1`` if none; equal distances: smaller area_id.
    Computed once per distinct coordinate."""
    if len(areas_sorted) == 0 or len(lat_deg) == 0:
        return np.full(len(lat_deg), -1, dtype=np.int64)
    codes, points = _distinct_points(lat_deg, lon_deg)
    tree = BallTree(np.radians(areas_sorted[["lat", "lon"]].to_numpy(dtype=float)), metric="haversine")
    k = min(2, len(areas_sorted))
    dist, idx = tree.query(np.radians(points), k=k)
    choice = idx[:, 0]
    if k == 2:
        choice = np.where(dist[:, 1] == dist[:, 0], np.minimum(idx[:, 0], idx[:, 1]), choice)
    choice = np.where(dist[:, 0] <= km_to_radians(naming_km), choice, -1)
    return choice[codes].astype(np.int64)


def _sorted_areas(areas: pd.DataFrame) -> pd.DataFrame:
    return areas.sort_values("area_id", kind="stable").reset_index(drop=True)


def nearest_areas(institutions: pd.DataFrame, areas: pd.DataFrame, naming_km: float = 50.0) -> pd.Series:
    """Each institution's vote: the ``area_id`` of its nearest area centre within
    ``naming_km`` (inclusive), or missing (contract section 4, step 4).

    Equal distances go to the smaller ``area_id``. Indexed by ``institution_id``.
    """
    ar = _sorted_areas(areas)
    idx = _nearest_area_index(institutions["lat"].to_numpy(float), institutions["lon"].to_numpy(float), ar, naming_km)
    ids = np.append(ar["area_id"].to_numpy(dtype=object), None)[idx]
    return pd.Series(ids, index=pd.Index(institutions["institution_id"], name="institution_id"), dtype="string", name="area_id")


def unnamed_label(lat: float, lon: float) -> str:
    """Name of a group no member votes for: ``Unnamed (lat, lon)``, centroid to 2 decimals."""
    return f"Unnamed ({lat:.2f}, {lon:.2f})"


def _name_table(
    labels: np.ndarray, lat: np.ndarray, lon: np.ndarray, vectors: np.ndarray, areas: pd.DataFrame, naming_km: float
) -> pd.DataFrame:
    """Positional core of :func:`name_groups`."""
    groups = _centroid_table(labels, vectors)[["lat", "lon", "institutions"]]
    groups.insert(0, "area_id", pd.Series(pd.NA, index=groups.index, dtype="string"))
    groups.insert(1, "area", pd.Series("", index=groups.index, dtype="string"))
    if len(groups) == 0:
        return groups
    ar = _sorted_areas(areas)
    member = labels >= 0
    vote = _nearest_area_index(lat[member], lon[member], ar, naming_km)
    voted = vote >= 0
    n_areas = max(len(ar), 1)
    keys, votes = np.unique(labels[member][voted] * n_areas + vote[voted], return_counts=True)
    if len(keys):
        tally = pd.DataFrame({"label": keys // n_areas, "area": keys % n_areas, "votes": votes})
        tally["distance_km"] = great_circle_km(
            groups.loc[tally["label"], "lat"].to_numpy(),
            groups.loc[tally["label"], "lon"].to_numpy(),
            ar["lat"].to_numpy(dtype=float)[tally["area"]],
            ar["lon"].to_numpy(dtype=float)[tally["area"]],
        )
        # most votes; ties: nearer area centre to the centroid, then smaller area_id
        tally = tally.sort_values(["label", "votes", "distance_km", "area"], ascending=[True, False, True, True], kind="stable")
        winner = tally.drop_duplicates("label", keep="first")
        groups.loc[winner["label"].to_numpy(), "area_id"] = ar["area_id"].to_numpy(dtype=object)[winner["area"]]
        groups.loc[winner["label"].to_numpy(), "area"] = ar["name"].to_numpy(dtype=object)[winner["area"]]
    unnamed = groups["area_id"].isna()
    if unnamed.any():
        groups.loc[unnamed, "area"] = [
            unnamed_label(la, lo) for la, lo in zip(groups.loc[unnamed, "lat"], groups.loc[unnamed, "lon"])
        ]
    return groups


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
    inst, lab = _aligned_labels(institutions, labels)
    lat, lon = inst["lat"].to_numpy(float), inst["lon"].to_numpy(float)
    return _name_table(lab, lat, lon, unit_vectors(lat, lon), areas, naming_km)


def unique_names(base: pd.Series, size: pd.Series, tiebreak: pd.Series, taken: frozenset[str] = frozenset()) -> pd.Series:
    """Final names (contract section 4, step 7): groups sharing a base name keep it, told
    apart by `` (2)``, `` (3)`` ... in order of decreasing ``size`` (ties: ascending
    ``tiebreak``). Names in ``taken`` (already used by clusters, when naming quasi-clusters)
    are skipped, so the numbering continues after them.
    """
    frame = pd.DataFrame({"base": base, "size": size, "tiebreak": tiebreak})
    order = frame.sort_values(["base", "size", "tiebreak"], ascending=[True, False, True], kind="stable")
    rank = order.groupby("base", sort=False).cumcount().to_numpy() + 1
    clash = order["base"].duplicated(keep=False).to_numpy() | order["base"].isin(taken).to_numpy()
    names = pd.Series(order["base"].to_numpy(dtype=object), index=order.index, dtype=object)
    if clash.any():
        # only groups whose base name is shared (or taken) need numbering: few of them
        used = set(taken)
        for key, base_name, r in zip(order.index[clash], order["base"].to_numpy(dtype=object)[clash], rank[clash]):
            k = int(r)
            candidate = str(base_name) if k == 1 else f"{base_name} ({k})"
            while candidate in used:
                k += 1
                candidate = f"{base_name} ({k})"
            names[key] = candidate
            used.add(candidate)
    return names.reindex(frame.index).astype("string").rename("name")


# --------------------------------------------------------------------------- thresholds


def _disclosed_per_institution(enc: Encoded, funding: pd.DataFrame) -> np.ndarray:
    """Disclosed funding (vc/equity/debt) per institution position (all types)."""
    disclosed = funding["kind"].isin(DISCLOSED_FUNDING_KINDS).to_numpy() & (enc.fund_pos >= 0)
    return np.bincount(
        enc.fund_pos[disclosed], weights=funding["amount_usd"].to_numpy(float)[disclosed], minlength=len(enc.institutions)
    )


def startup_disclosed_funding(institutions: pd.DataFrame, funding: pd.DataFrame) -> pd.Series:
    """Disclosed funding (``vc``, ``equity``, ``debt``) per startup, indexed by id (0 if none)."""
    startups = institutions.loc[institutions["type"] == "startup", "institution_id"]
    disclosed = funding[funding["kind"].isin(DISCLOSED_FUNDING_KINDS)]
    sums = disclosed.groupby("institution_id", sort=True)["amount_usd"].sum()
    return sums.reindex(pd.Index(startups, name="institution_id"), fill_value=0.0).astype(float)


def _funding_summary(labels: np.ndarray, startup_usd: np.ndarray, k: int) -> pd.DataFrame:
    """Per label 0..k-1: funded_startups, combined_usd, largest_usd (``startup_usd`` is the
    disclosed funding per institution position, 0 for non-startups)."""
    funded = (startup_usd > 0) & (labels >= 0)
    lab, usd = labels[funded], startup_usd[funded]
    largest = np.zeros(k)
    np.maximum.at(largest, lab, usd)
    return pd.DataFrame(
        {
            "funded_startups": np.bincount(lab, minlength=k).astype(np.int64),
            "combined_usd": np.bincount(lab, weights=usd, minlength=k),
            "largest_usd": largest,
        },
        index=pd.Index(np.arange(k, dtype=np.int64), name="label"),
    )


def group_funding_summary(institutions: pd.DataFrame, funding: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Per group: ``funded_startups`` (startups with disclosed funding > 0),
    ``combined_usd`` (their total) and ``largest_usd`` (the best-funded startup)."""
    per_startup = startup_disclosed_funding(institutions, funding)
    lab = labels.reindex(per_startup.index).fillna(NOISE).to_numpy(dtype=np.int64)
    k = _n_groups(labels.to_numpy(dtype=np.int64))
    summary = _funding_summary(lab, per_startup.to_numpy(float), k)
    present = np.unique(labels[labels != NOISE].to_numpy(dtype=np.int64))
    return summary.loc[present]


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


def _collaborations_touching(labels: np.ndarray, coll_a: np.ndarray, coll_b: np.ndarray, k: int) -> np.ndarray:
    """Per group, collaborations with at least one partner in it (each counted once)."""
    la, lb = _lookup(labels, coll_a), _lookup(labels, coll_b)
    return np.bincount(la[la >= 0], minlength=k) + np.bincount(lb[(lb >= 0) & (lb != la)], minlength=k)


# --------------------------------------------------------------------------- passes


def _find(enc: Encoded, member: np.ndarray, areas: pd.DataFrame, min_samples: int, params: Params) -> GroupFinding:
    """Steps 2-4 over the institutions where ``member`` is True (positional)."""
    inst = enc.institutions
    lat, lon = inst["lat"].to_numpy(float), inst["lon"].to_numpy(float)
    vectors = unit_vectors(lat, lon)
    raw = np.full(len(inst), NOISE, dtype=np.int64)
    raw[member] = dbscan_labels(lat[member], lon[member], params.eps_km, min_samples)
    merged = merge_labels(
        raw, vectors, enc.coll_a, enc.coll_b, params.merge_km, params.merge_min_links, params.merge_min_share
    )
    groups = _name_table(merged, lat, lon, vectors, areas, params.naming_km)
    ids = enc.ids
    return GroupFinding(
        dbscan=pd.Series(raw, index=ids, name="label"), merged=pd.Series(merged, index=ids, name="label"), groups=groups
    )


def find_groups(
    institutions: pd.DataFrame,
    collaborations: pd.DataFrame,
    areas: pd.DataFrame,
    min_samples: int,
    params: Params = Params(),
) -> GroupFinding:
    """Steps 2-4 of contract section 4 over ``institutions``: DBSCAN, merge, name."""
    inst = sort_institutions(institutions)
    ids = inst["institution_id"]
    enc = Encoded(
        institutions=inst,
        coll_a=positions(ids, collaborations["institution_a"]),
        coll_b=positions(ids, collaborations["institution_b"]),
        fund_pos=np.zeros(0, dtype=np.int64),
    )
    return _find(enc, np.ones(len(inst), dtype=bool), areas, min_samples, params)


def _area_columns(groups: pd.DataFrame, areas: pd.DataFrame, labels: np.ndarray, country: np.ndarray) -> pd.DataFrame:
    """country, region, population, gdp_usd per group (from its area; an unnamed group takes
    its members' most common country, ties alphabetical, and has no population or GDP)."""
    ar = areas.set_index("area_id")
    named = groups["area_id"].notna().to_numpy()
    out = pd.DataFrame(index=groups.index)
    out["country"] = pd.Series("", index=groups.index, dtype="string")
    out["population"] = np.nan
    out["gdp_usd"] = np.nan
    if named.any():
        ids = groups.loc[named, "area_id"].to_numpy(dtype=object)
        out.loc[named, "country"] = ar.loc[ids, "country"].to_numpy(dtype=object)
        out.loc[named, "population"] = ar.loc[ids, "population"].to_numpy(dtype=float)
        out.loc[named, "gdp_usd"] = ar.loc[ids, "gdp_usd"].to_numpy(dtype=float)
    if (~named).any():
        unnamed = groups.index[~named].to_numpy()
        pick = np.isin(labels, unnamed)
        tally = pd.DataFrame({"label": labels[pick], "country": country[pick]}).value_counts().rename("n").reset_index()
        tally = tally.sort_values(["label", "n", "country"], ascending=[True, False, True], kind="stable")
        top = tally.drop_duplicates("label").set_index("label")["country"]
        out.loc[unnamed, "country"] = top.reindex(unnamed).to_numpy(dtype=object)
    regions = {c: region_of(c) for c in out["country"].dropna().unique() if c}
    out["region"] = out["country"].map(lambda c: regions.get(c, "")).astype("string")
    return out[["country", "region", "population", "gdp_usd"]]


def detect(db: Database, params: Params = Params(), encoded: Encoded | None = None) -> Detection:
    """Clusters and quasi-clusters of the counted database ``db`` (contract section 4).

    ``db`` must already be cut off (:func:`quantumclusters.schema.apply_cutoff`);
    ``encoded`` is its :func:`encode` (computed here when not given).

    Pass 1: DBSCAN (``min_samples``), merge, name; a group is a cluster when it meets
    :func:`cluster_qualifies`. Pass 2: the same steps with ``quasi_min_samples`` over the
    counted institutions in no cluster; a group is a quasi-cluster when it meets
    :func:`quasi_cluster_qualifies`; Tier 1 when one of its startups' disclosed funding
    exceeds USD 5 M. Names get `` (2)`` suffixes by decreasing size (ties: smallest member
    id), clusters first, then quasi-clusters (numbering continues after the clusters'
    names, so every name is unique).
    """
    enc = encoded if encoded is not None else encode(db)
    inst = enc.institutions
    n = len(inst)
    types = inst["type"].to_numpy(dtype=object)
    country = inst["country"].to_numpy(dtype=object)
    ids_arr = inst["institution_id"].to_numpy(dtype=object)
    is_startup = types == "startup"
    startup_usd = np.where(is_startup, _disclosed_per_institution(enc, db.funding), 0.0)

    def first_member(labels: np.ndarray, k: int) -> np.ndarray:
        """Smallest member id per label (ids are sorted, so the first position)."""
        first = np.full(k, n, dtype=np.int64)
        member = labels >= 0
        np.minimum.at(first, labels[member], np.flatnonzero(member))
        return np.append(ids_arr, "")[first]

    # pass 1: clusters
    p1 = _find(enc, np.ones(n, dtype=bool), db.areas, params.min_samples, params)
    lab1 = p1.merged.to_numpy()
    k1 = _n_groups(lab1)
    g1 = p1.groups.join(_funding_summary(lab1, startup_usd, k1))
    g1["is_cluster"] = cluster_qualifies(g1["institutions"], g1["funded_startups"], g1["combined_usd"], g1["largest_usd"], params)
    is_cluster_label = np.zeros(k1 + 1, dtype=bool)
    is_cluster_label[g1.index[g1["is_cluster"]].to_numpy()] = True
    in_cluster = is_cluster_label[np.where(lab1 >= 0, lab1, k1)]

    # pass 2: quasi-clusters among the rest
    p2 = _find(enc, ~in_cluster, db.areas, params.quasi_min_samples, params)
    lab2 = p2.merged.to_numpy()
    k2 = _n_groups(lab2)
    g2 = p2.groups.copy()
    g2["collaborations"] = _collaborations_touching(lab2, enc.coll_a, enc.coll_b, k2)[g2.index.to_numpy()].astype(np.int64)
    g2["largest_usd"] = _funding_summary(lab2, startup_usd, k2)["largest_usd"].reindex(g2.index).to_numpy()
    g2["is_quasi_cluster"] = quasi_cluster_qualifies(g2["institutions"], g2["collaborations"], params)
    g2["tier"] = np.where(g2["largest_usd"] > params.tier1_exceeding_usd, 1, 2).astype(np.int64)

    # names: clusters first, then quasi-clusters
    cl = g1[g1["is_cluster"]].copy()
    cl["name"] = unique_names(cl["area"], cl["institutions"], pd.Series(first_member(lab1, k1)[cl.index.to_numpy()], index=cl.index))
    qc = g2[g2["is_quasi_cluster"]].copy()
    qc["name"] = unique_names(
        qc["area"], qc["institutions"], pd.Series(first_member(lab2, k2)[qc.index.to_numpy()], index=qc.index), frozenset(cl["name"])
    )

    # assignments
    name1 = np.full(k1 + 1, None, dtype=object)
    name1[cl.index.to_numpy()] = cl["name"].to_numpy(dtype=object)
    name2 = np.full(k2 + 1, None, dtype=object)
    name2[qc.index.to_numpy()] = qc["name"].to_numpy(dtype=object)
    group1 = name1[np.where(lab1 >= 0, lab1, k1)]
    group2 = name2[np.where(lab2 >= 0, lab2, k2)]
    status = np.where(group1 != None, "cluster", np.where(group2 != None, "quasi_cluster", "none"))  # noqa: E711
    group = np.where(group1 != None, group1, np.where(group2 != None, group2, ""))  # noqa: E711
    assignments = pd.DataFrame(
        {
            "institution_id": inst["institution_id"].astype("string").to_numpy(),
            "status": pd.array(status, dtype="string"),
            "group": pd.array(group.astype(object), dtype="string"),
        }
    )

    # clusters table
    cl = cl.join(_area_columns(cl, db.areas, lab1, country))
    research = np.isin(types, RESEARCH_TYPES)
    cl["startups"] = np.bincount(lab1[(lab1 >= 0) & is_startup], minlength=k1)[cl.index.to_numpy()]
    cl["research_institutions"] = np.bincount(lab1[(lab1 >= 0) & research], minlength=k1)[cl.index.to_numpy()]
    clusters = pd.DataFrame(
        {
            "cluster": cl["name"].astype("string"),
            "area_id": cl["area_id"].astype("string"),
            "country": cl["country"].astype("string"),
            "region": cl["region"].astype("string"),
            "lat": cl["lat"].astype(float),
            "lon": cl["lon"].astype(float),
            "institutions": cl["institutions"].astype(np.int64),
            "startups": cl["startups"].astype(np.int64),
            "research_institutions": cl["research_institutions"].astype(np.int64),
            "population": cl["population"].astype(float),
            "gdp_usd": cl["gdp_usd"].astype(float),
        }
    )
    clusters = clusters.sort_values("cluster", kind="stable").reset_index(drop=True)

    qc = qc.join(_area_columns(qc, db.areas, lab2, country))
    quasi = pd.DataFrame(
        {
            "quasi_cluster": qc["name"].astype("string"),
            "area_id": qc["area_id"].astype("string"),
            "country": qc["country"].astype("string"),
            "region": qc["region"].astype("string"),
            "tier": qc["tier"].astype(np.int64),
            "institutions": qc["institutions"].astype(np.int64),
            "collaborations": qc["collaborations"].astype(np.int64),
        }
    )
    quasi = quasi.sort_values("quasi_cluster", kind="stable").reset_index(drop=True)

    cand1 = g1.rename(columns={"is_cluster": "qualifies"})
    cand2 = g2.rename(columns={"is_quasi_cluster": "qualifies"})
    candidates = pd.concat([cand1, cand2], keys=["cluster", "quasi_cluster"], names=["pass", "label"])
    return Detection(
        assignments=assignments,
        clusters=clusters,
        quasi_clusters=quasi,
        cluster_pass=p1,
        quasi_pass=p2,
        candidates=candidates,
    )
