"""The book's front page and the paper's narrative: findings computed from a run, each set
beside what the paper says.

A :class:`Finding` pairs one of the paper's claims (in our words, attributed to the paper)
with what the run shows for the same claim, and says whether the run bears it out. The
front page (``chapters/00_summary.md``) shows :func:`key_findings`; the dimension chapters
show :func:`takeaways`; the quasi-cluster chapter shows :func:`recommendations`. Every
value is computed from the :class:`~quantumclusters.pipeline.Result`; nothing about the run
is typed in.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .display import VERDICT_WORDS

__all__ = [
    "Finding",
    "Findings",
    "ANGLOSPHERE",
    "key_findings",
    "takeaways",
    "recommendations",
    "front_ranking",
    "overall_ranks_matching",
    "citation_text",
]

#: The English-speaking countries the paper groups as the Anglosphere (its spelling).
ANGLOSPHERE: tuple[str, ...] = ("US", "UK", "Canada", "Australia")


@dataclass(frozen=True)
class Finding:
    """One claim of the paper beside the run's answer.

    ``title`` is a short headline, ``paper`` what the paper says (plain words), ``run``
    what this run shows, ``holds`` whether the run agrees with the paper (shown as the book's
    verdict, "agrees" or "differs"; ``None`` when the claim is not one the data can test).
    """

    title: str
    paper: str
    run: str
    holds: bool | None = None


class Findings:
    """A list of :class:`Finding` shown as an HTML list (and as plain text outside HTML)."""

    def __init__(self, items: Sequence[Finding], *, css: str = "qc-findings"):
        self.items = list(items)
        self.css = css

    def to_html(self) -> str:
        out = [f'<ol class="{html.escape(self.css)}">']
        for f in self.items:
            mark = ""
            if f.holds is not None:  # the book's one agreement scheme (display.VERDICT_WORDS)
                key = "agrees" if f.holds else "differs"
                mark = f'<span class="qc-verdict qc-verdict-{key}">{VERDICT_WORDS[key]}</span> '
            out.append(
                "<li>"
                f'<p class="qc-finding-title"><strong>{html.escape(f.title)}</strong></p>'
                f'<p class="qc-finding-paper"><em>The paper:</em> {html.escape(f.paper)}</p>'
                + (f'<p class="qc-finding-run">{mark}<em>This run:</em> {html.escape(f.run)}</p>' if f.run else "")
                + "</li>"
            )
        out.append("</ol>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        lines = []
        for i, f in enumerate(self.items, start=1):
            lines.append(f"{i}. {f.title}\n   The paper: {f.paper}\n   This run: {f.run}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- helpers


def _names(items: Iterable[Any]) -> str:
    xs = [str(x) for x in items]
    if not xs:
        return "none"
    if len(xs) == 1:
        return xs[0]
    return ", ".join(xs[:-1]) + " and " + xs[-1]


#: The paper's five regions in plain words (without inner commas, so that lists read well).
REGION_WORDS: dict[str, str] = {
    "US": "the US",
    "UK, Canada, and Australia": "the UK–Canada–Australia group",
    "EU": "the EU",
    "China": "China",
    "Rest of the World": "the rest of the world",
}


def _regions(items: Iterable[Any]) -> str:
    return _names(REGION_WORDS.get(str(x), str(x)) for x in items)


def _pct(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{x * 100:.0f}%"


def _usd(x: float) -> str:
    if pd.isna(x):
        return "n/a"
    return f"USD {x / 1e9:,.1f} billion" if abs(x) >= 1e9 else f"USD {x / 1e6:,.0f} million"


def _ranking(result: Any) -> pd.DataFrame:
    from quantumclusters.report import notebook

    return notebook.ranking_table(result)


def _top(ranking: pd.DataFrame, column: str, n: int) -> pd.DataFrame:
    """Clusters ranked ``n`` or better on ``column`` (ties at ``n`` included), best first."""
    t = ranking[ranking[column] <= n]
    return t.sort_values([column, "cluster"], kind="stable")


def _count_in(frame: pd.DataFrame, countries: Sequence[str]) -> int:
    return int(frame["country"].isin(list(countries)).sum())


def _uk_among(top: pd.DataFrame) -> str:
    """``"A, B and C; the other is D"``: the UK clusters of ``top`` first, then the others."""
    uk = top.loc[top["country"] == "UK", "cluster"].tolist()
    rest = top.loc[top["country"] != "UK", "cluster"].tolist()
    text = _names(uk) if uk else "none"
    if rest:
        text += ("; the other is " if len(rest) == 1 else "; the others are ") + _names(rest)
    return text


def _funding_share_in_clusters(result: Any) -> float:
    """Share of all quantum company funding of the cut-off's year raised inside clusters."""
    from quantumclusters.report import plots

    periods = plots.funding_periods(result)
    return float(periods["share_in_clusters"].iloc[-1]) if len(periods) else float("nan")


