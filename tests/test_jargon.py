"""No jargon on any page: the book speaks to policy analysts and journalists.

Scans the prose of the book (the Markdown cells of every chapter source and the plain pages
of ``book/``) and the text the report modules emit (string literals of
``quantumclusters.report``, docstrings excepted) for internal vocabulary: metric keys such
as ``[count_top15[overall][@english]]``, references to the internal "contract", file names
of the database in prose, and column names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md")) + sorted((ROOT / "chapters" / "profiles").glob("*.md"))
PAGES = sorted((ROOT / "book").glob("*.md"))
REPORT = sorted((ROOT / "lib" / "quantumclusters" / "report").glob("*.py"))

#: (pattern, why) pairs: any match in reader-facing text is a failure.
FORBIDDEN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\[[a-z_@0-9]+\["), "a metric key such as [count_top15[overall]...]"),
    (re.compile(r"contract\s+(section|§)|\bthe contract's\b", re.I), "a reference to the internal contract"),
    (re.compile(r"\binconsistency [a-z0-9]+_[a-z0-9_]+"), "an internal identifier of an inconsistency"),
    (re.compile(r"\b[a-z_]+\.csv\b"), "a data file name in prose"),
    (re.compile(r"\balso_tier1\b|\becosystem_value_synthetic\b"), "a column name"),
    (re.compile(r"`synthetic`|`source`|\bsynthetic column\b|\bcolumn of the areas file\b|\bareas file\b", re.I),
     "a column or file of the database named in prose"),
    (re.compile(r"\b(spinout_of|institution_id|amount_usd|startup_funding_to_gdp|industry_collaborations_per_tn_gdp"
                r"|spinouts_per_research_institution|startups_per_institution|institutions_per_million)\b"),
     "an indicator or column key"),
]

#: Reader-facing text where a file name is the point (how to cite, how to rerun).
ALLOWED = re.compile(r"CITATION\.cff|LICENSE(\.md)?")


def problems(text: str) -> list[str]:
    """The forbidden patterns found in ``text`` (``"pattern: match"``), empty if clean."""
    found = []
    for pattern, why in FORBIDDEN:
        for m in pattern.finditer(text):
            if not ALLOWED.fullmatch(m.group(0)):
                found.append(f"{why}: {m.group(0)!r}")
    return found


def markdown_cells(path: Path) -> list[str]:
    """The Markdown cells of a MyST chapter source."""
    nb = jupytext.read(path)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _is_prose(s: str) -> bool:
    """A string that reads as words for a reader (several words), not a key or a file name."""
    return len(re.findall(r"[A-Za-z]{2,}", s)) >= 4 and " " in s.strip()


def emitted_strings(path: Path) -> list[str]:
    """The prose string literals of a module (f-string parts included), docstrings excepted."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstring_nodes(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if _is_prose(node.value):
                out.append(node.value)
    return out


_LABEL_CALLS = {"set_xlabel", "set_ylabel", "set_title", "suptitle", "set_xticklabels", "set_yticklabels"}
_LABEL_KEYWORDS = {"xlabel", "ylabel", "title", "title_x", "label", "caption"}
_SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


def label_strings(path: Path) -> list[str]:
    """Literal axis labels, titles, legend labels and captions of a module's plotting calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        values = list(node.args) if name in _LABEL_CALLS else []
        values += [k.value for k in node.keywords if k.arg in _LABEL_KEYWORDS]
        for v in values:
            for c in ast.walk(v):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    out.append(c.value)
    return out


def test_the_label_scan_can_fail(tmp_path: Path) -> None:
    mod = tmp_path / "m.py"
    mod.write_text('ax.set_ylabel("min_samples")\nax.set_xlabel("Search radius (km)")\n')
    assert [s for s in label_strings(mod) if _SNAKE.search(s)] == ["min_samples"]


@pytest.mark.parametrize("path", REPORT, ids=lambda p: p.name)
def test_figure_labels_are_words(path: Path) -> None:
    bad = [s for s in label_strings(path) if _SNAKE.search(s)]
    assert not bad, f"{path.name}: labels with keys instead of words: {bad}"


def test_the_scanner_can_fail() -> None:
    bad = (
        "Of the top 15, [count_top15[overall][@english]] are English-speaking (contract section 5). "
        "The `synthetic` column of aliases.csv says so, and also_tier1 marks the rest "
        "(see inconsistency wuhu_in_both_tiers)."
    )
    found = " ".join(problems(bad))
    for what in ("metric key", "contract", "data file name", "column name", "named in prose", "identifier"):
        assert what in found, what
    assert problems("Cite the paper; see CITATION.cff and the LICENSE file.") == []
    assert problems("Cambridge leads the ranking; 10 of the top 15 are English-speaking.") == []


def test_the_module_scan_can_fail(tmp_path: Path) -> None:
    mod = tmp_path / "m.py"
    mod.write_text('"""Docstrings may name ranking.csv."""\nX = "this text names the file ranking.csv in prose"\n')
    texts = emitted_strings(mod)
    assert texts == ["this text names the file ranking.csv in prose"]
    assert problems(texts[0])


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda p: p.name)
def test_book_prose_has_no_jargon(path: Path) -> None:
    cells = markdown_cells(path) if "chapters" in path.parts else [path.read_text(encoding="utf-8")]
    found = [f"{path.name}: {p}" for cell in cells for p in problems(cell)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", REPORT, ids=lambda p: p.name)
def test_report_modules_emit_no_jargon(path: Path) -> None:
    found = [f"{path.name}: {p} in {s[:80]!r}" for s in emitted_strings(path) for p in problems(s)]
    assert not found, "\n".join(found)
