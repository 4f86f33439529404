"""The built HTML book printed to one PDF (``python -m quantumclusters pdf``).

The site jupyter-book built (``_build/html`` by default) is read, never rebuilt: the
front page's navigation gives the chapters in the order of ``_toc.yml``; the article of
every page is taken out of the theme (no sidebar, header, buttons or scripts), its links
and ids are made unique within one document, and everything is put into a single print
HTML file after a cover and a table of contents. Headless Chromium (playwright) prints it
with a print style sheet that keeps figures, images and table rows whole. Nothing is
fetched from the network: every resource is a file of the built site.

Exit status: 0 on success, 1 with one ``error:`` line (no traceback) when the site is not
built, Chromium cannot be started or printing fails.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

from .. import paths

__all__ = [
    "PdfError",
    "Chapter",
    "Part",
    "read_navigation",
    "find_cutoff",
    "print_html",
    "write_pdf",
    "main",
]

#: Debian's Chromium (``make sysdeps`` installs it); playwright's own browser otherwise.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TITLE = "Quantum Clusters, executable"
SUBTITLE = "A reproduction of ECIPE Occasional Paper 15/2025"
PAPER = "Quantum Clusters: Ranking the World\u2019s Deep-Tech Epicentres (Erixon, Dugo, Pandya and Sisto)"
CAVEAT = (
    "Data caveat: the bundled database is partly synthetic (generated so that the method "
    "reproduces the published ranks); it is not evidence about real institutions or cities."
)
DEFAULT_NAME = "quantum-clusters.pdf"

#: Elements of an article that have no place on paper.
_DROP = (
    "script, style, noscript, button, .headerlink, .d-print-none, .toggle-details, "
    "a.qc-download, .cell_input, details.hide, #searchbox, .prev-next-area"
)

PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm 18mm 16mm; }
/* the theme's system-ui fonts make Chromium double every heading in the PDF's outline */
html { --pst-font-family-base: sans-serif !important; --pst-font-family-heading: sans-serif !important; }
html, body { background: #fff !important; }
body { font-size: 10pt; line-height: 1.4; color: #111; margin: 0; }
.bd-article { padding: 0 !important; max-width: none !important; }
.qc-cover { height: 245mm; display: flex; flex-direction: column; justify-content: center;
  break-after: page; text-align: left; padding: 0 6mm; }
.qc-cover h1 { font-size: 30pt; line-height: 1.15; margin: 0 0 8mm; border: 0; }
.qc-cover .qc-sub { font-size: 15pt; margin: 0 0 3mm; }
.qc-cover .qc-paper { font-size: 11pt; font-style: italic; color: #333; margin: 0 0 14mm; }
.qc-cover .qc-cutoff { font-size: 12pt; margin: 0 0 4mm; }
.qc-cover .qc-caveat { font-size: 10pt; border-left: 3px solid #d35400; padding: 2mm 4mm;
  background: #fdf2e9; margin: 6mm 0 0; }
.qc-cover .qc-made { font-size: 9pt; color: #555; margin-top: 20mm; }
.qc-toc { break-after: page; }
.qc-toc h1 { font-size: 20pt; margin: 0 0 6mm; }
.qc-toc h2 { font-size: 12pt; margin: 6mm 0 2mm; color: #3b4a5c; text-transform: uppercase;
  letter-spacing: .04em; }
.qc-toc ol { list-style: none; padding: 0; margin: 0; }
.qc-toc li { margin: 0 0 2mm; font-size: 11pt; }
.qc-toc a { color: #111; text-decoration: none; display: flex; justify-content: space-between;
  gap: 6mm; border-bottom: 1px dotted #b8c0cc; }
.qc-toc-page { min-width: 8mm; text-align: right; }
section.qc-chapter { break-before: page; }
h1 { font-size: 18pt; margin-top: 0; break-after: avoid; }
h2 { font-size: 14pt; break-after: avoid; }
h3, h4 { font-size: 11.5pt; break-after: avoid; }
h1, h2, h3, h4, p.qc-agreement, caption { break-after: avoid; page-break-after: avoid; }
figure, img, svg, .cell_output img, tr, pre, .admonition, blockquote { break-inside: avoid;
  page-break-inside: avoid; }
img { max-width: 100% !important; height: auto !important; }
.cell_output img { max-height: 225mm; object-fit: contain; }
.qc-table-wrap { overflow: visible !important; }
table.qc-table { font-size: 8pt; min-width: 0; max-width: 100%; }
table.qc-table th, table.qc-table td { padding: 0.15em 0.4em; }
thead { display: table-header-group; }
a { color: inherit; text-decoration: none; }
pre { white-space: pre-wrap; font-size: 8pt; }
/* inline code without a border: a bordered box split by a page break leaves stray lines */
code.literal, code { border: 0 !important; }
"""


