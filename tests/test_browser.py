"""The built site, opened in headless Chromium (Debian's /usr/bin/chromium via playwright).

Two sites are built into temporary folders (never into the repository's book/):

* the **committed book**: the executed notebooks of book/ rendered by jupyter-book
  (``build --render-only --out-dir``; nothing is executed). Every page must load without a
  console error, a page error or a failed request; every table must have rows and every
  figure a non-zero size; Tables 1–8 and Figures 1–17 must all be there; every local link
  (href/src) must point to an existing file and, for ``#anchor``, an existing id.
* a **hostile database**: tests/data/example with every institution renamed to markup
  (``<script>alert(1)</script>``, an ``<img onerror=…>``); the chapters that name top
  collaborators are executed on it (``--chapter``). The names must show as text and no
  dialog or injected script may run.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pandas as pd
import pytest

from quantumclusters import paths
from quantumclusters.report import book

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = '<img src=x onerror="window.__xss=1;alert(2)">'
TABLES = set(range(1, 9))
FIGURES = set(range(1, 18))

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (make sysdeps installs it: apt-get install chromium)"
)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (requirements.txt) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def committed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [p.stem for p in book.chapter_sources() if not (paths.book_dir() / f"{p.stem}.ipynb").is_file()]
    assert not missing, f"book/ lacks executed notebooks for {missing}: run `python -m quantumclusters build`"
    out = tmp_path_factory.mktemp("site")
    assert book.main(["--render-only", "--out-dir", str(out)]) == 0, "jupyter-book failed on the committed book/"
    return out / "_build" / "html"


def hostile_database(folder: Path) -> Path:
    """tests/data/example with markup for names: industry members `<script>…`, research
    members an `<img onerror>`, the rest Chinese characters."""
    src = paths.repo_root() / "tests" / "data" / "example"
    db = folder / "hostile_db"
    shutil.copytree(src, db, ignore=shutil.ignore_patterns("*.py"))
    inst = pd.read_csv(db / "institutions.csv", dtype=str, keep_default_na=False)
    names = {"startup": SCRIPT_NAME, "corporate": SCRIPT_NAME, "university": IMG_NAME, "research_institute": IMG_NAME}
    inst["name"] = [names.get(t, "本源量子") for t in inst["type"]]
    inst.to_csv(db / "institutions.csv", index=False, lineterminator="\n")
    return db


def chapters_naming_institutions() -> list[str]:
    """Chapters whose tables list top collaborators (Tables 2 and 4)."""
    found = [p.stem for p in book.chapter_sources() if "top_collaborator" in p.read_text(encoding="utf-8")
             or "table_2(" in p.read_text(encoding="utf-8") or "table_4(" in p.read_text(encoding="utf-8")]
    return found or ["01", "02"]


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("hostile")
    db = hostile_database(tmp)
    chapters = chapters_naming_institutions()
    out = tmp / "site"
    code = book.main(["--data", str(db), "--out-dir", str(out), "--chapter", *chapters, "--draws", "200"])
    assert code == 0, "the book failed to build on the hostile database"
    return out / "_build" / "html", chapters


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_"))


def open_page(browser, page_path: Path):
    """Open a page, returning (page, problems, dialogs) once it has loaded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    def on_dialog(d) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_timeout(150)
    return page, problems, dialogs


# --------------------------------------------------------------------------- the committed book


def test_every_page_loads_without_errors(browser, committed_site: Path) -> None:
    pages = html_pages(committed_site)
    assert any(p.name == "index.html" for p in pages)
    bad = {}
    for path in pages:
        page, problems, dialogs = open_page(browser, path)
        assert page.title(), f"{path.name} has no title"
        page.close()
        if problems or dialogs:
            bad[str(path.relative_to(committed_site))] = problems + dialogs
    assert not bad, f"pages with errors: {bad}"


