"""The explorer chapter: a sortable table of every cluster and a re-weighting tool.

Both are plain HTML with a few kB of JavaScript of our own (``static/reweight.js``,
inlined into the page, so the site works offline and asks nothing of any server). The
re-weighting tool ranks in the browser from a JSON matrix embedded in the page (the
indicator ranks of every cluster), with the rule of
:func:`quantumclusters.ranking.weighted_ranking`; equal weights give the baseline exactly.

Names are data: every name is HTML-escaped in the markup, and the embedded JSON escapes
``<``, ``>``, ``&``, U+2028 and U+2029, so no name can close the ``<script>`` that holds it.
The output is deterministic (fixed ids, sorted keys), as nbval requires.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from typing import Any

import pandas as pd

from ..indicators import INDICATORS
from ..ranking import DIMENSIONS, indicator_ranks
from .display import csv_provenance

__all__ = [
    "DIMENSION_NAMES",
    "INDICATOR_NAMES",
    "script_source",
    "safe_json",
    "explorer_data",
    "cluster_table",
    "reweight_tool",
    "Html",
    "downloads_link",
]

#: Plain-words names of the dimensions and indicators, for policy readers.
DIMENSION_NAMES: dict[str, str] = {
    "market_orientation": "Market orientation",
    "collaboration_intensity": "Collaboration intensity",
    "ecosystem_maturity": "Ecosystem maturity",
}
INDICATOR_NAMES: dict[str, str] = {
    "total_funding_usd": "Total funding",
    "startup_funding_to_gdp": "Start-up funding relative to GDP",
    "industry_collaborations_per_tn_gdp": "Industry collaborations per trillion of GDP",
    "collaborations": "Collaborations",
    "external_share": "Share of collaborations outside the cluster",
    "brokerage": "Brokerage (bridging role in the network)",
    "institutions_per_million": "Institutions per million inhabitants",
    "spinouts_per_research_institution": "Spin-outs per research institution",
    "startups_per_institution": "Start-ups per institution",
}


class Html:
    """Raw HTML that Jupyter and myst-nb display as is (the caller built it safely)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "<interactive HTML: open the book page to use it>"


def script_source(name: str = "reweight.js") -> str:
    """The JavaScript file ``static/<name>`` shipped with the package."""
    return resources.files("quantumclusters.report").joinpath("static", name).read_text(encoding="utf-8")


