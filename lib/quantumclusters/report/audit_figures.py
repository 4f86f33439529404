"""Figures of the audit of the index (issue 15; :mod:`quantumclusters.audit`).

* :func:`figure_audit_uncertainty`: every cluster's baseline rank against its median rank
  and 5th-95th percentile under random modelling choices, as the JRC's audits show it;
* :func:`figure_sobol`: first-order and total Sobol' indices with their confidence bars;
* :func:`figure_correlations`: the 9x9 Spearman matrix of the indicators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .plots import BLUE, GREY, INK, LIGHT_BLUE, MID_BLUE, ORANGE, new_figure

__all__ = ["FACTOR_LABELS", "INDICATOR_LABELS", "figure_audit_uncertainty", "figure_sobol", "figure_correlations"]

#: The five modelling choices in words.
FACTOR_LABELS: dict[str, str] = {
    "dimension_weights": "Weights of the three dimensions",
    "indicator_weights": "Weights of the indicators",
    "normalisation": "Normalisation (ranks, z-scores, min–max)",
    "aggregation": "Aggregation (arithmetic, geometric)",
    "leave_out": "Leaving one indicator out",
}
#: Short labels of the nine indicators (for the matrix).
INDICATOR_LABELS: dict[str, str] = {
    "total_funding_usd": "Total funding",
    "startup_funding_to_gdp": "Startup funding / GDP",
    "industry_collaborations_per_tn_gdp": "Industry collab. / GDP",
    "collaborations": "Collaborations",
    "external_share": "External share",
    "brokerage": "Brokerage",
    "institutions_per_million": "Institutions / million",
    "spinouts_per_research_institution": "Spinouts / research inst.",
    "startups_per_institution": "Startups / institution",
}


def _no_data(ax: object, message: str = "no clusters at this cut-off") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", color=GREY, transform=ax.transAxes)  # type: ignore[attr-defined]
    ax.set_axis_off()  # type: ignore[attr-defined]


def figure_audit_uncertainty(uncertainty: pd.DataFrame) -> Figure:
    """Clusters in baseline order (x); for each, the 5th-95th percentile rank under random
    modelling choices (bar), the median rank (dot) and the baseline rank (diamond); rank 1
    at the top. ``uncertainty`` is uncertainty.csv's frame."""
    u = uncertainty.sort_values(["baseline_rank", "cluster"], kind="stable").reset_index(drop=True)
    n = len(u)
    fig = new_figure(figsize=(9.0, 5.2))
    ax = fig.add_subplot()
    if n == 0:
        _no_data(ax)
        return fig
    x = np.arange(n)
    low = u["median_rank"] - u["p05_rank"]
    high = u["p95_rank"] - u["median_rank"]
    ax.errorbar(x, u["median_rank"], yerr=[low, high], fmt="o", color=MID_BLUE, ecolor=LIGHT_BLUE,
                elinewidth=4, markersize=4, label="Median rank, 5th–95th percentile")
    ax.scatter(x, u["baseline_rank"], marker="D", s=16, color=ORANGE, zorder=3, label="Baseline rank (the paper's method)")
    ax.set_xticks(x)
    ax.set_xticklabels(u["cluster"].astype(str), rotation=90, fontsize=7)
    ax.set_ylim(n + 1, 0)
    ax.set_ylabel("Overall rank (1 = best)")
    ax.legend(loc="lower left")
    return fig


def figure_sobol(sensitivity: pd.DataFrame) -> Figure:
    """First-order (S1) and total (ST) Sobol' indices of each modelling choice with their
    95% confidence bars (sensitivity.csv's frame), largest total effect at the top."""
    s = sensitivity.sort_values("ST", kind="stable").reset_index(drop=True)
    fig = new_figure(figsize=(8.0, 3.4))
    ax = fig.add_subplot()
    if s[["S1", "ST"]].isna().all().all():
        _no_data(ax, "too few clusters for a sensitivity analysis")
        return fig
    y = np.arange(len(s))
    h = 0.38
    ax.barh(y + h / 2, s["ST"], height=h, xerr=s["ST_conf"], color=BLUE, ecolor=INK, capsize=2, label="Total effect (ST)")
    ax.barh(y - h / 2, s["S1"], height=h, xerr=s["S1_conf"], color=ORANGE, ecolor=INK, capsize=2, label="First-order effect (S1)")
    ax.set_yticks(y)
    ax.set_yticklabels([FACTOR_LABELS.get(f, f) for f in s["factor"]])
    ax.axvline(0, color=GREY, linewidth=0.8)
    ax.set_xlabel("Share of the variance of the mean absolute rank shift")
    ax.legend(loc="lower right")
    return fig


def figure_correlations(correlations: pd.DataFrame) -> Figure:
    """The 9x9 Spearman matrix (correlations.csv's frame, an ``indicator`` column or index)
    as a heat map with the values written in."""
    c = correlations.set_index("indicator") if "indicator" in correlations.columns else correlations
    labels = [INDICATOR_LABELS.get(str(i), str(i)) for i in c.index]
    fig = new_figure(figsize=(7.6, 6.2))
    ax = fig.add_subplot()
    values = c.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="RdBu", vmin=-1, vmax=1)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(values[i, j]) > 0.6 else INK)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7.5)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7.5)
    for edge in (2.5, 5.5):  # the three dimensions
        ax.axhline(edge, color=INK, linewidth=1)
        ax.axvline(edge, color=INK, linewidth=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="Spearman ρ")
    return fig