def test_every_table_and_figure_is_present(browser, committed_site: Path) -> None:
    tables_seen: set[int] = set()
    figures_seen: set[int] = set()
    problems: list[str] = []
    for path in sorted((committed_site / "book").glob("[0-9][0-9]_*.html")):
        page, _, _ = open_page(browser, path)
        info = page.evaluate(
            """() => ({
                tables: [...document.querySelectorAll('table.qc-table')].map(t => {
                    const link = t.closest('.qc-table-wrap') && t.closest('.qc-table-wrap').querySelector('a.qc-download');
                    return {caption: (t.caption ? t.caption.textContent : ''),
                            rows: t.tBodies.length ? t.tBodies[0].rows.length : 0,
                            csv: link ? link.getAttribute('href').slice(0, 40) : ''};
                }),
                images: [...document.querySelectorAll('.cell_output img, figure img')].map(i => ({
                    src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight,
                    bw: i.getBoundingClientRect().width, bh: i.getBoundingClientRect().height})),
                figureCaptions: [...document.querySelectorAll('strong, figcaption, .caption-text')]
                    .map(e => e.textContent.trim()).filter(t => /^Figure \\d+/.test(t)),
            })"""
        )
        page.close()
        name = path.name
        for t in info["tables"]:
            m = re.match(r"\s*Table (\d+)", t["caption"])
            if m:
                tables_seen.add(int(m.group(1)))
            if t["rows"] == 0:
                problems.append(f"{name}: empty table {t['caption']!r}")
            if not t["csv"].startswith("data:text/csv"):
                problems.append(f"{name}: table {t['caption']!r} has no CSV download")
        for img in info["images"]:
            if not (img["w"] > 0 and img["h"] > 0 and img["bw"] > 0 and img["bh"] > 0):
                problems.append(f"{name}: figure {img['src']} has zero size")
        captions = {int(re.match(r"Figure (\d+)", c).group(1)) for c in info["figureCaptions"]}
        if len(info["images"]) < len(captions):
            problems.append(f"{name}: {len(captions)} figure captions but {len(info['images'])} images")
        figures_seen |= captions
    assert not problems, problems
    assert TABLES <= tables_seen, f"tables missing from the site: {sorted(TABLES - tables_seen)}"
    assert FIGURES <= figures_seen, f"figures missing from the site: {sorted(FIGURES - figures_seen)}"


def test_front_page_ranking_fits_1000px_without_sideways_scroll(browser, committed_site: Path) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto((committed_site / "book" / "00_summary.html").as_uri(), wait_until="load")
    info = page.evaluate(
        """() => {
            const w = document.querySelector('.qc-front-ranking .qc-table-wrap');
            const t = document.querySelector('.qc-front-ranking table');
            return {doc: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                    wrap: w ? w.scrollWidth - w.clientWidth : -1,
                    rows: t ? t.tBodies[0].rows.length : 0,
                    findings: document.querySelectorAll('ol.qc-findings > li').length};
        }"""
    )
    page.close()
    assert info["rows"] == 45 and info["doc"] <= 0 and 0 <= info["wrap"] <= 0, info
    assert 5 <= info["findings"] <= 7, info


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("canonical",)):
                self.refs.append((tag, a[key]))


def test_internal_links_resolve(committed_site: Path) -> None:
    parsed: dict[Path, _Links] = {}

    def parse(path: Path) -> _Links:
        if path not in parsed:
            p = _Links()
            p.feed(path.read_text(encoding="utf-8"))
            parsed[path] = p
        return parsed[path]

    broken = []
    pages = html_pages(committed_site)
    for page in pages:
        for tag, ref in parse(page).refs:
            scheme = urlparse(ref).scheme
            if scheme in ("http", "https", "mailto", "data", "javascript") or ref.startswith("//"):
                continue
            assert scheme in ("", "file"), ref
            target_ref, fragment = urldefrag(ref)
            target_path = urlparse(target_ref).path
            target = (page.parent / unquote(target_path)).resolve() if target_path else page
            if not target.exists():
                broken.append(f"{page.name}: <{tag}> {ref} (no file)")
                continue
            if target.is_dir():
                target = target / "index.html"
            if fragment and target.suffix == ".html" and unquote(fragment) not in parse(target).ids:
                broken.append(f"{page.name}: <{tag}> {ref} (no id {fragment!r})")
    assert not broken, "\n".join(broken)


