"""Contract section 7: z-scores, PCA sign, Spearman, seeded Monte Carlo, rank uncertainty."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from quantumclusters.indicators import INDICATORS
from quantumclusters.robustness import (
    ROBUSTNESS_COLUMNS,
    average_ranks,
    min_ranks_rows,
    draw_weights,
    monte_carlo,
    spearman_rho,
    pca_composite,
    rank_uncertainty,
    robustness,
    spearman_rows,
    weighted_scores,
    zscore_composite,
)

NAN = np.nan
SQRT_1_5 = math.sqrt(1.5)  # population SD of (1, 2, 3) is sqrt(2/3): z = +-1/sqrt(2/3) = +-sqrt(1.5)


def test_zscore_uses_population_sd_and_mean_of_available() -> None:
    # column x = 1, 2, 3: mean 2, population SD sqrt(2/3) -> z = -sqrt(1.5), 0, +sqrt(1.5)
    # (the sample SD would give -1, 0, 1). column y = 10, missing, 30: mean 20, SD 10 ->
    # z = -1, (missing), 1. Composite = mean of available: (-sqrt1.5 - 1)/2, 0, (sqrt1.5+1)/2
    values = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [10.0, NAN, 30.0]})
    comp = zscore_composite(values)
    expected = [(-SQRT_1_5 - 1) / 2, 0.0, (SQRT_1_5 + 1) / 2]
    np.testing.assert_allclose(comp, expected, rtol=1e-14)


def test_pca_first_component_and_sign_flip() -> None:
    # x = 1, 2, 3 and y = 2, 4, 6 have identical z-scores (-s, 0, s), s = sqrt(1.5).
    # PC1 of the two identical columns: loadings (1, 1)/sqrt2 up to sign, scores
    # (z + z)/sqrt2 = +-(-sqrt3, 0, sqrt3). The flip makes it agree with the z composite.
    values = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]})
    np.testing.assert_allclose(pca_composite(values), [-math.sqrt(3), 0.0, math.sqrt(3)], atol=1e-12)
    # negate both indicators: z composite reverses and PC1 must follow it. PCA alone gives
    # the same axis with a sign fixed by scikit-learn, so one of these two cases needs the
    # flip.
    np.testing.assert_allclose(pca_composite(-values), [math.sqrt(3), 0.0, -math.sqrt(3)], atol=1e-12)


def test_pca_missing_values_set_to_zero_z() -> None:
    # y = 2, missing, 6: z over the available values (mean 4, SD 2) = -1, (missing), 1;
    # the missing z is set to 0, the column mean. x = 1, 2, 3 -> z = -s, 0, s (s = sqrt1.5).
    # Rows are multiples of (-1, 0, 1) in each column, so PC1 points along (s, 1) and the
    # scores are +-(s*s + 1)/sqrt(s*s + 1) = +-sqrt(2.5) = +-1.5811...
    values = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, NAN, 6.0]})
    np.testing.assert_allclose(pca_composite(values), [-math.sqrt(2.5), 0.0, math.sqrt(2.5)], atol=1e-12)


def test_spearman_of_identical_rankings_is_one() -> None:
    s = pd.Series([3.0, 1.0, 2.0, 5.0])
    assert spearman_rho(s, s) == pytest.approx(1.0)
    assert spearman_rho(s, -s) == pytest.approx(-1.0)


def test_weights_uniform_normalised_and_seeded() -> None:
    w = draw_weights(4, seed=7)
    raw = np.random.default_rng(7).uniform(0, 1, size=(4, 3))
    np.testing.assert_allclose(w, raw / raw.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    d = draw_weights(4, seed=7, scheme="dirichlet")
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    assert not np.allclose(d, w)
    with pytest.raises(ValueError):
        draw_weights(4, seed=7, scheme="beta")  # type: ignore[arg-type]


def test_weighted_scores_use_available_parts() -> None:
    # ranks (1, 3, missing) with weights (0.2, 0.3, 0.5): (0.2*1 + 0.3*3) / (0.2 + 0.3) = 2.2
    parts = np.array([[1.0, 3.0, NAN], [2.0, 2.0, 2.0]])
    s = weighted_scores(parts, np.array([[0.2, 0.3, 0.5]]))
    np.testing.assert_allclose(s, [[2.2, 2.0]])


def test_spearman_rows_equal_scipy() -> None:
    rng = np.random.default_rng(0)
    sim = rng.integers(0, 5, size=(6, 9)).astype(float)  # with ties
    base = rng.normal(size=9)
    got = spearman_rows(sim, base)
    want = [stats.spearmanr(row, base).statistic for row in sim]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_monte_carlo_seeded_reproducible() -> None:
    rng = np.random.default_rng(1)
    parts = pd.DataFrame(rng.integers(1, 8, size=(8, 3)).astype(float))
    baseline = parts.mean(axis=1)
    a = monte_carlo(parts, baseline, draws=300, seed=42)
    b = monte_carlo(parts, baseline, draws=300, seed=42)
    c = monte_carlo(parts, baseline, draws=300, seed=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(a) == 300


def test_monte_carlo_identical_indicator_ranks_give_rho_one() -> None:
    # all three indicators rank the clusters the same way: every weighting gives the
    # baseline order -> rho = 1 in every draw
    ranks = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 4.0], "c": [1.0, 2.0, 3.0, 4.0]})
    rho = monte_carlo(ranks, ranks.mean(axis=1), draws=200, seed=1)
    np.testing.assert_allclose(rho, 1.0)


def concordant_indicators() -> pd.DataFrame:
    """Five clusters A-E; every indicator orders them A > B > C > D > E."""
    base = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    return pd.DataFrame({name: base * (k + 1) for k, name in enumerate(INDICATORS)}, index=list("ABCDE"))


def test_robustness_table_when_everything_agrees() -> None:
    # all indicators concordant: every method and every draw gives the same order -> 1.0
    table = robustness(concordant_indicators(), draws=100, seed=3)
    assert list(table.columns) == list(ROBUSTNESS_COLUMNS)
    assert table["dimension"].tolist() == [
        "market_orientation",
        "collaboration_intensity",
        "ecosystem_maturity",
        "overall",
    ]
    numbers = table.drop(columns="dimension").to_numpy(dtype=float)
    np.testing.assert_allclose(numbers, 1.0)


def test_robustness_reproducible_with_seed() -> None:
    rng = np.random.default_rng(5)
    ind = pd.DataFrame(rng.lognormal(size=(12, 9)), columns=list(INDICATORS), index=[f"c{i}" for i in range(12)])
    ind.iloc[2, 1] = NAN
    a = robustness(ind, draws=200, seed=9)
    b = robustness(ind, draws=200, seed=9)
    pd.testing.assert_frame_equal(a, b)


def test_rank_uncertainty() -> None:
    # concordant data: A is first in every dimension, so first under every weighting
    table = rank_uncertainty(concordant_indicators(), draws=100, seed=1).set_index("cluster")
    assert table.loc["A"].tolist() == [1.0, 1.0, 1.0]
    assert table.loc["E"].tolist() == [5.0, 5.0, 5.0]
    assert list(table.columns) == ["median_rank", "p05_rank", "p95_rank"]


def test_average_ranks_equal_scipy_rankdata() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, size=(7, 11)).astype(float)  # many ties
    np.testing.assert_array_equal(average_ranks(values), stats.rankdata(values, axis=1))


def test_min_ranks_rows_equal_scipy_rankdata_with_ties_and_infinities() -> None:
    rng = np.random.default_rng(4)
    values = rng.integers(0, 4, size=(9, 13)).astype(float)
    values[values == 3] = np.inf  # the audit ranks missing scores as +inf, all tied last
    values[0] = 1.0  # a row that is one tie
    np.testing.assert_array_equal(min_ranks_rows(values), stats.rankdata(values, method="min", axis=1))


def test_pca_sign_when_uncorrelated_with_the_composite_makes_the_largest_loading_positive() -> None:
    # Contract section 7: two standardised indicators that cancel (x and -x) and one
    # constant. The z-score composite is 0 for every cluster, so PC1's correlation with it
    # is zero and cannot orient it; the largest loading is made positive instead, and on a
    # tie of |loadings| (here 1/sqrt(2) each) the first indicator in section 5's order.
    x = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6])
    values = pd.DataFrame({"a": x, "b": -x, "c": np.full(6, 7.0)})
    pc1 = pca_composite(values)
    z = stats.zscore(x, ddof=0)
    # PC1 is a positive multiple of z(a) (the first indicator's loading is positive) ...
    assert np.corrcoef(pc1, z)[0, 1] == pytest.approx(1.0, abs=1e-12)
    # ... whichever column order reached scikit-learn: with b first, b's loading is positive
    swapped = pca_composite(values[["b", "a", "c"]])
    assert np.corrcoef(swapped, -z)[0, 1] == pytest.approx(1.0, abs=1e-12)


def test_pca_sign_rule_helper() -> None:
    from quantumclusters.robustness import pca_sign

    pc1 = np.array([1.0, 2.0, 3.0])
    # a clear correlation decides
    assert pca_sign(pc1, np.array([-0.9, 0.1]), pd.Series([3.0, 2.0, 1.0])) == -1
    assert pca_sign(pc1, np.array([-0.9, 0.1]), pd.Series([1.0, 2.0, 3.0])) == 1
    # a constant reference (no correlation): the largest loading decides, first on ties
    flat = pd.Series([0.5, 0.5, 0.5])
    assert pca_sign(pc1, np.array([0.2, -0.9, 0.1]), flat) == -1
    assert pca_sign(pc1, np.array([-0.6, 0.6]), flat) == -1
    assert pca_sign(pc1, np.array([0.6, -0.6]), flat) == 1
