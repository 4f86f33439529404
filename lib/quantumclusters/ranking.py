"""The baseline Borda-type ranking (contract section 6).

1. Each indicator is rounded to 12 significant digits and ranked across clusters, largest
   = 1, ties sharing the smallest rank (``method="min"``); a missing value has no rank.
2. A dimension score is the mean of the cluster's available indicator ranks in it.
3. The overall score is the mean of the (available) dimension scores.
4. Scores are rounded to 9 decimals and ranked, smallest = 1, ties sharing the smallest
   rank; a tied rank is labelled with ``=`` (``12=``), as in the paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .indicators import INDICATORS

__all__ = [
    "DIMENSIONS",
    "SIGNIFICANT_DIGITS",
    "SCORE_DECIMALS",
    "round_significant",
    "indicator_table",
    "indicator_ranks",
    "dimension_scores",
    "rank_scores",
    "rank_label",
    "rank_labels",
    "rank_clusters",
    "weighted_scores",
    "weighted_ranking",
    "RANKING_COLUMNS",
]

#: The three dimensions of the index and their indicators (contract section 5).
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "market_orientation": INDICATORS[0:3],  # type: ignore[dict-item]
    "collaboration_intensity": INDICATORS[3:6],  # type: ignore[dict-item]
    "ecosystem_maturity": INDICATORS[6:9],  # type: ignore[dict-item]
}
SIGNIFICANT_DIGITS: int = 12
SCORE_DECIMALS: int = 9

#: ranking.csv columns (contract section 8), in order.
RANKING_COLUMNS: tuple[str, ...] = (
    "cluster",
    "overall_rank",
    "overall_label",
    "market_orientation_rank",
    "market_orientation_label",
    "collaboration_intensity_rank",
    "collaboration_intensity_label",
    "ecosystem_maturity_rank",
    "ecosystem_maturity_label",
    "overall_score",
    "market_orientation_score",
    "collaboration_intensity_score",
    "ecosystem_maturity_score",
)


def round_significant(values: pd.Series | np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Round to ``digits`` significant (decimal) digits, as ``float(f"{x:.{digits-1}e}")``.

    Uses the decimal representation, so 1/3 and 0.333333333333 round to the same number.
    Missing values stay missing.
    """
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return arr.copy()
    return np.char.mod(f"%.{digits - 1}e", arr).astype(float)


def indicator_table(indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicators indexed by cluster name: accepts the ``indicators.csv`` form (a
    ``cluster`` column) or a frame already indexed by cluster."""
    if "cluster" in indicators.columns:
        return indicators.set_index("cluster")
    return indicators


def indicator_ranks(indicators: pd.DataFrame) -> pd.DataFrame:
    """Rank of every cluster on every indicator column (section 6, step 1).

    Largest = 1, ``method="min"`` ties, missing values unranked (``NaN``). Same shape as
    ``indicators`` (float, so that missing ranks are ``NaN``).
    """
    rounded = pd.DataFrame(
        {c: round_significant(indicators[c]) for c in indicators.columns}, index=indicators.index
    )
    return rounded.rank(method="min", ascending=False, na_option="keep")


def dimension_scores(ranks: pd.DataFrame) -> pd.DataFrame:
    """Dimension scores (mean of available indicator ranks) and the overall score (mean of
    available dimension scores); section 6, steps 2-3. Columns: the dimensions, ``overall``."""
    out = pd.DataFrame(index=ranks.index)
    for dim, cols in DIMENSIONS.items():
        out[dim] = ranks[list(cols)].mean(axis=1, skipna=True)
    out["overall"] = out[list(DIMENSIONS)].mean(axis=1, skipna=True)
    return out


def rank_scores(scores: pd.Series) -> pd.Series:
    """Rank scores after rounding to 9 decimals: smallest = 1, ties share the smallest rank,
    missing unranked (section 6, step 4). Returns nullable ``Int64``."""
    rounded = pd.Series(np.round(scores.to_numpy(dtype=float), SCORE_DECIMALS), index=scores.index)
    return rounded.rank(method="min", ascending=True, na_option="keep").astype("Int64")


def rank_label(rank: int, tied: bool) -> str:
    """The paper's label of a rank: ``"12"``, or ``"12="`` when the rank is shared."""
    return f"{int(rank)}=" if tied else f"{int(rank)}"


def rank_labels(ranks: pd.Series) -> pd.Series:
    """Labels for a column of ranks (``=`` where two or more clusters share the rank;
    empty where there is no rank)."""
    counts = ranks.map(ranks.value_counts())
    tied = counts.fillna(0).astype(int) > 1
    text = ranks.astype("string")
    labels = text.where(~tied, text + "=")
    return labels.fillna("").astype("string")


def rank_clusters(indicators: pd.DataFrame) -> pd.DataFrame:
    """ranking.csv (contract section 8): ranks, labels and scores per cluster, sorted by
    overall rank then cluster name (clusters without an overall rank last).

    ``indicators``: the nine indicators indexed by cluster (or with a ``cluster`` column)."""
    indicators = indicator_table(indicators)
    scores = dimension_scores(indicator_ranks(indicators[list(INDICATORS)]))
    return _ranking_frame(indicators.index, scores)


def _weight_vector(weights: Mapping[str, float] | Sequence[float] | None, names: Sequence[str], what: str) -> list[float]:
    """Weights for ``names`` from a mapping (missing names weigh 1) or a sequence in the
    order of ``names``; ``None``: all 1. Weights must be finite and non-negative."""
    if weights is None:
        out = [1.0] * len(names)
    elif isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise KeyError(f"unknown {what} weight(s) {unknown}; known: {list(names)}")
        out = [float(weights.get(n, 1.0)) for n in names]
    else:
        out = [float(w) for w in weights]
        if len(out) != len(names):
            raise ValueError(f"{len(out)} {what} weights given, {len(names)} expected")
    for n, w in zip(names, out):
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"{what} weight of {n} must be finite and non-negative, got {w}")
    return out


