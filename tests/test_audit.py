"""Issue 15: the audit (coherence, uncertainty, Sobol' sensitivity, leave-one-out,
detection sensitivity, vintages) and its four output files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from quantumclusters import audit as A
from quantumclusters.indicators import INDICATORS
from quantumclusters.pipeline import run, write_result
from quantumclusters.ranking import rank_clusters

CUTOFF = "2025-07-31"
AUDIT_FILES = ("uncertainty.csv", "sensitivity.csv", "coherence.csv", "correlations.csv")


def random_table(n: int = 30, seed: int = 3, missing: float = 0.1) -> pd.DataFrame:
    """n clusters x nine indicators with ties (values on a coarse grid) and missing values."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 12, size=(n, len(INDICATORS))).astype(float)
    values[rng.uniform(size=values.shape) < missing] = np.nan
    return pd.DataFrame(values, index=pd.Index([f"c{i:02d}" for i in range(n)], name="cluster"), columns=list(INDICATORS))


# --------------------------------------------------------------------------- Sobol'


def test_sobol_wiring_recovers_ishigami_indices() -> None:
    # Ishigami (a=7, b=0.1) on [-pi, pi]^3: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = A.sobol_sample(problem, 2048, seed=1)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    idx = A.sobol_indices(problem, y[:, None], seed=1).set_index("factor")
    assert np.allclose(idx["S1"], [0.3139, 0.4424, 0.0], atol=0.04)
    assert np.allclose(idx["ST"], [0.5576, 0.4424, 0.2437], atol=0.04)
    assert (idx["S1_conf"] > 0).all() and (idx["ST_conf"] > 0).all()


def test_sobol_indices_of_many_outputs_equal_salib_analyze_column_by_column() -> None:
    from SALib.analyze import sobol as sobol_analyze

    problem = A.sobol_problem()
    x = A.sobol_sample(problem, 64, seed=2)
    ranks = A.simulate_ranks(random_table(25), A.choices_from_unit(x))
    ranks[:, 3] = 7.0  # a cluster that never moves: zeros, as for no variance
    got = A.sobol_indices(problem, ranks, seed=9, num_resamples=20, chunk=4)
    assert got["output"].nunique() == ranks.shape[1]
    for j in (0, 1, 5, 24):
        mine = got[got["output"] == j].set_index("factor")
        ref = sobol_analyze.analyze(problem, ranks[:, j], calc_second_order=False, num_resamples=20, seed=9)
        for key in ("S1", "S1_conf", "ST", "ST_conf"):
            np.testing.assert_allclose(mine[key].to_numpy(), ref[key], rtol=0, atol=1e-12)
    still = got[got["output"] == 3]
    assert (still[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy() == 0).all()


def test_sobol_groups_are_the_five_factors() -> None:
    problem = A.sobol_problem()
    assert list(dict.fromkeys(problem["groups"])) == list(A.FACTORS)
    x = A.sobol_sample(problem, 8, seed=0)
    assert x.shape == (8 * (len(A.FACTORS) + 2), 15)
    choices = A.choices_from_unit(x)
    assert np.allclose(choices.dimension_weights.sum(axis=1), 1.0)
    assert set(choices.leave_out) <= set(range(-1, 9)) and set(choices.normalisation) <= {0, 1, 2}


def test_sensitivity_rows_and_a_factor_that_cannot_matter() -> None:
    table = random_table(20, missing=0.0)
    sens, per_cluster = A.sensitivity(table, n=64, seed=5)
    assert sens["factor"].tolist() == list(A.FACTORS)
    assert np.isfinite(sens[["S1", "ST"]].to_numpy()).all()
    assert set(per_cluster["cluster"]) == set(table.index)
    # one cluster first on every indicator stays first under every choice: no variance
    table.iloc[0] = table.max() + 1
    _, per_cluster = A.sensitivity(table, n=64, seed=5)
    assert (per_cluster.loc[per_cluster["cluster"] == "c00", ["S1", "ST"]] == 0).all().all()


# --------------------------------------------------------------------------- coherence


def test_cronbach_alpha_hand_computed() -> None:
    # columns (0,1,2), (0,1,2), (0,2,1): var_i = 2/3 each; row sums (0,4,5), var = 14/3;
    # alpha = 3/2 * (1 - 2 / (14/3)) = 6/7. The row with a missing value is left out.
    z = np.array([[0, 0, 0], [1, 1, 2], [2, 2, 1], [5, np.nan, 1]], dtype=float)
    assert A.cronbach_alpha(z) == pytest.approx(6 / 7, abs=1e-12)
    assert A.cronbach_alpha(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])) == pytest.approx(1.0)