def _funding_leader(result: Any) -> tuple[str, float, float]:
    """(cluster, funding, share of the clusters' total) of the best-funded cluster."""
    funding = result.indicator_table()["total_funding_usd"].dropna().sort_values(ascending=False, kind="stable")
    total = float(funding.sum())
    if not len(funding) or total <= 0:
        return ("no cluster", float("nan"), float("nan"))
    return (str(funding.index[0]), float(funding.iloc[0]), float(funding.iloc[0]) / total)


# --------------------------------------------------------------------------- front page


def key_findings(result: Any) -> Findings:
    """The front page's key findings: seven claims of the paper's executive summary and
    key takeaways, each with the run's answer."""
    r = _ranking(result)
    top5 = r[r["overall_rank"] <= 5]["cluster"].tolist()
    leader = top5[0] if top5 else "no cluster"
    top15 = r[r["overall_rank"] <= 15]
    anglo15 = _count_in(top15, ANGLOSPHERE)
    bay, bay_usd, bay_share = _funding_leader(result)
    inside = _funding_share_in_clusters(result)
    collab10 = _top(r, "collaboration_intensity_rank", 10)
    regions10 = sorted(set(collab10["region"].dropna()))
    eco5 = _top(r, "ecosystem_maturity_rank", 5)
    uk5 = _count_in(eco5, ("UK",))
    q = result.quasi_clusters
    tiers = q["tier"].astype(int).value_counts() if len(q) else pd.Series(dtype=int)
    paper_top5 = ["Cambridge", "Greater Helsinki", "Oxford", "San Francisco Bay Area", "Greater Glasgow"]
    items = [
        Finding(
            "Who leads",
            "Cambridge (UK) leads the world's 45 quantum clusters, followed by Greater Helsinki, Oxford, "
            "the San Francisco Bay Area and Greater Glasgow.",
            f"{len(r)} clusters are found and ranked; {leader} ranks first and the top five are {_names(top5)}.",
            top5 == paper_top5 and len(r) == 45,
        ),
        Finding(
            "The English-speaking world dominates",
            "Clusters in the US, the UK, Canada and Australia take 10 of the top 15 places.",
            f"{anglo15} of the {len(top15)} clusters ranked 15th or better are in those four countries.",
            anglo15 == 10,
        ),
        Finding(
            "Money concentrates in the Bay Area",
            "The San Francisco Bay Area attracts USD 6.2 billion, 29% of quantum company funding, "
            "far ahead of any other cluster.",
            f"{bay} is the best-funded cluster with {_usd(bay_usd)}, {_pct(bay_share)} of the funding "
            "raised in all clusters.",
            bay == "San Francisco Bay Area" and round(bay_share * 100) == 29,
        ),
        Finding(
            "Quantum business happens in clusters",
            "96% of all quantum company funding in 2025 went to companies inside clusters (95% in 2024, "
            "92% up to 2023).",
            f"{_pct(inside)} of the funding recorded in the cut-off's year went to companies inside clusters.",
            (not pd.isna(inside)) and round(inside * 100) == 96,
        ),
        Finding(
            "Collaboration leadership is spread across regions",
            "Unlike the other two dimensions, no single region dominates Collaboration Intensity: "
            "China, Europe, India, Switzerland, the UK and the US all feature in the top 10.",
            f"The {len(collab10)} clusters ranked 10th or better on Collaboration Intensity come from "
            f"{len(regions10)} of the paper's five regions ({_regions(regions10)}).",
            len(regions10) >= 4,
        ),
        Finding(
            "The UK sets the benchmark for ecosystem maturity",
            "Four of the top five clusters on Ecosystem Maturity are British: Bristol–Bath, Cambridge, "
            "Oxford and Greater Glasgow.",
            f"{uk5} of the {len(eco5)} clusters ranked fifth or better on Ecosystem Maturity are in the UK "
            f"({_uk_among(eco5)}).",
            uk5 == 4,
        ),
        Finding(
            "86 quasi-clusters are on the way",
            "Beyond the 45 clusters, 86 quasi-clusters show quantum activity that has not yet reached a "
            "cluster's critical mass; the paper sorts them into two tiers by how close they are.",
            f"{len(q)} quasi-clusters are found: {int(tiers.get(1, 0))} in the first tier and "
            f"{int(tiers.get(2, 0))} in the second.",
            len(q) == 86,
        ),
    ]
    return Findings(items)


