"""Robustness of the ranking (contract section 7; paper Annex 1).

For each dimension, three aggregations of its three indicators are compared:

* **z-score composite**: each indicator z-scored with the population SD
  (``scipy.stats.zscore(ddof=0, nan_policy="omit")``), mean of the available z-scores;
* **PCA**: first principal component (scikit-learn) of the z-scores with missing values
  set to the column mean, 0; its sign is flipped if it correlates (Pearson) negatively
  with the z-score composite;
* **Borda**: the baseline dimension score of section 6 (mean of indicator ranks).

``spearman_*`` are Spearman's rho (``scipy.stats.spearmanr``) between each pair, oriented
so that agreement is positive (higher z/PCA = better, lower Borda score = better).
**Monte Carlo**: ``draws`` weight triplets, uniform on [0, 1] and divided by their sum
(the paper's scheme) or Dirichlet(1, 1, 1), from ``numpy.random.default_rng(seed)``;
simulated score = sum of w_i * rank_i (divided by the sum of the weights of the available
ranks, so that equal weights give back the baseline score); Spearman's rho of every
simulated ranking against the baseline gives ``mc_median``, ``mc_p05`` (5th percentile)
and ``mc_share_above_0_90`` (share of draws with rho > 0.90).

**Overall** (the contract leaves it open; this is the project's reading): the three
dimension scores play the role of the three indicators. For z-scores and PCA they are
negated (a lower score is better), the Borda baseline is the overall score of section 6
(mean of the dimension scores), and Monte Carlo weights the three dimension scores.

:func:`rank_uncertainty` gives, per cluster, the median and 5th-95th percentile of its
overall rank when the three dimension scores are weighted at random (used by the book).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.decomposition import PCA

from .indicators import INDICATORS
from .schema import DEFAULT_DRAWS, DEFAULT_SEED
from .ranking import DIMENSIONS, SCORE_DECIMALS, dimension_scores, indicator_ranks, indicator_table

__all__ = [
    "ROBUSTNESS_COLUMNS",
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "Scheme",
    "zscores",
    "zscore_composite",
    "pca_composite",
    "pca_sign",
    "PCA_ZERO_CORRELATION",
    "spearman_rho",
    "draw_weights",
    "weighted_scores",
    "average_ranks",
    "min_ranks_rows",
    "spearman_rows",
    "monte_carlo",
    "dimension_inputs",
    "robustness",
    "rank_uncertainty",
]

ROBUSTNESS_COLUMNS: tuple[str, ...] = (
    "dimension",
    "spearman_z_borda",
    "spearman_pca_borda",
    "spearman_z_pca",
    "mc_median",
    "mc_p05",
    "mc_share_above_0_90",
)
Scheme = Literal["uniform", "dirichlet"]


def zscores(values: pd.DataFrame) -> np.ndarray:
    """z-score of every column (population SD, ``scipy.stats.zscore(ddof=0,
    nan_policy="omit")``); missing stays missing, and a column whose available values are
    all equal (zero spread) has no z-scores (``NaN``)."""
    arr = values.to_numpy(dtype=float)
    if arr.size == 0:
        return arr.copy()
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        z = np.asarray(stats.zscore(arr, axis=0, ddof=0, nan_policy="omit"), dtype=float)
        flat = ~(np.nanmax(arr, axis=0) > np.nanmin(arr, axis=0))  # also all-missing columns
    z[:, flat] = np.nan
    z[~np.isfinite(z)] = np.nan
    return z


def zscore_composite(values: pd.DataFrame) -> pd.Series:
    """Mean of the available z-scores (:func:`zscores`) of each row; higher = better."""
    z = zscores(values)
    counts = np.sum(~np.isnan(z), axis=1)
    composite = np.where(counts > 0, np.nansum(z, axis=1) / np.maximum(counts, 1), np.nan)
    return pd.Series(composite, index=values.index, name="z_composite")


def _zscores_filled(values: pd.DataFrame) -> np.ndarray:
    """z-scores with missing values (and zero-spread columns) set to 0, the column mean."""
    z = zscores(values)
    z[np.isnan(z)] = 0.0
    return z


def pca_composite(values: pd.DataFrame, reference: pd.Series | None = None) -> pd.Series:
    """First principal component of the standardised columns (missing -> 0); sign flipped
    when its Pearson correlation with ``reference`` (default: the z-score composite) is
    negative, or, where that correlation is zero, so that the largest loading is positive
    (:func:`pca_sign`). Higher = better."""
    z = _zscores_filled(values)
    if len(z) < 2 or not np.any(z):
        return pd.Series(np.full(len(z), np.nan), index=values.index, name="pca")
    pca = PCA(n_components=1, svd_solver="full")
    pc1 = pca.fit_transform(z)[:, 0]
    ref = zscore_composite(values) if reference is None else reference
    if pca_sign(pc1, pca.components_[0], ref) < 0:
        pc1 = -pc1
    return pd.Series(pc1, index=values.index, name="pca")


#: Below this absolute Pearson correlation with the z-score composite, PC1's orientation
#: is decided by its loadings instead (contract section 7).
PCA_ZERO_CORRELATION: float = 1e-9


def pca_sign(pc1: np.ndarray, loadings: np.ndarray, reference: pd.Series) -> int:
    """+1 or -1: the orientation of the first principal component (contract section 7).

    PC1 is flipped (-1) when its Pearson correlation with ``reference`` (the z-score
    composite, over the clusters where it exists) is negative. Where that correlation is
    zero (``|r| <`` :data:`PCA_ZERO_CORRELATION`, or undefined because either side is
    constant), the largest loading is made positive instead, the first indicator in the
    contract's order on ties; floating-point noise never decides it.
    """
    ref = reference.to_numpy(dtype=float)
    ok = ~np.isnan(ref)
    r = 0.0
    if ok.sum() >= 2 and np.std(pc1[ok]) > 0 and np.std(ref[ok]) > 0:
        r = float(np.corrcoef(pc1[ok], ref[ok])[0, 1])
    if abs(r) >= PCA_ZERO_CORRELATION:
        return 1 if r > 0 else -1
    magnitude = np.abs(loadings)
    first = int(np.flatnonzero(np.isclose(magnitude, magnitude.max(), rtol=0.0, atol=1e-12))[0])
    return 1 if loadings[first] >= 0 else -1


def spearman_rho(a: pd.Series, b: pd.Series) -> float:
    """Spearman's rho (``scipy.stats.spearmanr``, pairs with a missing value omitted)."""
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 2 or np.all(x[ok] == x[ok][0]) or np.all(y[ok] == y[ok][0]):
        return float("nan")
    return float(stats.spearmanr(x[ok], y[ok]).statistic)


