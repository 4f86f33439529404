"""An audit of the composite index in the manner of the JRC's COIN audits (issue 15;
contract section 7a; the paper's Annex 1 checks only random weights of the dimensions).

Engine side: never imports :mod:`quantumclusters.report`.

**Coherence** (:func:`coherence`): the 9x9 Spearman matrix of the indicators (pairwise over
the clusters where both exist); each indicator's Spearman rho with its own dimension score
and with the overall score (oriented so that agreement is positive: Borda scores are lower
= better), flagged as weak (``|rho| < 0.3``) or negative; Cronbach's alpha of each dimension
on the z-scores of contract section 7 (computed over all clusters, then restricted to the
clusters with all three present), ``alpha = k/(k-1) * (1 - sum var(z_i) / var(sum z_i))``
with population variances; and the first principal component's explained-variance share
(the PCA of :mod:`quantumclusters.robustness`).

**Uncertainty analysis** (:func:`uncertainty`): every Monte Carlo draw samples, independently
(``numpy.random.default_rng(seed)``), the five modelling choices of :data:`FACTORS`:

1. ``dimension_weights``: three weights uniform on [0, 1], divided by their sum (the paper);
2. ``indicator_weights``: the nine weights within their dimensions, the same scheme;
3. ``normalisation``: ``ranks`` (the paper: rank 1 = best), ``zscore`` (population SD),
   ``minmax`` (0 = worst, 1 = best); every normalised indicator is oriented higher = better
   (ranks are negated);
4. ``aggregation``: ``arithmetic`` or ``geometric`` weighted mean, at both levels
   (indicators into dimensions, dimensions into the overall score). **Positive shift for
   the geometric mean**: each normalised indicator column is mapped linearly onto [1, 2]
   across the clusters (worst = 1, best = 2), then the weighted geometric mean
   ``exp(sum w_i log x_i / sum w_i)`` is taken. The map keeps the order of every column,
   and the geometric mean of equal values ``c`` is ``c``, the arithmetic one;
5. ``leave_out``: none, or one of the nine indicators (ten options).

Missing indicators are treated as in the baseline: the weighted mean of the available ones
(weights renormalised over them); a cluster with no indicator in a dimension has no score
there and its overall score is the weighted mean of its other dimensions. The composite
(higher = better) is rounded to 9 decimals and ranked with ``min`` ties, 1 = best, as in
section 6. The baseline choice (equal weights, ranks, arithmetic, nothing left out)
reproduces the baseline ranking exactly. Per cluster: baseline rank, median rank, 5th and
95th percentiles, and the share of draws within +-5 places of the baseline.

**Variance-based sensitivity** (:func:`sensitivity`): Saltelli's scheme on a Sobol' sequence
(``SALib.sample.sobol.sample``, seeded, ``calc_second_order=False``) over 15 variables in
the five groups above (SALib ``groups``: three dimension weights, nine indicator weights,
and one variable in [0, 1) per discrete choice, mapped to the option ``floor(u * options)``),
analysed with ``SALib.analyze.sobol.analyze`` (seeded bootstrap, 95% confidence intervals).
Output: the mean absolute shift of the clusters' overall ranks from the baseline (the file
``sensitivity.csv``), and every cluster's rank (:attr:`Audit.sensitivity_clusters`).

**Leave one indicator out** (:func:`leave_one_out`) completes the index audit.

**Detection sensitivity** (:func:`detection_sensitivity`, :func:`compare_detection`): for each
(eps, min_samples) setting, what became of every baseline cluster (:data:`DETECTION_STATUSES`:
kept, renamed, merged into another, now a quasi-cluster, dissolved; and the new clusters, with
the baseline cluster they split off), the share of its members retained, its rank there, and
per setting the survivors, the top-10 exits and entries, and Spearman's rho over the survivors.
On the bundled database (4 x 4 grid, radius 10-40 km, minimum 5-20): 45 of 45 survive with all
members at (10, 5), (20, 5), (20, 10), (30, 5), (30, 10); a minimum of 15 leaves 39-40, of 20
leaves 35-36 (the others become quasi-clusters, Greater Glasgow and Karlsruhe of the top 10
among them); a 40 km radius merges Suzhou into Shanghai (44 survive).

**Vintages** (:func:`vintages`, :func:`vintage_movement`): movement among the clusters present
at both cut-offs, re-ranked among themselves, with entrants and exits apart. Bundled database,
2024-07-31 -> 2025-07-31: 39 -> 45 clusters, 6 entrants, no exit; among the 39, 10 keep their
place, 15 climb, 14 fall, whereas the full rankings show 22 falling (9 of them only because of
the entrants).

Convergence: :func:`sobol_convergence` gives the indices at ``N`` and ``2N``. On the bundled
database (seed 20250731) the indices move between N = 512 and 1,024 and between 1,024 and
2,048 by less than their 95% half-width at 2N, except S1 of ``leave_out`` (0.081 -> 0.048
from 1,024 to 2,048, half-width 0.026); the order of the five factors by ST is unchanged
(tables: chapter 09, "How precise is the audit itself?", and data/README.md).

Time: ``rank`` on the bundled database (5,000 draws, N = 512) takes 3.8-4.2 s wall, 3.7-4.0 s
CPU for the whole command (measured with ``time`` at load average 1.3 on a shared 2-core
machine). On the dense benchmark (1,000,000 institutions, 2,860 clusters) the audit takes
10.6 s wall, 16.2 s CPU (benchmarks/README.md): draws are grouped by their normalisation and
aggregation (two matrix products per dimension), the Sobol' indices of the 2,860 clusters'
ranks are computed 16 columns at a time, and both use every core.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.decomposition import PCA

from .indicators import INDICATORS
from .paths import DEFAULT_SOBOL_N
from .ranking import DIMENSIONS, SCORE_DECIMALS, dimension_scores, indicator_ranks, indicator_table, rank_clusters
from .robustness import min_ranks_rows, spearman_rho, zscores
from .schema import DEFAULT_DRAWS, DEFAULT_SEED

__all__ = [
    "FACTORS",
    "NORMALISATIONS",
    "AGGREGATIONS",
    "LEAVE_OUT",
    "DEFAULT_SOBOL_N",
    "WEAK_RHO",
    "UNCERTAINTY_COLUMNS",
    "SENSITIVITY_COLUMNS",
    "COHERENCE_COLUMNS",
    "Audit",
    "Choices",
    "cronbach_alpha",
    "pc1_share",
    "correlation_matrix",
    "indicator_coherence",
    "coherence",
    "normalised_stack",
    "weighted_mean",
    "composite_scores",
    "min_ranks",
    "baseline_choices",
    "random_choices",
    "simulate_ranks",
    "uncertainty",
    "sobol_problem",
    "choices_from_unit",
    "sobol_indices",
    "sensitivity",
    "sobol_convergence",
    "leave_one_out",
    "audit",
    "cluster_members",
    "DETECTION_STATUSES",
    "DETECTION_DETAIL_COLUMNS",
    "compare_detection",
    "detection_sensitivity",
    "vintage_movement",
    "Vintages",
    "vintages",
]

#: The five modelling choices of the uncertainty and sensitivity analyses, in order.
FACTORS: tuple[str, ...] = ("dimension_weights", "indicator_weights", "normalisation", "aggregation", "leave_out")
NORMALISATIONS: tuple[str, ...] = ("ranks", "zscore", "minmax")
AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")
#: ``leave_out`` options: none (-1), then the nine indicators (their positions 0-8).
LEAVE_OUT: tuple[str, ...] = ("none", *INDICATORS)
#: Below this |rho| an indicator is flagged as weakly related to its dimension / overall.
WEAK_RHO: float = 0.3
#: Places either side of the baseline counted by ``share_within_5``.
WITHIN_PLACES: int = 5

UNCERTAINTY_COLUMNS: tuple[str, ...] = (
    "cluster",
    "baseline_rank",
    "median_rank",
    "p05_rank",
    "p95_rank",
    "share_within_5",
)
SENSITIVITY_COLUMNS: tuple[str, ...] = ("factor", "S1", "S1_conf", "ST", "ST_conf")
COHERENCE_COLUMNS: tuple[str, ...] = (
    "dimension",
    "cronbach_alpha",
    "pc1_share",
    "complete_clusters",
    "min_rho_indicator_dimension",
    "weak_indicators",
    "negative_indicators",
)

_DIM_OF = np.array([i for i, cols in enumerate(DIMENSIONS.values()) for _ in cols])


# ---------------------------------------------------------------------------------------
# coherence


def cronbach_alpha(z: np.ndarray) -> float:
    """Cronbach's alpha of the columns of ``z`` (rows with a missing value are left out):
    ``k/(k-1) * (1 - sum var(z_i) / var(sum z_i))``, population variances (ddof 0)."""
    z = np.asarray(z, dtype=float)
    z = z[~np.isnan(z).any(axis=1)]
    k = z.shape[1]
    if k < 2 or len(z) < 2:
        return float("nan")
    total = np.var(z.sum(axis=1), ddof=0)
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.var(z, axis=0, ddof=0).sum() / total))


def pc1_share(values: pd.DataFrame) -> float:
    """Explained-variance ratio of the first principal component of the standardised
    columns, missing set to 0 (the PCA of :func:`quantumclusters.robustness.pca_composite`)."""
    z = zscores(values)
    z[np.isnan(z)] = 0.0
    if len(z) < 2 or not np.any(z):
        return float("nan")
    return float(PCA(n_components=1, svd_solver="full").fit(z).explained_variance_ratio_[0])


def correlation_matrix(indicators: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rho between every pair of the nine indicators over the clusters where
    both exist (``scipy.stats.spearmanr``); a 9x9 frame (``NaN`` where undefined)."""
    table = indicator_table(indicators)[list(INDICATORS)].astype(float)
    out = pd.DataFrame(np.nan, index=pd.Index(INDICATORS, name="indicator"), columns=list(INDICATORS))
    for i, a in enumerate(INDICATORS):
        out.loc[a, a] = 1.0 if table[a].dropna().nunique() > 1 else np.nan  # not 0.999...
        for b in INDICATORS[i + 1 :]:
            rho = spearman_rho(table[a], table[b])
            out.loc[a, b] = out.loc[b, a] = rho
    return out


