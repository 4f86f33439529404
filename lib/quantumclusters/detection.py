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

Scalability (issues 2 and 14). DBSCAN runs on the *distinct* coordinates, each weighted
by the number of institutions there (so ``min_samples`` still counts institutions, the
point itself included), with :func:`weighted_dbscan`, which never lists pairs of
neighbours, so memory grows with the number of points, not of pairs:

* points become 3-D unit vectors; eps becomes the chord ``c = 2 sin(eps / 2)``; space is
  cut into cubes whose diagonal is a hair shorter than ``c``, so a cube's points are
  mutually within eps;
* core points: every point of a cube whose weight reaches ``min_samples``; elsewhere a
  k-d tree counts the distinct neighbours well inside the chord (``min_samples`` of them
  suffice, each weighs at least 1), and a point with fewer has its few neighbours fetched
  and their weights summed;
* groups: connected components of cubes holding core points, two neighbouring cubes
  being linked when one core point of each are within eps (a quick nearest-point test
  links most pairs; the rest are settled exactly, core by core);
* numbering and border points as scikit-learn does: groups in order of their first core
  point, a non-core point within eps of core points joins the smallest-numbered group.

The boundary (distance <= eps) is decided as scikit-learn's haversine ``BallTree`` does:
chords decide except within a relative 1e-8 of ``c``, where scikit-learn's formula is
evaluated with the C library's ``sin`` and ``cos``. The result is identical to
``DBSCAN(metric="haversine", sample_weight=...)`` on the distinct coordinates in order of
first appearance, hence to plain ``DBSCAN(metric="haversine")`` on the institutions in
``institution_id`` order: institutions at one coordinate have the same neighbourhood, so
the same core status, and the order of first appearance keeps the order in which groups
are expanded. The test suite checks both against scikit-learn on random data with stacked
coordinates and border points.

A run hashes the string identifiers once (:func:`encode`: institutions sorted, partners and
funded institutions as integer positions); every later step counts with ``numpy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

try:  # Arrow-backed text (pandas with pyarrow, a requirement) is sorted by Arrow
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover
    pa = pc = None

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
    "weighted_dbscan",
    "merge_labels",
    "km_to_radians",
    "unit_vectors",
    "great_circle_km",
    "sort_institutions",
    "dbscan_groups",
    "merge_groups",
    "name_groups",
    "unnamed_label",
    "unique_names",
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
    order = _id_order(institutions["institution_id"])
    if order is None:
        return institutions.reset_index(drop=True)
    return institutions.iloc[order].reset_index(drop=True)


def _id_order(ids: pd.Series) -> np.ndarray | None:
    """The stable order that sorts ``ids`` by code point (None when already sorted).

    Arrow-backed text is sorted by Arrow (UTF-8 byte order is code point order), other
    text as Python strings; both sorts are stable."""
    if ids.is_monotonic_increasing:
        return None
    if pa is not None and getattr(ids.dtype, "storage", None) == "pyarrow" and not ids.hasnans:
        return pc.sort_indices(pa.array(ids)).to_numpy().astype(np.int64)
    return np.argsort(ids.to_numpy(dtype=object), kind="stable")


def _id_index(ids: pd.Series | pd.Index) -> pd.Index:
    """An object ``Index`` of identifiers (its hash table is built once, on first lookup)."""
    return pd.Index(np.asarray(ids, dtype=object), dtype=object)


