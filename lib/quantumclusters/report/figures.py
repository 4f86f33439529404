"""How the book shows a figure: sharp, described, and honest about synthetic records.

Every matplotlib figure a chapter displays goes through :func:`figure_html` (registered by
:func:`quantumclusters.report.notebook.setup` as the notebook's HTML form of a figure):

* the image is rendered at twice its display resolution (sharp on high-density screens) and
  shown at its design width;
* it carries alt text (:func:`alt_text`: a description set by the figure function, or one
  built from its titles and axis labels);
* **disclosure at the point of use.** When any record the figure draws on is marked
  synthetic in the database (the ``synthetic`` column of the institutions, funding events or
  collaborations, and the areas' own markers of adjusted fields), the mark
  :data:`MARK` is drawn *inside the image* (so a chart lifted from the page still says it)
  and the figure's caption line says so too. On a database without synthetic markers, or
  with all of them false, no mark appears anywhere.

Which tables a figure draws on is declared by the figure function with :func:`draws_on`;
a figure that declares nothing is taken to draw on every table of the run.
"""

from __future__ import annotations

import base64
import html
import io
import struct
from collections.abc import Iterable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "TABLES",
    "MARK",
    "synthetic_mask",
    "synthetic_share",
    "synthetic_shares",
    "set_run",
    "current_shares",
    "draws_on",
    "uses_synthetic",
    "mark_figure",
    "alt_text",
    "figure_html",
]

#: The record tables a figure can draw on.
TABLES: tuple[str, ...] = ("institutions", "funding", "collaborations", "areas")
#: The mark drawn inside every figure that synthetic records contribute to.
MARK = "Illustrative – synthetic records"
#: Columns that mark a record, or one field of it, as synthesised or adjusted.
_MARKER_COLUMNS = ("synthetic", "ecosystem_value_synthetic", "gdp_adjusted")

_RUN_SHARES: dict[str, float | None] = {}


def synthetic_mask(frame: pd.DataFrame, columns: Iterable[str] = _MARKER_COLUMNS) -> pd.Series | None:
    """Per row: True where any marker column says ``true`` (case-insensitive). None when the
    table has no marker column at all (a database that does not say)."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return None
    marked = pd.Series(False, index=frame.index)
    for c in present:
        marked |= frame[c].astype("string").str.strip().str.lower().eq("true").fillna(False).astype(bool)
    return marked


def synthetic_share(frame: pd.DataFrame) -> float | None:
    """Share of rows marked synthetic (None when the table has no marker or no rows)."""
    mask = synthetic_mask(frame)
    if mask is None or len(mask) == 0:
        return None
    return float(mask.mean())


def synthetic_shares(db: Any) -> dict[str, float | None]:
    """Synthetic share of each record table of a database (None: the table does not say)."""
    return {t: synthetic_share(getattr(db, t)) for t in TABLES}


def set_run(db: Any) -> None:
    """Remember the loaded run's synthetic shares: figures shown afterwards are marked by
    them (called by :func:`quantumclusters.report.notebook.load`)."""
    _RUN_SHARES.clear()
    _RUN_SHARES.update(synthetic_shares(db))


def current_shares() -> dict[str, float | None]:
    """The synthetic shares of the run the notebook loaded last (empty before any)."""
    return dict(_RUN_SHARES)


def draws_on(fig: Figure, *tables: str, alt: str | None = None) -> Figure:
    """Declare which record tables ``fig`` is computed from (and optionally its alt text)."""
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; use {TABLES}")
    fig._qc_tables = tuple(tables)  # type: ignore[attr-defined]
    if alt is not None:
        fig._qc_alt = alt  # type: ignore[attr-defined]
    return fig


def uses_synthetic(fig: Figure, shares: dict[str, float | None] | None = None) -> bool:
    """True when any table ``fig`` draws on holds a synthetic record."""
    shares = current_shares() if shares is None else shares
    tables = getattr(fig, "_qc_tables", TABLES)
    return any((shares.get(t) or 0.0) > 0 for t in tables)


def _freeze_layout(fig: Figure) -> None:
    """Lay the figure out once and keep that layout: saving an image cut to its contents
    (``bbox_inches="tight"``) would otherwise run the layout again on the cut area and move
    a legend placed outside the axes onto the disclosure mark."""
    if fig.get_layout_engine() is None:
        return
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        if not hasattr(fig.canvas, "get_renderer"):
            FigureCanvasAgg(fig)
        fig.canvas.draw()
        fig.set_layout_engine("none")
        # a figure legend is anchored to the figure's box, which the cut changes: pin it
        # where it was drawn, in figure coordinates (which the cut keeps)
        renderer = fig.canvas.get_renderer()
        for legend in fig.legends:
            box = legend.get_window_extent(renderer).transformed(fig.transFigure.inverted())
            legend.set_bbox_to_anchor(box, transform=fig.transFigure)
            legend.set_loc("center")
    except Exception:  # pragma: no cover - an engine that cannot be switched off stays on
        pass


def _lowest_point(fig: Figure) -> float:
    """The bottom of everything drawn in ``fig``, in figure coordinates (below 0 when a
    legend's markers or a label reach past the figure's own area)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        if not hasattr(fig.canvas, "get_renderer"):
            FigureCanvasAgg(fig)
        fig.canvas.draw()
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        return min(0.0, float(box.y0) / float(fig.get_size_inches()[1]))
    except Exception:  # pragma: no cover - the mark is still drawn, at the figure's edge
        return 0.0


