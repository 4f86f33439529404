"""How much of the paper an engine run reproduces.

:func:`fidelity_report` sets a :class:`quantumclusters.pipeline.Result` beside what the paper
published (``data/published/``, loaded by :mod:`quantumclusters.report.published`) and returns one
:class:`FidelityItem` per published number:

* **tables** - Table A (every cluster's overall and three dimension labels, ties included,
  its country and region, and the set of 45 names), Tables 3, 5 and 6 (the same ten clusters
  and each printed rank label), Table 2 (the same major clusters, their ranks and their three
  top industry and research collaborators in order), Table 4 (the same ten clusters in the
  same order, the same top industry and research collaborator; its values are stated
  numbers), Tables 7 and 8 (each quasi-cluster found with its tier and region; Table 7's
  startup, institution and type of origin);
* **stated numbers** - every row of ``stated_numbers.csv`` whose ``check`` is ``yes`` or
  ``param``, evaluated from its ``metric`` key and compared with the interval its wording
  implies (``context`` rows are about the world outside the database and are not scored).

An item's ``status`` is ``reproduced``, ``by_choice`` (the paper contradicts itself and the
engine gives the value of the choice documented in ``data/published/inconsistencies.csv``)
or ``miss``. Names are compared after mapping the spellings of ``aliases.csv``.

Command line: ``python -m quantumclusters fidelity [--data DIR] [--cutoff DATE] [--strict]``
prints ``Fidelity: N of M published numbers reproduced`` and the misses; it exits 0 unless
``--strict`` is given and something is missed.
"""

from __future__ import annotations

import argparse
import collections
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import published as pub
from ..regions import EU27, country_name
from ..schema import DISCLOSED_FUNDING_KINDS, INDUSTRY_TYPES, RESEARCH_TYPES

if TYPE_CHECKING:
    from ..pipeline import Result

__all__ = [
    "CATEGORIES",
    "STATUSES",
    "FidelityItem",
    "FidelityReport",
    "MetricError",
    "fidelity_report",
    "item_ids",
    "evaluate_metric",
    "table_items",
    "stated_items",
    "main",
]

#: An item's possible statuses.
STATUSES: tuple[str, ...] = ("reproduced", "by_choice", "miss")

_ENGLISH = frozenset({"GB", "US", "CA", "AU", "IE", "NZ"})
_EUROPE = frozenset(EU27 | {"GB", "CH", "NO", "IS", "LI"})
_NORTH_AMERICA = frozenset({"US", "CA", "MX"})
_CHINA = frozenset({"CN", "HK", "MO"})
_EAST_ASIA = frozenset(_CHINA | {"JP", "KR", "KP", "TW", "MN", "SG"})
_ASIA = frozenset(
    _EAST_ASIA | {"IN", "PK", "BD", "LK", "NP", "MY", "TH", "VN", "ID", "PH", "KH", "LA", "MM", "BN"}
)
_ORIGIN_TYPE = {"university": "University spinout", "research_institute": "Research spinout"}
_NONE = "–"  # Table 7's printed "no institution of origin"
_ABSENT = "(absent)"


class MetricError(Exception):
    """A metric key that cannot be evaluated on this result (unknown head, a cluster that
    was not found, a value that is missing)."""


@dataclass(frozen=True)
class FidelityItem:
    """One published number set beside the recomputed one."""

    id: str
    kind: str  # "table" or "stated"
    section: str
    description: str
    published: Any
    recomputed: Any
    tolerance: str
    status: str
    note: str = ""
    #: for stated numbers: the engine quantity compared (a key of data/published/README.md)
    metric: str = ""
    #: for stated numbers: "yes" (a quantity of the database) or "param" (a method parameter)
    check: str = ""
    #: for table cells: the printed row (a cluster or quasi-cluster name) and the column key
    #: (``overall``, ``region``, ``industry_1`` ...); empty for a check of the whole table
    row: str = ""
    field: str = ""

    @property
    def verdict(self) -> str:
        """The agreement scheme of the book (:data:`VERDICTS`): ``agrees``, ``by_choice``
        (agrees with the reading documented where the paper contradicts itself) or ``differs``."""
        return _STATUS_VERDICT[self.status]

    @property
    def reason(self) -> str:
        """Why the verdict is not a plain "agrees", in words for readers (empty otherwise)."""
        if self.verdict == "agrees":
            return ""
        return self.note or ("The recomputed value is outside what the paper's words allow." if self.verdict == "differs" else "")

    @property
    def ok(self) -> bool:
        """Reproduced, as published or as the documented choice."""
        return self.status != "miss"

    @property
    def category(self) -> str:
        """What kind of evidence the agreement is (:data:`CATEGORIES`): an item agreeing only
        by the documented choice; a method parameter read back from its own default; a
        look-up of an area attribute (a cluster's country or region); an item that repeats
        another table (Tables 3, 5 and 6 are top-10 extracts of Table A's dimension ranks);
        otherwise a number computed from records (ranks, values, shares, counts)."""
        if self.status == "by_choice":
            return "by_choice"
        if self.kind == "stated" and self.check == "param":
            return "parameter"
        last = self.id.rsplit(".", 1)[-1]
        if self.kind == "table" and last in ("country", "region"):
            return "lookup"
        if self.kind == "table" and self.id.split(".", 1)[0] in ("table_3", "table_5", "table_6"):
            return "repeat"
        return "computed"


#: The evidence categories of a fidelity item, in the order the book lists them, in words.
CATEGORIES: dict[str, str] = {
    "computed": "numbers computed from records (ranks, values, shares, counts)",
    "lookup": "look-ups of an area's attributes (a cluster's country and region)",
    "parameter": "method parameters read back from their own settings",
    "repeat": "items that repeat another table (the top-10 tables repeat the ranking)",
    "by_choice": "items that agree with the reading documented where the paper contradicts itself",
}


#: The book's one agreement scheme: every compared value gets one of these verdicts, in
#: these words, in the chapters' tables and in the fidelity chapter alike.
VERDICTS: dict[str, str] = {
    "agrees": "agrees",
    "by_choice": "agrees by documented choice",
    "differs": "differs",
}
_STATUS_VERDICT: dict[str, str] = {"reproduced": "agrees", "by_choice": "by_choice", "miss": "differs"}

