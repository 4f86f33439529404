"""The book's figures: one style, defined once, and one function per figure of the paper.

Every ``figure_N_...`` function takes a :class:`quantumclusters.pipeline.Result` (one run of
the engine) and returns a new :class:`matplotlib.figure.Figure`. The functions only *show*
what the engine computed: indicator values come from ``result.indicators``, ranks from
``result.ranking``, and the tallies behind Figures 1, 11, 15, 16 and 17 from
:mod:`quantumclusters.derived`. They are deterministic (no randomness; the network layout
of Figure 10 is seeded) and they never touch pyplot's global figure list, so a notebook
shows a figure only where it asks to (``glue`` or ``display``).

Style: one house style for every figure, defined in :mod:`quantumclusters.report.style`
(re-exported here): the column's width, text of at least 9 pt, wrapped names, a colour key
wherever colour encodes something, integer ticks for counts and log axes where one value
dwarfs the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..schema import INDUSTRY_TYPES, RESEARCH_TYPES

__all__ = [
    "BLUE",
    "ORANGE",
    "MID_BLUE",
    "LIGHT_BLUE",
    "GREY",
    "RANK_CMAP",
    "FIGSIZE",
    "WIDTH",
    "TEXT",
    "place_labels",
    "integer_ticks",
    "dwarfed",
    "TYPE_GROUPS",
    "apply_style",
    "rank_colour",
    "rank_key",
    "wrap",
    "usd",
    "new_figure",
    "TYPE_LABELS",
    "INVOLVEMENT_LABELS",
    "funding_periods",
    "cluster_type_counts",
    "figure_1_funding_by_year",
    "figure_5_total_funding",
    "figure_6_startup_funding_intensity",
    "figure_7_ecosystem_value",
    "figure_7_data",
    "ecosystem_value_label",
    "figure_8_collaborations",
    "figure_9_external_share",
    "volume_openness_correlation",
    "figure_10_brokerage",
    "figure_11_institutions_per_million",
    "figure_12_spinouts",
    "figure_13_startups_per_institution",
    "figure_14_quasi_clusters",
    "figure_15_funding_by_region",
    "figure_16_type_shares",
    "figure_17_involvement",
    "figure_rank_uncertainty",
    "figure_spearman_distribution",
    "figure_detection_sensitivity",
    "figure_vintage_movement",
]

# --------------------------------------------------------------------------------------
# style: defined once, in .style (re-exported here for the chapters)

from .style import (  # noqa: E402
    BLUE,
    DPI,
    FIGSIZE,
    GREY,
    INK,
    LIGHT_BLUE,
    MID_BLUE,
    ORANGE,
    RANK_CMAP,
    TEXT,
    WIDTH,
    apply_style,
    dwarfed,
    integer_ticks,
    log_ticks,
    new_figure,
    place_labels,
    rank_colour,
    rank_key,
    wrap,
)

#: The paper's three institution groups of Figure 11 and the types in each.
TYPE_GROUPS: dict[str, tuple[str, ...]] = {
    "Research": RESEARCH_TYPES,
    "Government": ("government",),
    "Industry": INDUSTRY_TYPES,
}
#: Figure 16's row labels (the paper's words) for the types of derived.type_shares_in_clusters.
TYPE_LABELS: dict[str, str] = {
    "university": "Universities",
    "research_institute": "Public research institutions",
    "government": "Government agencies",
    "startup": "Startups",
    "corporate": "Corporates",
    "startup funding": "Startup funding",
}
#: Figure 17's categories in words.
INVOLVEMENT_LABELS: dict[str, str] = {
    "both": "Both partners in clusters",
    "one": "One partner in a cluster",
    "neither": "No partner in a cluster",
}
_TYPE_GROUP_COLOURS = {"Research": BLUE, "Government": MID_BLUE, "Industry": ORANGE}

apply_style()


def usd(value: float, digits: int = 1) -> str:
    """``6.2e9`` → ``USD 6.2 bn``; ``4.22e8`` → ``USD 422 m``; ``43e6`` → ``USD 43 m``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    v = float(value)
    if abs(v) >= 1e9:
        return f"USD {v / 1e9:,.{digits}f} bn"
    if abs(v) >= 1e6:
        return f"USD {v / 1e6:,.0f} m"
    if abs(v) >= 1e3:
        return f"USD {v / 1e3:,.0f} k"
    return f"USD {v:,.0f}"


def _usd_axis(value: float, _pos: int | None = None) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e9:
        return f"{value / 1e9:g} bn"
    if abs(value) >= 1e6:
        return f"{value / 1e6:g} m"
    return f"{value:g}"


# --------------------------------------------------------------------------------------
# data access (views of the engine's result; no method here)


def _by_cluster(frame: pd.DataFrame, key: str = "cluster") -> pd.DataFrame:
    """``frame`` indexed by cluster name (whether the name is a column or the index)."""
    if key in frame.columns:
        return frame.set_index(key)
    return frame


def _indicator(result: Any, column: str) -> pd.Series:
    """One indicator across clusters, missing values dropped, largest first, ties by name."""
    s = _by_cluster(result.indicators)[column].astype(float).dropna()
    return _sort_desc(s)


def _sort_desc(s: pd.Series) -> pd.Series:
    """Largest first; equal values in name order (deterministic)."""
    order = sorted(s.index, key=lambda k: (-float(s[k]), str(k)))
    return s.loc[order]


def _sort_asc(s: pd.Series) -> pd.Series:
    order = sorted(s.index, key=lambda k: (float(s[k]), str(k)))
    return s.loc[order]