def outside_requests(urls: list[str], site: Path) -> list[str]:
    """The URLs of ``urls`` that leave the site: anything but file:// under ``site``, data:
    and blob:."""
    inside = site.resolve().as_uri().rstrip("/") + "/"
    return [u for u in urls if not (u.startswith(inside) or u.startswith(("data:", "blob:")))]


def test_outside_requests_are_recognised(tmp_path: Path) -> None:
    site = tmp_path / "html"
    ok = [(site / "book" / "a.html").as_uri(), "data:image/png;base64,AAAA", "blob:file:///x"]
    bad = ["https://unpkg.com/thebe@0.8.2/lib/index.js", (tmp_path / "other.css").as_uri(),
           (tmp_path / "html2" / "x.js").as_uri(), "http://localhost:8888/api/kernels"]
    assert outside_requests(ok + bad, site) == bad


def test_every_page_works_offline(browser, committed_site: Path) -> None:
    """Every page, opened from file:// with the network switched off, requests nothing
    outside the site (no fonts, CDN scripts, MathJax or thebe) and loads without errors."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    leaks: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    try:
        for path in html_pages(committed_site):
            page = context.new_page()
            urls: list[str] = []
            problems: list[str] = []
            page.on("request", lambda r: urls.append(r.url))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(300)  # deferred and async scripts, fonts
            page.close()
            name = str(path.relative_to(committed_site))
            assert urls, f"{name}: no request recorded (the recorder is broken)"
            if outside_requests(urls, committed_site):
                leaks[name] = outside_requests(urls, committed_site)
            if problems:
                errors[name] = problems
    finally:
        context.close()
    assert not leaks, f"pages that request outside the site: {leaks}"
    assert not errors, f"pages with errors offline: {errors}"


def test_external_resources_are_not_loaded(committed_site: Path) -> None:
    """Everything the pages load is local (the book is read offline)."""
    offenders = []
    for page in html_pages(committed_site):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r'<(script|link|img)\b[^>]*\b(src|href)="(https?:)?//[^"]*"', text):
            if m.group(1) == "link" and "stylesheet" not in m.group(0):
                continue
            offenders.append(f"{page.name}: {m.group(0)[:120]}")
    assert not offenders, offenders


# --------------------------------------------------------------------------- hostile names


def test_markup_in_names_shows_as_text_and_never_runs(browser, hostile_site: tuple[Path, list[str]]) -> None:
    site, chapters = hostile_site
    pages = [p for p in (site / "book").glob("*.html") if any(p.stem.startswith(c[:2]) for c in chapters)]
    assert pages, f"no page built for {chapters}"
    shown_script = shown_img = False
    for path in pages:
        page, problems, dialogs = open_page(browser, path)
        assert not dialogs, f"{path.name}: a dialog opened: {dialogs}"
        assert page.evaluate("() => window.__xss") is None, f"{path.name}: injected markup ran"
        injected = page.evaluate(
            """() => [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(')).length
                   + [...document.querySelectorAll('img[onerror]')].length"""
        )
        assert injected == 0, f"{path.name}: a name became an element"
        text = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
        shown_script |= SCRIPT_NAME in text
        shown_img |= IMG_NAME in text
        assert not [p for p in problems if "alert" in p], problems
        page.close()
    assert shown_script, "the institution named <script>alert(1)</script> does not appear as text"
    assert shown_img, "the institution named <img onerror=…> does not appear as text"