def _weighted_mean(parts: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Row-wise sum(w * x) / sum(w) over the non-missing ``x``, summed part by part in the
    given order; ``NaN`` where no part with a positive weight is available.

    With all weights 1 this is exactly pandas' ``mean(axis=1, skipna=True)`` of the parts
    (the same left-to-right sum of the available values, divided by their count), so equal
    weights give bit-identical scores."""
    n = len(parts[0]) if parts else 0
    num = np.zeros(n, dtype=float)
    den = np.zeros(n, dtype=float)
    for x, w in zip(parts, weights):
        present = ~np.isnan(x)
        num = np.where(present, num + w * np.where(present, x, 0.0), num)
        den = np.where(present, den + w, den)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_scores(
    ranks: pd.DataFrame,
    dimension_weights: Mapping[str, float] | Sequence[float] | None = None,
    indicator_weights: Mapping[str, float] | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Weighted dimension and overall scores from the nine indicator ranks.

    A dimension score is the weighted mean of the cluster's available indicator ranks in
    that dimension (``indicator_weights``); the overall score is the weighted mean of the
    available dimension scores (``dimension_weights``). A missing rank or score drops out
    together with its weight; a part whose weights are all zero has no score. Columns: the
    three dimensions, ``overall``. All weights 1 give :func:`dimension_scores` bit for bit.
    """
    dim_w = _weight_vector(dimension_weights, list(DIMENSIONS), "dimension")
    ind_w = dict(zip(INDICATORS, _weight_vector(indicator_weights, list(INDICATORS), "indicator")))
    out = pd.DataFrame(index=ranks.index)
    for dim, cols in DIMENSIONS.items():
        parts = [ranks[c].to_numpy(dtype=float) for c in cols]
        out[dim] = _weighted_mean(parts, [ind_w[c] for c in cols])
    out["overall"] = _weighted_mean([out[d].to_numpy(dtype=float) for d in DIMENSIONS], dim_w)
    return out


def weighted_ranking(
    indicators: pd.DataFrame,
    dimension_weights: Mapping[str, float] | Sequence[float] | None = None,
    indicator_weights: Mapping[str, float] | Sequence[float] | None = None,
) -> pd.DataFrame:
    """The ranking with weights: :func:`rank_clusters` with the means replaced by weighted
    means (:func:`weighted_scores`), then the same rounding to 9 decimals and min-rank rule.

    ``dimension_weights`` / ``indicator_weights``: a mapping by dimension / indicator name
    (names left out weigh 1) or a sequence in the order of :data:`DIMENSIONS` /
    :data:`~quantumclusters.indicators.INDICATORS`; ``None``: equal weights, which give
    exactly :func:`rank_clusters` (ties included). Weights need not sum to 1. Same columns
    and row order as :func:`rank_clusters`.
    """
    indicators = indicator_table(indicators)
    scores = weighted_scores(indicator_ranks(indicators[list(INDICATORS)]), dimension_weights, indicator_weights)
    return _ranking_frame(indicators.index, scores)


def _ranking_frame(clusters: pd.Index, scores: pd.DataFrame) -> pd.DataFrame:
    """ranking.csv from scores per part (``overall`` and the dimensions)."""
    out = pd.DataFrame({"cluster": pd.Series(clusters, dtype="string")})
    for part in ("overall", *DIMENSIONS):
        ranks = rank_scores(scores[part])
        out[f"{part}_rank"] = ranks.to_numpy()
        out[f"{part}_label"] = rank_labels(ranks).to_numpy()
    for part in ("overall", *DIMENSIONS):
        out[f"{part}_score"] = scores[part].to_numpy(dtype=float)
    out = out.sort_values(["overall_rank", "cluster"], kind="stable", na_position="last")
    return out[list(RANKING_COLUMNS)].reset_index(drop=True)