def _top(result: Any, column: str, n: int = 10) -> pd.Series:
    return _indicator(result, column).head(n)


def _top_bars(result: Any, column: str, n: int, fmt: Any, xlabel: str, *, counts: bool = False) -> Figure:
    """The top ``n`` clusters by one indicator as bars coloured by overall rank, with the
    rank's colour bar."""
    top = _top(result, column, n)
    fig = new_figure()
    ax = fig.add_subplot()
    if top.empty:
        _empty(ax)
        return fig
    _hbar(ax, top, _rank_colours(result, top.index), fmt, xlabel=xlabel, counts=counts)
    _rank_key(fig, ax, result)
    return _done(fig)


def _overall_rank(result: Any) -> pd.Series:
    return _by_cluster(result.ranking)["overall_rank"].astype(float)


def _n_ranks(result: Any) -> int:
    ranks = _overall_rank(result).dropna()
    return int(ranks.max()) if len(ranks) else 1


def _rank_key(fig: Figure, ax: Any, result: Any, label: str = "Bar colour: overall rank (1 = best)", **kwargs: Any) -> Any:
    """The colour key of bars or points coloured by overall rank."""
    return rank_key(fig, ax, _n_ranks(result), label=label, **kwargs)


def _name(name: Any, width: int = 24) -> str:
    """A cluster name for an axis: whole, wrapped onto lines of about ``width`` characters."""
    return wrap(name, width)


def _hbar(ax: Any, values: pd.Series, colour: Any, fmt: Any, *, xlabel: str = "", counts: bool = False) -> None:
    """Horizontal bars, first row on top, value labels at the bar ends (the x axis extended
    until every value label fits)."""
    y = np.arange(len(values))[::-1]
    ax.barh(y, values.to_numpy(dtype=float), color=colour, height=0.7)
    ax.set_yticks(y, [_name(n) for n in values.index])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, len(values) - 0.4)
    vmax = float(np.nanmax(values.to_numpy(dtype=float))) if len(values) else 1.0
    vmax = vmax if vmax > 0 else 1.0
    texts = []
    for yi, v in zip(y, values.to_numpy(dtype=float)):
        texts.append(ax.annotate(fmt(v), (v, yi), xytext=(3, 0), textcoords="offset points", va="center", ha="left",
                                 fontsize=TEXT))
    ax.set_xlim(0, vmax)
    ax.spines["left"].set_visible(False)
    if counts:
        integer_ticks(ax.xaxis)
    if xlabel:
        ax.set_xlabel(xlabel)
    for t in texts:
        t.set_in_layout(False)  # fitted by _fit_value_labels, not by shrinking the axes
    ax._qc_value_labels = (texts, values.to_numpy(dtype=float))  # type: ignore[attr-defined]


def _fit_value_labels(fig: Figure) -> None:
    """Extend each bar chart's value axis so that its value labels end inside the axes
    (measured after layout: a label is never cut by the frame)."""
    from .style import _renderer

    todo = [ax for ax in fig.axes if getattr(ax, "_qc_value_labels", None)]
    if not todo:
        return
    renderer = _renderer(fig)
    for ax in todo:
        texts, values = ax._qc_value_labels
        box = ax.get_window_extent(renderer)
        x0, x1 = ax.get_xlim()
        need = x1
        for t, v in zip(texts, values):
            w = t.get_window_extent(renderer).width + 3 * fig.dpi / 72.0 + 4
            if box.width - w > 0 and math.isfinite(v):
                need = max(need, v * box.width / (box.width - w))
        ax.set_xlim(x0, need * 1.02)


def _rank_colours(result: Any, names: Sequence[str]) -> list[Any]:
    ranks = _overall_rank(result)
    n = int(ranks.max()) if len(ranks) else 1
    return [rank_colour(float(ranks.get(name, n)), n) for name in names]


def _done(fig: Figure) -> Figure:
    """Finish a figure of the house style: value labels fitted inside their axes."""
    _fit_value_labels(fig)
    return fig


