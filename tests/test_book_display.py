"""Tables of the book (quantumclusters.report.display) and the offline maps (quantumclusters.report.maps)."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from quantumclusters.report import display, maps


class Cells(HTMLParser):
    """Text of every th/td, the caption, the tags seen and the links."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.caption = ""
        self.tags: list[str] = []
        self.links: list[dict[str, str | None]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("td", "th", "caption"):
            self._in = tag
            if tag != "caption":
                self.cells.append("")
        if tag == "a":
            self.links.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "caption"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "caption":
            self.caption += data
        elif self._in:
            self.cells[-1] += data


def parse(html: str) -> Cells:
    p = Cells()
    p.feed(html)
    return p


EVIL = '<script>alert(1)</script>'


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cluster": ["Greater Helsinki", EVIL, "本源量子 & <b>Co</b>"],
            "rank": [1, 2, 3],
            "funding": [418_000_000.0, 0.4712, np.nan],
        }
    )


def test_table_is_a_real_html_table_with_caption_escaping_and_csv(frame: pd.DataFrame) -> None:
    t = display.table(frame, caption="Top clusters", csv_name="top clusters", number=3)
    html = t._repr_html_()
    p = parse(html)
    assert "table" in p.tags and "script" not in p.tags and "b" not in p.tags
    assert p.caption == "Table 3: Top clusters"
    assert EVIL in p.cells and "本源量子 & <b>Co</b>" in p.cells  # shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert {"418,000,000", "0.471", "–"} <= set(p.cells)
    assert 'id="table-3"' in html
    (link,) = p.links
    assert link["download"] == "top_clusters.csv"
    payload = link["href"]
    assert payload.startswith("data:text/csv;charset=utf-8;base64,")
    csv = base64.b64decode(payload.split(",", 1)[1]).decode("utf-8")
    back = pd.read_csv(io.StringIO(csv))
    assert list(back["cluster"]) == list(frame["cluster"])
    assert back["funding"][1] == pytest.approx(0.4712)
    assert html == display.table(frame, caption="Top clusters", csv_name="top clusters", number=3)._repr_html_()
    assert "Table 3: Top clusters" in repr(t)


def test_table_formats_and_named_index(frame: pd.DataFrame) -> None:
    t = display.table(frame.set_index("cluster"), caption="x", csv_name="x.csv", formats={"funding": "{:.1%}"})
    p = parse(t._repr_html_())
    assert p.cells[:3] == ["cluster", "rank", "funding"]
    assert "47.1%" in p.cells


def test_compare_counts_agreements_and_marks_differences() -> None:
    rec = pd.DataFrame({"cluster": ["A", "B", "C", "Z"], "rank": [1, 2, 3, 9], "label": ["1", "2=", "3", "9"],
                        "value": [1.0, 2.004, 3.5, 0.0]})
    pub = pd.DataFrame({"cluster": ["A", "B", "C", "D"], "rank": ["1", "2", "4", "5"], "label": ["1", "2=", "3", "5"],
                        "value": [1.0, 2.0, 3.0, 5.0]})
    c = display.compare(rec, pub, key="cluster", columns=["rank", "label", "value"], caption="Ranks",
                        csv_name="ranks.csv", tolerance={"value": 0.01})
    # A: 3 agree; B: rank 2 vs 2 ok, label ok, value ok; C: rank differs, label ok, value differs; D missing
    assert (c.agree, c.total) == (7, 12)
    html = c._repr_html_()
    assert "7 of 12 values agree" in html
    assert html.index("7 of 12 values agree") < html.index("<table")
    assert html.count("qc-diff") == 5  # C rank, C value, D x3
    assert "qc-extra-row" in html  # Z is not in the paper: shown, not counted
    assert "7 of 12 values agree" in repr(c) and "C: rank: paper 4, recomputed 3" in repr(c)
    exact = display.compare(rec, pub, key="cluster", columns=["value"], caption="v", csv_name="v.csv")
    assert exact.agree == 1


def test_compare_escapes_names() -> None:
    rec = pd.DataFrame({"cluster": [EVIL], "top": [EVIL]})
    c = display.compare(rec, rec, key="cluster", columns=["top"], caption="<i>x</i>", csv_name="c.csv")
    p = parse(c._repr_html_())
    assert "script" not in p.tags and "i" not in p.tags
    assert EVIL in p.cells and (c.agree, c.total) == (1, 1)