#: Which chapter shows which items: a table's cells where the table is shown, a stated
#: number where its section of the paper is retold. Every item belongs to exactly one chapter
#: (:func:`chapter_of`), so the chapters' counts add up to the fidelity chapter's.
CHAPTER_SECTIONS: dict[str, tuple[str, ...]] = {
    "01_clusters": ("Table A", "Table 2", "Executive summary", "1", "2.1", "2.2"),
    "02_market_orientation": ("Table 3", "Table 4", "3", "3.1", "3.2", "3.3", "3.3 (Table 4)", "Box 1"),
    "03_collaboration_intensity": ("Table 5", "4", "4.1", "4.2", "4.3"),
    "04_ecosystem_maturity": ("Table 6", "5", "5.1", "5.2", "5.3", "Box 3"),
    "05_quasi_clusters": ("Table 7", "Tables 7 and 8", "6"),
    "06_annex1_methodology": ("Annex 1",),
    "07_annex2_insights": ("Annex 2",),
    "08_annex3_quasi_clusters": ("Table 8", "Annex 3"),
}
#: The chapters' titles, as a reader finds them in the book.
CHAPTER_TITLES: dict[str, str] = {
    "01_clusters": "Quantum clusters: the ranking (Tables 1 and 2, sections 1\u20132)",
    "02_market_orientation": "Market Orientation (Tables 3 and 4, section 3, Box 1)",
    "03_collaboration_intensity": "Collaboration Intensity (Table 5, section 4)",
    "04_ecosystem_maturity": "Ecosystem Maturity (Table 6, section 5, Box 3)",
    "05_quasi_clusters": "Quasi-clusters (Table 7, Figure 14, section 6)",
    "06_annex1_methodology": "Annex 1: methodology and robustness",
    "07_annex2_insights": "Annex 2: further insights",
    "08_annex3_quasi_clusters": "Annex 3: Tier 2 quasi-clusters (Table 8)",
}
_SECTION_CHAPTER: dict[str, str] = {sec: ch for ch, secs in CHAPTER_SECTIONS.items() for sec in secs}


def chapter_of(item: FidelityItem) -> str:
    """The chapter that shows ``item`` (a key of :data:`CHAPTER_SECTIONS`); raises
    ``KeyError`` for a section no chapter shows (a test keeps that from happening)."""
    return _SECTION_CHAPTER[item.section]


def verdict_counts(items: Sequence[FidelityItem]) -> dict[str, int]:
    """How many of ``items`` have each verdict (every key of :data:`VERDICTS`, in order), plus
    ``total``. The one count the chapters' tables and the fidelity chapter both use."""
    counts = {v: 0 for v in VERDICTS}
    for i in items:
        counts[i.verdict] += 1
    counts["total"] = len(items)
    return counts


def verdict_summary(items: Sequence[FidelityItem]) -> str:
    """``"77 of 78 values agree, 1 agrees by documented choice"``-style words for a set of items
    (:func:`quantumclusters.report.display.counts_words` of :func:`verdict_counts`)."""
    from .display import counts_words

    return counts_words(verdict_counts(items))


@dataclass
class FidelityReport:
    """All items of one comparison, with the score and the misses."""

    items: list[FidelityItem]
    cutoff: str = ""
    not_scored: list[str] = field(default_factory=list)

    @property
    def score(self) -> tuple[int, int]:
        """(number reproduced, number compared); by-choice items count as reproduced."""
        return sum(i.ok for i in self.items), len(self.items)

    @property
    def misses(self) -> list[FidelityItem]:
        """The items not reproduced."""
        return [i for i in self.items if not i.ok]

    @property
    def by_choice(self) -> list[FidelityItem]:
        """The items reproduced as the documented choice where the paper contradicts itself."""
        return [i for i in self.items if i.status == "by_choice"]

    def to_frame(self) -> pd.DataFrame:
        """One row per item: id, kind, section, description, published, recomputed,
        tolerance, status, ok, category, note."""
        cols = ["id", "kind", "section", "description", "published", "recomputed", "tolerance", "status", "ok",
                "category", "verdict", "note"]
        rows = [{**i.__dict__, "ok": i.ok, "category": i.category, "verdict": i.verdict} for i in self.items]
        return pd.DataFrame(rows, columns=cols)

    def by_category(self) -> pd.DataFrame:
        """Per evidence category (:data:`CATEGORIES`, in that order): ``compared`` and
        ``agree`` (items reproduced); the categories add up to the whole report."""
        frame = self.to_frame()
        rows = []
        for key, words in CATEGORIES.items():
            part = frame[frame["category"] == key]
            rows.append({"category": key, "description": words, "compared": len(part), "agree": int(part["ok"].sum())})
        return pd.DataFrame(rows, columns=["category", "description", "compared", "agree"])

    def items_of(self, *, chapter: str | None = None, sections: Sequence[str] | None = None,
                 prefix: str | None = None, kind: str | None = None) -> list[FidelityItem]:
        """The items of one chapter (:func:`chapter_of`), of some sections, whose id starts with
        ``prefix`` (``"table_2."``), or of one kind (``"table"``, ``"stated"``), in order."""
        out = []
        for i in self.items:
            if chapter is not None and chapter_of(i) != chapter:
                continue
            if sections is not None and i.section not in sections:
                continue
            if prefix is not None and not i.id.startswith(prefix):
                continue
            if kind is not None and i.kind != kind:
                continue
            out.append(i)
        return out

    def by_chapter(self) -> pd.DataFrame:
        """Per chapter (the order of :data:`CHAPTER_SECTIONS`): how many items agree, agree by
        documented choice and differ (:func:`verdict_counts`). The rows add up to the whole
        report; each chapter states its own row."""
        rows = [{"chapter": ch, **verdict_counts(self.items_of(chapter=ch))} for ch in CHAPTER_SECTIONS]
        return pd.DataFrame(rows, columns=["chapter", *VERDICTS, "total"])

    def summary(self) -> str:
        """``Fidelity: N of M published numbers reproduced (K as the documented choice ...)``."""
        n_ok, n = self.score
        k = len(self.by_choice)
        text = f"Fidelity: {n_ok} of {n} published numbers reproduced"
        if k:
            text += f" ({k} of them as the documented choice where the paper contradicts itself)"
        for _, row in self.by_category().iterrows():
            text += f"\n  {row['agree']} of {row['compared']} {row['description']}"
        text += ("\n  The bundled database was built to reproduce the paper: agreement shows that the method as "
                 "written can produce the published results, not that the world looks like this.")
        return text

    def __str__(self) -> str:
        lines = [self.summary()]
        misses = self.misses
        if misses:
            lines.append(f"{len(misses)} miss{'es' if len(misses) != 1 else ''}:")
            for i in misses:
                lines.append(
                    f"  {i.id}: {i.description} | published {_show(i.published)}"
                    f" ({i.tolerance}) | recomputed {_show(i.recomputed)}"
                )
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "missing"
        return f"{value:.6g}"
    return str(value)


# ---------------------------------------------------------------------------------------
# the result, indexed by canonical (published) names


