"""``python -m quantumclusters pdf``: the built book printed to one PDF.

A tiny fake site shaped like jupyter-book's HTML (a redirecting ``index.html``, the front
page's ``nav.bd-docs-nav`` with captions, ``article.bd-article`` pages, a figure and a
table) is generated from the repository's ``_toc.yml``, so the test follows the real
chapter list without building the real book (seconds instead of minutes).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from quantumclusters import cli, paths
from quantumclusters.report import pdf

CHROMIUM = pdf.CHROMIUM
# A 2x2 PNG (red), written as the fake site's figure.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001649444154789c63f8cfc0f09f8181e13f030303000f1c03fd2ec9a2b30000000049454e44ae426082"
)


def toc_entries(toc_file: Path) -> list[tuple[str | None, str]]:
    """(caption, file) of every chapter of ``_toc.yml``, the root first (caption None)."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    entries: list[tuple[str | None, str]] = [(None, toc["root"])]
    for part in toc.get("parts", []):
        entries += [(part.get("caption"), c["file"]) for c in part.get("chapters", [])]
    entries += [(None, c["file"]) for c in toc.get("chapters", [])]
    return entries


def title_of(file: str) -> str:
    """A distinctive title for the fake page of ``file`` (e.g. ``book/03_x`` → "Chapter 03 x")."""
    return "Chapter " + Path(file).name.replace("_", " ")


def fake_site(root: Path, entries: list[tuple[str | None, str]]) -> Path:
    """Write a jupyter-book-like HTML site for ``entries`` under ``root``; return its html dir."""
    site = root / "_build" / "html"
    (site / "_images").mkdir(parents=True)
    (site / "_static").mkdir()
    (site / "_images" / "fig.png").write_bytes(PNG)
    (site / "_static" / "theme.css").write_text("body { font-family: sans-serif; }", encoding="utf-8")
    front = entries[0][1]
    (site / "index.html").write_text(
        f'<meta http-equiv="Refresh" content="0; url={front}.html" />', encoding="utf-8"
    )
    nav = ['<nav class="bd-links bd-docs-nav" aria-label="Main"><div class="bd-toc-item">']
    caption = None
    for cap, file in entries[1:]:
        if cap != caption:
            if caption is not None:
                nav.append("</ul>")
            nav.append(f'<p class="caption" role="heading"><span class="caption-text">{html.escape(cap or "")}</span></p>')
            nav.append('<ul class="nav bd-sidenav">')
            caption = cap
        href = Path(file).name + ".html"
        nav.append(f'<li class="toctree-l1"><a class="reference internal" href="{href}">{html.escape(title_of(file))}</a></li>')
    nav.append("</ul></div></nav>")
    for i, (_, file) in enumerate(entries):
        page = site / f"{file}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        depth = "../" * (len(Path(file).parts) - 1)
        nxt = Path(entries[(i + 1) % len(entries)][1]).name + f".html#s{(i + 1) % len(entries)}"
        title = "Front page of the fake book" if i == 0 else title_of(file)
        rows = "".join(f"<tr><td>row {r}</td><td>{r * 7}</td></tr>" for r in range(30))
        page.write_text(
            f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<link rel="stylesheet" href="{depth}_static/theme.css"><script src="{depth}_static/nothing.js"></script></head>
<body><div class="bd-sidebar-primary">{"".join(nav)}</div>
<main id="main-content"><div class="bd-header-article d-print-none"><button>menu</button></div>
<article class="bd-article"><section id="s{i}">
<h1>{html.escape(title)}<a class="headerlink" href="#s{i}">#</a></h1>
<p>See <a class="reference internal" href="{nxt}">the next page</a>.</p>
<figure><img src="{depth}_images/fig.png" style="width:200px"><figcaption>Figure {i}: a red square</figcaption></figure>
<table class="qc-table"><caption>Table {i}</caption><tbody>{rows}</tbody></table>
</section></article></main></body></html>""",
            encoding="utf-8",
        )
    return site


@pytest.fixture(scope="module")
def entries() -> list[tuple[str | None, str]]:
    return toc_entries(paths.repo_root() / "_toc.yml")


@pytest.fixture()
def site(tmp_path: Path, entries: list[tuple[str | None, str]]) -> Path:
    return fake_site(tmp_path, entries)


def test_navigation_follows_the_toc(site: Path, entries: list[tuple[str | None, str]]) -> None:
    parts = pdf.read_navigation(site)
    files = [c.path.relative_to(site.resolve()).with_suffix("").as_posix() for p in parts for c in p.chapters]
    assert files == [f for _, f in entries], "the PDF's chapter order is not _toc.yml's"
    captions = [p.caption for p in parts[1:]]
    assert captions == list(dict.fromkeys(c for c, _ in entries[1:])), captions
    assert parts[0].chapters[0].title == "Front page of the fake book"


def test_print_html_cover_contents_and_rewritten_links(site: Path) -> None:
    parts = pdf.read_navigation(site)
    doc = pdf.print_html(parts, cutoff="31 July 2025")
    assert "A reproduction of ECIPE Occasional Paper 15/2025" in doc
    assert "31 July 2025" in doc and "partly synthetic" in doc
    assert "<script" not in doc and "<button" not in doc and "headerlink" not in doc
    assert "bd-docs-nav" not in doc, "the sidebar navigation must not be printed"
    assert (site / "_images" / "fig.png").resolve().as_uri() in doc, "image paths must resolve"
    # links between pages point inside the document, to ids that exist there
    ids = set(re.findall(r'id="([^"]+)"', doc))
    internal = re.findall(r'href="#([^"]+)"', doc)
    assert internal and set(internal) <= ids, set(internal) - ids


def test_missing_site_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["pdf", "--html", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.pdf")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no built book") and "quantumclusters build" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
def test_pdf_holds_every_chapter_title(site: Path, tmp_path: Path, entries: list[tuple[str | None, str]]) -> None:
    pytest.importorskip("playwright.sync_api")
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "out" / "book.pdf"
    assert pdf.main(["--html", str(site), "--out", str(out)]) == 0
    assert out.is_file() and out.read_bytes().startswith(b"%PDF")
    reader = pypdf.PdfReader(str(out))
    pages = [re.sub(r"\s+", " ", p.extract_text() or "") for p in reader.pages]
    text = " ".join(pages)
    assert "Quantum Clusters, executable" in pages[0]
    assert "A reproduction of ECIPE Occasional Paper 15/2025" in pages[0]
    assert "partly synthetic" in pages[0]
    assert "Contents" in pages[1]
    titles = [title_of(f) for _, f in entries[1:]]
    missing = [t for t in titles if t not in text]
    assert not missing, f"chapter titles missing from the PDF: {missing}"
    # each chapter starts on a new page, after the contents, in the order of _toc.yml
    body = pages[2:]
    starts = [next(i for i, p in enumerate(body) if p.lstrip().startswith(t)) for t in titles]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), starts
    assert len(reader.pages) >= 2 + len(entries)
    # the contents give each chapter's page, and the PDF's outline (bookmarks) lists it once
    for title in titles:
        m = re.search(re.escape(title) + r" (\d+)\b", pages[1])
        assert m, f"no page number for {title!r} in the contents: {pages[1]!r}"
        assert pages[int(m.group(1)) - 1].lstrip().startswith(title), f"{title!r} is not on page {m.group(1)}"
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert outline[2:] == ["Front page of the fake book", *titles], outline