#: The text width of an A4 page with the margins of PRINT_CSS (178 mm), in CSS pixels.
CONTENT_WIDTH_PX = round(178 / 25.4 * 96)
#: Shrinks every table (and other block) wider than the text to the text width, so that no
#: column is cut off at the page's edge.
FIT_WIDE = """() => {
  const width = document.querySelector('.bd-article').clientWidth;
  for (const el of document.querySelectorAll('table, .cell_output pre, .highlight pre')) {
    const w = el.scrollWidth;
    if (w > width + 1) { el.style.zoom = (width / w).toFixed(4); }
  }
}"""


class PdfError(Exception):
    """A failure with a message meant for the user (printed without a traceback)."""


@dataclass(frozen=True)
class Chapter:
    """One page of the book: its title in the navigation and its HTML file."""

    title: str
    path: Path


@dataclass
class Part:
    """A caption of ``_toc.yml`` (``None`` for the front page) and its chapters."""

    caption: str | None
    chapters: list[Chapter] = field(default_factory=list)


# --------------------------------------------------------------------------- reading the site


def _soup(path: Path) -> "BeautifulSoup":  # noqa: F821 - imported lazily
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _front_page(html_dir: Path) -> Path:
    """The site's front page: ``index.html``, following jupyter-book's meta refresh."""
    index = html_dir / "index.html"
    if not index.is_file():
        raise PdfError(
            f"no built book in {html_dir} (index.html is missing): build it first with "
            "'python -m quantumclusters build' (or pass --html DIR)"
        )
    soup = _soup(index)
    refresh = soup.find("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)})
    if refresh is not None:
        m = re.search(r"url=(.+)$", str(refresh.get("content", "")), re.I)
        if m:
            target = (html_dir / unquote(m.group(1).strip().strip("'\""))).resolve()
            if target.is_file():
                return target
    return index.resolve()


def read_navigation(html_dir: Path) -> list[Part]:
    """The book's pages in reading order, read from the front page's navigation.

    jupyter-book writes ``_toc.yml`` into the sidebar (``nav.bd-docs-nav``): a caption
    (``p.caption``) before each part's list of links. The front page comes first, as a
    part without a caption. Raises :class:`PdfError` when the site is not a built book.
    """
    html_dir = Path(html_dir)
    front = _front_page(html_dir)
    soup = _soup(front)
    title = soup.select_one("article h1") or soup.find("h1")
    if title is not None:
        for link in title.select(".headerlink"):
            link.decompose()
    front_title = _text(title) if title is not None else TITLE
    parts = [Part(None, [Chapter(front_title, front)])]
    nav = soup.select_one("nav.bd-docs-nav")
    if nav is None:
        raise PdfError(f"{front} has no book navigation (nav.bd-docs-nav): is {html_dir} a jupyter-book site?")
    seen = {front}
    current: Part | None = None
    for el in nav.find_all(["p", "a"]):
        classes = el.get("class") or []
        if el.name == "p" and "caption" in classes:
            current = Part(_text(el))
            parts.append(current)
        elif el.name == "a" and "reference" in classes and "internal" in classes:
            li = el.find_parent("li")
            if li is None or "toctree-l1" not in (li.get("class") or []):
                continue  # sections inside a chapter
            href = urlparse(str(el.get("href", ""))).path
            if not href:
                continue
            target = (front.parent / unquote(href)).resolve()
            if target in seen or not target.is_file():
                continue
            seen.add(target)
            if current is None:
                current = Part("Chapters")
                parts.append(current)
            current.chapters.append(Chapter(_text(el), target))
    return [p for p in parts if p.chapters]


def find_cutoff(chapters: Sequence[Chapter]) -> str | None:
    """The data cut-off a chapter states ("… at the cut-off **31 July 2025**"), or ``None``."""
    for chapter in chapters:
        m = re.search(r"at the cut-off\s*<strong>([^<]+)</strong>", chapter.path.read_text(encoding="utf-8"))
        if m:
            return html.unescape(m.group(1)).strip()
    return None


def _text(el: object) -> str:
    return re.sub(r"\s+", " ", el.get_text(" ")).strip()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the print HTML


def _anchor(page: Path, fragment: str = "") -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", page.stem)
    return f"p-{stem}" + (f"--{fragment}" if fragment else "")


def _article(chapter: Chapter, pages: set[Path]) -> str:
    """The article of one page, cleaned for print, with resources as absolute file URLs,
    ids prefixed by the page and links between pages turned into links inside the PDF."""
    soup = _soup(chapter.path)
    article = soup.select_one("article.bd-article") or soup.select_one("main") or soup.body
    if article is None:
        raise PdfError(f"{chapter.path} has no article to print")
    for el in article.select(_DROP):
        el.decompose()
    base = chapter.path.parent
    for el in article.find_all(True):
        if el.get("id"):
            el["id"] = _anchor(chapter.path, str(el["id"]))
        for attr in ("src", "href"):
            value = el.get(attr)
            if not value or not isinstance(value, str):
                continue
            parsed = urlparse(value)
            if parsed.scheme or value.startswith("//"):
                continue  # data:, http(s):, mailto: stay as they are
            ref, fragment = urldefrag(value)
            target = (base / unquote(urlparse(ref).path)).resolve() if ref else chapter.path.resolve()
            if attr == "href" and target in pages:
                el[attr] = "#" + _anchor(target, unquote(fragment))
            else:
                el[attr] = target.as_uri() + (f"#{fragment}" if fragment else "")
    return article.decode_contents()


def _stylesheets(front: Path) -> list[str]:
    """The site's own style sheets (theme, tables), as absolute file URLs."""
    soup = _soup(front)
    sheets = []
    for link in soup.find_all("link", rel="stylesheet"):
        href = str(link.get("href", ""))
        if href and not urlparse(href).scheme and not href.startswith("//"):
            target = (front.parent / unquote(urlparse(href).path)).resolve()
            if target.is_file():
                sheets.append(target.as_uri())
    return sheets


def print_html(
    parts: Sequence[Part],
    *,
    cutoff: str | None,
    today: _dt.date | None = None,
    page_numbers: Sequence[int] | None = None,
) -> str:
    """One HTML document: cover, table of contents and every page's article in order.

    ``page_numbers`` (1-based, one per chapter) are shown in the table of contents; they are
    known only once the document has been printed (:func:`write_pdf` prints twice).
    """
    chapters = [c for p in parts for c in p.chapters]
    if not chapters:
        raise PdfError("the book has no pages to print")
    pages = {c.path.resolve() for c in chapters}
    esc = html.escape
    day = (today or _dt.date.today()).isoformat()
    cutoff_line = (
        f'<p class="qc-cutoff">Data cut-off: <strong>{esc(cutoff)}</strong></p>' if cutoff else ""
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en" data-theme="light"><head><meta charset="utf-8">',
        f"<title>{esc(TITLE)}</title>",
        *(f'<link rel="stylesheet" href="{esc(s)}">' for s in _stylesheets(chapters[0].path)),
        f"<style>{PRINT_CSS}</style>",
        '</head><body><div class="bd-article">',
        '<section class="qc-cover">',
        f"<h1>{esc(TITLE)}</h1>",
        f'<p class="qc-sub">{esc(SUBTITLE)}</p>',
        f'<p class="qc-paper">{esc(PAPER)}</p>',
        cutoff_line,
        f'<p class="qc-caveat">{esc(CAVEAT)}</p>',
        f'<p class="qc-made">Printed from the executed book on {day} by the quantumclusters '
        "package (python -m quantumclusters pdf).</p>",
        "</section>",
        '<nav class="qc-toc"><h1>Contents</h1>',
    ]
    numbers = iter(page_numbers) if page_numbers is not None and len(page_numbers) == len(chapters) else None
    for part in parts:
        if part.caption:
            out.append(f"<h2>{esc(part.caption)}</h2>")
        out.append("<ol>")
        for c in part.chapters:
            number = str(next(numbers)) if numbers is not None else "\u00a0"
            out.append(
                f'<li><a href="#{_anchor(c.path)}"><span>{esc(c.title)}</span>'
                f'<span class="qc-toc-page">{number}</span></a></li>'
            )
        out.append("</ol>")
    out.append("</nav>")
    for c in chapters:
        out.append(f'<section class="qc-chapter" id="{_anchor(c.path)}">{_article(c, pages)}</section>')
    out.append("</div></body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------- printing


FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 16mm;color:#666;display:flex;'
    'justify-content:space-between;font-family:sans-serif">'
    f"<span>{html.escape(TITLE)}</span>"
    '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
)


def _print(page: "Page", source: Path, out: Path) -> None:  # noqa: F821 - playwright's Page
    """Load the print HTML ``source`` in ``page`` and print it to ``out``."""
    page.goto(source.as_uri(), wait_until="load")
    page.emulate_media(media="print")
    page.evaluate(FIT_WIDE)
    page.pdf(
        path=str(out),
        format="A4",
        print_background=True,
        prefer_css_page_size=True,
        display_header_footer=True,
        header_template="<span></span>",
        footer_template=FOOTER,
        outline=True,
        tagged=True,
    )


def chapter_pages(pdf_file: Path, n_chapters: int) -> list[int] | None:
    """The 1-based page on which each chapter starts, read from the PDF's outline.

    The outline's top level is one entry per ``h1``: the cover, the contents, then one per
    chapter. ``None`` when pypdf is missing or the outline has another shape (the contents
    then go without page numbers).
    """
    try:
        import pypdf
    except ImportError:
        return None
    try:
        reader = pypdf.PdfReader(str(pdf_file))
        top = [item for item in reader.outline if not isinstance(item, list)]
        if len(top) != 2 + n_chapters:
            return None
        return [reader.get_destination_page_number(item) + 1 for item in top[2:]]
    except Exception:  # noqa: BLE001 - page numbers are a nicety, never a failure
        return None


def write_pdf(
    html_dir: Path,
    out: Path,
    *,
    cutoff: str | None = None,
    chromium: Path | None = CHROMIUM,
    timeout_s: float = 300.0,
) -> Path:
    """Print the built book in ``html_dir`` to the PDF ``out`` and return ``out``.

    ``cutoff`` is the date shown on the cover (default: the one the chapters state, else
    the paper's). ``chromium`` is the browser executable (``None``: playwright's own).
    Raises :class:`PdfError` with a one-line reason on any failure.
    """
    html_dir = Path(html_dir).resolve()
    parts = read_navigation(html_dir)
    chapters = [c for p in parts for c in p.chapters]
    if cutoff is None:
        cutoff = find_cutoff(chapters) or _dt.date.fromisoformat(paths.DEFAULT_CUTOFF).strftime("%-d %B %Y")
    document = print_html(parts, cutoff=cutoff)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PdfError("playwright is not installed (pip install -r requirements.txt)") from None
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PdfError(f"cannot write {out}: {error.strerror or error}") from None
    exe = chromium if chromium is not None and Path(chromium).exists() else None
    if chromium is not None and exe is None and chromium != CHROMIUM:
        raise PdfError(f"no Chromium at {chromium}")
    with tempfile.TemporaryDirectory(prefix="qc-pdf-") as tmp:
        source = Path(tmp) / "book.html"
        source.write_text(document, encoding="utf-8")
        try:
            with sync_playwright() as p:
                try:
                    browser = p.chromium.launch(
                        executable_path=str(exe) if exe else None, args=CHROMIUM_ARGS, headless=True
                    )
                except PlaywrightError as error:
                    first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown error"
                    raise PdfError(
                        f"cannot start Chromium ({first}); install it with 'apt-get install chromium'"
                    ) from None
                try:
                    page = browser.new_page(viewport={"width": CONTENT_WIDTH_PX, "height": 1000})
                    page.set_default_timeout(timeout_s * 1000)
                    page.route(re.compile(r"^(https?|wss?|ftp):"), lambda route: route.abort())
                    _print(page, source, out)
                    numbers = chapter_pages(out, len(chapters))
                    if numbers is not None:  # again, with page numbers in the contents
                        source.write_text(print_html(parts, cutoff=cutoff, page_numbers=numbers), encoding="utf-8")
                        _print(page, source, out)
                finally:
                    browser.close()
        except PlaywrightError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown error"
            raise PdfError(f"printing failed: {first}") from None
    return out


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m quantumclusters pdf",
        description="Print the built HTML book to one PDF (cover, contents, every chapter in "
        "the order of _toc.yml) with headless Chromium. Build the book first "
        "('python -m quantumclusters build').",
    )
    p.add_argument("--html", metavar="DIR", help="the built site (default: _build/html of the repository)")
    p.add_argument("--out", metavar="FILE", help=f"the PDF to write (default: _build/{DEFAULT_NAME} beside the site)")
    p.add_argument("--cutoff", metavar="TEXT", help="cut-off date shown on the cover (default: the one the chapters state)")
    p.add_argument("--chromium", metavar="PATH", default=str(CHROMIUM), help=f"Chromium executable (default: {CHROMIUM})")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m quantumclusters pdf [--html DIR] [--out FILE]``; returns the exit status."""
    args = _parser().parse_args(argv)
    html_dir = Path(args.html) if args.html else paths.repo_root() / "_build" / "html"
    out = Path(args.out) if args.out else html_dir.resolve().parent / DEFAULT_NAME
    start = time.perf_counter()
    try:
        written = write_pdf(html_dir, out, cutoff=args.cutoff, chromium=Path(args.chromium))
    except PdfError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"PDF written in {time.perf_counter() - start:.1f} s: {written}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
