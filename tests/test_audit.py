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


def fake_run(groups: dict[str, list[str]], order: list[str]) -> SimpleNamespace:
    rows = [{"institution_id": i, "status": "cluster", "group": g} for g, ids in groups.items() for i in ids]
    ranking = pd.DataFrame({"cluster": order, "overall_rank": range(1, len(order) + 1)})
    return SimpleNamespace(assignments=pd.DataFrame(rows), ranking=ranking)


def test_compare_detection_kept_merged_disappeared() -> None:
    base = fake_run({"A": ["1", "2", "3", "4"], "B": ["5", "6"], "C": ["7", "8"]}, ["A", "B", "C"])
    other = fake_run({"A": ["1", "2", "3", "5", "6"]}, ["A"])
    summary, detail = A.compare_detection(base, other)
    d = detail.set_index("cluster")
    assert d.loc["A", "status"] == "kept" and d.loc["A", "retained_share"] == 0.75
    assert d.loc["B", "status"] == "merged" and d.loc["B", "into"] == "A" and d.loc["B", "retained_share"] == 1.0
    assert d.loc["C", "status"] == "disappeared"
    assert (summary["survived"], summary["merged"], summary["disappeared"], summary["top10_changed"]) == (1, 1, 1, True)
    same, _ = A.compare_detection(base, base)
    assert same["survived"] == 3 and not same["top10_changed"] and same["spearman"] == 1.0


def test_detection_sensitivity_on_the_example(example_db) -> None:  # type: ignore[no-untyped-def]
    from quantumclusters.detection import Params

    grid, detail = A.detection_sensitivity(example_db, CUTOFF, [Params(), Params(eps_km=5.0)])
    assert grid["baseline"].tolist() == [True, False]
    base = grid.iloc[0]
    assert base["survived"] == base["clusters"] and not base["top10_changed"]
    assert set(detail["status"]) <= {"kept", "merged", "disappeared"}


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


# --------------------------------------------------------------------------- files


def test_audit_files_byte_identical_across_reruns(example_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b"):
        write_result(run(example_db, CUTOFF, draws=200, sobol_n=64), tmp_path / name)
    for file in AUDIT_FILES:
        a, b = (tmp_path / "a" / file).read_bytes(), (tmp_path / "b" / file).read_bytes()
        assert a == b and a.count(b"\n") > 1, file


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
