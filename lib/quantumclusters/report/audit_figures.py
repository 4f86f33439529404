"""Figures of the audit of the index (issue 15; :mod:`quantumclusters.audit`).

* :func:`figure_audit_uncertainty`: every cluster's baseline rank against its median rank
  and 5th-95th percentile under random modelling choices, as the JRC's audits show it;
* :func:`figure_sobol`: first-order and total Sobol' indices with their confidence bars;
* :func:`figure_correlations`: the 9x9 Spearman matrix of the indicators;
* :func:`figure_detection_survivors` and :func:`figure_detection_fates`: how many of the
  clusters survive each detection setting, and what becomes of the others;
* :func:`figure_vintage_common`: rank movement among the clusters present at two cut-offs.

Words in every figure are at least 9 pt (:data:`LABEL_PT`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from . import style
from .figures import TABLES, draws_on
from .plots import BLUE, GREY, INK, LIGHT_BLUE, MID_BLUE, ORANGE, new_figure

__all__ = [
    "FACTOR_LABELS",
    "INDICATOR_LABELS",
    "STATUS_LABELS",
    "figure_audit_uncertainty",
    "figure_sobol",
    "figure_correlations",
    "figure_detection_survivors",
    "figure_detection_fates",
    "figure_vintage_common",
    "setting_label",
]

#: The five modelling choices in words.
FACTOR_LABELS: dict[str, str] = {
    "dimension_weights": "Weights of the three dimensions",
    "indicator_weights": "Weights of the indicators",
    "normalisation": "Normalisation (ranks, z-scores, min–max)",
    "aggregation": "Aggregation (arithmetic, geometric)",
    "leave_out": "Leaving one indicator out",
}
#: Label size of every figure here: the house style's minimum for words in a figure.
LABEL_PT = style.MIN_FONT
#: Width in inches: the house style's, the page's text column, so that 9 pt stays 9 pt.
FIG_WIDTH = style.WIDTH
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


def _room_for_mark(fig: Figure) -> Figure:
    """Keep a band free at the bottom of ``fig`` for the disclosure mark that the book draws
    in its bottom-right corner, so that it never covers a legend or an axis label."""
    height = fig.get_size_inches()[1]
    band = min(0.3, 0.34 / height)
    fig.get_layout_engine().set(rect=(0.0, band, 1.0, 1.0 - band))
    return fig


def figure_audit_uncertainty(uncertainty: pd.DataFrame) -> Figure:
    """Clusters in baseline order (rows, rank 1 at the top); for each, the 5th-95th
    percentile rank under random modelling choices (bar), the median rank (dot) and the
    baseline rank (diamond), as the JRC's audits show it. ``uncertainty`` is
    uncertainty.csv's frame."""
    u = uncertainty.sort_values(["baseline_rank", "cluster"], kind="stable").reset_index(drop=True)
    n = len(u)
    fig = new_figure(figsize=(FIG_WIDTH, max(3.0, 0.2 * n + 1.4)))
    ax = fig.add_subplot()
    if n == 0:
        _no_data(ax)
        return fig
    y = np.arange(n)
    ax.hlines(y, u["p05_rank"], u["p95_rank"], color=LIGHT_BLUE, linewidth=5, label="5th–95th percentile rank")
    ax.scatter(u["median_rank"], y, s=18, color=MID_BLUE, zorder=3, label="Median rank")
    ax.scatter(u["baseline_rank"], y, marker="D", s=18, color=ORANGE, zorder=4, label="Baseline rank (the paper's method)")
    ax.set_yticks(y, [str(c) for c in u["cluster"]], fontsize=LABEL_PT)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0.5, n + 0.5)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.tick_params(axis="x", labelsize=LABEL_PT)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("Overall rank (1 = best) under random modelling choices", fontsize=LABEL_PT + 0.5)
    ax.grid(axis="x", color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    # top right is empty (the best clusters sit top left): the legend goes there, clear of the mark
    ax.legend(loc="upper right", fontsize=LABEL_PT, frameon=True, facecolor="white", edgecolor="#e5e7eb")
    return _room_for_mark(fig)


def figure_sobol(sensitivity: pd.DataFrame) -> Figure:
    """First-order (S1) and total (ST) Sobol' indices of each modelling choice with their
    95% confidence bars (sensitivity.csv's frame), largest total effect at the top."""
    s = sensitivity.sort_values("ST", kind="stable").reset_index(drop=True)
    fig = new_figure(figsize=(FIG_WIDTH, 3.9))
    ax = fig.add_subplot()
    if s[["S1", "ST"]].isna().all().all():
        _no_data(ax, "too few clusters for a sensitivity analysis")
        return fig
    y = np.arange(len(s))
    h = 0.38
    ax.barh(y + h / 2, s["ST"], height=h, xerr=s["ST_conf"], color=BLUE, ecolor=INK, capsize=2, label="Total effect (alone and with the other choices)")
    ax.barh(y - h / 2, s["S1"], height=h, xerr=s["S1_conf"], color=ORANGE, ecolor=INK, capsize=2, label="First-order effect (the choice alone)")
    ax.set_yticks(y)
    ax.set_yticklabels([FACTOR_LABELS.get(f, f) for f in s["factor"]], fontsize=LABEL_PT)
    ax.tick_params(axis="x", labelsize=LABEL_PT)
    ax.axvline(0, color=GREY, linewidth=0.8)
    ax.set_xlabel("Share of the variation in how far clusters move", fontsize=LABEL_PT + 0.5)
    ax.legend(loc="lower right", fontsize=LABEL_PT)
    return _room_for_mark(fig)


def figure_correlations(correlations: pd.DataFrame) -> Figure:
    """The 9x9 Spearman matrix (correlations.csv's frame, an ``indicator`` column or index)
    as a heat map with the values written in."""
    c = correlations.set_index("indicator") if "indicator" in correlations.columns else correlations
    labels = [INDICATOR_LABELS.get(str(i), str(i)) for i in c.index]
    fig = new_figure(figsize=(FIG_WIDTH, 6.6))
    ax = fig.add_subplot()
    values = c.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="RdBu", vmin=-1, vmax=1)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=LABEL_PT,
                        color="white" if abs(values[i, j]) > 0.6 else INK)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=LABEL_PT)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=LABEL_PT)
    for edge in (2.5, 5.5):  # the three dimensions
        ax.axhline(edge, color=INK, linewidth=1)
        ax.axvline(edge, color=INK, linewidth=1)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("Spearman ρ (blue: rise together; red: opposite)", fontsize=LABEL_PT)
    bar.ax.tick_params(labelsize=LABEL_PT)
    return _room_for_mark(fig)


