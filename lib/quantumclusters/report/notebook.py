"""Small helpers the book's chapters share: load a run, format numbers, write safe Markdown.

The chapters stay thin: a ``parameters`` cell, then ``result = notebook.load(...)``, then
calls into the library and :mod:`quantumclusters.report.plots` / :mod:`quantumclusters.report.display`.
Everything that puts a *name from the database* into Markdown goes through :func:`esc`
(HTML-escaped and Markdown-escaped), so an institution called ``<script>alert(1)</script>``
shows as text.
"""

from __future__ import annotations

import dataclasses
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
    "plural",
    "Safe",
    "glue_figure",
    "cutoff_text",
    "describe_run",
    "synthetic_share",
    "synthetic_sentence",
]

from ..schema import DEFAULT_DRAWS, DEFAULT_SEED, DISCLOSED_FUNDING_KINDS, RESEARCH_TYPES  # noqa: E402


# --------------------------------------------------------------------------------------
# set-up and loading


def setup() -> None:
    """Prepare a chapter's kernel: PNG figures, quiet pandas, the book's plot style."""
    from quantumclusters.report import plots

    plots.apply_style()
    _register_figure_html()
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.width", 120)


def _register_figure_html() -> None:
    """Show every matplotlib figure as :func:`quantumclusters.report.figures.figure_html`
    (a 2x image with alt text and, where synthetic records contribute, the disclosure) and
    nothing else (no second PNG copy in the notebook)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:  # outside IPython (tests, scripts) there is nothing to register
        return
    from matplotlib.figure import Figure

    from quantumclusters.report import figures

    formatters = ip.display_formatter.formatters
    formatters["text/html"].for_type(Figure, figures.figure_html)
    for mime in ("image/png", "image/svg+xml", "image/jpeg", "application/pdf"):
        formatters[mime].type_printers.pop(Figure, None)


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
    """The run, read from the build's store when another process computed it already
    (:mod:`quantumclusters.report.runstore`), else computed and stored."""
    from quantumclusters import pipeline
    from quantumclusters.report import runstore

    def compute() -> Any:
        kwargs: dict[str, Any] = {"draws": draws, "seed": seed}
        if params is not None:
            kwargs["params"] = params
        return pipeline.run(_load_database(path), cutoff, **kwargs)

    return runstore.load_or_run(path, cutoff, draws, seed, params, compute)


def load(
    data_dir: str | Path | None = None,
    cutoff: str | _dt.date = "2025-07-31",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    params: Any = None,
) -> Any:
    """Run the engine on ``data_dir`` at ``cutoff`` and return the
    :class:`~quantumclusters.pipeline.Result` (cached per kernel, and stored on disk for the
    whole build: the first chapter computes it, the others read it).

    ``data_dir=None`` is the bundled database; a relative path is relative to the
    repository root. ``params`` is a :class:`quantumclusters.detection.Params` (``None``:
    the paper's).
    """
    from quantumclusters.report import figures

    result = _run(str(_resolve(data_dir)), str(pd.Timestamp(cutoff).date()), int(draws), int(seed), params)
    figures.set_run(result.db)
    return result


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


def plural(n: Any, word: str, words: str | None = None) -> Safe:
    """``1 cluster`` / ``45 clusters``."""
    k = int(n)
    return Safe(f"{k:,} {word if k == 1 else (words or word + 's')}")


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


def synthetic_share(frame: pd.DataFrame) -> float | None:
    """Share of the rows of ``frame`` marked synthetic (generated rather than real records),
    or ``None`` when the table carries no such marking."""
    if "synthetic" not in frame.columns or not len(frame):
        return None
    return float(frame["synthetic"].astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).mean())


def synthetic_sentence(db: Any) -> str:
    """A plain-words sentence on how much of each record table is synthetic, or ``""`` when
    nothing is marked synthetic (no marking, or every row marked real)."""
    parts = []
    for table, words in (("institutions", "institutions"), ("funding", "funding events"),
                         ("collaborations", "collaborations")):
        share = synthetic_share(getattr(db, table))
        if share:
            shown = "all" if share == 1 else ("under 1%" if share < 0.01 else f"{share:.0%}")
            parts.append(f"{shown} of the {words}")
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f" In this database {listed} are synthetic: generated to reproduce the paper's ranking, "
            "not real records (see [About the data](about_data.html)).")


def describe_run(result: Any, data_dir: str | Path | None = None) -> Any:
    """One Markdown paragraph: which database, which cut-off, how many records counted, how
    many clusters and quasi-clusters the run found, and how much of each record table is
    synthetic (all values computed)."""
    from quantumclusters import paths

    path = _resolve(data_dir)
    rel = paths.relative_to_root(path)
    bundled = _resolve(None)
    if path == bundled:
        where = "the database bundled with this book"
    elif rel:
        where = f"the database in the folder {esc(rel)}"
    else:
        where = "a database outside the repository"
    db = result.db
    text = (
        f"This chapter ran on {where} at the cut-off **{cutoff_text(result)}**: "
        f"{len(db.institutions):,} institutions, {len(db.funding):,} funding events and "
        f"{len(db.collaborations):,} collaborations count at that date. The engine finds "
        f"**{plural(len(result.clusters), 'cluster')}** and "
        f"**{plural(len(result.quasi_clusters), 'quasi-cluster')}**."
    )
    text += synthetic_sentence(db)
    return md(text)


# --------------------------------------------------------------------------------------
# the paper's tables, recomputed (views of a Result in the published tables' columns)

DIMENSION_TITLES: dict[str, str] = {
    "market_orientation": "Market Orientation",
    "collaboration_intensity": "Collaboration Intensity",
    "ecosystem_maturity": "Ecosystem Maturity",
}


def published_table(name: str) -> pd.DataFrame:
    """A table of ``data/published/`` as :mod:`quantumclusters.report.published` reads it:
    ``"table_a"``, ``"table_1"`` … ``"table_8"``, ``"figure_14"``."""
    from quantumclusters.report import published as _published

    if name == "table_a":
        return _published.table_a()
    if name == "figure_14":
        return _published.figure_14()
    if name.startswith("table_"):
        return _published.table(int(name.split("_", 1)[1]))
    raise KeyError(f"no published table {name!r}")


_REPORTS: dict[int, tuple[Any, Any]] = {}


def fidelity_report(result: Any) -> Any:
    """:func:`quantumclusters.report.fidelity.fidelity_report` of ``result`` (cached per kernel)."""
    from quantumclusters.report import fidelity

    hit = _REPORTS.get(id(result))
    if hit is None or hit[0] is not result:
        hit = (result, fidelity.fidelity_report(result))
        _REPORTS[id(result)] = hit
    return hit[1]


_STATED: dict[int, tuple[Any, Any]] = {}


def _stated_items(result: Any) -> list[Any]:
    """The stated-number items of the fidelity comparison (without the table items)."""
    from quantumclusters.report import fidelity

    if id(result) in _REPORTS and _REPORTS[id(result)][0] is result:
        return [i for i in _REPORTS[id(result)][1].items if i.kind == "stated"]
    hit = _STATED.get(id(result))
    if hit is None or hit[0] is not result:
        hit = (result, fidelity.stated_items(result))
        _STATED[id(result)] = hit
    return hit[1]


STATUS_WORDS = {"reproduced": "reproduced", "by_choice": "reproduced as the documented choice", "miss": "not reproduced"}


def stated_numbers(result: Any, sections: Iterable[str], *, caption: str, csv_name: str) -> Any:
    """The numbers the paper's text states in ``sections`` (as :mod:`quantumclusters.report.fidelity`
    names them: ``"2.1"``, ``"Annex 2"`` …), the paper's value beside the recomputed one,
    disagreements highlighted and the count of agreements on top."""
    from quantumclusters.report import display

    wanted = set(sections)
    items = [i for i in _stated_items(result) if i.section in wanted]
    rows = []
    seen: dict[str, int] = {}
    for i in items:
        seen[i.description] = seen.get(i.description, 0) + 1
        key = i.description if seen[i.description] == 1 else f"{i.description} (number {seen[i.description]} of this passage)"
        rows.append(
            {
                "Statement": key,
                "Value_paper": i.published,
                "Value_recomputed": i.recomputed,
                "Value_agree": bool(i.ok),
                "Accepted range_paper": i.tolerance,
                "Accepted range_recomputed": STATUS_WORDS.get(i.status, i.status),
                "Accepted range_agree": bool(i.ok),
                "_extra": False,
            }
        )
    cols = ["Statement", "Value_paper", "Value_recomputed", "Value_agree", "Accepted range_paper",
            "Accepted range_recomputed", "Accepted range_agree", "_extra"]
    frame = pd.DataFrame(rows, columns=cols)
    agree = sum(1 for i in items if i.ok)
    return display.Comparison(frame, "Statement", ("Value", "Accepted range"), caption, csv_name, agree, len(items))


def ranking_table(result: Any) -> pd.DataFrame:
    """Table A / Table 1 recomputed, in the published columns: overall_label, overall_rank,
    cluster, country (the paper's spelling), region, and each dimension's label and rank;
    in rank order."""
    from quantumclusters.regions import country_name

    r = result.ranking.merge(result.clusters[["cluster", "country", "region"]], on="cluster", how="left")
    r["country"] = [country_name(c) if isinstance(c, str) and len(c) == 2 else c for c in r["country"]]
    cols = ["overall_label", "overall_rank", "cluster", "country", "region"]
    for d in DIMENSION_TITLES:
        cols += [f"{d}_label", f"{d}_rank"]
    r = r.sort_values(["overall_rank", "cluster"], kind="stable", na_position="last")
    return r[cols].reset_index(drop=True)


def top_table(result: Any, dimension: str, n: int = 10) -> pd.DataFrame:
    """Tables 3, 5 and 6: the clusters ranked ``n`` or better on ``dimension`` (more than
    ``n`` rows only when clusters tie at rank ``n``), with position, rank_label, rank,
    cluster, country, region."""
    t = ranking_table(result)
    t = t[t[f"{dimension}_rank"] <= n].sort_values([f"{dimension}_rank", "cluster"], kind="stable")
    out = pd.DataFrame(
        {
            "position": range(1, len(t) + 1),
            "rank_label": t[f"{dimension}_label"].to_numpy(),
            "rank": t[f"{dimension}_rank"].to_numpy(),
            "cluster": t["cluster"].to_numpy(),
            "country": t["country"].to_numpy(),
            "region": t["region"].to_numpy(),
        }
    )
    return out


def top_collaborator_names(result: Any, cluster: str, kind: str, n: int = 3) -> list[str]:
    """Names of a cluster's top ``n`` collaborators of ``kind`` (``industry``/``research``)."""
    from quantumclusters import derived

    return [str(x) for x in derived.top_collaborators(result, cluster, kind, n)["name"]]


def table_2(result: Any) -> pd.DataFrame:
    """Table 2: major clusters (area GDP at least USD 750 billion) in rank order, with their
    top 3 industry and top 3 research collaborators (columns as the published table)."""
    from quantumclusters import derived

    major = derived.major_clusters(result)
    rows = []
    for _, m in major.iterrows():
        ind = top_collaborator_names(result, m["cluster"], "industry", 3)
        res = top_collaborator_names(result, m["cluster"], "research", 3)
        ind += [None] * (3 - len(ind))
        res += [None] * (3 - len(res))
        rows.append({"overall_label": m["overall_label"], "overall_rank": m["overall_rank"], "cluster": m["cluster"],
                     "industry_1": ind[0], "industry_2": ind[1], "industry_3": ind[2],
                     "research_1": res[0], "research_2": res[1], "research_3": res[2]})
    return pd.DataFrame(rows, columns=["overall_label", "overall_rank", "cluster", "industry_1", "industry_2",
                                       "industry_3", "research_1", "research_2", "research_3"])


def table_4(result: Any, n: int = 10) -> pd.DataFrame:
    """Table 4: the top ``n`` clusters by industry collaborations per trillion USD of GDP,
    with their top industry and top research collaborator."""
    ind = result.indicators[["cluster", "industry_collaborations_per_tn_gdp"]].dropna()
    ind = ind.sort_values(["industry_collaborations_per_tn_gdp", "cluster"], ascending=[False, True], kind="stable").head(n)
    rows = []
    for i, (_, r) in enumerate(ind.iterrows(), start=1):
        top_i = top_collaborator_names(result, r["cluster"], "industry", 1)
        top_r = top_collaborator_names(result, r["cluster"], "research", 1)
        rows.append({"position": i, "cluster": r["cluster"],
                     "industry_collaborations_per_tn_gdp": float(r["industry_collaborations_per_tn_gdp"]),
                     "top_industry_collaborator": top_i[0] if top_i else None,
                     "top_research_collaborator": top_r[0] if top_r else None})
    return pd.DataFrame(rows, columns=["position", "cluster", "industry_collaborations_per_tn_gdp",
                                       "top_industry_collaborator", "top_research_collaborator"])


ORIGIN_TYPE_WORDS: dict[str, str] = {"university": "University spinout", "research_institute": "Research spinout"}


def table_7(result: Any, min_funding: float = 5e6) -> pd.DataFrame:
    """Table 7: Tier 1 quasi-clusters with region, the startup whose disclosed funding
    (``vc``, ``equity``, ``debt``) exceeds ``min_funding`` (the best-funded one when several
    do), its institution of origin (``spinout_of``) and the type of that origin."""
    q = result.quasi_clusters
    tier1 = q[q["tier"].astype(int) == 1].sort_values("quasi_cluster", kind="stable")
    a = result.assignments
    inst = result.db.institutions.set_index("institution_id")
    fund = result.db.funding
    disclosed = fund[fund["kind"].isin(DISCLOSED_FUNDING_KINDS)].groupby("institution_id")["amount_usd"].sum()
    rows = []
    for _, row in tier1.iterrows():
        members = a.loc[(a["status"] == "quasi_cluster") & (a["group"] == row["quasi_cluster"]), "institution_id"]
        startups = [m for m in members if inst.at[m, "type"] == "startup" and float(disclosed.get(m, 0.0)) > min_funding]
        startups.sort(key=lambda m: (-float(disclosed.get(m, 0.0)), str(inst.at[m, "name"])))
        name = origin = origin_type = None
        if startups:
            s = startups[0]
            name = str(inst.at[s, "name"])
            parent = inst.at[s, "spinout_of"]
            if isinstance(parent, str) and parent in inst.index:
                origin = str(inst.at[parent, "name"])
                origin_type = ORIGIN_TYPE_WORDS.get(str(inst.at[parent, "type"]), str(inst.at[parent, "type"]))
            else:
                origin = origin_type = "–"
        rows.append({"quasi_cluster": row["quasi_cluster"], "region": row["region"], "startup": name,
                     "origin_institution": origin, "origin_type": origin_type})
    return pd.DataFrame(rows, columns=["quasi_cluster", "region", "startup", "origin_institution", "origin_type"])


def table_8(result: Any) -> pd.DataFrame:
    """Table 8: Tier 2 quasi-clusters with their region, in the paper's region order and by
    name within a region (columns region, position, quasi_cluster)."""
    from quantumclusters.regions import REGIONS

    q = result.quasi_clusters
    tier2 = q[q["tier"].astype(int) == 2].copy()
    order = {r: i for i, r in enumerate(REGIONS)}
    tier2["_o"] = tier2["region"].map(order)
    tier2 = tier2.sort_values(["_o", "quasi_cluster"], kind="stable")
    tier2["position"] = tier2.groupby("region").cumcount() + 1
    return tier2[["region", "position", "quasi_cluster"]].reset_index(drop=True)


def by_region_lists(frame: pd.DataFrame, name_column: str = "quasi_cluster") -> pd.DataFrame:
    """``region`` → comma-separated names (Table 8's layout), the paper's region order."""
    from quantumclusters.regions import REGIONS

    rows = []
    for region in REGIONS:
        names_ = [str(x) for x in frame.loc[frame["region"] == region, name_column]]
        rows.append({"Region": region, "Quasi-clusters": ", ".join(names_) if names_ else "–", "Number": len(names_)})
    return pd.DataFrame(rows)


def compare(
    recomputed: pd.DataFrame,
    published: pd.DataFrame,
    *,
    key: tuple[str, str],
    columns: dict[str, str],
    caption: str,
    csv_name: str,
    tolerance: dict[str, float] | float | None = None,
    formats: dict[str, Any] | None = None,
    links: dict[Any, str] | None = None,
) -> Any:
    """:func:`quantumclusters.report.display.compare` with readable headings.

    ``key`` is ``(column, heading)``; ``columns`` maps a column (present in both frames) to
    its heading; ``tolerance`` and ``formats`` are keyed by column; ``links`` maps a key
    value to a link (e.g. :func:`profile_links`).
    """
    from quantumclusters.report import display

    names = {key[0]: key[1], **columns}
    rec = recomputed[[key[0], *columns]].rename(columns=names)
    pub = published[[key[0], *columns]].rename(columns=names)
    tol = tolerance
    if isinstance(tolerance, dict):
        tol = {names[k]: v for k, v in tolerance.items()}
    fmts = {names[k]: v for k, v in (formats or {}).items()}
    return display.compare(rec, pub, key=key[1], columns=list(columns.values()), caption=caption,
                           csv_name=csv_name, tolerance=tol, formats=fmts, links=links)


def profile_links(result: Any) -> dict[str, str]:
    """``cluster -> link`` to every cluster's profile page, from a chapter page."""
    from quantumclusters.report.profiles import profile_links as _links

    return _links(result)


def quasi_links(result: Any) -> dict[str, str]:
    """``quasi-cluster -> link`` to its entry on the quasi-cluster page, from a chapter page."""
    from quantumclusters.report.profiles import quasi_href

    return {str(q): quasi_href(result, q) for q in result.quasi_clusters["quasi_cluster"]}


def in_view(frame: pd.DataFrame, view: Any) -> pd.DataFrame:
    """Rows of ``frame`` (with ``lat``/``lon``) inside a map window of :mod:`quantumclusters.report.maps`."""
    from quantumclusters.report import maps

    v = maps.VIEWS[view] if isinstance(view, str) else view
    return frame[frame["lon"].between(*v.lon) & frame["lat"].between(*v.lat)]


def research_involving_share(result: Any, clusters: Iterable[str]) -> float:
    """Share of the collaborations of ``clusters`` (at least one partner in one of them,
    each collaboration counted once) with a university or research institute on at least
    one side (the paper's section 4.1 states 96% for the Chinese clusters)."""
    from quantumclusters.indicators import cluster_collaborations

    db = result.db
    touching = cluster_collaborations(db.collaborations, result.assignments, db.institutions)
    rows = sorted(set(touching.loc[touching["cluster"].isin(list(clusters)), "row"]))
    if not rows:
        return float("nan")
    coll = db.collaborations.iloc[rows]
    type_of = db.institutions.set_index("institution_id")["type"]
    hit = type_of.reindex(coll["institution_a"]).isin(RESEARCH_TYPES).to_numpy() | type_of.reindex(
        coll["institution_b"]
    ).isin(RESEARCH_TYPES).to_numpy()
    return float(hit.mean())


# --------------------------------------------------------------------------------------
# beyond the paper


def detection_sensitivity(
    result: Any,
    eps_grid: Iterable[float],
    min_samples_grid: Iterable[int],
    *,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Rerun detection and ranking for every (eps_km, min_samples) pair (the quasi-cluster
    pass keeps its own min_samples) and compare each with ``result`` by
    :func:`quantumclusters.audit.compare_detection`.

    Columns: ``eps_km``, ``min_samples``, ``clusters`` (number found), ``shared`` (clusters
    with the same name in both runs), ``spearman`` (Spearman ρ of the overall ranks on the
    shared clusters; NaN with fewer than three shared or a constant ranking), ``baseline``
    (True for the run's own parameters), then ``merged`` and ``disappeared`` (baseline
    clusters whose members now lie mostly in another cluster, or in none) and
    ``top10_changed``. The Monte Carlo and audit parts of each rerun are skipped
    (``draws=0``): only the ranking is compared. The per-cluster detail (what merged into
    what, the share of members retained) is :func:`detection_detail`.
    """
    return _detection_grid(result, eps_grid, min_samples_grid, data_dir)[0]


def detection_detail(
    result: Any,
    eps_grid: Iterable[float],
    min_samples_grid: Iterable[int],
    *,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Per setting and baseline cluster: ``eps_km``, ``min_samples``, ``cluster``,
    ``status`` (kept / merged / disappeared), ``into``, ``retained_share``."""
    return _detection_grid(result, eps_grid, min_samples_grid, data_dir)[1]


def _detection_grid(
    result: Any, eps_grid: Iterable[float], min_samples_grid: Iterable[int], data_dir: str | Path | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from quantumclusters.audit import compare_detection

    rows, details = [], []
    for eps in eps_grid:
        for k in min_samples_grid:
            params = dataclasses.replace(result.params, eps_km=float(eps), min_samples=int(k))
            if params == result.params:
                other = result
            else:
                other = load(data_dir, pd.Timestamp(result.cutoff).date(), 0, result.seed, params)
            summary, detail = compare_detection(result, other)
            key = {"eps_km": float(eps), "min_samples": int(k)}
            rows.append({**key, "clusters": len(other.clusters), "shared": summary["survived"],
                         "spearman": summary["spearman"], "baseline": params == result.params,
                         "merged": summary["merged"], "disappeared": summary["disappeared"],
                         "top10_changed": summary["top10_changed"]})
            details.append(detail.assign(**key))
    columns = ["eps_km", "min_samples", "clusters", "shared", "spearman", "baseline", "merged", "disappeared",
               "top10_changed"]
    detail = pd.concat(details, ignore_index=True) if details else pd.DataFrame()
    return pd.DataFrame(rows, columns=columns), detail


def vintage_movement(earlier: Any, later: Any) -> tuple[pd.DataFrame, list[str], list[str]]:
    """:func:`quantumclusters.audit.vintage_movement` on two runs: the clusters present at
    both cut-offs re-ranked among themselves at each, and the entrants and exits apart."""
    from quantumclusters.audit import vintage_movement as engine_vintage_movement

    return engine_vintage_movement(earlier.indicator_table(), later.indicator_table())


def rank_movement(earlier: Any, later: Any) -> pd.DataFrame:
    """Overall ranks at two cut-offs: ``cluster``, ``rank_earlier``, ``rank_later``,
    ``movement`` (places gained from the earlier to the later cut-off: positive = up;
    NaN for a cluster present at one cut-off only), sorted by the later rank."""
    a = earlier.ranking.set_index("cluster")["overall_rank"].astype(float)
    b = later.ranking.set_index("cluster")["overall_rank"].astype(float)
    names_ = sorted(set(a.index) | set(b.index), key=str)
    out = pd.DataFrame({"cluster": names_})
    out["rank_earlier"] = [a.get(n, float("nan")) for n in names_]
    out["rank_later"] = [b.get(n, float("nan")) for n in names_]
    out["movement"] = out["rank_earlier"] - out["rank_later"]
    out["_o"] = out["rank_later"].fillna(out["rank_later"].max() + 1 if out["rank_later"].notna().any() else 0)
    out = out.sort_values(["_o", "rank_earlier", "cluster"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)