def test_coherence_tables() -> None:
    table = random_table()
    coh, per_indicator, corr = A.coherence(table)
    assert coh["dimension"].tolist() == ["market_orientation", "collaboration_intensity", "ecosystem_maturity"]
    assert corr.shape == (9, 9) and np.allclose(corr.to_numpy(), corr.to_numpy().T, equal_nan=True)
    assert (np.diag(corr) == 1.0).all()
    assert corr.loc["brokerage", "collaborations"] == pytest.approx(
        table[["brokerage", "collaborations"]].dropna().corr(method="spearman").iloc[0, 1]
    )
    assert ((coh["pc1_share"] > 1 / 3) & (coh["pc1_share"] <= 1)).all()
    assert (per_indicator["weak"] == (per_indicator[["rho_dimension", "rho_overall"]].abs() < 0.3).any(axis=1)).all()
    # an indicator that runs against its dimension is flagged negative
    flipped = table.copy()
    flipped["brokerage"] = -flipped["collaborations"] * 10 - flipped["external_share"] * 10
    _, per_indicator, _ = A.coherence(flipped)
    assert per_indicator.set_index("indicator").loc["brokerage", "negative"]


# --------------------------------------------------------------------------- aggregation and baseline


def test_geometric_mean_of_equal_values_is_the_arithmetic_one() -> None:
    rng = np.random.default_rng(0)
    values = np.full((4, 5, 3), 1.37)
    values[1, 2, 0] = np.nan  # a missing value: mean of the rest
    weights = rng.uniform(size=(4, 3))
    geo = A.weighted_mean(values, weights, np.ones(4, dtype=bool))
    ari = A.weighted_mean(values, weights, np.zeros(4, dtype=bool))
    assert np.allclose(geo, 1.37, rtol=0, atol=1e-12) and np.allclose(geo, ari, rtol=0, atol=1e-12)
    # and unequal values: geometric below arithmetic
    values[0, 0] = [1.0, 2.0, 1.5]
    assert A.weighted_mean(values, weights, np.ones(4, dtype=bool))[0, 0] < A.weighted_mean(values, weights, np.zeros(4, dtype=bool))[0, 0]


def test_geometric_shift_is_within_one_and_two() -> None:
    stack = A.normalised_stack(random_table())
    geometric = stack[1::2]
    assert np.nanmin(geometric) == 1.0 and np.nanmax(geometric) == 2.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_baseline_choice_reproduces_the_baseline_ranking(seed: int) -> None:
    table = random_table(35, seed=seed, missing=0.25)
    expected = rank_clusters(table).set_index("cluster")["overall_rank"]
    got = A.simulate_ranks(table, A.baseline_choices(2))
    ranked = A._ranked(table)
    assert np.array_equal(got[0], expected.reindex(ranked.index).to_numpy(dtype=float))
    unc = A.uncertainty(table, draws=50, seed=seed).set_index("cluster")
    assert unc["baseline_rank"].tolist() == expected.reindex(unc.index).astype(int).tolist()


