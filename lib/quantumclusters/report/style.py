"""The book's figure house style, in one place.

Every figure of the book (the paper's Figures 1–17 in :mod:`.plots` and :mod:`.maps`, and the
figures of the chapters beyond the paper) is built with these settings and helpers:

* **size.** Figures are designed at the width of the book's content column
  (:data:`COLUMN_PX`, about 720 px in a 1000-px window) at :data:`DPI`, so that they are shown
  at 1:1 and a font size in points is the size the reader sees. :func:`.figures.figure_html`
  renders them at twice that resolution (sharp on high-density screens).
* **text.** No text is smaller than :data:`MIN_FONT` (9 pt) at display size; long names are
  wrapped (:func:`wrap`), never cut off with "…".
* **colour.** Dark blue for the best and for "in clusters", orange for the worst and for
  "outside clusters"; rank scales run from dark blue (rank 1) through a pale middle to orange
  (last rank). Wherever colour encodes something there is a key: a legend, or a colour bar
  (:func:`rank_key` for ranks).
* **axes.** Counts get integer ticks (:func:`integer_ticks`); an axis on which one value
  dwarfs the rest is logarithmic (:func:`dwarfed`); point labels are placed so that they do not
  overlap (:func:`place_labels`, deterministic, no extra dependency).

Labels use DejaVu Sans with *Noto Sans CJK SC* as a fallback when that font is installed, so
names such as 本源量子 render.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

__all__ = [
    "BLUE",
    "MID_BLUE",
    "LIGHT_BLUE",
    "ORANGE",
    "GREY",
    "INK",
    "RANK_CMAP",
    "COLUMN_PX",
    "DPI",
    "WIDTH",
    "FIGSIZE",
    "MIN_FONT",
    "TEXT",
    "RC",
    "apply_style",
    "new_figure",
    "rank_colour",
    "rank_key",
    "rank_ticks",
    "wrap",
    "integer_ticks",
    "dwarfed",
    "place_labels",
]

# --------------------------------------------------------------------------------------
# palette

#: Dark blue: best ranks, "in clusters", research institutions.
BLUE = "#0b3d6e"
#: A lighter blue for a second series.
MID_BLUE = "#4f86c6"
#: Pale blue, the middle of the rank scale.
LIGHT_BLUE = "#c9d9ec"
#: Orange: worst ranks, "outside clusters", industry.
ORANGE = "#f07f1a"
#: Neutral grey for context (omitted rows, guide lines).
GREY = "#8c96a0"
#: Text colour.
INK = "#1f2933"

#: The colour scale of ranks: dark blue (best) through pale blue to orange (worst).
RANK_CMAP = LinearSegmentedColormap.from_list("quantum_rank", [BLUE, MID_BLUE, LIGHT_BLUE, "#f6b26b", ORANGE])

# --------------------------------------------------------------------------------------
# size and text

#: Width of the book's content column in CSS pixels (a 1000-px browser window).
COLUMN_PX = 720
#: Figure resolution: one inch of figure is DPI pixels of the design size.
DPI = 100
#: The design width in inches: a figure of this width (plus the few pixels of margin the
#: saved image adds) is shown at 1:1 in the column.
WIDTH = 7.0
#: Default figure size (width, height) in inches.
FIGSIZE: tuple[float, float] = (WIDTH, 4.4)
#: The smallest font size, in points at display size.
MIN_FONT = 9.0
#: Size of value labels and annotations.
TEXT = 9.5

_CJK_FONT = "Noto Sans CJK SC"


def _font_families() -> list[str]:
    """DejaVu Sans, plus the CJK fallback when it is installed (no warning when it is not)."""
    families = ["DejaVu Sans"]
    names = {f.name for f in font_manager.fontManager.ttflist}
    if _CJK_FONT not in names:
        # the font may have been installed after matplotlib built its cache
        for path in font_manager.findSystemFonts():
            if "NotoSansCJK" in path.replace("-", "").replace("_", ""):
                try:
                    font_manager.fontManager.addfont(path)
                except Exception:  # pragma: no cover - a broken font file is simply skipped
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    if _CJK_FONT in names:
        families.append(_CJK_FONT)
    return families


#: The matplotlib settings of the house style (``font.family`` is added by :func:`apply_style`).
RC: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 9.5,
    "legend.frameon": False,
    "figure.titlesize": 11.5,
    "figure.figsize": FIGSIZE,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "svg.hashsalt": "quantumclusters",
    "svg.fonttype": "path",
    "text.color": INK,
    # names are data: "$" in a name must not start mathtext
    "text.parse_math": False,
}

_STYLE: dict[str, Any] | None = None


def apply_style() -> dict[str, Any]:
    """Set the book's matplotlib style (idempotent) and return the settings applied.

    Importing :mod:`.plots` applies it; chapters need not call it.
    """
    global _STYLE
    if _STYLE is None:
        # an explicit list (not the generic "sans-serif") so that matplotlib falls back
        # glyph by glyph to the CJK font
        _STYLE = {"font.family": _font_families(), **RC}
    matplotlib.rcParams.update(_STYLE)
    return dict(_STYLE)


def new_figure(figsize: tuple[float, float] | None = None, *, height: float | None = None, **kwargs: Any) -> Figure:
    """A figure of the house style outside pyplot's state (so it is shown only where a
    notebook asks): the column's width unless ``figsize`` says otherwise."""
    apply_style()
    if figsize is None:
        figsize = (WIDTH, height if height is not None else FIGSIZE[1])
    return Figure(figsize=figsize, dpi=DPI, layout="constrained", **kwargs)