def draw_weights(draws: int, seed: int, scheme: Scheme = "uniform", k: int = 3) -> np.ndarray:
    """(draws, k) weights summing to 1: uniform on [0, 1] then normalised (the paper), or
    Dirichlet(1, ..., 1). Reproducible: ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    if scheme == "uniform":
        w = rng.uniform(0.0, 1.0, size=(draws, k))
    elif scheme == "dirichlet":
        w = rng.dirichlet(np.ones(k), size=draws)
    else:
        raise ValueError(f"unknown weighting scheme {scheme!r} (use 'uniform' or 'dirichlet')")
    return w / w.sum(axis=1, keepdims=True)


def weighted_scores(parts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(draws, n) scores sum_i w_i * part_i / sum of the weights of available parts.

    ``parts`` is (n, k) with ``NaN`` for missing; a row with no part gives ``NaN``."""
    present = ~np.isnan(parts)
    filled = np.where(present, parts, 0.0)
    num = weights @ filled.T
    den = weights @ present.T.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _row_ranks(values: np.ndarray, method: str) -> np.ndarray:
    """Ranks (1 = smallest) along the last axis of a 2-D array, ties sharing the mean
    (``"average"``) or the smallest (``"min"``) of their positions: what
    ``scipy.stats.rankdata(values, method=method, axis=1)`` gives, with one sort per row
    instead of two (it matters for thousands of clusters times thousands of draws)."""
    values = np.atleast_2d(values)
    rows, n = values.shape
    order = np.argsort(values, axis=1)  # any order within ties gives the same ranks
    ordered = np.take_along_axis(values, order, axis=1)
    # runs of equal values in each sorted row; runs never cross rows (each row starts one)
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    flat_starts = starts.ravel()
    run_id = np.cumsum(flat_starts) - 1
    first_pos = np.flatnonzero(flat_starts)
    if method == "min":
        run_rank = (first_pos % n + 1).astype(float)
    else:
        ends = np.append(first_pos[1:], rows * n)
        run_rank = (first_pos % n + 1 + (ends - 1) % n + 1) / 2.0
    ranks = np.empty((rows, n))
    np.put_along_axis(ranks, order, run_rank[run_id].reshape(rows, n), axis=1)
    return ranks


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis of a 2-D array, as ``scipy.stats.rankdata(values,
    axis=1)`` (:func:`_row_ranks`)."""
    return _row_ranks(values, "average")


def min_ranks_rows(values: np.ndarray) -> np.ndarray:
    """``min`` ranks along the last axis of a 2-D array, as ``scipy.stats.rankdata(values,
    method="min", axis=1)`` (:func:`_row_ranks`)."""
    return _row_ranks(values, "min")


def spearman_rows(simulated: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Spearman's rho of every row of ``simulated`` (draws, n) against ``baseline`` (n,):
    Pearson correlation of average ranks, as ``scipy.stats.spearmanr`` computes it."""
    rs = average_ranks(simulated)
    rb = stats.rankdata(baseline)
    rs -= rs.mean(axis=1, keepdims=True)
    rb = rb - rb.mean()
    num = rs @ rb
    den = np.sqrt(np.einsum("ij,ij->i", rs, rs) * (rb @ rb))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def monte_carlo(
    parts: pd.DataFrame,
    baseline: pd.Series,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    scheme: Scheme = "uniform",
) -> np.ndarray:
    """Spearman's rho of each of ``draws`` random-weight rankings against ``baseline``.

    ``parts`` are the three ranks (or scores) per cluster, lower = better; clusters without
    a baseline score are left out. Returns an array of ``draws`` rho values."""
    ok = baseline.notna().to_numpy()
    weights = draw_weights(draws, seed, scheme, k=parts.shape[1])
    if ok.sum() < 2:
        return np.full(draws, np.nan)
    sim = weighted_scores(parts.to_numpy(dtype=float)[ok], weights)
    return spearman_rows(sim, baseline.to_numpy(dtype=float)[ok])