def test_uncertainty_properties_and_seed() -> None:
    table = random_table()
    unc = A.uncertainty(table, draws=400, seed=9)
    assert list(unc.columns) == list(A.UNCERTAINTY_COLUMNS)
    assert ((unc["p05_rank"] <= unc["median_rank"]) & (unc["median_rank"] <= unc["p95_rank"])).all()
    assert unc["share_within_5"].between(0, 1).all()
    assert unc.equals(A.uncertainty(table, draws=400, seed=9))
    assert not unc.equals(A.uncertainty(table, draws=400, seed=10))
    choices = A.random_choices(1000, seed=9)
    for name, options in (("normalisation", 3), ("aggregation", 2), ("leave_out", 10)):
        assert len(set(getattr(choices, name))) == options


# --------------------------------------------------------------------------- leave one out


def test_leave_one_out_equals_ranking_without_the_indicator() -> None:
    table = random_table(25, missing=0.15)
    ranked = A._ranked(table)
    choices = replace(A.baseline_choices(9), leave_out=np.arange(9))
    ranks = A.simulate_ranks(table, choices)
    for j, col in enumerate(INDICATORS):
        without = table.assign(**{col: np.nan})
        expected = rank_clusters(without).set_index("cluster")["overall_rank"].reindex(ranked.index)
        assert np.array_equal(ranks[j], expected.to_numpy(dtype=float), equal_nan=True), col
    loo = A.leave_one_out(table)
    assert loo["indicator"].tolist() == list(INDICATORS)
    assert (loo["spearman"] <= 1).all() and (loo["max_abs_shift"] >= loo["mean_abs_shift"]).all()


# --------------------------------------------------------------------------- detection and vintages


def fake_run(groups: dict[str, list[str]], order: list[str], quasi: dict[str, list[str]] | None = None) -> SimpleNamespace:
    rows = [{"institution_id": i, "status": "cluster", "group": g} for g, ids in groups.items() for i in ids]
    rows += [{"institution_id": i, "status": "quasi_cluster", "group": g} for g, ids in (quasi or {}).items() for i in ids]
    ranking = pd.DataFrame({"cluster": order, "overall_rank": range(1, len(order) + 1)})
    return SimpleNamespace(assignments=pd.DataFrame(rows), ranking=ranking)


def test_compare_detection_kept_merged_disappeared() -> None:
    base = fake_run({"A": ["1", "2", "3", "4"], "B": ["5", "6"], "C": ["7", "8"]}, ["A", "B", "C"])
    other = fake_run({"A": ["1", "2", "3", "5", "6"]}, ["A"])
    summary, detail = A.compare_detection(base, other)
    d = detail.set_index("cluster")
    assert d.loc["A", "status"] == "kept" and d.loc["A", "retained_share"] == 0.75
    assert d.loc["B", "status"] == "merged" and d.loc["B", "into"] == "A" and d.loc["B", "retained_share"] == 1.0
    assert d.loc["B", "setting_rank"] == 1 and d.loc["B", "baseline_rank"] == 2
    assert d.loc["C", "status"] == "dissolved" and d.loc["C", "retained_share"] == 0.0
    assert (summary["survived"], summary["merged"], summary["disappeared"], summary["top10_changed"]) == (1, 1, 1, True)
    assert summary["top10_out"] == "B; C" and summary["top10_in"] == ""
    same, same_detail = A.compare_detection(base, base)
    assert same["survived"] == 3 and not same["top10_changed"] and same["spearman"] == 1.0
    assert set(same_detail["status"]) == {"kept"} and (same_detail["retained_share"] == 1.0).all()


