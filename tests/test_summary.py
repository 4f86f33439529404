"""The front page's findings and the chapter banner's plain-words synthetic shares."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from quantumclusters.report import notebook as nb
from quantumclusters.report import summary


def _db(inst: list[str] | None, fund: list[str] | None, coll: list[str] | None) -> SimpleNamespace:
    def frame(values: list[str] | None) -> pd.DataFrame:
        return pd.DataFrame({"x": [1, 2, 3, 4]}) if values is None else pd.DataFrame({"synthetic": values})

    return SimpleNamespace(institutions=frame(inst), funding=frame(fund), collaborations=frame(coll))


def test_synthetic_sentence_counts_each_table_separately() -> None:
    text = nb.synthetic_sentence(_db(["true", "false", "false", "false"], ["true"] * 4, ["false", "true", "true", "false"]))
    assert "25% of the institutions" in text
    assert "all of the funding events" in text
    assert "50% of the collaborations" in text
    assert "synthetic" in text and "column" not in text and ".csv" not in text


def test_no_synthetic_wording_without_marking_or_when_all_real() -> None:
    assert nb.synthetic_sentence(_db(None, None, None)) == ""
    assert nb.synthetic_sentence(_db(["false"] * 4, ["False"] * 4, None)) == ""
    only = nb.synthetic_sentence(_db(["false"] * 4, None, ["true", "false", "false", "false"]))
    assert "25% of the collaborations" in only and "institutions" not in only


def test_findings_render_paper_and_run_with_verdicts() -> None:
    f = summary.Findings([
        summary.Finding("A", "the paper says <1>", "the run says 1", True),
        summary.Finding("B", "the paper says 2", "the run says 3", False),
        summary.Finding("C", "a proposal", ""),
    ])
    html = f._repr_html_()
    assert "&lt;1&gt;" in html  # escaped
    assert ">agrees</span>" in html and ">differs</span>" in html  # the book's one verdict scheme
    assert "borne out" not in html
    assert html.count("This run:") == 2
