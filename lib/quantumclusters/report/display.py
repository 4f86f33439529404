"""Tables for the book: real HTML tables with a caption and a CSV download.

Two functions, both returning objects that Jupyter (and myst-nb) display as HTML:

* :func:`table` shows a DataFrame as ``<table>`` with ``<caption>Table N: …</caption>``
  and a "Download CSV" link that carries the data itself (a ``data:`` URI), so it works
  offline and needs no file management.
* :func:`compare` shows the paper's published value beside the recomputed one for each
  compared column, marks disagreements with the CSS class ``qc-diff`` and says on top how
  many values agree.

Every cell's text is HTML-escaped: an institution called ``<script>…`` is shown as text.
The HTML is deterministic (no random ids), so nbval can compare it. The style lives once in
``book/_static/quantumclusters.css``.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

__all__ = ["Table", "Comparison", "table", "compare", "format_value", "csv_provenance"]

Formatter = str | Callable[[Any], str]
MISSING = "–"


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, bytes, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def format_value(value: Any, fmt: Formatter | None = None) -> str:
    """Text of one cell: thousands separators for integers, two decimals for numbers
    from 1 to 100, three significant digits below 1, a dash for missing values."""
    if _is_missing(value):
        return MISSING
    if fmt is not None:
        return fmt(value) if callable(fmt) else fmt.format(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        a = abs(v)
        if a >= 100:
            return f"{v:,.0f}"
        if a >= 1:
            return f"{v:,.2f}"
        return f"{v:.3g}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not _is_missing(value)


def _csv_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "table"
    return base if base.lower().endswith(".csv") else base + ".csv"


def csv_provenance(shares: Mapping[str, float | None] | None = None) -> str:
    """The comment lines (``# ...``) a downloaded CSV starts with when synthetic records
    contributed to the run it comes from (empty otherwise): each table's synthetic share,
    computed from the database's markers. ``pandas.read_csv(..., comment="#")`` skips them."""
    from .figures import current_shares

    shares = current_shares() if shares is None else shares
    parts = [(t, v) for t, v in shares.items() if v]
    if not parts:
        return ""
    words = {"institutions": "institutions", "funding": "funding events", "collaborations": "collaborations",
             "areas": "areas (some fields adjusted or synthesised)"}
    listed = ", ".join(f"{v:.0%} of {words.get(t, t)}" for t, v in parts)
    return (
        "# Illustrative: computed by the quantumclusters reproduction of ECIPE Occasional Paper 15/2025 from a "
        "database with synthetic records, not real-world values.\n"
        f"# Synthetic share of the records: {listed}.\n"
    )


def _csv_link(df: pd.DataFrame, name: str, index: bool) -> str:
    data = (csv_provenance() + df.to_csv(index=index, lineterminator="\n")).encode("utf-8")
    uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    fname = _csv_name(name)
    return (
        f'<a class="qc-download" href="{uri}" download="{html.escape(fname)}">'
        f"Download CSV ({html.escape(fname)})</a>"
    )


def _plain_caption(caption: str, number: int | str | None) -> str:
    """The caption as plain text ("Table N: …"), for the text representation."""
    return f"Table {number}: {caption}" if number is not None else caption


def _caption(caption: str, number: int | str | None) -> str:
    text = html.escape(str(caption))
    if number is None:
        return text
    return f'<span class="qc-caption-number">Table {html.escape(str(number))}:</span> {text}'


def _anchor(number: int | str | None) -> str:
    if number is None:
        return ""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(number)).strip("-").lower()
    return f' id="table-{slug}"'


def _linked(text: str, href: str | None) -> str:
    """``text`` (escaped here) as a link to ``href`` when there is one."""
    if not href:
        return html.escape(text)
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'


def _use_index(df: pd.DataFrame) -> bool:
    return not isinstance(df.index, pd.RangeIndex) or df.index.name is not None