def test_compare_detection_renamed_quasi_split_and_top() -> None:
    # twelve baseline clusters c01..c12 (ranked in that order) of three members each
    groups = {f"c{i:02d}": [f"{i}a", f"{i}b", f"{i}c"] for i in range(1, 13)}
    base = fake_run(groups, list(groups))
    after = {k: v for k, v in groups.items() if k not in ("c01", "c02", "c03")}
    after["X"] = groups["c01"]  # c01's members under another name: renamed
    after["c03"] = ["3a", "3b"]  # c03 keeps its name but ...
    after["c03 (2)"] = ["3c", "99"]  # ... one member splits off into a new cluster
    order = ["X", "c04", "c03 (2)", *[f"c{i:02d}" for i in range(5, 13)], "c03"]
    other = fake_run(after, order, quasi={"Q": groups["c02"]})  # c02 is now a quasi-cluster
    summary, detail = A.compare_detection(base, other)
    d = detail.set_index("cluster")
    assert d.loc["c01", "status"] == "renamed" and d.loc["c01", "into"] == "X" and d.loc["c01", "setting_rank"] == 1
    assert d.loc["c02", "status"] == "quasi_cluster" and d.loc["c02", "into"] == "Q"
    assert np.isnan(d.loc["c02", "setting_rank"])
    assert d.loc["c03", "status"] == "kept" and d.loc["c03", "retained_share"] == pytest.approx(2 / 3)
    assert d.loc["c03 (2)", "status"] == "new" and d.loc["c03 (2)", "source"] == "c03"
    assert (summary["survived"], summary["renamed"], summary["quasi_cluster"], summary["new"]) == (11, 1, 1, 1)
    assert summary["min_retained"] == pytest.approx(2 / 3) and summary["median_retained"] == 1.0
    # the renamed c01 (as X) is still first: only c02, c03 left the top ten; c03 (2) and c11 entered
    assert summary["top10_out"] == "c02; c03" and summary["top10_in"] == "c03 (2); c11"


def test_compare_detection_members_go_where_most_went() -> None:
    base = fake_run({"A": ["1", "2", "3", "4", "5"], "B": ["6", "7", "8"], "C": ["9", "10"]}, ["A", "B", "C"])
    # A: 2 members in cluster Z, 3 in quasi-cluster Q -> quasi; B and C both mostly into Y -> both merged
    other = fake_run({"Z": ["1", "2"], "Y": ["6", "7", "9", "10"]}, ["Y", "Z"], quasi={"Q": ["3", "4", "5"]})
    summary, detail = A.compare_detection(base, other)
    d = detail.set_index("cluster")
    assert d.loc["A", "status"] == "quasi_cluster" and d.loc["A", "into"] == "Q"
    assert d.loc["B", "status"] == "merged" and d.loc["B", "into"] == "Y" and d.loc["B", "retained_share"] == pytest.approx(2 / 3)
    assert d.loc["C", "status"] == "merged" and d.loc["C", "into"] == "Y"
    assert d.loc["Z", "status"] == "new" and d.loc["Z", "source"] == "A"
    assert summary["survived"] == 0 and summary["merged"] == 2 and summary["new"] == 1


def _two_cluster_db() -> object:
    """Area "North" (12 institutions) and area "South" (11), 30 km apart on the equator; each
    with a startup funded USD 30 million and 50 collaborations among its members."""
    from conftest import area, collaboration_rows, funding_row, group_at, km_east, make_db, ring_pairs

    north = group_at("n", 12, *km_east(0.0), types=["startup"] + ["university"] * 11)
    south = group_at("s", 11, *km_east(30.0), types=["startup"] + ["university"] * 10)
    pairs = ring_pairs([r["institution_id"] for r in north], 50) + ring_pairs([r["institution_id"] for r in south], 50)
    return make_db(
        north + south,
        funding=[funding_row("f1", "n01", 30e6), funding_row("f2", "s01", 30e6)],
        collaborations=collaboration_rows(pairs),
        areas=[area("N", "North", *km_east(0.0)), area("S", "South", *km_east(30.0))],
    )