def mark_figure(fig: Figure) -> Figure:
    """Draw :data:`MARK` inside the image, once: on a white box at the bottom right, below
    everything else the figure draws, so that it never covers a label or a legend (the
    saved image, cut to its contents, grows to hold it)."""
    if getattr(fig, "_qc_marked", False):
        return fig
    fig.text(
        0.995, _lowest_point(fig) - 0.004, MARK, ha="right", va="top", fontsize=9.5, color="#9a3412", fontweight="bold",
        bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#9a3412", "alpha": 0.9, "linewidth": 0.6},
        zorder=100,
    )
    fig._qc_marked = True  # type: ignore[attr-defined]
    return fig


def alt_text(fig: Figure) -> str:
    """The figure's description for screen readers: the one its function set, or one built
    from the titles and axis labels of its axes."""
    given = getattr(fig, "_qc_alt", None)
    if given:
        return str(given)
    parts = []
    for ax in fig.findobj(lambda a: hasattr(a, "get_xlabel") and hasattr(a, "get_title")):
        if hasattr(ax, "_colorbar"):
            label = (ax.get_ylabel() or ax.get_xlabel()).replace("\n", " ")
            if label:
                parts.append(f"colour key: {label}")
            continue
        title = " ".join(t for t in (ax.get_title(loc=loc) for loc in ("left", "center", "right")) if t)
        x, y = ax.get_xlabel(), ax.get_ylabel()
        bits = [b.replace("\n", " ") for b in (title, f"horizontal axis: {x}" if x else "",
                                                 f"vertical axis: {y}" if y else "") if b]
        if bits:
            parts.append("; ".join(bits))
    from matplotlib.legend import Legend

    for legend in fig.findobj(Legend):
        entries = [t.get_text() for t in legend.get_texts() if t.get_text()]
        heading = legend.get_title().get_text()
        if entries or heading:
            parts.append("legend: " + (heading + ": " if heading else "") + ", ".join(entries))
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    text = ". ".join(p for p in [suptitle, *parts] if p)
    return ("Chart. " + text) if text else "Chart."


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def figure_html(fig: Figure, shares: dict[str, float | None] | None = None) -> str:
    """The HTML form of a figure: a 2× PNG shown at design width, alt text, and the
    synthetic-records disclosure (inside the image and as a caption line) where it applies."""
    synthetic = uses_synthetic(fig, shares)
    _freeze_layout(fig)
    if synthetic:
        mark_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=2 * fig.get_dpi(), bbox_inches="tight", metadata={"Software": None})
    png = buffer.getvalue()
    width, _height = _png_size(png)
    data = base64.b64encode(png).decode("ascii")
    caption = ""
    if synthetic:
        caption = (
            '<figcaption class="qc-disclosure">Illustrative: this chart is computed from a database in which '
            "some or all of the records it uses are synthetic. It shows what the paper's method produces, "
            "not real-world values.</figcaption>"
        )
    return (
        f'<figure class="qc-figure"><img src="data:image/png;base64,{data}" width="{width // 2}" '
        f'alt="{html.escape(alt_text(fig), quote=True)}" style="max-width:100%;height:auto"/>{caption}</figure>'
    )