# --------------------------------------------------------------------------------------
# colour keys


def rank_colour(rank: float, n: int) -> tuple[float, float, float, float]:
    """The colour of ``rank`` (1 = best) on a scale of ``n`` ranks."""
    if n <= 1:
        return RANK_CMAP(0.0)
    return RANK_CMAP(Normalize(1, n, clip=True)(rank))


def rank_ticks(n: int) -> list[int]:
    """Ticks of a rank scale of ``n``: 1, every 10th, and ``n``."""
    return sorted({1, *[t for t in range(10, n, 10) if t <= n - 4], max(n, 1)})


def rank_key(fig: Figure, ax: Any, n: int, *, label: str = "Overall rank (1 = best)", **kwargs: Any) -> Any:
    """The colour bar of the rank scale beside ``ax`` (one axes or a list), rank 1 at the top."""
    norm = Normalize(1, max(n, 2))
    mappable = ScalarMappable(norm=norm, cmap=RANK_CMAP)
    options = {"shrink": 0.85, "pad": 0.02, "aspect": 28, "fraction": 0.04}
    options.update(kwargs)
    cbar = fig.colorbar(mappable, ax=ax, **options)
    if cbar.orientation == "vertical":
        cbar.ax.invert_yaxis()
    cbar.set_ticks(rank_ticks(n))
    cbar.set_label(label)
    cbar.outline.set_visible(False)
    return cbar


# --------------------------------------------------------------------------------------
# labels and axes

_BREAKS = re.compile(r"(?<=[–—/-])|(?<= )")


def wrap(text: Any, width: int = 22) -> str:
    """Wrap a name onto lines of at most ``width`` characters where it can break (after a
    space, an en dash or a hyphen), never cutting a word: ``"Shenzhen–Hong Kong–Guangzhou
    Region"`` → ``"Shenzhen–Hong Kong–\\nGuangzhou Region"``."""
    text = str(text)
    if len(text) <= width:
        return text
    pieces = [p for p in _BREAKS.split(text) if p]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and len((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = piece
        else:
            line += piece
    if line:
        lines.append(line.rstrip())
    return "\n".join(lines)


def integer_ticks(axis: Any) -> None:
    """Ticks of a count axis at whole numbers only (no "2.5 institutions")."""
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))


def dwarfed(values: Iterable[float], ratio: float = 10.0) -> bool:
    """True when the values are all positive and the largest is more than ``ratio`` times
    the median: on a linear axis the rest would pile up near zero, so the axis is logarithmic."""
    v = np.asarray([float(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 3 or (v <= 0).any():
        return False
    return float(v.max()) > ratio * float(np.median(v))


def log_ticks(axis: Any, lo: float, hi: float, fmt: str = "{:g}") -> None:
    """Readable ticks of a log axis between ``lo`` and ``hi``: 1-2-5 steps, labelled in plain
    numbers (no 10^x)."""
    ticks = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            t = m * 10.0**e
            if lo <= t <= hi:
                ticks.append(t)
    if len(ticks) > 9:
        ticks = [t for t in ticks if f"{t:e}".startswith("1")] or ticks
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_minor_locator(FixedLocator([]))
    axis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.format(v)))


# --------------------------------------------------------------------------------------
# label placement


#: Directions tried around a point (right and left first: labels read best beside a point),
#: then distances (multiples of the marker's radius).
_OFFSETS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1),
            (2, 1), (-2, 1), (2, -1), (-2, -1), (1, 2), (-1, 2), (1, -2), (-1, -2)]
_SCALES = (1.0, 1.8, 2.8, 4.2, 6.0, 8.0)