def test_detection_sensitivity_merge_and_quasi_on_a_tiny_database() -> None:
    from quantumclusters.detection import Params

    db = _two_cluster_db()
    grid, detail = A.detection_sensitivity(
        db, CUTOFF, [Params(), Params(eps_km=40.0), Params(min_samples=12)]
    )
    g = grid.set_index(["eps_km", "min_samples"])
    assert g.loc[(20.0, 10), "baseline"] and g.loc[(20.0, 10), "survived"] == 2 == g.loc[(20.0, 10), "clusters"]
    # a 40 km radius joins the two groups: South (the smaller) merges into North
    assert (g.loc[(40.0, 10), "clusters"], g.loc[(40.0, 10), "survived"], g.loc[(40.0, 10), "merged"]) == (1, 1, 1)
    wide = detail[detail["eps_km"] == 40.0].set_index("cluster")
    assert wide.loc["South", "status"] == "merged" and wide.loc["South", "into"] == "North"
    assert wide.loc["South", "retained_share"] == 1.0 and wide.loc["North", "status"] == "kept"
    # twelve institutions at least: South (11) is no longer a cluster but a quasi-cluster
    strict = detail[detail["min_samples"] == 12].set_index("cluster")
    assert strict.loc["South", "status"] == "quasi_cluster" and strict.loc["South", "into"] == "South"
    assert g.loc[(20.0, 12), "survived"] == 1 and g.loc[(20.0, 12), "disappeared"] == 1
    assert g.loc[(20.0, 12), "top10_out"] == "South"


def test_detection_sensitivity_on_the_example(example_db) -> None:  # type: ignore[no-untyped-def]
    from quantumclusters.detection import Params

    grid, detail = A.detection_sensitivity(example_db, CUTOFF, [Params(), Params(eps_km=5.0)])
    assert grid["baseline"].tolist() == [True, False]
    base = grid.iloc[0]
    assert base["survived"] == base["clusters"] and not base["top10_changed"]
    assert set(detail["status"]) <= set(A.DETECTION_STATUSES)
    assert list(detail.columns) == ["eps_km", "min_samples", *A.DETECTION_DETAIL_COLUMNS]


def test_vintage_movement_re_ranks_the_common_set() -> None:
    # cluster i has value i on every indicator: c05 first in the later vintage, c00 last
    names = [f"c{i:02d}" for i in range(6)]
    later = pd.DataFrame(np.repeat(np.arange(6.0)[:, None], 9, axis=1), index=names, columns=list(INDICATORS))
    earlier = later.rename(index={"c05": "gone"}).copy()
    earlier.loc["c00"] = 10.0  # first in the earlier vintage
    move, entrants, exits = A.vintage_movement(earlier, later)
    assert entrants == ["c05"] and exits == ["gone"]
    m = move.set_index("cluster")
    # among the common five, c04 is first later (c05, an entrant, does not count)
    assert m.loc["c04", "rank_later"] == 1 and m.loc["c00", "rank_later"] == 5
    assert m.loc["c00", "rank_earlier"] == 1 and m.loc["c00", "movement"] == -4
    assert sorted(move["rank_earlier"]) == sorted(move["rank_later"]) == [1, 2, 3, 4, 5]


def test_vintages_split_entrants_from_movement() -> None:
    # five clusters keep their order; two entrants come in at the top, one cluster exits
    names = ["a", "b", "c", "d", "e"]
    earlier = pd.DataFrame(np.repeat(np.arange(10.0, 4.0, -1)[:, None], 9, axis=1),
                           index=[*names, "old"], columns=list(INDICATORS))
    later = pd.DataFrame(np.repeat(np.array([20.0, 19.0, 10, 9, 8, 7, 6])[:, None], 9, axis=1),
                         index=["new1", "new2", *names], columns=list(INDICATORS))
    v = A.vintages(earlier, later)
    assert v.entrants["cluster"].tolist() == ["new1", "new2"] and v.entrants["rank_later"].tolist() == [1, 2]
    assert v.exits["cluster"].tolist() == ["old"] and v.exits["rank_earlier"].tolist() == [6]
    c = v.common.set_index("cluster")
    assert (c["movement"] == 0).all()  # among themselves nobody moves
    assert (c["full_movement"] == -2).all()  # in the full rankings everyone "falls" two places
    assert v.falls_only_from_entry == names


# --------------------------------------------------------------------------- files


