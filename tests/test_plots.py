"""Every figure function returns a non-empty figure on the example database, deterministically
and without warnings."""

from __future__ import annotations

import io
import math
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


# --- the house style (quantumclusters.report.style), checked on every figure of the book ---------
#
# Each figure is built from the bundled database's run, shown as the book shows it
# (figures.figure_html: a 2x PNG cut to its contents, displayed at half its pixel width) and
# then measured. The book's content column is style.COLUMN_PX wide: a wider image is scaled
# down by the browser, and its text with it.

import base64  # noqa: E402
import functools  # noqa: E402
import re  # noqa: E402
import struct  # noqa: E402

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from quantumclusters.report import figures, maps, style  # noqa: E402


@functools.lru_cache(maxsize=1)
def _bundled():
    return notebook.load(None, "2025-07-31", draws=200, seed=1)


def _extra(name):
    import pandas as pd

    r = _bundled()
    if name == "rank_uncertainty":
        unc = robustness.rank_uncertainty(r.indicator_table(), draws=200, seed=1)
        return plots.figure_rank_uncertainty(unc, r.ranking.set_index("cluster")["overall_rank"])
    if name == "detection_sensitivity":
        grid = pd.DataFrame([{"eps_km": e, "min_samples": m, "clusters": 40 + e // 5 - m,
                              "spearman": 1 - abs(e - 20) / 50 - abs(m - 10) / 40}
                             for e in (10, 15, 20, 25, 30) for m in (5, 8, 10, 12, 15)])
        return plots.figure_detection_sensitivity(grid)
    if name == "vintage_movement":
        return plots.figure_vintage_movement(notebook.rank_movement(r, r), "2024-07-31", "2025-07-31")
    if name == "methodology_diagram":
        from quantumclusters.report import diagram

        return diagram.methodology_diagram(r.params, cutoff=r.cutoff, draws=r.draws, seed=r.seed)
    if name == "spearman_distribution":
        rng = np.random.default_rng(1)
        return plots.figure_spearman_distribution({d: rng.uniform(0.8, 1.0, 300) for d in ("overall", "market_orientation", "collaboration_intensity")})
    raise KeyError(name)


BOOK_FIGURES = [*FIGURES, *(f"map_{v}" for v in maps.VIEWS),
                "rank_uncertainty", "detection_sensitivity", "vintage_movement", "spearman_distribution",
                "methodology_diagram"]
#: Figures whose bars, points or lines are coloured by rank: they need the rank colour bar.
RANK_COLOURED = ["figure_5_total_funding", "figure_6_startup_funding_intensity", "figure_7_ecosystem_value",
                 "figure_8_collaborations", "figure_10_brokerage", "figure_13_startups_per_institution",
                 *(f"map_{v}" for v in maps.VIEWS), "rank_uncertainty", "vintage_movement"]


def _build(name):
    if name.startswith("map_"):
        return maps.cluster_map(_bundled(), name[4:])
    if name.startswith("figure_"):
        return getattr(plots, name)(_bundled())
    return _extra(name)


@functools.lru_cache(maxsize=None)
def _shown(name):
    """(figure, html, displayed width in CSS px) of one figure as the book shows it."""
    fig = _build(name)
    html = figures.figure_html(fig)
    png = base64.b64decode(re.search(r"base64,([^\"]+)\"", html).group(1))
    png_width = struct.unpack(">I", png[16:20])[0]
    style._renderer(fig)  # an Agg canvas, drawn at the design size
    return fig, html, png_width / 2


def _texts(fig):
    out = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_figure(root=True) is fig:
            out.append(t)
    return out


def _data_axes(fig):
    return [a for a in fig.findobj(Axes) if not hasattr(a, "_colorbar")]


def _colourbars(fig):
    return [a for a in fig.findobj(Axes) if hasattr(a, "_colorbar")]