def _empty(ax: Any, message: str = "no data at this cut-off") -> None:
    ax.text(0.5, 0.5, message, fontsize=TEXT, ha="center", va="center", transform=ax.transAxes, color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------------------
# Section 2


def funding_periods(result: Any) -> pd.DataFrame:
    """Figure 1's periods: "Up to <cut-off year − 2>", the year before the cut-off's and the
    cut-off's year (the paper: up to 2023, 2024, 2025), from
    :func:`quantumclusters.derived.funding_by_year`. Columns ``in_clusters_usd``,
    ``outside_usd``, ``share_in_clusters``."""
    from quantumclusters import derived

    by_year = derived.funding_by_year(result)
    year = pd.Timestamp(result.cutoff).year
    labels = [f"Up to {year - 2}", str(year - 1), str(year)]
    rows = []
    for label, mask in zip(labels, (by_year.index <= year - 2, by_year.index == year - 1, by_year.index == year)):
        part = by_year[mask]
        inside = float(part["in_clusters_usd"].sum())
        outside = float(part["outside_usd"].sum())
        total = inside + outside
        rows.append({"period": label, "in_clusters_usd": inside, "outside_usd": outside,
                     "share_in_clusters": inside / total if total > 0 else float("nan")})
    return pd.DataFrame(rows).set_index("period")


def figure_1_funding_by_year(result: Any) -> Figure:
    """Figure 1: quantum company funding by period (:func:`funding_periods`), in clusters vs
    outside (stacked bars labelled with the share in clusters)."""
    return _stacked_in_out(funding_periods(result), title_x="", ylabel="Quantum company funding (USD)")


def _stacked_in_out(table: pd.DataFrame, *, title_x: str, ylabel: str, horizontal: bool = False) -> Figure:
    """Stacked bars of ``in_clusters`` / ``outside`` per row, labelled with the share inside."""
    fig = new_figure()
    ax = fig.add_subplot()
    inside = table["in_clusters_usd"].astype(float).to_numpy()
    outside = table["outside_usd"].astype(float).to_numpy()
    x = np.arange(len(table))
    ax.bar(x, inside, color=BLUE, width=0.6, label="Clusters")
    ax.bar(x, outside, bottom=inside, color=ORANGE, width=0.6, label="Non-clusters")
    total = inside + outside
    top = float(total.max()) if len(total) else 1.0
    for xi, i, t in zip(x, inside, total):
        share = i / t if t > 0 else float("nan")
        label = "n/a" if math.isnan(share) else f"{share:.0%} in clusters"
        ax.text(xi, t + top * 0.015, label, ha="center", va="bottom", fontsize=TEXT)
    ax.set_xticks(x, [str(i) for i in table.index])
    ax.yaxis.set_major_formatter(FuncFormatter(_usd_axis))
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * 1.14 if top > 0 else 1)
    if title_x:
        ax.set_xlabel(title_x)
    # above the plot: the tallest bar's share label sits where an inside legend would be
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper left", ncols=2)
    return fig


# --------------------------------------------------------------------------------------
# Section 3: market orientation


def figure_5_total_funding(result: Any, n: int = 10) -> Figure:
    """Figure 5: the top ``n`` clusters by total quantum company funding, with their share
    of all clusters' funding."""
    values = _indicator(result, "total_funding_usd")
    total = float(values.sum())
    top = values.head(n)
    fig = new_figure()
    ax = fig.add_subplot()
    if top.empty:
        _empty(ax)
        return fig
    _hbar(
        ax,
        top,
        _rank_colours(result, top.index),
        lambda v: f"{usd(v)} ({v / total:.0%})" if total > 0 else usd(v),
        xlabel="Total quantum company funding (USD);\nshare of all clusters' funding in brackets",
    )
    ax.xaxis.set_major_formatter(FuncFormatter(_usd_axis))
    _rank_key(fig, ax, result)
    return _done(fig)


def figure_6_startup_funding_intensity(result: Any, n: int = 10) -> Figure:
    """Figure 6: the top ``n`` clusters by startup (VC, equity, debt) funding as % of GDP."""
    top = _top(result, "startup_funding_to_gdp", n) * 100
    fig = new_figure()
    ax = fig.add_subplot()
    if top.empty:
        _empty(ax)
        return fig
    _hbar(ax, top, _rank_colours(result, top.index), lambda v: f"{v:.2f}%",
          xlabel="Quantum startup funding (VC, equity, debt) as % of GDP")
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    _rank_key(fig, ax, result)
    return _done(fig)


def figure_7_data(result: Any) -> tuple[pd.DataFrame, list[str]]:
    """Figure 7's points and the clusters left out.

    Returns a frame indexed by cluster with ``startup_funding_pct_gdp`` and
    ``ecosystem_value_pct_gdp`` (Startup Genome ecosystem value ÷ area GDP, in %), sorted by
    cluster name, and the sorted list of clusters without ecosystem data (or without a
    startup-funding intensity).
    """
    clusters = _by_cluster(result.clusters)
    areas = result.db.areas.set_index("area_id")
    intensity = _by_cluster(result.indicators)["startup_funding_to_gdp"].astype(float)
    rows = []
    missing = []
    for name in sorted(clusters.index, key=str):
        area_id = clusters.at[name, "area_id"]
        eco = float("nan")
        gdp = float("nan")
        if isinstance(area_id, str) and area_id in areas.index:
            eco = float(areas.at[area_id, "ecosystem_value_usd"])
            gdp = float(areas.at[area_id, "gdp_usd"])
        y = float(intensity.get(name, float("nan")))
        if math.isnan(eco) or math.isnan(gdp) or gdp <= 0 or math.isnan(y):
            missing.append(str(name))
            continue
        rows.append({"cluster": name, "startup_funding_pct_gdp": y * 100, "ecosystem_value_pct_gdp": eco / gdp * 100})
    frame = pd.DataFrame(rows, columns=["cluster", "startup_funding_pct_gdp", "ecosystem_value_pct_gdp"]).set_index("cluster")
    return frame, missing


def ecosystem_value_label(result: Any) -> str:
    """Figure 7's x-axis label. The values are credited to Startup Genome only when none of
    the clusters' ecosystem values is marked synthetic in the database's areas."""
    from .figures import synthetic_mask

    areas = result.db.areas
    used = areas["area_id"].isin(result.clusters["area_id"].dropna()) & areas["ecosystem_value_usd"].notna()
    marked = synthetic_mask(areas, ("synthetic", "ecosystem_value_synthetic"))
    if marked is not None and bool((marked & used).any()):
        return "Startup ecosystem value, % of GDP (illustrative values, not Startup Genome's)"
    return "Startup ecosystem value (Startup Genome), % of GDP"


