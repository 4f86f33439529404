"""CITATION.cff, LICENSE and data/LICENSE.md: present, parseable and consistent."""

from __future__ import annotations

import re
import tomllib

import yaml

from quantumclusters import paths

ROOT = paths.repo_root()


def _citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_has_the_required_keys() -> None:
    cff = _citation()
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert cff.get(key), f"CITATION.cff lacks {key!r}"
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff["authors"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(cff["version"]) == project["version"], "CITATION.cff and pyproject.toml disagree on the version"
    assert cff["license"] == project["license"] == "MIT"


def test_citation_cff_references_the_paper() -> None:
    refs = _citation()["references"]
    paper = next(r for r in refs if "Quantum Clusters" in r["title"])
    for key in ("type", "title", "authors"):
        assert paper.get(key), f"the paper's reference lacks {key!r}"
    assert [a["family-names"] for a in paper["authors"]] == ["Erixon", "Dugo", "Pandya", "Sisto"]
    assert paper["year"] == 2025 and str(paper["number"]) == "15/2025"
    assert "European Centre for International Political Economy" in paper["institution"]["name"]
    assert "Deep-Tech Epicentres" in paper["title"]


def test_licences() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "WITHOUT WARRANTY" in licence
    data = (ROOT / "data" / "LICENSE.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in data and "ECIPE" in data
    assert re.search(r"Natural Earth.*public domain|public domain.*Natural Earth", data, re.S | re.I)
    assert "illustrative" in data and "synthetic" in data