@pytest.mark.parametrize("name", BOOK_FIGURES)
def test_every_text_is_at_least_9_pt_at_display_size(name):
    fig, _html, width = _shown(name)
    scale = min(1.0, style.COLUMN_PX / width)
    small = sorted({(t.get_text()[:40], round(t.get_fontsize() * scale, 2)) for t in _texts(fig)
                    if t.get_fontsize() * scale < style.MIN_FONT - 1e-6})
    assert not small, f"{name} (shown at {width:.0f} px, scale {scale:.2f}) has text under 9 pt: {small[:8]}"


@pytest.mark.parametrize("name", BOOK_FIGURES)
def test_no_text_is_truncated_or_clipped(name):
    fig, _html, _w = _shown(name)
    renderer = fig.canvas.get_renderer()
    for t in _texts(fig):
        text = t.get_text()
        assert not text.rstrip().endswith(("…", "...")), f"{name}: truncated label {text!r}"
        clip = t.get_clip_box()
        if t.get_clip_on() and clip is not None:
            bb = t.get_window_extent(renderer)
            assert bb.x0 >= clip.x0 - 1 and bb.x1 <= clip.x1 + 1 and bb.y0 >= clip.y0 - 1 and bb.y1 <= clip.y1 + 1, \
                f"{name}: {text!r} is cut by its axes"


def _overlaps(boxes):
    hits = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (a, ta), (b, tb) = boxes[i], boxes[j]
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > 1.5 and h > 1.5:
                hits.append((ta, tb))
    return hits


@pytest.mark.parametrize("name", BOOK_FIGURES)
def test_labels_do_not_overlap(name):
    """Tick labels of one axis, and the texts drawn in one axes (point labels, value labels),
    never overlap each other."""
    fig, _html, _w = _shown(name)
    renderer = fig.canvas.get_renderer()
    for ax in _data_axes(fig):
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():  # e.g. the hidden x axis of a twin
                continue
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text().strip()]
            slanted = [t for t in labels if t.get_rotation() % 90]
            if slanted:
                # slanted labels are parallel strips: they clear each other when the step
                # between ticks, across the slant, exceeds the height of a line
                angle = math.radians(slanted[0].get_rotation())
                xs = sorted(renderer.points_to_pixels(0) + ax.transData.transform((p, 0))[0] for p in axis.get_ticklocs())
                step = min(np.diff(xs)) if len(xs) > 1 else float("inf")
                line = renderer.points_to_pixels(slanted[0].get_fontsize()) * 1.2
                assert step * abs(math.sin(angle)) >= line, f"{name}: slanted tick labels collide"
                continue
            ticks = [(t.get_window_extent(renderer), t.get_text()) for t in labels]
            assert not _overlaps(ticks), f"{name}: tick labels overlap: {_overlaps(ticks)[:3]}"
        # the text itself (Text.get_window_extent), without an annotation's leader line
        own = [(Text.get_window_extent(t, renderer), t.get_text()) for t in ax.texts
               if t.get_visible() and t.get_text().strip()]
        assert not _overlaps(own), f"{name}: labels overlap: {_overlaps(own)[:3]}"
        legends = [(lg.get_window_extent(renderer), "legend") for lg in fig.findobj(Legend)]
        for box, text in own:
            hits = _overlaps([(box, text), *legends])
            assert not [h for h in hits if text in h], f"{name}: a legend covers {text!r}"


def _fill_colours(fig):
    colours = set()
    for ax in _data_axes(fig):
        for p in ax.patches:
            if isinstance(p, Rectangle) and p.get_visible() and p.get_width() * p.get_height() != 0:
                colours.add(matplotlib.colors.to_hex(p.get_facecolor()))
        for c in ax.collections:
            if isinstance(c, PathCollection) and len(c.get_offsets()):
                for fc in c.get_facecolors():
                    colours.add(matplotlib.colors.to_hex(fc))
    return colours


