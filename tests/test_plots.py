"""Every figure function returns a non-empty figure on the example database, deterministically
and without warnings."""

from __future__ import annotations

import io
import warnings

import pytest
from matplotlib.figure import Figure

from quantumclusters import robustness
from quantumclusters.report import notebook, plots

EXAMPLE = "tests/data/example"

FIGURES = [
    name
    for name in plots.__all__
    if name.startswith("figure_") and name.split("_")[1].isdigit() and name != "figure_7_data"
]


@pytest.fixture(scope="module")
def result():
    return notebook.load(EXAMPLE)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def test_every_paper_figure_has_a_function():
    numbers = sorted(int(n.split("_")[1]) for n in FIGURES)
    # Figures 2-4 are the maps (maps.py)
    assert numbers == [1, *range(5, 18)]


@pytest.mark.parametrize("name", FIGURES)
def test_figure_is_non_empty_and_quiet(result, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = getattr(plots, name)(result)
        assert isinstance(fig, Figure)
        assert fig.axes, f"{name} has no axes"
        w, h = fig.get_size_inches()
        assert w > 0 and h > 0
        png = _png(fig)
    assert len(png) > 5000


@pytest.mark.parametrize("name", ["figure_5_total_funding", "figure_10_brokerage", "figure_7_ecosystem_value"])
def test_figure_is_deterministic(result, name):
    a = _png(getattr(plots, name)(result))
    b = _png(getattr(plots, name)(result))
    assert a == b


def test_figure_7_lists_clusters_without_ecosystem_data(result):
    points, missing = plots.figure_7_data(result)
    # Hefei's area has no Startup Genome value in the example database
    assert "Hefei" in missing
    assert "Greater Helsinki" in points.index
    assert (points["ecosystem_value_pct_gdp"] > 0).all()


def test_funding_periods_follow_the_cutoff(result):
    periods = plots.funding_periods(result)
    assert list(periods.index) == ["Up to 2023", "2024", "2025"]
    assert ((periods["share_in_clusters"] >= 0) & (periods["share_in_clusters"] <= 1)).all()


def test_rank_uncertainty_and_beyond_the_paper_figures(result):
    import pandas as pd

    unc = robustness.rank_uncertainty(result.indicator_table(), draws=200, seed=1)
    base = result.ranking.set_index("cluster")["overall_rank"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plots.figure_rank_uncertainty(unc, base).axes
        grid = pd.DataFrame(
            {"eps_km": [10, 10, 20, 20], "min_samples": [5, 10, 5, 10], "clusters": [3, 2, 2, 0],
             "spearman": [1.0, 0.5, 1.0, float("nan")]}
        )
        assert plots.figure_detection_sensitivity(grid).axes
        move = pd.DataFrame({"cluster": ["A", "B", "C"], "rank_earlier": [1, 2, float("nan")],
                             "rank_later": [2, 1, 3]})
        assert plots.figure_vintage_movement(move, "2024-07-31", "2025-07-31").axes
        assert plots.figure_spearman_distribution({"overall": [0.9, 0.95, 1.0, 0.8]}).axes


def test_rank_colours_run_from_dark_blue_to_orange():
    from matplotlib.colors import to_hex

    assert to_hex(plots.rank_colour(1, 45)) == plots.BLUE
    assert to_hex(plots.rank_colour(45, 45)) == plots.ORANGE


def test_cjk_names_render_without_warnings():
    fig = plots.new_figure()
    ax = fig.add_subplot()
    ax.set_title("Origin Quantum (本源量子)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if "Noto Sans CJK SC" in plots.apply_style()["font.family"]:
            _png(fig)


# --- the chapters' shared helpers (quantumclusters.report.notebook) -------------------------------


def test_esc_shows_markup_as_text():
    s = notebook.esc("<script>alert(1)</script> *x* [a](b) $y$")
    assert "<" not in s and ">" not in s
    assert "&lt;script&gt;" in s
    assert r"\*x\*" in s and r"\[a\]" in s and r"\$y\$" in s


def test_say_escapes_values_but_keeps_safe_text():
    out = notebook.say("{a} and {b}", a="<b>x</b>", b=notebook.Safe("**bold**")).data
    assert out == "&lt;b&gt;x&lt;/b&gt; and **bold**"


def test_number_formats():
    assert str(notebook.usd(6.2e9)) == "USD 6.2 billion"
    assert str(notebook.usd(4.22e8)) == "USD 422 million"
    assert str(notebook.pct(0.286)) == "29%"
    assert str(notebook.num(1821.2)) == "1,821"
    assert str(notebook.signed(3)) == "+3" and str(notebook.signed(-2)) == "−2"
    assert str(notebook.names(["A", "B", "C"])) == "A, B and C"
    assert str(notebook.pct(float("nan"))) == "n/a"


def test_table_views_have_the_published_columns(result):
    for name, frame in (("table_a", notebook.ranking_table(result)), ("table_3", notebook.top_table(result, "market_orientation")),
                        ("table_2", notebook.table_2(result)), ("table_4", notebook.table_4(result)),
                        ("table_7", notebook.table_7(result))):
        published = notebook.published_table(name)
        missing = [c for c in published.columns if c not in frame.columns and c not in ("country_iso2",)]
        assert not missing, f"{name} lacks {missing}"
    t7 = notebook.table_7(result)
    # the example's Tier 1 quasi-cluster hosts a university spinout
    assert list(t7["origin_type"]) == ["University spinout"]


def test_rank_movement_and_sensitivity(result):
    move = notebook.rank_movement(result, result)
    assert (move["movement"] == 0).all()
    grid = notebook.detection_sensitivity(result, [20], [10], data_dir=EXAMPLE)
    assert grid["baseline"].tolist() == [True] and grid["clusters"].tolist() == [len(result.clusters)]
    assert grid["merged"].tolist() == [0] and grid["disappeared"].tolist() == [0] and not grid["top10_changed"].any()
    detail = notebook.detection_detail(result, [20], [10], data_dir=EXAMPLE)
    assert set(detail["status"]) == {"kept"} and (detail["retained_share"] == 1.0).all()
    common, entrants, exits = notebook.vintage_movement(result, result)
    assert (common["movement"] == 0).all() and entrants == exits == []