def balance_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Least-squares line y = a + b·x (None with fewer than two distinct x)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def figure_7_ecosystem_value(result: Any, labels: int = 12) -> Figure:
    """Figure 7: startup funding intensity (% of GDP) against the Startup Genome ecosystem
    value (% of GDP), with the balance line (least-squares fit across the clusters shown),
    points coloured by overall rank (with the colour bar).

    Clusters without ecosystem data are left out (see :func:`figure_7_data`). An axis on
    which one value dwarfs the rest (the San Francisco Bay Area's ecosystem value) is
    logarithmic, so that the other clusters do not pile up at the origin; the balance line
    is then drawn as the curve it becomes. Up to ``labels`` clusters are named, those
    farthest from the middle of the cloud first, where a label fits without overlap.
    """
    data, _missing = figure_7_data(result)
    fig = new_figure(height=5.6)
    ax = fig.add_subplot()
    if data.empty:
        _empty(ax, "no cluster has ecosystem data")
        return fig
    x = data["ecosystem_value_pct_gdp"].to_numpy()
    y = data["startup_funding_pct_gdp"].to_numpy()
    log_x, log_y = dwarfed(x), dwarfed(y)
    size = 42.0
    ax.scatter(x, y, s=size, c=_rank_colours(result, data.index), edgecolor="white", linewidth=0.6, zorder=3)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    line = balance_line(x, y)
    if line is not None:
        a, b = line
        lo = float(x.min()) * 0.9 if log_x else 0.0
        xs = np.geomspace(lo, float(x.max()) * 1.1, 200) if log_x else np.linspace(0.0, float(x.max()) * 1.05, 200)
        ys = a + b * xs
        keep = ys > 0 if log_y else np.ones(len(ys), dtype=bool)
        ax.plot(xs[keep], ys[keep], color=ORANGE, linewidth=1.6, zorder=2, label="Balance line (least-squares fit)")
    if log_x:
        lo, hi = float(x.min()) / 1.25, float(x.max()) * 1.25
        ax.set_xlim(lo, hi)
        log_ticks(ax.xaxis, lo, hi, "{:g}%")
    else:
        ax.set_xlim(left=0)
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    if log_y:
        lo, hi = float(y[y > 0].min()) / 1.4, float(y.max()) * 1.4
        ax.set_ylim(lo, hi)
        log_ticks(ax.yaxis, lo, hi, "{:g}%")
    else:
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    if line is not None:
        ax.legend(loc="upper left")
    ax.set_xlabel(wrap(ecosystem_value_label(result) + ("; log scale" if log_x else ""), 64))
    ax.set_ylabel("Quantum startup funding, % of GDP" + (" (log scale)" if log_y else ""))
    _rank_key(fig, ax, result, label="Point colour: overall rank (1 = best)")
    # the clusters farthest from the middle of the cloud (in axis units) are named first
    tx = np.log10(x) if log_x else x
    ty = np.log10(np.clip(y, 1e-12, None)) if log_y else y
    cx, cy = float(np.median(tx)), float(np.median(ty))
    sx, sy = float(np.ptp(tx)) or 1.0, float(np.ptp(ty)) or 1.0
    dist = {k: ((tx[i] - cx) / sx) ** 2 + ((ty[i] - cy) / sy) ** 2 for i, k in enumerate(data.index)}
    far = sorted(data.index, key=lambda k: (-dist[k], str(k)))[:labels]
    place_labels(fig, ax, [(float(data.at[k, "ecosystem_value_pct_gdp"]), float(data.at[k, "startup_funding_pct_gdp"]),
                            size, _name(k, 22)) for k in far],
                 obstacles=[(float(a_), float(b_), size) for a_, b_ in zip(x, y)], fontsize=TEXT, skip_if_crowded=True)
    return fig


# --------------------------------------------------------------------------------------
# Section 4: collaboration intensity


def figure_8_collaborations(result: Any, n: int = 10) -> Figure:
    """Figure 8: the top ``n`` clusters by number of collaborations."""
    return _top_bars(result, "collaborations", n, lambda v: f"{v:,.0f}",
                     "Collaborations (at least one partner in the cluster)", counts=True)


def volume_openness_correlation(result: Any) -> float:
    """Pearson correlation, across clusters, between the number of collaborations and the
    external share (the paper: −0.5); NaN with fewer than three clusters or no variation."""
    ind = _by_cluster(result.indicators)[["collaborations", "external_share"]].astype(float).dropna()
    if len(ind) < 3 or ind["collaborations"].nunique() < 2 or ind["external_share"].nunique() < 2:
        return float("nan")
    return float(np.corrcoef(ind["collaborations"], ind["external_share"])[0, 1])