def _renderer(fig: Any) -> Any:
    """The Agg renderer of ``fig`` (or of the figure a subfigure belongs to), drawn once."""
    fig = fig.get_figure(root=True) if hasattr(fig, "get_figure") else fig
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def place_labels(
    fig: Figure,
    ax: Any,
    points: Sequence[tuple[float, float, float, str]],
    *,
    fontsize: float = TEXT,
    obstacles: Sequence[tuple[float, float, float]] = (),
    box: bool = True,
    leader: bool = True,
    skip_if_crowded: bool = False,
) -> list[Any]:
    """Label points without overlaps, deterministically.

    ``points`` are ``(x, y, marker area in pt², text)`` in data coordinates, most important
    first; ``obstacles`` are further markers ``(x, y, area)`` that labels avoid. For each point
    eight positions around it are tried at three distances; the first free one is kept
    (inside the axes, overlapping no placed label and no marker), otherwise the least bad one
    (with a leader line when away from the point), or none when ``skip_if_crowded``.
    Returns the annotations placed.
    """
    renderer = _renderer(fig)
    placed: list[Any] = []
    made: list[Any] = []
    axbox = ax.get_window_extent(renderer)
    trans = ax.transData
    markers = []
    for x, y, size, *_ in [*points, *[(ox, oy, os_) for ox, oy, os_ in obstacles]]:
        px, py = trans.transform((x, y))
        r = math.sqrt(max(size, 1.0) / math.pi) * ax.figure.dpi / 72.0
        markers.append((px, py, r))

    def overlap(b1: Any, b2: Any) -> float:
        w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        return max(w, 0) * max(h, 0)

    def marker_overlap(bb: Any, skip: int) -> float:
        total = 0.0
        for j, (px, py, r) in enumerate(markers):
            if j == skip:
                continue
            dx = max(bb.x0 - px, 0, px - bb.x1)
            dy = max(bb.y0 - py, 0, py - bb.y1)
            if dx * dx + dy * dy < r * r:
                total += r * r
        return total

    bbox = {"boxstyle": "round,pad=0.12", "fc": (1, 1, 1, 0.75), "ec": "none"} if box else None
    def box_distance(bb: Any, px: float, py: float) -> float:
        dx = max(bb.x0 - px, 0, px - bb.x1)
        dy = max(bb.y0 - py, 0, py - bb.y1)
        return math.hypot(dx, dy)

    for i, (x, y, size, text) in enumerate(points):
        r_pt = math.sqrt(max(size, 1.0) / math.pi) + 2.0
        own = markers[i]
        best = None
        for scale in _SCALES:
            for dx, dy in _OFFSETS:
                norm = math.hypot(dx, dy)
                ox, oy = dx / norm * r_pt * scale, dy / norm * r_pt * scale
                ha = "left" if dx > 0.3 else ("right" if dx < -0.3 else "center")
                va = "bottom" if dy > 0.3 else ("top" if dy < -0.3 else "center")
                t = ax.annotate(
                    text, (x, y), xytext=(ox, oy), textcoords="offset points", ha=ha, va=va,
                    fontsize=fontsize, color=INK, zorder=6, bbox=bbox, annotation_clip=False,
                )
                bb = t.get_window_extent(renderer)
                inside = bb.x0 >= axbox.x0 and bb.x1 <= axbox.x1 and bb.y0 >= axbox.y0 and bb.y1 <= axbox.y1
                hits = sum(overlap(bb, p) for p in placed)
                cost = hits * 10 + 0.3 * marker_overlap(bb, i)
                cost += 0 if inside else 1e9
                # a label nearer another marker than its own would name the wrong point
                mine = box_distance(bb, own[0], own[1]) - own[2]
                # (or that touches another marker: kept clear by a margin of about 5 pt)
                clear = 5.0 * ax.figure.dpi / 72.0
                if any(box_distance(bb, px, py) - r < min(mine - 1, clear) for j, (px, py, r) in enumerate(markers) if j != i):
                    cost += 2000.0
                cost += (scale - 1.0) * 40.0
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, t, bb, scale, hits)
                else:
                    t.remove()
                if cost == (scale - 1.0) * 40.0:
                    break
            if best is not None and best[0] <= (scale - 1.0) * 40.0:
                break
        assert best is not None
        cost, t, bb, scale, hits = best
        if skip_if_crowded and (hits > 0 or cost >= 1e9):
            t.remove()
            continue
        if scale > 1.0 and leader:
            # away from its point: redraw the same label with a leader line to the point
            props = {k: getattr(t, f"get_{k}")() for k in ("ha", "va")}
            xytext = t.xyann
            t.remove()
            t = ax.annotate(
                text, (x, y), xytext=xytext, textcoords="offset points", fontsize=fontsize, color=INK, zorder=6,
                bbox=bbox, annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": "#5f6b77", "lw": 0.8, "shrinkA": 0, "shrinkB": 3},
                **props,
            )
        t.set_in_layout(False)  # placed in the final layout; must not squeeze the axes afterwards
        placed.append(bb)
        made.append(t)
    return made
