"""Contract sections 2, 8, 9: cut-off inclusivity through run(), output files, determinism,
progress reporting and the derived lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import area, collaboration_rows, funding_row, group_at, institution, make_db

from quantumclusters import derived
from quantumclusters.pipeline import OUTPUT_FILES, STAGES, run, write_result

CUTOFF = "2025-07-31"
DAY_BEFORE = "2025-07-30"

EXACT_COLUMNS = {
    "assignments.csv": "institution_id,status,group",
    "clusters.csv": "cluster,area_id,country,region,lat,lon,institutions,startups,research_institutions,population,gdp_usd",
    "indicators.csv": "cluster,total_funding_usd,startup_funding_to_gdp,industry_collaborations_per_tn_gdp,"
    "collaborations,external_share,brokerage,institutions_per_million,spinouts_per_research_institution,"
    "startups_per_institution",
    "ranking.csv": "cluster,overall_rank,overall_label,market_orientation_rank,market_orientation_label,"
    "collaboration_intensity_rank,collaboration_intensity_label,ecosystem_maturity_rank,ecosystem_maturity_label,"
    "overall_score,market_orientation_score,collaboration_intensity_score,ecosystem_maturity_score",
    "quasi_clusters.csv": "quasi_cluster,area_id,country,region,tier,institutions,collaborations",
    "robustness.csv": "dimension,spearman_z_borda,spearman_pca_borda,spearman_z_pca,mc_median,mc_p05,"
    "mc_share_above_0_90",
    "uncertainty.csv": "cluster,baseline_rank,median_rank,p05_rank,p95_rank,share_within_5",
    "sensitivity.csv": "factor,S1,S1_conf,ST,ST_conf",
    "coherence.csv": "dimension,cronbach_alpha,pc1_share,complete_clusters,min_rho_indicator_dimension,"
    "weak_indicators,negative_indicators",
    "correlations.csv": "indicator,total_funding_usd,startup_funding_to_gdp,industry_collaborations_per_tn_gdp,"
    "collaborations,external_share,brokerage,institutions_per_million,spinouts_per_research_institution,"
    "startups_per_institution",
}


# --------------------------------------------------------------------------- cut-off


def small_cluster(startup_active: str = "2020-01-01", funding_date: str = "2021-01-01",
                  collaboration_date: str = "2022-01-01") -> object:
    """9 universities + 1 startup at one spot (10 = min_samples) with one 25 M vc round,
    and one collaboration between two universities."""
    rows = group_at("u", 9, 0.0, 0.0) + [institution("s01", 0.0, 0.0, type="startup", active_since=startup_active)]
    return make_db(
        rows,
        funding=[funding_row("f1", "s01", 25e6, date=funding_date)],
        collaborations=collaboration_rows([("u01", "u02")], date=collaboration_date),
        areas=[area("x", "Xtown", 0.0, 0.0)],
    )


@pytest.mark.parametrize(("cutoff", "clusters"), [(CUTOFF, 1), (DAY_BEFORE, 0)])
def test_institution_active_on_the_cutoff_counts(cutoff: str, clusters: int) -> None:
    # startup active_since == cut-off: counts -> 10 institutions -> a DBSCAN group; its
    # 25 M round -> cluster. One day earlier cut-off: 9 institutions, 9 < 10 -> nothing.
    db = small_cluster(startup_active=CUTOFF, funding_date=CUTOFF)
    assert len(run(db, cutoff, draws=10).clusters) == clusters


@pytest.mark.parametrize(("cutoff", "clusters"), [(CUTOFF, 1), (DAY_BEFORE, 0)])
def test_funding_dated_on_the_cutoff_counts(cutoff: str, clusters: int) -> None:
    # funding dated on the cut-off counts -> 25 M -> cluster; the day before it doesn't
    db = small_cluster(funding_date=CUTOFF)
    assert len(run(db, cutoff, draws=10).clusters) == clusters


@pytest.mark.parametrize(("cutoff", "collaborations"), [(CUTOFF, 1.0), (DAY_BEFORE, 0.0)])
def test_collaboration_dated_on_the_cutoff_counts(cutoff: str, collaborations: float) -> None:
    db = small_cluster(collaboration_date=CUTOFF)
    result = run(db, cutoff, draws=10)
    assert result.indicators["collaborations"].tolist() == [collaborations]


# --------------------------------------------------------------------------- output


@pytest.fixture(scope="module")
def example_result():  # type: ignore[no-untyped-def]
    from pathlib import Path

    from quantumclusters.schema import load_database

    return run(load_database(Path(__file__).parent / "data" / "example"), CUTOFF, draws=500)


def test_output_files_and_exact_columns(example_result, tmp_path) -> None:  # type: ignore[no-untyped-def]
    written = write_result(example_result, tmp_path)
    assert len(OUTPUT_FILES) == 10  # the six of contract section 8 and the audit's four
    assert [p.name for p in written] == list(OUTPUT_FILES)
    assert set(EXACT_COLUMNS) == set(OUTPUT_FILES)
    for name, header in EXACT_COLUMNS.items():
        raw = (tmp_path / name).read_bytes()
        assert raw.decode("utf-8").split("\n", 1)[0] == header
        assert b"\r" not in raw and raw.endswith(b"\n")


def test_two_runs_byte_identical(example_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = run(example_db, CUTOFF, draws=300)
    b = run(example_db, CUTOFF, draws=300)
    write_result(a, tmp_path / "a")
    write_result(b, tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_file_order_does_not_change_the_output(example_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    shuffled = replace(
        example_db,
        institutions=example_db.institutions.sample(frac=1, random_state=1).reset_index(drop=True),
        collaborations=example_db.collaborations.sample(frac=1, random_state=2).reset_index(drop=True),
    )
    write_result(run(example_db, CUTOFF, draws=200), tmp_path / "a")
    write_result(run(shuffled, CUTOFF, draws=200), tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_full_precision_floats(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # startups_per_institution = 1/10 -> "0.1"; institutions_per_million = 10 / 3 ->
    # repr(10/3) = "3.3333333333333335" (all 17 significant digits)
    db = small_cluster()
    db = make_db(
        db.institutions.to_dict("records"),
        db.funding.to_dict("records"),
        db.collaborations.to_dict("records"),
        [area("x", "Xtown", 0.0, 0.0, population=3e6)],
    )
    write_result(run(db, CUTOFF, draws=10), tmp_path)
    text = (tmp_path / "indicators.csv").read_text(encoding="utf-8")
    assert ",3.3333333333333335," in text and text.rstrip("\n").endswith(",0.1")


def test_unicode_names_survive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = small_cluster()
    db = make_db(
        db.institutions.to_dict("records"),
        db.funding.to_dict("records"),
        db.collaborations.to_dict("records"),
        [area("x", "合肥", 0.0, 0.0, country="CN")],
    )
    write_result(run(db, CUTOFF, draws=10), tmp_path)
    assert "合肥,x,CN,China" in (tmp_path / "clusters.csv").read_text(encoding="utf-8")


def test_progress_callback_reports_every_stage(example_db) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[str, int, int]] = []
    run(example_db, CUTOFF, draws=10, progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert [c[0] for c in calls] == [*STAGES, "done"]
    assert [c[1] for c in calls] == list(range(len(STAGES) + 1))


def test_example_database_runs(example_result) -> None:  # type: ignore[no-untyped-def]
    r = example_result
    assert set(r.assignments["status"]) <= {"cluster", "quasi_cluster", "none"}
    assert len(r.assignments) == len(r.db.institutions)
    assert r.ranking["cluster"].tolist() == r.ranking.sort_values(["overall_rank", "cluster"])["cluster"].tolist()
    assert len(r.robustness) == 4


# --------------------------------------------------------------------------- derived (section 9)


@pytest.fixture(scope="module")
def derived_result():  # type: ignore[no-untyped-def]
    """Cluster 'Xtown' (10 at the origin: s01 startup with 30 M, k01 corporate, u01-u08
    universities) and cluster 'Ytown' 100 km east (10 universities v01-v10 + startup t01
    with 30 M). Outside: o01 (startup, 2 M vc), o02 (university), both far away."""
    x = [institution("s01", 0, 0, type="startup", name="Beta Quantum"),
         institution("k01", 0, 0, type="corporate", name="Alpha Corp")] + group_at("u", 8, 0.0, 0.0)
    y = [institution("t01", 0, 0.9, type="startup")] + group_at("v", 9, 0.0, 0.9)
    outside = [institution("o01", 40, 40, type="startup"), institution("o02", -40, -40)]
    funding = [
        funding_row("f1", "s01", 30e6, date="2023-05-01"),
        funding_row("f2", "t01", 30e6, date="2024-05-01"),
        funding_row("f3", "o01", 2e6, date="2024-06-01"),
        funding_row("f4", "k01", 1e6, kind="corporate", date="2025-01-01"),
    ]
    pairs = [
        ("s01", "u01"), ("s01", "u02"),  # s01: 2 collaborations
        ("k01", "u03"), ("k01", "o02"),  # k01: 2 (tie with s01: by name, Alpha Corp first)
        ("u01", "v01"),  # both partners in clusters
        ("u02", "o01"),  # exactly one
        ("o01", "o02"),  # neither
    ]
    db = make_db(
        x + y + outside,
        funding=funding,
        collaborations=collaboration_rows(pairs),
        areas=[area("x", "Xtown", 0, 0, gdp_usd=750e9), area("y", "Ytown", 0, 0.9, gdp_usd=749.9e9)],
    )
    return run(db, CUTOFF, draws=10)


def test_top_collaborators_ties_broken_by_name(derived_result) -> None:  # type: ignore[no-untyped-def]
    top = derived.top_collaborators(derived_result, "Xtown", "industry")
    # s01 and k01 both have 2 collaborations -> alphabetical: "Alpha Corp" before "Beta Quantum"
    assert top["name"].tolist() == ["Alpha Corp", "Beta Quantum"]
    assert top["collaborations"].tolist() == [2, 2]
    research = derived.top_collaborators(derived_result, "Xtown", "research", n=2)
    # u01: s01, v01 = 2; u02: s01, o01 = 2; by name "Institution u01" < "Institution u02"
    assert research["institution_id"].tolist() == ["u01", "u02"]


def test_major_clusters_at_least_750_bn(derived_result) -> None:  # type: ignore[no-untyped-def]
    # Xtown GDP exactly 750 bn -> major; Ytown 749.9 bn -> not
    assert derived.major_clusters(derived_result)["cluster"].tolist() == ["Xtown"]


def test_collaboration_involvement(derived_result) -> None:  # type: ignore[no-untyped-def]
    # both: s01-u01, s01-u02, k01-u03, u01-v01 = 4; one: k01-o02, u02-o01 = 2; neither: 1
    counts = derived.involvement_counts(derived_result)
    assert counts["collaborations"].tolist() == [4, 2, 1]
    assert counts["share"].tolist() == [4 / 7, 2 / 7, 1 / 7]


def test_funding_in_and_out_of_clusters(derived_result) -> None:  # type: ignore[no-untyped-def]
    by_year = derived.funding_by_year(derived_result)
    # 2023: 30 M in; 2024: 30 M in + 2 M out; 2025: 1 M (corporate commitment) in
    assert by_year["in_clusters_usd"].tolist() == [30e6, 30e6, 1e6]
    assert by_year["outside_usd"].tolist() == [0.0, 2e6, 0.0]
    cumulative = derived.funding_by_year(derived_result, cumulative=True)
    # up to 2024: 60 in, 2 out -> 60/62
    assert cumulative.loc[2024, "share_in_clusters"] == pytest.approx(60 / 62)
    by_region = derived.funding_by_region(derived_result)
    assert by_region.loc["EU", "in_clusters_usd"] == 61e6 and by_region.loc["EU", "outside_usd"] == 2e6


def test_type_shares_in_clusters(derived_result) -> None:  # type: ignore[no-untyped-def]
    shares = derived.type_shares_in_clusters(derived_result)
    # startups: s01, t01 in, o01 out -> 2/3; universities: 8 + 9 in, o02 out -> 17/18
    assert shares.loc["startup", "share_in_clusters"] == pytest.approx(2 / 3)
    assert shares.loc["university", "share_in_clusters"] == pytest.approx(17 / 18)
    # startup funding (vc/equity/debt of startups): 60 M of 62 M in clusters
    assert shares.loc["startup funding", "share_in_clusters"] == pytest.approx(60 / 62)


def test_quasi_cluster_members_count_as_outside() -> None:
    # 6 institutions with 50 collaborations: a quasi-cluster; "in a cluster" is False
    rows = group_at("q", 6, 0.0, 0.0)
    db = make_db(rows, collaborations=collaboration_rows([("q01", "q02")] * 50), areas=[area("x", "Xtown", 0, 0)])
    result = run(db, CUTOFF, draws=10)
    assert (result.assignments["status"] == "quasi_cluster").all()
    assert not derived.in_cluster(result).any()
    assert np.array_equal(derived.involvement_counts(result)["collaborations"].to_numpy(), [0, 0, 50])


def test_database_without_clusters_still_gives_all_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # two lone institutions: no group, no cluster; files have headers and no rows, and the
    # robustness rows are missing values (nothing to correlate), not zeros
    db = make_db([institution("a", 0, 0), institution("b", 10, 10)], areas=[area("x", "Xtown", 0, 0)])
    result = run(db, CUTOFF, draws=10)
    written = write_result(result, tmp_path)
    assert [p.name for p in written] == list(OUTPUT_FILES)
    assert (tmp_path / "ranking.csv").read_text(encoding="utf-8").count("\n") == 1
    assert (tmp_path / "uncertainty.csv").read_text(encoding="utf-8").count("\n") == 1
    assert result.robustness.drop(columns="dimension").isna().all().all()
    assert result.assignments["status"].tolist() == ["none", "none"]


def test_funding_in_a_cross_border_cluster_counts_in_the_clusters_region() -> None:
    # A cluster named after a Swiss area (Rest of the World) whose funded startup sits on the
    # French side of the border (EU): in-cluster funding follows the cluster's area; the
    # lone French startup outside any cluster stays in its own country's region.
    rows = group_at("u", 9, 46.2, 6.1, country="CH") + [
        institution("s01", 46.2, 6.1, type="startup", country="FR"),
        institution("s02", 10.0, 10.0, type="startup", country="FR"),
    ]
    db = make_db(
        rows,
        funding=[funding_row("f1", "s01", 30e6), funding_row("f2", "s02", 2e6)],
        areas=[area("gva", "Geneva", 46.2, 6.1, country="CH")],
    )
    result = run(db, CUTOFF, draws=10)
    assert result.clusters["region"].tolist() == ["Rest of the World"]
    by_region = derived.funding_by_region(result)
    assert by_region.loc["Rest of the World", "in_clusters_usd"] == 30e6
    assert by_region.loc["EU", "in_clusters_usd"] == 0.0 and by_region.loc["EU", "outside_usd"] == 2e6