def front_ranking(result: Any) -> Any:
    """The ranking as one compact HTML table: rank, cluster, country, region and the three
    dimension ranks (ties marked ``=`` as in the paper), with a CSV download."""
    from quantumclusters.report import display

    r = _ranking(result)
    frame = pd.DataFrame(
        {
            "Rank": r["overall_label"].astype(str),
            "Cluster": r["cluster"],
            "Country": r["country"],
            "Region": r["region"],
            "Market Orientation": r["market_orientation_label"].astype(str),
            "Collaboration Intensity": r["collaboration_intensity_label"].astype(str),
            "Ecosystem Maturity": r["ecosystem_maturity_label"].astype(str),
        }
    )
    return _Wrapped(
        display.table(frame, caption="The Quantum Clusters Ranking, recomputed (overall rank and rank on each dimension)",
                      csv_name="quantum_clusters_ranking.csv", links={"Cluster": _profile_links(result)}),
        "qc-front-ranking",
    )


def _profile_links(result: Any) -> dict[str, str]:
    from quantumclusters.report.profiles import profile_links

    return profile_links(result)


class _Wrapped:
    """An HTML object inside a ``<div>`` of a CSS class."""

    def __init__(self, inner: Any, css: str):
        self.inner = inner
        self.css = css

    def _repr_html_(self) -> str:
        return f'<div class="{html.escape(self.css)}">{self.inner.to_html()}</div>'

    def __repr__(self) -> str:
        return repr(self.inner)


def overall_ranks_matching(result: Any) -> int:
    """How many clusters of the paper's ranking (Table A) have the same overall rank in
    the run (ties included: ``12=`` must be ``12=``)."""
    from quantumclusters.report import notebook

    paper = notebook.published_table("table_a")[["cluster", "overall_label"]]
    run = _ranking(result)[["cluster", "overall_label"]]
    both = paper.merge(run, on="cluster", suffixes=("_paper", "_run"))
    return int((both["overall_label_paper"].astype(str).str.strip()
                == both["overall_label_run"].astype(str).str.strip()).sum())


def citation_text() -> str:
    """The citation of the paper and of this book, as Markdown."""
    return (
        "**The paper.** Erixon, F., Dugo, A., Pandya, D. and Sisto, E. (2025). *Quantum Clusters: "
        "Ranking the World's Deep-Tech Epicentres*. ECIPE Occasional Paper No. 15/2025. Brussels: "
        "European Centre for International Political Economy (ECIPE).\n\n"
        "**This book.** *Quantum Clusters, executable: an open reproduction of ECIPE Occasional "
        "Paper 15/2025* (software and book, version of the repository you are reading). The "
        "machine-readable citation is in the `CITATION.cff` file at the root of the repository; "
        "GitHub and most reference managers read it directly. When you quote a number, cite "
        "the paper for the paper's figures and this book only for the method and the code."
    )