def figure_9_external_share(result: Any, n: int = 10) -> Figure:
    """Figure 9: the top ``n`` and bottom ``n`` clusters by external share; a dashed line
    marks the omitted middle."""
    share = _indicator(result, "external_share") * 100
    fig = new_figure(height=7.4)
    ax = fig.add_subplot()
    if share.empty:
        _empty(ax)
        return fig
    if len(share) > 2 * n:
        shown = pd.concat([share.head(n), share.tail(n)])
        gap = True
    else:
        shown = share
        gap = False
    positions = []
    pos = len(shown) + (1 if gap else 0)
    for i in range(len(shown)):
        if gap and i == n:
            pos -= 1  # leave one slot for the dashed line
        positions.append(pos)
        pos -= 1
    y = np.array(positions, dtype=float)
    values = shown.to_numpy(dtype=float)
    if gap:
        ax.barh(y[:n], values[:n], color=BLUE, height=0.7, label=f"Top {n}: highest external share")
        ax.barh(y[n:], values[n:], color=ORANGE, height=0.7, label=f"Bottom {n}: lowest external share")
        ax.axhline(y[n - 1] - 1, color=GREY, linestyle="--", linewidth=1)
        ax.text(1, y[n - 1] - 1, f" {len(share) - 2 * n} clusters in between ", va="center", ha="left",
                fontsize=TEXT, color=GREY, bbox={"fc": "white", "ec": "none", "pad": 0.5})
        fig.legend(loc="outside lower center", ncols=2)
    else:
        ax.barh(y, values, color=_rank_colours(result, shown.index), height=0.7)
        _rank_key(fig, ax, result)
    ax.set_yticks(y, [_name(k, 28) for k in shown.index])
    ax.tick_params(axis="y", length=0)
    for yi, v in zip(y, values):
        ax.text(v + 1, yi, f"{v:.0f}%", va="center", fontsize=TEXT)
    ax.set_xlim(0, 110)
    ax.set_ylim(min(y) - 0.6, max(y) + 0.6)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("External collaborations (exactly one partner in the cluster),\n% of the cluster's collaborations")
    r = volume_openness_correlation(result)
    if not math.isnan(r):
        ax.set_title(wrap(f"Correlation between number of collaborations and external share, all clusters: r = {r:.2f}", 70),
                     fontsize=TEXT, fontweight="normal", color=INK)
    ax.spines["left"].set_visible(False)
    return fig


def figure_10_brokerage(result: Any, n: int = 10, seed: int = 20250731) -> Figure:
    """Figure 10: bridging power. Top, the cluster–cluster collaboration network (node area =
    brokerage, colour = overall rank; spring layout with a fixed seed), the strongest brokers
    named; bottom, the ``n`` highest brokerage scores. One colour bar serves both panels and
    a legend gives the node sizes."""
    import networkx as nx
    from matplotlib.lines import Line2D

    from quantumclusters import network

    graph = network.cluster_graph(result.db.collaborations, result.assignments)
    scores = _indicator(result, "brokerage")
    top = scores.head(n)
    fig = new_figure(height=9.6)
    upper, lower = fig.subfigures(2, 1, height_ratios=[1.15, 1.0])
    ax = upper.add_subplot()
    ax.set_axis_off()
    nodes = sorted(graph.nodes, key=str)
    ax.set_title("Cluster–cluster collaboration network")
    if nodes:
        g = nx.Graph()
        g.add_nodes_from(nodes)
        g.add_edges_from(sorted((tuple(sorted((str(u), str(v)))) for u, v in graph.edges), key=str))
        pos = nx.spring_layout(g, seed=seed, k=1.6 / math.sqrt(max(len(nodes), 1)), iterations=200)
        for u, v in g.edges:
            ax.plot([pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]], color=GREY, linewidth=0.4, alpha=0.6, zorder=1)
        smax = float(scores.max()) if len(scores) and scores.max() > 0 else 1.0

        def area(score: float) -> float:
            return 30 + 600 * score / smax

        sizes = [area(float(scores.get(k, 0.0))) for k in nodes]
        ax.scatter([pos[k][0] for k in nodes], [pos[k][1] for k in nodes], s=sizes,
                   c=_rank_colours(result, nodes), edgecolor="white", linewidth=0.6, zorder=2)
        xs = np.array([pos[k][0] for k in nodes])
        ys = np.array([pos[k][1] for k in nodes])
        ax.set_xlim(xs.min() - 0.12 * np.ptp(xs), xs.max() + 0.12 * np.ptp(xs))
        ax.set_ylim(ys.min() - 0.08 * np.ptp(ys), ys.max() + 0.08 * np.ptp(ys))
        named = [k for k in scores.head(min(n, 6)).index if k in pos]
        place_labels(upper, ax, [(pos[k][0], pos[k][1], area(float(scores[k])), _name(k, 20)) for k in named],
                     obstacles=[(pos[k][0], pos[k][1], s_) for k, s_ in zip(nodes, sizes) if k not in named])
        levels = [lv for lv in (smax, smax / 2, smax / 8) if lv > 0]
        handles = [Line2D([], [], ls="", marker="o", markersize=math.sqrt(area(lv)), markerfacecolor="none",
                          markeredgecolor=GREY, label=f"{lv:.2f}") for lv in levels]
        ax.legend(handles=handles, title="Node area: brokerage", loc="lower right", labelspacing=1.3,
                  borderpad=0.8, handletextpad=1.2, frameon=False)
    else:
        _empty(ax, "no collaboration joins two clusters")
    ax2 = lower.add_subplot()
    if top.empty:
        _empty(ax2)
    else:
        _hbar(ax2, top, _rank_colours(result, top.index), lambda v: f"{v:.3f}", xlabel="Brokerage (normalised betweenness)")
        rank_key(lower, ax2, _n_ranks(result), label="Bar and node colour:\noverall rank (1 = best)")
    ax2.set_title(f"Top {min(n, len(top))} brokerage scores")
    return _done(fig)


# --------------------------------------------------------------------------------------
# Section 5: ecosystem maturity


def cluster_type_counts(result: Any) -> pd.DataFrame:
    """Members of each cluster by institution type (rows: clusters, columns: the five
    types), from the run's assignments."""
    from quantumclusters.schema import INSTITUTION_TYPES

    a = result.assignments
    members = a[a["status"] == "cluster"][["institution_id", "group"]]
    inst = result.db.institutions[["institution_id", "type"]]
    joined = members.merge(inst, on="institution_id", how="left")
    table = pd.crosstab(joined["group"], joined["type"]) if len(joined) else pd.DataFrame()
    table = table.reindex(columns=list(INSTITUTION_TYPES), fill_value=0)
    table.index.name = "cluster"
    table.columns.name = None
    return table.astype(int)


