"""The package's two sides: the engine never imports the report (book) side."""

from __future__ import annotations

import ast
from pathlib import Path

import quantumclusters

PACKAGE = Path(quantumclusters.__file__).resolve().parent
ENGINE = sorted(p for p in PACKAGE.glob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module a file imports, made absolute (``from .x import y`` -> quantumclusters.x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # engine files sit directly in the package: ".x" is quantumclusters.x
                prefix = ".".join(["quantumclusters"] + ([node.module] if node.module else []))
                if node.module is None:
                    out.update(f"{prefix}.{a.name}" for a in node.names)
                else:
                    out.add(prefix)
                    out.update(f"{prefix}.{a.name}" for a in node.names)
            elif node.module:
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_engine_modules_exist_and_are_few() -> None:
    names = {p.stem for p in ENGINE}
    for engine in ("schema", "detection", "indicators", "ranking", "robustness", "audit", "network", "derived", "pipeline", "cli"):
        assert engine in names
    for report in ("book", "notebook", "plots", "maps", "display", "published", "fidelity", "audit_figures"):
        assert report not in names, f"{report} belongs in quantumclusters.report"
        assert (PACKAGE / "report" / f"{report}.py").is_file()


def test_engine_never_imports_the_report_side() -> None:
    offenders = {
        p.name: sorted(m for m in _imports(p) if m.startswith("quantumclusters.report") or m == "quantumclusters.report")
        for p in ENGINE
    }
    offenders = {k: v for k, v in offenders.items() if v}
    # the command line hands 'fidelity' and 'build' to the report side by module *name*
    # (a string resolved at run time), never by import
    assert offenders == {}


def test_the_import_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from .report import plots\nfrom quantumclusters.report.book import main\n")
    found = _imports(bad)
    assert "quantumclusters.report" in found and "quantumclusters.report.book" in found