@pytest.mark.parametrize("name", BOOK_FIGURES)
def test_colour_has_a_key(name):
    """Where colour encodes something (more than one fill colour, or a colour map) the figure
    has a legend or a colour bar."""
    fig, _html, _w = _shown(name)
    mapped = any(isinstance(a, AxesImage) or (isinstance(a, PathCollection) and a.get_array() is not None)
                 for ax in _data_axes(fig) for a in (*ax.images, *ax.collections))
    keyed = bool(_colourbars(fig)) or bool(fig.findobj(Legend))
    if mapped or len(_fill_colours(fig) - {"#ffffff"}) > 1:
        assert keyed, f"{name} uses {len(_fill_colours(fig))} colours and has no legend or colour bar"


@pytest.mark.parametrize("name", RANK_COLOURED)
def test_rank_colour_has_a_rank_colour_bar(name):
    fig, _html, _w = _shown(name)
    labels = [cb.get_ylabel() + cb.get_xlabel() for cb in _colourbars(fig)]
    assert any("rank" in label.lower() for label in labels), f"{name}: colour bars {labels}"


COUNT_AXES = {
    "figure_8_collaborations": "x",
    "figure_12_spinouts": "y",
    "figure_14_quasi_clusters": "y",
    "figure_17_involvement": "x",
    "spearman_distribution": "y",
    "rank_uncertainty": "x",
}


@pytest.mark.parametrize("name", sorted(COUNT_AXES))
def test_count_axes_have_integer_ticks(name):
    fig, _html, _w = _shown(name)
    ax = _data_axes(fig)[0]
    axis = ax.xaxis if COUNT_AXES[name] == "x" else ax.yaxis
    locator = axis.get_major_locator()
    assert isinstance(locator, MaxNLocator) and locator._integer, f"{name}: {locator!r}"
    lo, hi = sorted(ax.get_xlim() if COUNT_AXES[name] == "x" else ax.get_ylim())
    ticks = [t for t in axis.get_ticklocs() if lo - 1e-9 <= t <= hi + 1e-9]
    assert ticks and all(float(t).is_integer() for t in ticks), f"{name}: ticks {ticks}"


def test_figure_7_axis_is_logarithmic_where_one_value_dwarfs_the_rest():
    fig, _html, _w = _shown("figure_7_ecosystem_value")
    ax = _data_axes(fig)[0]
    points, _missing = plots.figure_7_data(_bundled())
    x = points["ecosystem_value_pct_gdp"]
    assert x.max() > 5 * x.median()  # the San Francisco Bay Area
    assert ax.get_xscale() == "log"
    assert "log scale" in ax.get_xlabel()
    assert not any(t.get_text().startswith("$") for t in ax.get_xticklabels())  # plain numbers, no 10^x


def test_dwarfed():
    assert style.dwarfed([1, 2, 3, 2, 100])
    assert not style.dwarfed([1, 2, 3, 2, 5])
    assert not style.dwarfed([0, 2, 3, 2, 100])  # a log axis cannot show zero


def test_east_asia_map_shows_singapore_as_an_inset():
    fig, _html, _w = _shown("map_east_asia")
    main = [a for a in _data_axes(fig) if not getattr(a, "_qc_inset", False)]
    insets = [a for a in _data_axes(fig) if getattr(a, "_qc_inset", False)]
    assert len(main) == 1 and len(insets) == 1
    assert main[0].get_ylim()[0] > 10  # the main map stops at the South China coast: no empty sea to the equator
    assert "Singapore" in insets[0].get_title(loc="left")
    (lon, lat), = [tuple(o) for c in insets[0].collections if isinstance(c, PathCollection) for o in c.get_offsets()]
    assert 103 < lon < 104.5 and 1 < lat < 1.6
    assert any(t.get_text().startswith("Singapore") for t in insets[0].texts)


def test_wrap_breaks_names_without_cutting_them():
    name = "Shenzhen–Hong Kong–Guangzhou Region"
    wrapped = style.wrap(name, 22)
    assert "\n" in wrapped and "…" not in wrapped
    assert wrapped.replace("–\n", "–").replace("\n", " ") == name
    assert all(len(line) <= 22 for line in wrapped.split("\n"))
    assert style.wrap("Hefei", 22) == "Hefei"


