"""The bundled database: the builder regenerates the committed files byte for byte, and
every record says whether it is synthetic."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "bundled"
BUILDER = ROOT / "data" / "builder" / "build.py"
FILES = ("institutions.csv", "funding.csv", "collaborations.csv", "areas.csv")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundled")
    subprocess.run([sys.executable, str(BUILDER), "--out", str(out)], check=True, capture_output=True, cwd=ROOT)
    return out


@pytest.mark.parametrize("name", FILES)
def test_builder_regenerates_committed_files_byte_identical(rebuilt: Path, name: str) -> None:
    assert (rebuilt / name).read_bytes() == (BUNDLED / name).read_bytes(), (
        f"data/bundled/{name} differs from a fresh build: run `python data/builder/build.py --out data/bundled`"
    )


@pytest.mark.parametrize("name", FILES)
def test_every_record_is_marked_synthetic_or_not_and_has_a_source(name: str) -> None:
    with (BUNDLED / name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    assert {r["synthetic"] for r in rows} <= {"true", "false"}
    assert all(r["source"].strip() for r in rows)


def test_all_funding_and_collaborations_are_synthetic() -> None:
    for name in ("funding.csv", "collaborations.csv"):
        with (BUNDLED / name).open(encoding="utf-8", newline="") as fh:
            assert {r["synthetic"] for r in csv.DictReader(fh)} == {"true"}


def test_bundled_database_is_valid() -> None:
    from quantumclusters.schema import load_database

    db = load_database(BUNDLED)
    assert len(db.areas) == 45 + 86
