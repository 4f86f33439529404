"""Offline maps of clusters (the paper's Figures 2–4), drawn with matplotlib alone.

Country outlines come from the committed Natural Earth 1:110m file
``data/geo/countries_110m.geojson`` (public domain; see ``data/geo/README.md``), so the
maps need no internet and no geopandas or cartopy. Each cluster is a bubble at its area's
centre: colour = overall rank on the book's rank scale (dark blue best → orange worst,
:data:`quantumclusters.report.plots.RANK_CMAP`), area = total funding. Colours and sizes are set on
*all* clusters, so the three regional maps share one scale, shown by a colour bar and a
size legend. Labels ("Greater Paris 12": name and overall rank) are placed around each
bubble so that they do not overlap (:func:`quantumclusters.report.style.place_labels`). A
cluster far from the others of its region (Singapore, for East Asia) is drawn in an inset
map, so that the main map is not mostly empty sea.
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

__all__ = ["Inset", "MapView", "VIEWS", "load_countries", "map_data", "cluster_map", "COUNTRIES_FILE"]

COUNTRIES_FILE = "countries_110m.geojson"
LAND = "#eceff3"
BORDER = "#b3bac4"
SEA = "#f5f9fc"


@dataclass(frozen=True)
class Inset:
    """A small second window drawn inside a map (for a cluster far from the others).

    ``rect`` is (left, bottom, width, height) in fractions of the main map."""

    title: str
    lon: tuple[float, float]
    lat: tuple[float, float]
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class MapView:
    """A rectangular window on the world (degrees) with its title and insets."""

    title: str
    lon: tuple[float, float]
    lat: tuple[float, float]
    figsize: tuple[float, float] | None = None  # None: from the window's shape
    insets: tuple[Inset, ...] = ()

    def size(self, width: float = plots.WIDTH) -> tuple[float, float]:
        if self.figsize is not None:
            return self.figsize
        ratio = (self.lat[1] - self.lat[0]) / (self.lon[1] - self.lon[0])
        ratio /= math.cos(math.radians((self.lat[0] + self.lat[1]) / 2.0))
        return (width, round(0.86 * width * ratio + 1.5, 2))


#: The paper's three maps: Figure 2 (Europe), Figure 3 (North America), Figure 4 (East Asia).
#: East Asia's main window ends at the South China coast; Singapore, 2,600 km further south,
#: is an inset over the Pacific corner of the map (otherwise 40% of the map is empty sea).
VIEWS: dict[str, MapView] = {
    "europe": MapView("European quantum clusters", (-11.0, 29.5), (37.0, 62.5)),
    "north_america": MapView("North American quantum clusters", (-126.0, -55.0), (24.5, 52.5)),
    "east_asia": MapView(
        "East Asian quantum clusters", (104.0, 146.0), (18.0, 45.5),
        insets=(Inset("Singapore", (99.5, 109.0), (-2.5, 5.5), (0.655, 0.025, 0.33, 0.36)),),
    ),
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


def cluster_map(
    result_or_data: Any,
    view: str | MapView = "europe",
    *,
    title: str | None = None,
    labels: bool = True,
    fontsize: float = 9.0,
) -> Figure:
    """The map of one region: outlines, one bubble per cluster in the window.

    ``result_or_data`` is a :class:`~quantumclusters.pipeline.Result` or the frame of
    :func:`map_data` (all clusters: the colour and size scales are global). ``view`` is a
    key of :data:`VIEWS` or a :class:`MapView`. Clusters inside one of the view's insets
    are drawn there, on the same scales.
    """
    data = result_or_data if isinstance(result_or_data, pd.DataFrame) else map_data(result_or_data)
    v = VIEWS[view] if isinstance(view, str) else view
    n_ranks = int(np.nanmax(data["overall_rank"])) if len(data) and data["overall_rank"].notna().any() else 1
    max_funding = float(np.nanmax(data["total_funding_usd"])) if data["total_funding_usd"].notna().any() else 0.0
    lon0, lon1 = v.lon
    lat0, lat1 = v.lat

    def within(lon: tuple[float, float], lat: tuple[float, float]) -> pd.DataFrame:
        part = data[data["lon"].between(*lon) & data["lat"].between(*lat)].copy()
        part["size"] = _sizes(part["total_funding_usd"], max_funding)
        return part.sort_values(["size", "overall_rank"], ascending=[False, True], kind="mergesort")

    inside = within(v.lon, v.lat)
    fig = plots.new_figure(v.size())
    ax = fig.add_subplot(1, 1, 1)
    norm = Normalize(1, max(n_ranks, 2))
    _draw_window(ax, v.lon, v.lat, inside, norm)
    plots.rank_key(fig, ax, n_ranks, label="Bubble colour: overall rank (1 = best)", shrink=0.6, pad=0.01, aspect=25)
    label_col = "overall_label" if "overall_label" in data.columns else "overall_rank"

    def label(name: Any, row: Any) -> str:
        return f"{plots.wrap(name, 20)} {getattr(row, label_col)}"

    insets = []
    for inset in v.insets:
        part = within(inset.lon, inset.lat)
        if part.empty:
            continue
        iax = ax.inset_axes(inset.rect, zorder=8)
        iax._qc_inset = True  # type: ignore[attr-defined]
        _draw_window(iax, inset.lon, inset.lat, part, norm)
        iax.set_title(inset.title + " (inset)", fontsize=plots.TEXT, fontweight="normal", loc="left", pad=3)
        insets.append((iax, part))

    levels = _nice_levels(max_funding)
    diameter = math.sqrt(float(_sizes(pd.Series([levels[0]]), max_funding)[0])) if levels else 0.0
    handles = [
        Line2D([], [], ls="", marker="o", markersize=math.sqrt(float(_sizes(pd.Series([lv]), max_funding)[0])),
               markerfacecolor="none", markeredgecolor=plots.GREY, label=plots.usd(lv))
        for lv in levels
    ]
    if handles:
        fig.legend(handles=handles, title="Bubble area: total quantum company funding", loc="outside lower center",
                   ncol=len(handles), columnspacing=2.0, handletextpad=0.6,
                   handlelength=max(2.0, diameter / 8.0 + 0.4), handleheight=max(0.7, diameter / 8.0 * 0.8),
                   fontsize=plots.TEXT, title_fontsize=plots.TEXT, frameon=False)
    ax.set_title(title if title is not None else v.title)
    if labels:
        if len(inside):
            points = [(float(r.lon), float(r.lat), float(r.size), label(name, r))
                      for name, r in zip(inside.index, inside.itertuples(index=False))]
            plots.place_labels(fig, ax, points, fontsize=fontsize)
        for iax, part in insets:
            points = [(float(r.lon), float(r.lat), float(r.size), label(name, r))
                      for name, r in zip(part.index, part.itertuples(index=False))]
            plots.place_labels(fig, iax, points, fontsize=fontsize, leader=False)
    return fig


def _draw_window(ax: Any, lon: tuple[float, float], lat: tuple[float, float], points: pd.DataFrame, norm: Normalize) -> None:
    """Land, sea and the bubbles of ``points`` in one window of the map."""
    lon0, lon1 = lon
    lat0, lat1 = lat
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
    ax.scatter(
        points["lon"], points["lat"], s=points["size"], c=points["overall_rank"].astype(float),
        cmap=plots.RANK_CMAP, norm=norm, edgecolors="white", linewidths=0.8, alpha=0.92, zorder=4,
    )
