"""Offline maps of clusters (the paper's Figures 2–4), drawn with matplotlib alone.

Country outlines come from the committed Natural Earth 1:110m file
``data/geo/countries_110m.geojson`` (public domain; see ``data/geo/README.md``), so the
maps need no internet and no geopandas or cartopy. Each cluster is a bubble at its area's
centre: colour = overall rank on the book's rank scale (dark blue best → orange worst,
:data:`quantumclusters.report.plots.RANK_CMAP`), area = total funding. Colours and sizes are set on
*all* clusters, so the three regional maps share one scale. Labels ("Greater Paris 12")
are placed greedily around each bubble so that they do not overlap.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import paths
from . import plots

__all__ = ["MapView", "VIEWS", "load_countries", "map_data", "cluster_map", "COUNTRIES_FILE"]

COUNTRIES_FILE = "countries_110m.geojson"
LAND = "#eceff3"
BORDER = "#b3bac4"
SEA = "#f5f9fc"


@dataclass(frozen=True)
class MapView:
    """A rectangular window on the world (degrees) with its title."""

    title: str
    lon: tuple[float, float]
    lat: tuple[float, float]
    figsize: tuple[float, float] | None = None  # None: from the window's shape

    def size(self, width: float = 8.4) -> tuple[float, float]:
        if self.figsize is not None:
            return self.figsize
        ratio = (self.lat[1] - self.lat[0]) / (self.lon[1] - self.lon[0])
        ratio /= math.cos(math.radians((self.lat[0] + self.lat[1]) / 2.0))
        return (width, round(0.84 * width * ratio + 1.3, 2))


#: The paper's three maps: Figure 2 (Europe), Figure 3 (North America), Figure 4 (East Asia).
VIEWS: dict[str, MapView] = {
    "europe": MapView("European quantum clusters", (-11.0, 31.0), (35.5, 62.5)),
    "north_america": MapView("North American quantum clusters", (-126.0, -63.0), (24.0, 53.5)),
    "east_asia": MapView("East Asian quantum clusters", (97.0, 146.0), (-2.0, 46.0)),
}


@functools.lru_cache(maxsize=2)
def load_countries(path: str | None = None) -> tuple[np.ndarray, ...]:
    """Exterior rings of every country as (n, 2) arrays of (lon, lat)."""
    file = Path(path) if path else paths.geo_dir() / COUNTRIES_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    rings: list[np.ndarray] = []
    for feature in data["features"]:
        geom = feature["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            rings.append(np.asarray(poly[0], dtype=float))
    return tuple(rings)


def _frame(obj: Any, key: str = "cluster") -> pd.DataFrame:
    if key in obj.columns:
        return obj.set_index(key)
    return obj


def map_data(result: Any) -> pd.DataFrame:
    """One row per cluster: lat, lon, overall_rank, overall_label, total_funding_usd."""
    clusters = _frame(result.clusters)[["lat", "lon"]]
    ranking = _frame(result.ranking)
    cols = ["overall_rank"] + (["overall_label"] if "overall_label" in ranking.columns else [])
    funding = _frame(result.indicators)[["total_funding_usd"]]
    df = clusters.join(ranking[cols], how="left").join(funding, how="left")
    df.index.name = "cluster"
    return df


def _nice_levels(max_value: float) -> list[float]:
    """Three round funding levels for the size legend."""
    if not max_value or max_value <= 0 or not math.isfinite(max_value):
        return []
    top = 10 ** math.floor(math.log10(max_value))
    for m in (5, 2, 1):
        if m * top <= max_value:
            top = m * top
            break
    levels = [top, top / 5, top / 25]
    return [v for v in levels if v > 0]


def _sizes(values: pd.Series, max_value: float, max_area: float = 1400.0, min_area: float = 24.0) -> np.ndarray:
    v = values.astype(float).fillna(0.0).clip(lower=0.0).to_numpy()
    if max_value <= 0:
        return np.full(len(v), min_area)
    return min_area + (max_area - min_area) * v / max_value


_OFFSETS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]


def _place_labels(fig: Figure, ax: Any, points: list[tuple[float, float, float, str]], fontsize: float) -> None:
    """Greedy placement: for each point (largest bubble first) try eight positions around
    it and keep the first whose box overlaps no placed label, no bubble and stays inside;
    otherwise the least-overlapping one, with a leader line."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    axbox = ax.get_window_extent(renderer)
    trans = ax.transData
    bubbles = []
    for x, y, size, _ in points:
        px, py = trans.transform((x, y))
        r = math.sqrt(size / math.pi) * fig.dpi / 72.0
        bubbles.append((px, py, r))

    def overlap(b1: Any, b2: Any) -> float:
        w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        return max(w, 0) * max(h, 0)

    def bubble_overlap(bb: Any, skip: int) -> float:
        total = 0.0
        for j, (px, py, r) in enumerate(bubbles):
            if j == skip:
                continue
            dx = max(bb.x0 - px, 0, px - bb.x1)
            dy = max(bb.y0 - py, 0, py - bb.y1)
            if dx * dx + dy * dy < r * r:
                total += r * r
        return total

    for i, (x, y, size, text) in enumerate(points):
        r_pt = math.sqrt(size / math.pi) + 2.0
        best = None
        for scale in (1.0, 2.2, 3.6):
            for dx, dy in _OFFSETS:
                norm = math.hypot(dx, dy)
                ox, oy = dx / norm * r_pt * scale, dy / norm * r_pt * scale
                ha = "left" if dx > 0 else ("right" if dx < 0 else "center")
                va = "bottom" if dy > 0 else ("top" if dy < 0 else "center")
                t = ax.annotate(
                    text, (x, y), xytext=(ox, oy), textcoords="offset points", ha=ha, va=va,
                    fontsize=fontsize, color=plots.INK, zorder=6,
                    bbox={"boxstyle": "round,pad=0.12", "fc": (1, 1, 1, 0.72), "ec": "none"},
                )
                bb = t.get_window_extent(renderer)
                inside = bb.x0 >= axbox.x0 and bb.x1 <= axbox.x1 and bb.y0 >= axbox.y0 and bb.y1 <= axbox.y1
                cost = sum(overlap(bb, p) for p in placed) + 0.3 * bubble_overlap(bb, i)
                cost += 0 if inside else 1e9
                cost += (scale - 1.0) * 40.0
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, t, bb, scale)
                else:
                    t.remove()
                if cost == 0:
                    break
            if best is not None and best[0] <= (scale - 1.0) * 40.0:
                break
        assert best is not None
        cost, t, bb, scale = best
        if scale > 1.0:
            t.arrow_patch = None
            t.set_arrowprops({"arrowstyle": "-", "color": plots.GREY, "lw": 0.5, "shrinkA": 0, "shrinkB": 2})
        placed.append(bb)