# ---------------------------------------------------------------------------------------
# detection sensitivity and vintages (chapter 09)

#: What became of a cluster under another detection setting, in words (legend and tables).
STATUS_LABELS: dict[str, str] = {
    "kept": "Still a cluster, all its members",
    "shrunk": "Still a cluster, lost members",
    "renamed": "Still a cluster, under another name",
    "merged": "Merged into another cluster",
    "quasi_cluster": "No longer a cluster: now a quasi-cluster",
    "dissolved": "No longer a cluster: members in no group",
    "new": "A new cluster (split off or newly found)",
}
STATUS_COLOURS: dict[str, str] = {
    "kept": "#eef2f7",
    "shrunk": LIGHT_BLUE,
    "renamed": "#9fbde0",
    "merged": MID_BLUE,
    "quasi_cluster": ORANGE,
    "dissolved": "#7a4a1e",
    "new": BLUE,
}


def setting_label(eps_km: float, min_samples: int, sep: str = ", ") -> str:
    """``"20 km radius, 10 institutions"``: one detection setting in words."""
    return f"{eps_km:g} km radius{sep}{int(min_samples)} institutions"


def _fate(row: pd.Series) -> str:
    """A detail row's status for the figures (``kept`` split into kept / shrunk)."""
    if row["status"] == "kept" and row["retained_share"] < 1.0:
        return "shrunk"
    return str(row["status"])