# --------------------------------------------------------------------------- the dimensions


def takeaways(result: Any, dimension: str) -> Findings:
    """The paper's key takeaways for ``dimension`` (``market_orientation``,
    ``collaboration_intensity``, ``ecosystem_maturity``), each testable one with the run's
    verdict."""
    r = _ranking(result)
    ind = result.indicator_table()
    if dimension == "market_orientation":
        top10 = _top(r, "market_orientation_rank", 10)
        anglo = _count_in(top10, ANGLOSPHERE)
        eu_cn = int(top10["region"].isin(["EU", "China"]).sum())
        col = "industry_collaborations_per_tn_gdp"
        lead_ind = ind[col].dropna().sort_values(ascending=False, kind="stable").head(4).index.tolist() if col in ind else []
        paper_ind = ["Cambridge", "Oxford", "Canberra", "Greater Helsinki"]
        total_rank = ind["total_funding_usd"].rank(ascending=False, method="min")
        gdp_rank = ind["startup_funding_to_gdp"].rank(ascending=False, method="min")
        big = ["San Francisco Bay Area", "Denver–Boulder Region", "Greater Washington"]
        big_both = sum(1 for c in big if c in ind.index and total_rank[c] <= 10 and gdp_rank[c] <= 10)
        small = ["Cambridge", "Greater Helsinki", "Oxford"]
        small_better = sum(1 for c in small if c in ind.index and gdp_rank[c] < total_rank[c])
        return Findings([
            Finding("The US and the Anglosphere dominate",
                    "The US, the UK, Canada and Australia hold 7 of the top 10 places on Market Orientation; "
                    "the EU and China lag despite strong research.",
                    f"{anglo} of the {len(top10)} clusters in the top 10 are in those four countries; "
                    f"{eu_cn} are in the EU or China.", anglo == 7),
            Finding("Scale against intensity",
                    "The Bay Area, Denver–Boulder and Greater Washington are strong in absolute and relative "
                    "terms; smaller clusters such as Cambridge, Helsinki and Oxford excel relative to GDP.",
                    f"Of the big three US hubs, {big_both} are in the top 10 both on total funding and on "
                    f"startup funding relative to GDP; of Cambridge, Greater Helsinki and Oxford, {small_better} "
                    "rank higher relative to GDP than on total funding.",
                    big_both == 3 and small_better == 3),
            Finding("Industry collaboration drives commercialisation",
                    "Cambridge, Oxford, Canberra and Helsinki lead on industry collaborations relative to GDP, "
                    "ahead of the big US hubs.",
                    f"The four leaders on that indicator are {_names(lead_ind)}.",
                    sorted(lead_ind) == sorted(paper_ind)),
            Finding("Two models of success",
                    "Leaders either ride a broad frontier-tech ecosystem (the Bay Area, Tel Aviv) or make "
                    "quantum a specialisation in an otherwise modest startup scene (Helsinki, Denver–Boulder).",
                    "", None),
        ])
    if dimension == "collaboration_intensity":
        top10 = _top(r, "collaboration_intensity_rank", 10)
        regions = sorted(set(top10["region"].dropna()))
        countries = sorted(set(top10["country"].dropna()))
        lead_b = ind["brokerage"].dropna().sort_values(ascending=False, kind="stable").head(6).index.tolist()
        pair = ind[["collaborations", "external_share"]].dropna()
        size_open = float(pair["collaborations"].corr(pair["external_share"], method="spearman")) if len(pair) > 2 else float("nan")
        paper_b = ["Greater Glasgow", "Karlsruhe", "Greater Geneva Bern Area", "Bangalore", "Greater Montreal", "Shanghai"]
        return Findings([
            Finding("Leadership spans regions",
                    "No single region dominates: China, Europe, India, Switzerland, the UK and the US all "
                    "feature in the top 10, and large research-driven clusters lead on the number of "
                    "collaborations.",
                    f"The top 10 come from {len(regions)} regions and {len(countries)} countries "
                    f"({_names(countries)}).", len(regions) >= 4),
            Finding("Size against openness",
                    "Larger clusters tend to have a lower share of collaborations outside the cluster; "
                    "Shanghai, Hefei, Singapore and Boston combine size with openness.",
                    f"Across the clusters, the number of collaborations and the share with partners outside "
                    f"the cluster have a rank correlation of {size_open:+.2f} "
                    f"({'larger clusters are less open' if size_open < 0 else 'no such trade-off'}).",
                    bool(size_open < 0)),
            Finding("A few clusters are global connectors",
                    "Only a small group — Greater Glasgow, Karlsruhe, Geneva, Bangalore, Montreal and "
                    "Shanghai — plays a genuine bridging role between otherwise separate communities.",
                    f"The six strongest connectors are {_names(lead_b)}; "
                    f"{len(set(lead_b) & set(paper_b))} of them are among the paper's six.",
                    len(set(lead_b) & set(paper_b)) >= 5 if lead_b else None),
        ])
    if dimension == "ecosystem_maturity":
        top5 = _top(r, "ecosystem_maturity_rank", 5)
        uk = _count_in(top5, ("UK",))
        spin5 = ind["spinouts_per_research_institution"].dropna().sort_values(ascending=False, kind="stable").head(5).index.tolist()
        paper_spin = ["Oxford", "Cambridge", "Greater Glasgow", "Bristol–Bath Region", "Greater Helsinki"]
        startup_share = {c: float(ind.at[c, "startups_per_institution"])
                         for c in ("Bristol–Bath Region", "Greater Glasgow", "Tel Aviv Metropolitan Area") if c in ind.index}
        return Findings([
            Finding("The UK leads",
                    "Four of the top five on Ecosystem Maturity (Bristol–Bath, Cambridge, Oxford, Glasgow) "
                    "are in the UK, the fruit of years of strategy and investment in research and "
                    "commercialisation.",
                    f"{uk} of the {len(top5)} clusters ranked fifth or better are in the UK "
                    f"({_uk_among(top5)}).", uk == 4),
            Finding("Spinout efficiency in smaller clusters",
                    "Oxford, Cambridge, Glasgow, Bristol–Bath and Helsinki turn research institutions into "
                    "spinouts at exceptionally high rates.",
                    f"The five clusters with the most spinouts per research institution are {_names(spin5)}; "
                    f"{len(set(spin5) & set(paper_spin))} of them are the paper's five.",
                    len(set(spin5) & set(paper_spin)) == 5),
            Finding("Entrepreneurial intensity",
                    "In Bristol–Bath, Glasgow and Tel Aviv startups make up half or more of the quantum "
                    "institutions.",
                    "Startups are "
                    + _names(f"{_pct(v)} of the institutions in {c}" if i == 0 else f"{_pct(v)} in {c}"
                             for i, (c, v) in enumerate(startup_share.items()))
                    + ".",
                    bool(len(startup_share) == 3 and all(v >= 0.5 for v in startup_share.values()))),
        ])
    raise KeyError(f"no dimension {dimension!r}")


def recommendations() -> Findings:
    """The paper's four policy recommendations for turning quasi-clusters into clusters
    (section 6.1), in our words. These are proposals, not claims the data can test."""
    return Findings([
        Finding("Quantum acceleration funds",
                "Multi-year co-investment programmes that carry startups from prototype to deployment and "
                "close early-stage financing gaps.", ""),
        Finding("Shared testbeds and facilities",
                "Regional quantum laboratories open to startups, universities and companies, so that they "
                "co-locate and prototype quickly.", ""),
        Finding("Research–industry partnerships",
                "Collaboration grants for joint research and development between universities and "
                "private firms.", ""),
        Finding("Cross-sector pilots",
                "Applied projects with industries that adopt quantum early, such as simulation for materials "
                "or optimisation for finance.", ""),
    ], css="qc-findings qc-recommendations")
