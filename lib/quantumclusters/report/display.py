"""Tables for the book: real HTML tables with a caption and a CSV download.

Two functions, both returning objects that Jupyter (and myst-nb) display as HTML:

* :func:`table` shows a DataFrame as ``<table>`` with ``<caption>Table N: …</caption>``
  and a "Download CSV" link that carries the data itself (a ``data:`` URI), so it works
  offline and needs no file management.
* :func:`compare` shows the paper's published value beside the recomputed one for each
  compared column, gives every row and cell the book's one verdict (agrees / agrees by
  documented choice / differs), marks disagreements with the CSS class ``qc-diff``, says on
  top how many values have each verdict and gives, under the table, the reason for every
  verdict that is not a plain "agrees". Given the fidelity check's items
  (:mod:`quantumclusters.report.fidelity`), the verdicts and the counts are those items', so a
  table and the fidelity chapter count the same things.
* :func:`agreement_table` is :func:`compare` with readable headings; :func:`stated_numbers`
  lists the numbers the text states (the paper's words, the recomputed value, the verdict),
  collapsed by default.

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

__all__ = ["Table", "Comparison", "StatedNumbers", "VERDICT_WORDS", "table", "compare", "agreement_table",
           "stated_numbers", "counts_words", "format_value", "csv_provenance"]

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


def _aligns_right(value: Any) -> bool:
    """Whether a cell reads as a number (right-aligned): a number, or text such as ``1,821``,
    ``29%`` or a shared rank ``14=``."""
    if _is_number(value):
        return True
    return isinstance(value, str) and _as_number(value.strip().rstrip("=")) is not None


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


#: The book's one agreement scheme, in the words a reader sees (the same keys as
#: :data:`quantumclusters.report.fidelity.VERDICTS`).
VERDICT_WORDS: dict[str, str] = {"agrees": "agrees", "by_choice": "agrees by documented choice", "differs": "differs"}
_VERDICT_CLASS = {"agrees": "qc-agree", "by_choice": "qc-choice", "differs": "qc-diff"}
_SEVERITY = {"agrees": 0, "by_choice": 1, "differs": 2}


def counts_words(counts: Mapping[str, int]) -> str:
    """The verdict counts of a table, a chapter or the whole book in words:
    ``"76 of 78 values agree, 1 agrees by documented choice, 1 differs"`` (the plain agreements
    first; the other verdicts only when there are any)."""
    total = int(counts.get("total", sum(int(counts.get(v, 0)) for v in VERDICT_WORDS)))
    if not total:
        return "nothing compared"
    text = f"{int(counts.get('agrees', 0))} of {total} {'value' if total == 1 else 'values'} agree"
    k = int(counts.get("by_choice", 0))
    if k:
        text += f", {k} {'agrees' if k == 1 else 'agree'} by documented choice"
    d = int(counts.get("differs", 0))
    if d:
        text += f", {d} {'differs' if d == 1 else 'differ'}"
    return text


def _count(verdicts: Sequence[str]) -> dict[str, int]:
    out = {v: 0 for v in VERDICT_WORDS}
    for v in verdicts:
        out[v] += 1
    out["total"] = len(verdicts)
    return out


def _slug(text: Any) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "t"


@dataclass(frozen=True)
class Comparison:
    """The paper beside the recomputation (what :func:`compare` returns).

    ``frame`` has the key, then per compared column ``<col>_paper``, ``<col>_recomputed``,
    ``<col>_agree`` and, when built by :func:`compare`, ``<col>_verdict`` (a key of
    :data:`VERDICT_WORDS`), ``<col>_reason`` (words; empty for "agrees") and ``<col>_counted``."""

    frame: pd.DataFrame
    key: str
    columns: tuple[str, ...]
    caption: str
    csv_name: str
    agree: int
    total: int
    number: int | str | None = None
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    #: verdict counts (:func:`counts_words`); derived from ``agree``/``total`` when empty
    counts: Mapping[str, int] = field(default_factory=dict)
    #: checks of the whole table (e.g. "the same ten clusters"): (words, verdict, reason)
    checks: tuple[tuple[str, str, str], ...] = ()
    #: a sentence under the table (e.g. which columns are counted elsewhere)
    note: str = ""

    def _verdict(self, row: pd.Series, c: str) -> str | None:
        col = f"{c}_verdict"
        if col in row.index:
            v = row[col]
            return None if _is_missing(v) else str(v)
        ok = row[f"{c}_agree"]
        return None if _is_missing(ok) else ("agrees" if bool(ok) else "differs")

    def _reason(self, row: pd.Series, c: str) -> str:
        col = f"{c}_reason"
        if col in row.index and not _is_missing(row[col]):
            return str(row[col])
        return ""

    @property
    def verdict_counts(self) -> dict[str, int]:
        """How many counted values have each verdict, plus ``total``."""
        if self.counts:
            return dict(self.counts)
        return {"agrees": self.agree, "by_choice": 0, "differs": self.total - self.agree, "total": self.total}
    #: key value -> link (for example to the cluster profiles)
    links: Mapping[Any, str] = field(default_factory=dict)

    @property
    def disagreements(self) -> pd.DataFrame:
        """Rows with at least one value that differs from the paper."""
        flags = self.frame[[f"{c}_agree" for c in self.columns]]
        return self.frame[~flags.fillna(True).astype(bool).all(axis=1)]

    def summary(self) -> str:
        return counts_words(self.verdict_counts)

    def to_html(self) -> str:
        f = self.frame
        anchor = _slug(self.number if self.number is not None else self.csv_name)
        counts = self.verdict_counts
        out = [f'<div class="qc-table-wrap qc-compare-wrap"{_anchor(self.number)}>']
        cls = "qc-all-agree" if counts["agrees"] + counts["by_choice"] == counts["total"] else "qc-some-differ"
        out.append(f'<p class="qc-agreement {cls}">{html.escape(self.summary())}</p>')
        out.append('<table class="qc-table qc-compare">')
        out.append(f"<caption>{_caption(self.caption, self.number)}</caption>")
        out.append("<thead><tr>" + f'<th scope="col" rowspan="2">{html.escape(self.key)}</th>'
                   '<th scope="col" rowspan="2">Verdict</th>')
        out.append("".join(f'<th scope="colgroup" colspan="2">{html.escape(c)}</th>' for c in self.columns) + "</tr>")
        out.append("<tr>" + '<th scope="col">paper</th><th scope="col">recomputed</th>' * len(self.columns))
        out.append("</tr></thead><tbody>")
        notes: list[tuple[str, str]] = []
        for _, row in f.iterrows():
            extra = bool(row["_extra"])
            cells = [f'<th scope="row">{_linked(format_value(row[self.key]), self.links.get(row[self.key]))}</th>']
            worst: str | None = None
            marks: list[int] = []
            for c in self.columns:
                fmt = self.formats.get(c)
                verdict = None if extra else self._verdict(row, c)
                state = "qc-extra" if extra else _VERDICT_CLASS.get(verdict or "", "qc-uncounted")
                pub, rec = row[f"{c}_paper"], row[f"{c}_recomputed"]
                num = " qc-num" if _aligns_right(rec) or _aligns_right(pub) else ""
                sup = ""
                reason = "" if extra else self._reason(row, c)
                if verdict and verdict != "agrees" and reason:
                    notes.append((f"{format_value(row[self.key])}, {c}", reason))
                    k = len(notes)
                    marks.append(k)
                    sup = f'<sup><a href="#{anchor}-note-{k}">{k}</a></sup>'
                if verdict and (worst is None or _SEVERITY[verdict] > _SEVERITY[worst]):
                    worst = verdict
                cells.append(f'<td class="qc-paper{num}">{html.escape(format_value(pub, fmt))}</td>')
                cells.append(f'<td class="qc-recomputed {state}{num}">{html.escape(format_value(rec, fmt))}{sup}</td>')
            if extra:
                words = "not in the paper's table"
            elif worst is None:
                words = "–"
            else:
                words = VERDICT_WORDS[worst]
                if marks:
                    words += f" ({'note' if len(marks) == 1 else 'notes'} {', '.join(str(k) for k in marks)})"
            vcls = f"qc-verdict-cell qc-v-{worst}" if worst else "qc-verdict-cell"
            cells.insert(1, f'<td class="{vcls}">{html.escape(words)}</td>')  # beside the name: seen first
            row_cls = ' class="qc-extra-row"' if extra else ""
            out.append(f"<tr{row_cls}>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        if self.checks:
            out.append('<ul class="qc-checks">')
            for words, verdict, reason in self.checks:
                text = f"{words}: {VERDICT_WORDS.get(verdict, verdict)}"
                if reason and verdict != "agrees":
                    text += f". {reason}"
                out.append(f"<li>{html.escape(text)}</li>")
            out.append("</ul>")
        if notes:
            out.append('<ol class="qc-verdict-notes">')
            for k, (where, reason) in enumerate(notes, 1):
                out.append(f'<li id="{anchor}-note-{k}"><strong>{html.escape(where)}:</strong> {html.escape(reason)}</li>')
            out.append("</ol>")
        keep = [c for c in f.columns if c != "_extra" and not c.endswith("_counted")]
        foot = _csv_link(f[keep], self.csv_name, False)
        if self.note:
            foot = html.escape(self.note) + " " + foot
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
        for _, row in self.frame[~self.frame["_extra"].astype(bool)].iterrows():
            diffs = []
            for c in self.columns:
                verdict = self._verdict(row, c)
                if verdict in ("differs", "by_choice"):
                    words = "" if verdict == "differs" else " (agrees by documented choice)"
                    diffs.append(f"{c}: paper {format_value(row[f'{c}_paper'])}, recomputed "
                                 f"{format_value(row[f'{c}_recomputed'])}{words}")
            if diffs:
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
    items: Sequence[Any] | None = None,
    fields: Mapping[str, str] | None = None,
    shown_items: Sequence[Any] = (),
    note: str = "",
    links: Mapping[Any, str] | None = None,
) -> Comparison:
    """Published values beside recomputed ones, row by row on ``key``.

    Without ``items``, values agree when equal as numbers (within ``tolerance``, absolute; a
    number or one per column) or, for text, equal ignoring case and spacing (``"12="`` vs
    ``"12="``). Counted are the paper's values: every row of ``published`` times ``columns``; a
    published row missing from the recomputation counts as differing.

    With ``items`` (fidelity items, :class:`quantumclusters.report.fidelity.FidelityItem`), the
    fidelity check is the judge: ``fields`` maps a column to the items' ``field``; a cell whose
    (row, field) has an item shows the item's printed value, recomputed value, verdict and
    reason, and the table's counts are exactly the items' (those of cells, plus the items of the
    whole table, listed under it). ``shown_items`` give verdicts to cells counted in another
    table (e.g. the top-10 tables' country and region, counted in Table 1): shown, not counted.
    Recomputed rows the paper does not list are shown (greyed, ``extra_rows=False`` hides them)
    but not counted.
    """
    columns = tuple(columns)
    for name, df in (("recomputed", recomputed), ("published", published)):
        missing = [c for c in (key, *columns) if c not in df.columns]
        if missing:
            raise KeyError(f"{name} has no column(s) {missing}")
    tol = tolerance if isinstance(tolerance, Mapping) else {c: tolerance for c in columns}
    fields = dict(fields or {})
    by_cell: dict[tuple[str, str], tuple[Any, bool]] = {}
    for it in shown_items:
        by_cell[(str(it.row), str(it.field))] = (it, False)
    for it in items or ():
        if it.row and it.field:
            by_cell[(str(it.row), str(it.field))] = (it, True)
    rec = recomputed.drop_duplicates(subset=[key]).set_index(key)
    pub_keys = list(published[key])
    rows: list[dict[str, Any]] = []
    counted: list[str] = []
    matched: set[int] = set()
    for _, prow in published.iterrows():
        k = prow[key]
        rrow = rec.loc[k] if k in rec.index else None
        row: dict[str, Any] = {key: k, "_extra": False}
        for c in columns:
            pv = prow[c]
            rv = rrow[c] if rrow is not None else None
            hit = by_cell.get((str(k), fields.get(c, c))) if items is not None else None
            if hit is not None:
                it, is_counted = hit
                matched.add(id(it))
                verdict, reason = it.verdict, it.reason
                # the printed value and the recomputed one, as the check read them (a position
                # check holds cluster names, not the position the column shows)
                if it.kind == "table" and it.field != "position":
                    pv, rv = it.published, it.recomputed
                ok = verdict != "differs"
            elif items is not None:
                ok = rrow is not None and _agrees(pv, rv, tol.get(c))
                verdict, reason, is_counted = None, "", False
            else:
                ok = rrow is not None and _agrees(pv, rv, tol.get(c))
                verdict, reason, is_counted = ("agrees" if ok else "differs"), "", True
            row[f"{c}_paper"], row[f"{c}_recomputed"], row[f"{c}_agree"] = pv, rv, ok
            row[f"{c}_verdict"], row[f"{c}_reason"], row[f"{c}_counted"] = verdict, reason, is_counted
            if is_counted and verdict:
                counted.append(verdict)
        rows.append(row)
    if extra_rows:
        for k, rrow in rec.iterrows():
            if k in pub_keys:
                continue
            row = {key: k, "_extra": True}
            for c in columns:
                row[f"{c}_paper"], row[f"{c}_recomputed"], row[f"{c}_agree"] = None, rrow[c], None
                row[f"{c}_verdict"], row[f"{c}_reason"], row[f"{c}_counted"] = None, "", False
            rows.append(row)
    checks: list[tuple[str, str, str]] = []
    if items is not None:
        for it in items:  # every counted item not shown in a cell is listed under the table
            if id(it) not in matched:
                checks.append((_sentence(it.description), it.verdict, it.reason))
        counts = _count([it.verdict for it in items])
    else:
        counts = _count(counted)
    order = [key] + [f"{c}_{s}" for c in columns for s in ("paper", "recomputed", "agree", "verdict", "reason", "counted")]
    frame = pd.DataFrame(rows, columns=order + ["_extra"])
    agree = counts["agrees"] + counts["by_choice"]
    return Comparison(frame, key, columns, caption, csv_name, agree, counts["total"], number, dict(formats or {}),
                      counts, tuple(checks), note, dict(links or {}))


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text[:1].upper() + text[1:] if text else text


def agreement_table(
    recomputed: pd.DataFrame,
    published: pd.DataFrame,
    *,
    key: tuple[str, str],
    columns: Mapping[str, str],
    caption: str,
    csv_name: str,
    items: Sequence[Any] | None = None,
    shown_items: Sequence[Any] = (),
    fields: Mapping[str, str] | None = None,
    tolerance: Mapping[str, float] | float | None = None,
    formats: Mapping[str, Formatter] | None = None,
    note: str = "",
    links: Mapping[Any, str] | None = None,
) -> Comparison:
    """:func:`compare` with readable headings: ``key`` is ``(column, heading)``, ``columns``
    maps a column (present in both frames) to its heading; ``fields`` maps a column to the
    fidelity items' ``field`` where the two differ; ``tolerance`` and ``formats`` are keyed by
    column; ``links`` maps a key value to a link (for example to a cluster's profile)."""
    names = {key[0]: key[1], **columns}
    rec = recomputed[[key[0], *columns]].rename(columns=names)
    pub = published[[key[0], *columns]].rename(columns=names)
    tol = {names[k]: v for k, v in tolerance.items()} if isinstance(tolerance, Mapping) else tolerance
    fmts = {names[k]: v for k, v in (formats or {}).items()}
    flds = {names[c]: (fields or {}).get(c, c) for c in columns}
    return compare(rec, pub, key=key[1], columns=list(columns.values()), caption=caption, csv_name=csv_name,
                   tolerance=tol, formats=fmts, items=items, fields=flds, shown_items=shown_items, note=note,
                   links=links)


# --------------------------------------------------------------------------- stated numbers


def _decimals(x: float, least: int, most: int) -> str:
    """``x`` with ``least`` to ``most`` decimals: as few as show it to ``most`` decimals
    (``1.198``, ``6.21``, ``750``), so a value just under a bound never prints as the bound."""
    text = f"{x:,.{most}f}"
    if most > least:
        text = text.rstrip("0")
        whole, _, frac = text.partition(".")
        frac = frac.ljust(least, "0")
        text = whole + ("." + frac if frac else "")
    return text


def _unit_words(v: float, unit: str) -> str:
    """``45 clusters``, ``1 cluster``, ``1 country``."""
    if v == 1 and unit.endswith("ies"):
        unit = unit[:-3] + "y"
    elif v == 1 and unit.endswith("s"):
        unit = unit[:-1]
    number = f"{int(v):,}" if v.is_integer() else _decimals(v, 1, 2)
    return f"{number} {unit}".strip()


def format_stated(value: Any, unit: str) -> str:
    """A recomputed stated number in words of its unit: ``USD 418.5 million``, ``USD 1.198
    billion``, ``96.0%``, ``yes``/``no`` for membership, ``a ratio of 0.780``, ``1.30% of
    GDP``, ``1 cluster``; "not computable" for a missing value."""
    if _is_missing(value):
        return "not computable"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if unit == "USD":
        a = abs(v)
        if a >= 1e9:
            return f"USD {_decimals(v / 1e9, 0, 3)} billion"
        if a >= 1e6:
            return f"USD {_decimals(v / 1e6, 0, 1)} million"
        return f"USD {v:,.0f}"
    if unit in ("per cent", "share of draws"):
        return f"{v * (100 if unit == 'share of draws' else 1):.1f}%"
    if unit == "fraction of GDP":
        return f"{100 * v:.2f}% of GDP"
    if unit == "member":
        return "yes" if v >= 0.5 else "no"
    if unit == "rank":
        return f"rank {v:.0f}" if v.is_integer() else f"rank {v:.1f}"
    if unit in ("Spearman rho", "Pearson r", "share"):
        return f"{v:.3f}"
    if unit == "p-value":
        return f"{v:.2g}"
    if unit.startswith("ratio"):
        return f"a ratio of {v:.3f}"
    if unit == "per trillion USD GDP":
        return f"{v:,.1f} per trillion USD of GDP"
    return _unit_words(v, unit)


@dataclass(frozen=True)
class StatedNumbers:
    """The numbers the text states in some sections: the paper's words, the recomputed value
    and the verdict (what :func:`stated_numbers` returns), collapsed by default."""

    frame: pd.DataFrame  # What the paper says, Recomputed, Verdict, Reason
    caption: str
    csv_name: str
    counts: Mapping[str, int]
    chapter_counts: Mapping[str, int] | None = None

    def summary(self) -> str:
        return counts_words(self.counts)

    def to_html(self) -> str:
        out = ['<div class="qc-table-wrap qc-stated-wrap">']
        if self.chapter_counts is not None:
            out.append('<p class="qc-agreement qc-chapter-agreement">All the comparisons of this chapter, its tables '
                       f"and the numbers its text states: {html.escape(counts_words(self.chapter_counts))}.</p>")
        out.append(f'<details class="qc-stated"><summary>{html.escape(self.caption)}: '
                   f"{html.escape(self.summary())}</summary>")
        out.append('<table class="qc-table qc-stated-table">')
        out.append(f"<caption>{html.escape(self.caption)}</caption>")
        out.append('<thead><tr><th scope="col">What the paper says</th><th scope="col">Recomputed</th>'
                   '<th scope="col">Verdict</th></tr></thead><tbody>')
        for row in self.frame.itertuples(index=False):
            verdict = VERDICT_WORDS[row.verdict]
            words = html.escape(verdict) + (f'<br><span class="qc-reason">{html.escape(row.reason)}</span>'
                                            if row.reason else "")
            out.append(f'<tr><td class="qc-quote">{html.escape(row.says)}</td>'
                       f'<td class="qc-recomputed {_VERDICT_CLASS[row.verdict]}">{html.escape(row.recomputed)}</td>'
                       f'<td class="qc-verdict-cell qc-v-{row.verdict}">{words}</td></tr>')
        out.append("</tbody></table>")
        csv = self.frame.rename(columns={"says": "what the paper says", "recomputed": "recomputed",
                                         "verdict": "verdict", "reason": "reason"})
        csv = csv.assign(verdict=[VERDICT_WORDS[v] for v in csv["verdict"]])
        out.append(f'<p class="qc-table-foot">{_csv_link(csv, self.csv_name, False)}</p>')
        out.append("</details></div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        lines = [self.caption, self.summary()]
        for row in self.frame.itertuples(index=False):
            if row.verdict != "agrees":
                lines.append(f"  {row.says}: {row.recomputed} ({VERDICT_WORDS[row.verdict]})")
        return "\n".join(lines)


def _quote(description: str, quote: str) -> str:
    """The paper's words in quotation marks, followed by the plain-words tag that tells apart
    the numbers of one passage (``“…” (Cambridge)``)."""
    tag = description[len(quote):].strip() if quote and description.startswith(quote) else ""
    words = quote or description
    return f"\u201c{words}\u201d" + (f" {tag}" if tag else "")


def stated_numbers(report: Any, sections: Sequence[str], *, caption: str, csv_name: str,
                   chapter: str | None = None) -> StatedNumbers:
    """The numbers the paper's text states in ``sections`` (as the fidelity check names them:
    ``"2.1"``, ``"Annex 2"`` …) from a :class:`quantumclusters.report.fidelity.FidelityReport`:
    what the paper says (its words), the recomputed value and the verdict, with the reason
    for any verdict but "agrees". With ``chapter`` (a key of
    :data:`quantumclusters.report.fidelity.CHAPTER_SECTIONS`) it also states the counts of all
    that chapter's comparisons, from the same items as the fidelity chapter."""
    from . import published as pub
    from .fidelity import verdict_counts

    records = {s.id: s for s in pub.stated_number_records()}
    units = {k: s.unit for k, s in records.items()}
    items = report.items_of(sections=list(sections), kind="stated")
    rows = [{"says": _quote(i.description, records[i.id].quote if i.id in records else ""), "recomputed": format_stated(i.recomputed, units.get(i.id, "")),
             "verdict": i.verdict, "reason": i.reason} for i in items]
    frame = pd.DataFrame(rows, columns=["says", "recomputed", "verdict", "reason"])
    chapter_counts = verdict_counts(report.items_of(chapter=chapter)) if chapter else None
    return StatedNumbers(frame, caption, csv_name, verdict_counts(items), chapter_counts)