@pytest.mark.parametrize("name", BOOK_FIGURES)
def test_shown_at_2x_with_alt_text_and_within_the_column(name):
    _fig, html, width = _shown(name)
    m = re.search(r'width="(\d+)" alt="([^"]+)"', html)
    assert m and int(m.group(1)) == int(width), html[-300:]
    assert len(m.group(2)) > 10
    assert width <= style.COLUMN_PX + 10, f"{name} is {width:.0f} px wide: the browser would shrink its text"


def _png_pixels(html):
    from PIL import Image

    png = base64.b64decode(re.search(r"base64,([^\"]+)\"", html).group(1))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


@pytest.mark.parametrize("name", [n for n in BOOK_FIGURES if n != "methodology_diagram"])
def test_disclosure_mark_covers_nothing(name):
    """In the image as the book shows it, the synthetic-records mark covers nothing: inside
    its box there is no grey or dark pixel of another artist (text, legend marker or axis
    line showing faintly through the mark's white box)."""
    _fig, html, _w = _shown(name)
    px = _png_pixels(html)
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    mark = (abs(r - 0x9A) < 30) & (abs(g - 0x34) < 30) & (abs(b - 0x12) < 30)  # the mark's border and text
    rows, cols = np.nonzero(mark)
    assert len(rows), f"{name}: no mark in the image"
    # the box: the mark's pixels in the bottom part of the image (the mark sits at the bottom)
    bottom = rows > px.shape[0] - 80
    top, left, low, right = rows[bottom].min() + 3, cols[bottom].min() + 3, rows[bottom].max() - 3, cols[bottom].max() - 3
    inner = px[top:low, left:right]
    ir, ib = inner[..., 0], inner[..., 2]
    greyish = ((inner.max(axis=2) - inner.min(axis=2)) < 6) & (inner.mean(axis=2) < 240)
    reddish = (ir - ib) > 4  # the mark's own anti-aliased text
    assert not (greyish & ~reddish).any(), f"{name}: something shows through the disclosure mark"


# --- the methodology diagram (Annex 1) ----------------------------------------------------------


def _diagram_text(fig):
    return " ".join(t.get_text().replace("\n", " ") for t in fig.findobj(Text))


def test_methodology_diagram_reads_its_numbers_from_the_engine():
    import dataclasses

    from quantumclusters.detection import Params
    from quantumclusters.report import diagram

    paper = _diagram_text(diagram.methodology_diagram(Params(), cutoff="2025-07-31", draws=5000, seed=7))
    for words in ("20 km", "at least 10 institutions", "USD 10 million", "USD 25 million", "50 collaborations",
                  "USD 5 million", "31 July 2025", "5,000 random weightings", "DBSCAN"):
        assert words in " ".join(paper.split()), words
    changed = dataclasses.replace(Params(), eps_km=15.0, merge_km=18.0, min_samples=12, cluster_min_single_usd=30e6)
    other = " ".join(_diagram_text(diagram.methodology_diagram(changed, cutoff="2024-12-31", draws=300)).split())
    assert "15 km" in other and "at least 12 institutions" in other and "USD 30 million" in other
    assert "31 December 2024" in other and "300 random weightings" in other
    assert "20 km" not in other and "18 km" in other
    steps = [s.title for s in diagram.methodology_steps()]
    assert steps == ["Records", "Data cut-off", "Detection", "Thresholds", "Nine indicators", "Three dimensions",
                     "Ranking", "Robustness"]


def test_methodology_diagram_is_marked_as_drawing_on_no_records():
    from quantumclusters.report import diagram

    fig = diagram.methodology_diagram()
    assert not figures.uses_synthetic(fig, {"institutions": 1.0, "funding": 1.0, "collaborations": 1.0, "areas": 1.0})
    assert "eight steps" in figures.alt_text(fig)
