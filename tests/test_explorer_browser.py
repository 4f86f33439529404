"""The explorer chapter (chapters/11_explorer.md) in headless Chromium, from file:// with
every request outside the built site blocked and reported.

The chapter is executed into a separate book (``build --out-dir --chapter 11``; the other
chapters are the committed notebooks of book/). Checked: the page loads without errors and
without a request leaving the site; a header click sorts the cluster table; the
re-weighting sliders set to (1, 0, 0) give the market-orientation ranks, and equal weights
the overall ranking, ties and "=" labels included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quantumclusters import paths
from quantumclusters.pipeline import run
from quantumclusters.report import book
from quantumclusters.schema import load_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DIMENSIONS = ("market_orientation", "collaboration_intensity", "ecosystem_maturity")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def explorer_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stem = next((p.stem for p in book.chapter_sources() if p.stem.endswith("_explorer")), None)
    assert stem, "no explorer chapter in chapters/"
    out = tmp_path_factory.mktemp("explorer_site")
    assert book.main(["--out-dir", str(out), "--chapter", stem[:2], "--draws", "200"]) == 0
    page = out / "_build" / "html" / "book" / f"{stem}.html"
    assert page.is_file()
    return page


@pytest.fixture(scope="module")
def expected():
    return run(load_database(paths.bundled_dir()), paths.DEFAULT_CUTOFF, draws=10).ranking


@pytest.fixture(scope="module")
def page(explorer_page: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    site = explorer_page.parents[1].resolve()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1000, "height": 900})
        problems: list[str] = []
        outside: list[str] = []

        def route(r) -> None:
            url = r.request.url
            if url.startswith("file://") and Path(url[len("file://"):].split("#")[0].split("?")[0]).resolve().is_relative_to(site):
                r.continue_()
            elif url.startswith("data:"):
                r.continue_()
            else:
                outside.append(url)
                r.abort()

        pg.route("**/*", route)
        pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        pg.goto(explorer_page.as_uri(), wait_until="load")
        pg.wait_for_timeout(200)
        pg.problems, pg.outside = problems, outside  # type: ignore[attr-defined]
        yield pg
        browser.close()


def live_rows(pg) -> list[tuple[str, str]]:
    return [tuple(r) for r in pg.eval_on_selector_all(
        "#reweighted-ranking tbody tr", "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])")]


def set_weights(pg, weights: dict[str, float]) -> None:
    pg.evaluate(
        """w => { for (const [k, v] of Object.entries(w)) {
                 const s = document.querySelector(`input[name="${k}"]`);
                 s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true})); } }""",
        weights,
    )


def expected_rows(ranking, part: str) -> list[tuple[str, str]]:
    r = ranking.sort_values([f"{part}_rank", "cluster"], kind="stable")
    return [(str(c), str(lab)) for c, lab in zip(r["cluster"], r[f"{part}_label"])]


def test_page_loads_offline_without_errors(page) -> None:
    assert page.problems == [], page.problems
    assert page.outside == [], f"requests left the site: {page.outside}"
    for name in ("w_" + d for d in DIMENSIONS):
        assert page.query_selector(f'input[type="range"][name="{name}"]') is not None, name
    assert len(page.query_selector_all('.qc-rw-more input[type="range"]')) == 9


def test_header_click_sorts_the_cluster_table(page, expected) -> None:
    col = page.eval_on_selector_all("#explorer-clusters thead th", "hs => hs.map(h => h.textContent)")
    k = next(i for i, t in enumerate(col) if t.startswith("Market orientation: rank"))
    page.click(f"#explorer-clusters thead th:nth-child({k + 1}) button")
    keys = page.eval_on_selector_all(
        "#explorer-clusters tbody tr", f"rs => rs.map(r => parseFloat(r.cells[{k}].getAttribute('data-sort')))")
    assert keys == sorted(keys) and len(keys) == len(expected)
    page.click(f"#explorer-clusters thead th:nth-child({k + 1}) button")
    keys = page.eval_on_selector_all(
        "#explorer-clusters tbody tr", f"rs => rs.map(r => parseFloat(r.cells[{k}].getAttribute('data-sort')))")
    assert keys == sorted(keys, reverse=True)
    page.fill('input[data-filter="explorer-clusters"]', str(expected["cluster"].iloc[0])[:5])
    visible = page.eval_on_selector_all("#explorer-clusters tbody tr", "rs => rs.filter(r => !r.hidden).length")
    assert 1 <= visible < len(expected)
    page.fill('input[data-filter="explorer-clusters"]', "")


def test_one_dimension_alone_and_equal_weights(page, expected) -> None:
    assert live_rows(page) == expected_rows(expected, "overall")
    for k, dim in enumerate(DIMENSIONS):
        set_weights(page, {f"w_{d}": (1 if d == dim else 0) for d in DIMENSIONS})
        assert live_rows(page) == expected_rows(expected, dim), dim
    set_weights(page, {f"w_{d}": 2 for d in DIMENSIONS})
    assert live_rows(page) == expected_rows(expected, "overall")
    page.click(".qc-rw-reset")
    assert live_rows(page) == expected_rows(expected, "overall")
    assert "exactly" in page.inner_text(".qc-rw-status")
    assert any(lab.endswith("=") for _, lab in live_rows(page))


def test_screenshot(page, tmp_path_factory: pytest.TempPathFactory) -> None:
    set_weights(page, {"w_market_orientation": 2.5, "w_collaboration_intensity": 0.5, "w_ecosystem_maturity": 1})
    page.eval_on_selector(".qc-reweight", "e => e.scrollIntoView()")
    shot = tmp_path_factory.mktemp("shots") / "explorer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert page.problems == [] and page.outside == []


def test_download_of_the_result_files_resolves(page, explorer_page: Path) -> None:
    import zipfile

    href = page.get_attribute("a.qc-download[href$='.zip']", "href")
    assert href, "no link to the result files"
    target = (explorer_page.parent / href).resolve()
    assert target.is_file(), f"{href} is not in the site"
    with zipfile.ZipFile(target) as zf:
        assert "datapackage.json" in zf.namelist() and "ranking.csv" in zf.namelist()