@dataclass(frozen=True)
class Table:
    """A captioned HTML table with a CSV download (what :func:`table` returns)."""

    df: pd.DataFrame
    caption: str
    csv_name: str
    number: int | str | None = None
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    links: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)  # column -> value -> link

    def to_html(self) -> str:
        df = self.df
        index = _use_index(df)
        view = df.reset_index() if index else df
        cols = [str(c) for c in view.columns]
        out = [f'<div class="qc-table-wrap"{_anchor(self.number)}>']
        out.append('<table class="qc-table">')
        out.append(f"<caption>{_caption(self.caption, self.number)}</caption>")
        out.append("<thead><tr>" + "".join(f'<th scope="col">{html.escape(c)}</th>' for c in cols) + "</tr></thead>")
        out.append("<tbody>")
        for row in view.itertuples(index=False, name=None):
            cells = []
            for col, value in zip(cols, row):
                cls = ' class="qc-num"' if _is_number(value) else ""
                href = self.links.get(col, {}).get(value) if col in self.links and not _is_missing(value) else None
                cells.append(f"<td{cls}>{_linked(format_value(value, self.formats.get(col)), href)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        out.append(f'<p class="qc-table-foot">{_csv_link(df, self.csv_name, index)}</p>')
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        head = _plain_caption(self.caption, self.number)
        with pd.option_context("display.width", 120, "display.max_columns", 20, "display.max_rows", 60):
            return f"{head}\n{self.df.to_string()}"


def table(
    df: pd.DataFrame,
    *,
    caption: str,
    csv_name: str,
    number: int | str | None = None,
    formats: Mapping[str, Formatter] | None = None,
    links: Mapping[str, Mapping[Any, str]] | None = None,
) -> Table:
    """Show ``df`` as a real HTML table captioned "Table ``number``: ``caption``".

    ``formats`` maps a column to a format string (``"{:.1%}"``) or a function; other
    cells use :func:`format_value`. The index is shown when it is named or not a plain
    range. The CSV download holds the unformatted values. ``links`` maps a column to
    ``{value: link}``: those cells become links (for example to the cluster profiles).
    """
    return Table(df, caption, csv_name, number, dict(formats or {}), dict(links or {}))


# --------------------------------------------------------------------------- compare


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        s = value.strip().replace(",", "").replace("\u2212", "-")
        if s.endswith("%"):
            s = s[:-1]
        try:
            return float(s)
        except ValueError:
            return None
    return None


def _norm_text(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _agrees(published: Any, recomputed: Any, tol: float | None) -> bool:
    if _is_missing(published) and _is_missing(recomputed):
        return True
    if _is_missing(published) or _is_missing(recomputed):
        return False
    p, r = _as_number(published), _as_number(recomputed)
    if p is not None and r is not None and not (isinstance(published, str) and isinstance(recomputed, str)):
        return abs(p - r) <= (tol or 0.0) + 1e-12 * max(abs(p), abs(r), 1.0)
    if p is not None and r is not None and tol:
        return abs(p - r) <= tol
    return _norm_text(published) == _norm_text(recomputed)


@dataclass(frozen=True)
class Comparison:
    """The paper beside the recomputation (what :func:`compare` returns)."""

    frame: pd.DataFrame  # key, then <col>_paper, <col>_recomputed, <col>_agree per column
    key: str
    columns: tuple[str, ...]
    caption: str
    csv_name: str
    agree: int
    total: int
    number: int | str | None = None
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    links: Mapping[Any, str] = field(default_factory=dict)  # key value -> link

    @property
    def disagreements(self) -> pd.DataFrame:
        """Rows with at least one value that differs from the paper."""
        flags = self.frame[[f"{c}_agree" for c in self.columns]]
        return self.frame[~flags.fillna(True).all(axis=1)]

    def summary(self) -> str:
        return f"{self.agree} of {self.total} values agree"

    def to_html(self) -> str:
        f = self.frame
        out = [f'<div class="qc-table-wrap qc-compare-wrap"{_anchor(self.number)}>']
        cls = "qc-all-agree" if self.agree == self.total else "qc-some-differ"
        out.append(f'<p class="qc-agreement {cls}">{html.escape(self.summary())}</p>')
        out.append('<table class="qc-table qc-compare">')
        out.append(f"<caption>{_caption(self.caption, self.number)}</caption>")
        out.append("<thead><tr>" + f'<th scope="col" rowspan="2">{html.escape(self.key)}</th>')
        out.append("".join(f'<th scope="colgroup" colspan="2">{html.escape(c)}</th>' for c in self.columns) + "</tr>")
        out.append("<tr>" + '<th scope="col">paper</th><th scope="col">recomputed</th>' * len(self.columns))
        out.append("</tr></thead><tbody>")
        for _, row in f.iterrows():
            extra = bool(row["_extra"])
            cells = [f'<th scope="row">{_linked(format_value(row[self.key]), self.links.get(row[self.key]))}</th>']
            for c in self.columns:
                fmt = self.formats.get(c)
                ok = row[f"{c}_agree"]
                state = "qc-extra" if extra else ("qc-agree" if ok else "qc-diff")
                pub, rec = row[f"{c}_paper"], row[f"{c}_recomputed"]
                num = " qc-num" if _is_number(rec) or _as_number(pub) is not None else ""
                cells.append(f'<td class="qc-paper{num}">{html.escape(format_value(pub, fmt))}</td>')
                cells.append(f'<td class="qc-recomputed {state}{num}">{html.escape(format_value(rec, fmt))}</td>')
            row_cls = ' class="qc-extra-row"' if extra else ""
            out.append(f"<tr{row_cls}>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        foot = _csv_link(f.drop(columns=["_extra"]), self.csv_name, False)
        if f["_extra"].any():
            foot = "Rows in grey are not in the paper's table and are not counted. " + foot
        out.append(f'<p class="qc-table-foot">{foot}</p>')
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        head = _plain_caption(self.caption, self.number)
        lines = [head, self.summary()]
        bad = self.disagreements
        bad = bad[~bad["_extra"].astype(bool)]
        for _, row in bad.iterrows():
            diffs = [
                f"{c}: paper {format_value(row[f'{c}_paper'])}, recomputed {format_value(row[f'{c}_recomputed'])}"
                for c in self.columns
                if not row[f"{c}_agree"]
            ]
            lines.append(f"  {row[self.key]}: " + "; ".join(diffs))
        return "\n".join(lines)


def compare(
    recomputed: pd.DataFrame,
    published: pd.DataFrame,
    *,
    key: str,
    columns: Sequence[str],
    caption: str,
    csv_name: str,
    tolerance: float | Mapping[str, float] | None = None,
    number: int | str | None = None,
    formats: Mapping[str, Formatter] | None = None,
    extra_rows: bool = True,
    links: Mapping[Any, str] | None = None,
) -> Comparison:
    """Published values beside recomputed ones, row by row on ``key``.

    Values agree when equal as numbers (within ``tolerance``, absolute; a number or one per
    column) or, for text, equal ignoring case and spacing (``"12="`` vs ``"12="``). Counted
    are the paper's values: every row of ``published`` times ``columns``; a published row
    missing from the recomputation counts as disagreeing. Recomputed rows the paper does
    not list are shown (greyed, ``extra_rows=False`` hides them) but not counted.
    """
    columns = tuple(columns)
    for name, df in (("recomputed", recomputed), ("published", published)):
        missing = [c for c in (key, *columns) if c not in df.columns]
        if missing:
            raise KeyError(f"{name} has no column(s) {missing}")
    tol = tolerance if isinstance(tolerance, Mapping) else {c: tolerance for c in columns}
    rec = recomputed.drop_duplicates(subset=[key]).set_index(key)
    pub_keys = list(published[key])
    rows: list[dict[str, Any]] = []
    agree = total = 0
    for _, prow in published.iterrows():
        k = prow[key]
        rrow = rec.loc[k] if k in rec.index else None
        row: dict[str, Any] = {key: k, "_extra": False}
        for c in columns:
            pv = prow[c]
            rv = rrow[c] if rrow is not None else None
            ok = rrow is not None and _agrees(pv, rv, tol.get(c))
            row[f"{c}_paper"], row[f"{c}_recomputed"], row[f"{c}_agree"] = pv, rv, ok
            agree += int(ok)
            total += 1
        rows.append(row)
    if extra_rows:
        for k, rrow in rec.iterrows():
            if k in pub_keys:
                continue
            row = {key: k, "_extra": True}
            for c in columns:
                row[f"{c}_paper"], row[f"{c}_recomputed"], row[f"{c}_agree"] = None, rrow[c], None
            rows.append(row)
    order = [key] + [f"{c}_{s}" for c in columns for s in ("paper", "recomputed", "agree")] + ["_extra"]
    frame = pd.DataFrame(rows, columns=order)
    return Comparison(frame, key, columns, caption, csv_name, agree, total, number, dict(formats or {}),
                      dict(links or {}))
