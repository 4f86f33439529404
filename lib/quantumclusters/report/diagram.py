"""The methodology diagram of Annex 1: the method as eight steps, drawn offline.

:func:`methodology_diagram` draws records → data cut-off → detection (DBSCAN, merging,
naming) → thresholds (clusters and quasi-clusters) → nine indicators → three dimensions →
ranking → robustness as boxes and arrows with matplotlib (no diagram service, no network).
Every number in it is read from the run: the detection parameters from
:class:`quantumclusters.detection.Params`, the indicators and dimensions from
:data:`quantumclusters.indicators.INDICATORS` and :data:`quantumclusters.ranking.DIMENSIONS`,
the cut-off and the Monte Carlo draws from the run, so the diagram cannot drift from the
engine.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from . import style
from .figures import draws_on

__all__ = ["INDICATOR_WORDS", "DIMENSION_WORDS", "Step", "methodology_steps", "methodology_diagram"]

#: The nine indicators in plain words (keys: :data:`quantumclusters.indicators.INDICATORS`).
INDICATOR_WORDS: dict[str, str] = {
    "total_funding_usd": "Total funding",
    "startup_funding_to_gdp": "Startup funding ÷ GDP",
    "industry_collaborations_per_tn_gdp": "Industry collaborations ÷ GDP",
    "collaborations": "Collaborations",
    "external_share": "Share with outside partners",
    "brokerage": "Brokerage (bridging)",
    "institutions_per_million": "Institutions per million people",
    "spinouts_per_research_institution": "Spinouts per research institution",
    "startups_per_institution": "Startups per institution",
}
#: The three dimensions in words (keys: :data:`quantumclusters.ranking.DIMENSIONS`).
DIMENSION_WORDS: dict[str, str] = {
    "market_orientation": "Market Orientation",
    "collaboration_intensity": "Collaboration Intensity",
    "ecosystem_maturity": "Ecosystem Maturity",
}


@dataclass(frozen=True)
class Step:
    """One box of the diagram: a short title and its explanation in plain words."""

    title: str
    text: str
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (heading, lines) drawn side by side


def _km(v: float) -> str:
    return f"{v:g} km"


def _usd(v: float) -> str:
    return f"USD {v / 1e6:g} million" if v >= 1e6 else f"USD {v:,.0f}"


def _date(cutoff: Any) -> str:
    if cutoff is None:
        return "the run's cut-off date"
    d = pd.Timestamp(cutoff).date() if not isinstance(cutoff, _dt.date) else cutoff
    return f"{d.day} {d:%B %Y}"


def methodology_steps(
    params: Any = None,
    *,
    cutoff: Any = None,
    draws: int | None = None,
    seed: int | None = None,
    threshold: float = 0.90,
) -> list[Step]:
    """The eight steps of the method, their numbers read from ``params`` (a
    :class:`~quantumclusters.detection.Params`; ``None``: the paper's) and the run."""
    from quantumclusters.detection import Params
    from quantumclusters.indicators import INDICATORS
    from quantumclusters.ranking import DIMENSIONS

    p = params if params is not None else Params()
    missing = set(INDICATORS) - set(INDICATOR_WORDS)
    if missing or set(DIMENSIONS) != set(DIMENSION_WORDS):  # the engine changed: say so loudly
        raise KeyError(f"no words for {sorted(missing) or sorted(set(DIMENSIONS) ^ set(DIMENSION_WORDS))}")
    draws_text = f"{draws:,} random weightings" if draws else "random weightings"
    seed_text = f" (seed {seed})" if seed is not None else ""
    return [
        Step("Records", "Four tables: institutions (type and location), funding events, collaborations "
                        "between two institutions, and the metropolitan areas clusters are named after."),
        Step("Data cut-off", f"Only what exists on or before {_date(cutoff)} counts: institutions active by "
                             "then, funding and collaborations dated by then."),
        Step("Detection", f"DBSCAN: an institution with at least {p.min_samples} institutions within "
                          f"{_km(p.eps_km)} (itself included) starts a group. Merge: two groups whose centres "
                          f"are within {_km(p.merge_km)} and that share at least {p.merge_min_links} "
                          f"collaborations ({p.merge_min_share:.0%} of either's own) become one. Naming: each "
                          f"group takes the area most of its members are nearest to, within {_km(p.naming_km)}."),
        Step("Thresholds", "",
             columns=(
                 ("A cluster has", (f"at least {p.min_institutions} institutions",
                                    f"{p.cluster_min_funded_startups} funded startups with {_usd(p.cluster_min_combined_usd)} "
                                    f"combined, or one with {_usd(p.cluster_min_single_usd)}")),
                 ("A quasi-cluster (second pass)", (f"the rest, grouped with {p.quasi_min_samples} (not {p.min_samples}) "
                                                    f"within {_km(p.eps_km)}",
                                                    f"at least {p.quasi_min_institutions} institutions and "
                                                    f"{p.quasi_min_collaborations} collaborations",
                                                    f"Tier 1 if a startup raised over {_usd(p.tier1_exceeding_usd)}")),
             )),
        Step("Nine indicators", "",
             columns=tuple((DIMENSION_WORDS[d], tuple(INDICATOR_WORDS[i] for i in DIMENSIONS[d])) for d in DIMENSIONS)),
        Step("Three dimensions", "Each indicator ranks the clusters (largest first, ties share a rank); a dimension's "
                                 "score is the mean of its three indicator ranks."),
        Step("Ranking", "The overall score is the mean of the three dimension scores; clusters are ranked on it, "
                        "ties shown as “12=”. Quasi-clusters are listed, not ranked."),
        Step("Robustness", f"Two other methods (z-scores, principal components) are compared with the ranking, and "
                           f"{draws_text}{seed_text} of the three dimensions; agreement is measured by Spearman's ρ "
                           f"(how many draws exceed {threshold:.2f})."),
    ]


def methodology_diagram(
    params: Any = None,
    *,
    cutoff: Any = None,
    draws: int | None = None,
    seed: int | None = None,
    threshold: float = 0.90,
) -> Figure:
    """The method as a top-to-bottom chain of eight boxes (see :func:`methodology_steps`),
    at the book's column width with text of at least 9.5 pt. The quasi-cluster branch of the
    thresholds ends there (quasi-clusters are listed, not ranked)."""
    steps = methodology_steps(params, cutoff=cutoff, draws=draws, seed=seed, threshold=threshold)
    width = style.WIDTH
    title_w = 1.55  # inches for the step titles
    pad = 0.1
    line_h = 0.185  # inches per 9.5-pt line
    gap = 0.3  # arrow between boxes
    detail_chars = 64  # characters of 9.5-pt text across the explanation
    heights = []
    bodies: list[Any] = []
    for s in steps:
        if s.columns:
            col_chars = int(detail_chars / len(s.columns)) - 1
            cols = []
            for heading, items in s.columns:
                head = style.wrap(heading, col_chars - 2).split("\n")
                lines = []
                for item in items:  # bullets with a hanging indent
                    for k, ln in enumerate(style.wrap(item, col_chars - 2).split("\n")):
                        lines.append(("• " if k == 0 else "   ") + ln)
                cols.append((head, lines))
            n = max(len(h_) + len(lines) for h_, lines in cols)
            bodies.append(cols)
        else:
            text = style.wrap(s.text, detail_chars)
            n = text.count("\n") + 1
            bodies.append(text)
        heights.append(n * line_h + 2 * pad + 0.04)
    total = sum(heights) + gap * (len(steps) - 1) + 0.1
    fig = style.new_figure((width, total))
    fig.set_layout_engine(None)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(total, 0)
    ax.set_axis_off()
    y = 0.05
    for i, (s, body, h) in enumerate(zip(steps, bodies, heights)):
        x0, x1 = 0.05, width - 0.05
        shade = style.RANK_CMAP(0.08 + 0.5 * i / (len(steps) - 1))
        ax.add_patch(FancyBboxPatch((x0, y), x1 - x0, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc="#f4f7fb", ec=style.GREY, lw=0.8))
        ax.add_patch(FancyBboxPatch((x0, y), title_w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=shade, ec="none"))
        dark = sum(shade[:3]) / 3 < 0.55
        ax.text(x0 + 0.12, y + h / 2, f"{i + 1}  {style.wrap(s.title, 14)}", va="center", ha="left",
                fontsize=10.5, fontweight="bold", color="white" if dark else style.INK)
        tx = x0 + title_w + 0.15
        if isinstance(body, str):
            ax.text(tx, y + pad + 0.03, body, va="top", ha="left", fontsize=9.5, linespacing=1.35)
        else:
            col_w = (x1 - tx - 0.1) / len(body)
            for k, (head, lines) in enumerate(body):
                cx = tx + k * col_w
                ax.text(cx, y + pad + 0.03, "\n".join(head), va="top", ha="left", fontsize=9.5, fontweight="bold",
                        linespacing=1.35)
                ax.text(cx, y + pad + 0.03 + line_h * len(head), "\n".join(lines), va="top", ha="left", fontsize=9.5,
                        linespacing=1.35)
        if i < len(steps) - 1:
            ax.add_patch(FancyArrowPatch((width / 2, y + h + 0.02), (width / 2, y + h + gap - 0.02),
                                         arrowstyle="-|>", mutation_scale=14, color=style.BLUE, lw=1.4))
        y += h + gap
    alt = "Diagram of the method, eight steps from top to bottom. " + " ".join(
        f"{i + 1}. {s.title}: " + (s.text or "; ".join(f"{h_}: {' '.join(lines)}" for h_, lines in s.columns))
        for i, s in enumerate(steps))
    return draws_on(fig, alt=alt)