def figure_detection_survivors(grid: pd.DataFrame, total: int) -> Figure:
    """One cell per (radius, minimum institutions) setting: how many of the baseline's
    ``total`` clusters are still clusters of their own (colour and first line), then in
    words what happened to the others and whether the top ten changed. ``grid`` is
    :func:`quantumclusters.audit.detection_sensitivity`'s first frame."""
    fig = new_figure(figsize=(FIG_WIDTH, 6.0))
    ax = fig.add_subplot()
    if grid.empty or total == 0:
        _no_data(ax)
        return fig
    eps = sorted(grid["eps_km"].unique())
    mins = sorted(grid["min_samples"].unique())
    cmap = LinearSegmentedColormap.from_list("survivors", [ORANGE, "#f6d7b0", "#eef2f7", LIGHT_BLUE])
    g = grid.set_index(["eps_km", "min_samples"])
    values = np.full((len(mins), len(eps)), np.nan)
    for i, k in enumerate(mins):
        for j, e in enumerate(eps):
            if (e, k) in g.index:
                values[i, j] = g.loc[(e, k), "survived"] / total
    low = min(0.75, float(np.nanmin(values))) if np.isfinite(values).any() else 0.75
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=1.0, aspect="auto")
    for i, k in enumerate(mins):
        for j, e in enumerate(eps):
            if (e, k) not in g.index:
                continue
            r = g.loc[(e, k)]
            lines = []
            if r["quasi_cluster"]:
                # two lines: one would overflow the cell at the house width
                lines.append(f"{int(r['quasi_cluster'])} now\nquasi-clusters" if r["quasi_cluster"] > 1 else "1 now a\nquasi-cluster")
            if r["dissolved"]:
                lines.append(f"{int(r['dissolved'])} dissolved")
            if r["merged"]:
                lines.append(f"{int(r['merged'])} merged")
            if r["new"]:
                lines.append(f"{int(r['new'])} new")
            if r["baseline"]:
                lines.append("the paper's setting")
            lines.append("top 10 changed" if r["top10_changed"] else "same top 10")
            ax.text(j, i - 0.28, f"{int(r['survived'])} of {total}", ha="center", va="center", fontsize=11,
                    fontweight="bold", color=INK)
            ax.text(j, i + 0.12, "\n".join(lines), ha="center", va="center", fontsize=LABEL_PT, color=INK, linespacing=1.15)
            if r["baseline"]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=INK, linewidth=2.2))
    ax.set_xticks(range(len(eps)), [f"{e:g} km" for e in eps], fontsize=LABEL_PT)
    ax.set_yticks(range(len(mins)), [f"{k:g}" for k in mins], fontsize=LABEL_PT)
    ax.set_xlabel("Search radius", fontsize=LABEL_PT + 0.5)
    ax.set_ylabel("Minimum institutions\nto start a group", fontsize=LABEL_PT + 0.5)
    ax.tick_params(length=0)
    ax.spines[["left", "bottom"]].set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.85, fraction=0.04, pad=0.02, format=PercentFormatter(1.0, decimals=0))
    bar.set_label(f"Share of the {total} clusters still a cluster of their own", fontsize=LABEL_PT)
    bar.ax.tick_params(labelsize=LABEL_PT)
    return draws_on(_room_for_mark(fig), *TABLES, alt=(
        f"Grid of detection settings: for each search radius and minimum size, how many of the {total} clusters "
        "remain clusters of their own, what became of the others, and whether the top 10 changed."
    ))


def figure_detection_fates(detail: pd.DataFrame, grid: pd.DataFrame) -> Figure:
    """One row per cluster that is not simply kept in at least one setting (baseline
    clusters by baseline rank, then the new clusters), one column per setting; the colour
    says what became of it (:data:`STATUS_LABELS`). ``detail`` and ``grid`` are
    :func:`quantumclusters.audit.detection_sensitivity`'s frames."""
    settings = [(float(e), int(k)) for e, k in grid.sort_values(["eps_km", "min_samples"])[["eps_km", "min_samples"]].itertuples(index=False)]
    d = detail.assign(fate=detail.apply(_fate, axis=1)) if len(detail) else detail.assign(fate=[])
    touched = d[d["fate"] != "kept"]
    old = touched[touched["status"] != "new"].drop_duplicates("cluster").sort_values(["baseline_rank", "cluster"])
    new = touched[touched["status"] == "new"].drop_duplicates("cluster").sort_values("cluster")
    rows = [*old["cluster"], *new["cluster"]]
    fig = new_figure(figsize=(FIG_WIDTH, max(2.6, 0.3 * len(rows) + 1.9)))
    ax = fig.add_subplot()
    if not rows:
        _no_data(ax, "every cluster is kept, with all its members, in every setting")
        return fig
    codes = list(STATUS_COLOURS)
    cmap = ListedColormap([STATUS_COLOURS[c] for c in codes])
    values = np.full((len(rows), len(settings)), np.nan)
    lookup = d.set_index(["cluster", "eps_km", "min_samples"])["fate"]
    for i, name in enumerate(rows):
        for j, (e, k) in enumerate(settings):
            fate = lookup.get((name, e, k))
            if fate is not None:
                values[i, j] = codes.index(fate)
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-0.5, vmax=len(codes) - 0.5, aspect="auto")
    ax.set_xticks(np.arange(len(settings) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(rows) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(len(settings)), [str(k) for _, k in settings], fontsize=LABEL_PT)
    radii = sorted({e for e, _ in settings})
    centres = [float(np.mean([j for j, (e, _) in enumerate(settings) if e == r])) for r in radii]
    for r in radii[1:]:
        first = min(j for j, (e, _) in enumerate(settings) if e == r)
        ax.axvline(first - 0.5, color=INK, linewidth=1.2)
    top = ax.secondary_xaxis("top")
    top.set_xticks(centres, [f"radius {r:g} km" for r in radii], fontsize=LABEL_PT)
    top.tick_params(length=0)
    top.spines["top"].set_visible(False)
    for j, base in enumerate(grid.sort_values(["eps_km", "min_samples"])["baseline"]):
        if base:  # the paper's setting, outlined
            ax.add_patch(Rectangle((j - 0.5, -0.5), 1, len(rows), fill=False, edgecolor=INK, linewidth=2.0, zorder=3))
    ranks = d.drop_duplicates("cluster").set_index("cluster")["baseline_rank"]
    labels = [f"{n} ({int(ranks[n])})" if pd.notna(ranks.get(n)) else f"{n}, new" for n in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=LABEL_PT)
    ax.set_xlabel("Minimum institutions to start a group", fontsize=LABEL_PT + 0.5)
    ax.tick_params(length=0)
    ax.spines[["left", "bottom"]].set_visible(False)
    shown = [c for c in codes if (values == codes.index(c)).any()]
    handles = [Patch(facecolor=STATUS_COLOURS[c], edgecolor=GREY, linewidth=0.5, label=STATUS_LABELS[c]) for c in shown]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=LABEL_PT, frameon=False)
    return draws_on(_room_for_mark(fig), *TABLES, alt=(
        "For each cluster affected by a change of detection setting (rows, baseline rank in brackets) and each "
        "setting (columns), a colour saying whether it stays a cluster, loses members, merges, becomes a "
        "quasi-cluster or is new."
    ))