def dimension_inputs(indicators: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.Series]]:
    """For each dimension and ``overall``: (values, higher = better, for z/PCA; parts,
    lower = better, for Monte Carlo; Borda baseline score)."""
    indicators = indicator_table(indicators)
    ranks = indicator_ranks(indicators[list(INDICATORS)])
    scores = dimension_scores(ranks)
    out: dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.Series]] = {}
    for dim, cols in DIMENSIONS.items():
        out[dim] = (indicators[list(cols)].astype(float), ranks[list(cols)], scores[dim])
    dims = scores[list(DIMENSIONS)]
    out["overall"] = (-dims, dims, scores["overall"])
    return out


def robustness(
    indicators: pd.DataFrame,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    scheme: Scheme = "uniform",
) -> pd.DataFrame:
    """robustness.csv (contract sections 7-8): one row per dimension and ``overall``."""
    inputs = dimension_inputs(indicators)
    # Monte Carlo dominates on large runs and its rows are independent (same seed each);
    # numpy releases the GIL while sorting and multiplying, so threads use both cores.
    # (z-scores and PCA stay in this thread: they touch the global warnings filter.)
    with ThreadPoolExecutor(max_workers=min(len(inputs), os.cpu_count() or 1)) as pool:
        simulations = pool.map(lambda part: monte_carlo(part[1], part[2], draws, seed, scheme), inputs.values())
        rows = []
        for (dim, (values, _, borda)), rho in zip(inputs.items(), simulations):
            z = zscore_composite(values)
            pca = pca_composite(values, z)
            finite = rho[~np.isnan(rho)]
            rows.append(
                {
                    "dimension": dim,
                    "spearman_z_borda": spearman_rho(z, -borda),
                    "spearman_pca_borda": spearman_rho(pca, -borda),
                    "spearman_z_pca": spearman_rho(z, pca),
                    "mc_median": float(np.median(finite)) if len(finite) else np.nan,
                    "mc_p05": float(np.percentile(finite, 5)) if len(finite) else np.nan,
                    "mc_share_above_0_90": float(np.mean(finite > 0.90)) if len(finite) else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))


def rank_uncertainty(
    indicators: pd.DataFrame,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    scheme: Scheme = "uniform",
) -> pd.DataFrame:
    """Per cluster: its overall rank under random weights of the three dimension scores.

    Every draw scores clusters by the weighted mean of their dimension scores, rounds to 9
    decimals and ranks (smallest = 1, ``min`` ties), as section 6 does for the baseline.
    Columns: ``cluster``, ``median_rank``, ``p05_rank``, ``p95_rank`` (5th and 95th
    percentiles); clusters without an overall score are left out. Sorted by median rank,
    then cluster.
    """
    scores = dimension_scores(indicator_ranks(indicator_table(indicators)[list(INDICATORS)]))
    scores = scores[scores["overall"].notna()]
    names = pd.Index(scores.index, name="cluster")
    if len(scores) == 0:
        return pd.DataFrame(columns=["cluster", "median_rank", "p05_rank", "p95_rank"])
    weights = draw_weights(draws, seed, scheme, k=len(DIMENSIONS))
    sim = np.round(weighted_scores(scores[list(DIMENSIONS)].to_numpy(dtype=float), weights), SCORE_DECIMALS)
    ranks = stats.rankdata(sim, method="min", axis=1)
    out = pd.DataFrame(
        {
            "cluster": pd.Series(names, dtype="string"),
            "median_rank": np.median(ranks, axis=0),
            "p05_rank": np.percentile(ranks, 5, axis=0),
            "p95_rank": np.percentile(ranks, 95, axis=0),
        }
    )
    return out.sort_values(["median_rank", "cluster"], kind="stable").reset_index(drop=True)