class _View:
    """Frames of a Result keyed by the published spelling of each name."""

    def __init__(self, result: Result, published_dir: str | Path | None):
        self.result = result
        self.published_dir = published_dir
        self.alias = pub.alias_map(published_dir)
        self.canon: Callable[[Any], str] = lambda name: self.alias.get(str(name), str(name))
        clusters = result.clusters.copy()
        clusters["name"] = [self.canon(c) for c in clusters["cluster"]]
        self.engine_name = dict(zip(clusters["name"], clusters["cluster"], strict=False))
        self.clusters = clusters.set_index("name")
        ind = result.indicators.copy()
        ind.index = [self.canon(c) for c in ind["cluster"]]
        self.indicators = ind.drop(columns=["cluster"])
        rk = result.ranking.copy()
        rk.index = [self.canon(c) for c in rk["cluster"]]
        self.ranking = rk
        quasi = result.quasi_clusters.copy()
        quasi["name"] = [self.canon(q) for q in quasi["quasi_cluster"]]
        self.quasi = quasi.drop_duplicates("name").set_index("name")
        self.engine_quasi = dict(zip(quasi["name"], quasi["quasi_cluster"], strict=False))
        inst = result.db.institutions.copy()
        inst["canon"] = [self.canon(n) for n in inst["name"]]
        self.institutions = inst
        a = result.assignments
        self.status = dict(zip(a["institution_id"], a["status"], strict=False))
        self.group = dict(zip(a["institution_id"], a["group"], strict=False))
        self._funding_by_inst: pd.Series | None = None

    # -- clusters ------------------------------------------------------------------------
    def cluster(self, name: str) -> str:
        c = self.canon(name)
        if c not in self.clusters.index:
            raise MetricError(f"cluster {name!r} not found")
        return c

    def iso(self, cluster: str) -> str:
        return str(self.clusters.loc[cluster, "country"]).upper()

    def region(self, cluster: str) -> str:
        return str(self.clusters.loc[cluster, "region"])

    def members(self, cluster: str, status: str = "cluster") -> pd.DataFrame:
        engine = self.engine_name.get(cluster, cluster) if status == "cluster" else self.engine_quasi.get(cluster, cluster)
        a = self.result.assignments
        ids = a.loc[(a["status"] == status) & (a["group"] == engine), "institution_id"]
        return self.institutions[self.institutions["institution_id"].isin(ids)]

    def funding_by_institution(self, kinds: Sequence[str] | None = None) -> pd.Series:
        fund = self.result.db.funding
        if kinds is not None:
            fund = fund[fund["kind"].isin(kinds)]
        return fund.groupby("institution_id")["amount_usd"].sum()

    def institution(self, name: str) -> pd.Series:
        c = self.canon(name)
        rows = self.institutions[self.institutions["canon"] == c]
        if rows.empty:
            raise MetricError(f"institution {name!r} not found")
        if len(rows) > 1:
            raise MetricError(f"{len(rows)} institutions are named {name!r}")
        return rows.iloc[0]

    # -- orderings -----------------------------------------------------------------------
    def score(self, key: str) -> pd.Series:
        """Larger is better: an indicator's value (rounded to 12 significant digits, as the
        ranking does), or minus a Table A-type rank (``overall`` or a dimension)."""
        if key in pub.RANK_COLUMNS:
            return -self.ranking[f"{key}_rank"].astype(float)
        if key not in self.indicators.columns:
            raise MetricError(f"unknown indicator or rank {key!r}")
        values = self.indicators[key].astype(float)
        return values.map(_round12).dropna()

    def top_rank(self, key: str, within: Sequence[str] | None = None) -> pd.Series:
        s = self.score(key)
        if within is not None:
            s = s[s.index.isin(list(within))]
        return s.rank(ascending=False, method="min")

    def bottom_rank(self, key: str, within: Sequence[str] | None = None) -> pd.Series:
        s = self.score(key)
        if within is not None:
            s = s[s.index.isin(list(within))]
        return s.rank(ascending=True, method="min")

    # -- selectors -----------------------------------------------------------------------
    def select(self, sel: str) -> list[str]:
        names = list(self.clusters.index)
        if not sel.startswith("@"):
            return [self.cluster(part) for part in sel.split("|")]
        name, _, arg = sel[1:].partition(":")
        iso = {c: self.iso(c) for c in names}
        if name == "all":
            return names
        if name == "region":
            return [c for c in names if self.region(c) == arg]
        if name == "country":
            code = pub.PAPER_COUNTRY_ISO2.get(arg)
            return [c for c in names if (iso[c] == code if code else country_name(iso[c]) == arg)]
        sets = {
            "english": _ENGLISH,
            "europe": _EUROPE,
            "north_america": _NORTH_AMERICA,
            "asia": _ASIA,
            "east_asia": _EAST_ASIA,
            "east_asia_non_china": _EAST_ASIA - _CHINA,
        }
        if name in sets:
            return [c for c in names if iso[c] in sets[name]]
        if name == "outside_us_europe_china":
            return [c for c in names if iso[c] != "US" and iso[c] not in _EUROPE and iso[c] not in _CHINA]
        if name == "major":
            from ..derived import MAJOR_CLUSTER_MIN_GDP

            gdp = self.clusters["gdp_usd"].astype(float)
            return [c for c in names if gdp.get(c, np.nan) >= MAJOR_CLUSTER_MIN_GDP]
        m = re.fullmatch(r"(top|after)(\d+)", name)
        if m:
            rank = self.top_rank(arg)
            inside = set(rank[rank <= int(m.group(2))].index)
            return [c for c in names if (c in inside) == (m.group(1) == "top")]
        raise MetricError(f"unknown selector {sel!r}")


def _round12(x: float) -> float:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return math.nan
    return float(f"{x:.12g}")


# ---------------------------------------------------------------------------------------
# metrics

_METRIC_RE = re.compile(r"^(?P<head>[a-z_0-9]+)(?P<args>(?:\[[^\]]*\])*)(?: contains (?P<member>.+))?$")


def _parse(metric: str) -> tuple[str, list[str], str | None]:
    m = _METRIC_RE.match(metric.strip())
    if not m:
        raise MetricError(f"cannot parse metric {metric!r}")
    return m.group("head"), re.findall(r"\[([^\]]*)\]", m.group("args")), m.group("member")


def _kv(arg: str) -> tuple[str, str]:
    key, _, value = arg.partition("=")
    return key.strip(), value.strip()


def evaluate_metric(result: Result, metric: str, published_dir: str | Path | None = None) -> float:
    """The value of one ``metric`` key of stated_numbers.csv on ``result`` (grammar in
    data/published/README.md). Raises :class:`MetricError` when it cannot be computed."""
    return _evaluate(_View(result, published_dir), metric)


def _evaluate(v: _View, metric: str) -> float:
    """:func:`_evaluate_metric`, with the two expected gaps of a small database reported as
    a :class:`MetricError`: a row the run does not have (``KeyError``: a dimension with no
    robustness figures, a region with no funding) and a share of an empty total
    (``ZeroDivisionError``). Anything else is a bug and surfaces."""
    try:
        return _evaluate_metric(v, metric)
    except KeyError as error:
        raise MetricError(f"{metric}: this run has no {error}") from None
    except ZeroDivisionError:
        raise MetricError(f"{metric}: the total it is a share of is zero") from None


#: A metric's handler: (view, head, bracketed arguments, ``contains`` member) -> value.
_Handler = Callable[[_View, str, list[str], "str | None"], float]
#: Metrics by head (their grammar: data/published/README.md).
_METRICS: dict[str, _Handler] = {}


def _metric(*heads: str) -> Callable[[_Handler], _Handler]:
    """Register a handler for the metric heads ``heads``."""

    def register(handler: _Handler) -> _Handler:
        for head in heads:
            _METRICS[head] = handler
        return handler

    return register