def test_audit_files_byte_identical_across_reruns(example_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b"):
        write_result(run(example_db, CUTOFF, draws=200, sobol_n=64), tmp_path / name)
    for file in AUDIT_FILES:
        a, b = (tmp_path / "a" / file).read_bytes(), (tmp_path / "b" / file).read_bytes()
        assert a == b and a.count(b"\n") > 1, file


def test_audit_files_byte_identical_across_processes(tmp_path: Path) -> None:
    """Two ``rank`` runs in separate processes (different hash seeds, so no set or dict order
    can leak into the output) write the same four audit files, byte for byte."""
    import os
    import subprocess
    import sys

    example = Path(__file__).parent / "data" / "example"
    for name, hashseed in (("a", "1"), ("b", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        proc = subprocess.run(
            [sys.executable, "-m", "quantumclusters", "rank", "--data", str(example), "--out", str(tmp_path / name),
             "--draws", "300", "--sobol-n", "64"],
            capture_output=True, text=True, env=env, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
    for file in AUDIT_FILES:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_audit_figures_render() -> None:
    from quantumclusters.report import audit_figures

    table = random_table(12, missing=0.0)
    result = A.audit(table, draws=50, sobol_n=16, seed=1)
    assert audit_figures.figure_audit_uncertainty(result.uncertainty).axes
    assert audit_figures.figure_sobol(result.sensitivity).axes
    assert audit_figures.figure_correlations(result.correlations.reset_index()).axes
    empty = A.audit(table.iloc[:0], draws=10, sobol_n=8)
    assert audit_figures.figure_audit_uncertainty(empty.uncertainty).axes
    assert audit_figures.figure_sobol(empty.sensitivity).axes


def test_detection_and_vintage_views_render() -> None:
    from quantumclusters.report import audit_figures, audit_views

    base = fake_run({"A": ["1", "2", "3", "4"], "B": ["5", "6"], "C": ["7", "8"]}, ["A", "B", "C"])
    runs = {(20.0, 10): base, (40.0, 10): fake_run({"A": ["1", "2", "3", "5", "6"]}, ["A"]),
            (10.0, 10): fake_run({"A": ["1", "2"], "A (2)": ["3", "4"], "B": ["5", "6"]}, ["A (2)", "A", "B"],
                                 quasi={"C": ["7", "8"]})}
    params = [SimpleNamespace(eps_km=e, min_samples=k) for e, k in runs]
    grid, detail = A.detection_sensitivity(
        None, CUTOFF, params, baseline_params=params[0], base=base, run=lambda db, c, p: runs[(p.eps_km, p.min_samples)]
    )
    assert audit_figures.figure_detection_survivors(grid, 3).axes
    assert audit_figures.figure_detection_fates(detail, grid).axes
    facts = audit_views.detection_findings(grid, detail, 3, A.cluster_members(base.assignments))
    assert facts.plateau == [(20.0, 10)] and facts.merges == [("B", "A", ["40 km"])]
    assert facts.splits == [("A", ["A (2)"], ["10 km radius, 10 institutions"])] and facts.lost_sizes == [2]
    page = audit_views.detection_details(grid, detail, 3).to_html()
    assert page.count("<details") == 2 and "Merged into A" in page and "the quasi-cluster C" in page
    assert "the rest form A (2)" in page
    assert "detection_sensitivity.csv" in audit_views.detection_overview(grid, 3).to_html()
    names = [f"c{i}" for i in range(4)]
    later = pd.DataFrame(np.repeat(np.arange(4.0)[:, None], 9, axis=1), index=names, columns=list(INDICATORS))
    v = A.vintages(later.drop(index="c3"), later)
    assert audit_figures.figure_vintage_common(v.common, "2024", "2025").axes
    assert "Rank at 2025" in audit_views.vintage_common_table(v.common, "2024", "2025").to_html()
    assert "New cluster by 2025" in audit_views.vintage_entry_table(v.entrants, v.exits, "2024", "2025").to_html()