def test_compare_rejects_unknown_columns() -> None:
    df = pd.DataFrame({"cluster": ["A"], "rank": [1]})
    with pytest.raises(KeyError, match="no column"):
        display.compare(df, df, key="cluster", columns=["nope"], caption="c", csv_name="c.csv")


def map_frame() -> pd.DataFrame:
    cities = {
        "Greater Paris": (48.86, 2.35), "Greater Munich": (48.14, 11.58), "London": (51.5, -0.12),
        "Cambridge": (52.2, 0.12), "Oxford": (51.75, -1.25), "Greater Helsinki": (60.17, 24.94),
        "SF Bay Area": (37.6, -122.2), "Boston": (42.36, -71.06), "Tokyo": (35.7, 139.7), "Hefei": (31.8, 117.2),
    }
    df = pd.DataFrame([(k, *v) for k, v in cities.items()], columns=["cluster", "lat", "lon"]).set_index("cluster")
    df["overall_rank"] = np.arange(1, len(df) + 1)
    df["overall_label"] = df["overall_rank"].astype(str)
    df["total_funding_usd"] = np.linspace(5e9, 1e7, len(df))
    return df


def test_countries_file_loads() -> None:
    rings = maps.load_countries()
    assert len(rings) > 200 and all(r.shape[1] == 2 for r in rings)


@pytest.mark.parametrize("view", sorted(maps.VIEWS))
def test_maps_draw_deterministically_with_labels_inside(view: str) -> None:
    df = map_frame()
    fig = maps.cluster_map(df, view)
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_text()]
    v = maps.VIEWS[view]
    expected = df[df["lon"].between(*v.lon) & df["lat"].between(*v.lat)]
    assert len(texts) == len(expected) > 0
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in texts]
    for b in boxes:
        assert box.x0 - 1 <= b.x0 and b.x1 <= box.x1 + 1 and box.y0 - 1 <= b.y0 and b.y1 <= box.y1 + 1
    buf1, buf2 = io.BytesIO(), io.BytesIO()
    fig.savefig(buf1, format="png")
    maps.cluster_map(df, view).savefig(buf2, format="png")
    assert buf1.getvalue() == buf2.getvalue()
    assert re.search(r"\d", texts[0].get_text())


# --------------------------------------------------------------------------- the agreement scheme


def _item(id_: str, row: str, field: str, published: object, recomputed: object, status: str, note: str = "",
          kind: str = "table", description: str = "") -> object:
    from quantumclusters.report.fidelity import FidelityItem

    return FidelityItem(id_, kind, "Table X", description or f"{row}: {field}", published, recomputed, "exact",
                        status, note, row=row, field=field)


def test_compare_with_items_shows_each_verdict_and_its_reason_at_the_table() -> None:
    rec = pd.DataFrame({"cluster": ["A", "B", "C"], "region": ["EU", "Rest of the World", "US"]})
    pub = pd.DataFrame({"cluster": ["A", "B", "C"], "region": ["EU", "Rest of the World", "EU"]})
    items = [
        _item("t.a", "A", "region", "EU", "EU", "reproduced"),
        # the printed value comes from the item, whatever the frame says: the paper printed EU
        _item("t.b", "B", "region", "EU", "Rest of the World", "by_choice",
              "The paper prints EU; the method's regions put Switzerland in Rest of the World."),
        _item("t.c", "C", "region", "EU", "US", "miss"),
        _item("t.all", "", "", "3 names", "3 names", "reproduced", description="the same three clusters"),
    ]
    c = display.agreement_table(rec, pub, key=("cluster", "Cluster"), columns={"region": "Region"},
                                caption="Regions", csv_name="r.csv", items=items)
    assert c.verdict_counts == {"agrees": 2, "by_choice": 1, "differs": 1, "total": 4}
    assert c.summary() == "2 of 4 values agree, 1 agrees by documented choice, 1 differs"
    html = c._repr_html_()
    p = parse(html)
    b = c.frame.set_index("Cluster").loc["B"]
    assert (b["Region_paper"], b["Region_verdict"]) == ("EU", "by_choice")
    assert "agrees by documented choice (note 1)" in p.cells
    assert "differs (note 2)" in p.cells and "agrees" in p.cells
    assert "Switzerland in Rest of the World" in html  # the reason, at the table, in words
    assert "The same three clusters: agrees" in html  # a check of the whole table, listed under it
    assert html.count('class="qc-recomputed qc-choice') == 1 and html.count('class="qc-recomputed qc-diff') == 1


