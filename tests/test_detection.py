"""Contract section 4: DBSCAN, merging, naming, thresholds, quasi-clusters.

Every expected answer is worked out by hand in the test (see the comments); geometry is
laid out in km along the equator or a meridian (tests/conftest.py), where the great-circle
distance is exactly R * angle.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import (
    DEG_PER_KM,
    area,
    collaboration_rows,
    funding_row,
    group_at,
    institution,
    km_east,
    km_north,
    make_db,
)
from sklearn.cluster import DBSCAN

from quantumclusters.detection import (
    EARTH_RADIUS_KM,
    NOISE,
    Params,
    cluster_qualifies,
    dbscan_groups,
    detect,
    find_groups,
    merge_groups,
    name_groups,
    unique_names,
    unnamed_label,
    weighted_dbscan,
)


def frame(rows: list[dict]) -> pd.DataFrame:
    return make_db(rows).institutions


# --------------------------------------------------------------------------- DBSCAN


def test_earth_radius_is_the_contracts() -> None:
    assert EARTH_RADIUS_KM == 6371.0088


def test_haversine_uses_the_contract_radius() -> None:
    # 9 institutions at (0, 0) and one on the equator 19.9999 km east *on the contract's
    # sphere*: angle = 19.9999 / 6371.0088 rad. On the equatorial-radius sphere
    # (6378.137 km) the same angle is 19.9999 * 6378.137 / 6371.0088 = 20.0223 km > 20.
    # With R = 6371.0088 the 9 + 1 points are all within eps: every point has 10
    # neighbours (itself included) -> one group of 10. With R = 6378.137: none.
    rows = group_at("a", 9, 0.0, 0.0) + [institution("b", *km_east(19.9999))]
    labels = dbscan_groups(frame(rows), eps_km=20, min_samples=10)
    assert (labels == 0).all()
    assert len(labels) == 10


def test_coordinates_are_converted_to_radians() -> None:
    # 10 points at lon 0 and 10 at lon 0.1 degrees: 0.1 deg = 0.1 * pi/180 * 6371.0088
    # = 11.12 km apart -> one group of 20. 10 more at lon 1.0: 111.2 km from lon 0 and
    # 100.1 km from lon 0.1 -> a second group. (Were degrees taken as radians, 0.1 "rad"
    # would be 637 km and the first 20 would split.)
    rows = group_at("a", 10, 0.0, 0.0) + group_at("b", 10, 0.0, 0.1) + group_at("c", 10, 0.0, 1.0)
    labels = dbscan_groups(frame(rows), eps_km=20, min_samples=10)
    assert labels[labels.index.str.startswith(("a", "b"))].eq(0).all()
    assert labels[labels.index.str.startswith("c")].eq(1).all()


def test_min_samples_counts_the_point_itself() -> None:
    # 10 institutions at one spot: each has 10 neighbours counting itself = min_samples
    # -> core -> one group. 9 at one spot: 9 < 10 -> all noise.
    ten = dbscan_groups(frame(group_at("a", 10, 0.0, 0.0)), 20, 10)
    nine = dbscan_groups(frame(group_at("a", 9, 0.0, 0.0)), 20, 10)
    assert (ten == 0).all()
    assert (nine == NOISE).all()


@pytest.mark.parametrize(("km", "expected_group"), [(19.9, True), (20.1, False)])
def test_point_19_9_km_vs_20_1_km(km: float, expected_group: bool) -> None:
    # 9 at the origin plus one point `km` due north. At 19.9 km (<= 20) every point has
    # 10 neighbours -> one group of 10. At 20.1 km the 9 have 9 neighbours, the lone point
    # 1 -> no core point -> all noise.
    rows = group_at("a", 9, 0.0, 0.0) + [institution("z", *km_north(km))]
    labels = dbscan_groups(frame(rows), 20, 10)
    if expected_group:
        assert (labels == 0).all()
    else:
        assert (labels == NOISE).all()


def border_layout(left_prefix: str, right_prefix: str) -> list[dict]:
    """Two groups sharing one border point P at 0 km (all on the equator):

    left:  9 points at -30 km and a core point at -15 km
    right: 9 points at +30 km and a core point at +15 km
    P at 0: neighbours = itself + the two core points at 15 km = 3 < 10 -> border.
    core at -15: itself + 9 at -30 (15 km) + P (15 km) = 11 -> core; 30 km from +15.
    points at -30: 9 + core at -15 = 10 -> core. Symmetric on the right.
    """
    rows = group_at(left_prefix, 9, *km_east(-30)) + [institution(f"{left_prefix}c", *km_east(-15))]
    rows += group_at(right_prefix, 9, *km_east(30)) + [institution(f"{right_prefix}c", *km_east(15))]
    rows.append(institution("p", *km_east(0)))
    return rows


def test_border_point_goes_to_the_group_found_first_in_id_order() -> None:
    # DBSCAN expands groups from core points in institution_id order; P is reachable from
    # both groups and joins the first one expanded: the group whose ids sort first.
    labels = dbscan_groups(frame(border_layout("a", "b")), 20, 10)
    assert labels["p"] == labels["a01"] == 0
    assert labels["b01"] == 1
    # rename so that the right-hand group sorts first: P now joins it
    labels = dbscan_groups(frame(border_layout("m", "b")), 20, 10)
    assert labels["p"] == labels["b01"] == 0
    assert labels["m01"] == 1


def test_border_point_order_does_not_depend_on_file_order() -> None:
    rows = border_layout("a", "b")
    forward = dbscan_groups(frame(rows), 20, 10)
    backward = dbscan_groups(frame(rows[::-1]), 20, 10)
    pd.testing.assert_series_equal(forward, backward)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("min_samples", [5, 10])
def test_fast_path_equals_plain_sklearn_dbscan(seed: int, min_samples: int) -> None:
    # Random blobs, coordinates rounded so that many institutions share a coordinate,
    # plus scattered points (borders and noise); ids shuffled so file order != id order.
    rng = np.random.default_rng(seed)
    centres = rng.uniform([-40, -60], [60, 60], size=(6, 2))
    pts = np.vstack(
        [c + rng.normal(0, 0.12, size=(int(rng.integers(20, 120)), 2)) for c in centres]
        + [rng.uniform([-40, -60], [60, 60], size=(80, 2))]
    )
    pts = np.round(pts, 2)  # ~1 km grid: many duplicates
    n = len(pts)
    ids = [f"i{k:05d}" for k in rng.permutation(n)]
    rows = [institution(ids[k], pts[k, 0], pts[k, 1]) for k in range(n)]
    fast = dbscan_groups(frame(rows), 20, min_samples)
    ordered = frame(rows).sort_values("institution_id").reset_index(drop=True)
    plain = DBSCAN(eps=20 / 6371.0088, min_samples=min_samples, metric="haversine").fit_predict(
        np.radians(ordered[["lat", "lon"]].to_numpy())
    )
    assert list(fast.index) == list(ordered["institution_id"])
    np.testing.assert_array_equal(fast.to_numpy(), plain)
    assert len(np.unique(plain)) > 2  # the data do contain several groups
    assert fast.duplicated().any()


def random_stacked_institutions(rng: np.random.Generator) -> pd.DataFrame:
    """A small random database: blobs of 1-6 centres (some near the antimeridian or the
    poles), coordinates rounded to 0.01-0.1 degrees so that institutions stack on one
    coordinate, a few points at 15-25 km from a centre (border points and noise), ids
    shuffled so that file order differs from id order."""
    k = int(rng.integers(1, 7))
    centres = np.column_stack([rng.uniform(-89, 89, k), rng.choice([rng.uniform(-180, 180), 179.9, -179.95], k)])
    blobs = [c + rng.normal(0, rng.uniform(0.03, 0.2), size=(int(rng.integers(3, 40)), 2)) for c in centres]
    ring = []
    for c in centres:
        angle = rng.uniform(0, 2 * np.pi, 3)
        km = rng.uniform(15, 25, 3)
        ring.append(np.column_stack([c[0] + km * np.sin(angle) * DEG_PER_KM, c[1] + km * np.cos(angle) * DEG_PER_KM]))
    pts = np.vstack(blobs + ring)
    pts = np.round(pts, int(rng.choice([1, 2])))
    pts[:, 0] = np.clip(pts[:, 0], -90, 90)
    pts[:, 1] = (pts[:, 1] + 180) % 360 - 180
    n = len(pts)
    return pd.DataFrame(
        {"institution_id": [f"i{j:04d}" for j in rng.permutation(n)], "lat": pts[:, 0], "lon": pts[:, 1]}
    )


def test_detection_equals_plain_sklearn_dbscan_on_200_random_databases() -> None:
    # The grid + k-d tree DBSCAN on distinct coordinates against scikit-learn's DBSCAN on
    # every institution (haversine, institution_id order): same labels, border points
    # included. Across the 200 databases the cases must occur: stacked coordinates,
    # several groups, border points (non-core members), noise.
    seen = {"stacked": 0, "several": 0, "border": 0, "noise": 0}
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        inst = random_stacked_institutions(rng)
        min_samples = int(rng.integers(2, 12))
        eps_km = float(rng.choice([10.0, 20.0]))
        ours = dbscan_groups(inst, eps_km, min_samples)
        ordered = inst.sort_values("institution_id").reset_index(drop=True)
        model = DBSCAN(eps=eps_km / 6371.0088, min_samples=min_samples, metric="haversine")
        plain = model.fit_predict(np.radians(ordered[["lat", "lon"]].to_numpy()))
        assert list(ours.index) == list(ordered["institution_id"]), seed
        np.testing.assert_array_equal(ours.to_numpy(), plain, err_msg=f"seed {seed}")
        core = np.zeros(len(plain), dtype=bool)
        core[model.core_sample_indices_] = True
        seen["stacked"] += bool(ordered[["lat", "lon"]].duplicated().any())
        seen["several"] += len(np.unique(plain[plain >= 0])) > 1
        seen["border"] += bool(((plain >= 0) & ~core).any())
        seen["noise"] += bool((plain == NOISE).any())
    assert min(seen.values()) >= 20, seen


@pytest.mark.parametrize("seed", range(30))
def test_weighted_dbscan_equals_sklearn_with_sample_weight(seed: int) -> None:
    # the rule weighted_dbscan implements, checked against scikit-learn itself: weights
    # 1-5 per distinct point, min_samples 2-14, eps 5/20/40 km
    rng = np.random.default_rng(seed)
    pts = random_stacked_institutions(rng)[["lat", "lon"]].drop_duplicates().to_numpy()
    weights = rng.integers(1, 6, len(pts)).astype(float)
    min_samples = int(rng.integers(2, 15))
    eps = float(rng.choice([5.0, 20.0, 40.0])) / EARTH_RADIUS_KM
    rad = np.radians(pts)
    expected = DBSCAN(eps=eps, min_samples=min_samples, metric="haversine").fit_predict(rad, sample_weight=weights)
    np.testing.assert_array_equal(weighted_dbscan(rad[:, 0], rad[:, 1], weights, eps, min_samples), expected)


def test_weighted_dbscan_exact_links_alone_equal_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    # the quick cube-linking test finds most links; switched off, the exact test alone
    # must give the same labels
    from quantumclusters import detection

    monkeypatch.setattr(detection._CoreCubes, "quick_links", lambda self, a, b: np.zeros(len(a), dtype=bool))
    for seed in range(10):
        rng = np.random.default_rng(500 + seed)
        pts = random_stacked_institutions(rng)[["lat", "lon"]].drop_duplicates().to_numpy()
        weights = rng.integers(1, 4, len(pts)).astype(float)
        eps = 20.0 / EARTH_RADIUS_KM
        rad = np.radians(pts)
        expected = DBSCAN(eps=eps, min_samples=4, metric="haversine").fit_predict(rad, sample_weight=weights)
        np.testing.assert_array_equal(weighted_dbscan(rad[:, 0], rad[:, 1], weights, eps, 4), expected)


def test_weighted_dbscan_refuses_an_eps_too_small_for_its_grid() -> None:
    with pytest.raises(ValueError, match="below the 0.02 km"):
        weighted_dbscan(np.zeros(3), np.zeros(3), np.ones(3), 0.001 / EARTH_RADIUS_KM, 2)
    assert weighted_dbscan(np.zeros(3), np.zeros(3), np.ones(3), 0.02 / EARTH_RADIUS_KM, 2).tolist() == [0, 0, 0]


# --------------------------------------------------------------------------- merging


def two_groups(dist_km: float) -> tuple[pd.DataFrame, pd.Series]:
    """Group 0: g01..g10 at 0 km; group 1: h01..h10 at ``dist_km`` east (hand labels)."""
    rows = group_at("g", 10, 0.0, 0.0) + group_at("h", 10, *km_east(dist_km))
    inst = frame(rows)
    labels = pd.Series([0] * 10 + [1] * 10, index=inst["institution_id"], name="label")
    return inst, labels


def links(internal_g: int, internal_h: int, cross: int) -> pd.DataFrame:
    pairs = [("g01", "g02")] * internal_g + [("h01", "h02")] * internal_h + [("g03", "h03")] * cross
    return make_db([], collaborations=collaboration_rows(pairs)).collaborations


def test_merge_pair_that_qualifies() -> None:
    # centroids 15 km apart (<= 20); 5 joining collaborations (>= 5); internal 25 and 40:
    # 5 / 25 = 20% >= 20% for the first group -> merge into one group 0.
    inst, labels = two_groups(15)
    merged = merge_groups(inst, labels, links(25, 40, 5))
    assert (merged == 0).all()


def test_merge_fails_on_distance() -> None:
    # 20.5 km apart (> 20) though 5 links and 5/20 = 25% -> no merge.
    inst, labels = two_groups(20.5)
    merged = merge_groups(inst, labels, links(20, 20, 5))
    assert merged.tolist() == [0] * 10 + [1] * 10


def test_merge_fails_on_number_of_links() -> None:
    # 15 km apart, 4 links (< 5) although 4/10 = 40% -> no merge.
    inst, labels = two_groups(15)
    merged = merge_groups(inst, labels, links(10, 10, 4))
    assert merged.tolist() == [0] * 10 + [1] * 10


def test_merge_fails_on_relative_intensity() -> None:
    # 15 km apart, 5 links, internal 30 and 26: 5/30 = 16.7%, 5/26 = 19.2% (< 20%) -> no.
    inst, labels = two_groups(15)
    merged = merge_groups(inst, labels, links(30, 26, 5))
    assert merged.tolist() == [0] * 10 + [1] * 10


def test_merge_closest_pair_first_then_recompute() -> None:
    # Groups on the equator: A at 0 km, B at 15 km, C at 25 km (10 members each).
    # internal: A 100, B 12, C 12; links A-B 5, B-C 5, A-C 0.
    # A-B: 15 km, 5 links, 5/12 = 41.7% -> qualifies. B-C: 10 km, 5/12 -> qualifies.
    # Closest first: B+C (10 km). New BC: internal 12 + 12 + 5 = 29, centroid ~20 km.
    # A-BC: 5 links, 5/100 = 5% and 5/29 = 17.2% -> fails. Result: {A}, {B, C}.
    # (Merging A-B first would have swallowed C too: AB centroid at 7.5 km, 17.5 km from C.)
    rows = group_at("a", 10, 0.0, 0.0) + group_at("b", 10, *km_east(15)) + group_at("c", 10, *km_east(25))
    inst = frame(rows)
    labels = pd.Series([0] * 10 + [1] * 10 + [2] * 10, index=inst["institution_id"], name="label")
    pairs = (
        [("a01", "a02")] * 100
        + [("b01", "b02")] * 12
        + [("c01", "c02")] * 12
        + [("a03", "b03")] * 5
        + [("b04", "c04")] * 5
    )
    coll = make_db([], collaborations=collaboration_rows(pairs)).collaborations
    merged = merge_groups(inst, labels, coll)
    assert merged.tolist() == [0] * 10 + [1] * 20


def test_merge_ignores_noise() -> None:
    inst, labels = two_groups(15)
    labels.iloc[0] = NOISE
    merged = merge_groups(inst, labels, links(25, 40, 5))
    assert merged.iloc[0] == NOISE
    assert (merged.iloc[1:] == 0).all()


# --------------------------------------------------------------------------- naming


def test_name_by_majority_vote_within_50_km() -> None:
    # One group of 10 on the equator: 6 at 0 km, 4 at 30 km. Areas: X at -10 km, Y at
    # 40 km. Votes: the 6 at 0 km are 10 km from X, 40 km from Y -> X; the 4 at 30 km are
    # 40 km from X, 10 km from Y -> Y. 6 > 4 -> X.
    rows = group_at("a", 6, 0.0, 0.0) + group_at("b", 4, *km_east(30))
    inst = frame(rows)
    labels = pd.Series(0, index=inst["institution_id"])
    areas = make_db([], areas=[area("x", "Xtown", *km_east(-10)), area("y", "Ytown", *km_east(40))]).areas
    named = name_groups(inst, labels, areas)
    assert named.loc[0, "area_id"] == "x"
    assert named.loc[0, "area"] == "Xtown"


def test_name_tie_goes_to_the_area_nearer_the_centroid() -> None:
    # 5 members at 0 km vote X (X at -10 km); 5 at 30 km vote Y (Y at 45 km: 15 km away;
    # 45 km from the 0-km members, so they prefer X). Tie 5-5. Centroid ~15 km: X is 25 km
    # away, Y 30 km -> X.
    rows = group_at("a", 5, 0.0, 0.0) + group_at("b", 5, *km_east(30))
    inst = frame(rows)
    labels = pd.Series(0, index=inst["institution_id"])
    areas = make_db([], areas=[area("x", "Xtown", *km_east(-10)), area("y", "Ytown", *km_east(45))]).areas
    assert name_groups(inst, labels, areas).loc[0, "area_id"] == "x"
    # move X to -20 km (35 km from the centroid): now Y (30 km) is nearer -> Y
    areas = make_db([], areas=[area("x", "Xtown", *km_east(-20)), area("y", "Ytown", *km_east(45))]).areas
    assert name_groups(inst, labels, areas).loc[0, "area_id"] == "y"


def test_group_without_votes_is_unnamed() -> None:
    # the only area is 60 km away (> 50): no votes -> "Unnamed (lat, lon)" of the centroid
    rows = group_at("a", 10, 10.0, 20.0)
    inst = frame(rows)
    labels = pd.Series(0, index=inst["institution_id"])
    areas = make_db([], areas=[area("x", "Xtown", *km_north(60, 10.0, 20.0))]).areas
    named = name_groups(inst, labels, areas)
    assert pd.isna(named.loc[0, "area_id"])
    assert named.loc[0, "area"] == "Unnamed (10.00, 20.00)"
    assert unnamed_label(-33.8688, 151.2093) == "Unnamed (-33.87, 151.21)"


def test_unique_names_suffix_by_decreasing_size() -> None:
    # two "Xtown" groups of 10 and 30 institutions: the larger keeps the name
    base = pd.Series(["Xtown", "Xtown", "Ytown", "Xtown"])
    size = pd.Series([10, 30, 5, 20])
    tiebreak = pd.Series(["a", "b", "c", "d"])
    assert unique_names(base, size, tiebreak).tolist() == ["Xtown (3)", "Xtown", "Ytown", "Xtown (2)"]
    # numbering continues after names already taken (clusters, when naming quasi-clusters)
    assert unique_names(base, size, tiebreak, frozenset({"Xtown"})).tolist() == [
        "Xtown (4)",
        "Xtown (2)",
        "Ytown",
        "Xtown (3)",
    ]


# --------------------------------------------------------------------------- thresholds


def cluster_db(funding: list[dict], extra_types: list[str] | None = None) -> tuple:
    """One group of 10 at the origin (s01-s03 startups, k01 a corporate, rest universities)
    and an area 'Xtown' at the origin. Returns (db, detection)."""
    types = ["startup", "startup", "startup", "corporate"] + ["university"] * 6
    rows = [institution(f"s{i + 1:02d}", 0.0, 0.0, type=t) for i, t in enumerate(types[:3])]
    rows += [institution("k01", 0.0, 0.0, type="corporate")]
    rows += group_at("u", 6, 0.0, 0.0)
    db = make_db(rows, funding=funding, areas=[area("x", "Xtown", 0.0, 0.0)])
    return db, detect(db)


def is_cluster(detection) -> bool:
    return bool((detection.assignments["status"] == "cluster").all()) and len(detection.clusters) == 1


def test_two_startups_with_exactly_10m_combined_make_a_cluster() -> None:
    # 4,000,000 + 6,000,000 = 10,000,000 >= 10 M with two funded startups -> cluster
    _, det = cluster_db([funding_row("f1", "s01", 4e6), funding_row("f2", "s02", 6e6, kind="equity")])
    assert is_cluster(det)
    assert det.clusters.loc[0, "cluster"] == "Xtown"


def test_two_startups_just_below_10m_do_not() -> None:
    # 4,000,000 + 5,999,999 = 9,999,999 < 10 M, largest < 25 M -> no cluster
    _, det = cluster_db([funding_row("f1", "s01", 4e6), funding_row("f2", "s02", 5_999_999, kind="debt")])
    assert not (det.assignments["status"] == "cluster").any()


def test_one_startup_with_exactly_25m_makes_a_cluster() -> None:
    _, det = cluster_db([funding_row("f1", "s01", 25e6)])  # 25 M >= 25 M
    assert is_cluster(det)


def test_one_startup_with_24_99m_alone_does_not() -> None:
    # one funded startup: the two-startup rule cannot apply; 24.99 M < 25 M
    _, det = cluster_db([funding_row("f1", "s01", 24.99e6)])
    assert len(det.clusters) == 0


def test_grants_and_corporate_commitments_do_not_count() -> None:
    # s01: 30 M grant; s02: 30 M 'corporate'; k01 (a corporate): 30 M vc. Disclosed startup
    # funding (vc/equity/debt of startups) = 0 -> no cluster.
    _, det = cluster_db(
        [
            funding_row("f1", "s01", 30e6, kind="grant"),
            funding_row("f2", "s02", 30e6, kind="corporate"),
            funding_row("f3", "k01", 30e6, kind="vc"),
        ]
    )
    assert len(det.clusters) == 0
    # add 6 M vc to s01 and 4 M equity to s02: 10 M disclosed by two startups -> cluster
    _, det = cluster_db(
        [
            funding_row("f1", "s01", 30e6, kind="grant"),
            funding_row("f2", "s02", 30e6, kind="corporate"),
            funding_row("f3", "k01", 30e6, kind="vc"),
            funding_row("f4", "s01", 6e6, kind="vc"),
            funding_row("f5", "s02", 4e6, kind="equity"),
        ]
    )
    assert is_cluster(det)


def test_cluster_needs_five_institutions() -> None:
    # with a smaller DBSCAN min_samples a 4-institution group can form; it still needs 5
    assert cluster_qualifies(np.array([4, 5]), np.array([2, 2]), np.array([10e6, 10e6]), np.array([6e6, 6e6])).tolist() == [
        False,
        True,
    ]


# --------------------------------------------------------------------------- quasi-clusters


def quasi_db(n_collaborations: int, startup_usd: float | None, prefix: str = "q", km: float = 0.0) -> list[dict]:
    """6 institutions (q01 a startup, q02-q06 universities) at ``km`` east of the origin:
    too few for a cluster (DBSCAN needs 10), enough for a quasi-cluster pass (5)."""
    lat, lon = km_east(km)
    return [institution(f"{prefix}01", lat, lon, type="startup")] + [
        institution(f"{prefix}{i:02d}", lat, lon) for i in range(2, 7)
    ]


def outside_partners(n: int) -> list[dict]:
    """Partners far away (10 degrees north), one institution each: always noise."""
    return [institution(f"z{i:03d}", 10.0 + i, 0.0) for i in range(n)]


def test_quasi_cluster_with_exactly_50_collaborations_and_5m_startup_is_tier_2() -> None:
    # 50 collaborations touch the group: 20 internal (q02-q03) + 30 with outside partners.
    # 50 >= 50 -> quasi-cluster. Its startup has exactly 5,000,000: "exceeding 5 M" is
    # false -> Tier 2.
    rows = quasi_db(50, None) + outside_partners(3)
    pairs = [("q02", "q03")] * 20 + [("q04", "z000")] * 30
    db = make_db(
        rows,
        funding=[funding_row("f1", "q01", 5e6)],
        collaborations=collaboration_rows(pairs),
        areas=[area("x", "Xtown", 0.0, 0.0)],
    )
    det = detect(db)
    assert len(det.clusters) == 0
    assert det.quasi_clusters["quasi_cluster"].tolist() == ["Xtown"]
    assert det.quasi_clusters.loc[0, "collaborations"] == 50
    assert det.quasi_clusters.loc[0, "institutions"] == 6
    assert det.quasi_clusters.loc[0, "tier"] == 2
    status = det.assignments.set_index("institution_id")["status"]
    assert (status[[f"q{i:02d}" for i in range(1, 7)]] == "quasi_cluster").all()
    assert (status[["z000", "z001", "z002"]] == "none").all()


def test_quasi_cluster_tier_1_when_a_startup_exceeds_5m_and_49_collaborations_fail() -> None:
    rows = quasi_db(0, None) + outside_partners(1)
    # 5,000,001 > 5 M -> Tier 1
    db = make_db(
        rows,
        funding=[funding_row("f1", "q01", 5_000_001)],
        collaborations=collaboration_rows([("q02", "q03")] * 50),
        areas=[area("x", "Xtown", 0.0, 0.0)],
    )
    assert detect(db).quasi_clusters["tier"].tolist() == [1]
    # 49 collaborations (< 50): a candidate, not a quasi-cluster
    db = make_db(
        rows,
        funding=[funding_row("f1", "q01", 5_000_001)],
        collaborations=collaboration_rows([("q02", "q03")] * 49),
        areas=[area("x", "Xtown", 0.0, 0.0)],
    )
    det = detect(db)
    assert len(det.quasi_clusters) == 0
    assert (det.assignments["status"] == "none").all()


def test_collaboration_inside_the_group_counts_once() -> None:
    # 25 internal collaborations (both partners members) count 25, not 50 -> fails 50
    rows = quasi_db(0, None)
    db = make_db(rows, collaborations=collaboration_rows([("q02", "q03")] * 25), areas=[area("x", "Xtown", 0, 0)])
    assert len(detect(db).quasi_clusters) == 0


def test_quasi_clusters_named_with_suffix_by_size() -> None:
    # Area X at the origin. Group A: 6 institutions 25 km west; group B: 7 institutions
    # 25 km east (50 km apart: separate DBSCAN groups). Both within 50 km of X only ->
    # both vote X. B is larger -> "Xtown", A -> "Xtown (2)".
    rows = quasi_db(0, None, prefix="a", km=-25) + quasi_db(0, None, prefix="b", km=25)
    rows.append(institution("b07", *km_east(25)))
    pairs = [("a02", "a03")] * 50 + [("b02", "b03")] * 50
    db = make_db(rows, collaborations=collaboration_rows(pairs), areas=[area("x", "Xtown", 0.0, 0.0)])
    det = detect(db)
    q = det.quasi_clusters.set_index("quasi_cluster")
    assert q.loc["Xtown", "institutions"] == 7
    assert q.loc["Xtown (2)", "institutions"] == 6
    groups = det.assignments.set_index("institution_id")["group"]
    assert groups["a01"] == "Xtown (2)"
    assert groups["b01"] == "Xtown"


def test_clusters_named_with_suffix_and_quasi_numbering_continues() -> None:
    # Two funded clusters of 10 (west, 25 km) and 12 (east, 25 km) around area X, and a
    # quasi-cluster of 6 institutions 45 km north of X (nearest area X, 45 km <= 50).
    # Clusters: larger east -> "Xtown", west -> "Xtown (2)"; the quasi-cluster -> "Xtown (3)".
    def funded(prefix: str, n: int, km: float) -> tuple[list[dict], list[dict]]:
        lat, lon = km_east(km)
        rows = [institution(f"{prefix}s", lat, lon, type="startup")] + group_at(prefix, n - 1, lat, lon)
        return rows, [funding_row(f"f{prefix}", f"{prefix}s", 30e6)]

    west, fw = funded("w", 10, -25)
    east, fe = funded("e", 12, 25)
    lat, lon = km_north(45)
    quasi = [institution(f"q{i:02d}", lat, lon) for i in range(1, 7)]
    pairs = [("q01", "q02")] * 50
    db = make_db(
        west + east + quasi, funding=fw + fe, collaborations=collaboration_rows(pairs), areas=[area("x", "Xtown", 0, 0)]
    )
    det = detect(db)
    cl = det.clusters.set_index("cluster")
    assert cl.loc["Xtown", "institutions"] == 12
    assert cl.loc["Xtown (2)", "institutions"] == 10
    assert det.quasi_clusters["quasi_cluster"].tolist() == ["Xtown (3)"]


def test_members_of_a_failed_cluster_candidate_can_form_a_quasi_cluster() -> None:
    # 10 unfunded institutions: a DBSCAN group in pass 1 but not a cluster (no funding);
    # pass 2 (min_samples 5) finds them again; 50 collaborations -> quasi-cluster.
    rows = group_at("u", 10, 0.0, 0.0)
    db = make_db(rows, collaborations=collaboration_rows([("u01", "u02")] * 50), areas=[area("x", "Xtown", 0, 0)])
    det = detect(db)
    assert len(det.clusters) == 0
    assert det.quasi_clusters["institutions"].tolist() == [10]


def test_cluster_country_and_region_are_the_areas() -> None:
    # members registered in FI but the area is in CN -> country CN, region China
    rows = [institution("s01", 0, 0, type="startup")] + group_at("u", 9, 0.0, 0.0)
    db = make_db(rows, funding=[funding_row("f", "s01", 25e6)], areas=[area("x", "Xtown", 0, 0, country="CN")])
    det = detect(db)
    assert det.clusters.loc[0, ["country", "region"]].tolist() == ["CN", "China"]
    assert det.clusters.loc[0, ["institutions", "startups", "research_institutions"]].tolist() == [10, 1, 9]
    assert math.isclose(det.clusters.loc[0, "lat"], 0.0, abs_tol=1e-12)


def test_params_defaults_are_the_papers() -> None:
    p = Params()
    assert (p.eps_km, p.min_samples, p.quasi_min_samples) == (20.0, 10, 5)
    assert (p.merge_km, p.merge_min_links, p.merge_min_share, p.naming_km) == (20.0, 5, 0.2, 50.0)
    assert (p.cluster_min_combined_usd, p.cluster_min_single_usd, p.tier1_exceeding_usd) == (10e6, 25e6, 5e6)
    assert (p.quasi_min_institutions, p.quasi_min_collaborations) == (5, 50)
    assert DEG_PER_KM == pytest.approx(0.0089932, rel=1e-5)


def test_merge_end_to_end_ring_around_a_core() -> None:
    # DBSCAN finds two groups whose centroids coincide: a ring of 63 institutions 30 km
    # around the origin (neighbours 3 km apart: each sees +-6 neighbours = 13 >= 10, so the
    # ring is one group) and 10 institutions at the origin (30 km from the ring: > 20, a
    # second group). Centroids: both at the origin -> 0 km <= 20. 5 collaborations join
    # them; the core group has 10 internal ones: 5/10 = 50% >= 20% -> merged into one.
    import math as m

    lat0 = lon0 = 0.0
    ring = []
    for k in range(63):
        angle = 2 * m.pi * k / 63
        lat, lon = km_north(30 * m.sin(angle), lat0, lon0)[0], km_east(30 * m.cos(angle))[1]
        ring.append(institution(f"r{k:02d}", lat, lon))
    core = group_at("c", 10, lat0, lon0)
    pairs = [("c01", "c02")] * 10 + [("c03", f"r{k:02d}") for k in range(5)]
    db = make_db(ring + core, collaborations=collaboration_rows(pairs))
    found = find_groups(db.institutions, db.collaborations, db.areas, min_samples=10)
    assert sorted(found.dbscan.unique().tolist()) == [0, 1]  # two DBSCAN groups
    assert (found.merged == 0).all()  # one after merging
    # with 4 joining collaborations the merge fails (links < 5)
    db = make_db(ring + core, collaborations=collaboration_rows(pairs[:-1]))
    found = find_groups(db.institutions, db.collaborations, db.areas, min_samples=10)
    assert sorted(found.merged.unique().tolist()) == [0, 1]


# --------------------------------------------------------------------------- naming votes


def _ball_tree_nearest(points_deg: np.ndarray, centres_deg: np.ndarray, naming_km: float) -> np.ndarray:
    """The reference: scikit-learn's haversine BallTree, nearest of k=2, equal distances to
    the smaller index, within naming_km inclusive (the engine's rule before the k-d tree)."""
    from sklearn.neighbors import BallTree

    tree = BallTree(np.radians(centres_deg), metric="haversine")
    k = min(2, len(centres_deg))
    dist, idx = tree.query(np.radians(points_deg), k=k)
    choice = idx[:, 0]
    if k == 2:
        choice = np.where(dist[:, 1] == dist[:, 0], np.minimum(idx[:, 0], idx[:, 1]), choice)
    return np.where(dist[:, 0] <= naming_km / EARTH_RADIUS_KM, choice, -1)


@pytest.mark.parametrize("seed", range(30))
def test_nearest_area_matches_the_haversine_ball_tree(seed: int) -> None:
    # Random centres (some repeated exactly: equal distances) and points around them, some
    # at exactly the 50 km boundary and some exactly midway between two centres.
    from quantumclusters.detection import _nearest_area_index

    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    centres = np.column_stack([rng.uniform(-60, 70, m), rng.uniform(-180, 180, m)]).round(2)
    if m > 3:
        centres[1] = centres[0]  # two areas on the same centre: the smaller index wins
    n = 400
    base = centres[rng.integers(0, m, n)]
    points = base + rng.normal(0, 0.4, (n, 2)) * rng.choice([0.0, 0.1, 1.0, 3.0], (n, 1))
    points[:, 0] = points[:, 0].clip(-89, 89)
    # points exactly 50 km north of a centre (the boundary, inclusive) and a hair beyond
    on_edge = centres[rng.integers(0, m, 20)]
    points[:20] = np.column_stack([on_edge[:, 0] + np.degrees(50.0 / EARTH_RADIUS_KM), on_edge[:, 1]])
    points[20:40] = np.column_stack([on_edge[:, 0] + np.degrees(50.0 / EARTH_RADIUS_KM) * (1 + 1e-12), on_edge[:, 1]])
    if m > 3:  # the midpoint of two centres on a meridian: equidistant
        centres[3] = [centres[2, 0] + 0.5, centres[2, 1]]
        points[40:50] = [centres[2, 0] + 0.25, centres[2, 1]]
    areas = pd.DataFrame({"lat": centres[:, 0], "lon": centres[:, 1]})
    got = _nearest_area_index(points[:, 0], points[:, 1], areas, 50.0)
    assert np.array_equal(got, _ball_tree_nearest(points, centres, 50.0))


def test_encode_reuses_the_loaders_links(example_db) -> None:
    # The loader's resolved references, renumbered in id order, are what looking the ids
    # up gives (and apply_cutoff keeps them in step with the rows it keeps).
    import dataclasses

    from quantumclusters.detection import encode
    from quantumclusters.schema import apply_cutoff

    for cutoff in ("2025-07-31", "2021-01-01", "2010-01-01"):
        counted = apply_cutoff(example_db, cutoff)
        assert counted.links is not None and counted.fitting_links() is not None
        fast = encode(counted)
        slow = encode(dataclasses.replace(counted, links=None))
        for name in ("coll_a", "coll_b", "fund_pos"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
        pd.testing.assert_frame_equal(fast.institutions, slow.institutions)


def test_links_are_ignored_when_the_frames_change(example_db) -> None:
    import dataclasses

    from quantumclusters.detection import encode

    changed = dataclasses.replace(example_db, collaborations=example_db.collaborations.iloc[::-1].reset_index(drop=True))
    assert changed.links is not None and changed.fitting_links() is None
    enc = encode(changed)
    ids = enc.institutions["institution_id"].to_numpy(dtype=object)
    assert (ids[enc.coll_a] == changed.collaborations["institution_a"].to_numpy(dtype=object)).all()