def cluster_map(
    result_or_data: Any,
    view: str | MapView = "europe",
    *,
    title: str | None = None,
    labels: bool = True,
    fontsize: float = 7.5,
) -> Figure:
    """The map of one region: outlines, one bubble per cluster in the window.

    ``result_or_data`` is a :class:`~quantumclusters.pipeline.Result` or the frame of
    :func:`map_data` (all clusters: the colour and size scales are global). ``view`` is a
    key of :data:`VIEWS` or a :class:`MapView`.
    """
    data = result_or_data if isinstance(result_or_data, pd.DataFrame) else map_data(result_or_data)
    v = VIEWS[view] if isinstance(view, str) else view
    n_ranks = int(np.nanmax(data["overall_rank"])) if len(data) and data["overall_rank"].notna().any() else 1
    max_funding = float(np.nanmax(data["total_funding_usd"])) if data["total_funding_usd"].notna().any() else 0.0
    lon0, lon1 = v.lon
    lat0, lat1 = v.lat
    inside = data[
        data["lon"].between(lon0, lon1) & data["lat"].between(lat0, lat1)
    ].copy()
    inside["size"] = _sizes(inside["total_funding_usd"], max_funding)
    inside = inside.sort_values(["size", "overall_rank"], ascending=[False, True], kind="mergesort")

    fig = plots.new_figure(v.size())
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor(SEA)
    rings = [r for r in load_countries() if r[:, 0].max() >= lon0 - 5 and r[:, 0].min() <= lon1 + 5
             and r[:, 1].max() >= lat0 - 5 and r[:, 1].min() <= lat1 + 5]
    ax.add_collection(PolyCollection(rings, facecolors=LAND, edgecolors=BORDER, linewidths=0.5, zorder=1))
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / math.cos(math.radians((lat0 + lat1) / 2.0)))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(True)
        ax.spines[side].set_color(BORDER)

    norm = Normalize(1, max(n_ranks, 2))
    sc = ax.scatter(
        inside["lon"], inside["lat"], s=inside["size"], c=inside["overall_rank"].astype(float),
        cmap=plots.RANK_CMAP, norm=norm, edgecolors="white", linewidths=0.8, alpha=0.92, zorder=4,
    )
    cbar = fig.colorbar(sc, ax=ax, shrink=0.6, pad=0.01, aspect=25)
    cbar.ax.invert_yaxis()
    cbar.set_label("overall rank (1 = best)")
    ticks = sorted({1, *[t for t in (10, 20, 30, 40, 50) if t <= n_ranks - 4], n_ranks})
    cbar.set_ticks(ticks)

    levels = _nice_levels(max_funding)
    diameter = math.sqrt(float(_sizes(pd.Series([levels[0]]), max_funding)[0])) if levels else 0.0
    handles = [
        Line2D([], [], ls="", marker="o", markersize=math.sqrt(float(_sizes(pd.Series([lv]), max_funding)[0])),
               markerfacecolor="none", markeredgecolor=plots.GREY, label=plots.usd(lv))
        for lv in levels
    ]
    if handles:
        fig.legend(handles=handles, title="bubble area = total funding", loc="outside lower center",
                   ncol=len(handles), columnspacing=2.0, handletextpad=0.6,
                   handlelength=max(2.0, diameter / 8.0 + 0.4), handleheight=max(0.7, diameter / 8.0 * 0.8), fontsize=8, title_fontsize=8.5,
                   frameon=False)
    ax.set_title(title if title is not None else v.title)
    if labels and len(inside):
        label_col = "overall_label" if "overall_label" in inside.columns else "overall_rank"
        points = [
            (float(r.lon), float(r.lat), float(r.size), f"{plots._short(name, 30)} {getattr(r, label_col)}")
            for name, r in zip(inside.index, inside.itertuples(index=False))
        ]
        _place_labels(fig, ax, points, fontsize)
    return fig