def test_compare_shown_items_give_verdicts_without_counting() -> None:
    rec = pd.DataFrame({"cluster": ["A"], "rank": ["1"], "region": ["EU"]})
    items = [_item("t3.a", "A", "rank", "1", "1", "reproduced")]
    shown = [_item("ta.a.region", "A", "region", "EU", "EU", "reproduced")]
    c = display.agreement_table(rec, rec, key=("cluster", "Cluster"), columns={"rank": "Rank", "region": "Region"},
                                caption="Top", csv_name="t.csv", items=items, shown_items=shown,
                                note="Region repeats Table 1 and is counted there.")
    assert c.verdict_counts["total"] == 1 and not c.checks
    assert c.frame.loc[0, "Region_verdict"] == "agrees" and not c.frame.loc[0, "Region_counted"]
    assert "counted there" in c._repr_html_()


class _Report:
    def __init__(self, items: list) -> None:
        self.items = items

    def items_of(self, *, chapter=None, sections=None, prefix=None, kind=None) -> list:
        return [i for i in self.items if (sections is None or i.section in sections) and (kind is None or i.kind == kind)]


def test_stated_numbers_are_three_columns_in_words_collapsed() -> None:
    from quantumclusters.report.fidelity import FidelityItem

    items = [
        FidelityItem("fig2_helsinki_above_418m", "stated", "2.2", "attracting over USD 418 million", 418e6, 418.5e6,
                     "[4.18e+08, 4.19e+08)", "reproduced", metric="indicator[total_funding_usd][Greater Helsinki]",
                     check="yes"),
        FidelityItem("s6_eu_34", "stated", "2.2", "The EU accounts for 34 quasi-clusters", 34, 31, "[34, 34]",
                     "by_choice", "The paper prints Basel under EU; the method's regions put Switzerland elsewhere.",
                     metric="n_quasi_clusters[region=EU]", check="yes"),
    ]
    s = display.stated_numbers(_Report(items), ["2.2"], caption="Numbers stated in section 2", csv_name="s.csv")
    html = s._repr_html_()
    p = parse(html)
    assert "details" in p.tags and "open" not in html.split("<details", 1)[1].split(">", 1)[0]  # collapsed
    assert html.index("<summary>") < html.index("<table")
    assert "Numbers stated in section 2: 1 of 2 values agree, 1 agrees by documented choice" in html
    assert p.cells[:3] == ["What the paper says", "Recomputed", "Verdict"]
    assert "\u201cattracting over USD 418 million\u201d" in p.cells and "USD 418.5 million" in p.cells
    assert "31 quasi-clusters" in p.cells
    assert "[" not in "".join(p.cells) and "indicator" not in html.split("<table", 1)[1].split("</table>", 1)[0]


@pytest.mark.parametrize(("value", "unit", "text"), [
    (418.5e6, "USD", "USD 418.5 million"), (6.21e9, "USD", "USD 6.21 billion"), (96.0000002, "per cent", "96.0%"),
    (1.0, "member", "yes"), (0.0, "member", "no"), (0.0130051, "fraction of GDP", "1.30% of GDP"),
    (0.7997, "ratio", "a ratio of 0.800"), (45.0, "clusters", "45 clusters"), (float("nan"), "USD", "not computable"),
    (1.198e9, "USD", "USD 1.198 billion"), (750e9, "USD", "USD 750 billion"), (755e6, "USD", "USD 755 million"),
    (1.0, "clusters", "1 cluster"), (1.0, "countries", "1 country"),
])
def test_format_stated(value: float, unit: str, text: str) -> None:
    assert display.format_stated(value, unit) == text


def test_counts_words() -> None:
    assert display.counts_words({"agrees": 3, "by_choice": 0, "differs": 0, "total": 3}) == "3 of 3 values agree"
    assert display.counts_words({"agrees": 0, "by_choice": 1, "differs": 0, "total": 1}) == (
        "0 of 1 value agree, 1 agrees by documented choice")