def figure_11_institutions_per_million(result: Any, n: int = 10) -> Figure:
    """Figure 11: the top ``n`` clusters by quantum-active institutions per million people,
    stacked by type group (research, government, industry)."""
    top = _top(result, "institutions_per_million", n)
    counts = cluster_type_counts(result)
    clusters = _by_cluster(result.clusters)
    fig = new_figure()
    ax = fig.add_subplot()
    if top.empty:
        _empty(ax)
        return fig
    y = np.arange(len(top))[::-1]
    left = np.zeros(len(top))
    for group, types in TYPE_GROUPS.items():
        vals = []
        for name in top.index:
            c = counts.loc[name] if name in counts.index else pd.Series(dtype=float)
            k = float(sum(float(c.get(t, 0)) for t in types))
            pop = float(clusters.at[name, "population"]) if "population" in clusters.columns else float("nan")
            vals.append(k / (pop / 1e6) if pop and not math.isnan(pop) else 0.0)
        vals_arr = np.array(vals)
        ax.barh(y, vals_arr, left=left, color=_TYPE_GROUP_COLOURS[group], height=0.7, label=group)
        left = left + vals_arr
    texts = [ax.annotate(f"{v:.1f}", (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=TEXT)
             for yi, v in zip(y, top.to_numpy(dtype=float))]
    for t in texts:
        t.set_in_layout(False)
    ax._qc_value_labels = (texts, top.to_numpy(dtype=float))  # type: ignore[attr-defined]
    ax.set_yticks(y, [_name(k) for k in top.index])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, len(top) - 0.4)
    ax.set_xlim(0, float(top.max()))
    ax.set_xlabel("Quantum-active institutions per million people")
    ax.spines["left"].set_visible(False)
    ax.legend(title="Institution type", loc="lower right")
    return _done(fig)


