"""Small helpers the book's chapters share: load a run, format numbers, write safe Markdown.

The chapters stay thin: a ``parameters`` cell, then ``result = notebook.load(...)``, then
calls into the library and :mod:`quantumclusters.plots` / :mod:`quantumclusters.display`.
Everything that puts a *name from the database* into Markdown goes through :func:`esc`
(HTML-escaped and Markdown-escaped), so an institution called ``<script>alert(1)</script>``
shows as text.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "setup",
    "load",
    "run_at",
    "load_database",
    "esc",
    "md",
    "say",
    "names",
    "usd",
    "pct",
    "num",
    "ratio",
    "signed",
    "glue_figure",
    "cutoff_text",
    "describe_run",
]

DEFAULT_DRAWS = 5000
DEFAULT_SEED = 20250731


# --------------------------------------------------------------------------------------
# set-up and loading


def setup() -> None:
    """Prepare a chapter's kernel: PNG figures, quiet pandas, the book's plot style."""
    from quantumclusters import plots

    plots.apply_style()
    try:  # show matplotlib figures as PNG (stable, and what the book embeds)
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # pragma: no cover - outside IPython this is irrelevant
        pass
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.width", 120)


def _resolve(data_dir: str | Path | None) -> Path:
    from quantumclusters import paths

    return Path(paths.resolve_data_dir(data_dir)).resolve()


@functools.lru_cache(maxsize=8)
def _load_database(path: str) -> Any:
    from quantumclusters import schema

    return schema.load_database(path)


def load_database(data_dir: str | Path | None = None) -> Any:
    """The validated database in ``data_dir`` (``None``: the bundled one), cached per kernel."""
    return _load_database(str(_resolve(data_dir)))


@functools.lru_cache(maxsize=16)
def _run(path: str, cutoff: str, draws: int, seed: int, params: Any) -> Any:
    from quantumclusters import pipeline

    db = _load_database(path)
    kwargs: dict[str, Any] = {"draws": draws, "seed": seed}
    if params is not None:
        kwargs["params"] = params
    return pipeline.run(db, cutoff, **kwargs)


def load(
    data_dir: str | Path | None = None,
    cutoff: str | _dt.date = "2025-07-31",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    params: Any = None,
) -> Any:
    """Run the engine on ``data_dir`` at ``cutoff`` (cached per kernel) and return the
    :class:`~quantumclusters.pipeline.Result`.

    ``data_dir=None`` is the bundled database; a relative path is relative to the
    repository root. ``params`` is a :class:`quantumclusters.detection.Params` (``None``:
    the paper's).
    """
    return _run(str(_resolve(data_dir)), str(pd.Timestamp(cutoff).date()), int(draws), int(seed), params)


def run_at(result: Any, *, cutoff: str | _dt.date | None = None, params: Any = None,
           draws: int | None = None, seed: int | None = None, data_dir: str | Path | None = None) -> Any:
    """Another run on the same database as a previous :func:`load` (a different cut-off or
    detection parameters); values not given are the defaults."""
    return load(
        data_dir,
        cutoff if cutoff is not None else "2025-07-31",
        DEFAULT_DRAWS if draws is None else draws,
        DEFAULT_SEED if seed is None else seed,
        params,
    )


# --------------------------------------------------------------------------------------
# safe Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$^])")


def esc(value: Any) -> str:
    """``value`` as text that Markdown and HTML both show literally.

    Markdown punctuation is backslash-escaped and ``<``, ``>``, ``&`` and quotes become HTML
    entities: ``<script>alert(1)</script>`` displays as written and runs nothing.
    """
    text = str(value)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return html.escape(text, quote=True)


def md(text: str) -> Any:
    """A Markdown output (the caller has escaped every value with :func:`esc`)."""
    from IPython.display import Markdown

    return Markdown(text)


def say(template: str, **values: Any) -> Any:
    """``template.format(**values)`` as Markdown, every string value escaped first.

    Numbers should be formatted by the caller (:func:`usd`, :func:`pct`, :func:`num`) and
    passed as :class:`Safe` text, or they are escaped too (harmless for digits).
    """
    safe = {k: (v.text if isinstance(v, Safe) else esc(v)) for k, v in values.items()}
    return md(template.format(**safe))


class Safe:
    """Text already escaped (or Markdown written by the chapter) that :func:`say` keeps."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


def names(items: Iterable[Any], *, conjunction: str = "and", empty: str = "none") -> Safe:
    """``A, B and C`` with every name escaped."""
    xs = [esc(x) for x in items]
    if not xs:
        return Safe(empty)
    if len(xs) == 1:
        return Safe(xs[0])
    return Safe(", ".join(xs[:-1]) + f" {conjunction} " + xs[-1])


# --------------------------------------------------------------------------------------
# numbers


def _nan(x: Any) -> bool:
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def usd(value: Any, digits: int = 1) -> Safe:
    """``USD 6.2 billion`` / ``USD 422 million`` / ``n/a``."""
    if _nan(value):
        return Safe("n/a")
    v = float(value)
    if abs(v) >= 1e9:
        return Safe(f"USD {v / 1e9:,.{digits}f} billion")
    if abs(v) >= 1e6:
        return Safe(f"USD {v / 1e6:,.0f} million")
    return Safe(f"USD {v:,.0f}")


def pct(value: Any, digits: int = 0) -> Safe:
    """A share in [0, 1] as ``29%`` (``n/a`` when missing)."""
    if _nan(value):
        return Safe("n/a")
    return Safe(f"{float(value) * 100:.{digits}f}%")


def num(value: Any, digits: int = 0) -> Safe:
    """``1,821`` / ``0.47`` / ``n/a``."""
    if _nan(value):
        return Safe("n/a")
    return Safe(f"{float(value):,.{digits}f}")


def ratio(value: Any, digits: int = 2) -> Safe:
    """A ratio such as ``0.47``."""
    return num(value, digits)


def signed(value: Any) -> Safe:
    """A rank movement: ``+3`` (up), ``−2`` (down), ``0``."""
    if _nan(value):
        return Safe("new")
    v = int(value)
    return Safe(f"+{v}" if v > 0 else (f"−{-v}" if v < 0 else "0"))


# --------------------------------------------------------------------------------------
# figures and run description


def glue_figure(key: str, fig: Any) -> None:
    """Hand ``fig`` to myst-nb under ``key`` for a ``{glue:figure}`` directive, and release it."""
    from myst_nb import glue

    glue(key, fig, display=False)


def cutoff_text(result: Any) -> str:
    """The run's cut-off as ``31 July 2025``."""
    ts = pd.Timestamp(result.cutoff)
    return f"{ts.day} {ts.strftime('%B %Y')}"


def describe_run(result: Any, data_dir: str | Path | None = None) -> Any:
    """One Markdown paragraph: which database, which cut-off, how many records counted and
    how many clusters and quasi-clusters the run found (all values computed)."""
    from quantumclusters import paths

    path = _resolve(data_dir)
    rel = paths.relative_to_root(path)
    where = f"`{rel}`" if rel else "a database outside the repository"
    db = result.db
    text = (
        f"This chapter ran on the database in {where} at the cut-off **{cutoff_text(result)}**: "
        f"{len(db.institutions):,} institutions, {len(db.funding):,} funding events and "
        f"{len(db.collaborations):,} collaborations count at that date. The engine finds "
        f"**{len(result.clusters)} clusters** and **{len(result.quasi_clusters)} quasi-clusters**."
    )
    if "synthetic" in db.institutions.columns:
        synthetic = db.institutions["synthetic"].astype(str).str.lower().eq("true").mean()
        text += f" {synthetic:.0%} of the institutions counted are marked synthetic in the database's `synthetic` column."
    return md(text)
