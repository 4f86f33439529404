"""Disclosure at the point of use: figures, captions and downloads say when synthetic records
contribute, computed from the database's markers; with none, no mark appears anywhere."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from matplotlib.figure import Figure

from quantumclusters import paths
from quantumclusters.report import book, display, figures

EXAMPLE = paths.repo_root() / "tests" / "data" / "example"


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3), dpi=100)
    ax = fig.add_subplot()
    ax.plot([1, 2, 3], [3, 1, 2])
    ax.set_xlabel("Year")
    ax.set_ylabel("Funding")
    return fig


def test_shares_are_computed_per_table_from_the_markers() -> None:
    frame = pd.DataFrame({"synthetic": ["true", "false", "TRUE", "false"]})
    assert figures.synthetic_share(frame) == 0.5
    assert figures.synthetic_share(pd.DataFrame({"x": [1]})) is None
    areas = pd.DataFrame({"synthetic": ["false", "false"], "gdp_adjusted": ["true", "false"]})
    assert figures.synthetic_share(areas) == 0.5


def test_figure_html_marks_only_when_a_drawn_on_table_is_synthetic() -> None:
    synthetic = {"institutions": 0.0, "funding": 1.0, "collaborations": None, "areas": None}
    marked = figures.figure_html(figures.draws_on(_figure(), "funding"), synthetic)
    assert "qc-disclosure" in marked and "Illustrative" in marked
    assert 'alt="Chart. horizontal axis: Year; vertical axis: Funding"' in marked
    clean = figures.figure_html(figures.draws_on(_figure(), "institutions"), synthetic)
    assert "qc-disclosure" not in clean and "Illustrative" not in clean
    # the mark is drawn inside the image: the two PNGs differ
    png = [base64.b64decode(re.search(r"base64,([^\"]+)", h).group(1)) for h in (marked, clean)]
    assert png[0] != png[1]
    # 2x resolution, shown at the design width
    width = int(re.search(r'width="(\d+)"', marked).group(1))
    assert width == int.from_bytes(png[0][16:20], "big") // 2


def test_csv_downloads_carry_the_provenance() -> None:
    text = display.csv_provenance({"institutions": 0.98, "funding": 1.0, "collaborations": 1.0, "areas": 0.0})
    assert text.startswith("# Illustrative") and "98% of institutions" in text and "100% of funding events" in text
    assert display.csv_provenance({"institutions": 0.0, "funding": None, "collaborations": 0.0, "areas": 0.0}) == ""


def _run_chapter(db: Path, out: Path) -> str:
    code = book.main(["--data", str(db), "--chapter", "01", "--out-dir", str(out), "--no-html", "--jobs", "1"])
    assert code == 0
    nb = nbformat.read(out / "book" / "01_clusters.ipynb", as_version=4)
    return "\n".join(
        str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/markdown", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_book_chapter_marks_figures_on_a_synthetic_database_and_not_on_a_real_flagged_one(tmp_path: Path) -> None:
    synthetic_html = _run_chapter(EXAMPLE, tmp_path / "synthetic")
    assert synthetic_html.count("qc-disclosure") >= 3  # Figure 1 and the three maps at least
    assert "# Illustrative" in "".join(
        base64.b64decode(m).decode("utf-8") for m in re.findall(r"data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)", synthetic_html)
    )

    real = tmp_path / "real_db"
    shutil.copytree(EXAMPLE, real, ignore=shutil.ignore_patterns("*.py", "*.md"))
    for csv in real.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for col in ("synthetic", "ecosystem_value_synthetic", "gdp_adjusted"):
            if col in frame.columns:
                frame[col] = "false"
        frame.to_csv(csv, index=False, lineterminator="\n")
    real_html = _run_chapter(real, tmp_path / "real")
    assert "qc-disclosure" not in real_html and "Illustrative" not in real_html
    assert "<img" in real_html  # the figures are still there