def figure_12_spinouts(result: Any, n: int = 10) -> Figure:
    """Figure 12: the top ``n`` clusters by spinouts per research institution (orange line,
    right axis) with their number of research institutions (blue bars, left axis)."""
    top = _top(result, "spinouts_per_research_institution", n)
    clusters = _by_cluster(result.clusters)
    fig = new_figure(height=5.6)
    ax = fig.add_subplot()
    if top.empty:
        _empty(ax)
        return fig
    x = np.arange(len(top))
    research = [float(clusters.at[k, "research_institutions"]) for k in top.index]
    ax.bar(x, research, color=BLUE, width=0.6, label="Research institutions (left axis)")
    ax.set_ylabel("Research institutions")
    integer_ticks(ax.yaxis)
    # whole names, slanted (a name is never cut; slanted single lines do not collide)
    ax.set_xticks(x, [str(k) for k in top.index], rotation=40, ha="right", rotation_mode="anchor")
    ax2 = ax.twinx()
    ax2.plot(x, top.to_numpy(dtype=float), color=ORANGE, marker="o", linewidth=2, label="Spinouts per research institution (right axis)")
    for xi, v in zip(x, top.to_numpy(dtype=float)):
        ax2.annotate(f"{v:.2f}", (xi, v), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=TEXT, color=INK,
                     bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    ax2.set_ylabel("Spinouts per research institution")
    ax2.set_ylim(0, float(top.max()) * 1.2 if float(top.max()) > 0 else 1)
    ax2.spines["right"].set_visible(True)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right")
    ax.set_ylim(0, max(research) * 1.45 if max(research) > 0 else 1)
    ax2.set_ylim(0, float(top.max()) * 1.3 if float(top.max()) > 0 else 1)
    return fig


def figure_13_startups_per_institution(result: Any, n: int = 10) -> Figure:
    """Figure 13: the top ``n`` clusters by startups per institution."""
    return _top_bars(result, "startups_per_institution", n, lambda v: f"{v:.2f}",
                     "Startups per quantum-active institution")


# --------------------------------------------------------------------------------------
# Section 6: quasi-clusters


def figure_14_quasi_clusters(result: Any) -> Figure:
    """Figure 14: quasi-clusters by region and tier (stacked bars, the paper's region order)."""
    from quantumclusters.regions import REGIONS

    q = result.quasi_clusters
    table = pd.crosstab(q["region"], q["tier"].astype(int)) if len(q) else pd.DataFrame()
    table = table.reindex(index=list(REGIONS), columns=[1, 2], fill_value=0).fillna(0)
    fig = new_figure()
    ax = fig.add_subplot()
    x = np.arange(len(table))
    t1 = table[1].to_numpy(dtype=float)
    t2 = table[2].to_numpy(dtype=float)
    ax.bar(x, t1, color=BLUE, width=0.6, label="Tier 1")
    ax.bar(x, t2, bottom=t1, color=ORANGE, width=0.6, label="Tier 2")
    top = float((t1 + t2).max()) if len(x) else 1.0
    for xi, a, b in zip(x, t1, t2):
        ax.text(xi, a + b + max(top, 1) * 0.015, f"{a + b:.0f}", ha="center", va="bottom", fontsize=TEXT)
    ax.set_xticks(x, [wrap(r, 14) for r in table.index])
    ax.set_ylabel("Quasi-clusters")
    integer_ticks(ax.yaxis)
    ax.set_ylim(0, max(top, 1) * 1.15)
    ax.legend(loc="upper left")
    return fig


# --------------------------------------------------------------------------------------
# Annex 2


def figure_15_funding_by_region(result: Any) -> Figure:
    """Figure 15: quantum company funding by region, in clusters vs outside."""
    from quantumclusters import derived

    table = derived.funding_by_region(result)
    fig = _stacked_in_out(table, title_x="", ylabel="Quantum company funding (USD)")
    ax = fig.axes[0]
    ax.set_xticks(ax.get_xticks(), [wrap(r, 14) for r in table.index])
    return fig


def figure_16_type_shares(result: Any) -> Figure:
    """Figure 16: for each institution type (and for startup funding), the share located in
    clusters (blue) and outside (orange), as 100% horizontal bars."""
    from quantumclusters import derived

    shares = derived.type_shares_in_clusters(result)
    s = shares["share_in_clusters"].astype(float).rename(index=TYPE_LABELS)
    fig = new_figure(height=4.0)
    ax = fig.add_subplot()
    y = np.arange(len(s))[::-1]
    inside = s.fillna(0).to_numpy() * 100
    ax.barh(y, inside, color=BLUE, height=0.65, label="Clusters")
    ax.barh(y, 100 - inside, left=inside, color=ORANGE, height=0.65, label="Non-clusters")
    for yi, v, raw in zip(y, inside, s.to_numpy()):
        if not math.isnan(raw):
            ax.text(max(v, 0) / 2 if v >= 12 else v + 1, yi, f"{v:.0f}%", va="center",
                    ha="center" if v >= 12 else "left", color="white" if v >= 12 else INK, fontsize=TEXT)
    ax.set_yticks(y, [str(k) for k in s.index])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    ax.spines["left"].set_visible(False)
    return fig


def figure_17_involvement(result: Any) -> Figure:
    """Figure 17: collaborations by cluster involvement (both partners in clusters, exactly
    one, neither), with counts and shares."""
    from quantumclusters import derived

    counts = derived.involvement_counts(result)["collaborations"].astype(float).rename(index=INVOLVEMENT_LABELS)
    total = float(counts.sum())
    fig = new_figure(height=3.2)
    ax = fig.add_subplot()
    # one colour: the categories are named on the axis, so colour encodes nothing here
    _hbar(ax, counts, BLUE, lambda v: f"{v:,.0f} ({v / total:.0%})" if total > 0 else f"{v:,.0f}",
          xlabel="Collaborations", counts=True)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    return _done(fig)


# --------------------------------------------------------------------------------------
# Annex 1 and beyond the paper


def figure_spearman_distribution(rhos: pd.DataFrame | dict[str, Sequence[float]], threshold: float = 0.90) -> Figure:
    """Histograms of the Monte Carlo Spearman ρ (one panel per dimension), with the 0.90
    line. ``rhos`` maps a dimension name to the draws' ρ values."""
    items = list(rhos.items()) if isinstance(rhos, dict) else [(c, rhos[c]) for c in rhos.columns]
    n = max(len(items), 1)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig = new_figure(height=2.8 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for ax, (name, values) in zip(axes.flat, items):
        v = np.asarray(values, dtype=float)
        v = v[~np.isnan(v)]
        lo = min(float(v.min()) if len(v) else 0.0, threshold - 0.05)
        bins = np.linspace(lo, 1.0, 41)
        ax.hist(v, bins=bins, color=BLUE)
        ax.axvline(threshold, color=ORANGE, linestyle="--", linewidth=1.2)
        share = float((v > threshold).mean()) if len(v) else float("nan")
        ax.set_title(wrap(f"{str(name).replace('_', ' ').capitalize()}: {share:.0%} of draws above {threshold:.2f}", 30),
                     fontsize=10)
        ax.set_ylabel("Draws")
        integer_ticks(ax.yaxis)
    for ax in list(axes.flat)[len(items):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("Spearman ρ against the baseline ranking")
    return fig


def figure_rank_uncertainty(uncertainty: pd.DataFrame, baseline: pd.Series) -> Figure:
    """Interval plot: each cluster's 5th–95th percentile overall rank under the Monte Carlo
    weights (bar), its median rank (tick) and its baseline rank (circle), clusters in
    baseline order, best at the top.

    ``uncertainty`` is :func:`quantumclusters.robustness.rank_uncertainty`'s frame
    (``cluster``, ``median_rank``, ``p05_rank``, ``p95_rank``); ``baseline`` maps cluster →
    baseline overall rank.
    """
    u = _by_cluster(uncertainty).copy()
    u["baseline_rank"] = baseline.reindex(u.index).astype(float)
    u = u.loc[sorted(u.index, key=lambda k: (float(u.at[k, "baseline_rank"]), str(k)))]
    n = len(u)
    fig = new_figure(height=max(3.0, 0.24 * n + 1.6))
    ax = fig.add_subplot()
    if n == 0:
        _empty(ax)
        return fig
    y = np.arange(n)[::-1]
    colours = [rank_colour(float(r), n) for r in u["baseline_rank"]]
    ax.hlines(y, u["p05_rank"].astype(float) - 0.15, u["p95_rank"].astype(float) + 0.15, color=colours, linewidth=4,
              alpha=0.85, label="5th–95th percentile of rank")
    ax.scatter(u["median_rank"].astype(float), y, color=INK, s=40, zorder=3, label="Median rank", marker="|")
    ax.scatter(u["baseline_rank"].astype(float), y, facecolor="white", edgecolor=INK, s=18, zorder=4, label="Baseline rank")
    ax.set_yticks(y, [str(k) for k in u.index], fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0.3, n + 0.7)
    integer_ticks(ax.xaxis)
    ax.set_xlabel("Overall rank (1 = best)")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3)
    rank_key(fig, ax, n, label="Bar colour: baseline rank (1 = best)", shrink=0.5)
    ax.spines["left"].set_visible(False)
    return fig


def figure_detection_sensitivity(grid: pd.DataFrame) -> Figure:
    """Two heat maps over (eps_km, min_samples): number of clusters, and Spearman ρ of the
    ranking against the baseline on the clusters both share.

    ``grid`` has columns ``eps_km``, ``min_samples``, ``clusters``, ``spearman``.
    """
    fig = new_figure(height=6.6)
    axes = fig.subplots(2, 1)
    eps = sorted(grid["eps_km"].unique())
    mins = sorted(grid["min_samples"].unique())
    for ax, column, title, fmt, cmap, key in (
        (axes[0], "clusters", "Number of clusters", "{:.0f}", LinearSegmentedColormap.from_list("b", ["#f4f7fb", BLUE]),
         "Clusters found"),
        (axes[1], "spearman", "Rank agreement with the baseline (Spearman ρ)", "{:.2f}", RANK_CMAP.reversed(),
         "Spearman ρ"),
    ):
        m = grid.pivot_table(index="min_samples", columns="eps_km", values=column, aggfunc="first").reindex(index=mins, columns=eps)
        vals = m.to_numpy(dtype=float)
        finite = vals[np.isfinite(vals)]
        vmin = float(finite.min()) if len(finite) else 0.0
        vmax = float(finite.max()) if len(finite) else 1.0
        if column == "spearman":
            vmin, vmax = min(vmin, 0.0), 1.0
        img = ax.imshow(np.ma.masked_invalid(vals), cmap=cmap, vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1, aspect="auto", origin="lower")
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                v = vals[i, j]
                text = "–" if not np.isfinite(v) else fmt.format(v)
                shade = img.cmap(img.norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
                lum = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
                ax.text(j, i, text, ha="center", va="center", fontsize=TEXT, color="white" if lum < 0.5 else INK)
        ax.set_xticks(range(len(eps)), [f"{e:g} km" for e in eps])
        ax.set_yticks(range(len(mins)), [f"{s:g}" for s in mins])
        ax.set_xlabel("Search radius: how far apart two institutions may be to count as neighbours")
        ax.set_ylabel(wrap("Minimum institutions in a group", 18))
        ax.set_title(title, fontsize=10.5)
        ax.spines[["left", "bottom"]].set_visible(False)
        cbar = fig.colorbar(img, ax=ax, shrink=0.9, pad=0.02, aspect=18)
        cbar.set_label(key)
        cbar.outline.set_visible(False)
    return fig


def figure_vintage_movement(movement: pd.DataFrame, earlier_label: str, later_label: str) -> Figure:
    """Bump chart of overall ranks at two cut-offs. ``movement`` is indexed by cluster (or
    has a ``cluster`` column) with ``rank_earlier`` and ``rank_later`` (NaN where the
    cluster was not a cluster at that cut-off). Each column lists the clusters in rank
    order (ties one under the other, by name), labelled with their rank; lines join a
    cluster's two positions. A cluster present at one cut-off only has no line (a cross
    on the left: no longer a cluster)."""
    m = _by_cluster(movement)
    fig = new_figure(height=max(4.0, 0.21 * len(m) + 1.6))
    ax = fig.add_subplot()
    if m.empty:
        _empty(ax)
        return fig

    def positions(column: str) -> dict[str, int]:
        ranks = m[column].dropna().astype(float)
        order = sorted(ranks.index, key=lambda k: (float(ranks[k]), str(k)))
        return {k: i + 1 for i, k in enumerate(order)}

    left, right = positions("rank_earlier"), positions("rank_later")

    def label(column: str, name: str) -> str:
        r = m.at[name, column]
        tied = int((m[column] == r).sum()) > 1
        return f"{int(r)}{'=' if tied else ''}"

    n_right = max(len(right), 1)
    n = max(len(left), len(right), 1)
    for name in sorted(m.index, key=str):
        a, b = left.get(name), right.get(name)
        rank_b = float(m.at[name, "rank_later"]) if b is not None else float("nan")
        colour = rank_colour(rank_b, n_right) if b is not None else GREY
        if a is not None and b is not None:
            ax.plot([0, 1], [a, b], color=colour, linewidth=1.2, marker="o", markersize=3)
        elif b is not None:
            ax.plot([1], [b], color=colour, marker="o", markersize=3)
        elif a is not None:
            ax.plot([0], [a], color=GREY, marker="x", markersize=4)
        if b is not None:
            ax.text(1.03, b, f"{label('rank_later', name)}  {name}", va="center", fontsize=9).set_in_layout(False)
        if a is not None:
            ax.text(-0.03, a, f"{name}  {label('rank_earlier', name)}", va="center", ha="right",
                    fontsize=9).set_in_layout(False)
    # the two columns of names take 42% of the width each (they are left out of the layout,
    # which would otherwise squeeze the axes): the lines between them use the middle 16%
    ax.set_xlim(-2.625, 3.625)
    ax.set_ylim(n + 1, 0)
    ax.set_xticks([0, 1], [earlier_label, later_label])
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(axis="x", length=0)
    rank_key(fig, ax, n_right, label=f"Line colour: rank at {later_label} (1 = best)", shrink=0.6, location="bottom",
             aspect=40)
    return fig