def indicator_coherence(indicators: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: ``indicator``, ``dimension``, ``rho_dimension`` and ``rho_overall``
    (Spearman's rho with its dimension score and the overall score, oriented so that
    agreement is positive), ``weak`` (either ``|rho| <`` :data:`WEAK_RHO`) and ``negative``
    (either rho below 0)."""
    table = indicator_table(indicators)[list(INDICATORS)].astype(float)
    scores = dimension_scores(indicator_ranks(table))
    rows = []
    for dim, cols in DIMENSIONS.items():
        for col in cols:
            r_dim = spearman_rho(table[col], -scores[dim])
            r_all = spearman_rho(table[col], -scores["overall"])
            rhos = np.array([r_dim, r_all])
            rows.append(
                {
                    "indicator": col,
                    "dimension": dim,
                    "rho_dimension": r_dim,
                    "rho_overall": r_all,
                    "weak": bool(np.any(np.abs(rhos) < WEAK_RHO)),
                    "negative": bool(np.any(rhos < 0)),
                }
            )
    return pd.DataFrame(rows)


def coherence(indicators: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """coherence.csv (one row per dimension, :data:`COHERENCE_COLUMNS`), the per-indicator
    table of :func:`indicator_coherence` and the matrix of :func:`correlation_matrix`."""
    table = indicator_table(indicators)[list(INDICATORS)].astype(float)
    per_indicator = indicator_coherence(table)
    rows = []
    for dim, cols in DIMENSIONS.items():
        values = table[list(cols)]
        z = zscores(values)
        mine = per_indicator[per_indicator["dimension"] == dim]
        rows.append(
            {
                "dimension": dim,
                "cronbach_alpha": cronbach_alpha(z),
                "pc1_share": pc1_share(values),
                "complete_clusters": int((~np.isnan(z).any(axis=1)).sum()),
                "min_rho_indicator_dimension": float(mine["rho_dimension"].min()),
                "weak_indicators": ";".join(mine.loc[mine["weak"], "indicator"]),
                "negative_indicators": ";".join(mine.loc[mine["negative"], "indicator"]),
            }
        )
    return pd.DataFrame(rows, columns=list(COHERENCE_COLUMNS)), per_indicator, correlation_matrix(table)


# ---------------------------------------------------------------------------------------
# composite scores under modelling choices (vectorised over draws)


@dataclass(frozen=True)
class Choices:
    """``draws`` sets of the five modelling choices (:data:`FACTORS`).

    ``dimension_weights`` (draws, 3) and ``indicator_weights`` (draws, 9), non-negative;
    ``normalisation`` (index into :data:`NORMALISATIONS`), ``aggregation`` (into
    :data:`AGGREGATIONS`) and ``leave_out`` (-1 = none, else the indicator's position), each
    (draws,) integers."""

    dimension_weights: np.ndarray
    indicator_weights: np.ndarray
    normalisation: np.ndarray
    aggregation: np.ndarray
    leave_out: np.ndarray

    def __len__(self) -> int:
        return len(self.normalisation)


def _minmax(values: np.ndarray) -> np.ndarray:
    """Columns mapped linearly onto [0, 1] (``NaN`` kept; a constant column -> ``NaN``)."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        spread = hi - lo
        out = (values - lo) / np.where(spread > 0, spread, np.nan)
    return out


def normalised_stack(indicators: pd.DataFrame) -> np.ndarray:
    """(normalisations x aggregations, n, 9): the normalised indicators, higher = better,
    for every (normalisation, aggregation) pair at index ``norm * 2 + agg``.

    Arithmetic: negated ranks, z-scores, min-max on [0, 1]. Geometric: the same columns
    mapped onto [1, 2] (the positive shift)."""
    table = indicator_table(indicators)[list(INDICATORS)].astype(float)
    ranks = -indicator_ranks(table).to_numpy(dtype=float)
    z = zscores(table)
    mm = _minmax(table.to_numpy(dtype=float))
    layers = []
    for norm in (ranks, z, mm):
        layers.append(norm)
        layers.append(1.0 + _minmax(norm))
    return np.stack(layers)


def _mean_of_sums(num: np.ndarray, den: np.ndarray, geometric: np.ndarray | bool) -> np.ndarray:
    """``num / den`` (``NaN`` where ``den`` is 0), exponentiated where ``geometric`` (the
    sums were of logs)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if isinstance(geometric, bool):
        return np.exp(mean) if geometric else mean
    return np.where(geometric, np.exp(mean), mean)


def weighted_mean(values: np.ndarray, weights: np.ndarray, geometric: np.ndarray) -> np.ndarray:
    """Weighted mean over the last axis of ``values`` (draws, n, k) with ``weights``
    (draws, k), over the available (non-``NaN``) values, weights renormalised over them;
    geometric (``exp`` of the weighted mean of logs) where ``geometric`` (draws,) is True.
    ``NaN`` where no value with positive weight is available."""
    present = ~np.isnan(values) & (weights[:, None, :] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(geometric[:, None, None], np.log(np.where(present, values, 1.0)), values)
    filled = np.where(present, logs, 0.0)
    num = np.einsum("dnk,dk->dn", filled, weights)
    den = np.einsum("dnk,dk->dn", present.astype(float), weights)
    return _mean_of_sums(num, den, geometric[:, None])


def shared_weighted_mean(values: np.ndarray, weights: np.ndarray, geometric: bool) -> np.ndarray:
    """:func:`weighted_mean` of one ``values`` matrix (n, k) shared by every draw, under
    each draw's ``weights`` (draws, k): (draws, n). Two matrix products instead of a
    (draws, n, k) array (a zero weight adds nothing to either sum, so the result is the same)."""
    present = ~np.isnan(values)
    logs = np.log(np.where(present, values, 1.0)) if geometric else values
    filled = np.where(present, logs, 0.0)
    num = np.einsum("nk,dk->dn", filled, weights)
    den = np.einsum("nk,dk->dn", present.astype(float), weights)
    return _mean_of_sums(num, den, geometric)


def composite_scores(stack: np.ndarray, choices: Choices) -> np.ndarray:
    """(draws, n) overall composite (higher = better) under each draw's choices.

    ``stack`` is :func:`normalised_stack`'s; missing indicators as in the baseline. Draws
    are grouped by their (normalisation, aggregation) pair, whose normalised indicators
    they share."""
    weights = np.array(choices.indicator_weights, dtype=float, copy=True)
    dropped = choices.leave_out >= 0
    weights[np.flatnonzero(dropped), choices.leave_out[dropped]] = 0.0
    dim_weights = np.asarray(choices.dimension_weights, dtype=float)
    layer = np.asarray(choices.normalisation) * len(AGGREGATIONS) + np.asarray(choices.aggregation)
    out = np.empty((len(choices), stack.shape[1]))
    for key in np.unique(layer):
        rows = np.flatnonzero(layer == key)
        geometric = AGGREGATIONS[key % len(AGGREGATIONS)] == "geometric"
        dims = np.stack(
            [
                shared_weighted_mean(stack[key][:, _DIM_OF == i], weights[np.ix_(rows, _DIM_OF == i)], geometric)
                for i in range(len(DIMENSIONS))
            ],
            axis=2,
        )
        out[rows] = weighted_mean(dims, dim_weights[rows], np.full(len(rows), geometric))
    return out


def min_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank each row of ``scores`` (draws, n), higher = better: rounded to 9 decimals,
    1 = best, ties share the smallest rank; ``NaN`` stays unranked (``NaN``)."""
    rounded = np.round(scores, SCORE_DECIMALS)
    missing = np.isnan(rounded)
    ranks = min_ranks_rows(np.where(missing, np.inf, -rounded))
    ranks[missing] = np.nan
    return ranks


def baseline_choices(draws: int = 1) -> Choices:
    """The paper's choices: equal weights, ranks, arithmetic mean, nothing left out."""
    return Choices(
        np.ones((draws, len(DIMENSIONS))),
        np.ones((draws, len(INDICATORS))),
        np.zeros(draws, dtype=int),
        np.zeros(draws, dtype=int),
        np.full(draws, -1, dtype=int),
    )


def _normalise_weights(w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Divide weights by their sum within each group of columns (all-zero groups -> equal)."""
    out = np.array(w, dtype=float, copy=True)
    for g in np.unique(groups):
        block = out[:, groups == g]
        total = block.sum(axis=1, keepdims=True)
        block = np.where(total > 0, block / np.where(total > 0, total, 1.0), 1.0 / block.shape[1])
        out[:, groups == g] = block
    return out


def random_choices(draws: int, seed: int = DEFAULT_SEED) -> Choices:
    """``draws`` independent draws of the five choices (``numpy.random.default_rng(seed)``):
    weights uniform on [0, 1] divided by their sum (per dimension for the indicators), the
    discrete choices uniform over their options."""
    rng = np.random.default_rng(seed)
    dim_w = rng.uniform(0.0, 1.0, size=(draws, len(DIMENSIONS)))
    ind_w = rng.uniform(0.0, 1.0, size=(draws, len(INDICATORS)))
    return Choices(
        _normalise_weights(dim_w, np.zeros(len(DIMENSIONS), dtype=int)),
        _normalise_weights(ind_w, _DIM_OF),
        rng.integers(0, len(NORMALISATIONS), size=draws),
        rng.integers(0, len(AGGREGATIONS), size=draws),
        rng.integers(0, len(LEAVE_OUT), size=draws) - 1,
    )


def _ranked(indicators: pd.DataFrame) -> pd.DataFrame:
    """The indicators of the clusters that have a baseline overall score, by name."""
    table = indicator_table(indicators)[list(INDICATORS)].astype(float)
    scores = dimension_scores(indicator_ranks(table))
    return table[scores["overall"].notna().to_numpy()]


def simulate_ranks(indicators: pd.DataFrame, choices: Choices, chunk: int = 512) -> np.ndarray:
    """(draws, n) overall ranks of the clusters with a baseline score under ``choices``,
    computed in chunks of ``chunk`` draws (to bound memory) on every core (numpy releases
    the GIL; each chunk fills its own rows, so the result does not depend on the order)."""
    table = _ranked(indicators)
    stack = normalised_stack(table)
    ranks = np.empty((len(choices), len(table)))

    def fill(start: int) -> None:
        part = Choices(*(np.asarray(getattr(choices, f))[start : start + chunk] for f in Choices.__dataclass_fields__))
        ranks[start : start + chunk] = min_ranks(composite_scores(stack, part))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(fill, range(0, len(choices), chunk)))
    return ranks


def _baseline_ranks(table: pd.DataFrame) -> np.ndarray:
    return min_ranks(composite_scores(normalised_stack(table), baseline_choices()))[0]


def uncertainty(indicators: pd.DataFrame, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """uncertainty.csv: per cluster (with a baseline rank) ``baseline_rank``, and over
    ``draws`` random choices (:func:`random_choices`) ``median_rank``, ``p05_rank``,
    ``p95_rank`` and ``share_within_5`` (share of draws within +-5 places of the baseline).
    Sorted by baseline rank, then cluster."""
    table = _ranked(indicators)
    if len(table) == 0:
        return pd.DataFrame({c: pd.Series(dtype="string" if c == "cluster" else float) for c in UNCERTAINTY_COLUMNS})
    base = _baseline_ranks(table)
    sim = simulate_ranks(table, random_choices(draws, seed))
    empty = len(sim) == 0
    out = pd.DataFrame(
        {
            "cluster": pd.Series(table.index, dtype="string"),
            "baseline_rank": base.astype(int),
            "median_rank": np.full(len(table), np.nan) if empty else np.median(sim, axis=0),
            "p05_rank": np.full(len(table), np.nan) if empty else np.percentile(sim, 5, axis=0),
            "p95_rank": np.full(len(table), np.nan) if empty else np.percentile(sim, 95, axis=0),
            "share_within_5": np.full(len(table), np.nan)
            if empty
            else np.mean(np.abs(sim - base) <= WITHIN_PLACES, axis=0),
        }
    )
    return out.sort_values(["baseline_rank", "cluster"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# variance-based sensitivity (SALib)


def sobol_problem() -> dict[str, Any]:
    """The SALib problem: 15 variables on [0, 1] in the five groups of :data:`FACTORS`."""
    names = [f"w_{d}" for d in DIMENSIONS] + [f"w_{i}" for i in INDICATORS] + list(FACTORS[2:])
    groups = ["dimension_weights"] * len(DIMENSIONS) + ["indicator_weights"] * len(INDICATORS) + list(FACTORS[2:])
    return {"num_vars": len(names), "names": names, "groups": groups, "bounds": [[0.0, 1.0]] * len(names)}


def _option(u: np.ndarray, options: int) -> np.ndarray:
    """Map u in [0, 1] to an option 0..options-1 (``floor(u * options)``, 1.0 -> last)."""
    return np.minimum((np.asarray(u) * options).astype(int), options - 1)


def choices_from_unit(x: np.ndarray) -> Choices:
    """The choices of each row of a SALib sample (rows of the 15 variables of
    :func:`sobol_problem`)."""
    nd, ni = len(DIMENSIONS), len(INDICATORS)
    return Choices(
        _normalise_weights(x[:, :nd], np.zeros(nd, dtype=int)),
        _normalise_weights(x[:, nd : nd + ni], _DIM_OF),
        _option(x[:, nd + ni], len(NORMALISATIONS)),
        _option(x[:, nd + ni + 1], len(AGGREGATIONS)),
        _option(x[:, nd + ni + 2], len(LEAVE_OUT)) - 1,
    )


def sobol_indices(
    problem: dict[str, Any],
    outputs: np.ndarray,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 100,
    chunk: int = 16,
) -> pd.DataFrame:
    """First-order and total Sobol' indices, with 95% bootstrap confidence, of every column
    of ``outputs`` (samples, m), as ``SALib.analyze.sobol.analyze(problem, column,
    calc_second_order=False, num_resamples=num_resamples, conf_level=0.95, seed=seed)``
    gives them for each column (tested to 1e-12), but for ``chunk`` columns at a time: the
    same steps (each column centred and scaled by its standard deviation, the seeded
    bootstrap resamples shared by all columns) around SALib's own estimators
    (``SALib.analyze.sobol.first_order`` and ``total_order``), so that a run with
    thousands of clusters does not call ``analyze`` thousands of times.

    A constant column (no variance to apportion) gets zeros. One row per output column and
    factor (group): ``output`` (column position), ``factor``, ``S1``, ``S1_conf``, ``ST``,
    ``ST_conf``."""
    from SALib.analyze.sobol import first_order, total_order

    factors = list(dict.fromkeys(problem.get("groups") or problem["names"]))
    d = len(factors)
    outputs = np.asarray(outputs, dtype=float).reshape(len(outputs), -1)
    if len(outputs) % (d + 2):
        raise ValueError(f"{len(outputs)} model outputs are not a Saltelli sample of {d} factors (N x {d + 2} rows)")
    n, m = len(outputs) // (d + 2), outputs.shape[1]
    resamples = np.random.default_rng(seed).integers(n, size=(n, num_resamples))  # as analyze draws them
    z = stats.norm.ppf(0.5 + 0.95 / 2)
    indices = {k: np.zeros((d, m)) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    spread = np.nanstd(outputs, axis=0)

    def analyse(lo: int) -> None:
        cols = np.arange(lo, min(lo + chunk, m))
        cols = cols[spread[cols] != 0]  # constant outputs keep their zeros
        if len(cols) == 0:
            return
        y = outputs[:, cols]
        y = ((y - y.mean(axis=0)) / y.std(axis=0)).reshape(n, d + 2, len(cols))
        a, b = y[:, 0], y[:, d + 1]
        a_r, b_r = a[resamples], b[resamples]  # (n, resamples, columns)
        varied = np.ptp(np.concatenate([a_r, b_r]), axis=(0, 1)) != 0
        for j in range(d):
            ab = y[:, j + 1]
            for key, estimator in (("S1", first_order), ("ST", total_order)):
                indices[key][j, cols] = estimator(a, ab, b)
                boot = estimator(a_r, ab[resamples], b_r)
                indices[key + "_conf"][j, cols] = np.where(varied, z * boot.std(axis=0, ddof=1), 0.0)

    # chunks write disjoint columns; numpy releases the GIL, so threads use every core
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        warnings.simplefilter("ignore")
        list(pool.map(analyse, range(0, m, chunk)))
    return pd.DataFrame(
        {
            "output": np.repeat(np.arange(m), d),
            "factor": np.tile(np.asarray(factors, dtype=object), m),
            **{k: v.T.ravel() for k, v in indices.items()},
        },
        columns=["output", "factor", "S1", "S1_conf", "ST", "ST_conf"],
    )


def sobol_sample(problem: dict[str, Any], n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Saltelli's sample on a scrambled Sobol' sequence (``SALib.sample.sobol.sample``,
    seeded, first-order and total only): ``n * (groups + 2)`` rows."""
    from SALib.sample import sobol as sobol_sampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sobol_sampler.sample(problem, n, calc_second_order=False, seed=seed)


#: Bootstrap resamples of the confidence intervals: for the mean absolute rank shift
#: (sensitivity.csv) and, fewer to keep a run quick, for each cluster's rank.
SOBOL_RESAMPLES: int = 100
CLUSTER_RESAMPLES: int = 25


def sensitivity(
    indicators: pd.DataFrame, n: int = DEFAULT_SOBOL_N, seed: int = DEFAULT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sobol' indices of the five modelling choices (``n * 7`` rankings).

    Returns (sensitivity.csv: one row per factor, :data:`SENSITIVITY_COLUMNS`, for the mean
    absolute shift of the overall ranks from the baseline; per cluster: ``cluster``,
    ``factor``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` for its rank)."""
    table = _ranked(indicators)
    problem = sobol_problem()
    if len(table) < 2:  # nothing can move: no indices
        factors = pd.DataFrame({"factor": list(FACTORS)}).reindex(columns=list(SENSITIVITY_COLUMNS))
        return factors, pd.DataFrame(columns=["cluster", *SENSITIVITY_COLUMNS])
    x = sobol_sample(problem, n, seed)
    ranks = simulate_ranks(table, choices_from_unit(x))
    base = _baseline_ranks(table)
    shift = np.nanmean(np.abs(ranks - base), axis=1)
    overall = sobol_indices(problem, shift[:, None], seed, SOBOL_RESAMPLES).drop(columns="output")
    per_cluster = sobol_indices(problem, ranks, seed, CLUSTER_RESAMPLES)
    per_cluster.insert(0, "cluster", pd.Series(np.asarray(table.index)[per_cluster.pop("output")], dtype="string"))
    return overall[list(SENSITIVITY_COLUMNS)].reset_index(drop=True), per_cluster


def sobol_convergence(indicators: pd.DataFrame, n: int = DEFAULT_SOBOL_N, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The indices of sensitivity.csv at base sizes ``n`` and ``2 n`` side by side (a
    convergence check): ``factor``, ``S1_N``, ``S1_2N``, ``ST_N``, ``ST_2N``, and the
    confidence half-widths ``S1_conf_2N``, ``ST_conf_2N``."""
    a, _ = sensitivity(indicators, n, seed)
    b, _ = sensitivity(indicators, 2 * n, seed)
    return pd.DataFrame(
        {
            "factor": a["factor"],
            "S1_N": a["S1"],
            "S1_2N": b["S1"],
            "ST_N": a["ST"],
            "ST_2N": b["ST"],
            "S1_conf_2N": b["S1_conf"],
            "ST_conf_2N": b["ST_conf"],
        }
    )


# ---------------------------------------------------------------------------------------
# leave one indicator out


def leave_one_out(indicators: pd.DataFrame, movers: int = 3) -> pd.DataFrame:
    """Per indicator dropped (baseline otherwise): ``indicator``, ``spearman`` (rho of the
    overall ranks against the baseline), ``mean_abs_shift``, ``max_abs_shift`` and
    ``largest_movers`` (the ``movers`` clusters moving most, ``name (+k)``, positive = up,
    ``;``-separated; ties by name)."""
    table = _ranked(indicators)
    if len(table) == 0:
        return pd.DataFrame(columns=["indicator", "spearman", "mean_abs_shift", "max_abs_shift", "largest_movers"])
    base = _baseline_ranks(table)
    choices = baseline_choices(len(INDICATORS))
    choices = replace(choices, leave_out=np.arange(len(INDICATORS)))
    ranks = simulate_ranks(table, choices)
    names = np.asarray(table.index, dtype=object)
    rows = []
    for i, col in enumerate(INDICATORS):
        up = base - ranks[i]
        order = sorted(range(len(names)), key=lambda c: (-abs(up[c]), str(names[c])))[:movers]
        rows.append(
            {
                "indicator": col,
                "spearman": spearman_rho(pd.Series(ranks[i]), pd.Series(base)),
                "mean_abs_shift": float(np.nanmean(np.abs(up))) if len(up) else float("nan"),
                "max_abs_shift": float(np.nanmax(np.abs(up))) if len(up) else float("nan"),
                "largest_movers": "; ".join(f"{names[c]} ({int(up[c]):+d})" for c in order if up[c] != 0),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# everything a run stores


@dataclass(frozen=True)
class Audit:
    """The audit of one run (:func:`audit`): the four written frames and the rest."""

    coherence: pd.DataFrame
    correlations: pd.DataFrame
    indicator_coherence: pd.DataFrame
    uncertainty: pd.DataFrame
    sensitivity: pd.DataFrame
    sensitivity_clusters: pd.DataFrame
    leave_one_out: pd.DataFrame
    draws: int = DEFAULT_DRAWS
    sobol_n: int = DEFAULT_SOBOL_N
    seed: int = DEFAULT_SEED


def audit(
    indicators: pd.DataFrame, draws: int = DEFAULT_DRAWS, sobol_n: int = DEFAULT_SOBOL_N, seed: int = DEFAULT_SEED
) -> Audit:
    """Coherence, uncertainty (``draws`` Monte Carlo draws), Sobol' sensitivity (base
    sample ``sobol_n``) and leave-one-out, all seeded with ``seed``."""
    coh, per_indicator, corr = coherence(indicators)
    sens, sens_clusters = sensitivity(indicators, sobol_n, seed)
    return Audit(
        coherence=coh,
        correlations=corr,
        indicator_coherence=per_indicator,
        uncertainty=uncertainty(indicators, draws, seed),
        sensitivity=sens,
        sensitivity_clusters=sens_clusters,
        leave_one_out=leave_one_out(indicators),
        draws=draws,
        sobol_n=sobol_n,
        seed=seed,
    )


# ---------------------------------------------------------------------------------------
# detection sensitivity and vintages


#: What became of a baseline cluster under other detection settings (:func:`compare_detection`):
#: ``kept`` (a cluster of the same name), ``renamed`` (most members form one cluster under another
#: name that no other baseline cluster joins), ``merged`` (most members joined a cluster that
#: continues another baseline cluster), ``quasi_cluster`` (most members now in a quasi-cluster:
#: the group no longer passes the cluster test), ``dissolved`` (most members in no group). A
#: cluster of the other run that continues no baseline cluster is ``new``.
DETECTION_STATUSES: tuple[str, ...] = ("kept", "renamed", "merged", "quasi_cluster", "dissolved", "new")
#: Columns of :func:`compare_detection`'s per-cluster frame.
DETECTION_DETAIL_COLUMNS: tuple[str, ...] = (
    "cluster",
    "status",
    "into",
    "retained_share",
    "baseline_rank",
    "setting_rank",
    "source",
)
#: How many places count as "the top" in :func:`compare_detection`.
TOP: int = 10


def cluster_members(assignments: pd.DataFrame, status: str = "cluster") -> dict[str, set[str]]:
    """Group name -> the set of its member institution ids (rows with ``status``:
    ``cluster`` by default, or ``quasi_cluster``)."""
    rows = assignments[assignments["status"] == status]
    return {str(g): set(map(str, ids)) for g, ids in rows.groupby("group", sort=True)["institution_id"]}


def _overall_ranks(ranking: pd.DataFrame) -> pd.Series:
    ranks = ranking.set_index("cluster")["overall_rank"].astype(float)
    ranks.index = ranks.index.map(str)
    return ranks


def _top(ranking: pd.DataFrame, n: int = TOP) -> set[str]:
    ranks = _overall_ranks(ranking)
    return set(ranks[ranks <= n].index)


def _largest_overlap(members: set[str], groups: dict[str, set[str]]) -> tuple[int, str]:
    """(shared members, name) of the group sharing most members (ties: by name); (0, "")."""
    best = sorted(((len(members & m), n) for n, m in groups.items() if members & m), key=lambda t: (-t[0], t[1]))
    return best[0] if best else (0, "")


def compare_detection(base: Any, other: Any, top: int = TOP) -> tuple[dict[str, Any], pd.DataFrame]:
    """What became of each cluster of a baseline run under another run (pipeline results, or
    anything with ``assignments`` and ``ranking``), matched by name and by members.

    Per baseline cluster (sorted by name): ``cluster``, ``status`` (:data:`DETECTION_STATUSES`),
    ``into`` (the cluster that continues it, or for ``quasi_cluster`` the quasi-cluster holding
    most of its members; empty for ``dissolved``), ``retained_share`` (share of its members in
    ``into`` when that is a cluster, else 0), ``baseline_rank``, ``setting_rank`` (the rank of
    ``into`` in the other run; NaN when no cluster continues it). Then one row per cluster of
    the other run that continues none (``status`` ``new``, its ``setting_rank``, and ``source``:
    the baseline cluster most of its members came from, i.e. it split off from; empty if none
    of them was in a cluster).

    A baseline cluster whose name has gone goes where most of its members went: into one
    cluster of the other run, into quasi-clusters, or nowhere (ties in that order). Into a
    cluster that keeps another baseline cluster's name, or that another vanished baseline
    cluster also goes into, it has ``merged``; otherwise it is ``renamed``.

    The summary: ``clusters`` (in the other run), ``survived`` (``kept`` + ``renamed``: still a
    cluster of its own), ``kept``, ``renamed``, ``merged``, ``quasi_cluster``, ``dissolved``,
    ``disappeared`` (``quasi_cluster`` + ``dissolved``), ``new``, ``top10_changed`` and
    ``top10_out`` / ``top10_in`` (the baseline top ``top`` that left it, and the clusters that
    entered it, renamed clusters under their baseline name, ``; ``-separated),
    ``median_retained`` and ``min_retained`` (over the survivors), ``spearman`` (the overall
    ranks of the survivors in both runs; NaN below three)."""
    before, after = cluster_members(base.assignments), cluster_members(other.assignments)
    quasi = cluster_members(other.assignments, "quasi_cluster")
    rank_a, rank_b = _overall_ranks(base.ranking), _overall_ranks(other.ranking)
    placed: dict[str, tuple[str, str, int]] = {}  # vanished baseline cluster -> (kind, group, count)
    for name in sorted(before):
        if name in after:
            continue
        members = before[name]
        in_cluster, dest = _largest_overlap(members, after)
        in_quasi = len(members & set().union(*quasi.values())) if quasi else 0
        _, quasi_dest = _largest_overlap(members, quasi)
        nowhere = len(members) - len(members & set().union(*after.values(), *quasi.values()))
        kind = max((("cluster", dest, in_cluster), ("quasi", quasi_dest, in_quasi), ("none", "", nowhere)),
                   key=lambda t: t[2])  # max keeps the first of equal counts
        placed[name] = kind if kind[2] > 0 else ("none", "", 0)
    destinations = pd.Series([g for k, g, _ in placed.values() if k == "cluster"], dtype=object)
    shared_dest = set(destinations[destinations.duplicated(keep=False)])
    rows, continues = [], {}  # continues: other-run cluster -> baseline cluster it continues
    for name in sorted(before):
        members = before[name]
        row = {"cluster": name, "baseline_rank": rank_a.get(name, np.nan), "source": ""}
        if name in after:
            row.update(status="kept", into=name, retained_share=len(members & after[name]) / len(members))
            continues[name] = name
        else:
            kind, group, count = placed[name]
            if kind == "cluster":
                merged = group in before or group in shared_dest
                row.update(status="merged" if merged else "renamed", into=group, retained_share=count / len(members))
                if not merged:
                    continues[group] = name
            elif kind == "quasi":
                row.update(status="quasi_cluster", into=group, retained_share=0.0)
            else:
                row.update(status="dissolved", into="", retained_share=0.0)
        row["setting_rank"] = rank_b.get(row["into"], np.nan) if row["status"] in ("kept", "renamed", "merged") else np.nan
        rows.append(row)
    joined = {r["into"] for r in rows if r["status"] == "merged"}
    for name in sorted(set(after) - set(continues) - joined):
        _, source = _largest_overlap(after[name], before)
        rows.append({"cluster": name, "status": "new", "into": "", "retained_share": np.nan,
                     "baseline_rank": np.nan, "setting_rank": rank_b.get(name, np.nan), "source": source})
    detail = pd.DataFrame(rows, columns=list(DETECTION_DETAIL_COLUMNS))
    detail["baseline_rank"] = detail["baseline_rank"].astype(float)
    detail["setting_rank"] = detail["setting_rank"].astype(float)
    status = detail["status"].value_counts()
    count = {s: int(status.get(s, 0)) for s in DETECTION_STATUSES}
    survivors = detail[detail["status"].isin(["kept", "renamed"])]
    paired = survivors.dropna(subset=["baseline_rank", "setting_rank"])
    rho = (
        spearman_rho(paired["baseline_rank"].reset_index(drop=True), paired["setting_rank"].reset_index(drop=True))
        if len(paired) >= 3
        else float("nan")
    )
    top_a = {c for c, r in rank_a.items() if r <= top}
    top_b = {continues.get(c, c) for c, r in rank_b.items() if r <= top}
    summary = {
        "clusters": len(after),
        "survived": count["kept"] + count["renamed"],
        **{s: count[s] for s in DETECTION_STATUSES if s != "new"},
        "disappeared": count["quasi_cluster"] + count["dissolved"],
        "new": count["new"],
        "top10_changed": top_a != top_b,
        "top10_out": "; ".join(sorted(top_a - top_b, key=lambda c: (rank_a[c], c))),
        "top10_in": "; ".join(sorted(top_b - top_a)),
        "median_retained": float(survivors["retained_share"].median()) if len(survivors) else float("nan"),
        "min_retained": float(survivors["retained_share"].min()) if len(survivors) else float("nan"),
        "spearman": rho,
    }
    return summary, detail


def detection_sensitivity(
    db: Any,
    cutoff: Any,
    params_grid: Iterable[Any],
    baseline_params: Any = None,
    run: Callable[..., Any] | None = None,
    base: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rerun detection and ranking on a validated ``db`` at ``cutoff`` for every
    :class:`~quantumclusters.detection.Params` of ``params_grid`` and compare each with the
    run at ``baseline_params`` (default: the paper's) by :func:`compare_detection`.

    Returns (one row per setting: ``eps_km``, ``min_samples``, the summary columns,
    ``baseline``; one row per setting and cluster: ``eps_km``, ``min_samples`` and
    :data:`DETECTION_DETAIL_COLUMNS`). ``run(db, cutoff, params)`` defaults to the pipeline
    without the Monte Carlo and audit parts; ``base`` is the baseline run if already made."""
    from .detection import Params

    baseline_params = Params() if baseline_params is None else baseline_params
    if run is None:
        from .pipeline import run as pipeline_run

        def run(db_: Any, cutoff_: Any, params_: Any) -> Any:
            return pipeline_run(db_, cutoff_, params_, draws=0, audit=False)

    base = run(db, cutoff, baseline_params) if base is None else base
    summaries, details = [], []
    for params in params_grid:
        other = base if params == baseline_params else run(db, cutoff, params)
        summary, detail = compare_detection(base, other)
        key = {"eps_km": float(params.eps_km), "min_samples": int(params.min_samples)}
        summaries.append({**key, **summary, "baseline": params == baseline_params})
        details.append(detail.assign(**key))
    grid = pd.DataFrame(summaries)
    columns = ["eps_km", "min_samples", *DETECTION_DETAIL_COLUMNS]
    detail = pd.concat(details, ignore_index=True)[columns] if details else pd.DataFrame(columns=columns)
    return grid, detail


def vintage_movement(earlier: pd.DataFrame, later: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rank movement between two vintages (indicator tables of two runs).

    The clusters present in both are re-ranked among themselves in each vintage (section 6
    on the common set; the indicators themselves unchanged). Returns (``cluster``,
    ``rank_earlier``, ``rank_later``, ``movement`` = places gained, sorted by the later rank
    then name; entrants (in the later vintage only); exits (in the earlier only))."""
    a, b = indicator_table(earlier), indicator_table(later)
    common = sorted(set(map(str, a.index)) & set(map(str, b.index)))
    entrants = sorted(set(map(str, b.index)) - set(common))
    exits = sorted(set(map(str, a.index)) - set(common))
    ra = rank_clusters(a.loc[common]).set_index("cluster")["overall_rank"]
    rb = rank_clusters(b.loc[common]).set_index("cluster")["overall_rank"]
    out = pd.DataFrame({"cluster": pd.Series(common, dtype="string")})
    out["rank_earlier"] = ra.reindex(common).to_numpy(dtype=float)
    out["rank_later"] = rb.reindex(common).to_numpy(dtype=float)
    out["movement"] = out["rank_earlier"] - out["rank_later"]
    out = out.sort_values(["rank_later", "cluster"], kind="stable", na_position="last").reset_index(drop=True)
    return out, entrants, exits


@dataclass(frozen=True)
class Vintages:
    """Two vintages compared (:func:`vintages`).

    ``common``: the clusters present at both cut-offs, ``cluster``, ``rank_earlier``,
    ``rank_later``, ``movement`` (places gained when they are ranked among themselves, as
    :func:`vintage_movement`), and ``full_rank_earlier``, ``full_rank_later``,
    ``full_movement`` (the same from each vintage's full ranking, where entrants and exits
    take places too); sorted by ``rank_later``, then name. ``entrants``: ``cluster``,
    ``rank_later`` (full ranking of the later vintage), by rank. ``exits``: ``cluster``,
    ``rank_earlier`` (full ranking of the earlier vintage), by rank."""

    common: pd.DataFrame
    entrants: pd.DataFrame
    exits: pd.DataFrame

    @property
    def falls_only_from_entry(self) -> list[str]:
        """Clusters that fall in the full rankings but not among the common set: their fall
        is the entrants' (and exits') doing, not their own."""
        c = self.common
        hit = (c["full_movement"] < 0) & (c["movement"] >= 0)
        return sorted(c.loc[hit, "cluster"].astype(str))


def vintages(earlier: pd.DataFrame, later: pd.DataFrame) -> Vintages:
    """Movement among the clusters present in both vintages (indicator tables of two runs),
    with the entrants and exits apart (:class:`Vintages`)."""
    common, entrants, exits = vintage_movement(earlier, later)
    full_a = rank_clusters(indicator_table(earlier)).set_index("cluster")["overall_rank"].astype(float)
    full_b = rank_clusters(indicator_table(later)).set_index("cluster")["overall_rank"].astype(float)
    full_a.index, full_b.index = full_a.index.map(str), full_b.index.map(str)
    names = common["cluster"].astype(str)
    common = common.assign(
        full_rank_earlier=names.map(full_a).to_numpy(dtype=float),
        full_rank_later=names.map(full_b).to_numpy(dtype=float),
    )
    common["full_movement"] = common["full_rank_earlier"] - common["full_rank_later"]

    def listed(names_: list[str], ranks: pd.Series, column: str) -> pd.DataFrame:
        frame = pd.DataFrame({"cluster": pd.Series(names_, dtype="string"), column: ranks.reindex(names_).to_numpy(dtype=float)})
        return frame.sort_values([column, "cluster"], kind="stable", na_position="last").reset_index(drop=True)

    return Vintages(common=common, entrants=listed(entrants, full_b, "rank_later"), exits=listed(exits, full_a, "rank_earlier"))