def positions(ids: pd.Series | pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each of ``values`` in ``ids`` (``-1`` when absent), as int64."""
    index = ids if isinstance(ids, pd.Index) and ids.dtype == object else _id_index(ids)
    return index.get_indexer(np.asarray(values, dtype=object)).astype(np.int64)


def encode(db: Database) -> Encoded:
    """The :class:`Encoded` form of a (counted) database.

    When the database carries the loader's resolved references
    (:class:`~quantumclusters.schema.Links`, kept by ``apply_cutoff``), the positions are
    those rows renumbered in ``institution_id`` order: no identifier is hashed again.
    Otherwise the ids are looked up in one hash table."""
    links = db.fitting_links()
    if links is None:
        inst = sort_institutions(db.institutions)
        index = _id_index(inst["institution_id"])  # one hash table for the three look-ups
        return Encoded(
            institutions=inst,
            coll_a=positions(index, db.collaborations["institution_a"]),
            coll_b=positions(index, db.collaborations["institution_b"]),
            fund_pos=positions(index, db.funding["institution_id"]),
        )
    order = _id_order(db.institutions["institution_id"])
    n = len(db.institutions)
    if order is None:
        inst, sorted_row = db.institutions.reset_index(drop=True), np.arange(n, dtype=np.int64)
    else:
        inst = db.institutions.iloc[order].reset_index(drop=True)
        sorted_row = np.empty(n, dtype=np.int64)
        sorted_row[order] = np.arange(n, dtype=np.int64)
    sorted_row = np.append(sorted_row, -1)  # row -1 (none) stays -1
    return Encoded(
        institutions=inst,
        coll_a=sorted_row[links.coll_a],
        coll_b=sorted_row[links.coll_b],
        fund_pos=sorted_row[links.fund],
    )


def _lookup(labels: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``labels[pos]`` with position ``-1`` (not counted) giving :data:`NOISE`."""
    return np.append(labels, NOISE)[pos]


# --------------------------------------------------------------------------- DBSCAN

#: Relative half-width of the band of chord lengths around the radius inside which the
#: boundary is decided with scikit-learn's haversine formula (outside it, chords decide).
_BAND = 1e-8


def _haversine_within(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray, eps_rad: float) -> np.ndarray:
    """scikit-learn's ``BallTree(metric="haversine")`` boundary test, operation for
    operation and with the C library's ``sin``/``cos`` (``math``): reduced distance
    ``sin²(Δlat/2) + cos lat1 cos lat2 sin²(Δlon/2) <= sin²(eps/2)``. For the few pairs
    whose chord is within :data:`_BAND` of the radius."""
    s = math.sin(0.5 * eps_rad)
    limit = s * s
    out = np.empty(len(lat1), dtype=bool)
    for i, (a1, o1, a2, o2) in enumerate(zip(lat1.tolist(), lon1.tolist(), lat2.tolist(), lon2.tolist())):
        s0 = math.sin(0.5 * (a1 - a2))
        s1 = math.sin(0.5 * (o1 - o2))
        out[i] = s0 * s0 + math.cos(a1) * math.cos(a2) * s1 * s1 <= limit
    return out


@dataclass(frozen=True)
class _Sphere:
    """Distinct points on the sphere: radians, unit vectors and the eps geometry."""

    rad: np.ndarray  # (k, 2) lat, lon in radians
    vec: np.ndarray  # (k, 3) unit vectors
    eps_rad: float

    @property
    def chord(self) -> float:
        """Chord length of the angle eps on the unit sphere: 2 sin(eps/2)."""
        return 2.0 * math.sin(0.5 * self.eps_rad)

    def within(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether points ``i`` and ``j`` (index arrays) are within eps, exactly as
        scikit-learn's haversine decides: chords far from the radius decide by
        themselves (chord² / 4 is the haversine of the angle), the rest by the formula."""
        d = self.vec[i] - self.vec[j]
        q = np.einsum("ij,ij->i", d, d) / (self.chord * self.chord)  # (chord / c)²
        out = q <= 1.0
        band = np.flatnonzero(np.abs(q - 1.0) <= 4 * _BAND)
        if len(band):
            ib, jb = i[band], j[band]
            out[band] = _haversine_within(self.rad[ib, 0], self.rad[ib, 1], self.rad[jb, 0], self.rad[jb, 1], self.eps_rad)
        return out


def _grid_cells(vec: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Cube of side ``side`` holding each unit vector: (cell per point, (m,) sorted cell
    keys). Keys pack the three integer cube coordinates; the packing is in
    :func:`_cell_key`."""
    keys = _cell_key(np.floor(vec / side).astype(np.int64), side)
    cell_keys, cell = np.unique(keys, return_inverse=True)
    return cell.astype(np.int64), cell_keys


def _cell_key(ijk: np.ndarray, side: float) -> np.ndarray:
    """One int64 per integer cube coordinate triple (offsets of up to 2 stay distinct)."""
    span = int(math.ceil(1.0 / side)) + 4
    base = 2 * span + 1
    shifted = ijk + span
    return (shifted[:, 0] * base + shifted[:, 1]) * base + shifted[:, 2]


def _neighbour_offsets() -> np.ndarray:
    """Half of the cube offsets (one of each pair ±d) at which a point within the chord
    can lie: with side = chord / √3 (a hair less), at most 2 cubes apart along each axis."""
    d = np.array([(a, b, c) for a in range(-2, 3) for b in range(-2, 3) for c in range(-2, 3)])
    d = d[np.array([tuple(x) > (0, 0, 0) for x in d])]
    # nearest cubes first: they connect most pairs of cubes
    return d[np.argsort((np.maximum(np.abs(d) - 1, 0) ** 2).sum(axis=1), kind="stable")]


def _core_points(
    sphere: _Sphere, weights: np.ndarray, min_samples: int, cell: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Core status of every distinct point (weighted neighbours within eps, itself
    included, >= ``min_samples``), and the neighbour pairs (i, j) of the points that are
    not core in a full cube (each has fewer than ``min_samples`` distinct neighbours, so
    these pairs are few).

    Points in a cube whose weight reaches ``min_samples`` are core (a cube's points are
    mutually within eps). For the others a k-d tree counts distinct neighbours well inside
    the chord; ``min_samples`` of them make a core point (every weight is >= 1); with fewer,
    the neighbours are fetched and their weights summed exactly."""
    n = len(weights)
    cell_weight = np.bincount(cell, weights=weights)
    core = cell_weight[cell] >= min_samples
    rest = np.flatnonzero(~core)
    tree = cKDTree(sphere.vec)
    c = sphere.chord
    if len(rest):
        inside = tree.query_ball_point(sphere.vec[rest], c * (1 - _BAND), return_length=True)
        core[rest[inside >= min_samples]] = True
        rest = rest[inside < min_samples]
    if len(rest) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return core, empty, empty
    lists = tree.query_ball_point(sphere.vec[rest], c * (1 + _BAND))
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    i = np.repeat(rest, lengths)
    j = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if lengths.sum() else np.zeros(0, dtype=np.int64)
    keep = sphere.within(i, j)
    i, j = i[keep], j[keep]
    core[rest] = np.bincount(i, weights=weights[j], minlength=n)[rest] >= min_samples
    return core, i, j


def _neighbouring_cubes(keys: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b) of positions in the sorted cube ``keys`` whose cubes are at one of the
    :func:`_neighbour_offsets` (each pair once)."""
    ijk = _cell_ijk(keys, side)
    pa, pb = [], []
    for d in _neighbour_offsets():
        other = _cell_key(ijk + d, side)
        at = np.minimum(np.searchsorted(keys, other), len(keys) - 1)
        hit = keys[at] == other
        pa.append(np.flatnonzero(hit))
        pb.append(at[hit])
    return np.concatenate(pa), np.concatenate(pb)


def _components(h: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of ``h`` nodes linked by the pairs (a, b)."""
    graph = sparse.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(h, h)).tocsr()
    return connected_components(graph, directed=False)[1].astype(np.int64)


@dataclass(frozen=True)
class _CoreCubes:
    """Core points grouped by cube (cubes holding core points numbered 0..h-1), with one
    k-d tree over (x, y, z, 4 x cube) that finds the nearest core point *within a given
    cube*: a core point of another cube is at least 4 away, unit vectors at most 2."""

    sphere: _Sphere
    core_idx: np.ndarray  # point index of each core point
    cube: np.ndarray  # cube (0..h-1) of each core point
    h: int
    tree: cKDTree

    @classmethod
    def build(cls, sphere: _Sphere, core_idx: np.ndarray, cube: np.ndarray, h: int) -> "_CoreCubes":
        return cls(sphere, core_idx, cube, h, cKDTree(np.column_stack([sphere.vec[core_idx], 4.0 * cube])))

    def nearest_in(self, cube: np.ndarray, xyz: np.ndarray, upper: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """(distance, core position) of the nearest core point of ``cube`` to each ``xyz``."""
        return self.tree.query(np.column_stack([xyz, 4.0 * cube]), k=1, distance_upper_bound=upper)

    def quick_links(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether cubes a and b are linked, found by alternating nearest core points from
        the mean of a's core points (True is certain; False may be wrong)."""
        vec = self.sphere.vec[self.core_idx]
        sums = np.column_stack([np.bincount(self.cube, weights=vec[:, k], minlength=self.h) for k in range(3)])
        mean = sums / np.bincount(self.cube, minlength=self.h)[:, None]
        _, b1 = self.nearest_in(b, mean[a])
        _, a1 = self.nearest_in(a, vec[b1])
        _, b2 = self.nearest_in(b, vec[a1])
        return self.sphere.within(self.core_idx[a1], self.core_idx[b2])

    def exact_links(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether cubes a and b are linked: the nearest core point of one cube to each core
        point of the other (the cube with fewer core points asks)."""
        n_core = np.bincount(self.cube, minlength=self.h)
        swap = n_core[a] > n_core[b]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        order = np.argsort(self.cube, kind="stable")
        start = np.searchsorted(self.cube[order], np.arange(self.h))
        counts = n_core[a]
        pair = np.repeat(np.arange(len(a)), counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        asking = order[start[a[pair]] + offset]  # core positions in cube a of each pair
        dist, near = self.nearest_in(b[pair], self.sphere.vec[self.core_idx[asking]], self.sphere.chord * (1 + _BAND))
        found = np.isfinite(dist)
        linked = np.zeros(len(a), dtype=bool)
        close = self.sphere.within(self.core_idx[asking[found]], self.core_idx[near[found]])
        linked[pair[found][close]] = True
        return linked


def _linked_cells(sphere: _Sphere, core: np.ndarray, cell: np.ndarray, cell_keys: np.ndarray, side: float) -> np.ndarray:
    """Connected component of every cube holding core points: two such cubes are linked
    when a core point of one is within eps of a core point of the other (core points of
    one cube are mutually within eps, so the cubes stand for them). Returns the component
    per cube (``-1`` for cubes without core points).

    A quick test links most neighbouring pairs (:meth:`_CoreCubes.quick_links`); the pairs
    still in different components after it are settled exactly
    (:meth:`_CoreCubes.exact_links`)."""
    comp = np.full(len(cell_keys), -1, dtype=np.int64)
    core_idx = np.flatnonzero(core)
    if len(core_idx) == 0:
        return comp
    used, cube = np.unique(cell[core_idx], return_inverse=True)  # cubes with core points
    h = len(used)
    cubes = _CoreCubes.build(sphere, core_idx, cube.astype(np.int64), h)
    a, b = _neighbouring_cubes(cell_keys[used], side)
    quick = cubes.quick_links(a, b)
    labels = _components(h, a[quick], b[quick])
    todo = labels[a] != labels[b]
    if todo.any():
        exact = cubes.exact_links(a[todo], b[todo])
        labels = _components(h, np.concatenate([a[quick], a[todo][exact]]), np.concatenate([b[quick], b[todo][exact]]))
    comp[used] = labels
    return comp


def _cell_ijk(keys: np.ndarray, side: float) -> np.ndarray:
    """Inverse of :func:`_cell_key`."""
    span = int(math.ceil(1.0 / side)) + 4
    base = 2 * span + 1
    k = keys % base
    j = (keys // base) % base
    i = keys // (base * base)
    return np.column_stack([i, j, k]) - span


def weighted_dbscan(
    lat_rad: np.ndarray, lon_rad: np.ndarray, weights: np.ndarray, eps_rad: float, min_samples: int,
) -> np.ndarray:
    """Labels identical to ``sklearn.cluster.DBSCAN(eps_rad, min_samples=min_samples,
    metric="haversine").fit_predict(points, sample_weight=weights)``, in memory linear in
    the number of points (module docstring).

    scikit-learn's rule: a point is core when the weight within eps (itself included,
    distance <= eps) reaches ``min_samples``; groups are the connected components of core
    points (two cores within eps), numbered in order of their first core point; a non-core
    point within eps of core points joins the group with the smallest number among them
    (scikit-learn expands groups one at a time in point order), else it is noise."""
    n = len(weights)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rad = np.column_stack([np.asarray(lat_rad, dtype=float), np.asarray(lon_rad, dtype=float)])
    sphere = _Sphere(rad=rad, vec=_unit_vectors_rad(rad[:, 0], rad[:, 1]), eps_rad=float(eps_rad))
    side = sphere.chord / math.sqrt(3.0) * (1 - _BAND)  # a cube's diagonal is inside the chord
    if not 1e-6 <= side:  # cube keys pack three coordinates of up to 2/side into an int64
        raise ValueError(f"eps of {eps_rad * EARTH_RADIUS_KM:.6g} km is below the 0.02 km this DBSCAN supports")
    cell, cell_keys = _grid_cells(sphere.vec, side)
    weights = np.asarray(weights, dtype=float)
    core, i, j = _core_points(sphere, weights, min_samples, cell)
    comp = _linked_cells(sphere, core, cell, cell_keys, side)
    labels = np.full(n, NOISE, dtype=np.int64)
    core_idx = np.flatnonzero(core)
    if len(core_idx) == 0:
        return labels
    # number the groups in order of their first core point
    point_comp = comp[cell[core_idx]]
    first = np.full(int(point_comp.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, point_comp, core_idx)
    used = np.flatnonzero(first < n)
    number = np.full(len(first), NOISE, dtype=np.int64)
    number[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used))
    labels[core_idx] = number[point_comp]
    # border points: the smallest group number among their core neighbours
    border = ~core[i] & core[j]
    if border.any():
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, i[border], labels[j[border]])
        reached = best < np.iinfo(np.int64).max
        labels[reached] = best[reached]
    return labels


def _unit_vectors_rad(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


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

    Runs :func:`weighted_dbscan` on the distinct coordinates (radians) with the number of
    points at each as weight; identical to plain ``DBSCAN(metric="haversine")`` on all
    points (module docstring)."""
    if len(lat_deg) == 0:
        return np.zeros(0, dtype=np.int64)
    codes, points = _distinct_points(lat_deg, lon_deg)
    weights = np.bincount(codes, minlength=len(points)).astype(float)
    rad = np.radians(points)
    labels = weighted_dbscan(rad[:, 0], rad[:, 1], weights, km_to_radians(eps_km), min_samples)
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
    Computed once per distinct coordinate (:func:`_nearest_areas`)."""
    if len(areas_sorted) == 0 or len(lat_deg) == 0:
        return np.full(len(lat_deg), -1, dtype=np.int64)
    codes, points = _distinct_points(lat_deg, lon_deg)
    centres = np.radians(areas_sorted[["lat", "lon"]].to_numpy(dtype=float))
    return _nearest_areas(np.radians(points), centres, km_to_radians(naming_km))[codes]


#: Candidate area centres per point (chord order), and the relative margin within which
#: a distance comparison is redone with the C library's functions (scikit-learn's).
_NAMING_CANDIDATES = 3
_NAMING_MARGIN = 1e-9


def _nearest_areas(points: np.ndarray, centres: np.ndarray, limit: float) -> np.ndarray:
    """Index of each point's nearest centre within the angle ``limit`` (inclusive), ``-1``
    if none; equal distances: the smaller index. Points and centres are (lat, lon) radians.

    The answer is that of ``BallTree(metric="haversine").query`` on the centres: a k-d tree
    over unit vectors proposes the nearest centres by chord (chord order is great-circle
    order, and only centres within the chord of ``limit`` are proposed); the distances are
    then scikit-learn's haversine formula, evaluated with the C library's ``sin``/``cos``/
    ``asin`` (:func:`_haversine_exact`) wherever a tie or the boundary is closer than
    :data:`_NAMING_MARGIN`.
    """
    n, m = len(points), len(centres)
    k = min(_NAMING_CANDIDATES, m)
    bound = 2.0 * math.sin(0.5 * limit) * (1.0 + 1e-6)
    tree = cKDTree(_unit_vectors_rad(centres[:, 0], centres[:, 1]))
    _, idx = tree.query(_unit_vectors_rad(points[:, 0], points[:, 1]), k=k, distance_upper_bound=bound)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, k)
    found = idx < m
    safe = np.where(found, idx, 0)
    dist = np.where(found, _haversine_rad(points[:, [0]], points[:, [1]], centres[safe, 0], centres[safe, 1]), np.inf)
    close = _close_calls(dist, limit)
    if close.any():
        rows = np.flatnonzero(close)
        exact = _haversine_exact(points[rows], centres[safe[rows]])
        dist[rows] = np.where(found[rows], exact, np.inf)
    best = dist.min(axis=1)
    # the smallest index among the candidates at the best distance
    tied = np.where(found & (dist == best[:, None]), idx, m)
    choice = tied.min(axis=1)
    return np.where(np.isfinite(best) & (best <= limit), choice, -1).astype(np.int64)


def _haversine_rad(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """scikit-learn's haversine distance (radians) with NumPy's functions (broadcasting)."""
    s0 = np.sin(0.5 * (lat1 - lat2))
    s1 = np.sin(0.5 * (lon1 - lon2))
    return 2.0 * np.arcsin(np.sqrt(s0 * s0 + np.cos(lat1) * np.cos(lat2) * s1 * s1))


def _close_calls(dist: np.ndarray, limit: float) -> np.ndarray:
    """Rows whose nearest distance is within the margin of ``limit`` or of the next one."""
    ordered = np.sort(dist, axis=1)
    best = ordered[:, 0]
    with np.errstate(invalid="ignore"):  # inf - inf where no centre is near
        near_limit = np.isfinite(best) & (np.abs(best - limit) <= _NAMING_MARGIN * limit)
        if ordered.shape[1] < 2:
            return near_limit
        near_tie = np.isfinite(ordered[:, 1]) & (ordered[:, 1] - best <= _NAMING_MARGIN * np.maximum(best, 1e-300))
    return near_limit | near_tie


def _haversine_exact(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """scikit-learn's ``HaversineDistance`` operation for operation with ``math``: point
    ``i`` (lat, lon radians) against each of its candidate centres ``centres[i, j]``."""
    out = np.empty(centres.shape[:2])
    for i, (la1, lo1) in enumerate(points.tolist()):
        for j, (la2, lo2) in enumerate(centres[i].tolist()):
            s0 = math.sin(0.5 * (la1 - la2))
            s1 = math.sin(0.5 * (lo1 - lo2))
            out[i, j] = 2.0 * math.asin(math.sqrt(s0 * s0 + math.cos(la1) * math.cos(la2) * s1 * s1))
    return out


def _sorted_areas(areas: pd.DataFrame) -> pd.DataFrame:
    return areas.sort_values("area_id", kind="stable").reset_index(drop=True)


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


def _cluster_pass(
    enc: Encoded, areas: pd.DataFrame, startup_usd: np.ndarray, params: Params,
) -> tuple[GroupFinding, pd.DataFrame]:
    """Pass 1 (steps 2-5): DBSCAN with ``min_samples``, merge, name, and the cluster
    thresholds. The table (indexed by merged label) adds ``funded_startups``,
    ``combined_usd``, ``largest_usd`` and ``is_cluster``."""
    finding = _find(enc, np.ones(len(enc.institutions), dtype=bool), areas, params.min_samples, params)
    labels = finding.merged.to_numpy()
    groups = finding.groups.join(_funding_summary(labels, startup_usd, _n_groups(labels)))
    groups["is_cluster"] = cluster_qualifies(
        groups["institutions"], groups["funded_startups"], groups["combined_usd"], groups["largest_usd"], params
    )
    return finding, groups


def _members_of(labels: np.ndarray, chosen: pd.Index) -> np.ndarray:
    """Whether each institution's label is among ``chosen`` labels."""
    k = _n_groups(labels)
    flag = np.zeros(k + 1, dtype=bool)
    flag[chosen.to_numpy()] = True
    return flag[np.where(labels >= 0, labels, k)]


def _quasi_pass(
    enc: Encoded, areas: pd.DataFrame, in_cluster: np.ndarray, startup_usd: np.ndarray, params: Params
) -> tuple[GroupFinding, pd.DataFrame]:
    """Pass 2 (step 6): the same steps with ``quasi_min_samples`` over the counted
    institutions in no cluster. The table adds ``collaborations`` (touching the group),
    ``largest_usd``, ``is_quasi_cluster`` and ``tier``."""
    finding = _find(enc, ~in_cluster, areas, params.quasi_min_samples, params)
    labels = finding.merged.to_numpy()
    k = _n_groups(labels)
    groups = finding.groups.copy()
    present = groups.index.to_numpy()
    groups["collaborations"] = _collaborations_touching(labels, enc.coll_a, enc.coll_b, k)[present].astype(np.int64)
    groups["largest_usd"] = _funding_summary(labels, startup_usd, k)["largest_usd"].reindex(groups.index).to_numpy()
    groups["is_quasi_cluster"] = quasi_cluster_qualifies(groups["institutions"], groups["collaborations"], params)
    groups["tier"] = np.where(groups["largest_usd"] > params.tier1_exceeding_usd, 1, 2).astype(np.int64)
    return finding, groups


def _first_member(labels: np.ndarray, ids: np.ndarray, chosen: pd.Index) -> pd.Series:
    """Smallest member id of each ``chosen`` label (ids are sorted: the first position)."""
    k = _n_groups(labels)
    first = np.full(k, len(ids), dtype=np.int64)
    member = labels >= 0
    np.minimum.at(first, labels[member], np.flatnonzero(member))
    return pd.Series(np.append(ids, "")[first][chosen.to_numpy()], index=chosen)


def _named(
    groups: pd.DataFrame, qualifies: str, labels: np.ndarray, ids: np.ndarray, taken: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The qualifying groups with their final ``name`` (step 7)."""
    chosen = groups[groups[qualifies]].copy()
    chosen["name"] = unique_names(chosen["area"], chosen["institutions"], _first_member(labels, ids, chosen.index), taken)
    return chosen


def _assignments(
    ids: pd.Series, labels1: np.ndarray, clusters: pd.DataFrame, labels2: np.ndarray, quasi: pd.DataFrame,
) -> pd.DataFrame:
    """institution_id, status (``cluster``/``quasi_cluster``/``none``) and group name."""

    def name_of(labels: np.ndarray, named: pd.DataFrame) -> np.ndarray:
        k = _n_groups(labels)
        names = np.full(k + 1, None, dtype=object)
        names[named.index.to_numpy()] = named["name"].to_numpy(dtype=object)
        return names[np.where(labels >= 0, labels, k)]

    group1, group2 = name_of(labels1, clusters), name_of(labels2, quasi)
    status = np.where(group1 != None, "cluster", np.where(group2 != None, "quasi_cluster", "none"))  # noqa: E711
    group = np.where(group1 != None, group1, np.where(group2 != None, group2, ""))  # noqa: E711
    return pd.DataFrame(
        {
            "institution_id": ids.astype("string").to_numpy(),
            "status": pd.array(status, dtype="string"),
            "group": pd.array(group.astype(object), dtype="string"),
        }
    )


def _clusters_table(cl: pd.DataFrame, areas: pd.DataFrame, labels: np.ndarray, inst: pd.DataFrame) -> pd.DataFrame:
    """The clusters table (contract section 8 columns + population, gdp_usd), by name."""
    country = inst["country"].to_numpy(dtype=object)
    types = inst["type"].to_numpy(dtype=object)
    k = _n_groups(labels)
    present = cl.index.to_numpy()
    cl = cl.join(_area_columns(cl, areas, labels, country))
    member = labels >= 0
    cl["startups"] = np.bincount(labels[member & (types == "startup")], minlength=k)[present]
    cl["research_institutions"] = np.bincount(labels[member & np.isin(types, RESEARCH_TYPES)], minlength=k)[present]
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
    return clusters.sort_values("cluster", kind="stable").reset_index(drop=True)


def _quasi_clusters_table(qc: pd.DataFrame, areas: pd.DataFrame, labels: np.ndarray, inst: pd.DataFrame) -> pd.DataFrame:
    """The quasi-clusters table (contract section 8 columns), by name."""
    qc = qc.join(_area_columns(qc, areas, labels, inst["country"].to_numpy(dtype=object)))
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
    return quasi.sort_values("quasi_cluster", kind="stable").reset_index(drop=True)


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
    ids = inst["institution_id"].to_numpy(dtype=object)
    startup_usd = np.where(inst["type"].to_numpy(dtype=object) == "startup", _disclosed_per_institution(enc, db.funding), 0.0)

    p1, g1 = _cluster_pass(enc, db.areas, startup_usd, params)
    lab1 = p1.merged.to_numpy()
    in_cluster = _members_of(lab1, g1.index[g1["is_cluster"].to_numpy()])
    p2, g2 = _quasi_pass(enc, db.areas, in_cluster, startup_usd, params)
    lab2 = p2.merged.to_numpy()

    # names: clusters first, then quasi-clusters
    cl = _named(g1, "is_cluster", lab1, ids)
    qc = _named(g2, "is_quasi_cluster", lab2, ids, frozenset(cl["name"]))

    candidates = pd.concat(
        [g1.rename(columns={"is_cluster": "qualifies"}), g2.rename(columns={"is_quasi_cluster": "qualifies"})],
        keys=["cluster", "quasi_cluster"],
        names=["pass", "label"],
    )
    return Detection(
        assignments=_assignments(inst["institution_id"], lab1, cl, lab2, qc),
        clusters=_clusters_table(cl, db.areas, lab1, inst),
        quasi_clusters=_quasi_clusters_table(qc, db.areas, lab2, inst),
        cluster_pass=p1,
        quasi_pass=p2,
        candidates=candidates,
    )