@_metric("n_clusters")
def _metric_n_clusters(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    return float(len(r.clusters))


@_metric("n_quasi_clusters")
def _metric_n_quasi_clusters(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    q = r.quasi_clusters
    for arg in args:
        k, val = _kv(arg)
        if k == "tier":
            q = q[q["tier"].astype(int) == int(val)]
        elif k == "region":
            q = q[q["region"] == val]
        else:
            raise MetricError(f"unknown filter {arg!r}")
    return float(len(q))


@_metric("n_dimensions")
def _metric_n_dimensions(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    return float(sum(f"{d}_rank" in r.ranking.columns for d in pub.DIMENSIONS))


@_metric("n_indicators")
def _metric_n_indicators(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    return float(len([c for c in r.indicators.columns if c != "cluster"]))


@_metric("param")
def _metric_param(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    (name,) = args
    if name == "major_min_gdp_usd":
        from ..derived import MAJOR_CLUSTER_MIN_GDP

        return float(MAJOR_CLUSTER_MIN_GDP)
    for holder in (r.params, r):
        if hasattr(holder, name):
            return float(getattr(holder, name))
    raise MetricError(f"unknown parameter {name!r}")


@_metric("indicator")
def _metric_indicator(v: _View, head: str, args: list[str], member: str | None) -> float:
    key, c = args[0], v.cluster(args[1])
    if key not in v.indicators.columns:
        raise MetricError(f"unknown indicator {key!r}")
    return float(v.indicators.loc[c, key])


@_metric("indicator_rank")
def _metric_indicator_rank(v: _View, head: str, args: list[str], member: str | None) -> float:
    key, c = args[0], v.cluster(args[1])
    ranks = v.top_rank(key)
    if c not in ranks.index:
        raise MetricError(f"{c} has no {key}")
    return float(ranks[c])


@_metric("rank_within")
def _metric_rank_within(v: _View, head: str, args: list[str], member: str | None) -> float:
    key, within, c = args[0], v.select(args[1]), v.cluster(args[2])
    ranks = v.top_rank(key, within)
    if c not in ranks.index:
        raise MetricError(f"{c} is not in {args[1]}")
    return float(ranks[c])


@_metric("count")
def _metric_count(v: _View, head: str, args: list[str], member: str | None) -> float:
    return float(len(v.select(args[0])))


@_metric("cluster_share", "ratio", "sum")
def _metric_cluster_share(v: _View, head: str, args: list[str], member: str | None) -> float:
    key = args[0]
    values = v.indicators[key].astype(float)

    def total(sel: str) -> float:
        return float(values.reindex(v.select(sel)).sum())

    if head == "sum":
        return total(args[1])
    if head == "cluster_share":
        return 100.0 * total(args[1]) / float(values.sum())
    denominator = total(args[2])
    if denominator == 0:
        raise MetricError("division by zero")
    return total(args[1]) / denominator


@_metric("margin")
def _metric_margin(v: _View, head: str, args: list[str], member: str | None) -> float:
    key, c = args[0], v.cluster(args[1])
    values = v.indicators[key].astype(float).dropna()
    others = values.drop(c, errors="ignore")
    if others.empty or others.max() == 0:
        raise MetricError("no runner-up")
    return float(values[c] / others.max())


@_metric("cluster_field")
def _metric_cluster_field(v: _View, head: str, args: list[str], member: str | None) -> float:
    col, c = args[0], v.cluster(args[1])
    return float(v.clusters.loc[c, col])


@_metric("cluster_spinouts")
def _metric_cluster_spinouts(v: _View, head: str, args: list[str], member: str | None) -> float:
    mem = v.members(v.cluster(args[0]))
    return float(((mem["type"] == "startup") & _has(mem["spinout_of"])).sum())


@_metric("pearson", "pearson_p")
def _metric_pearson(v: _View, head: str, args: list[str], member: str | None) -> float:
    from scipy.stats import pearsonr

    frame = v.indicators[[args[0], args[1]]].astype(float).dropna()
    if len(frame) < 3 or frame[args[0]].nunique() < 2 or frame[args[1]].nunique() < 2:
        raise MetricError(f"a correlation needs three clusters with varying values, not {len(frame)}")
    res = pearsonr(frame[args[0]], frame[args[1]])
    return float(res[0] if head == "pearson" else res[1])


@_metric("robustness")
def _metric_robustness(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    dim, col = args
    rob = r.robustness.set_index("dimension")
    return float(rob.loc[dim, col])


@_metric("robustness_is_lowest")
def _metric_robustness_is_lowest(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    dim, what = args
    rob = r.robustness.set_index("dimension").loc[list(pub.DIMENSIONS)]
    if what == "min_spearman":
        values = rob[["spearman_z_borda", "spearman_pca_borda", "spearman_z_pca"]].min(axis=1)
    else:
        values = rob[what].astype(float)
    return float(values[dim] < values.drop(dim).min())


@_metric("funding_share_in_clusters", "funding_share_outside_clusters")
def _metric_funding_share_in_clusters(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    from .. import derived

    k, val = _kv(args[0])
    if k == "year":
        table = derived.funding_by_year(r)
        share = table.loc[int(val), "share_in_clusters"] if int(val) in table.index else math.nan
    elif k == "upto":
        table = derived.funding_by_year(r, cumulative=True)
        table = table[table.index <= int(val)]
        share = table["share_in_clusters"].iloc[-1] if len(table) else math.nan
    elif k == "region":
        table = derived.funding_by_region(r)
        share = table.loc[val, "share_in_clusters"] if val in table.index else math.nan
    else:
        raise MetricError(f"unknown filter {args[0]!r}")
    share = 100.0 * float(share)
    return share if head == "funding_share_in_clusters" else 100.0 - share


@_metric("institution_share_in_clusters", "startup_funding_share_in_clusters")
def _metric_institution_share_in_clusters(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    from .. import derived

    table = derived.type_shares_in_clusters(r)
    row = "startup funding" if head == "startup_funding_share_in_clusters" else _kv(args[0])[1]
    if row not in table.index:
        raise MetricError(f"no {row} in the database")
    return 100.0 * float(table.loc[row, "share_in_clusters"])


@_metric("collab_involvement_share", "collab_involvement_count")
def _metric_collab_involvement_share(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    from .. import derived

    table = derived.involvement_counts(r)
    which = ["both", "one"] if args[0] == "any" else [args[0]]
    if head == "collab_involvement_count":
        return float(table.loc[which, "collaborations"].sum())
    return 100.0 * float(table.loc[which, "share"].sum())


@_metric("research_involving_share")
def _metric_research_involving_share(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    chosen = {v.engine_name.get(c, c) for c in v.select(args[0])}
    a = r.assignments
    ids = set(a.loc[(a["status"] == "cluster") & a["group"].isin(chosen), "institution_id"])
    coll = r.db.collaborations
    mask = coll["institution_a"].isin(ids) | coll["institution_b"].isin(ids)
    types = dict(zip(r.db.institutions["institution_id"], r.db.institutions["type"], strict=False))
    sub = coll[mask]
    if sub.empty:
        raise MetricError("no collaborations")
    research = sub["institution_a"].map(types).isin(RESEARCH_TYPES) | sub["institution_b"].map(types).isin(RESEARCH_TYPES)
    return 100.0 * float(research.mean())


@_metric("ecosystem_value_missing", "n_ecosystem_value_missing", "area_rank")
def _metric_ecosystem_value_missing(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    areas = r.db.areas.set_index("area_id")
    col = "ecosystem_value_usd" if head != "area_rank" else args[0]
    per_cluster = v.clusters["area_id"].map(areas[col]).astype(float) if col in areas.columns else None
    if per_cluster is None:
        per_cluster = pd.Series(np.nan, index=v.clusters.index)
    if head == "n_ecosystem_value_missing":
        return float(per_cluster.isna().sum())
    c = v.cluster(args[-1])
    if head == "ecosystem_value_missing":
        return float(pd.isna(per_cluster[c]))
    ranks = per_cluster.dropna().rank(ascending=False, method="min")
    if c not in ranks.index:
        raise MetricError(f"{c} has no {col}")
    return float(ranks[c])


@_metric("n_countries")
def _metric_n_countries(v: _View, head: str, args: list[str], member: str | None) -> float:
    return float(len({v.iso(c) for c in v.select(args[0])}))


@_metric("quasi_startups")
def _metric_quasi_startups(v: _View, head: str, args: list[str], member: str | None) -> float:
    name = v.canon(args[0])
    if name not in v.quasi.index:
        raise MetricError(f"quasi-cluster {args[0]!r} not found")
    return float((v.members(name, "quasi_cluster")["type"] == "startup").sum())


@_metric("n_tier1_with_spinout")
def _metric_n_tier1_with_spinout(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    disclosed = v.funding_by_institution(DISCLOSED_FUNDING_KINDS)
    n = 0
    for name, row in v.quasi.iterrows():
        if int(row["tier"]) != 1:
            continue
        mem = v.members(str(name), "quasi_cluster")
        funded = mem[(mem["type"] == "startup")]
        funded = funded[funded["institution_id"].map(disclosed).fillna(0) > r.params.tier1_exceeding_usd]
        n += bool(_has(funded["spinout_of"]).any())
    return float(n)


@_metric("startup_funding_rank")
def _metric_startup_funding_rank(v: _View, head: str, args: list[str], member: str | None) -> float:
    inst = v.institution(args[0])
    startups = v.institutions[v.institutions["type"] == "startup"]["institution_id"]
    totals = v.funding_by_institution().reindex(startups).fillna(0.0)
    ranks = totals.rank(ascending=False, method="min")
    if inst["institution_id"] not in ranks.index:
        raise MetricError(f"{args[0]} is not a startup")
    return float(ranks[inst["institution_id"]])


@_metric("institution_funding", "max_funding_event")
def _metric_institution_funding(v: _View, head: str, args: list[str], member: str | None) -> float:
    r = v.result
    inst = v.institution(args[0])
    fund = r.db.funding[r.db.funding["institution_id"] == inst["institution_id"]]
    kinds = args[-1].split(",")
    fund = fund[fund["kind"].isin(kinds)]
    if head == "institution_funding":
        return float(fund["amount_usd"].sum())
    lo, _, hi = args[1].partition("-")
    years = fund["date"].dt.year
    fund = fund[(years >= int(lo)) & (years <= int(hi or lo))]
    return float(fund["amount_usd"].max()) if len(fund) else 0.0


def _metric_top_bottom_member(v: _View, m: re.Match[str], args: list[str], member: str | None) -> float:
    assert member is not None  # the dispatch passes only metrics with ``contains``
    (key,) = args
    ranks = v.top_rank(key) if m.group(1) == "top" else v.bottom_rank(key)
    c = v.cluster(member)
    return float(c in ranks.index and ranks[c] <= int(m.group(2)))


def _metric_count_top_bottom(v: _View, m: re.Match[str], args: list[str], member: str | None) -> float:
    key, sel = args[0], args[1]
    within = v.select(args[2]) if len(args) > 2 else None
    ranks = v.top_rank(key, within) if m.group(1) == "top" else v.bottom_rank(key, within)
    chosen = set(ranks[ranks <= int(m.group(2))].index)
    return float(len(chosen & set(v.select(sel))))


def _metric_count_top_industry_plurality(v: _View, m: re.Match[str], args: list[str], member: str | None) -> float:
    (key,) = args
    ranks = v.top_rank(key)
    n = 0
    for c in ranks[ranks <= int(m.group(1))].index:
        types = v.members(c)["type"]
        industry = int(types.isin(INDUSTRY_TYPES).sum())
        research = int(types.isin(RESEARCH_TYPES).sum())
        government = int((types == "government").sum())
        n += industry > research and industry > government
    return float(n)


#: Metrics whose head is a pattern (``top10``, ``count_bottom5``, ...), tried in order.
_PATTERN_METRICS: tuple[tuple[re.Pattern[str], bool, Callable[[_View, re.Match[str], list[str], str | None], float]], ...] = (
    (re.compile(r"(top|bottom)(\d+)"), True, _metric_top_bottom_member),
    (re.compile(r"count_(top|bottom)(\d+)"), False, _metric_count_top_bottom),
    (re.compile(r"count_top(\d+)_industry_plurality"), False, _metric_count_top_industry_plurality),
)


def _evaluate_metric(v: _View, metric: str) -> float:
    """The value of ``metric`` on the view: its pattern or head's handler."""
    head, args, member = _parse(metric)
    for pattern, needs_member, handler in _PATTERN_METRICS:
        m = pattern.fullmatch(head)
        if m and (member is not None or not needs_member):
            return handler(v, m, args, member)
    if head not in _METRICS:
        raise MetricError(f"unknown metric {metric!r}")
    return _METRICS[head](v, head, args, member)


def _has(values: pd.Series) -> pd.Series:
    """Non-empty text (a ``spinout_of`` that names a parent)."""
    return values.notna() & (values.astype(str).str.strip() != "") & (values.astype(str) != "nan")


# ---------------------------------------------------------------------------------------
# stated numbers



#: Plain words for the keys that appear inside a stated number's metric (what the reader
#: sees beside a quote that states several numbers).
_KEY_WORDS: dict[str, str] = {
    "overall": "overall",
    "market_orientation": "Market Orientation",
    "collaboration_intensity": "Collaboration Intensity",
    "ecosystem_maturity": "Ecosystem Maturity",
    "total_funding_usd": "total funding",
    "startup_funding_to_gdp": "startup funding relative to GDP",
    "industry_collaborations_per_tn_gdp": "industry collaborations relative to GDP",
    "collaborations": "collaborations",
    "external_share": "share of collaborations outside the cluster",
    "brokerage": "bridging role",
    "institutions_per_million": "institutions per million people",
    "spinouts_per_research_institution": "spinouts per research institution",
    "startups_per_institution": "startups per institution",
    "institutions": "institutions",
    "startups": "startups",
    "research_institutions": "research institutions",
    "ecosystem_value_usd": "startup ecosystem value",
    "cluster_min_combined_usd": "combined funding threshold",
    "cluster_min_funded_startups": "number of funded startups",
    "cluster_min_single_usd": "single-startup funding threshold",
    "eps_km": "search radius",
    "min_samples": "minimum institutions in a group",
    "min_institutions": "minimum institutions",
    "merge_km": "merge distance",
    "merge_min_links": "minimum links to merge",
    "merge_min_share": "minimum share of links to merge",
    "quasi_min_collaborations": "quasi-cluster minimum collaborations",
    "quasi_min_institutions": "quasi-cluster minimum institutions",
    "major_min_gdp_usd": "GDP threshold of major clusters",
    "draws": "number of draws",
    "any": "any partner",
    "both": "both partners",
    "one": "one partner",
    "@english": "the US, the UK, Canada and Australia",
    "@asia": "Asia",
    "@east_asia": "East Asia",
    "@east_asia_non_china": "East Asia outside China",
    "@europe": "Europe",
    "@north_america": "North America",
    "@major": "major clusters",
    "@outside_us_europe_china": "outside the US, Europe and China",
}


def metric_words(metric: str) -> str:
    """What a stated number's metric is about, in plain words (the clusters, countries,
    regions and indicators it names), for telling apart the numbers of one quote:
    ``count_top15[overall][@country:Israel]`` → ``overall, Israel``."""
    try:
        head, args, member = _parse(metric)
    except MetricError:
        return ""
    words: list[str] = []
    for arg in args:
        for part in arg.split(","):
            part = part.strip()
            if not part:
                continue
            key, _, value = part.partition(":")
            if key in ("@country", "@region"):
                words.append(value)
            elif key in ("@top10", "@after10"):
                words.append(("top 10 on " if key == "@top10" else "after the top 10 on ") + _KEY_WORDS.get(value, value))
            elif part in _KEY_WORDS:
                words.append(_KEY_WORDS[part])
            elif re.fullmatch(r"[a-z_0-9=.]+", part):
                continue  # an internal key without plain words: left out
            else:
                words.append(part)  # a cluster, an institution or a year
    if member:
        words.append(member)
    if not words:
        words.append(head.replace("_", " "))
    return ", ".join(dict.fromkeys(words))


#: Why a stated number agrees only by the documented choice, in words for readers, by the
#: id of the paper's inconsistency (data/published/inconsistencies.csv).
CHOICE_REASONS: dict[str, str] = {
    "east_asia_ten_hubs": "The paper says \u201cten hubs in East Asia\u201d, but its own Table A lists nine "
                          "(six Chinese, plus Tokyo, Singapore and Seoul); the run follows Table A.",
    "cambridge_almost_twice_oxford": "The paper says \u201calmost twice\u201d, but its own Table 4 gives 1,821 "
                                     "and 1,334, a ratio of 1.37; the run follows Table 4.",
    "china_quasi_15_counts_wuhu_twice": "The paper's 15 counts Wuhu twice (it is listed in both tiers); "
                                        "counted once, China has 14 quasi-clusters.",
    "swiss_quasi_under_eu": "The paper prints Basel, Zurich and St. Gallen under EU; the method's regions put "
                            "Switzerland in the Rest of the World, as the paper's own Table A does for Geneva\u2013Bern.",
    "rest_of_world_30_vs_31": "The paper's Table 8 prints 31 Rest of the World names, not 30, and the three Swiss "
                              "places belong there too under the method's regions: 34.",
}


def stated_items(result: Result, published_dir: str | Path | None = None, view: _View | None = None) -> list[FidelityItem]:
    """One item per stated number whose ``check`` is ``yes`` or ``param``."""
    v = view or _View(result, published_dir)
    items = []
    records = [s for s in pub.stated_number_records(published_dir) if s.check != "context"]
    shared = collections.Counter(s.quote for s in records)  # quotes stating several numbers
    for s in records:
        if s.check == "context":
            continue
        try:
            value = _evaluate(v, s.metric)
            note = ""
        except MetricError as error:  # an expected gap (a cluster not found, a missing value)
            value, note = math.nan, f"not computable: {error}"
        if s.contains(value):
            status = "reproduced"
        elif s.project_contains(value):
            status = "by_choice"
        else:
            status = "miss"
        if status == "by_choice" and not note:
            note = CHOICE_REASONS.get(s.inconsistency, "The paper contradicts itself here; the run follows the "
                                      "reading documented in the list of the paper's inconsistencies.")
        tol = s.interval
        if not math.isnan(s.project_low):
            tol += f"; documented choice [{s.project_low:.6g}, {s.project_high:.6g}]"
        row, fld = _stated_cell(v, s.metric)
        items.append(
            FidelityItem(
                id=s.id,
                kind="stated",
                section=s.section,
                description=f"{s.quote} ({metric_words(s.metric)})" if shared[s.quote] > 1 else s.quote,
                published=s.value,
                recomputed=value,
                tolerance=tol,
                status=status,
                note=note,
                metric=s.metric,
                check=s.check,
                row=row,
                field=fld,
            )
        )
    return items


def _stated_cell(v: _View, metric: str) -> tuple[str, str]:
    """Where a stated number also appears in a printed table, its (row, field): a cluster's
    indicator value (Table 4's values) or a region's count of quasi-clusters (Figure 14)."""
    try:
        head, args, _member = _parse(metric)
    except MetricError:
        return "", ""
    if head == "indicator" and len(args) == 2:
        return v.canon(args[1]), args[0]
    if head == "n_quasi_clusters" and len(args) == 1 and args[0].startswith("region="):
        return _kv(args[0])[1], "count"
    return "", ""


# ---------------------------------------------------------------------------------------
# tables


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "x"


class _Tables:
    def __init__(self, v: _View, published_dir: str | Path | None):
        self.v = v
        self.dir = published_dir
        self.items: list[FidelityItem] = []

    def add(self, id: str, section: str, description: str, published: Any, recomputed: Any,
            ok: bool, choice: bool = False, tolerance: str = "exact", note: str = "",
            row: str = "", field: str = "") -> None:  # fmt: skip
        status = "reproduced" if ok else ("by_choice" if choice else "miss")
        if status != "by_choice":
            note = ""  # the note explains a documented choice; a plain miss gets the generic reason
        self.items.append(FidelityItem(id, "table", section, description, published, recomputed, tolerance, status,
                                       note, row=row, field=field))

    def same(self, a: Any, b: Any) -> bool:
        return self.v.canon(str(a).strip()) == self.v.canon(str(b).strip())

    # Table A --------------------------------------------------------------------------
    def table_a(self) -> None:
        ta = pub.table_a(self.dir)
        v = self.v
        published_names = set(ta["cluster"])
        extra = sorted(set(v.clusters.index) - published_names)
        missing = sorted(published_names - set(v.clusters.index))
        self.add("table_a.clusters", "Table A", "the same 45 clusters (no missing, no extra)",
                 f"{len(published_names)} clusters", f"{len(v.clusters)} clusters"
                 + (f"; missing {missing}" if missing else "") + (f"; extra {extra}" if extra else ""),
                 not extra and not missing)  # fmt: skip
        for _, row in ta.iterrows():
            c = row["cluster"]
            slug = _slug(c)
            found = c in v.ranking.index
            for dim in pub.RANK_COLUMNS:
                got = str(v.ranking.loc[c, f"{dim}_label"]) if found else _ABSENT
                self.add(f"table_a.{slug}.{dim}", "Table A", f"{c}: {dim.replace('_', ' ')} rank",
                         row[f"{dim}_label"], got, got == row[f"{dim}_label"], row=c, field=dim)  # fmt: skip
            country = country_name(v.iso(c)) if c in v.clusters.index else _ABSENT
            self.add(f"table_a.{slug}.country", "Table A", f"{c}: country", row["country"], country,
                     country == row["country"], row=c, field="country")  # fmt: skip
            region = v.region(c) if c in v.clusters.index else _ABSENT
            self.add(f"table_a.{slug}.region", "Table A", f"{c}: region", row["region"], region, region == row["region"],
                     row=c, field="region")

    # Tables 3, 5, 6 -------------------------------------------------------------------
    def top_tables(self) -> None:
        ta = pub.table_a(self.dir).set_index("cluster")
        v = self.v
        for n, dim in ((3, "market_orientation"), (5, "collaboration_intensity"), (6, "ecosystem_maturity")):
            t = pub.table(n, self.dir)
            section = f"Table {n}"
            ranks = v.ranking[f"{dim}_rank"]
            top = set(ranks[ranks <= 10].index)
            self.add(f"table_{n}.clusters", section, f"the same ten clusters in the top 10 on {dim.replace('_', ' ')}",
                     ", ".join(sorted(t["cluster"])), ", ".join(sorted(top)), top == set(t["cluster"]))  # fmt: skip
            for _, row in t.iterrows():
                c = row["cluster"]
                got = str(v.ranking.loc[c, f"{dim}_label"]) if c in v.ranking.index else _ABSENT
                table_a_label = ta.loc[c, f"{dim}_label"] if c in ta.index else None
                differs = table_a_label is not None and table_a_label != row["rank_label"]
                self.add(f"table_{n}.{_slug(c)}", section, f"{c}: {dim.replace('_', ' ')} rank label",
                         row["rank_label"], got, got == row["rank_label"],
                         choice=differs and got == table_a_label,
                         note=f"A tie: the paper's own Table A ranks {c} {table_a_label}, sharing the place; "
                         f"Table {n} breaks the tie and prints {row['rank_label']}. The run follows Table A."
                         if differs else "", row=c, field="rank_label")  # fmt: skip

    # Table 2 --------------------------------------------------------------------------
    def table_2(self) -> None:
        from .. import derived

        v = self.v
        t = pub.table(2, self.dir)
        major = derived.major_clusters(v.result)
        major_names = [v.canon(c) for c in major["cluster"]]
        self.add("table_2.clusters", "Table 2", "the same major clusters (area GDP at least USD 750 billion)",
                 ", ".join(t["cluster"]), ", ".join(major_names), set(major_names) == set(t["cluster"]))  # fmt: skip
        for _, row in t.iterrows():
            c = row["cluster"]
            slug = _slug(c)
            got = str(v.ranking.loc[c, "overall_label"]) if c in v.ranking.index else _ABSENT
            self.add(f"table_2.{slug}.rank", "Table 2", f"{c}: overall rank", row["overall_label"], got,
                     got == row["overall_label"], row=c, field="overall_label")  # fmt: skip
            for kind in ("industry", "research"):
                # an absent cluster has no members, so no collaborators (an empty list)
                names = list(derived.top_collaborators(v.result, v.engine_name.get(c, c), kind, n=3)["name"])
                for k in (1, 2, 3):
                    want = row[f"{kind}_{k}"]
                    have = names[k - 1] if len(names) >= k else _ABSENT
                    self.add(f"table_2.{slug}.{kind}_{k}", "Table 2", f"{c}: top {kind} collaborator no. {k}",
                             want, have, self.same(want, have), row=c, field=f"{kind}_{k}")  # fmt: skip

    # Table 4 --------------------------------------------------------------------------
    def table_4(self) -> None:
        from .. import derived

        v = self.v
        t = pub.table(4, self.dir)
        key = "industry_collaborations_per_tn_gdp"
        values = v.indicators[key].astype(float).dropna()
        order = sorted(values.index, key=lambda c: (-_round12(values[c]), c))
        for _, row in t.iterrows():
            pos = int(row["position"])
            have = order[pos - 1] if len(order) >= pos else _ABSENT
            self.add(f"table_4.position_{pos}", "Table 4", f"cluster no. {pos} by industry collaborations per USD tn GDP",
                     row["cluster"], have, have == row["cluster"], row=row["cluster"], field="position")  # fmt: skip
            c = row["cluster"]
            for kind, col in (("industry", "top_industry_collaborator"), ("research", "top_research_collaborator")):
                names = list(derived.top_collaborators(v.result, v.engine_name.get(c, c), kind, n=1)["name"])
                got = names[0] if names else _ABSENT
                self.add(f"table_4.{_slug(c)}.{kind}", "Table 4", f"{c}: top {kind} collaborator", row[col], got,
                         self.same(row[col], got), row=c, field=col)  # fmt: skip

    # Tables 7 and 8 -------------------------------------------------------------------
    def quasi_tables(self) -> None:
        v = self.v
        t7 = pub.table(7, self.dir)
        t8 = pub.table(8, self.dir)
        inst_by_id = v.institutions.set_index("institution_id")
        for _, row in t7.iterrows():
            q = row["quasi_cluster"]
            slug = _slug(q)
            found = q in v.quasi.index
            tier = str(int(v.quasi.loc[q, "tier"])) if found else _ABSENT
            self.add(f"table_7.{slug}.tier", "Table 7", f"{q}: a Tier 1 quasi-cluster", "1", tier, tier == "1", row=q,
                     field="tier")
            region = str(v.quasi.loc[q, "region"]) if found else _ABSENT
            self.add(f"table_7.{slug}.region", "Table 7", f"{q}: region", row["region"], region, region == row["region"],
                     row=q, field="region")
            members = v.members(q, "quasi_cluster") if found else v.institutions.iloc[0:0]
            startup_in = bool((members["canon"] == v.canon(row["startup"])).any())
            self.add(f"table_7.{slug}.startup", "Table 7", f"{q}: hosts the startup {row['startup']}", row["startup"],
                     row["startup"] if startup_in else f"not a member of {q}", startup_in, row=q, field="startup")  # fmt: skip
            try:
                startup = v.institution(row["startup"])
                parent_id = startup["spinout_of"]
                has_parent = bool(_has(pd.Series([parent_id])).iloc[0])
                parent = inst_by_id.loc[parent_id] if has_parent and parent_id in inst_by_id.index else None
                origin = str(parent["name"]) if parent is not None else _NONE
                origin_type = _ORIGIN_TYPE.get(str(parent["type"]), str(parent["type"])) if parent is not None else _NONE
            except MetricError:
                origin = origin_type = _ABSENT
            self.add(f"table_7.{slug}.origin", "Table 7", f"{q}: institution of origin of {row['startup']}",
                     row["origin_institution"], origin, self.same(row["origin_institution"], origin), row=q,
                     field="origin_institution")  # fmt: skip
            wuhan = row["origin_type"] == "University spinout" and origin_type == "Research spinout" and q == "Wuhan"
            self.add(f"table_7.{slug}.origin_type", "Table 7", f"{q}: type of origin", row["origin_type"], origin_type,
                     origin_type == row["origin_type"], choice=wuhan,
                     note="The paper calls CAS Cold Atom a university spinout, but its parent, the Chinese Academy "
                     "of Sciences, is a research institute: a research spinout." if q == "Wuhan" else "",
                     row=q, field="origin_type")  # fmt: skip
        tier1 = set(t7["quasi_cluster"])
        for _, row in t8.iterrows():
            q = row["quasi_cluster"]
            slug = _slug(q)
            found = q in v.quasi.index
            tier = str(int(v.quasi.loc[q, "tier"])) if found else _ABSENT
            also1 = bool(row["also_tier1"]) or q in tier1
            self.add(f"table_8.{slug}.tier", "Table 8", f"{q}: a Tier 2 quasi-cluster", "2", tier, tier == "2",
                     choice=also1 and tier == "1",
                     note=f"{q} is listed in both tiers: in Table 7 as Tier 1 and here. Tiers exclude each other, "
                     "so it is counted once, as Tier 1." if also1 else "", row=q, field="tier")  # fmt: skip
            region = str(v.quasi.loc[q, "region"]) if found else _ABSENT
            contract = row["contract_region"]
            self.add(f"table_8.{slug}.region", "Table 8", f"{q}: region", row["region"], region, region == row["region"],
                     choice=contract != row["region"] and region == contract,
                     note=f"The paper prints {row['region']}; the method's regions put {country_name(row['country_iso2'])} "
                     f"in {'the ' if contract == 'Rest of the World' else ''}{contract}, as the paper's own Table A does for "
                     "Geneva\u2013Bern."
                     if contract != row["region"] else "", row=q, field="region")  # fmt: skip
        listed = tier1 | set(t8["quasi_cluster"])
        extra = sorted(set(v.quasi.index) - listed)
        self.add("table_7_8.no_extra", "Tables 7 and 8", "no quasi-cluster beyond those of Tables 7 and 8",
                 f"{len(listed)} distinct names", "none" if not extra else f"{len(extra)} extra: {extra[:10]}", not extra)  # fmt: skip


def table_items(result: Result, published_dir: str | Path | None = None, view: _View | None = None) -> list[FidelityItem]:
    """One item per published table cell compared (see the module docstring)."""
    t = _Tables(view or _View(result, published_dir), published_dir)
    t.table_a()
    t.top_tables()
    t.table_2()
    t.table_4()
    t.quasi_tables()
    return t.items


def fidelity_report(result: Result, published_dir: str | Path | None = None) -> FidelityReport:
    """Compare ``result`` with every published table and every stated number."""
    view = _View(result, published_dir)
    items = table_items(result, published_dir, view) + stated_items(result, published_dir, view)
    context = [s.id for s in pub.stated_number_records(published_dir) if s.check == "context"]
    cutoff = getattr(result, "cutoff", "")
    cutoff_text = cutoff.date().isoformat() if isinstance(cutoff, pd.Timestamp) else str(cutoff)
    return FidelityReport(items=items, cutoff=cutoff_text, not_scored=context)


def _empty_result() -> Any:
    """A Result-shaped object with no rows (every item is then a miss): used to list the
    items a report will have without running the engine."""
    from types import SimpleNamespace

    from ..detection import Params

    def frame(*cols: str) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})

    dims = [f"{d}_{x}" for d in pub.RANK_COLUMNS for x in ("rank", "label")]
    institutions = frame("institution_id", "name", "type", "lat", "lon", "city", "country", "spinout_of")
    institutions["active_since"] = pd.Series(dtype="datetime64[ns]")
    funding = frame("funding_id", "institution_id", "amount_usd", "kind")
    funding["date"] = pd.Series(dtype="datetime64[ns]")
    collaborations = frame("collaboration_id", "institution_a", "institution_b")
    collaborations["date"] = pd.Series(dtype="datetime64[ns]")
    db = SimpleNamespace(
        institutions=institutions,
        funding=funding,
        collaborations=collaborations,
        areas=frame("area_id", "name", "country", "lat", "lon", "population", "gdp_usd", "ecosystem_value_usd"),
    )
    return SimpleNamespace(
        db=db,
        cutoff="",
        params=Params(),
        draws=0,
        assignments=frame("institution_id", "status", "group"),
        clusters=frame("cluster", "area_id", "country", "region", "lat", "lon", "institutions", "startups",
                       "research_institutions", "population", "gdp_usd"),  # fmt: skip
        indicators=frame("cluster", *_indicator_names()),
        ranking=frame("cluster", *dims),
        quasi_clusters=frame("quasi_cluster", "area_id", "country", "region", "tier", "institutions", "collaborations"),
        robustness=frame("dimension", "spearman_z_borda", "spearman_pca_borda", "spearman_z_pca", "mc_median",
                         "mc_p05", "mc_share_above_0_90"),  # fmt: skip
    )


def _indicator_names() -> tuple[str, ...]:
    from ..indicators import INDICATORS

    return tuple(INDICATORS)


def item_ids(published_dir: str | Path | None = None) -> list[str]:
    """The ids of every item :func:`fidelity_report` produces, in order, without running the
    engine (they depend only on the published data)."""
    return [i.id for i in fidelity_report(_empty_result(), published_dir).items]


# ---------------------------------------------------------------------------------------
# command line


def _parser() -> argparse.ArgumentParser:
    from ..paths import DEFAULT_CUTOFF

    p = argparse.ArgumentParser(
        prog="python -m quantumclusters fidelity",
        description="Run the engine on a database and compare the result with the paper's "
        "published tables and stated numbers (data/published/).",
    )
    p.add_argument("--data", default=None, help="database folder (default: the bundled database, data/bundled)")
    p.add_argument("--cutoff", default=DEFAULT_CUTOFF, help=f"data cut-off, YYYY-MM-DD (default {DEFAULT_CUTOFF})")
    p.add_argument("--published", default=None, help="published-numbers folder (default data/published)")
    p.add_argument("--draws", type=int, default=None, help="Monte Carlo draws (default: the engine's, 5,000)")
    p.add_argument("--seed", type=int, default=None, help="Monte Carlo seed (default: the engine's)")
    p.add_argument("--all", action="store_true", help="list every item, not only the misses")
    p.add_argument("--csv", default=None, help="also write the full report to this CSV file")
    p.add_argument("--strict", action="store_true", help="exit 1 when anything is missed")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m quantumclusters fidelity``: print the score and the misses. Exit 0 (the
    report is information) unless ``--strict`` and something is missed (1); 2 when the
    database is invalid."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from ..paths import resolve_data_dir
    from ..pipeline import run
    from ..schema import DataValidationError, load_database

    from ..schema import parse_cutoff

    try:
        parse_cutoff(args.cutoff)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # like ``rank --data``: a relative folder is relative to the working directory
    data = Path(args.data).expanduser().resolve() if args.data else resolve_data_dir(None)
    try:
        db = load_database(data)
    except DataValidationError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    kwargs: dict[str, Any] = {}
    if args.draws is not None:
        kwargs["draws"] = args.draws
    if args.seed is not None:
        kwargs["seed"] = args.seed
    result = run(db, args.cutoff, **kwargs)
    report = fidelity_report(result, args.published)
    print(f"Database: {data}  cut-off: {report.cutoff}")
    print(report)
    if args.all:
        with pd.option_context("display.max_rows", None, "display.max_colwidth", 80, "display.width", 200):
            print(report.to_frame()[["id", "published", "recomputed", "status"]].to_string(index=False))
    if args.csv:
        report.to_frame().to_csv(args.csv, index=False, lineterminator="\n")
    if report.not_scored:
        print(f"({len(report.not_scored)} stated numbers are context, not quantities of the database: not scored)")
    return 1 if args.strict and report.misses else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