def safe_json(value: Any) -> str:
    """``value`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``,
    ``&``, U+2028 and U+2029 become ``\\uXXXX`` escapes (so ``</script>`` cannot appear)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return text


def _num(x: Any) -> float | int | None:
    if x is None or pd.isna(x):
        return None
    f = float(x)
    return int(f) if f.is_integer() else f


def explorer_data(result: Any) -> dict[str, Any]:
    """What the re-weighting tool needs, in the baseline order (overall rank, then name):
    cluster names, the 45x9 indicator ranks (``None`` where missing), which indicator
    columns make each dimension, and the baseline overall ranks and ties."""
    ranking = result.ranking
    table = result.indicator_table().loc[ranking["cluster"]]
    ranks = indicator_ranks(table[list(INDICATORS)])
    base = ranking["overall_rank"]
    counts = base.map(base.value_counts())
    return {
        "clusters": [str(c) for c in ranking["cluster"]],
        "indicators": [{"key": k, "name": INDICATOR_NAMES.get(k, k)} for k in INDICATORS],
        "dimensions": [{"key": d, "name": DIMENSION_NAMES.get(d, d)} for d in DIMENSIONS],
        "dimension_columns": [[INDICATORS.index(c) for c in cols] for cols in DIMENSIONS.values()],
        "ranks": [[_num(v) for v in row] for row in ranks.to_numpy(dtype=float)],
        "baseline": [_num(v) for v in base],
        "baseline_tied": [bool(c > 1) if not pd.isna(c) else False for c in counts],
    }


def _fmt(value: Any, kind: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    v = float(value)
    if kind == "rank":
        return f"{int(v)}"
    if kind == "score":
        return f"{v:.2f}"
    if kind == "usd":
        return f"{v / 1e9:,.2f} bn" if abs(v) >= 1e9 else f"{v / 1e6:,.0f} m"
    if kind == "share":
        return f"{v:.0%}"
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else (f"{v:,.2f}" if a >= 1 else f"{v:.3g}")


#: File name the explorer's table downloads as.
_CSV_NAME = "explorer_clusters.csv"
_KIND = {"total_funding_usd": "usd", "external_share": "share"}


def cluster_table(result: Any, table_id: str = "explorer-clusters") -> Html:
    """Every cluster with its nine indicator values and ranks, three dimension scores and
    ranks and its overall rank, as a sortable, searchable HTML table with a CSV download."""
    ranking = result.ranking.set_index("cluster")
    values = result.indicator_table().loc[ranking.index]
    ranks = indicator_ranks(values[list(INDICATORS)])
    cols: list[tuple[str, str, pd.Series, str]] = [("Overall rank", "overall", ranking["overall_rank"], "rank")]
    for d, inds in DIMENSIONS.items():
        cols.append((f"{DIMENSION_NAMES[d]}: rank", d, ranking[f"{d}_rank"], "rank"))
        cols.append((f"{DIMENSION_NAMES[d]}: score", d, ranking[f"{d}_score"], "score"))
        for c in inds:
            cols.append((INDICATOR_NAMES[c], d, values[c], _KIND.get(c, "value")))
            cols.append((f"{INDICATOR_NAMES[c]}: rank", d, ranks[c], "rank"))
    labels = ranking["overall_label"]
    tid = html.escape(table_id)
    out = [f'<div class="qc-table-wrap qc-explorer-wrap">']
    out.append(
        f'<p class="qc-explorer-search"><label>Find a cluster: <input type="search" data-filter="{tid}" '
        f'placeholder="type part of a name" autocomplete="off"></label> '
        f'<span class="qc-hint">Click a column heading to sort by it; click again to reverse.</span></p>'
    )
    out.append(f'<table class="qc-table qc-sortable" id="{tid}">')
    out.append("<caption>Every cluster and all its numbers (lower score and rank = better)</caption>")
    out.append('<thead><tr><th scope="col">Cluster</th>'
               + "".join(f'<th scope="col" class="qc-dim-{html.escape(dim)}">{html.escape(name)}</th>'
                         for name, dim, _, _ in cols)
               + "</tr></thead><tbody>")
    from .profiles import profile_links

    links = profile_links(result)
    for name in ranking.index:
        href = links.get(str(name))
        shown = html.escape(str(name))
        if href:
            shown = f'<a href="{html.escape(href, quote=True)}" title="Profile of this cluster">{shown}</a>'
        cells = [f'<th scope="row">{shown}</th>']
        for head, _, series, kind in cols:
            v = series.loc[name]
            text = str(labels.loc[name]) if head == "Overall rank" and not pd.isna(v) else _fmt(v, kind)
            key = "" if v is None or pd.isna(v) else repr(float(v))
            cells.append(f'<td class="qc-num" data-sort="{html.escape(key)}">{html.escape(text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    frame = pd.DataFrame({"cluster": ranking.index.astype(str)})
    frame["overall_rank"] = ranking["overall_rank"].to_numpy()
    for d, inds in DIMENSIONS.items():
        frame[f"{d}_rank"] = ranking[f"{d}_rank"].to_numpy()
        frame[f"{d}_score"] = ranking[f"{d}_score"].to_numpy()
        for c in inds:
            frame[c] = values[c].to_numpy()
            frame[f"{c}_rank"] = ranks[c].to_numpy()
    data = (csv_provenance() + frame.to_csv(index=False, lineterminator="\n")).encode("utf-8")
    uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    out.append(f'<p class="qc-table-foot"><a class="qc-download" href="{uri}" download="{_CSV_NAME}">'
               "Download this table (CSV)</a></p>")
    out.append("</div>")
    return Html("\n".join(out))


def _slider(key: str, label: str) -> str:
    k = html.escape(key)
    return (
        f'<div class="qc-rw-slider"><label for="w_{k}">{html.escape(label)}</label>'
        f'<input type="range" id="w_{k}" name="w_{k}" min="0" max="3" step="0.1" value="1">'
        f'<output for="w_{k}">1.0</output></div>'
    )


def reweight_tool(result: Any, with_script: bool = True) -> Html:
    """The re-weighting tool: three dimension sliders, nine indicator sliders behind a
    toggle, and the live ranking ``<table id="reweighted-ranking">`` (rows in rank order:
    cluster, new rank with ``=`` on ties, baseline rank, shift). The data and (with
    ``with_script``) the JavaScript are embedded in the output."""
    data = explorer_data(result)
    out = ['<div class="qc-reweight" data-source="qc-reweight-data">']
    out.append(f'<script type="application/json" id="qc-reweight-data">{safe_json(data)}</script>')
    out.append('<fieldset class="qc-rw-weights"><legend>Weight of each dimension</legend>')
    out += [_slider(d["key"], d["name"]) for d in data["dimensions"]]
    out.append("</fieldset>")
    out.append("<details class=\"qc-rw-more\"><summary>Weights of the nine indicators</summary>")
    for d, cols in zip(data["dimensions"], data["dimension_columns"]):
        out.append(f'<fieldset class="qc-rw-weights"><legend>{html.escape(d["name"])}</legend>')
        out += [_slider(data["indicators"][j]["key"], data["indicators"][j]["name"]) for j in cols]
        out.append("</fieldset>")
    out.append("</details>")
    out.append('<p><button type="button" class="qc-rw-reset">Back to equal weights</button> '
               '<span class="qc-rw-status" role="status" aria-live="polite"></span></p>')
    out.append('<div class="qc-table-wrap qc-rw-wrap"><table class="qc-live-table" id="reweighted-ranking">')
    out.append("<caption>The ranking under the chosen weights (▲ moved up, ▼ moved down)</caption>")
    out.append('<thead><tr><th scope="col">Cluster</th><th scope="col">New rank</th>'
               '<th scope="col">Published-method rank</th><th scope="col">Shift</th></tr></thead><tbody>')
    # without JavaScript the table shows the baseline
    counts: dict[Any, int] = {}
    for r in data["baseline"]:
        counts[r] = counts.get(r, 0) + 1
    for name, r, tied in zip(data["clusters"], data["baseline"], data["baseline_tied"]):
        label = "–" if r is None else f"{r}{'=' if tied else ''}"
        out.append(f'<tr><th scope="row">{html.escape(name)}</th><td class="qc-num">{label}</td>'
                   f'<td class="qc-num">{label}</td><td class="qc-num">0</td></tr>')
    out.append("</tbody></table></div>")
    if with_script:
        js = script_source().replace("</", "<\\/")
        out.append(f"<script>{js}</script>")
    out.append("</div>")
    return Html("\n".join(out))


def downloads_link(prefix: str = "../") -> Html:
    """A link to the zip of the run's result files that the build puts at the site's root
    (:mod:`quantumclusters.report.downloads`); ``prefix`` leads from the page to the root."""
    from .downloads import ARCHIVE_NAME

    href = html.escape(prefix + ARCHIVE_NAME)
    return Html(
        f'<p class="qc-downloads"><a class="qc-download" href="{href}" download>Download every result file of '
        f"this run ({html.escape(ARCHIVE_NAME)})</a>: the six tables of the calculation, with a description of "
        "every column, its unit, where the numbers come from and a checksum of each file.</p>"
    )