def figure_vintage_common(common: pd.DataFrame, earlier_label: str, later_label: str) -> Figure:
    """The clusters present at both cut-offs, ranked among themselves at each: an arrow
    from the earlier rank to the later one (blue: climbed; orange: fell; a dot: same
    place), clusters in the order of the later rank. ``common`` is
    :class:`quantumclusters.audit.Vintages`'s ``common`` frame."""
    c = common.dropna(subset=["rank_earlier", "rank_later"]).sort_values(["rank_later", "cluster"], kind="stable")
    c = c.reset_index(drop=True)
    n = len(c)
    fig = new_figure(figsize=(FIG_WIDTH, max(2.6, 0.24 * n + 1.4)))
    ax = fig.add_subplot()
    if n == 0:
        _no_data(ax, "no cluster is present at both cut-offs")
        return fig
    y = np.arange(n)
    for i, r in c.iterrows():
        a, b = float(r["rank_earlier"]), float(r["rank_later"])
        if a == b:
            ax.plot([b], [i], "o", color=GREY, markersize=5)
            continue
        colour = BLUE if b < a else ORANGE
        ax.annotate("", xy=(b, i), xytext=(a, i), arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.6,
                                                              "shrinkA": 0, "shrinkB": 0, "mutation_scale": 10})
        ax.plot([a], [i], "o", color=colour, markersize=3.5, alpha=0.6)
    ax.set_yticks(y, [str(x) for x in c["cluster"]], fontsize=LABEL_PT)
    ax.set_ylim(n - 0.5, -0.5)
    top = float(np.nanmax(c[["rank_earlier", "rank_later"]].to_numpy()))
    ax.set_xlim(0.5, top + 0.5)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.tick_params(axis="x", labelsize=LABEL_PT)
    ax.set_xlabel(f"Rank among the {n} clusters present at both dates (1 = best)\n"
                  f"each arrow: from {earlier_label} to {later_label}", fontsize=LABEL_PT + 0.5)
    ax.grid(axis="x", color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    handles = [
        Line2D([], [], color=BLUE, marker="<", linewidth=1.6, label="Climbed"),
        Line2D([], [], color=ORANGE, marker=">", linewidth=1.6, label="Fell"),
        Line2D([], [], color=GREY, marker="o", linestyle="none", label="Same place"),
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=LABEL_PT, frameon=True, facecolor="white", edgecolor="#e5e7eb")
    return draws_on(_room_for_mark(fig), *TABLES, alt=(
        f"Arrows from each cluster's rank at {earlier_label} to its rank at {later_label}, among the {n} clusters "
        "present at both dates."
    ))
